package vm

import (
	"fmt"
	"strconv"

	"github.com/spindle-vm/spindle/isa"
)

// syscall carries out kernel service n for thread t, whose saved pc is the instruction after
// the syscall. Arguments are in a0-a5 and results go in a0 and a1, as docs/syscalls.md says.
//
// It returns the thread to run next: t itself, unless t blocked, yielded or ended, and nil when
// no thread of the process can run or the process has exited. A non-nil error stops the run.
func (c *cpu) syscall(t *Thread, n isa.Syscall) (*Thread, error) {
	if c.multi && n < isa.Syscall(len(sharedService)) && sharedService[n] {
		return c.lockedService(t, n)
	}
	return c.service(t, n)
}

// lockedService is service under the kernel lock. The deferred unlock matters if service
// panics: the lock is released for the recovery, which needs it. (A defer in syscall itself
// would cost every syscall, on one processor too, about 5 ns.)
func (c *cpu) lockedService(t *Thread, n isa.Syscall) (*Thread, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.service(t, n)
}

// service is syscall without the kernel lock.
func (c *cpu) service(t *Thread, n isa.Syscall) (*Thread, error) {
	p := t.Proc
	r := &t.R
	a0 := r[isa.A0]
	switch n {
	case isa.SysExit:
		p.exit(int64(a0))
		if c.tracer != nil {
			c.tracer.event(c, t, nil, reasonProcExit)
		}
		return nil, nil
	case isa.SysThreadSpawn:
		nt, err := c.spawn(t, a0, r[isa.A1], r[isa.A2])
		if err != nil {
			return nil, err
		}
		r[isa.A0] = uint64(nt.ID)
	case isa.SysThreadExit:
		c.exitThread(t, a0)
		if p.exited {
			return nil, nil
		}
		return c.switchFrom(t, reasonExit), nil
	case isa.SysThreadJoin:
		blocked, err := c.join(t, a0)
		if err != nil {
			return nil, err
		}
		if blocked {
			return c.switchFrom(t, reasonBlocked), nil
		}
	case isa.SysYield:
		if p.runq.n > 0 {
			c.makeRunnable(t)
			return c.switchFrom(t, reasonYield), nil
		}
	case isa.SysSleep:
		c.sleep(t, a0)
		return c.switchFrom(t, reasonBlocked), nil
	case isa.SysGettid:
		r[isa.A0] = uint64(t.ID)
	case isa.SysGetpid:
		r[isa.A0] = uint64(p.ID)
	case isa.SysClock:
		r[isa.A0] = uint64(c.now())
	case isa.SysSpawn:
		np, err := c.spawnFile(t, a0, r[isa.A1], r[isa.A2], r[isa.A3])
		if err != nil {
			return nil, err
		}
		r[isa.A0] = uint64(np.ID)
	case isa.SysStart:
		entry, ok := isa.CodeIndex(a0, p.textN)
		if !ok {
			return nil, c.badArg(t, "start: entry %#x is not the address of an instruction", a0)
		}
		np, err := c.startProcess(t, "start", p.image, entry, p.args[:min(len(p.args), 1)], r[isa.A2], r[isa.A3])
		if err != nil {
			return nil, err
		}
		np.threads[0].R[isa.A0] = r[isa.A1]
		r[isa.A0] = uint64(np.ID)
	case isa.SysWait:
		blocked, err := c.waitProcess(t, a0)
		return c.after(t, blocked, err)
	case isa.SysKill:
		if err := c.kill(t, a0); err != nil {
			return nil, err
		}
	case isa.SysPipe:
		if err := c.makePipe(t); err != nil {
			return nil, err
		}
	case isa.SysClose:
		r[isa.A0] = 0
		if !c.closeFd(p, a0) {
			r[isa.A0] = ^uint64(0)
		}
	case isa.SysChanMake:
		h, err := c.chanMake(t, a0)
		if err != nil {
			return nil, err
		}
		r[isa.A0] = h
	case isa.SysChanSend:
		blocked, err := c.chanSend(t, a0, r[isa.A1])
		return c.after(t, blocked, err)
	case isa.SysChanSendRecv:
		if next := c.handoff(t, a0, r[isa.A1], r[isa.A2]); next != nil {
			return next, nil
		}
		blocked, err := c.chanSendRecv(t, a0, r[isa.A1], r[isa.A2])
		return c.after(t, blocked, err)
	case isa.SysChanRecv:
		blocked, err := c.chanRecv(t, a0)
		return c.after(t, blocked, err)
	case isa.SysChanClose:
		if err := c.chanClose(t, a0); err != nil {
			return nil, err
		}
	case isa.SysFutexWait:
		blocked, err := c.futexWait(t, a0, r[isa.A1])
		return c.after(t, blocked, err)
	case isa.SysFutexWake:
		r[isa.A0] = c.futexWake(t, a0, r[isa.A1])
	case isa.SysWrite:
		b, err := c.buffer(t, "write", r[isa.A1], r[isa.A2])
		if err != nil {
			return nil, err
		}
		return c.after(t, c.write(t, a0, b, false), nil)
	case isa.SysRead:
		b, err := c.buffer(t, "read", r[isa.A1], r[isa.A2])
		if err != nil {
			return nil, err
		}
		return c.after(t, c.read(t, a0, b), nil)
	case isa.SysPrintInt:
		var buf [24]byte
		return c.print(t, strconv.AppendInt(buf[:0], int64(a0), 10))
	case isa.SysPutc:
		return c.print(t, []byte{byte(a0)})
	case isa.SysPuts:
		s, err := c.cString(t, "puts", a0)
		if err != nil {
			return nil, err
		}
		return c.print(t, []byte(s))
	case isa.SysReadInt:
		return c.after(t, c.readInt(t), nil)
	case isa.SysBrk:
		if a0 != 0 && a0 != p.brk {
			if a0 > p.brk && a0-p.memBase > p.room() {
				return nil, c.memLimit(t, fmt.Sprintf("brk(%#x) would grow memory to %d bytes", a0, a0-p.memBase))
			}
			p.setBrk(a0) // a break below the heap is refused: the old one is returned
		}
		r[isa.A0] = p.brk
	case isa.SysSbrk:
		old := p.brk
		nb := old + a0
		if int64(a0) < 0 && nb > old || int64(a0) > 0 && nb < old {
			r[isa.A0] = ^uint64(0) // the sum wrapped around
			return t, nil
		}
		if nb > old && nb-p.memBase > p.room() {
			return nil, c.memLimit(t, fmt.Sprintf("sbrk(%d) would grow memory to %d bytes", int64(a0), nb-p.memBase))
		}
		if !p.setBrk(nb) {
			r[isa.A0] = ^uint64(0)
			return t, nil
		}
		r[isa.A0] = old
	case isa.SysArgc:
		r[isa.A0] = uint64(len(p.argv))
	case isa.SysArgv:
		r[isa.A0] = 0
		if a0 < uint64(len(p.argv)) {
			r[isa.A0] = p.argv[a0]
		}
	default:
		return nil, c.trap(t, t.PC-1, isa.TrapBadSyscall, fmt.Sprintf("there is no service %d (see docs/syscalls.md)", n))
	}
	return t, nil
}

