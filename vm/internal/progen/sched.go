package progen

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// A SchedProgram is a program from Sched, the options to run it with, and what must become of
// it.
type SchedProgram struct {
	Image *object.Image
	Class SchedClass
	Procs int // processes that run the program: 1, or 2 that a parent starts and waits for

	// The options of the run, named as in vm.Options.
	CPUs         int    // 2 for a program of two processes; 0, one processor, otherwise
	VirtualClock bool   // for a program of one process, unless it is stopped by time
	Random       bool   // the random scheduler rather than round robin
	Quantum      int64  // 0 for the default
	Seed         uint64 // the random scheduler's seed
	// MaxSteps is the step limit: for a program stopped by it, the stop; for a program stopped
	// by time, 0 (none); otherwise a budget of 5,000,000 steps.
	MaxSteps uint64
	Stop     SchedStop     // how the program is stopped from outside, if it is: it never ends by itself
	StopAt   time.Duration // for SchedStopTimeout, the time limit; for SchedStopInterrupt, when to interrupt

	// What it does.
	Output string // what it prints if it ends by itself; a program that is stopped prints a prefix of it
	Status int64  // its exit status, if it ends by itself
	Stuck  string // for SchedDeadlock: what the thread blocked for good waits for, in the words of a deadlock report

	prog *schedProg
}

// SchedClass is what must become of a program from Sched.
type SchedClass uint8

const (
	SchedFinish   SchedClass = iota // runs to its end, prints its total
	SchedDeadlock                   // one operation never completes: every thread ends up blocked
	SchedExit                       // a thread calls exit: the process ends with its status
)

func (c SchedClass) String() string {
	return [...]string{"finish", "deadlock", "exit"}[c]
}

// SchedStop is how a program is stopped from outside.
type SchedStop uint8

const (
	SchedStopNone      SchedStop = iota
	SchedStopTimeout             // a time limit of 1 to 16 ms
	SchedStopInterrupt           // vm.Machine.Interrupt after 1 to 16 ms
	SchedStopSteps               // a step limit of 3989 to 63,824 steps
)

func (k SchedStop) String() string {
	return [...]string{"none", "timeout", "interrupt", "steps"}[k]
}

// Sched builds the threaded program that data describes, for package vm's FuzzScheduler: a
// program of spawn, join, channels (make, send, receive, close, and calls of an echo server
// with chan_sendrecv), sleep, yield, futex wait and wake, and exit, whose fate is known from
// its structure. The same data always gives the same program, and any data, the empty one
// included, makes one.
//
//   - A program of class SchedFinish cannot block for good. It is a pipeline: layers of
//     channels, each fed by the threads of one stage and drained by the next, in which every
//     value a source sends reaches a sink. Around it, events (a word and a futex) are set by
//     threads that set them before they can block, threads sleep, yield, spawn leaf threads and
//     join them, and join their siblings; main joins the stages in order and closes the
//     channels that are drained until closed. It prints the sum of what the sources sent and
//     ends with the status main chose.
//   - A program of class SchedDeadlock is the same with one operation that can never complete
//     (a receive or a send on a channel nobody else uses, a futex wait on a word nobody wakes).
//     That thread never ends, so main never ends, and every thread ends up blocked.
//   - A program of class SchedExit is the first kind where one thread calls exit on the way:
//     the process ends with that status, whoever is blocked.
//   - One program of one process in four of class SchedFinish never ends: once it has printed
//     its total, main loops for ever, blocking or yielding at every turn (sleep 0, yield, or a
//     channel), and is to be stopped from outside, by a time-out, an interrupt or a step
//     limit, at a moment that data chooses.
//
// Each thread checks what its syscalls return, and the process exits with a status of 201 to
// 209 if one returns what it must not.
//
// One program in four runs in two processes that a parent starts and waits for, on two
// processors with the real clock; the others run on one processor, on the virtual clock unless
// they are stopped by time. Either scheduling policy and a range of quanta are drawn from data.
//
// Programs are built with isa.Encode rather than the assembler: assembling a program takes
// milliseconds, running one microseconds.
func Sched(data []byte) *SchedProgram {
	p := schedGenerate(data)
	img, err := p.image()
	if err != nil {
		panic(fmt.Sprintf("progen: the scheduler's program does not encode: %v\n%s", err, p))
	}
	sp := &SchedProgram{
		Image:    img,
		Class:    p.class,
		Procs:    p.procs,
		Random:   p.random,
		Quantum:  p.quantum,
		Seed:     p.seed,
		MaxSteps: schedMaxSteps,
		Stop:     p.stop,
		Stuck:    p.stuck,
		prog:     p,
	}
	switch p.stop {
	case SchedStopTimeout, SchedStopInterrupt:
		// No step limit: it would stop the loop by itself, soon, and hide a stop that does not
		// reach it.
		sp.MaxSteps = 0
		sp.StopAt = time.Duration(p.stopAt) * time.Millisecond
	case SchedStopSteps:
		sp.MaxSteps = uint64(p.stopAt) * 3989
	}
	if p.procs > 1 {
		sp.CPUs = 2
	} else {
		// A stop by time is not reproducible anyway; on the real clock, the loop's sleeps
		// really are of 0 ms, as a program's would be.
		sp.VirtualClock = p.stop != SchedStopTimeout && p.stop != SchedStopInterrupt
	}
	sp.Output, sp.Status = p.wantOutput()
	return sp
}

