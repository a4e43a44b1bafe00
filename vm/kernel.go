package vm

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
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

// wakeAny makes a blocked thread of any process runnable; the caller holds the kernel lock if
// there are several processors. A thread of this processor's process is woken at once. A
// thread of a process running on another processor goes to that process's inbox, which its
// processor empties at its next check point: only the processor a process runs on touches its
// run queue. A process that was blocked as a whole becomes ready.
func (c *cpu) wakeAny(t *Thread) {
	p := t.Proc
	switch {
	case t.State == Exited:
		// Its process ended while it waited here (a kill): nothing is left to wake.
	case p == c.cur || p.state != procRunning:
		c.wake(t)
		if p.state == procBlocked {
			c.makeReady(p)
		}
	default:
		p.inbox = append(p.inbox, t)
		p.hasInbox.Store(true)
	}
}

// drainInbox wakes the threads that other processors woke for c's process. The caller holds
// the kernel lock.
func (c *cpu) drainInbox(p *Process) {
	for _, t := range p.inbox {
		c.wake(t)
	}
	clear(p.inbox)
	p.inbox = p.inbox[:0]
	p.hasInbox.Store(false)
}

// makeReady queues p to run, on the processor it last ran on, and wakes an idle processor.
// The caller holds the kernel lock.
func (c *cpu) makeReady(p *Process) {
	p.state = procReady
	q := c.cpus[p.lastCPU]
	q.ready.push(p)
	c.readyCount.Add(1)
	if c.idle > 0 {
		c.work.Signal()
	}
}

