package vm

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spindle-vm/spindle/isa"
)

// The scheduler lives inside the interpreter loop. A thread runs until it blocks, yields, ends
// or uses up its budget at a check point; then the loop saves its pc, takes the next thread
// from the process's run queue, points r at that thread's registers and goes on. Nothing in a
// switch touches the Go runtime: the run queue and the wait queues are lists linked through
// the threads themselves.
//
// When no thread of the process can run, exec returns to run, which advances the clock to the
// next timer (or waits for it, on the real clock) and wakes the sleepers. If there is no timer
// either, no thread can ever run again: that is a deadlock, and the run stops with a report of
// what each thread waits for.

// makeRunnable puts t at the tail of its process's run queue.
func (c *cpu) makeRunnable(t *Thread) {
	t.State = Runnable
	t.Proc.runq.push(t)
}

// block parks t: it waits for kind, on what.
func (c *cpu) block(t *Thread, kind waitKind, on uint64) {
	t.State = Blocked
	t.wait = kind
	t.waitOn = on
	if c.observed() {
		// An event reads the host's clock, which costs more than the rest of a switch.
		c.observeThread(EventBlock, t)
	}
}

// wake makes a blocked thread runnable again.
func (c *cpu) wake(t *Thread) {
	if c.observed() {
		c.observeThread(EventWake, t)
	}
	t.wait = waitNone
	c.makeRunnable(t)
}

// switchFrom gives the processor to the next runnable thread of t's process, t having blocked,
// yielded or ended for the reason given. It returns nil when no thread can run.
func (c *cpu) switchFrom(t *Thread, reason SwitchReason) *Thread {
	next := c.pick(t.Proc)
	if c.observed() {
		c.observeSwitch(t, next, reason)
	}
	return next
}

// pick takes the next thread off p's run queue to run it, or returns nil: the focused thread,
// if it is there (see Focus).
func (c *cpu) pick(p *Process) *Thread {
	var next *Thread
	if f := c.focus; f != nil && f.Proc == p && f.State == Runnable && p.runq.remove(f) {
		next = f
	} else {
		next = p.runq.pop()
	}
	if next != nil {
		next.State = Running
		next.Switches++
		c.switches++
		if c.catchSwitch {
			c.forceStop(StopSwitch)
		}
	}
	return next
}

// checkpoint is the slow path of a check point: it retires the steps of the slice that ended,
// decides whether the run goes on, wakes the sleepers whose time has come, and preempts t if
// another thread is waiting to run.
func (c *cpu) checkpoint(t *Thread, budget int64) (*Thread, error) {
	c.retire(t, budget)
	if c.observed() {
		c.observeThread(EventCheckpoint, t)
	}
	return c.checkpointOn(t)
}

// checkpointOn is a check point once its steps are retired and observed: the run stops here, or
// goes on with the host's news, the sleepers woken and maybe another thread. A check point that
// a pause cut short goes on here when the run does (see runProcess).
func (c *cpu) checkpointOn(t *Thread) (*Thread, error) {
	if c.interrupt.Load() || t.Proc.killed.Load() {
		if !t.Proc.killed.Load() && c.unpause() {
			// The rest of the check point (the host's news, a switch) is made when the run
			// goes on, before any instruction (see runProcess): where it falls must not
			// depend on whether the run was paused here.
			c.recheck = true
			return nil, c.pause(t, StopInterrupted)
		}
		return nil, c.stopError(t)
	}
	if err := c.publish(t); err != nil {
		return nil, err
	}
	c.pollHost(t.Proc)
	if len(t.Proc.timers) > 0 {
		c.wakeSleepers(t.Proc)
	}
	p := t.Proc
	if f := c.focus; f != nil {
		switch {
		case t == f:
			return t, nil // it runs on, alone, while the others hold still
		case f.Proc == p && f.State == Runnable:
			c.makeRunnable(t)
			return c.switchFrom(t, SwitchQuantum), nil
		case f.Proc != p && f.Proc.state == procReady:
			c.makeRunnable(t)
			return nil, errYieldProcess
		}
		// The focused thread is blocked: the others run, so that it can go on.
	}
	if c.procSlices++; c.procSlices >= procQuantum && c.readyCount.Load() > 0 {
		// Another process waits: this one has had its turn on the processor.
		c.makeRunnable(t)
		if c.observed() {
			c.observeSwitch(t, nil, SwitchQuantum)
		}
		return nil, errYieldProcess
	}
	if p.runq.n == 0 {
		return t, nil
	}
	c.makeRunnable(t)
	return c.switchFrom(t, SwitchQuantum), nil
}