// String describes what was generated: the class and the options, then main's operations and
// each thread's, a line each.
func (sp *SchedProgram) String() string { return sp.prog.String() }

func (p *schedProg) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "class %s, %d process(es), random %v, quantum %d, seed %d, channels %+v, events %d, stop %s at %d, loop %d\n",
		p.class, p.procs, p.random, p.quantum, p.seed, p.chans, p.events, p.stop, p.stopAt, p.stopLoop)
	fmt.Fprintf(&b, "main: %+v, end %d", p.mainOps, p.mainEnd)
	for i, th := range p.threads {
		fmt.Fprintf(&b, "\nthread %d (stage %d): %+v joins %v joined %v", i, th.stage, th.ops, th.joins, th.joined)
	}
	return b.String()
}

// wantOutput is what a program that ends prints, and its exit status.
func (p *schedProg) wantOutput() (string, int64) {
	if p.procs > 1 {
		// The parent prints each worker's status, and exits with 0.
		return strings.Repeat(fmt.Sprintf("%d\n", p.status), p.procs), 0
	}
	if p.class == SchedExit {
		return "", p.status
	}
	return fmt.Sprintf("%d\n", p.total), p.status
}

type schedOpKind uint8

const (
	schedNone       schedOpKind = iota
	schedYield                  // yield
	schedSleep                  // sleep a milliseconds
	schedFutexWrong             // futex_wait on a word that does not hold the value: returns 1 at once
	schedWakeNone               // futex_wake on a word nobody waits on: wakes 0
	schedLeaf                   // spawn a leaf thread of kind b with argument a; join it at once if c = 1, else at the end
	schedSetEvent               // set event a: store 1, wake its waiters
	schedWaitEvent              // wait until event a is set
	schedSend                   // send b values on channel a, from c+b down to c+1
	schedRecv                   // receive b values from channel a (b < 0: until it is closed), adding them up
	schedForward                // receive from channel a and send on channel b, c times (c < 0: until a is closed)
	schedStuck                  // block for good: a = 0 receive, 1 send on an unused channel, 2 futex_wait on an unused word
	schedExitOp                 // exit with status a
	schedCall                   // make two channels, spawn an echo server on them, call it a times with chan_sendrecv, close, join
)

func (k schedOpKind) String() string {
	return [...]string{"none", "yield", "sleep", "futex-wrong", "wake-none", "leaf", "set", "wait", "send", "recv",
		"forward", "stuck", "exit", "call"}[k]
}

type schedOp struct {
	kind    schedOpKind
	a, b, c int
	inner   schedOpKind // for the loops of send, receive and forward: done before each value
}

// String names the kinds, which fmt's %+v would print as numbers: it does not call the String
// method of an unexported field.
func (op schedOp) String() string {
	return fmt.Sprintf("{kind:%v a:%d b:%d c:%d inner:%v}", op.kind, op.a, op.b, op.c, op.inner)
}

type schedThread struct {
	stage   int // 0 to len(chans) for the stages of the pipeline; -1 for a thread outside it
	ops     []schedOp
	joins   []int // earlier siblings that this thread joins as it ends
	joined  bool  // joined by a sibling, not by main
	exitSys bool  // ends with thread_exit rather than ret
}

type schedChan struct {
	capacity int
	closed   bool // drained until closed; main closes it once its senders have ended
}

type schedProg struct {
	class   SchedClass
	procs   int // 1, or 2 worker processes of a parent
	random  bool
	quantum int64
	seed    uint64
	chans   []schedChan
	threads []*schedThread
	events  int
	mainOps []schedOp // main's own, after it spawns the threads and before it joins them
	mainEnd int       // 0: exit with the total; 1: ret with it; 2: thread_exit (status 0)

	stop     SchedStop // how the program is stopped, if it is: it never ends by itself
	stopAt   int       // when: 1 to 16, in ms, or for a step limit in units of 3989 steps
	stopLoop int       // how main blocks for ever: 0 sleep 0, 1 yield, 2 receive from a channel nobody sends on but itself

	total  int64  // the sum the sinks receive, in a program that finishes
	status int64  // the exit status of a process of the program
	stuck  string // for a deadlock: what the thread blocked for good waits for
}