// takeReady takes a process to run: from c's own queue, or else half of the longest queue of
// another processor, as Go's scheduler steals. The caller holds the kernel lock.
func (c *cpu) takeReady() *Process {
	if f := c.focus; f != nil && f.Proc.state == procReady && c.ready.remove(f.Proc) {
		c.readyCount.Add(-1)
		return f.Proc
	}
	if p := c.ready.pop(); p != nil {
		c.readyCount.Add(-1)
		return p
	}
	var victim *cpu
	for _, o := range c.cpus {
		if o != c && len(o.ready.ps) > 0 && (victim == nil || len(o.ready.ps) > len(victim.ready.ps)) {
			victim = o
		}
	}
	if victim == nil {
		return nil
	}
	n := (len(victim.ready.ps) + 1) / 2
	for range n {
		c.ready.push(victim.ready.ps[len(victim.ready.ps)-1])
		victim.ready.ps = victim.ready.ps[:len(victim.ready.ps)-1]
	}
	p := c.ready.pop()
	c.readyCount.Add(-1)
	return p
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

// run is a processor's loop: it runs ready processes until the run is over, or, on a machine
// that Resume drives, until a stop it asked for (errPause: then p stays on the processor, and
// the next run goes on with the thread that stopped). With nothing ready, it waits for a
// process to become ready, or for the next sleeper of a blocked process to wake; when every
// processor is idle and no thread sleeps, every thread of every process is blocked for good: a
// deadlock.
func (c *cpu) run() {
	if !c.started {
		c.started = true
		c.slice() // the first; the loop carries each slice on until its budget runs out
	} else {
		c.setEdge()
	}
	c.lock()
	// A panic unwinds through here from runProcess, which runs without the lock; unlocking an
	// unlocked mutex would turn it into a crash that nothing can recover.
	held := true
	defer func() {
		if held {
			c.unlock()
		}
	}()
	for !c.done.Load() {
		p := c.cur // a process stopped on the processor, if there is one
		if p == nil {
			if p = c.takeReady(); p == nil {
				if c.waitForWork() {
					return // paused, with no thread running
				}
				continue
			}
			p.state = procRunning
			p.lastCPU = c.id
		}
		c.unlock()
		held = false
		err := c.runProcess(p)
		c.lock()
		held = true
		if err == errPause {
			return
		}
		if te, ok := err.(*TrapError); ok && !c.multi {
			// The machine stops at the trap, with nothing changed; the next Resume ends the
			// process (see Machine.Resume).
			c.trapped = te
			c.paused = p.thread(uint64(te.Thread))
			c.stopKind = StopTrapped
			return
		}
		c.cur = nil
		c.afterSlice(p, err)
	}
}

// afterSlice decides what becomes of p after it ran on c. The caller holds the kernel lock.
func (c *cpu) afterSlice(p *Process, err error) {
	if c.done.Load() {
		return
	}
	if p.state == procExited {
		return // killed while it ran
	}
	var te *TrapError
	switch {
	case p.killed.Load() && !errors.As(err, &te) && !p.exited:
		// Killed while it ran: whether it stopped at a check point or blocked before one, it
		// ends now.
		if c.observed() {
			c.observeEnding(p, SwitchKilled)
		}
		c.endProcess(p, statusKilled)
	case errors.Is(err, errYieldProcess):
		c.makeReady(p)
	case errors.Is(err, errStopped):
	case err == nil && !p.exited:
		c.drainInbox(p)
		if p.runq.n > 0 || len(p.timers) > 0 && p.timers[0].waitOn <= uint64(c.now()) {
			c.makeReady(p)
		} else {
			p.state = procBlocked
		}
	case err != nil && errors.As(err, &te) && p.ID != 1:
		// A trap ends its process; the others go on. The report is made at once.
		c.stdout.Flush()
		if c.opts.ProcessTrapped != nil {
			c.stderr.Flush()
			c.opts.ProcessTrapped(p.ID, te)
		} else {
			fmt.Fprintf(c.stderr, "process %d: %s", p.ID, te.Report())
			c.stderr.Flush()
		}
		if c.observed() {
			c.observeEnding(p, SwitchTrap)
		}
		c.endProcess(p, statusTrapped)
	case err != nil:
		c.finish(err)
	default:
		c.endProcess(p, p.exitCode)
	}
}

// finish ends the run with err: every processor stops at its next check point. The caller
// holds the kernel lock.
func (c *cpu) finish(err error) {
	if c.done.Load() {
		return
	}
	c.done.Store(true)
	c.err = err
	c.interrupt.Store(true)
	c.work.Broadcast()
}

// waitForWork waits, idle, until a process is ready, a sleeper's time comes, or the run ends.
// It reports whether a pause came instead (see Machine.Pause). The caller holds the kernel
// lock.
func (c *cpu) waitForWork() (paused bool) {
	if c.pollInput() {
		return false
	}
	next, ok := c.nextDeadline()
	reading := c.in.pending.Load()
	if !c.multi {
		// Alone, the processor waits for the next deadline or for input, then wakes the
		// threads they were for.
		switch {
		case reading:
			c.waitInput(next, ok)
		case ok:
			c.sleepUntil(next)
		default:
			c.finish(c.deadlock())
			return false
		}
		if c.interrupt.Load() {
			if c.unpause() {
				c.paused, c.stopThread, c.stopKind = nil, nil, StopInterrupted
				return true
			}
			c.finish(c.stopError(nil))
			return false
		}
		c.wakeDue()
		return false
	}
	if !ok {
		if c.idle+1 == len(c.cpus) && c.readyCount.Load() == 0 && !reading {
			c.finish(c.deadlock())
			return false
		}
	} else if now := uint64(c.now()); next <= now || c.virtual {
		// On the virtual clock, time jumps to the deadline.
		c.sleepUntil(next)
		c.wakeDue()
		return false
	} else {
		t := time.AfterFunc(time.Duration(next-now), func() {
			c.lock()
			c.work.Broadcast()
			c.unlock()
		})
		defer t.Stop()
	}
	if c.interrupt.Load() && (c.done.Load() || !c.running()) {
		// A stop from outside. When a processor runs a process, it stops at its next check
		// point and reports where its thread was; this one, idle, has nothing to say of it.
		if stopCause(c.why.Load()) != stopNone {
			c.finish(c.stopError(nil))
		}
		return false
	}
	c.idle++
	c.work.Wait()
	c.idle--
	c.wakeDue()
	return false
}

// running reports whether a processor runs a process. The caller holds the kernel lock.
func (c *cpu) running() bool {
	for _, p := range c.procs {
		if p.state == procRunning {
			return true
		}
	}
	return false
}

// waitInput waits, alone, for the pump's result, until the deadline if there is one, or an
// interrupt.
func (c *cpu) waitInput(deadline uint64, timed bool) {
	var timeout <-chan time.Time
	if timed {
		if d := int64(deadline) - c.now(); d > 0 {
			timeout = time.After(time.Duration(d))
		} else {
			return
		}
	}
	if c.pausing() {
		return
	}
	select {
	case r := <-c.in.results:
		c.deliver(r)
	case <-timeout:
	case <-c.stopped:
	case <-c.pauses:
	}
}

// wakeDue wakes the sleepers whose time has come in every blocked process. The caller holds
// the kernel lock.
func (c *cpu) wakeDue() {
	for _, q := range c.procs {
		if q != nil && q.state == procBlocked && len(q.timers) > 0 && q.timers[0].waitOn <= uint64(c.now()) {
			c.wakeSleepers(q)
			if q.runq.n > 0 {
				c.makeReady(q)
			}
		}
	}
}

// runProcess runs the threads of p until it ends, every thread blocks, it has used its quantum
// while another process waits, or Resume's stop comes. A thread that stopped for Resume goes on.
func (c *cpu) runProcess(p *Process) error {
	t := c.paused
	if t == nil {
		c.cur = p
		c.procSlices = 0
		c.setEdge()
		t = c.pick(p)
		if t == nil && len(p.timers) > 0 {
			c.wakeSleepers(p)
			t = c.pick(p)
		}
		if t == nil {
			return nil
		}
		if c.observed() {
			why := SwitchResume
			if t.Switches == 1 { // pick counted this one
				why = SwitchStart
			}
			c.observeSwitch(nil, t, why)
		}
	}
	c.paused = nil
	for {
		// The random policy needs a loop that can stop at any instruction, and so does a stop
		// at a step that is near; round robin does not.
		exec := c.exec
		switch {
		case c.exact:
			exec = c.execStep
		case c.tracking:
			exec = c.execMark // a snapshot was taken: stores mark their pages for the next
		}
		err := exec(t)
		for err == errStepping {
			err = c.execStep(c.resume)
		}
		if err != nil || p.exited {
			return err
		}
		// No thread of p can run now; one may be about to wake.
		if len(p.timers) > 0 {
			c.wakeSleepers(p)
		}
		if p.hasInbox.Load() || c.in.pending.Load() {
			c.lock()
			c.pollInput()
			c.drainInbox(p)
			c.unlock()
		}
		if p.runq.n == 0 {
			return nil
		}
		if err := c.idleCheckpoint(p); err != nil {
			return err
		}
		t = c.pick(p)
		if c.observed() {
			c.observeSwitch(nil, t, SwitchIdle)
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
	if c.observed() {
		c.observeProcess(EventProcessEnd, p, status)
	}
	for i := range p.fds {
		c.closeFd(p, uint64(i))
	}
	for _, t := range p.threads {
		if t.State != Exited {
			t.State = Exited
			c.threadCount.Add(-1)
		}
	}
	for _, w := range p.waiters {
		w.R[isa.A0] = uint64(status)
		c.wakeAny(w)
	}
	p.waiters = nil
	// Nothing of the process is needed any more but its status, for wait, and the first
	// process's memory, for Machine.Process().Memory(). (No loop runs it: endProcess is only
	// called for a process off every processor.)
	p.chans, p.futex, p.runq, p.timers = nil, nil, queue{}, nil
	if p == c.proc {
		// The first process is the program the run was asked for: its end is the run's,
		// however it comes (exit, its last thread's end, a kill).
		c.finish(nil)
		return
	}
	p.freeMemory()
	if c.observed() {
		for _, t := range p.threads {
			if !t.dropped {
				c.observeThread(EventThreadFreed, t)
			}
		}
	}
	p.threads, p.freeStacks, p.fds, p.code, p.consts, p.args, p.argv, p.inbox = nil, nil, nil, nil, nil, nil, nil, nil
	c.zombies++
	// Its ended children can no longer be waited for, and nor can its living ones once they
	// end: nothing of them is kept.
	for _, ch := range p.children {
		ch.parent = 0
		if ch.state == procExited {
			c.reap(ch)
		}
	}
	p.children = nil
	if p.waited || p.parent == 0 {
		c.reap(p) // its status has gone to the thread that waited, or nobody can wait for it
	}
}

// reap takes ended process p out of the process table, once its exit status has gone to the
// thread that waited for it, or nobody can wait for it any more. Until then it is a zombie, as
// in Unix: it keeps its place in the table, and counts against --max-procs, so that a program
// that never waits for its children cannot fill the host's memory with their remains.
func (c *cpu) reap(p *Process) {
	if i, ok := c.tableIndex(uint64(p.ID)); ok {
		c.procs = slices.Delete(c.procs, i, i+1)
	}
	c.zombies--
	if parent := c.process(uint64(p.parent)); parent != nil {
		parent.children = slices.DeleteFunc(parent.children, func(q *Process) bool { return q == p })
	}
}

// startProcess makes a process of img that starts at entry with the given arguments, with
// descriptors 0 and 1 copied from the parent's in and out, and 2 from the parent's 2.
func (c *cpu) startProcess(t *Thread, service string, img *object.Image, entry int, args []string, in, out uint64) (*Process, error) {
	parent := t.Proc
	if c.opts.MaxProcs > 0 && len(c.procs) >= c.opts.MaxProcs {
		why := fmt.Sprintf("%s would make %d processes", service, len(c.procs)+1)
		if c.zombies > 0 {
			why += fmt.Sprintf(", counting %d that have ended but are not waited for yet (zombies)", c.zombies)
		}
		return nil, c.limit(t, LimitProcesses, uint64(c.opts.MaxProcs), why)
	}
	for _, fd := range [...]uint64{in, out} {
		if parent.fd(fd).kind == descClosed {
			return nil, c.badArg(t, "%s: descriptor %d is not open", service, fd)
		}
	}
	p, err := newProcess(c.Machine, img, entry, args)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.Where = c.where(t, t.PC-1)
			return nil, le
		}
		return nil, c.badArg(t, "%s: %v", service, err)
	}
	if c.observed() {
		c.processStarted(p)
	}
	p.parent = parent.ID
	parent.children = append(parent.children, p)
	p.lastCPU = c.id
	p.fds = []desc{parent.fd(in), parent.fd(out), parent.fd(2)}
	for _, d := range p.fds {
		d.open()
	}
	c.makeReady(p)
	return p, nil
}

// spawnFile starts the program in file name, which must be in the main program's directory,
// with argv read from t's memory.
func (c *cpu) spawnFile(t *Thread, pathAddr, argvAddr, in, out uint64) (*Process, error) {
	name, err := c.cString(t, "spawn", pathAddr)
	if err != nil {
		return nil, err
	}
	img, err := c.loadFile(name)
	if err != nil {
		return nil, c.badArg(t, "spawn: %v", err)
	}
	// The arguments go on the new process's stack, so what they may take is bounded by its
	// size: it is checked as they are copied, so that an argv of a million pointers to one long
	// string costs no more than the stack would hold.
	args := []string{name}
	if argvAddr != 0 {
		size := uint64(0)
		for i := uint64(0); ; i++ {
			if !t.Proc.inMem(argvAddr+8*i, 8) {
				return nil, c.badArg(t, "spawn: argv at %#x runs out of memory", argvAddr)
			}
			a := le.Uint64(t.Proc.mem[argvAddr+8*i-t.Proc.memBase:])
			if a == 0 {
				break
			}
			s, err := c.cString(t, "spawn", a)
			if err != nil {
				return nil, err
			}
			if size += uint64(len(s)) + 1 + 8; size > c.opts.StackSize {
				return nil, c.badArg(t, "spawn: the arguments take more than the %d bytes of the new process's stack", c.opts.StackSize)
			}
			if i == 0 {
				args = args[:0]
			}
			args = append(args, s)
		}
	}
	entry, _ := isa.CodeIndex(img.Entry, len(img.Text))
	return c.startProcess(t, "spawn", img, entry, args, in, out)
}

// loadFile reads the program file name from the main program's directory, as source or object.
// Nothing outside that directory can be reached: the name must be a plain relative path
// without "..", and os.Root refuses a symbolic link that leads out.
func (c *cpu) loadFile(name string) (*object.Image, error) {
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
	src, err := readRegular(root, name, maxProgramFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%q: %v", name, err)
	}
	if !object.IsObject(src) && c.opts.Assemble == nil {
		return nil, fmt.Errorf("%q is not an object file, and this run has no assembler for a source (Options.Assemble)", name)
	}
	img, err := object.Load(name, bytes.NewReader(src), int64(len(src)), func(name string, r io.Reader) (*object.Image, error) {
		return c.opts.Assemble(name, r, func(inc string) ([]byte, error) { return readRegular(root, inc, maxIncludeFile) })
	})
	var oe *object.ObjectError
	switch {
	case errors.As(err, &oe):
		return nil, fmt.Errorf("%q: %v", name, err)
	case err != nil:
		return nil, fmt.Errorf("%q does not assemble:\n%v", name, err)
	}
	return img, validate(img)
}

// maxIncludeFile is the largest file a spawned source may include: the assembler's limit on a
// whole source and its includes (asm.MaxSourceSize), which it would refuse anyway, past which
// a file is not even read.
const maxIncludeFile = 4 << 20

// maxProgramFile is the largest program file spawn reads: 256 MiB, room for 64 million
// instructions and more data than a program can have with the default --max-mem.
const maxProgramFile = 256 << 20

// readRegular reads file name under root, if it is a regular file of at most max bytes. Anything
// else is refused before it is read: a device such as /dev/zero never ends, and the open of a
// named pipe would block the processor, under the kernel lock, until a writer came.
func readRegular(root *os.Root, name string, max int64) ([]byte, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", fileKind(fi.Mode()))
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1)) // a file replaced after the Stat still stops here
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes, the most a program file may have", max)
	}
	return b, nil
}