// pollHost is the poll of a check point, or of a process none of whose threads can run: the
// input, the network and the threads that other processors woke for p. It is counted, since a
// replay of the host log applies the network's news at the poll it came at (see hostlog.go).
func (c *cpu) pollHost(p *Process) {
	c.polls++
	if p.hasInbox.Load() || c.hostEvents.Load() != 0 {
		c.lock()
		c.pollInput()
		c.pollNet()
		c.drainInbox(p)
		c.unlock()
	}
}

// idleCheckpoint is the check point of a process none of whose threads could run, and some of
// which have woken since: exec, with no thread to run, could not reach its own. Without it, a
// program whose threads block at least once a slice (a loop of sleep 0, or of reads from a
// pipe) would never be stopped, killed or preempted. A report names the thread that runs next.
func (c *cpu) idleCheckpoint(p *Process) error {
	next := p.runq.head
	if c.interrupt.Load() && !c.pausing() || p.killed.Load() {
		// (A pause waits for the check point of the thread that runs.)
		return c.stopError(next)
	}
	if c.sliceStart > 0 {
		return nil
	}
	if err := c.publish(next); err != nil {
		return err
	}
	if c.procSlices++; c.procSlices >= procQuantum && c.readyCount.Load() > 0 {
		return errYieldProcess
	}
	c.slice()
	return nil
}

// publish adds the steps this processor has retired to the machine's count, which other
// processors' steps are in too, and stops the run at the step limit, naming t.
func (c *cpu) publish(t *Thread) error {
	total := c.published.Add(c.steps - c.unpublished)
	c.unpublished = c.steps
	if c.opts.MaxSteps > 0 && total >= c.opts.MaxSteps {
		return &LimitError{Limit: LimitSteps, Value: c.opts.MaxSteps, Steps: total, Where: c.where(t, t.PC)}
	}
	return nil
}

// stopError is the error with which a processor stops, t being its thread or nil: the run is
// over, its process was killed, or an interrupt or a timeout came.
func (c *cpu) stopError(t *Thread) error {
	if c.done.Load() || t != nil && t.Proc.killed.Load() {
		return errStopped
	}
	steps := c.published.Load()
	var w Where
	if t != nil {
		w = c.where(t, t.PC)
	} else if t = c.firstWaiting(); t != nil {
		// No thread runs: the report says where the first one waits.
		w = c.where(t, t.waitPC())
	}
	if stopCause(c.why.Load()) == stopTimeout {
		return &LimitError{Limit: LimitTime, Value: uint64(c.opts.Timeout), Steps: steps, Where: w}
	}
	return &InterruptError{Steps: steps, Where: w}
}

// toStepping is how the loop hands thread t over to execStep when the step limit is near (see
// slice): exec notices the budget only at check points, and would run past the limit by the
// straight-line instructions up to the next one; execStep stops at the limit exactly. t.PC is
// saved, and the new slice not begun.
func (c *cpu) toStepping(t *Thread) error {
	c.resume = t
	return errStepping
}

// errStepping is how exec tells runProcess to go on with execStep (see toStepping).
var errStepping = errors.New("stepping")

// retire adds the instructions of the current slice, which has budget left, to the counts of
// the machine and of t.
func (c *cpu) retire(t *Thread, budget int64) {
	used := uint64(c.sliceStart - budget)
	c.steps += used
	t.Steps += used
	c.sliceStart = budget
}

