package vm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// A processor's loop, and its queue of processes ready to run.
//
// A process runs on one virtual processor at a time, and its threads are multiplexed there; the
// processor runs it until every one of its threads is blocked, until it ends, or until it has
// had procQuantum thread slices while another process waits. Then the processor takes the next
// process from the ready queue.

// A cpu is a virtual processor: the interpreter loop, and the state it keeps as it runs the
// threads of one process at a time. It embeds the kernel that it shares with the other
// processors, and not the Machine, whose state is the API's (see kernel).
type cpu struct {
	*kernel
	id int

	steps      uint64  // instructions retired
	sliceStart int64   // the budget the current slice began with, or had when last retired
	switches   uint64  // context switches
	handoffs   uint64  // switches by chan_sendrecv's direct hand-off (a subset of switches)
	exact      bool    // a stop at a step is near, or the policy is random: run execStep (see setEdge)
	resume     *Thread // the thread exec handed over to execStep
	edge       int64   // the budget at which execStep stops before the next instruction (see setEdge)
	started    bool    // the first slice has begun
	skipped    int64   // virtual nanoseconds skipped while every thread slept
	rng        *rand.Rand
	focus      *Thread   // the thread that runs alone, if there is one (see Focus)
	pcg        *rand.PCG // rng's source, whose state a snapshot keeps

	cur         *Process  // the process on this processor
	procSlices  int       // thread slices cur has had since it came on
	ready       procQueue // processes ready to run here; others may steal them
	unpublished uint64    // steps not yet added to kernel.published
	senders     []*Thread // senders whose sends went through, for sent

	// What Resume asked for, and how the processor stopped (see resume.go).
	target      uint64     // stop when steps reaches it; 0 for no stop at a step
	pending     StopKind   // a stop due before the next instruction (see forceStop)
	stepping    bool       // run execStep, for a stop that exec cannot see (Until.Return)
	catchSwitch bool       // stop at the next context switch
	returnOf    *Thread    // stop after a ret of this thread that pops its address from returnSP or above
	returnSP    uint64     //
	syscalls    *[128]bool // stop before these services, if not nil
	paused      *Thread    // the thread that goes on first when the run does
	stopThread  *Thread    // the thread that stopped: paused, or one that returned (see returned)
	stopKind    StopKind   // why it stopped
	trapped     *TrapError // the trap it stopped at, not yet acted on
	skipSyscall *Thread    // a thread that stopped at its syscall, which runs when it goes on
	watches     []watching // the watchpoints
	lastThread  *Thread    // with watchpoints, the thread that ran the last instruction
	hit         *WatchHit  // the watchpoint that stopped it
	ebreakHit   *TrapError // the ebreak that stopped it, with Options.EbreakGoesOn
	tracking    bool       // snapshots are taken: execMark runs where exec would (see Snapshot)
	wantsInput  *Thread    // a thread that reads input not fed yet (see Options.FeedInput)
	polls       uint64     // check points and idle waits, where the host's news is taken (see hostlog.go)
	recheck     bool       // a pause interrupted a check point, which is made when the run goes on
}

// procQuantum is how many thread slices a process runs before it yields its processor to a
// waiting process.
const procQuantum = 8

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

func (q *procQueue) remove(p *Process) bool {
	for i, e := range q.ps {
		if e == p {
			q.ps = append(q.ps[:i], q.ps[i+1:]...)
			return true
		}
	}
	return false
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
	c.polls++
	if c.pollInput() || c.pollNet() {
		return false
	}
	next, ok := c.nextDeadline()
	// A read of the input or an operation on the network in flight will wake a thread.
	reading := c.hostEvents.Load()&hostReading != 0 || c.net.inflight > 0
	if !c.multi {
		// Alone, the processor waits for the next deadline, for input or for the network,
		// then wakes the threads they were for. On the virtual clock, idle time is skipped:
		// it jumps to the deadline without waiting for the host, whose news comes at a poll.
		switch {
		case reading && !(ok && c.virtual):
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

// waitInput waits, alone, for the pump's result or the network's, until the deadline if there
// is one, or an interrupt.
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
	if c.replaying() && !c.replayWait() {
		return
	}
	select {
	case r := <-c.in.results:
		c.deliver(r)
	case <-c.net.note:
		c.polls++
		c.pollNet()
	case <-timeout:
	case <-c.stopped:
	case <-c.pauses:
	}
}

// replayWait is an idle wait for the network in a replay of the host log, which says what came
// and at which poll: the polls that brought nothing are skipped. It reports whether the wait
// goes on live: the log has nothing more, and the run waited here when it was furthest.
func (c *cpu) replayWait() (live bool) {
	l := &c.hlog
	switch {
	case l.pos == len(l.entries):
		c.polls = max(c.polls, l.frontier)
		return true
	case l.entries[l.pos].what == "done":
		c.polls = max(c.polls, l.entries[l.pos].poll-1)
		c.polls++
		c.pollNet()
	default:
		// Nothing but the network could wake a thread, and the log says that the host was
		// asked for something first: the run went another way.
		c.finish(l.diverge("done"))
	}
	return false
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
	if c.recheck {
		c.recheck = false
		next, err := c.checkpointOn(t)
		if err != nil {
			return err
		}
		t = next
		c.slice()
	}
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
		c.pollHost(p)
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

// errStopped is how the loop learns that the run is over, or that its process was killed.
var errStopped = errors.New("stopped")
