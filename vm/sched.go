package vm

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
	"time"
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

// switchReason says why a thread left the processor, for the trace. It is a number, not a
// string, so that a switch builds no text unless it is traced.
type switchReason uint8

const (
	reasonQuantum switchReason = iota // its budget ran out and another thread was waiting
	reasonYield                       // it called yield
	reasonBlocked                     // it waits for what its wait fields say
	reasonExit                        // it ended
	reasonIdle                        // no thread was running; a sleeper woke
	reasonWoken                       // not a switch: the thread became runnable
	reasonStart                       // the first thread of the run starts
)

// makeRunnable puts t at the tail of its process's run queue.
func (m *Machine) makeRunnable(t *Thread) {
	t.State = Runnable
	t.Proc.runq.push(t)
}

// block parks t: it waits for kind, on what.
func (m *Machine) block(t *Thread, kind waitKind, on uint64) {
	t.State = Blocked
	t.wait = kind
	t.waitOn = on
	if m.opts.Stats {
		// Only when asked for: reading the host's clock costs more than the rest of a switch.
		t.blockedAt = m.now()
	}
}

// wake makes a blocked thread runnable again.
func (m *Machine) wake(t *Thread) {
	if m.opts.Stats {
		t.BlockedNs += m.now() - t.blockedAt
	}
	if m.tracer != nil {
		m.tracer.event(m, t, nil, reasonWoken)
	}
	t.wait = waitNone
	m.makeRunnable(t)
}

// switchFrom gives the processor to the next runnable thread of t's process, t having blocked,
// yielded or ended for the reason given. It returns nil when no thread can run.
func (m *Machine) switchFrom(t *Thread, reason switchReason) *Thread {
	next := m.pick(t.Proc)
	if m.tracer != nil {
		m.tracer.event(m, t, next, reason)
	}
	return next
}

// pick takes the next thread off p's run queue to run it, or returns nil.
func (m *Machine) pick(p *Process) *Thread {
	next := p.runq.pop()
	if next != nil {
		next.State = Running
		next.Switches++
		m.switches++
	}
	return next
}

// checkpoint is the slow path of a check point: it retires the steps of the slice that ended,
// decides whether the run goes on, wakes the sleepers whose time has come, and preempts t if
// another thread is waiting to run.
func (m *Machine) checkpoint(t *Thread, budget int64) (*Thread, error) {
	m.retire(t, budget)
	if m.interrupt.Load() {
		if why, _ := m.why.Load().(string); why == "timeout" {
			return nil, &LimitError{Limit: "time", Value: uint64(m.opts.Timeout), Steps: m.steps, Where: m.where(t, t.PC)}
		}
		return nil, &InterruptError{Steps: m.steps, Where: m.where(t, t.PC)}
	}
	if m.opts.MaxSteps > 0 && m.steps >= m.opts.MaxSteps {
		return nil, &LimitError{Limit: "steps", Value: m.opts.MaxSteps, Steps: m.steps, Where: m.where(t, t.PC)}
	}
	if len(m.timers) > 0 {
		m.wakeSleepers()
	}
	p := t.Proc
	if p.runq.n == 0 {
		return t, nil
	}
	m.makeRunnable(t)
	return m.switchFrom(t, reasonQuantum), nil
}

// retire adds the instructions of the current slice, which has budget left, to the counts of
// the machine and of t.
func (m *Machine) retire(t *Thread, budget int64) {
	used := uint64(m.sliceStart - budget)
	m.steps += used
	t.Steps += used
	m.sliceStart = budget
}

// slice returns the budget of the next run of the loop: a quantum, or what is left of the step
// limit if that is less. The loop counts the budget down; retire counts what it used.
func (m *Machine) slice() int64 {
	q := m.opts.Quantum
	if m.rng != nil {
		q = 1 + m.rng.Int64N(q)
	}
	if m.opts.MaxSteps > 0 {
		if left := m.opts.MaxSteps - min(m.steps, m.opts.MaxSteps); left < uint64(q) {
			q = int64(left)
		}
	}
	m.sliceStart = q
	return q
}

