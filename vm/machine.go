package vm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Defaults of the Options that are zero.
const (
	DefaultMaxMem    = 1 << 30 // bytes of VM memory per process, kernel objects included
	DefaultMaxProcs  = 16      // processes at once, alive or not yet waited for
	DefaultStackSize = 1 << 20 // bytes of the main thread's stack
	DefaultQuantum   = 10_000  // instructions between check points' slow paths
	MinStackSize     = 256     // bytes: room for the arguments' pointers and a few frames
)

// The largest values of the Options that a run can honour. Load refuses more.
const (
	// MaxCPUs is far more processors than any host this runs on has cores, past which more only
	// take turns on the same ones; each costs the host a goroutine and its queues, and 5,000,000
	// took 1.1 GB and 10 s to print hello.
	MaxCPUs = 256

	// MaxQuantum bounds the time between a processor's looks at the flags that stop a run (a
	// time-out, Ctrl-C, SIGTERM, kill), which it takes when a quantum runs out: at about 1.3 ns
	// an instruction, 10^8 instructions are about a tenth of a second. 10^11 took them away.
	MaxQuantum = 100_000_000

	// MaxMemLimit is more memory than a machine for teaching and testing has, and the most a
	// process's addresses may span. A process's whole limit is reserved as address space when
	// it starts: at 64 GiB the default 16 processes take 1 TiB of the 128 TiB that a 64-bit
	// host gives a process, where 2^62 could not be reserved and ended in Go's fatal
	// out-of-memory error.
	MaxMemLimit = 64 << 30

	// MaxStackSize is the largest main stack: it lies just below isa.DataBase and grows down,
	// and the page at address 0 must stay outside every process's memory, so that a null
	// pointer traps. A stack of 256 MiB would map address 0; a larger one would wrap below it.
	MaxStackSize = isa.DataBase - nullPage
)

