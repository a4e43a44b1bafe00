package vm

import (
	"bufio"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spindle-vm/spindle/isa"
)

// A kernel is what the virtual processors share: the options, the process table, the pipes
// and the host's streams, the lock, the flags that stop the run, the clock's start, the
// observers and the processors themselves, which steal from each other's ready queues. Each cpu
// embeds it, so that the loop reaches c.opts or c.interrupt through one pointer, as it did when
// it embedded the Machine; what only the API uses (Resume's state, the breakpoints, the
// snapshots) is the Machine's, out of a processor's reach. The services (syscall.go) and the
// process lifecycle (lifecycle.go) are methods of cpu, since each runs on one processor, for a
// thread of its process, and may block it; what they share is here.
//
// With several processors, the kernel lock guards what is here but the atomics and what is set
// once in Load; with one, nothing runs concurrently with the loop, and no lock is taken.
type kernel struct {
	opts Options
	cpus []*cpu // the processors, which steal from each other's ready queues

	// proc is the first process, the program the run was asked for: its end is the run's
	// (endProcess), which makes it the kernel's; Machine.Process gives it to the API.
	proc *Process

	// interrupt is set from other goroutines (Ctrl-C, a timeout) and read by the loop only at
	// its check points; why says which, for the error.
	interrupt atomic.Bool
	why       atomic.Int32 // a stopCause

	threadCount atomic.Int64 // threads alive, in all processes
	code        []isa.Instr  // the program's text and sentinels, shared by the processes made from it
	reserved    int          // processes' memory reserved as address space and not yet given back (see reserve)

	// The kernel's shared state: the process table, the processes ready to run, and the host's
	// streams.
	procs      []*Process   // the process table: the processes alive or not yet reaped, by increasing id
	lastPid    int          // the id of the last process made
	zombies    int          // processes in the table that have ended and are not yet reaped (see reap)
	readyCount atomic.Int64 // processes in the processors' ready queues; read without the lock
	idle       int          // processors waiting for work

	// mu is the kernel lock; it is taken only when there are several processors (multi).
	// work wakes idle processors. done and err say that the run is over, and how.
	stopped   chan struct{} // closed by stop
	pauses    chan struct{} // Pause's wake-up of an idle processor (buffered: one is enough)
	stopOnce  sync.Once
	mu        sync.Mutex
	multi     bool
	work      *sync.Cond
	done      atomic.Bool // read by processors at check points, without the lock
	err       error
	published atomic.Uint64 // the processors' steps, as of their last check points
	pipes     int
	in        *input
	net       *network
	// hostEvents says, in one word that a check point reads without the lock, whether the
	// host may have something for the processors: the input pump is reading (hostReading),
	// network operations have completed (hostNetDone), or the host log is replayed
	// (hostReplay). One load tests them all at every check point, which a switch passes
	// through.
	hostEvents atomic.Uint32
	hlog       hostLog // what the host gave, for a restored machine to replay (hostlog.go)
	stdout     *bufio.Writer
	stderr     *bufio.Writer
	written    [2]counter // the bytes that have gone from stdout and stderr to the host

	start   time.Time
	virtual bool

	obs     []observer // told of every event (see observe.go)
	lastObs uint64     // the id of the last observer attached
}

// The bits of kernel.hostEvents.
const (
	hostReading uint32 = 1 << iota // the input pump is reading: its result will come
	hostNetDone                    // completions of network operations wait in network.done
	hostReplay                     // the host log is replayed: completions may be due (hostlog.go)
)

// lock takes the kernel lock, which guards what processes share: the process table, the ready
// queues, pipes, descriptors and the host's streams. With one processor there is nothing to
// guard against, and it costs nothing.
func (k *kernel) lock() {
	if k.multi {
		k.mu.Lock()
	}
}

func (k *kernel) unlock() {
	if k.multi {
		k.mu.Unlock()
	}
}

// unpause takes a pause that is due (see Machine.Pause), and reports whether there was one: the stop
// is made where it is taken, and the run goes on at the next Resume.
func (k *kernel) unpause() bool {
	if !k.why.CompareAndSwap(int32(stopPause), int32(stopNone)) {
		return false
	}
	k.interrupt.Store(false)
	if k.why.Load() != int32(stopNone) {
		k.interrupt.Store(true) // an Interrupt came in between
	}
	select {
	case <-k.pauses:
	default:
	}
	return true
}

// pausing reports whether a pause is due.
func (k *kernel) pausing() bool { return stopCause(k.why.Load()) == stopPause }

// stopCause is why a stop came from outside the loop.
type stopCause int32

const (
	stopNone stopCause = iota
	stopInterrupt
	stopTimeout
	stopPause // not a stop of the run: see Machine.Pause
)

func (k *kernel) stop(why stopCause) {
	// The first stop of the run says why; one replaces a pause that is due.
	for old := k.why.Load(); old == int32(stopNone) || old == int32(stopPause); old = k.why.Load() {
		if k.why.CompareAndSwap(old, int32(why)) {
			break
		}
	}
	k.interrupt.Store(true)
	k.stopOnce.Do(func() { close(k.stopped) })
	if k.multi {
		// Idle processors wait on k.work; the broadcast must come under the kernel lock, so
		// that none misses it between its look at the flag and its wait. The lock may be held
		// by a processor stuck in a write to a full pipe, so the broadcast waits for it on a
		// goroutine of its own: the caller (a signal handler, a timer) must not wait.
		go func() {
			k.mu.Lock()
			k.work.Broadcast()
			k.mu.Unlock()
		}()
	}
}