// schedule runs process p until it exits or fails: it runs threads with exec, and when none can
// run it advances the clock to the next sleeper or reports a deadlock.
func (m *Machine) schedule(p *Process) error {
	// The random policy needs a loop that can stop at any instruction; round robin does not.
	run := m.exec
	if m.rng != nil {
		run = m.execStep
	}
	t := m.pick(p)
	if m.tracer != nil {
		m.tracer.event(m, nil, t, reasonStart)
	}
	for {
		if err := run(t); err != nil || p.exited {
			return err
		}
		// No thread can run.
		for p.runq.n == 0 {
			if len(m.timers) == 0 {
				return m.deadlock(p)
			}
			m.sleepUntil(m.timers[0].waitOn)
			m.wakeSleepers()
		}
		t = m.pick(p)
		if m.tracer != nil {
			m.tracer.event(m, nil, t, reasonIdle)
		}
	}
}

// now returns the clock: nanoseconds since the run began, real or virtual.
func (m *Machine) now() int64 {
	if m.virtual {
		// One instruction takes a nanosecond, and idle time is skipped over.
		return int64(m.steps) + m.skipped
	}
	return int64(time.Since(m.start))
}

// sleepUntil waits for the clock to reach deadline: on the virtual clock it jumps there.
func (m *Machine) sleepUntil(deadline uint64) {
	if d := int64(deadline) - m.now(); d > 0 {
		if m.virtual {
			m.skipped += d
		} else {
			time.Sleep(time.Duration(d))
		}
	}
}

// sleep parks t for ms milliseconds.
func (m *Machine) sleep(t *Thread, ms uint64) {
	d := min(ms, 1<<40) * uint64(time.Millisecond)
	m.block(t, waitSleep, uint64(m.now())+d)
	m.timerSeq++
	heap.Push(&m.timers, timer{t, m.timerSeq})
}

// wakeSleepers wakes every sleeper whose deadline has passed, earliest first.
func (m *Machine) wakeSleepers() {
	now := uint64(m.now())
	for len(m.timers) > 0 && m.timers[0].waitOn <= now {
		tm := heap.Pop(&m.timers).(timer)
		m.wake(tm.Thread)
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
	Threads []BlockedThread
}

// BlockedThread describes one thread of a deadlock.
type BlockedThread struct {
	Waits string // what it waits for, such as "thread_join of thread 2"
	Where
}

func (e *DeadlockError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deadlock: all %d threads are blocked, and no timer or input can wake any of them", len(e.Threads))
	for _, t := range e.Threads {
		fmt.Fprintf(&b, "\n  thread %d waits for %s\n    at %#08x: %s", t.Thread, t.Waits, t.PC, t.Instr)
		if t.File != "" {
			fmt.Fprintf(&b, "\n    %s:%d", t.File, t.Line)
			if t.Text != "" {
				fmt.Fprintf(&b, ": %s", strings.TrimSpace(t.Text))
			}
		}
	}
	return b.String()
}

func (m *Machine) deadlock(p *Process) error {
	e := &DeadlockError{}
	for _, t := range p.threads {
		if t == nil || t.State != Blocked {
			continue
		}
		// The thread's pc is past its syscall; the report names the syscall.
		e.Threads = append(e.Threads, BlockedThread{Waits: t.waitString(), Where: m.where(t, t.PC-1)})
	}
	sort.Slice(e.Threads, func(i, j int) bool { return e.Threads[i].Thread < e.Threads[j].Thread })
	return e
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
	}
	return "nothing"
}

// limit builds the LimitError of a limit reached by thread t in a syscall.
func (m *Machine) limit(t *Thread, what string, value uint64, detail string) error {
	return &LimitError{Limit: what, Value: value, Detail: detail, Steps: m.steps, Where: m.where(t, t.PC-1)}
}