// slice begins the next slice and returns its budget: a quantum, or with the random policy a
// random part of one. The loop counts the budget down, and carries what is left of it from one
// thread and one process to the next; retire counts what it used. Stops at a step (the step
// limit, or one that Resume asked for) do not shorten a slice, so that where the check points
// fall, and with them every switch, does not depend on where a run stops: execStep stops at
// its edge instead (see setEdge).
func (c *cpu) slice() int64 {
	q := c.opts.Quantum
	if c.rng != nil {
		q = 1 + c.rng.Int64N(q)
	}
	c.sliceStart = q
	c.setEdge()
	return q
}

// carried returns what is left of the current slice's budget, for exec to go on with.
//
// It is a call, not a read of the field in exec, for the sake of exec's registers: with the
// field read inline, the compiler allocated exec's registers otherwise, and BenchmarkLoop,
// BenchmarkFib and BenchmarkPingpong ran 5 to 12% slower (eight interleaved runs each on one
// core); the call, once a slice, costs nothing measurable.
//
//go:noinline
func (c *cpu) carried() int64 { return c.sliceStart }

// stepsLeft returns how many steps are left before the next stop at a step: the step limit's,
// as far as this processor knows, or the one Resume asked for; ok is false if there is none.
func (c *cpu) stepsLeft() (n uint64, ok bool) {
	done := c.published.Load() + c.steps - c.unpublished
	if c.opts.MaxSteps > 0 {
		n, ok = c.opts.MaxSteps-min(done, c.opts.MaxSteps), true
	}
	if c.target > 0 {
		left := c.target - min(c.steps, c.target)
		if !ok || left < n {
			n, ok = left, true
		}
	}
	return n, ok
}

// setEdge works out, for the current slice, the budget at which execStep must stop before the
// next instruction (the edge), and whether exec must hand over to execStep (exact).
//
// exec notices its budget only at check points, so it may run past a stop by a straight run of
// code, which is at most the whole text of the process on the processor: when a stop is nearer
// than the budget and that, execStep takes over, and stops at it exactly. The random policy
// preempts at the exact end of its quanta, so it always runs execStep, with an edge of 0 at
// least. A stop that is due at once (see forceStop) puts the edge above any budget.
func (c *cpu) setEdge() {
	c.edge = math.MinInt64
	c.exact = c.rng != nil || c.stepping
	if c.rng != nil {
		c.edge = 0
	}
	if n, ok := c.stepsLeft(); ok {
		c.edge = max(c.edge, c.sliceStart-int64(min(n, math.MaxInt32)))
		codeLen := uint64(maxCode)
		if c.cur != nil {
			codeLen = uint64(len(c.cur.code))
		}
		if n < uint64(max(c.sliceStart, 0))+codeLen {
			c.exact = true
		}
	}
	if c.watches != nil {
		// Watchpoints are looked at before every instruction: the edge is one instruction on.
		c.edge = max(c.edge, c.sliceStart-1)
		c.exact = true
	}
	if c.pending != 0 {
		c.edge = math.MaxInt64
		c.exact = true
	}
}

// maxCode bounds the length of a straight run of code when the process is not known yet.
const maxCode = math.MaxInt32

// forceStop makes execStep stop before the thread's next instruction, for the reason given.
// It returns the new edge.
func (c *cpu) forceStop(why StopKind) int64 {
	if c.pending == 0 {
		c.pending = why
	}
	c.setEdge()
	return c.edge
}

// returned is how a ret that Resume waits for (Until.Return) stops execStep after it.
// The stop is the returning thread's, even when a check point right after the ret gives the
// processor to another.
func (c *cpu) returned() int64 {
	c.stopThread, c.returnOf = c.returnOf, nil
	return c.forceStop(StopReturn)
}

