package vm

import (
	"fmt"
	"strconv"

	"github.com/spindle-vm/spindle/isa"
)

// A service is one kernel service: the handler that carries it out, and whether it touches what
// processes share (descriptors, pipes, the host's streams, the process table) and so takes the
// kernel lock when there are several processors. A service that is not shared touches only the
// caller's own process, which no other processor runs.
type service struct {
	run    handler
	shared bool
}

// A handler carries out a service for thread t, as syscall does, and returns what syscall
// returns.
type handler func(c *cpu, t *Thread) (*Thread, error)

// services is the kernel's table of services, indexed by number. It and isa.Syscalls list the
// same services: TestServices checks that each has a handler here, and that nothing else has.
var services = [...]service{
	isa.SysExit:     {run: (*cpu).sysExit, shared: true},
	isa.SysWrite:    {run: (*cpu).sysWrite, shared: true},
	isa.SysRead:     {run: (*cpu).sysRead, shared: true},
	isa.SysPrintInt: {run: (*cpu).sysPrintInt, shared: true},
	isa.SysReadInt:  {run: (*cpu).sysReadInt, shared: true},
	isa.SysBrk:      {run: (*cpu).sysBrk},
	isa.SysSbrk:     {run: (*cpu).sysSbrk},
	isa.SysArgc:     {run: (*cpu).sysArgc},
	isa.SysArgv:     {run: (*cpu).sysArgv},
	isa.SysPutc:     {run: (*cpu).sysPutc, shared: true},
	isa.SysPuts:     {run: (*cpu).sysPuts, shared: true},

	isa.SysThreadSpawn: {run: (*cpu).sysThreadSpawn, shared: true},
	isa.SysThreadExit:  {run: (*cpu).sysThreadExit, shared: true},
	isa.SysThreadJoin:  {run: (*cpu).sysThreadJoin},
	isa.SysYield:       {run: (*cpu).sysYield},
	isa.SysSleep:       {run: (*cpu).sysSleep},
	isa.SysGettid:      {run: (*cpu).sysGettid},
	isa.SysGetpid:      {run: (*cpu).sysGetpid},
	isa.SysClock:       {run: (*cpu).sysClock},

	isa.SysSpawn: {run: (*cpu).sysSpawn, shared: true},
	isa.SysStart: {run: (*cpu).sysStart, shared: true},
	isa.SysWait:  {run: (*cpu).sysWait, shared: true},
	isa.SysKill:  {run: (*cpu).sysKill, shared: true},
	isa.SysPipe:  {run: (*cpu).sysPipe, shared: true},
	isa.SysClose: {run: (*cpu).sysClose, shared: true},

	isa.SysChanMake:     {run: (*cpu).sysChanMake},
	isa.SysChanSend:     {run: (*cpu).sysChanSend},
	isa.SysChanRecv:     {run: (*cpu).sysChanRecv},
	isa.SysChanClose:    {run: (*cpu).sysChanClose},
	isa.SysFutexWait:    {run: (*cpu).sysFutexWait},
	isa.SysFutexWake:    {run: (*cpu).sysFutexWake},
	isa.SysChanSendRecv: {run: (*cpu).sysChanSendRecv},

	isa.SysOpen:    {run: (*cpu).sysOpen, shared: true},
	isa.SysPread:   {run: (*cpu).sysPread, shared: true},
	isa.SysPwrite:  {run: (*cpu).sysPwrite, shared: true},
	isa.SysSeek:    {run: (*cpu).sysSeek, shared: true},
	isa.SysStat:    {run: (*cpu).sysStat, shared: true},
	isa.SysFstat:   {run: (*cpu).sysFstat, shared: true},
	isa.SysReaddir: {run: (*cpu).sysReaddir, shared: true},
	isa.SysMkdir:   {run: (*cpu).sysMkdir, shared: true},
	isa.SysUnlink:  {run: (*cpu).sysUnlink, shared: true},
	isa.SysRename:  {run: (*cpu).sysRename, shared: true},
	isa.SysFsync:   {run: (*cpu).sysFsync, shared: true},

	isa.SysListen:   {run: (*cpu).sysListen, shared: true},
	isa.SysAccept:   {run: (*cpu).sysAccept, shared: true},
	isa.SysConnect:  {run: (*cpu).sysConnect, shared: true},
	isa.SysShutdown: {run: (*cpu).sysShutdown, shared: true},
	isa.SysSockopt:  {run: (*cpu).sysSockopt, shared: true},
}