// The values a thread returns, and the statuses of the program's own checks: a process that
// ends with one of these has seen a syscall return what it must not.
const (
	schedRetBase     = 1000
	schedFailSend    = 201 // chan_send on an open channel returned -1
	schedFailRecv    = 202 // chan_recv reported a closed channel before its last value
	schedFailFutex   = 203 // futex_wait on a word that does not hold the value did not return 1
	schedFailLeaf    = 204 // a leaf thread's value came back wrong from thread_join
	schedFailJoin    = 205 // a thread's value came back wrong from thread_join
	schedFailWake    = 206 // futex_wake woke threads on a word nobody waits on
	schedFailStuck   = 207 // an operation that can never complete returned
	schedFailHandle  = 208 // chan_make returned an unexpected handle
	schedFailCall    = 209 // the echo server's reply, or its value from thread_join, came back wrong
	schedExitMain    = 77  // the status of main's exit in a program of class SchedExit
	schedExitThread  = 78  // the status of another thread's exit in a program of class SchedExit
	schedStack       = 1024
	schedLeafStack   = 256
	schedLeafKinds   = 3         // plain, sleeping, waiting for event 0
	schedMaxSteps    = 5_000_000 // the step limit of a program that is not stopped from outside
	schedSourceValue = 100       // source i sends values from schedSourceValue*(i+1) + count down
)

// schedBytes reads the fuzzer's bytes as a stream of small choices; past the end every choice
// is 0, so that any input, the empty one included, makes a program.
type schedBytes struct {
	b []byte
	i int
}

func (g *schedBytes) n(k int) int {
	if k <= 1 || g.i >= len(g.b) {
		return 0
	}
	v := int(g.b[g.i]) % k
	g.i++
	return v
}

// split divides total into k parts.
func (g *schedBytes) split(total, k int) []int {
	parts := make([]int, k)
	for range total {
		parts[g.n(k)]++
	}
	return parts
}

// schedGenerate builds the program that b describes.
func schedGenerate(b []byte) *schedProg {
	g := &schedBytes{b: b}
	p := &schedProg{procs: 1}
	switch c := g.n(10); {
	case c < 6:
		p.class = SchedFinish
	case c < 9:
		p.class = SchedDeadlock
	default:
		p.class = SchedExit
	}
	if g.n(4) == 0 {
		p.procs = 2
	}
	p.random = g.n(2) == 1
	p.quantum = [...]int64{1, 2, 5, 50, 0}[g.n(5)]
	p.seed = uint64(g.n(256))

	// The pipeline: layers of channels, and stages of threads between them.
	layers := g.n(4)
	items := g.n(7)
	for range layers {
		p.chans = append(p.chans, schedChan{capacity: g.n(4), closed: g.n(2) == 1})
	}
	sources := 0
	if layers > 0 {
		for s := 0; s <= layers; s++ {
			for _, q := range g.split(items, 1+g.n(3)) {
				th := &schedThread{stage: s}
				var op schedOp
				switch {
				case s == 0:
					op = schedOp{kind: schedSend, a: 0, b: q, c: schedSourceValue * (sources + 1)}
					p.total += int64(q)*int64(op.c) + int64(q*(q+1)/2)
					sources++
				case s == layers:
					op = schedOp{kind: schedRecv, a: s - 1, b: q}
					if p.chans[s-1].closed {
						op.b = -1
					}
				default:
					op = schedOp{kind: schedForward, a: s - 1, b: s, c: q}
					if p.chans[s-1].closed {
						op.c = -1
					}
				}
				op.inner = [...]schedOpKind{schedNone, schedYield, schedSleep, schedFutexWrong, schedNone}[g.n(5)]
				th.ops = append(th.ops, op)
				p.threads = append(p.threads, th)
			}
		}
	}
	for range g.n(3) {
		p.threads = append(p.threads, &schedThread{stage: -1})
	}
	p.events = g.n(3)

	// Ops that cannot block for good, before or after each thread's part in the pipeline.
	misc := func() schedOp {
		switch g.n(7) {
		case 0:
			return schedOp{kind: schedYield}
		case 1:
			return schedOp{kind: schedSleep, a: p.sleepMs(g.n(4))}
		case 2:
			return schedOp{kind: schedFutexWrong}
		case 3:
			return schedOp{kind: schedWakeNone}
		case 4:
			return schedOp{kind: schedCall, a: 1 + g.n(5)}
		default:
			kind := g.n(schedLeafKinds)
			if kind == 2 && p.events == 0 {
				kind = 0
			}
			return schedOp{kind: schedLeaf, a: 1 + g.n(50), b: kind, c: g.n(2)}
		}
	}
	for _, th := range p.threads {
		for range g.n(4) {
			op := misc()
			if g.n(2) == 0 {
				th.ops = append([]schedOp{op}, th.ops...)
			} else {
				th.ops = append(th.ops, op)
			}
		}
		th.exitSys = g.n(2) == 1
	}
	for range g.n(3) {
		if op := misc(); op.kind != schedLeaf {
			p.mainOps = append(p.mainOps, op)
		}
	}

	// Events: each is waited for anywhere, and set by main or by a thread before anything it
	// does can block, so that no waiter can wait for good.
	setters := make([]int, p.events) // 0: main; i: thread i-1
	for e := range p.events {
		setters[e] = g.n(len(p.threads) + 1)
		for range g.n(4) {
			w := g.n(len(p.threads) + 1)
			op := schedOp{kind: schedWaitEvent, a: e}
			if w == 0 {
				p.mainOps = insertOp(p.mainOps, g.n(len(p.mainOps)+1), op)
			} else {
				th := p.threads[w-1]
				th.ops = insertOp(th.ops, g.n(len(th.ops)+1), op)
			}
		}
	}
	for e, s := range setters {
		op := schedOp{kind: schedSetEvent, a: e}
		if s == 0 {
			p.mainOps = append([]schedOp{op}, p.mainOps...)
		} else {
			th := p.threads[s-1]
			th.ops = append([]schedOp{op}, th.ops...)
		}
	}

	// Siblings of one stage, or of the threads outside the pipeline, may join one another. Main
	// joins a stage before it closes the stage's channel, so a thread is joined only within its
	// stage, where main's join of the joiner comes first.
	for i, th := range p.threads {
		if g.n(4) != 0 {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if sib := p.threads[j]; sib.stage == th.stage && !sib.joined {
				sib.joined = true
				th.joins = append(th.joins, j)
				break
			}
		}
	}

	p.mainEnd = g.n(3)
	p.status = p.total
	if p.procs == 1 && p.mainEnd == 2 {
		p.status = 0 // the process ends when its last thread does
	}
	switch p.class {
	case SchedDeadlock:
		op := schedOp{kind: schedStuck, a: g.n(3)}
		switch op.a {
		case 0:
			p.stuck = fmt.Sprintf("chan_recv on channel %d", len(p.chans)+1)
		case 1:
			p.stuck = fmt.Sprintf("chan_send on channel %d", len(p.chans)+2)
		default:
			p.stuck = fmt.Sprintf("futex_wait on address %#x", schedAddrNever)
		}
		if v := g.n(len(p.threads) + 1); v == 0 {
			p.mainOps = insertOp(p.mainOps, g.n(len(p.mainOps)+1), op)
		} else {
			th := p.threads[v-1]
			th.ops = insertOp(th.ops, g.n(len(th.ops)+1), op)
		}
	case SchedExit:
		if v := g.n(len(p.threads) + 1); v == 0 {
			p.status = schedExitMain
			p.mainOps = insertOp(p.mainOps, g.n(len(p.mainOps)+1), schedOp{kind: schedExitOp, a: schedExitMain})
		} else {
			p.status = schedExitThread
			th := p.threads[v-1]
			th.ops = insertOp(th.ops, g.n(len(th.ops)+1), schedOp{kind: schedExitOp, a: schedExitThread})
		}
	}
	// One program of one process in four, which would finish, instead blocks for ever once it
	// has printed its total, at every turn of a loop, and is stopped from outside at a random
	// moment: the stop must end it, with its output intact (docs/threads.md, Stops).
	if p.class == SchedFinish && p.procs == 1 && g.n(4) == 3 {
		p.stop = SchedStop(1 + g.n(3))
		p.stopAt = 1 + g.n(16)
		p.stopLoop = g.n(3)
	}
	return p
}