// Options configure a run. The zero value is usable: no input, output discarded, default limits.
type Options struct {
	Stdin          io.Reader // descriptor 0; nil reads as empty
	Stdout, Stderr io.Writer // descriptors 1 and 2; nil discards
	Args           []string  // the program's arguments; Args[0] is its name by convention

	MaxSteps  uint64        // instructions before the run stops with a LimitError; 0 means no limit
	MaxMem    uint64        // bytes of memory per process, stack included; 0 means DefaultMaxMem
	StackSize uint64        // bytes of the main thread's stack; 0 means DefaultStackSize
	Timeout   time.Duration // wall time before the run stops with a LimitError; 0 means none
	Quantum   int64         // instructions a thread runs before another may take its turn; 0 means DefaultQuantum

	// CPUs is how many virtual processors run processes in parallel; 0 means one. The threads
	// of one process always share one processor. A virtual clock needs one processor.
	CPUs int

	MaxThreads int // threads alive at once; 0 means no limit
	MaxProcs   int // processes at once, counting those that have ended and are not waited for yet (zombies); 0 means DefaultMaxProcs

	// ProgramDir is the only directory from which the spawn service may load program files;
	// "" forbids spawning files (processes can still start at an entry of the image).
	ProgramDir string

	// Grants are the host directories the file services may reach (see hostfiles.go and
	// docs/syscalls.md): without one, every path is refused with EPERM. Their Guest paths are
	// absolute, clean and distinct; a relative path is relative to the first grant. The Dirs
	// stay the caller's to close, after the run.
	Grants []Grant

	// MaxFDs is how many descriptors a process may have open; 0 means DefaultMaxFDs.
	MaxFDs int

	// NetGrants are the addresses the network services may listen at or connect to (see
	// net.go and docs/syscalls.md): without one, listen and connect fail with EACCES. Network
	// is the host's network they reach; nil means HostNetwork(). Listening, if not nil, is
	// told the address of each socket the program listens at, as the host bound it (the port
	// it chose for a port 0); it is called from the processor, and must not block.
	NetGrants []NetGrant
	Network   Network
	Listening func(addr string)

	// Assemble, if not nil, turns a spawned program file that is a source, not an object file,
	// into an image; readFile reads the files it includes, from ProgramDir only. The VM has no
	// assembler of its own (asm.AssembleReader, with asm.Options.ReadFile = readFile, is the
	// one). The file goes through object.Load, as the spindle command's own program does.
	Assemble func(name string, src io.Reader, readFile func(name string) ([]byte, error)) (*object.Image, error)

	// Stats keeps the statistics that cost something to gather, such as the time each thread
	// spends blocked.
	Stats bool

	// VirtualClock makes the clock count instructions (one a nanosecond) and skip over idle
	// time, so that sleeps and clock readings are the same on every run.
	VirtualClock bool

	// Sched is the scheduling policy: SchedRoundRobin (the zero value) runs threads in turn for
	// a quantum each; SchedRandom preempts at random instruction boundaries, drawn from Seed,
	// to expose races in programs that do not synchronize.
	Sched Sched
	Seed  uint64

	// FeedInput makes the program's standard input what Machine.FeedInput gives it, between
	// Resumes, and nothing else: a thread that reads it when none is waiting stops Resume
	// with StopInput, before its read, for the caller to feed some and resume. It is how a
	// debugger that owns the terminal gives the program the lines its user types. It needs
	// one processor, and no Stdin.
	FeedInput bool

	// EbreakGoesOn makes ebreak a debugger's breakpoint instruction: it executes (a step, like
	// any instruction), and the Resume stops after it with StopBreakpoint, its Trap the
	// ebreak's report; the next Resume goes on with the instruction after it. Without it,
	// ebreak traps, as it does under spindle run, and the trap ends the process.
	EbreakGoesOn bool

	// ProcessTrapped, if not nil, receives the trap that ended a process other than the first
	// while the run goes on (the first one's ends the run, and Run returns it). The output
	// written before it has been flushed. When it is nil, the trap's report goes to Stderr.
	ProcessTrapped func(pid int, trap *TrapError)

	// SourceLine, if not nil, gives the text of line n of the source file a program calls
	// name, for a report that quotes it when the image does not hold that source, as an
	// object file's does not. It is called only for reports, from any processor, while the
	// run goes on, possibly under the kernel lock: it must not block. "" means unknown.
	SourceLine func(name string, n int) string

	// MaxSnapshotMem bounds the host memory that the machine's snapshots hold together, those
	// released apart: a Snapshot past it fails with ErrSnapshotMem. 0 means no limit.
	MaxSnapshotMem uint64

	// Trace, if not nil, receives a record of every context switch, in TraceFormat.
	Trace       io.Writer
	TraceFormat TraceFormat
}

// Sched is a scheduling policy.
type Sched uint8

const (
	SchedRoundRobin Sched = iota
	SchedRandom
)

// Result describes a run that ended.
type Result struct {
	ExitCode int64         // the status passed to exit; 0 after halt or a return from the entry
	Steps    uint64        // instructions executed
	Switches uint64        // context switches
	Duration time.Duration // wall time of Run
	Clock    time.Duration // the run's clock at its end: with Options.VirtualClock, virtual time, which sleeps and blocked times are in

	// When Options.Stats is set: Threads has the statistics of the first MaxStatsThreads
	// threads made, in order, and Procs those of the first MaxStatsProcs processes, with
	// their threads' added up, and then, if there were more, one row with ID 0 for the rest.
	// ThreadsMade counts every thread made.
	Threads     []ThreadStats
	Procs       []ProcStats
	ThreadsMade uint64
}

// ProcStats are one process's statistics: its threads' added up.
type ProcStats struct {
	ID       int
	Status   int64 // its exit status, if it has ended
	Ended    bool
	Threads  int
	Steps    uint64
	Switches uint64
	Blocked  time.Duration
}

// ThreadStats are one thread's statistics.
type ThreadStats struct {
	Proc, ID  int
	State     ThreadState
	Steps     uint64        // instructions it executed
	Switches  uint64        // times it was switched in
	Blocked   time.Duration // clock time it spent blocked
	BlockedOn string        // what it waits for, if it is blocked
}