// syscall carries out kernel service n for thread t, whose saved pc is the instruction after
// the syscall. Arguments are in a0-a5 and results go in a0 and a1, as docs/syscalls.md says.
//
// It returns the thread to run next: t itself, unless t blocked, yielded or ended, and nil when
// no thread of the process can run or the process has exited. A non-nil error stops the run.
//
// The table costs what the switch it replaced did: an indexed load and an indirect call, where
// the switch had a jump table and a direct call. Over twelve interleaved runs, a pingpong round
// trip (two chan_sendrecv) took 32.8 ns against the switch's 32.6 in vm's test binary, and 33.4
// against 33.2 with each built with a profile of its own (see docs/design.md): within 1%, so the
// hottest service has no path of its own here.
func (c *cpu) syscall(t *Thread, n isa.Syscall) (*Thread, error) {
	if n >= isa.Syscall(len(services)) || services[n].run == nil {
		return nil, c.noService(t, n)
	}
	if c.observed() {
		c.observeSyscall(t, n)
	}
	s := &services[n]
	if s.shared && c.multi {
		return c.locked(s.run, t)
	}
	return s.run(c, t)
}

// noService is the trap of a syscall whose number names no service. It is apart from syscall,
// which the compiler inlines into the loop when the profile says it is hot: with the trap
// written out there, the loop's frame grew by 16 bytes for the arguments of Sprintf.
func (c *cpu) noService(t *Thread, n isa.Syscall) error {
	return c.trap(t, t.PC-1, isa.TrapBadSyscall, fmt.Sprintf("there is no service %d (see docs/syscalls.md)", n))
}

// locked runs a shared service under the kernel lock. The deferred unlock matters if the
// service panics: the lock is released for the recovery, which needs it. (A defer in syscall
// itself would cost every syscall, on one processor too, about 5 ns.)
func (c *cpu) locked(run handler, t *Thread) (*Thread, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return run(c, t)
}

// The services of a process's own I/O and memory.

func (c *cpu) sysExit(t *Thread) (*Thread, error) {
	t.Proc.exit(int64(t.R[isa.A0]))
	if c.observed() {
		c.observeSwitch(t, nil, SwitchProcExit)
	}
	return nil, nil
}

func (c *cpu) sysWrite(t *Thread) (*Thread, error) {
	b, err := c.buffer(t, "write", t.R[isa.A1], t.R[isa.A2])
	if err != nil {
		return nil, err
	}
	return c.after(t, c.write(t, t.R[isa.A0], b, false), nil)
}

func (c *cpu) sysRead(t *Thread) (*Thread, error) {
	b, err := c.buffer(t, "read", t.R[isa.A1], t.R[isa.A2])
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		t.Proc.wrote(t.R[isa.A1]-t.Proc.memBase, uint64(len(b)))
	}
	return c.after(t, c.read(t, t.R[isa.A0], b), nil)
}

func (c *cpu) sysPrintInt(t *Thread) (*Thread, error) {
	var buf [24]byte
	return c.print(t, strconv.AppendInt(buf[:0], int64(t.R[isa.A0]), 10))
}

func (c *cpu) sysReadInt(t *Thread) (*Thread, error) {
	return c.after(t, c.readInt(t), nil)
}