func insertOp(ops []schedOp, i int, op schedOp) []schedOp {
	return append(ops[:i], append([]schedOp{op}, ops[i:]...)...)
}

// sleepMs chooses a sleep: on the virtual clock any length costs nothing; on the real clock
// only short ones keep the fuzzer fast.
func (p *schedProg) sleepMs(k int) int {
	if p.procs > 1 {
		return [...]int{0, 1, 0, 2}[k]
	}
	return [...]int{0, 1, 5, 100}[k]
}

// The data of a program: the total the sinks add to, the word nobody wakes, a word that holds
// 7, the events, the threads' ids and the workers' pids.
const (
	schedAddrTotal = isa.DataBase
	schedAddrNever = isa.DataBase + 8
	schedAddrSpare = isa.DataBase + 16
	schedAddrEvent = isa.DataBase + 24
)

func (p *schedProg) addrTid(i int) uint64 { return schedAddrEvent + 8*uint64(p.events+i) }
func (p *schedProg) addrPid(i int) uint64 { return p.addrTid(len(p.threads)) + 8*uint64(i) }

// schedEmitter builds an image: instructions, a constant pool, and labels resolved at the end.
type schedEmitter struct {
	text   []isa.Instr
	ops    []schedFix // how to encode each instruction again once labels are known
	consts []uint64
	labels map[string]int
	syms   []object.Symbol
	seq    int
	err    error
}

type schedFix struct {
	op     isa.Opcode
	o      isa.Operands
	target string // a branch's target, or for lk the code label whose address the constant is
}

func (e *schedEmitter) emit(op isa.Opcode, o isa.Operands, target string) {
	e.text = append(e.text, 0)
	e.ops = append(e.ops, schedFix{op, o, target})
}

