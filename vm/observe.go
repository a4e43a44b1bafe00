package vm

import (
	"strconv"
	"time"

	"github.com/spindle-vm/spindle/isa"
)

// Observers. Where something that a trace, the statistics or a debugger may want to see
// happens (a context switch, a wake-up, a block, a syscall, a check point, a thread or a
// process made or gone, the end of the run), the machine tests one thing, whether any
// observer is attached, and only then builds an Event and gives it to each. The trace of
// Options.Trace and the statistics of Options.Stats are two observers; an embedder attaches
// its own with Machine.Attach.
//
// With none attached, the loop does no work for them: the events of the loop's own path (a
// syscall, the slow path of a check point) cost a load and a branch not taken, and those of
// the scheduler the same, on paths that already do far more. The hand-off of chan_sendrecv
// (see handoff) skips the run queue, and with it the wake-up, the block and the switch that
// the general path reports, so it is taken only when no observer is attached.

// An Observer is told of the events of a run as they happen, by Observe.
//
// Observe is called on the goroutine of the processor where the event happened, and with
// several processors, from several at once; it may be called with the kernel lock held. So
// it must be safe for concurrent use when Options.CPUs is more than one, it must not block
// for long, and it must not call the Machine's methods, none of which may be called while the
// machine runs. It may read the Thread and the Process of the event, which hold still while it
// runs, and it must not change them.
//
// An observer that buffers what it writes may also have a method Flush() error: the machine
// calls it once the run is over, after the EventEnd events, and returns its error from Run or
// Resume if the run had none, as it does for an error writing the program's output.
type Observer interface {
	Observe(e Event)
}

