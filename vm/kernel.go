package vm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// The kernel's process layer: the process table, the queue of processes ready to run, and the
// services that make, wait for and kill processes.
//
// A process runs on one virtual processor at a time, and its threads are multiplexed there; the
// processor runs it until every one of its threads is blocked, until it ends, or until it has
// had procQuantum thread slices while another process waits. Then the processor takes the next
// process from the ready queue.

// procQuantum is how many thread slices a process runs before it yields its processor to a
// waiting process.
const procQuantum = 8

// procState is where a process is in its life.
type procState uint8

const (
	procReady   procState = iota // in the ready queue
	procRunning                  // on a processor
	procBlocked                  // every thread blocked; off every queue until one is woken
	procExited
)

// Exit statuses of processes that did not exit by themselves, as a shell reports a process
// killed by a signal: 128 + SIGABRT for a trap, 128 + SIGKILL for kill.
const (
	statusTrapped = 134
	statusKilled  = 137
)

// errYieldProcess is how the loop tells the processor that the process used its quantum.
var errYieldProcess = errors.New("process quantum")

// wakeAny makes a blocked thread of any process runnable. A process that was blocked as a
// whole becomes ready.
func (c *cpu) wakeAny(t *Thread) {
	c.wake(t)
	if p := t.Proc; p.state == procBlocked {
		p.state = procReady
		c.ready.push(p)
	}
}

// procQueue is a FIFO of processes.
type procQueue struct{ ps []*Process }

func (q *procQueue) push(p *Process) { q.ps = append(q.ps, p) }
func (q *procQueue) pop() *Process {
	if len(q.ps) == 0 {
		return nil
	}
	p := q.ps[0]
	q.ps[0] = nil
	q.ps = q.ps[1:]
	return p
}

// run is the processor's loop: it runs ready processes until the first process ends or the run
// fails. With nothing ready, it advances the clock to the next sleeper of any process, and with
// no sleeper either, every thread of every process is blocked for good: a deadlock.
func (c *cpu) run() error {
	for {
		p := c.ready.pop()
		if p == nil {
			next, ok := c.nextDeadline()
			if !ok {
				return c.deadlock()
			}
			c.sleepUntil(next)
			for _, q := range c.procs {
				if q != nil && q.state == procBlocked && len(q.timers) > 0 {
					c.wakeSleepers(q)
				}
			}
			continue
		}
		err := c.runProcess(p)
		switch {
		case errors.Is(err, errYieldProcess):
			p.state = procReady
			c.ready.push(p)
			continue
		case err == nil && !p.exited:
			p.state = procBlocked
			continue
		}
		var te *TrapError
		if err != nil && errors.As(err, &te) && p.ID != 1 {
			// A trap ends its process; the others go on. The report goes to stderr at once.
			c.stdout.Flush()
			fmt.Fprintf(c.stderr, "spindle: process %d: %s", p.ID, te.Report())
			c.stderr.Flush()
			c.endProcess(p, statusTrapped)
			continue
		}
		if err != nil {
			return err
		}
		c.endProcess(p, p.exitCode)
		if p.ID == 1 {
			// The first process is the program the run was asked for: its end is the run's.
			return nil
		}
	}
}

// runProcess runs the threads of p until it ends, every thread blocks, or it has used its
// quantum while another process waits.
func (c *cpu) runProcess(p *Process) error {
	p.state = procRunning
	c.cur = p
	c.procSlices = 0
	// The random policy needs a loop that can stop at any instruction; round robin does not.
	exec := c.exec
	if c.rng != nil {
		exec = c.execStep
	}
	t := c.pick(p)
	if t == nil && len(p.timers) > 0 {
		c.wakeSleepers(p)
		t = c.pick(p)
	}
	if t == nil {
		return nil
	}
	if c.tracer != nil {
		c.tracer.event(c, nil, t, reasonStart)
	}
	for {
		if err := exec(t); err != nil || p.exited {
			return err
		}
		// No thread of p can run now; one may be about to wake.
		if len(p.timers) > 0 {
			c.wakeSleepers(p)
		}
		if t = c.pick(p); t == nil {
			return nil
		}
		if c.tracer != nil {
			c.tracer.event(c, nil, t, reasonIdle)
		}
	}
}

// nextDeadline returns the earliest deadline of a sleeping thread of any blocked process.
func (c *cpu) nextDeadline() (uint64, bool) {
	var next uint64
	ok := false
	for _, p := range c.procs {
		if p != nil && p.state == procBlocked && len(p.timers) > 0 {
			if d := p.timers[0].waitOn; !ok || d < next {
				next, ok = d, true
			}
		}
	}
	return next, ok
}

// endProcess ends p with status: its threads are gone, its descriptors closed, and the threads
// waiting for it are woken.
func (c *cpu) endProcess(p *Process, status int64) {
	if p.state == procExited {
		return
	}
	p.state = procExited
	p.exited = true
	p.exitCode = status
	for i := range p.fds {
		c.closeFd(p, uint64(i))
	}
	for _, t := range p.threads {
		if t != nil && t.State != Exited {
			t.State = Exited
			c.threadCount--
		}
	}
	for _, w := range p.waiters {
		w.R[isa.A0] = uint64(status)
		c.wakeAny(w)
	}
	p.waiters = nil
	// Nothing of the process is needed any more but its status, for wait.
	p.mem, p.runq, p.chans, p.futex, p.timers = nil, queue{}, nil, nil, nil
}