func (e *schedEmitter) label(name string) {
	if _, dup := e.labels[name]; dup {
		e.err = fmt.Errorf("label %s defined twice", name)
	}
	e.labels[name] = len(e.text)
	if !strings.Contains(name, ".") {
		e.syms = append(e.syms, object.Symbol{Name: name, Addr: isa.CodeAddr(len(e.text))})
	}
}

// local returns a fresh label name within scope.
func (e *schedEmitter) local(scope string) string {
	e.seq++
	return fmt.Sprintf("%s.l%d", scope, e.seq)
}

func (e *schedEmitter) i(op isa.Opcode, a, b, c int, imm int64) {
	e.emit(op, isa.Operands{A: a, B: b, C: c, Imm: imm}, "")
}

func (e *schedEmitter) br(op isa.Opcode, a, b int, target string) {
	e.emit(op, isa.Operands{A: a, B: b}, target)
}

func (e *schedEmitter) sys(n isa.Syscall) { e.i(isa.SYSCALL, 0, 0, 0, int64(n)) }

// li loads a constant, from the pool if it does not fit 20 bits.
func (e *schedEmitter) li(r int, v int64) {
	if v >= isa.MinImm20 && v <= isa.MaxImm20 {
		e.i(isa.LI, r, 0, 0, v)
		return
	}
	e.consts = append(e.consts, uint64(v))
	e.i(isa.LK, r, 0, 0, int64(len(e.consts)-1))
}

// code loads the address of a code label.
func (e *schedEmitter) code(r int, label string) {
	e.consts = append(e.consts, 0)
	e.emit(isa.LK, isa.Operands{A: r, Imm: int64(len(e.consts) - 1)}, label)
}

func (e *schedEmitter) finish(entry string, data []byte) (*object.Image, error) {
	for i, f := range e.ops {
		o := f.o
		if f.target != "" {
			at, ok := e.labels[f.target]
			if !ok {
				return nil, fmt.Errorf("unknown label %s", f.target)
			}
			if f.op == isa.LK {
				e.consts[o.Imm] = isa.CodeAddr(at)
			} else {
				o.Imm = int64(at - i)
			}
		}
		w, err := isa.Encode(f.op, o)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %v", i, err)
		}
		e.text[i] = w
	}
	if e.err != nil {
		return nil, e.err
	}
	sort.Slice(e.syms, func(i, j int) bool {
		if e.syms[i].Addr != e.syms[j].Addr {
			return e.syms[i].Addr < e.syms[j].Addr
		}
		return e.syms[i].Name < e.syms[j].Name
	})
	return &object.Image{Text: e.text, Consts: e.consts, Data: data, Entry: isa.CodeAddr(e.labels[entry]), Symbols: e.syms}, nil
}

// image builds the program.
func (p *schedProg) image() (*object.Image, error) {
	e := &schedEmitter{labels: map[string]int{}}
	entry := "main"
	if p.procs > 1 {
		p.emitParent(e)
		entry = "parent"
	}
	p.emitMain(e)
	for i, th := range p.threads {
		p.emitThread(e, i, th)
	}
	p.emitLeaves(e)
	p.emitEcho(e)
	for _, code := range []int{schedFailSend, schedFailRecv, schedFailFutex, schedFailLeaf, schedFailJoin, schedFailWake, schedFailStuck, schedFailHandle, schedFailCall} {
		e.label(fmt.Sprintf("fail%d", code))
		e.li(isa.A0, int64(code))
		e.sys(isa.SysExit)
	}
	data := make([]byte, p.addrPid(p.procs)-isa.DataBase)
	data[schedAddrSpare-isa.DataBase] = 7
	return e.finish(entry, data)
}

// emitParent starts the workers, each a process running main, waits for each and prints its
// status.
func (p *schedProg) emitParent(e *schedEmitter) {
	e.label("parent")
	for k := range p.procs {
		e.code(isa.A0, "main")
		e.li(isa.A1, int64(k))
		e.li(isa.A2, 0)
		e.li(isa.A3, 1)
		e.sys(isa.SysStart)
		e.li(isa.T0, int64(p.addrPid(k)))
		e.i(isa.SD, isa.A0, isa.T0, 0, 0)
	}
	for k := range p.procs {
		e.li(isa.T0, int64(p.addrPid(k)))
		e.i(isa.LD, isa.A0, isa.T0, 0, 0)
		e.sys(isa.SysWait)
		e.sys(isa.SysPrintInt)
		e.li(isa.A0, '\n')
		e.sys(isa.SysPutc)
	}
	e.li(isa.A0, 0)
	e.sys(isa.SysExit)
}