func (c *cpu) sysBrk(t *Thread) (*Thread, error) {
	p, a0 := t.Proc, t.R[isa.A0]
	if a0 != 0 && a0 != p.brk {
		if a0 > p.brk && a0-p.memBase > p.room() {
			return nil, c.memLimit(t, fmt.Sprintf("brk(%#x) would grow memory to %d bytes", a0, a0-p.memBase))
		}
		p.setBrk(a0) // a break below the heap is refused: the old one is returned
	}
	t.R[isa.A0] = p.brk
	return t, nil
}

func (c *cpu) sysSbrk(t *Thread) (*Thread, error) {
	p, a0 := t.Proc, t.R[isa.A0]
	old := p.brk
	nb := old + a0
	if int64(a0) < 0 && nb > old || int64(a0) > 0 && nb < old {
		t.R[isa.A0] = ^uint64(0) // the sum wrapped around
		return t, nil
	}
	if nb > old && nb-p.memBase > p.room() {
		return nil, c.memLimit(t, fmt.Sprintf("sbrk(%d) would grow memory to %d bytes", int64(a0), nb-p.memBase))
	}
	if !p.setBrk(nb) {
		t.R[isa.A0] = ^uint64(0)
		return t, nil
	}
	t.R[isa.A0] = old
	return t, nil
}

func (c *cpu) sysArgc(t *Thread) (*Thread, error) {
	t.R[isa.A0] = uint64(len(t.Proc.argv))
	return t, nil
}

func (c *cpu) sysArgv(t *Thread) (*Thread, error) {
	argv, i := t.Proc.argv, t.R[isa.A0]
	t.R[isa.A0] = 0
	if i < uint64(len(argv)) {
		t.R[isa.A0] = argv[i]
	}
	return t, nil
}

func (c *cpu) sysPutc(t *Thread) (*Thread, error) {
	return c.print(t, []byte{byte(t.R[isa.A0])})
}

func (c *cpu) sysPuts(t *Thread) (*Thread, error) {
	s, err := c.cString(t, "puts", t.R[isa.A0])
	if err != nil {
		return nil, err
	}
	return c.print(t, []byte(s))
}

// The services of threads.

func (c *cpu) sysThreadSpawn(t *Thread) (*Thread, error) {
	nt, err := c.spawn(t, t.R[isa.A0], t.R[isa.A1], t.R[isa.A2])
	if err != nil {
		return nil, err
	}
	t.R[isa.A0] = uint64(nt.ID)
	return t, nil
}

func (c *cpu) sysThreadExit(t *Thread) (*Thread, error) {
	c.exitThread(t, t.R[isa.A0])
	if t.Proc.exited {
		return nil, nil
	}
	return c.switchFrom(t, SwitchExit), nil
}

func (c *cpu) sysThreadJoin(t *Thread) (*Thread, error) {
	blocked, err := c.join(t, t.R[isa.A0])
	return c.after(t, blocked, err)
}

func (c *cpu) sysYield(t *Thread) (*Thread, error) {
	if t.Proc.runq.n > 0 {
		c.makeRunnable(t)
		return c.switchFrom(t, SwitchYield), nil
	}
	return t, nil
}

func (c *cpu) sysSleep(t *Thread) (*Thread, error) {
	c.sleep(t, t.R[isa.A0])
	return c.switchFrom(t, SwitchBlocked), nil
}

func (c *cpu) sysGettid(t *Thread) (*Thread, error) {
	t.R[isa.A0] = uint64(t.ID)
	return t, nil
}

func (c *cpu) sysGetpid(t *Thread) (*Thread, error) {
	t.R[isa.A0] = uint64(t.Proc.ID)
	return t, nil
}

func (c *cpu) sysClock(t *Thread) (*Thread, error) {
	t.R[isa.A0] = uint64(c.now())
	return t, nil
}

// The services of processes and pipes.