// sharedService marks the services that touch what processes share (descriptors, pipes, the
// host's streams, the process table), which take the kernel lock when there are several
// processors. The others touch only the caller's own process, which no other processor runs.
var sharedService = func() (s [128]bool) {
	for _, n := range []isa.Syscall{isa.SysExit, isa.SysWrite, isa.SysRead, isa.SysPrintInt, isa.SysReadInt,
		isa.SysPutc, isa.SysPuts, isa.SysThreadSpawn, isa.SysThreadExit, isa.SysSpawn, isa.SysStart,
		isa.SysWait, isa.SysKill, isa.SysPipe, isa.SysClose} {
		s[n] = true
	}
	return s
}()

// after finishes a syscall that may have blocked t.
func (c *cpu) after(t *Thread, blocked bool, err error) (*Thread, error) {
	if err != nil {
		return nil, err
	}
	if blocked {
		return c.switchFrom(t, reasonBlocked), nil
	}
	return t, nil
}

// buffer returns the n bytes of memory at addr, or a trap naming the syscall if they are not all
// inside memory.
func (c *cpu) buffer(t *Thread, name string, addr, n uint64) ([]byte, error) {
	p := t.Proc
	if !p.inMem(addr, n) {
		return nil, c.badArg(t, "%s: the buffer of %d bytes at %#x is not inside memory (%#x to %#x)",
			name, int64(n), addr, p.memBase, p.memBase+uint64(len(p.mem)))
	}
	off := addr - p.memBase
	return p.mem[off : off+n : off+n], nil
}

func (c *cpu) memLimit(t *Thread, detail string) error {
	return c.limit(t, LimitMemory, t.Proc.maxMem, detail)
}

// print writes b whole to descriptor 1 for the print services, which return nothing: a0 and a1
// keep their values.
func (c *cpu) print(t *Thread, b []byte) (*Thread, error) {
	a0, a1 := t.R[isa.A0], t.R[isa.A1]
	if c.write(t, 1, b, true) {
		t.R[isa.A0], t.R[isa.A1] = a0, a1
		return c.switchFrom(t, reasonBlocked), nil
	}
	t.R[isa.A0], t.R[isa.A1] = a0, a1
	return t, nil
}

func (p *Process) exit(code int64) {
	p.exited = true
	p.exitCode = code
}