// A Machine is a loaded program ready to run: its kernel, with its virtual processors and the
// process made from the program, and the state of the API that drives it (Resume's, the
// breakpoints', the snapshots').
//
// It embeds its kernel rather than naming it, so that the methods of the API (Resume, Snapshot,
// the inspection of processes and threads) read the process table, the stop flags and the
// options as they are, m.procs and m.opts; the processors do not embed the Machine, and so
// cannot reach what is here.
type Machine struct {
	*kernel
	image *object.Image

	// Resume's state: the run has begun, or is over with result (and the kernel's err).
	begun, ended bool
	timer        *time.Timer
	result       Result
	breaks       map[int]isa.Instr // the instructions that breakpoints replaced, by index in code
	lastSnapshot *Snapshot         // the last taken or restored, whose pages the next may share
	snapMem      uint64            // bytes the snapshots not released hold (see Snapshot.Release)
}

// Load validates img and builds a process from it, ready to run.
func Load(img *object.Image, opts Options) (*Machine, error) {
	if opts.MaxMem == 0 {
		opts.MaxMem = DefaultMaxMem
	}
	if opts.MaxProcs <= 0 {
		opts.MaxProcs = DefaultMaxProcs
	}
	if opts.StackSize == 0 {
		opts.StackSize = DefaultStackSize
	}
	if opts.Quantum <= 0 {
		opts.Quantum = DefaultQuantum
	}
	if opts.MaxFDs == 0 {
		opts.MaxFDs = DefaultMaxFDs
	}
	if err := checkGrants(opts.Grants); err != nil {
		return nil, &LoadError{Msg: err.Error()}
	}
	if err := checkNetGrants(opts.NetGrants); err != nil {
		return nil, &LoadError{Msg: err.Error()}
	}
	switch {
	case opts.MaxFDs < 0 || opts.MaxFDs > MaxFDsLimit:
		return nil, &LoadError{Msg: fmt.Sprintf("a limit of %d descriptors is outside 1 to %d", opts.MaxFDs, MaxFDsLimit)}
	case opts.StackSize < MinStackSize:
		return nil, &LoadError{Msg: fmt.Sprintf("a stack of %d bytes is too small; the least is %d", opts.StackSize, MinStackSize)}
	case opts.StackSize > MaxStackSize:
		return nil, &LoadError{Msg: fmt.Sprintf("a stack of %d bytes is too large; the most is %d, which leaves the null page unmapped", opts.StackSize, uint64(MaxStackSize))}
	case opts.StackSize%16 != 0:
		return nil, &LoadError{Msg: fmt.Sprintf("a stack of %d bytes is not a multiple of 16", opts.StackSize)}
	case opts.MaxMem > MaxMemLimit:
		return nil, &LoadError{Msg: fmt.Sprintf("a memory limit of %d bytes is more than the most, %d", opts.MaxMem, uint64(MaxMemLimit))}
	case opts.Quantum > MaxQuantum:
		return nil, &LoadError{Msg: fmt.Sprintf("a quantum of %d instructions is more than the most, %d", opts.Quantum, MaxQuantum)}
	case opts.CPUs > MaxCPUs:
		return nil, &LoadError{Msg: fmt.Sprintf("%d processors are more than the most, %d", opts.CPUs, MaxCPUs)}
	case opts.Timeout < 0:
		return nil, &LoadError{Msg: fmt.Sprintf("a negative time-out, %v", opts.Timeout)}
	case opts.FeedInput && (opts.CPUs > 1 || opts.Stdin != nil):
		return nil, &LoadError{Msg: "input fed by Machine.FeedInput needs one processor, and no Stdin"}
	}
	if opts.Stdin == nil {
		opts.Stdin = eofReader{}
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if err := validate(img); err != nil {
		return nil, err
	}
	m := &Machine{image: img, kernel: &kernel{opts: opts, virtual: opts.VirtualClock, start: time.Now(),
		in: newInput(opts.Stdin, !opts.VirtualClock, opts.FeedInput), net: newNetwork(&opts), written: [2]counter{{w: opts.Stdout}, {w: opts.Stderr}}}}
	m.stdout, m.stderr = newWriter(&m.written[0], 16<<10), newWriter(&m.written[1], 4<<10)
	m.opts.Grants = slices.Clone(opts.Grants)
	for i := range m.opts.Grants {
		g := &m.opts.Grants[i]
		g.Dir = logDir{g.Dir, m.kernel} // see hostlog.go
	}
	n := max(opts.CPUs, 1)
	if opts.Trace != nil {
		var stream *bufio.Writer // the program's, if the trace goes to the same place
		switch {
		case sameWriter(opts.Trace, opts.Stdout):
			stream = m.stdout
		case sameWriter(opts.Trace, opts.Stderr):
			stream = m.stderr
		}
		m.Attach(newTracer(opts.Trace, opts.TraceFormat, n, stream))
	}
	if opts.Stats {
		m.Attach(&stats{m: m})
	}
	if opts.VirtualClock && n > 1 {
		return nil, &LoadError{Msg: fmt.Sprintf("a virtual clock needs one processor, not %d", n)}
	}
	m.multi = n > 1
	m.stopped = make(chan struct{})
	m.pauses = make(chan struct{}, 1)
	m.work = sync.NewCond(&m.mu)
	for i := range n {
		c := &cpu{kernel: m.kernel, id: i}
		if opts.Sched == SchedRandom {
			Random{opts.Seed}.apply(c)
		}
		m.cpus = append(m.cpus, c)
	}
	entry, _ := isa.CodeIndex(img.Entry, len(img.Text))
	p, err := newProcess(m, img, entry, opts.Args)
	if err != nil {
		return nil, err
	}
	if m.observed() {
		m.cpus[0].processStarted(p)
	}
	p.fds = []desc{{kind: descStdin}, {kind: descStdout}, {kind: descStderr}}
	m.cpus[0].makeReady(p)
	m.proc = p
	if p.release != nil {
		// The memory outside Go's heap goes back to the host when the Machine is garbage.
		runtime.AddCleanup(m, func(release func()) { release() }, p.release)
	}
	return m, nil
}

// Run loads img and runs it to the end. See Machine.Run.
func Run(img *object.Image, opts Options) (Result, error) {
	m, err := Load(img, opts)
	if err != nil {
		return Result{}, err
	}
	return m.Run()
}

// Run executes the program until it exits, traps or reaches a limit. The error is nil when the
// program exited, whatever its status; otherwise it is a *TrapError, a *LimitError, a
// *DeadlockError or an *InterruptError. Output is flushed in every case.
//
// Run is Resume with nothing to stop for, again and again until the run is over: a trap of a
// process other than the first is reported, and the run goes on.
func (m *Machine) Run() (Result, error) {
	if m.begun {
		return Result{}, errors.New("vm: a Machine runs once; Load the image again")
	}
	for {
		st, err := m.Resume(Until{})
		if err != nil {
			return Result{}, err
		}
		if st.Kind == StopInput {
			return Result{}, errors.New("vm: the program waits for input that only FeedInput gives: run it with Resume")
		}
		if st.Ended {
			return m.result, st.Err
		}
	}
}

// begin starts the run's clocks, on the first Resume.
func (m *Machine) begin() {
	m.begun = true
	m.start = time.Now()
	if m.opts.Timeout > 0 {
		m.timer = time.AfterFunc(m.opts.Timeout, func() { m.stop(stopTimeout) })
	}
}

// runAll runs every processor, each on a goroutine of its own when there are several, until
// the run is over or, with one, until a stop that Resume asked for.
func (m *Machine) runAll() {
	if len(m.cpus) == 1 {
		c := m.cpus[0]
		defer func() {
			if r := recover(); r != nil {
				c.finish(&InternalError{Value: r, Stack: stack()})
			}
		}()
		c.run()
		return
	}
	var wg sync.WaitGroup
	for _, c := range m.cpus {
		wg.Go(func() {
			defer func() {
				// A panic on a processor's goroutine cannot reach Run's recover.
				if r := recover(); r != nil {
					c.lock()
					c.finish(&InternalError{Value: r, Stack: stack()})
					c.unlock()
				}
			}()
			c.run()
		})
	}
	wg.Wait()
}

// end makes the result of the run, which is over, and returns the error it ended with.
func (m *Machine) end() error {
	m.ended = true
	if !m.holdsHost() || m.touch("end") {
		// The end is logged when it closes something of the host's (see hostlog.go); a
		// replay that comes to it again closes nothing.
		m.closeHost()
	}
	if m.timer != nil {
		m.timer.Stop()
	}
	res := &m.result
	err := m.err
	for _, c := range m.cpus {
		res.Steps += c.steps
		res.Switches += c.switches
	}
	// A stop's report counts what every processor executed, all of it: the processor that
	// stopped saw only what the others had reported at their last check points.
	// It says where every other thread was, too.
	var le *LimitError
	var ie *InterruptError
	switch {
	case errors.As(err, &le):
		le.Steps = res.Steps
		le.Threads, le.MoreThreads = m.othersReport(le.Where)
	case errors.As(err, &ie):
		ie.Steps = res.Steps
		ie.Threads, ie.MoreThreads = m.othersReport(ie.Where)
	}
	res.Duration = time.Since(m.start)
	res.Clock = time.Duration(m.cpus[0].now())
	for _, p := range m.procs {
		if p != m.proc {
			p.freeMemory() // a Machine runs once; only the first process's memory is shown after
		}
	}
	if ferr := m.flush(); ferr != nil && err == nil {
		err = ferr
	}
	if m.observed() {
		for _, c := range m.cpus {
			c.observe(Event{Kind: EventEnd, Err: err})
		}
		for _, o := range m.obs {
			if f, ok := o.Observer.(interface{ Flush() error }); ok {
				if ferr := f.Flush(); ferr != nil && err == nil {
					err = ferr
				}
			}
		}
	}
	if err == nil {
		res.ExitCode = m.proc.exitCode
	}
	m.err = err
	return err
}

// othersReport describes the threads alive at the end of a run but the one at w, for a stop's
// report; the processors have all stopped.
func (m *Machine) othersReport(w Where) ([]BlockedThread, int) {
	list, n := m.threadReport(func(t *Thread) bool {
		return t.State != Exited && !(t.Proc.ID == w.Proc && t.ID == w.Thread)
	})
	return list, n - len(list)
}

// flush writes out the program's output, and returns the first error in doing so.
func (m *Machine) flush() error {
	var first error
	for _, err := range [...]error{m.stdout.Flush(), m.stderr.Flush(), m.written[0].Flush(), m.written[1].Flush()} {
		if first == nil {
			first = err
		}
	}
	return first
}

// Interrupt asks the running program to stop at its next check point, as Ctrl-C does. Run then
// returns an *InterruptError. It is safe to call from any goroutine.
func (m *Machine) Interrupt() { m.stop(stopInterrupt) }

// Pause asks the machine to stop as soon as it can and keep its state, for the next Resume to
// go on from: at the next check point of the thread that runs, or at once if every thread
// sleeps or waits for input. Resume then returns a StopInterrupted with no error, and with no
// thread if none was running. A Pause made while no Resume runs stops the next one at its
// first check point. It is safe to call from any goroutine, as a debugger's Ctrl-C or pause
// button does.
//
// A machine of several processors cannot pause (see Resume): Pause reports false and does
// nothing; Interrupt ends its run. A pause that finds a thread waiting on the virtual clock for
// the host's input lets the other threads run while it waits, as on the real clock, so that
// where the input arrives may differ from a run without the pause.
func (m *Machine) Pause() bool {
	if m.multi {
		return false
	}
	if m.why.CompareAndSwap(int32(stopNone), int32(stopPause)) {
		m.interrupt.Store(true)
		select {
		case m.pauses <- struct{}{}:
		default:
		}
	}
	return true
}

// CancelPause takes back a Pause that no Resume has stopped for yet, as a debugger does when
// its user's Ctrl-C came while no command was running the program. It is safe to call from
// any goroutine.
func (m *Machine) CancelPause() { m.unpause() }

// Process returns the machine's process, for inspection after or between runs.
func (m *Machine) Process() *Process { return m.proc }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// sameWriter reports whether a and b are the same writer. (Comparing two interfaces that hold
// the same type of value that cannot be compared would panic.)
func sameWriter(a, b io.Writer) bool {
	ta := reflect.TypeOf(a)
	return ta != nil && ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// newWriter buffers a descriptor's output; flush empties it at exit, trap, limit and interrupt.
// The buffer is made with the Machine, so it is kept small: 128 KiB for the two streams made a
// load four times as slow as it is now.
func newWriter(w io.Writer, size int) *bufio.Writer { return bufio.NewWriterSize(w, size) }