// ObserverFunc makes a function an Observer.
type ObserverFunc func(e Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// An Event is something that happened in a run, on one processor at one instant.
type Event struct {
	Kind  EventKind
	CPU   int           // the processor where it happened
	Steps uint64        // the instructions that processor has executed
	Clock time.Duration // the run's clock: with Options.VirtualClock, one nanosecond an instruction

	// Thread is the thread it happened to: for EventSwitch, the thread that left the
	// processor, or nil if none was running.
	Thread *Thread
	// To is, for EventSwitch, the thread that came onto the processor, or nil if none can run.
	To      *Thread
	Reason  SwitchReason // for EventSwitch
	Syscall isa.Syscall  // for EventSyscall
	Proc    *Process     // for EventProcessStart and EventProcessEnd
	Status  int64        // for EventProcessEnd: its exit status
	Err     error        // for EventEnd: how the run ended, nil when its first process exited
}

// Why says why a switch was made, as --trace-sched says it: its reason, and for a thread that
// blocked, what it waits for ("blocked: thread_join of thread 3"); for a wake-up, what the
// thread had waited for. Call it from the observer: what a thread waits for changes as the run
// goes on.
func (e Event) Why() string {
	switch {
	case e.Kind == EventWake && e.Thread != nil:
		return e.Thread.waitString()
	case e.Reason == SwitchBlocked && e.Thread != nil:
		return "blocked: " + e.Thread.waitString()
	}
	return e.Reason.String()
}

// EventKind says what an Event is.
type EventKind uint8

const (
	// EventSwitch: a context switch. Thread left the processor and To came on, for Reason.
	// Every time a thread is switched in (Thread.Switches counts them) is a switch with it as
	// To; the switches with To nil leave the processor idle, or to another process.
	EventSwitch EventKind = iota + 1
	// EventWake: Thread, which was blocked, became runnable. Thread.Waits still says what it
	// waited for.
	EventWake
	// EventBlock: Thread blocked; Thread.Waits says what it waits for. An EventSwitch away
	// from it follows.
	EventBlock
	// EventSyscall: Thread is at a syscall, about to carry out service Syscall.
	EventSyscall
	// EventCheckpoint: Thread is at the slow path of a check point, its slice's budget spent:
	// where the run may be preempted, stopped or interrupted, and sleepers are woken.
	EventCheckpoint
	// EventThreadStart: Thread was made, by thread_spawn or as the first thread of its process.
	EventThreadStart
	// EventThreadFreed: Thread has ended, and the machine forgets it: it was joined, or its
	// process ended. Its Steps, Switches and BlockedNs are final. The threads not freed by
	// the end of the run are still in the process table.
	EventThreadFreed
	// EventProcessStart: Proc was made. The EventThreadStart of its first thread follows.
	EventProcessStart
	// EventProcessEnd: Proc ended, with Status.
	EventProcessEnd
	// EventEnd: the run is over, as Err says. It comes once for each processor, in order.
	EventEnd
)

func (k EventKind) String() string {
	names := [...]string{"switch", "wake", "block", "syscall", "checkpoint", "thread start",
		"thread freed", "process start", "process end", "end"}
	if k < EventSwitch || int(k) > len(names) {
		return "event " + strconv.Itoa(int(k))
	}
	return names[k-1]
}

// SwitchReason says why a thread left the processor. It is a number, not a string, so that a
// switch builds no text unless an observer asks for one.
type SwitchReason uint8

const (
	SwitchQuantum  SwitchReason = iota + 1 // its budget ran out and another thread, or another process, was waiting
	SwitchYield                            // it called yield
	SwitchBlocked                          // it blocked: Thread.Waits says on what
	SwitchExit                             // it ended
	SwitchIdle                             // no thread was running; a sleeper woke, or another processor woke a thread
	SwitchStart                            // a process comes onto a processor, with a thread that has not run yet
	SwitchResume                           // a process comes onto a processor, with a thread that has run before
	SwitchProcExit                         // its process ended: it called exit, or its process's last thread ended
	SwitchTrap                             // it trapped, which ends its process
	SwitchKilled                           // its process was killed
)

func (r SwitchReason) String() string {
	names := [...]string{"quantum", "yield", "blocked", "exit", "idle", "start", "resume",
		"process exit", "trap", "killed"}
	if r < SwitchQuantum || int(r) > len(names) {
		return "reason " + strconv.Itoa(int(r))
	}
	return names[r-1]
}

// Attach adds o to the machine's observers: it is told of every event from then on. It may be
// called after Load, between Resumes and after the run; not while the machine runs. The
// observers are told in the order they were attached, those of Options.Trace and
// Options.Stats first. detach takes o off again, under the same rule.
//
// A machine with observers can be snapshotted (unless Options.Trace or Options.Stats is
// set). The observers are no part of its state: after a Restore they are told of what the
// run does from the snapshot's state on, again.
func (m *Machine) Attach(o Observer) (detach func()) {
	m.lastObs++
	id := m.lastObs
	m.obs = append(m.obs, observer{o, id})
	return func() {
		for i, a := range m.obs {
			if a.id == id {
				m.obs = append(m.obs[:i:i], m.obs[i+1:]...)
				return
			}
		}
	}
}

// An observer is one attached to the machine; id tells it apart for its detach, since an
// Observer may be a value that cannot be compared, such as an ObserverFunc.
type observer struct {
	Observer
	id uint64
}

// observed reports whether any observer is attached: the one test where an event happens.
func (k *kernel) observed() bool { return len(k.obs) != 0 }

// observe tells every observer of e, which happened on processor c. The caller has tested
// c.observed(), so that a run without observers builds no Event.
//
// The places that report an event while the run goes on call observeSwitch, observeThread,
// observeSyscall or observeProcess, which build the Event out of line: each such place passes
// two or three words where an Event takes a dozen, so that it adds no more than a test and a
// call to the code around it, which includes what the linker puts before exec. With the Event
// built at each place, kernel.go grew by 288 bytes, which moved exec, its code unchanged, to
// 32 bytes past a cache line in vm's test binary: BenchmarkLoop, Sieve and Fib ran 10 to 25%
// slower, and as fast as before with 32 bytes of padding put before exec (five interleaved
// runs). docs/design.md tells why the loop depends on where it is.
func (c *cpu) observe(e Event) {
	e.CPU, e.Steps, e.Clock = c.id, c.steps, time.Duration(c.now())
	for _, o := range c.obs {
		o.Observe(e)
	}
}

// observeSwitch reports a switch from thread from to thread to, either of which may be nil.
//
//go:noinline
func (c *cpu) observeSwitch(from, to *Thread, why SwitchReason) {
	c.observe(Event{Kind: EventSwitch, Thread: from, To: to, Reason: why})
}

// observeThread reports an event of kind k that happened to thread t.
//
//go:noinline
func (c *cpu) observeThread(k EventKind, t *Thread) {
	c.observe(Event{Kind: k, Thread: t})
}

// observeSyscall reports that thread t is about to carry out service n. (A profile may inline
// syscall, where this is called from, into the loop.)
//
//go:noinline
func (c *cpu) observeSyscall(t *Thread, n isa.Syscall) {
	c.observe(Event{Kind: EventSyscall, Thread: t, Syscall: n})
}

// observeProcess reports an event of kind k that happened to process p: for EventProcessEnd,
// with status.
//
//go:noinline
func (c *cpu) observeProcess(k EventKind, p *Process, status int64) {
	c.observe(Event{Kind: k, Proc: p, Status: status})
}

// running returns the thread of p that is on the processor, or nil if none is, for an
// EventSwitch of a process that ends while it runs (a trap, a kill).
func (p *Process) running() *Thread {
	for _, t := range p.threads {
		if t.State == Running && !t.dropped {
			return t
		}
	}
	return nil
}

// Waits says what a blocked thread waits for, in the words of a deadlock report, such as
// "thread_join of thread 2"; it says "nothing" of a thread that is not blocked. An observer
// may call it; otherwise it is for a machine that holds still, as Machine.ThreadInfo is.
func (t *Thread) Waits() string { return t.waitString() }

// processStarted tells the observers of process p, just made, and of its first thread.
func (c *cpu) processStarted(p *Process) {
	c.observeProcess(EventProcessStart, p, 0)
	c.observeThread(EventThreadStart, p.threads[0])
}

// observeEnding tells the observers that the thread of p on the processor, if one is, left it
// for why and that none followed it: its process ends.
func (c *cpu) observeEnding(p *Process, why SwitchReason) {
	if t := p.running(); t != nil {
		c.observeSwitch(t, nil, why)
	}
}