func (c *cpu) sysSpawn(t *Thread) (*Thread, error) {
	r := &t.R
	np, err := c.spawnFile(t, r[isa.A0], r[isa.A1], r[isa.A2], r[isa.A3])
	if err != nil {
		return nil, err
	}
	r[isa.A0] = uint64(np.ID)
	return t, nil
}

func (c *cpu) sysStart(t *Thread) (*Thread, error) {
	p, r := t.Proc, &t.R
	entry, ok := isa.CodeIndex(r[isa.A0], p.textN)
	if !ok {
		return nil, c.badArg(t, "start: entry %#x is not the address of an instruction", r[isa.A0])
	}
	np, err := c.startProcess(t, "start", p.image, entry, p.args[:min(len(p.args), 1)], r[isa.A2], r[isa.A3])
	if err != nil {
		return nil, err
	}
	np.threads[0].R[isa.A0] = r[isa.A1]
	r[isa.A0] = uint64(np.ID)
	return t, nil
}

func (c *cpu) sysWait(t *Thread) (*Thread, error) {
	blocked, err := c.waitProcess(t, t.R[isa.A0])
	return c.after(t, blocked, err)
}

func (c *cpu) sysKill(t *Thread) (*Thread, error) {
	if err := c.kill(t, t.R[isa.A0]); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *cpu) sysPipe(t *Thread) (*Thread, error) {
	if err := c.makePipe(t); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *cpu) sysClose(t *Thread) (*Thread, error) {
	fd := t.R[isa.A0]
	t.R[isa.A0] = 0
	if !c.closeFd(t.Proc, fd) {
		t.R[isa.A0] = ^uint64(0)
	}
	return t, nil
}

// The services of channels and futexes.

func (c *cpu) sysChanMake(t *Thread) (*Thread, error) {
	h, err := c.chanMake(t, t.R[isa.A0])
	if err != nil {
		return nil, err
	}
	t.R[isa.A0] = h
	return t, nil
}

func (c *cpu) sysChanSend(t *Thread) (*Thread, error) {
	blocked, err := c.chanSend(t, t.R[isa.A0], t.R[isa.A1])
	return c.after(t, blocked, err)
}

func (c *cpu) sysChanRecv(t *Thread) (*Thread, error) {
	blocked, err := c.chanRecv(t, t.R[isa.A0])
	return c.after(t, blocked, err)
}

func (c *cpu) sysChanClose(t *Thread) (*Thread, error) {
	if err := c.chanClose(t, t.R[isa.A0]); err != nil {
		return nil, err
	}
	return t, nil
}

func (c *cpu) sysFutexWait(t *Thread) (*Thread, error) {
	blocked, err := c.futexWait(t, t.R[isa.A0], t.R[isa.A1])
	return c.after(t, blocked, err)
}

func (c *cpu) sysFutexWake(t *Thread) (*Thread, error) {
	t.R[isa.A0] = c.futexWake(t, t.R[isa.A0], t.R[isa.A1])
	return t, nil
}

func (c *cpu) sysChanSendRecv(t *Thread) (*Thread, error) {
	r := &t.R
	if next := c.handoff(t, r[isa.A0], r[isa.A1], r[isa.A2]); next != nil {
		return next, nil
	}
	blocked, err := c.chanSendRecv(t, r[isa.A0], r[isa.A1], r[isa.A2])
	return c.after(t, blocked, err)
}

// after finishes a syscall that may have blocked t.
func (c *cpu) after(t *Thread, blocked bool, err error) (*Thread, error) {
	if err != nil {
		return nil, err
	}
	if blocked {
		if c.wantsInput == t {
			c.wantsInput = nil
			return nil, c.pause(t, StopInput) // before its read (see fill)
		}
		return c.switchFrom(t, SwitchBlocked), nil
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
		return c.switchFrom(t, SwitchBlocked), nil
	}
	t.R[isa.A0], t.R[isa.A1] = a0, a1
	return t, nil
}

func (p *Process) exit(code int64) {
	p.exited = true
	p.exitCode = code
}