func (p *schedProg) emitMain(e *schedEmitter) {
	e.label("main")
	// The pipeline's channels, then the two that nobody else uses: handles 1, 2, ...
	caps := make([]int, 0, len(p.chans)+2)
	for _, c := range p.chans {
		caps = append(caps, c.capacity)
	}
	caps = append(caps, 0, 0)
	for i, c := range caps {
		e.li(isa.A0, int64(c))
		e.sys(isa.SysChanMake)
		e.li(isa.T0, int64(i+1))
		e.br(isa.BNE, isa.A0, isa.T0, fmt.Sprintf("fail%d", schedFailHandle))
	}
	for i := range p.threads {
		e.code(isa.A0, fmt.Sprintf("thread%d", i))
		e.li(isa.A1, int64(i))
		e.li(isa.A2, schedStack)
		e.sys(isa.SysThreadSpawn)
		e.li(isa.T0, int64(p.addrTid(i)))
		e.i(isa.SD, isa.A0, isa.T0, 0, 0)
	}
	for _, op := range p.mainOps {
		p.emitOp(e, "main", op, nil)
	}
	join := func(i int) {
		e.li(isa.T0, int64(p.addrTid(i)))
		e.i(isa.LD, isa.A0, isa.T0, 0, 0)
		e.sys(isa.SysThreadJoin)
		e.li(isa.T0, int64(schedRetBase+i))
		e.br(isa.BNE, isa.A0, isa.T0, fmt.Sprintf("fail%d", schedFailJoin))
	}
	for s := 0; s <= len(p.chans) && len(p.chans) > 0; s++ {
		for i, th := range p.threads {
			if th.stage == s && !th.joined {
				join(i)
			}
		}
		if s < len(p.chans) && p.chans[s].closed {
			e.li(isa.A0, int64(s+1))
			e.sys(isa.SysChanClose)
		}
	}
	for i, th := range p.threads {
		if th.stage < 0 && !th.joined {
			join(i)
		}
	}
	e.li(isa.T0, schedAddrTotal)
	e.i(isa.LD, isa.S0, isa.T0, 0, 0)
	if p.procs > 1 {
		e.i(isa.MOV, isa.A0, isa.S0, 0, 0)
		e.sys(isa.SysExit)
		return
	}
	e.i(isa.MOV, isa.A0, isa.S0, 0, 0)
	e.sys(isa.SysPrintInt)
	e.li(isa.A0, '\n')
	e.sys(isa.SysPutc)
	e.i(isa.MOV, isa.A0, isa.S0, 0, 0)
	if p.stop != SchedStopNone {
		p.emitBlockForEver(e)
		return
	}
	switch p.mainEnd {
	case 0:
		e.sys(isa.SysExit)
	case 1:
		e.i(isa.RET, 0, 0, 0, 0)
	default:
		e.li(isa.A0, 0)
		e.sys(isa.SysThreadExit)
	}
}

// emitBlockForEver writes main's end in a program that is stopped from outside: a loop that
// never ends, and blocks or yields at every turn.
func (p *schedProg) emitBlockForEver(e *schedEmitter) {
	if p.stopLoop == 2 {
		e.li(isa.A0, 1)
		e.sys(isa.SysChanMake)
		e.i(isa.MOV, isa.S0, isa.A0, 0, 0)
	}
	e.label("forever")
	switch p.stopLoop {
	case 0:
		e.li(isa.A0, 0)
		e.sys(isa.SysSleep)
	case 1:
		e.sys(isa.SysYield)
	default:
		e.i(isa.MOV, isa.A0, isa.S0, 0, 0)
		e.li(isa.A1, 1)
		e.sys(isa.SysChanSend)
		e.i(isa.MOV, isa.A0, isa.S0, 0, 0)
		e.sys(isa.SysChanRecv)
	}
	e.br(isa.JMP, 0, 0, "forever")
}

// emitThread writes thread i: its ops with s1 as its running sum, which it adds to the total,
// then the joins of its deferred leaves (whose ids it pushed) and of its siblings.
func (p *schedProg) emitThread(e *schedEmitter, i int, th *schedThread) {
	scope := fmt.Sprintf("thread%d", i)
	e.label(scope)
	e.li(isa.S1, 0)
	var deferred []int // the values of leaves to join at the end, in the order spawned
	for _, op := range th.ops {
		p.emitOp(e, scope, op, &deferred)
	}
	e.li(isa.T0, schedAddrTotal)
	e.i(isa.XADD, isa.T1, isa.T0, isa.S1, 0)
	for k := len(deferred) - 1; k >= 0; k-- {
		e.i(isa.POP, isa.A0, 0, 0, 0)
		e.sys(isa.SysThreadJoin)
		e.li(isa.T0, int64(deferred[k]+1))
		e.br(isa.BNE, isa.A0, isa.T0, fmt.Sprintf("fail%d", schedFailLeaf))
	}
	for _, j := range th.joins {
		e.li(isa.T0, int64(p.addrTid(j)))
		e.i(isa.LD, isa.A0, isa.T0, 0, 0)
		e.sys(isa.SysThreadJoin)
		e.li(isa.T0, int64(schedRetBase+j))
		e.br(isa.BNE, isa.A0, isa.T0, fmt.Sprintf("fail%d", schedFailJoin))
	}
	e.li(isa.A0, int64(schedRetBase+i))
	if th.exitSys {
		e.sys(isa.SysThreadExit)
	} else {
		e.i(isa.RET, 0, 0, 0, 0)
	}
}