// edgeReached is where execStep goes when its budget reaches the edge, before thread t's next
// instruction: it stops the run there if a stop is due, and otherwise it is the check point
// at the exact end of a random quantum.
func (c *cpu) edgeReached(t *Thread, budget int64) (*Thread, error) {
	c.retire(t, budget)
	if c.pending != 0 {
		return nil, c.pause(t, c.pending)
	}
	if c.opts.MaxSteps > 0 {
		if err := c.publish(t); err != nil {
			return nil, err
		}
	}
	if c.watches != nil {
		writer := c.lastThread
		c.lastThread = t
		if c.watchHit() {
			c.stopThread = writer
			return nil, c.pause(t, StopWatchpoint)
		}
	}
	if c.target > 0 && c.steps >= c.target {
		return nil, c.pause(t, StopSteps)
	}
	if c.rng != nil && budget <= 0 {
		next, err := c.checkpoint(t, budget)
		if err == nil {
			c.slice()
		}
		return next, err
	}
	c.setEdge()
	return t, nil
}

// pause stops the processor before thread t's next instruction, for Resume to return: the
// run can go on from there as if it had not stopped.
func (c *cpu) pause(t *Thread, why StopKind) error {
	c.paused = t
	if c.stopThread == nil {
		c.stopThread = t
	}
	c.stopKind = why
	c.pending = 0
	return errPause
}

// errPause is how the loop tells Resume that it stopped where it was asked to (see pause).
var errPause = errors.New("pause")

// stopBefore is how the loop stops before the instruction at pc, which it has begun and
// counted: at a breakpoint, or a syscall that Resume stops at.
func (c *cpu) stopBefore(t *Thread, pc int, budget int64, why StopKind) error {
	if preempt {
		budget++
	}
	c.leave(t, pc, budget, nil)
	return c.pause(t, why)
}

// ebreak stops the run after the ebreak at pc, which a debugger's run executes as an
// instruction (Options.EbreakGoesOn): the thread goes on from the next one.
func (c *cpu) ebreak(t *Thread, pc int, budget int64) error {
	c.leave(t, pc+1, budget, nil)
	c.ebreakHit = c.trap(t, pc, isa.TrapBreakpoint, "").(*TrapError)
	return c.pause(t, StopBreakpoint)
}

// now returns the clock: nanoseconds since the run began, real or virtual.
func (c *cpu) now() int64 {
	if c.virtual {
		// One instruction takes a nanosecond, and idle time is skipped over.
		return int64(c.steps) + c.skipped
	}
	return int64(time.Since(c.start))
}

// sleepUntil waits for the clock to reach deadline, or for an interrupt: on the virtual clock
// it jumps there.
func (c *cpu) sleepUntil(deadline uint64) {
	for !c.interrupt.Load() {
		d := int64(deadline) - c.now()
		if d <= 0 {
			return
		}
		if c.virtual {
			c.skipped += d
			return
		}
		// In short naps, so that Ctrl-C is not kept waiting.
		time.Sleep(min(time.Duration(d), 50*time.Millisecond))
	}
}

// maxSleep and maxClock bound sleeps and the clock: a sleep of at most 2^40 ms (35 years), and
// a deadline of at most 2^62 ns (146 years), so that the clock, which a virtual one advances
// by each deadline it jumps to, never wraps to negative time however many sleeps a program
// takes.
const (
	maxSleep = 1 << 40
	maxClock = 1 << 62
)

// sleep parks t for ms milliseconds.
func (c *cpu) sleep(t *Thread, ms uint64) {
	p := t.Proc
	d := min(ms, maxSleep) * uint64(time.Millisecond)
	c.block(t, waitSleep, min(uint64(c.now())+d, maxClock))
	p.timerSeq++
	heap.Push(&p.timers, timer{t, p.timerSeq})
}

// wakeSleepers wakes every sleeper of p whose deadline has passed, earliest first.
func (c *cpu) wakeSleepers(p *Process) {
	now := uint64(c.now())
	for len(p.timers) > 0 && p.timers[0].waitOn <= now {
		tm := heap.Pop(&p.timers).(timer)
		c.wake(tm.Thread)
	}
}