// startProcess makes a process of img that starts at entry with the given arguments, with
// descriptors 0 and 1 copied from the parent's in and out, and 2 from the parent's 2.
func (c *cpu) startProcess(t *Thread, img *asm.Image, entry int, args []string, in, out uint64) (*Process, error) {
	parent := t.Proc
	if c.opts.MaxProcs > 0 && c.liveProcs >= c.opts.MaxProcs {
		return nil, c.limit(t, "processes", uint64(c.opts.MaxProcs), fmt.Sprintf("spawning would make process %d", c.liveProcs+1))
	}
	for _, fd := range [...]uint64{in, out} {
		if parent.fd(fd).kind == descClosed {
			return nil, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("spawn: descriptor %d is not open", fd))
		}
	}
	p, err := newProcess(c.Machine, img, entry, args)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.Where = c.where(t, t.PC-1)
			return nil, le
		}
		return nil, c.trap(t, t.PC-1, isa.TrapSyscallArg, "spawn: "+err.Error())
	}
	p.parent = parent.ID
	p.fds = []desc{parent.fd(in), parent.fd(out), parent.fd(2)}
	for _, d := range p.fds {
		d.open()
	}
	c.ready.push(p)
	return p, nil
}

// spawnFile starts the program in file name, which must be in the main program's directory,
// with argv read from t's memory.
func (c *cpu) spawnFile(t *Thread, pathAddr, argvAddr, in, out uint64) (*Process, error) {
	name, err := c.cString(t, "spawn", pathAddr)
	if err != nil {
		return nil, err
	}
	args := []string{name}
	if argvAddr != 0 {
		for i := uint64(0); ; i++ {
			if !t.Proc.inMem(argvAddr+8*i, 8) {
				return nil, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("spawn: argv at %#x runs out of memory", argvAddr))
			}
			a := le.Uint64(t.Proc.mem[argvAddr+8*i-t.Proc.memBase:])
			if a == 0 {
				break
			}
			s, err := c.cString(t, "spawn", a)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				args = args[:0]
			}
			args = append(args, s)
		}
	}
	img, err := c.loadFile(name)
	if err != nil {
		return nil, c.trap(t, t.PC-1, isa.TrapSyscallArg, "spawn: "+err.Error())
	}
	entry, _ := isa.CodeIndex(img.Entry, len(img.Text))
	return c.startProcess(t, img, entry, args, in, out)
}

// loadFile reads the program file name from the main program's directory, as source or object.
// Nothing outside that directory can be reached: the name must be a plain relative path
// without "..", and os.Root refuses a symbolic link that leads out.
func (c *cpu) loadFile(name string) (*asm.Image, error) {
	if c.opts.ProgramDir == "" {
		return nil, fmt.Errorf("%q: this run has no program directory to spawn from", name)
	}
	if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "/") || !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%q: a program must be named by a path inside the main program's directory", name)
	}
	root, err := os.OpenRoot(c.opts.ProgramDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	src, err := root.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%q: %v", name, err)
	}
	if asm.IsObject(src) {
		img, err := asm.UnmarshalImage(src)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", name, err)
		}
		return img, validate(img)
	}
	img, err := asm.Assemble(name, src, &asm.Options{ReadFile: func(inc string) ([]byte, error) { return root.ReadFile(inc) }})
	if err != nil {
		return nil, fmt.Errorf("%q does not assemble:\n%v", name, err)
	}
	return img, validate(img)
}

// cString reads the NUL-terminated string at addr from t's memory.
func (c *cpu) cString(t *Thread, name string, addr uint64) (string, error) {
	p := t.Proc
	if !p.inMem(addr, 1) {
		return "", c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("%s: address %#x is not inside memory", name, addr))
	}
	s := p.mem[addr-p.memBase:]
	i := bytesIndexNUL(s, 4096)
	if i < 0 {
		return "", c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("%s: no NUL within 4096 bytes of %#x", name, addr))
	}
	return string(s[:i]), nil
}

func bytesIndexNUL(s []byte, most int) int {
	for i := 0; i < len(s) && i < most; i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// process returns process pid, or nil.
func (c *cpu) process(pid uint64) *Process {
	if pid == 0 || pid > uint64(len(c.procs)) {
		return nil
	}
	return c.procs[pid-1]
}

// waitProcess makes t wait for its child pid to end. It reports whether t must block.
func (c *cpu) waitProcess(t *Thread, pid uint64) (bool, error) {
	child := c.process(pid)
	if child == nil || child.parent != t.Proc.ID || child.waited {
		return false, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("wait: process %d is not a child of process %d that can be waited for", pid, t.Proc.ID))
	}
	if child.state == procExited {
		child.waited = true
		c.procs[pid-1] = nil // its status is read: nothing of it is left
		t.R[isa.A0] = uint64(child.exitCode)
		return false, nil
	}
	child.waited = true
	child.waiters = append(child.waiters, t)
	c.block(t, waitProc, pid)
	return true, nil
}

// kill ends process pid, which must not be the caller's own.
func (c *cpu) kill(t *Thread, pid uint64) error {
	p := c.process(pid)
	switch {
	case p == nil || p.state == procExited:
		t.R[isa.A0] = ^uint64(0)
	case p == t.Proc:
		return c.trap(t, t.PC-1, isa.TrapSyscallArg, "kill: a process cannot kill itself; use exit")
	default:
		if p.state == procReady {
			c.ready.remove(p)
		}
		c.endProcess(p, statusKilled)
		t.R[isa.A0] = 0
	}
	return nil
}

func (q *procQueue) remove(p *Process) {
	for i, e := range q.ps {
		if e == p {
			q.ps = append(q.ps[:i], q.ps[i+1:]...)
			return
		}
	}
}