// emitLeaves writes the leaf threads, which return their argument plus one: leaf0 yields,
// leaf1 sleeps, leaf2 waits for event 0.
func (p *schedProg) emitLeaves(e *schedEmitter) {
	for kind := range schedLeafKinds {
		scope := fmt.Sprintf("leaf%d", kind)
		e.label(scope)
		e.i(isa.MOV, isa.S0, isa.A0, 0, 0)
		switch kind {
		case 0:
			p.emitOp(e, scope, schedOp{kind: schedYield}, nil)
		case 1:
			p.emitOp(e, scope, schedOp{kind: schedSleep, a: p.sleepMs(1)}, nil)
		case 2:
			if p.events > 0 {
				p.emitOp(e, scope, schedOp{kind: schedWaitEvent, a: 0}, nil)
			}
		}
		e.i(isa.ADDI, isa.A0, isa.S0, 0, 1)
		e.i(isa.RET, 0, 0, 0, 0)
	}
}

// emitEcho writes the echo server of schedCall: with the request channel's handle in the low 32
// bits of its argument and the reply channel's in the high ones, it answers each request x with
// x+1, taking the next request in the same chan_sendrecv, until the request channel is closed.
// It returns the number of requests it answered.
func (p *schedProg) emitEcho(e *schedEmitter) {
	e.label("echo")
	e.i(isa.MOV, isa.S0, isa.A0, 0, 0)
	e.li(isa.S1, 0)
	e.i(isa.SHLI, isa.T0, isa.S0, 0, 32)
	e.i(isa.SHRI, isa.A0, isa.T0, 0, 32)
	e.sys(isa.SysChanRecv)
	e.label("echo.next")
	e.br(isa.BEQZ, isa.A1, 0, "echo.done")
	e.i(isa.ADDI, isa.S1, isa.S1, 0, 1)
	e.i(isa.ADDI, isa.A1, isa.A0, 0, 1)
	e.i(isa.SHRI, isa.A0, isa.S0, 0, 32)
	e.i(isa.SHLI, isa.T0, isa.S0, 0, 32)
	e.i(isa.SHRI, isa.A2, isa.T0, 0, 32)
	e.sys(isa.SysChanSendRecv)
	e.br(isa.JMP, 0, 0, "echo.next")
	e.label("echo.done")
	e.i(isa.MOV, isa.A0, isa.S1, 0, 0)
	e.i(isa.RET, 0, 0, 0, 0)
}