// timers is a min-heap of sleeping threads by deadline; seq breaks ties in the order they fell
// asleep, so that the wake-up order is deterministic.
type timer struct {
	*Thread
	seq uint64
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].waitOn != h[j].waitOn {
		return h[i].waitOn < h[j].waitOn
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// A DeadlockError reports that every thread is blocked and nothing can wake any of them.
type DeadlockError struct {
	Threads []BlockedThread // the first MaxDeadlockReport blocked threads
	Blocked int             // how many threads are blocked in all
}

// MaxDeadlockReport is how many threads a deadlock report describes; a report of a million
// parked threads would bury the few that matter.
const MaxDeadlockReport = 20

// BlockedThread describes one thread of a deadlock, or of a stop.
type BlockedThread struct {
	State ThreadState
	Waits string // what it waits for, if it is blocked, such as "thread_join of thread 2"
	Where
	// Caller is where the function that blocked was called from, when a leaf function blocked
	// (mutex_lock of lib/sync.s, say): the line that matters is the caller's. Zero if unknown.
	Caller Where
}

func (e *DeadlockError) Error() string {
	var b strings.Builder
	if e.Blocked == 1 {
		b.WriteString("deadlock: the only thread is blocked, and no timer or input can wake it")
	} else {
		fmt.Fprintf(&b, "deadlock: all %d threads are blocked, and no timer or input can wake any of them", e.Blocked)
	}
	writeThreads(&b, e.Threads, e.Blocked-len(e.Threads))
	return b.String()
}

// writeThreads lists threads as a report of a deadlock or a stop does, then how many more there
// are that the report leaves out.
func writeThreads(b *strings.Builder, threads []BlockedThread, more int) {
	for _, t := range threads {
		switch t.State {
		case Blocked:
			fmt.Fprintf(b, "\n  thread %d.%d is blocked in %s", t.Proc, t.Thread, t.Waits)
		case Running:
			fmt.Fprintf(b, "\n  thread %d.%d was running", t.Proc, t.Thread)
		default:
			fmt.Fprintf(b, "\n  thread %d.%d is ready to run", t.Proc, t.Thread)
		}
		fmt.Fprintf(b, "\n    at %#08x: %s", t.PC, t.Instr)
		if t.File != "" {
			b.WriteString("\n    " + t.fileLine())
		}
		if t.Caller.File != "" {
			b.WriteString("\n    called from " + t.Caller.fileLine())
		}
	}
	if more > 0 {
		fmt.Fprintf(b, "\n  ... and %d more threads", more)
	}
}

func (c *cpu) deadlock() error {
	e := &DeadlockError{}
	e.Threads, e.Blocked = c.threadReport(func(t *Thread) bool { return t.State == Blocked })
	return e
}

// threadReport describes the threads of the processes alive that keep returns true for, the
// first MaxDeadlockReport of them in order, and returns how many there are in all. The caller
// holds the kernel lock, or the run is over.
func (k *kernel) threadReport(keep func(*Thread) bool) ([]BlockedThread, int) {
	var list []BlockedThread
	n := 0
	for _, p := range k.procs {
		if p.state == procExited {
			continue
		}
		for _, t := range p.threads {
			if t.dropped || !keep(t) {
				continue
			}
			if n++; len(list) == MaxDeadlockReport {
				continue
			}
			list = append(list, k.describe(t))
		}
	}
	return list, n
}

// describe says what thread t waits for, where, and from where its function was called.
func (k *kernel) describe(t *Thread) BlockedThread {
	bt := BlockedThread{State: t.State, Where: k.where(t, t.waitPC())}
	if t.State == Blocked {
		bt.Waits = t.waitString()
		switch t.wait {
		case waitFutex:
			if sym := t.Proc.dataSymbol(t.waitOn); sym != "" {
				bt.Waits += " (" + sym + ")"
			}
		case waitRead, waitWrite:
			if d := t.Proc.fd(t.waitOn); d.pipe != nil {
				bt.Waits += k.pipeEnds(d)
			}
		}
		if pc, ok := t.leafCaller(); ok {
			bt.Caller = k.where(t, pc)
		}
	}
	return bt
}

// pipeEnds says who holds the other ends of the pipe that d is one end of: a reader waits for
// the writers, a writer for the readers. The classic deadlock of pipes is a write end that a
// process forgot to close, so that its reader never sees the end of its input.
func (k *kernel) pipeEnds(d desc) string {
	other := descPipeWrite
	if d.kind == descPipeWrite {
		other = descPipeRead
	}
	var holders []string
	for _, p := range k.procs {
		if p.state == procExited {
			continue
		}
		for fd, e := range p.fds {
			if e.kind == other && e.pipe == d.pipe {
				holders = append(holders, fmt.Sprintf("process %d as descriptor %d", p.ID, fd))
			}
		}
	}
	end := "write end"
	if other == descPipeRead {
		end = "read end"
	}
	if len(holders) == 0 {
		return ""
	}
	return fmt.Sprintf(" (a pipe whose %s is open in %s)", end, strings.Join(holders, ", "))
}

// leafCaller returns the index of the call that a blocked thread's function was called from,
// if the word at its sp is a return address: a code address just after a call, as it is in a
// leaf function that pushed nothing. A function that keeps a frame (enter) has its own words
// there, and the guess fails safe: it is a call only if the word before it is one.
func (t *Thread) leafCaller() (int, bool) {
	p := t.Proc
	sp := t.R[isa.SP]
	if !p.inMem(sp, 8) {
		return 0, false
	}
	return p.callBefore(p.load64(sp))
}

// waitPC returns the index of the instruction where a blocked thread waits: its syscall. Its
// saved pc is past the syscall, unless the syscall restarts when the thread wakes.
func (t *Thread) waitPC() int {
	if t.State != Blocked || t.wait == waitRead || t.wait == waitWrite || t.wait == waitAccept {
		return t.PC
	}
	return t.PC - 1
}

// firstWaiting returns the first thread of the first process alive that is not running, or nil.
// The caller holds the kernel lock.
func (c *cpu) firstWaiting() *Thread {
	for _, p := range c.procs {
		if p.state == procExited {
			continue
		}
		for _, t := range p.threads {
			if t.State == Blocked || t.State == Runnable {
				return t
			}
		}
	}
	return nil
}

// waitString says what a blocked thread waits for.
func (t *Thread) waitString() string {
	switch t.wait {
	case waitJoin:
		return fmt.Sprintf("thread_join of thread %d", t.waitOn)
	case waitSend:
		return fmt.Sprintf("chan_send on channel %d", t.waitOn)
	case waitRecv:
		return fmt.Sprintf("chan_recv on channel %d", t.waitOn)
	case waitFutex:
		return fmt.Sprintf("futex_wait on address %#x", t.waitOn)
	case waitSleep:
		return fmt.Sprintf("sleep until %v", time.Duration(t.waitOn))
	case waitRead:
		return fmt.Sprintf("read from descriptor %d", t.waitOn)
	case waitWrite:
		return fmt.Sprintf("write to descriptor %d", t.waitOn)
	case waitProc:
		return fmt.Sprintf("wait for process %d", t.waitOn)
	case waitAccept:
		return fmt.Sprintf("accept on descriptor %d", t.waitOn)
	case waitConnect:
		return "connect"
	case waitSending:
		return fmt.Sprintf("write to descriptor %d, in flight", t.waitOn)
	}
	return "nothing"
}

// limit builds the LimitError of a limit reached by thread t in a syscall.
func (c *cpu) limit(t *Thread, what Limit, value uint64, detail string) error {
	return &LimitError{Limit: what, Value: value, Detail: detail, Steps: c.steps, Where: c.where(t, t.PC-1)}
}
