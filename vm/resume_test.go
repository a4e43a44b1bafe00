package vm

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// loadFile assembles a program of programs/ and loads it with stdin and opts; out collects
// its output.
func loadFile(t *testing.T, name, stdin string, opts Options) (*Machine, *bytes.Buffer) {
	t.Helper()
	img, err := asm.AssembleFile("../programs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return loadImage(t, img, stdin, opts)
}

func loadSource(t *testing.T, src, stdin string, opts Options) (*Machine, *bytes.Buffer) {
	t.Helper()
	img, err := asm.Assemble("prog.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return loadImage(t, img, stdin, opts)
}

func loadImage(t *testing.T, img *object.Image, stdin string, opts Options) (*Machine, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	opts.Stdin, opts.Stdout = strings.NewReader(stdin), &out
	m, err := Load(img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, &out
}

// symbol returns the address of the label name in m's program.
func symbol(t *testing.T, m *Machine, name string) uint64 {
	t.Helper()
	for _, s := range m.image.Symbols {
		if s.Name == name {
			return s.Addr
		}
	}
	t.Fatalf("no label %q", name)
	return 0
}

func resume(t *testing.T, m *Machine, u Until) Stop {
	t.Helper()
	st, err := m.Resume(u)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// finish resumes m until its run is over and returns the last stop.
func finish(t *testing.T, m *Machine) Stop {
	t.Helper()
	for {
		if st := resume(t, m, Until{}); st.Ended {
			return st
		}
	}
}

func TestResumeSteps(t *testing.T) {
	m, out := loadFile(t, "fib.s", "15", Options{})
	want, err := Run(m.image, Options{Stdin: strings.NewReader("15")})
	if err != nil {
		t.Fatal(err)
	}
	// Chunks of every size up to 37, over and over, so that stops fall everywhere: in calls,
	// at check points, inside syscalls' neighbours.
	for k := uint64(1); ; k = k%37 + 1 {
		before := m.steps()
		st := resume(t, m, Until{Steps: k})
		if st.Ended {
			if st.Kind != StopExited || st.Err != nil || st.ExitCode != 0 {
				t.Fatalf("the end: %+v", st)
			}
			break
		}
		if st.Kind != StopSteps || st.Steps-before != k || st.Thread == nil || st.PC != isa.CodeAddr(st.Thread.PC) {
			t.Fatalf("Resume(Steps: %d) after %d steps = %+v, want a stop %d steps later", k, before, st, k)
		}
	}
	if out.String() != "610\n" || m.result.Steps != want.Steps || m.result.Switches != want.Switches {
		t.Errorf("in chunks: %q in %d steps, %d switches; in one run %d steps, %d switches",
			out, m.result.Steps, m.result.Switches, want.Steps, want.Switches)
	}
}

func TestResumeBreakpoint(t *testing.T) {
	m, out := loadFile(t, "fib.s", "10", Options{})
	fib := symbol(t, m, "fib")
	if err := m.SetBreakpoint(fib); err != nil {
		t.Fatal(err)
	}
	// fib(10) makes 177 calls of fib; the first has n = 10, the second n = 9.
	var args []uint64
	for {
		st := resume(t, m, Until{})
		if st.Ended {
			if st.Err != nil {
				t.Fatal(st.Err)
			}
			break
		}
		if st.Kind != StopBreakpoint || st.PC != fib || st.Trap != nil {
			t.Fatalf("stop %+v, want a breakpoint at fib", st)
		}
		if w := m.where(st.Thread, st.Thread.PC); !strings.Contains(w.Instr, "li") {
			t.Fatalf("the report shows %q at the breakpoint, not the program's instruction", w.Instr)
		}
		args = append(args, st.Thread.R[isa.A0])
	}
	if len(args) != 177 || args[0] != 10 || args[1] != 9 || out.String() != "55\n" {
		t.Errorf("%d hits, the first with n = %v; output %q; want 177, 10 and 9, \"55\\n\"", len(args), args[:min(2, len(args))], out)
	}
}

func TestResumeClearBreakpoint(t *testing.T) {
	m, out := loadFile(t, "fib.s", "10", Options{})
	fib := symbol(t, m, "fib")
	if err := m.SetBreakpoint(fib + 1); err == nil {
		t.Error("a breakpoint between instructions was set")
	}
	if err := m.SetBreakpoint(fib); err != nil {
		t.Fatal(err)
	}
	if st := resume(t, m, Until{}); st.Kind != StopBreakpoint {
		t.Fatalf("%+v, want a breakpoint", st)
	}
	if diff := cmp.Diff([]uint64{fib}, m.Breakpoints()); diff != "" {
		t.Error(diff)
	}
	m.ClearBreakpoint(fib)
	if st := finish(t, m); st.Kind != StopExited || out.String() != "55\n" {
		t.Errorf("%+v, output %q", st, out)
	}
}

func TestResumeTrap(t *testing.T) {
	const src = `
main:   li   a0, 7
        li   a1, 0
        div  a0, a0, a1
        li   a0, 3
        ret
`
	for _, skip := range []bool{false, true} {
		m, _ := loadSource(t, src, "", Options{})
		st := resume(t, m, Until{})
		div := symbol(t, m, "main") + 2*isa.InstrSize
		if st.Kind != StopTrapped || st.Ended || st.Trap == nil || st.Trap.Trap != isa.TrapDivZero || st.PC != div {
			t.Fatalf("%+v, want a trap at the div", st)
		}
		if r := st.Thread.R; r[isa.A0] != 7 || r[isa.A1] != 0 {
			t.Errorf("the registers changed: a0 = %d, a1 = %d", r[isa.A0], r[isa.A1])
		}
		if !skip {
			st = resume(t, m, Until{})
			var te *TrapError
			if !st.Ended || st.Kind != StopTrapped || !errors.As(st.Err, &te) || te.Trap != isa.TrapDivZero {
				t.Errorf("after the trap: %+v, want the run ended by it", st)
			}
			continue
		}
		// Moved past the div, the thread goes on.
		st.Thread.PC++
		if st = resume(t, m, Until{}); !st.Ended || st.Err != nil || st.ExitCode != 3 {
			t.Errorf("after moving past the trap: %+v, want an exit with 3", st)
		}
	}
}

func TestResumeEbreak(t *testing.T) {
	m, _ := loadSource(t, "main: li a0, 1\n ebreak\n ret\n", "", Options{})
	st := resume(t, m, Until{})
	if st.Kind != StopBreakpoint || st.Trap == nil || st.Trap.Trap != isa.TrapBreakpoint || st.Ended {
		t.Fatalf("%+v, want a stop at the ebreak", st)
	}
	if st = resume(t, m, Until{}); !st.Ended || st.Kind != StopTrapped {
		t.Errorf("%+v, want the run ended by the ebreak's trap, as Run ends it", st)
	}

	// With EbreakGoesOn, as under a debugger, the ebreak executes and the run stops after it;
	// the next Resume goes on from the instruction after it.
	m, _ = loadSource(t, "main: li a0, 1\n ebreak\n li a0, 7\n ret\n", "", Options{EbreakGoesOn: true})
	ebreak := symbol(t, m, "main") + isa.InstrSize
	st = resume(t, m, Until{})
	if st.Kind != StopBreakpoint || st.Trap == nil || st.Trap.PC != ebreak || st.PC != ebreak+isa.InstrSize || st.Steps != 2 || st.Ended {
		t.Fatalf("%+v, want a stop after the ebreak at %#x, at step 2", st, ebreak)
	}
	if st = resume(t, m, Until{}); !st.Ended || st.Kind != StopExited || st.ExitCode != 7 {
		t.Errorf("%+v, want the run to go on after the ebreak and exit with 7", st)
	}
}

func TestResumeSwitch(t *testing.T) {
	opts := Options{Quantum: 1000}
	m, out := loadFile(t, "threads/race.s", "", opts)
	img := m.image
	stops := 0
	var last *Thread
	for {
		st := resume(t, m, Until{Switch: true})
		if st.Ended {
			break
		}
		if st.Kind != StopSwitch || st.Thread == nil || st.Thread.State != Running {
			t.Fatalf("%+v, want a switch", st)
		}
		if st.Thread == last {
			t.Fatalf("a switch to thread %d, which ran already", st.Thread.ID)
		}
		last = st.Thread
		stops++
	}
	var want bytes.Buffer
	res, err := Run(img, Options{Quantum: 1000, Stdout: &want})
	if err != nil {
		t.Fatal(err)
	}
	// Every switch stops, and the first thread's start is a switch too.
	if uint64(stops) != res.Switches || out.String() != want.String() || m.result.Switches != res.Switches {
		t.Errorf("%d stops, %d switches, output %q; Run made %d switches and %q", stops, m.result.Switches, out, res.Switches, &want)
	}
}

func TestResumeSyscall(t *testing.T) {
	m, out := loadFile(t, "hello.s", "", Options{})
	st := resume(t, m, Until{Syscalls: []isa.Syscall{isa.SysWrite}})
	if st.Kind != StopSyscall || st.Syscall != isa.SysWrite || out.Len() != 0 {
		t.Fatalf("%+v, output %q; want a stop before the write, nothing written", st, out)
	}
	// Going on from the syscall runs it; the next stop is at exit.
	st = resume(t, m, Until{AllSyscalls: true})
	if st.Kind != StopSyscall || st.Syscall != isa.SysExit || out.String() != "Hello, world!\n" {
		t.Fatalf("%+v, output %q; want a stop before the exit, after the write", st, out)
	}
	if st = resume(t, m, Until{AllSyscalls: true}); !st.Ended || st.Err != nil {
		t.Errorf("%+v, want the end", st)
	}
}

func TestResumeReturn(t *testing.T) {
	m, out := loadFile(t, "fib.s", "10", Options{})
	fib := symbol(t, m, "fib")
	if err := m.SetBreakpoint(fib); err != nil {
		t.Fatal(err)
	}
	st := resume(t, m, Until{}) // fib(10), at its first instruction
	m.ClearBreakpoint(fib)
	th := st.Thread
	if st = resume(t, m, Until{Steps: 8}); st.Kind != StopSteps { // inside fib(10), past its enter
		t.Fatal(st)
	}
	// finish: the frame's return address is just above the saved fp.
	st = resume(t, m, Until{Thread: th, Return: th.R[isa.FP] + 8})
	if st.Kind != StopReturn || th.R[isa.A0] != 55 || isa.CodeAddr(th.PC) != symbol(t, m, "main")+2*isa.InstrSize+isa.InstrSize {
		t.Fatalf("%+v, a0 = %d; want a stop just after main's call of fib with fib(10) = 55", st, th.R[isa.A0])
	}
	if st = finish(t, m); out.String() != "55\n" {
		t.Errorf("%+v, output %q", st, out)
	}

	// next over a call: the stop comes after the call's return, whatever the callee runs.
	m, _ = loadFile(t, "fib.s", "12", Options{})
	call := symbol(t, m, "main") + 2*isa.InstrSize
	if err := m.SetBreakpoint(call); err != nil {
		t.Fatal(err)
	}
	st = resume(t, m, Until{})
	m.ClearBreakpoint(call)
	th = st.Thread
	if st = resume(t, m, Until{Thread: th, Return: th.R[isa.SP] - 8}); st.Kind != StopReturn || st.PC != call+isa.InstrSize || th.R[isa.A0] != 144 {
		t.Errorf("%+v, a0 = %d; want a stop after the call with fib(12) = 144", st, th.R[isa.A0])
	}
}

// A ret that a breakpoint stopped at, gone past by a Resume with Return, is the return
// that Resume stops after: the step past the breakpoint must not forget it.
func TestResumeReturnAtBreakpoint(t *testing.T) {
	m, _ := loadFile(t, "fib.s", "3", Options{})
	base := symbol(t, m, "fib.base") // ret
	if err := m.SetBreakpoint(base); err != nil {
		t.Fatal(err)
	}
	st := resume(t, m, Until{}) // fib(1), called from fib(2), at its ret
	th := st.Thread
	if st.Kind != StopBreakpoint || st.PC != base {
		t.Fatalf("%+v; want the breakpoint at fib.base", st)
	}
	ra := th.R[isa.SP]
	want := m.Process().load64(ra)
	if st = resume(t, m, Until{Thread: th, Return: ra}); st.Kind != StopReturn || st.PC != want || th.R[isa.SP] != ra+8 {
		t.Fatalf("%+v; want a StopReturn at %#x, just after the ret", st, want)
	}
}

// switchedTo resumes m from switch to switch until one is to thread id of the first process,
// and returns that thread.
func switchedTo(t *testing.T, m *Machine, id int) *Thread {
	t.Helper()
	for {
		st := resume(t, m, Until{Switch: true})
		if st.Ended {
			t.Fatalf("no switch to thread %d", id)
		}
		if st.Thread.ID == id {
			return st.Thread
		}
	}
}

// A Resume for more steps of a thread than it takes before it exits stops when it exits, not
// at the end of the run.
func TestResumeThreadStepsExit(t *testing.T) {
	m, _ := loadFile(t, "threads/hello.s", "", Options{})
	w := switchedTo(t, m, 2)
	st := resume(t, m, Until{Thread: w, ThreadSteps: 1 << 20})
	if st.Ended || w.State != Exited {
		t.Fatalf("%+v, thread 2 %v: want a stop where thread 2 exits, before the run ends", st, w.State)
	}
}

func TestResumeThreadSteps(t *testing.T) {
	m, out := loadFile(t, "threads/race.s", "", Options{Quantum: 50})
	// Run until the workers exist, then step the second worker alone.
	w := switchedTo(t, m, 3)
	for range 20 {
		before, total := w.Steps, m.steps()
		st := resume(t, m, Until{Thread: w, ThreadSteps: 7})
		if st.Kind != StopSteps || w.Steps-before != 7 {
			t.Fatalf("%+v: thread 3 ran %d steps, want 7", st, w.Steps-before)
		}
		if m.steps()-total < 7 {
			t.Fatalf("the machine ran %d steps", m.steps()-total)
		}
	}
	if st := finish(t, m); st.Err != nil || !strings.HasPrefix(out.String(), "counter = 200000") {
		t.Errorf("%+v, output %q", st, out)
	}
}

func TestResumeEnds(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		opts      Options
		kind      StopKind
	}{
		{"exit", "main: li a0, 4\n syscall exit\n", Options{}, StopExited},
		{"deadlock", "main: li a0, 0\n syscall chan_make\n syscall chan_recv\n ret\n", Options{}, StopDeadlock},
		{"limit", "main: jmp main\n", Options{MaxSteps: 1000}, StopLimit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := loadSource(t, tt.src, "", tt.opts)
			st := resume(t, m, Until{})
			if !st.Ended || st.Kind != tt.kind {
				t.Errorf("%+v (%v), want the end by %v", st, st.Err, tt.kind)
			}
			if _, err := m.Resume(Until{}); err == nil {
				t.Error("Resume after the end went on")
			}
			if _, err := m.Run(); err == nil {
				t.Error("Run after Resume ran")
			}
		})
	}
	m, _ := loadSource(t, "main: jmp main\n", "", Options{})
	m.Interrupt()
	if st := resume(t, m, Until{}); !st.Ended || st.Kind != StopInterrupted {
		t.Errorf("%+v, want the end by the interrupt", st)
	}
}

func TestResumeSeveralProcessors(t *testing.T) {
	m, out := loadFile(t, "hello.s", "", Options{CPUs: 2})
	if _, err := m.Resume(Until{Steps: 1}); err == nil {
		t.Error("a stop at a step on two processors")
	}
	if err := m.SetBreakpoint(symbol(t, m, "main")); err == nil {
		t.Error("a breakpoint on two processors")
	}
	if st := resume(t, m, Until{}); !st.Ended || st.Err != nil || out.String() != "Hello, world!\n" {
		t.Errorf("%+v, output %q", st, out)
	}
}

func TestFocus(t *testing.T) {
	m, out := loadFile(t, "threads/race.s", "", Options{Quantum: 100})
	var w *Thread
	for w == nil {
		st := resume(t, m, Until{Switch: true})
		if st.Ended {
			t.Fatal("no worker ran")
		}
		if st.Thread.ID == 2 {
			w = st.Thread
		}
	}
	if err := m.SetPolicy(Focus{w}); err != nil {
		t.Fatal(err)
	}
	// Focused, the worker runs alone, across many quanta: the machine's steps are its steps.
	for range 5 {
		before, total := w.Steps, m.steps()
		st := resume(t, m, Until{Thread: w, ThreadSteps: 1000})
		if st.Kind != StopSteps || w.Steps-before != 1000 || m.steps()-total != 1000 {
			t.Fatalf("%+v: the worker ran %d steps of the machine's %d; want 1000 of 1000", st, w.Steps-before, m.steps()-total)
		}
	}
	// Without a focus, the others run again, and the run ends as it would.
	if err := m.SetPolicy(RoundRobin{}); err != nil {
		t.Fatal(err)
	}
	before := w.Steps
	if st := resume(t, m, Until{Steps: 2000}); st.Kind != StopSteps || w.Steps-before == 2000 {
		t.Errorf("%+v: without the focus, the worker ran all %d steps", st, w.Steps-before)
	}
	if st := finish(t, m); st.Err != nil || !strings.HasPrefix(out.String(), "counter = 200000") {
		t.Errorf("%+v, output %q", st, out)
	}
}

// TestFocusBlocked focuses on a consumer that waits for its producer: the producer must run
// for the consumer to go on, and does.
func TestFocusBlocked(t *testing.T) {
	const src = `
        .data
ch:     .quad 0
        .text
producer:
        li   s0, 5
.next:  la   t0, ch
        ld   a0, 0(t0)
        mov  a1, s0
        syscall chan_send
        dec  s0
        bnez s0, .next
        ret
main:   li   a0, 0
        syscall chan_make
        la   t0, ch
        sd   a0, 0(t0)
        la   a0, producer
        li   a1, 0
        li   a2, 256
        syscall thread_spawn
        li   s0, 0
        li   s1, 5
.recv:  la   t0, ch
        ld   a0, 0(t0)
        syscall chan_recv
        add  s0, s0, a0
        dec  s1
        bnez s1, .recv
        mov  a0, s0
        syscall exit
`
	m, _ := loadSource(t, src, "", Options{})
	main := m.proc.threads[0]
	if err := m.SetPolicy(Focus{main}); err != nil {
		t.Fatal(err)
	}
	st := finish(t, m)
	if st.Err != nil || st.ExitCode != 15 {
		t.Fatalf("%+v, want an exit with 1+2+3+4+5", st)
	}
	if p := m.proc.Thread(2); p == nil || p.Steps == 0 {
		t.Error("the producer did not run")
	}
}

func TestFocusRefused(t *testing.T) {
	m, _ := loadFile(t, "hello.s", "", Options{CPUs: 2})
	if err := m.SetPolicy(Focus{m.proc.threads[0]}); err == nil {
		t.Error("a focus on two processors")
	}
	other, _ := loadFile(t, "hello.s", "", Options{})
	if err := other.SetPolicy(Focus{m.proc.threads[0]}); err == nil {
		t.Error("a focus on another machine's thread")
	}
}

func TestResumeWatchpoint(t *testing.T) {
	m, out := loadFile(t, "threads/race.s", "", Options{Quantum: 100})
	counter := Watch{Proc: m.proc, Addr: symbol(t, m, "counter"), Len: 8}
	for i := uint64(1); i <= 300; i++ {
		st := resume(t, m, Until{Watch: []Watch{counter}})
		if st.Kind != StopWatchpoint || st.Watch == nil {
			t.Fatalf("%+v, want a watchpoint", st)
		}
		old, new := le.Uint64(st.Watch.Old), le.Uint64(st.Watch.New)
		if old != i-1 || new != i || st.Thread.ID < 2 {
			t.Fatalf("the counter went from %d to %d, by thread %d; want %d to %d by a worker", old, new, st.Thread.ID, i-1, i)
		}
		// The thread stopped just past its store.
		if w := m.where(st.Thread, st.Thread.PC-1); !strings.HasPrefix(w.Instr, "sd") {
			t.Fatalf("the thread stopped after %q, not after its store", w.Instr)
		}
	}
	if st := finish(t, m); st.Err != nil || !strings.HasPrefix(out.String(), "counter = 200000") {
		t.Errorf("%+v, output %q", st, out)
	}

	// A change made by a syscall is seen too.
	const src = `
        .data
buf:    .space 8
        .text
main:   li   a0, 0
        la   a1, buf
        li   a2, 8
        syscall read
        li   a0, 0
        ret
`
	m, _ = loadSource(t, src, "hi", Options{VirtualClock: true})
	st := resume(t, m, Until{Watch: []Watch{{Proc: m.proc, Addr: symbol(t, m, "buf"), Len: 8}}})
	if st.Kind != StopWatchpoint || string(st.Watch.New[:2]) != "hi" || st.PC != symbol(t, m, "main")+4*isa.InstrSize {
		t.Errorf("%+v, want a stop just past the read, with \"hi\" read", st)
	}
	if _, err := m.Resume(Until{Watch: []Watch{{Proc: m.proc, Addr: 0, Len: 8}}}); err == nil {
		t.Error("a watchpoint outside memory")
	}
}

// pauseWhileRunning resumes m on a goroutine of its own and pauses it until the Resume returns.
func pauseWhileRunning(t *testing.T, m *Machine) Stop {
	t.Helper()
	done := make(chan Stop)
	go func() {
		st, err := m.Resume(Until{})
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	// One pause, once the run has had time to start. Pausing again and again until it stops
	// would race with the stop: a pause asked for after the run stopped waits for the next
	// Resume, and stops that at its first check point. (A pause asked for before the run
	// starts stops it at its first check point too.)
	time.Sleep(5 * time.Millisecond)
	if !m.Pause() {
		t.Fatal("Pause refused on one processor")
	}
	select {
	case st := <-done:
		return st
	case <-time.After(20 * time.Second):
		m.Interrupt()
		t.Fatalf("no stop 20 s after a pause: %+v", <-done)
	}
	return Stop{}
}

func TestPause(t *testing.T) {
	const spin = `
main:   li   t0, 0
.loop:  inc  t0
        j    .loop
`
	// A pause made before the run stops it at its first check point.
	m, _ := loadSource(t, spin, "", Options{VirtualClock: true})
	m.Pause()
	st := resume(t, m, Until{})
	if st.Kind != StopInterrupted || st.Ended || st.Err != nil || st.Thread == nil || st.Steps == 0 || st.Steps > 2*DefaultQuantum {
		t.Fatalf("%+v, want a pause at the first check point", st)
	}
	// It goes on from there, as far as it is asked.
	before := st.Steps
	if st = resume(t, m, Until{Steps: 1000}); st.Kind != StopSteps || st.Steps != before+1000 {
		t.Fatalf("%+v, want 1000 steps more", st)
	}

	// A pause while it runs.
	st = pauseWhileRunning(t, m)
	if st.Kind != StopInterrupted || st.Ended || st.Err != nil || st.Thread == nil || st.Thread.R[isa.T0] <= 1000 {
		t.Fatalf("%+v, want a pause of the running thread", st)
	}
	if st = resume(t, m, Until{Steps: 1}); st.Kind != StopSteps {
		t.Fatalf("%+v, after a pause", st)
	}
	m.Interrupt()
	if st = finish(t, m); st.Kind != StopInterrupted || st.Err == nil {
		t.Fatalf("%+v, want the run ended by Interrupt", st)
	}

	// Several processors cannot pause.
	m, _ = loadSource(t, spin, "", Options{CPUs: 2})
	if m.Pause() {
		t.Error("a pause of two processors")
	}
}

// TestPauseIdle pauses a machine none of whose threads can run: one waits for input the host
// has not sent, one sleeps.
func TestPauseIdle(t *testing.T) {
	img, err := asm.AssembleFile("../programs/echo.s")
	if err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	var out bytes.Buffer
	m, err := Load(img, Options{VirtualClock: true, Stdin: r, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	st := pauseWhileRunning(t, m)
	if st.Kind != StopInterrupted || st.Ended || st.Thread != nil {
		t.Fatalf("%+v, want a pause with no thread running", st)
	}
	go func() {
		w.Write([]byte("late input\n"))
		w.Close()
	}()
	if st = finish(t, m); st.Err != nil || st.ExitCode != 0 || out.String() != "late input\n" {
		t.Fatalf("%+v, output %q, want the input echoed after the pause", st, out.String())
	}

	const sleeper = `
main:   li   a0, 1000000
        syscall sleep
        li   a0, 7
        ret
`
	m, _ = loadSource(t, sleeper, "", Options{}) // the real clock: a sleep of 1000 s
	if st = pauseWhileRunning(t, m); st.Kind != StopInterrupted || st.Ended || st.Thread != nil {
		t.Fatalf("%+v, want a pause with the thread asleep", st)
	}
	if info := m.ThreadInfo(m.proc.Thread(1)); info.State != Blocked {
		t.Errorf("%+v, want the thread asleep still", info)
	}
}

// TestFeedInput feeds a program its input between Resumes, as a debugger does with the lines
// its user types: each read with nothing to read stops at the read.
func TestFeedInput(t *testing.T) {
	m, out := loadFileFed(t, "echo.s")
	img := m.image
	read := func() Stop {
		t.Helper()
		st := resume(t, m, Until{})
		if st.Kind != StopInput || st.Syscall != isa.SysRead || st.Thread == nil || m.where(st.Thread, st.Thread.PC).Instr != "syscall read" {
			t.Fatalf("%+v, want a stop at the read", st)
		}
		return st
	}
	first := read()
	if again := read(); again.Steps != first.Steps || again.PC != first.PC {
		t.Fatalf("a Resume with no input fed went on: %+v, then %+v", first, again)
	}
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"one\n", "two\n"} {
		if err := m.FeedInput([]byte(line), false); err != nil {
			t.Fatal(err)
		}
		read()
	}
	if err := m.FeedInput(nil, true); err != nil {
		t.Fatal(err)
	}
	if st := resume(t, m, Until{}); !st.Ended || st.ExitCode != 0 || out.String() != "one\ntwo\n" {
		t.Fatalf("%+v, output %q", st, out.String())
	}
	if err := m.FeedInput([]byte("more"), false); err == nil {
		t.Error("input fed after its end")
	}
	// Restored to before the input was fed, it reads it again from the log.
	if err := m.Restore(snap); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if st := resume(t, m, Until{}); !st.Ended || out.String() != "one\ntwo\n" {
		t.Fatalf("after Restore: %+v, output %q", st, out.String())
	}

	// read_int waits for a whole line.
	m, fout := loadFileFed(t, "fib.s")
	for _, part := range []string{"1", "8\n"} {
		if st := resume(t, m, Until{}); st.Kind != StopInput || st.Syscall != isa.SysReadInt {
			t.Fatalf("%+v, want a stop at read_int", st)
		}
		m.FeedInput([]byte(part), false)
	}
	if st := finish(t, m); st.Err != nil || !strings.Contains(fout.String(), "2584") {
		t.Errorf("%+v, output %q, want fib(18)", st, fout.String())
	}

	// Run cannot feed.
	m, _ = loadFileFed(t, "echo.s")
	if _, err := m.Run(); err == nil || !strings.Contains(err.Error(), "FeedInput") {
		t.Errorf("Run of a program fed its input: %v", err)
	}
	if _, err := Load(img, Options{FeedInput: true, Stdin: strings.NewReader("x")}); err == nil {
		t.Error("FeedInput with a Stdin")
	}
	m, _ = loadFile(t, "echo.s", "", Options{})
	if err := m.FeedInput([]byte("x"), false); err == nil {
		t.Error("FeedInput to a machine that reads Stdin")
	}
}

func loadFileFed(t *testing.T, name string) (*Machine, *bytes.Buffer) {
	t.Helper()
	img, err := asm.AssembleFile("../programs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m, err := Load(img, Options{FeedInput: true, VirtualClock: true, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	return m, &out
}

// TestResumeBreakpointAtStart: a breakpoint at the entry does not hold back a Resume before
// the first instruction, which is already there.
func TestResumeBreakpointAtStart(t *testing.T) {
	m, _ := loadFile(t, "fib.s", "5", Options{VirtualClock: true})
	if err := m.SetBreakpoint(m.image.Entry); err != nil {
		t.Fatal(err)
	}
	if st := resume(t, m, Until{Steps: 3}); st.Kind != StopSteps || st.Steps != 3 {
		t.Fatalf("%+v, want 3 steps past the breakpoint at the entry", st)
	}
}

func TestCancelPause(t *testing.T) {
	m, _ := loadSource(t, "main: li t0, 0\n.loop: inc t0\n j .loop\n", "", Options{VirtualClock: true})
	m.Pause()
	m.CancelPause()
	if st := resume(t, m, Until{Steps: 100_000}); st.Kind != StopSteps {
		t.Fatalf("%+v, want the steps: the pause was taken back", st)
	}
}