// emitOp writes one op. It uses a0-a3 and t0-t1, s2 as a loop counter and s3; s1 is the
// thread's sum and is left alone.
func (p *schedProg) emitOp(e *schedEmitter, scope string, op schedOp, deferred *[]int) {
	fail := func(code int) string { return fmt.Sprintf("fail%d", code) }
	// loop writes body count times (count < 0: until body jumps to the label it is given).
	loop := func(count int, body func(end string)) {
		top, end := e.local(scope), e.local(scope)
		if count == 0 {
			return
		}
		if count > 0 {
			e.li(isa.S2, int64(count))
		}
		e.label(top)
		if op.inner != schedNone {
			p.emitOp(e, scope, schedOp{kind: op.inner, a: p.sleepMs(1)}, nil)
		}
		body(end)
		if count > 0 {
			e.i(isa.ADDI, isa.S2, isa.S2, 0, -1)
			e.br(isa.BNEZ, isa.S2, 0, top)
		} else {
			e.br(isa.JMP, 0, 0, top)
		}
		e.label(end)
	}
	switch op.kind {
	case schedYield:
		e.sys(isa.SysYield)
	case schedSleep:
		e.li(isa.A0, int64(op.a))
		e.sys(isa.SysSleep)
	case schedFutexWrong:
		e.li(isa.A0, schedAddrSpare)
		e.li(isa.A1, 8)
		e.sys(isa.SysFutexWait)
		e.li(isa.T0, 1)
		e.br(isa.BNE, isa.A0, isa.T0, fail(schedFailFutex))
	case schedWakeNone:
		e.li(isa.A0, schedAddrSpare)
		e.li(isa.A1, 5)
		e.sys(isa.SysFutexWake)
		e.br(isa.BNEZ, isa.A0, 0, fail(schedFailWake))
	case schedLeaf:
		e.code(isa.A0, fmt.Sprintf("leaf%d", op.b))
		e.li(isa.A1, int64(op.a))
		e.li(isa.A2, schedLeafStack)
		e.sys(isa.SysThreadSpawn)
		if op.c == 1 {
			e.sys(isa.SysThreadJoin)
			e.li(isa.T0, int64(op.a+1))
			e.br(isa.BNE, isa.A0, isa.T0, fail(schedFailLeaf))
		} else {
			e.i(isa.PUSH, isa.A0, 0, 0, 0)
			*deferred = append(*deferred, op.a)
		}
	case schedSetEvent:
		e.li(isa.T0, int64(schedAddrEvent+8*uint64(op.a)))
		e.li(isa.T1, 1)
		e.i(isa.SD, isa.T1, isa.T0, 0, 0)
		e.li(isa.A0, int64(schedAddrEvent+8*uint64(op.a)))
		e.li(isa.A1, 1000)
		e.sys(isa.SysFutexWake)
	case schedWaitEvent:
		// The futex's check and park are one step, so this loop cannot miss the wake-up.
		top, done := e.local(scope), e.local(scope)
		e.label(top)
		e.li(isa.T0, int64(schedAddrEvent+8*uint64(op.a)))
		e.i(isa.LD, isa.T1, isa.T0, 0, 0)
		e.br(isa.BNEZ, isa.T1, 0, done)
		e.li(isa.A0, int64(schedAddrEvent+8*uint64(op.a)))
		e.li(isa.A1, 0)
		e.sys(isa.SysFutexWait)
		e.br(isa.JMP, 0, 0, top)
		e.label(done)
	case schedSend:
		loop(op.b, func(string) {
			e.li(isa.A0, int64(op.a+1))
			e.li(isa.T0, int64(op.c))
			e.i(isa.ADD, isa.A1, isa.T0, isa.S2, 0)
			e.sys(isa.SysChanSend)
			e.br(isa.BNEZ, isa.A0, 0, fail(schedFailSend))
		})
	case schedRecv:
		loop(op.b, func(end string) {
			e.li(isa.A0, int64(op.a+1))
			e.sys(isa.SysChanRecv)
			if op.b < 0 {
				e.br(isa.BEQZ, isa.A1, 0, end)
			} else {
				e.br(isa.BEQZ, isa.A1, 0, fail(schedFailRecv))
			}
			e.i(isa.ADD, isa.S1, isa.S1, isa.A0, 0)
		})
	case schedForward:
		loop(op.c, func(end string) {
			e.li(isa.A0, int64(op.a+1))
			e.sys(isa.SysChanRecv)
			if op.c < 0 {
				e.br(isa.BEQZ, isa.A1, 0, end)
			} else {
				e.br(isa.BEQZ, isa.A1, 0, fail(schedFailRecv))
			}
			e.i(isa.MOV, isa.A1, isa.A0, 0, 0)
			e.li(isa.A0, int64(op.b+1))
			e.sys(isa.SysChanSend)
			e.br(isa.BNEZ, isa.A0, 0, fail(schedFailSend))
		})
	case schedStuck:
		switch op.a {
		case 0:
			e.li(isa.A0, int64(len(p.chans)+1))
			e.sys(isa.SysChanRecv)
		case 1:
			e.li(isa.A0, int64(len(p.chans)+2))
			e.li(isa.A1, 1)
			e.sys(isa.SysChanSend)
		default:
			e.li(isa.A0, schedAddrNever)
			e.li(isa.A1, 0)
			e.sys(isa.SysFutexWait)
		}
		e.br(isa.JMP, 0, 0, fail(schedFailStuck))
	case schedExitOp:
		e.li(isa.A0, int64(op.a))
		e.sys(isa.SysExit)
	case schedCall:
		// s3 holds the request channel's handle in its low 32 bits, the reply channel's in
		// its high ones; it is also the echo server's argument. The calls send s2 and expect
		// s2+1 back.
		e.li(isa.A0, 0)
		e.sys(isa.SysChanMake)
		e.i(isa.MOV, isa.S3, isa.A0, 0, 0)
		e.li(isa.A0, 0)
		e.sys(isa.SysChanMake)
		e.i(isa.SHLI, isa.T0, isa.A0, 0, 32)
		e.i(isa.OR, isa.S3, isa.S3, isa.T0, 0)
		e.code(isa.A0, "echo")
		e.i(isa.MOV, isa.A1, isa.S3, 0, 0)
		e.li(isa.A2, schedLeafStack)
		e.sys(isa.SysThreadSpawn)
		e.i(isa.PUSH, isa.A0, 0, 0, 0)
		loop(op.a, func(string) {
			e.i(isa.SHLI, isa.T0, isa.S3, 0, 32)
			e.i(isa.SHRI, isa.A0, isa.T0, 0, 32)
			e.i(isa.MOV, isa.A1, isa.S2, 0, 0)
			e.i(isa.SHRI, isa.A2, isa.S3, 0, 32)
			e.sys(isa.SysChanSendRecv)
			e.i(isa.ADDI, isa.T0, isa.S2, 0, 1)
			e.br(isa.BNE, isa.A0, isa.T0, fail(schedFailCall))
		})
		e.i(isa.SHLI, isa.T0, isa.S3, 0, 32)
		e.i(isa.SHRI, isa.A0, isa.T0, 0, 32)
		e.sys(isa.SysChanClose)
		e.i(isa.POP, isa.A0, 0, 0, 0)
		e.sys(isa.SysThreadJoin)
		e.li(isa.T0, int64(op.a))
		e.br(isa.BNE, isa.A0, isa.T0, fail(schedFailCall))
	}
}