// fileKind names the kind of file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// cString reads the NUL-terminated string at addr from t's memory.
func (c *cpu) cString(t *Thread, name string, addr uint64) (string, error) {
	p := t.Proc
	if !p.inMem(addr, 1) {
		return "", c.badArg(t, "%s: address %#x is not inside memory", name, addr)
	}
	s := p.mem[addr-p.memBase:]
	i := bytesIndexNUL(s, 4096)
	if i < 0 {
		return "", c.badArg(t, "%s: no NUL within 4096 bytes of %#x", name, addr)
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
	if i, ok := c.tableIndex(pid); ok {
		return c.procs[i]
	}
	return nil
}

// tableIndex returns the index of process pid in the process table, and whether it is there.
// The table is short (--max-procs) and sorted by id.
func (c *cpu) tableIndex(pid uint64) (int, bool) {
	if pid == 0 || pid > uint64(c.lastPid) {
		return 0, false
	}
	return slices.BinarySearchFunc(c.procs, int(pid), func(p *Process, id int) int { return cmp.Compare(p.ID, id) })
}

// waitProcess makes t wait for its child pid to end. It reports whether t must block.
func (c *cpu) waitProcess(t *Thread, pid uint64) (bool, error) {
	child := c.process(pid)
	if child == nil || child.parent != t.Proc.ID || child.waited {
		return false, c.badArg(t, "wait: process %d is not a child of process %d that can be waited for", pid, t.Proc.ID)
	}
	if child.state == procExited {
		child.waited = true
		c.reap(child) // its status is read: nothing of it is left
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
		return c.badArg(t, "kill: a process cannot kill itself; use exit")
	default:
		if p.state == procReady {
			for _, o := range c.cpus {
				if o.ready.remove(p) {
					c.readyCount.Add(-1)
				}
			}
		}
		if p.state == procRunning {
			// Its processor ends it at its next check point: only that processor may touch
			// the process while it runs.
			p.killed.Store(true)
		} else {
			c.endProcess(p, statusKilled)
		}
		t.R[isa.A0] = 0
	}
	return nil
}

func (q *procQueue) remove(p *Process) bool {
	for i, e := range q.ps {
		if e == p {
			q.ps = append(q.ps[:i], q.ps[i+1:]...)
			return true
		}
	}
	return false
}

// lock takes the kernel lock, which guards what processes share: the process table, the ready
// queues, pipes, descriptors and the host's streams. With one processor there is nothing to
// guard against, and it costs nothing.
func (c *cpu) lock() {
	if c.multi {
		c.mu.Lock()
	}
}

func (c *cpu) unlock() {
	if c.multi {
		c.mu.Unlock()
	}
}

// errStopped is how the loop learns that the run is over, or that its process was killed.
var errStopped = errors.New("stopped")
