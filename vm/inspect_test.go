package vm

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// inspectLoad assembles src as file name and loads it with a small stack, so that the stack's
// addresses are easy to count: the main thread's sp starts at isa.DataBase-16, below the argv
// array's terminating 0, and holds the return address of the exit stub.
func inspectLoad(t *testing.T, name, src string, opts Options) *Machine {
	t.Helper()
	img, err := asm.Assemble(name, []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts.StackSize == 0 {
		opts.StackSize = 4096
	}
	if opts.MaxMem == 0 {
		opts.MaxMem = 1 << 16
	}
	m, err := Load(img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stopAfter loads src and runs it for exactly steps instructions: the run stops with a step
// limit, and leaves the machine as it was then.
func stopAfter(t *testing.T, name, src string, steps uint64) (*Machine, *LimitError) {
	t.Helper()
	m := inspectLoad(t, name, src, Options{MaxSteps: steps})
	_, err := m.Run()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != LimitSteps {
		t.Fatalf("Run after %d steps: %v, want the step limit", steps, err)
	}
	return m, le
}

// fibSrc is programs/fib.s without its comments: fib(n) keeps a frame, but for its leaves,
// which return before they reach enter; main keeps none. main exits with fib(20) as its status.
//
// fib's instructions are at fib+0 (li) to fib+60 (ret, fib.base); the first call is at fib+28,
// the second at fib+40. main's call is at main+4 = 0x00400044.
const fibSrc = `fib:    li      t0, 2
        blt     a0, t0, .base
        enter   0
        push    s0, s1
        mov     s0, a0
        addi    a0, s0, -1
        call    fib
        mov     s1, a0
        addi    a0, s0, -2
        call    fib
        add     a0, a0, s1
        pop     s1, s0
        leave
.base:  ret
main:   li      a0, 20
        call    fib
        ret
`

const (
	fibAddr     = isa.TextBase
	fibCall1    = fibAddr + 28
	fibRet      = fibAddr + 60
	fibMain     = fibAddr + 64
	fibMainCall = fibMain + 4
)

// TestBacktraceDeepFib stops fib(20) at its first leaf, fib(1), on its ret: twenty calls of fib
// deep, with nineteen frames on the chain and the leaf's return address at sp.
//
// Each call of fib that is not a leaf runs 8 instructions up to its first call (li, blt, enter,
// two pushes, mov, addi, call), and main 2 up to its own; the leaf runs li and blt. So the stop
// after 2 + 19*8 + 2 steps is on the leaf's ret.
//
// main starts with sp = DataBase-16. Each call of fib that is not a leaf then takes 32 bytes of
// stack: the return address, the fp that enter saves, and the two pushes. So the k-th call
// (k = 1 for fib(20), 19 for fib(2)) has its frame at fp_k = DataBase - 32k.
func TestBacktraceDeepFib(t *testing.T) {
	m, le := stopAfter(t, "fib.s", fibSrc, 2+19*8+2)
	th := m.Process().Thread(1)
	fp := func(k int) uint64 { return isa.DataBase - 32*uint64(k) }
	callWhere := func(pc uint64, line int) Where {
		return Where{Proc: 1, Thread: 1, PC: pc, Instr: "call fib", File: "fib.s", Line: line, Text: "        call    fib"}
	}

	want := []Frame{
		{PC: fibRet, Func: "fib", Off: 60, FP: fp(19), SP: fp(19) - 24,
			Where: Where{Proc: 1, Thread: 1, PC: fibRet, Instr: "ret", File: "fib.s", Line: 14, Text: ".base:  ret"}},
		// The leaf's caller, from the return address at sp: fp is still the caller's own.
		{PC: fibCall1, Func: "fib", Off: 28, FP: fp(19), SP: fp(19) - 16, Where: callWhere(fibCall1, 7)},
	}
	// The chain: the frame at fp_k holds the return address into call k-1.
	for k := 19; k >= 2; k-- {
		want = append(want, Frame{PC: fibCall1, Func: "fib", Off: 28, FP: fp(k - 1), SP: fp(k) + 16, Where: callWhere(fibCall1, 7)})
	}
	want = append(want, Frame{PC: fibMainCall, Func: "main", Off: 4, FP: 0, SP: isa.DataBase - 16, Where: callWhere(fibMainCall, 16)})

	got := m.Backtrace(th, 100)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Backtrace (-want +got):\n%s", d)
	}
	if d := cmp.Diff(le.Where, got[0].Where); d != "" {
		t.Errorf("frame 0 is not where the stop's report says the thread is (-report +frame):\n%s", d)
	}
	if got := m.Backtrace(th, 3); !cmp.Equal(want[:3], got) {
		t.Errorf("Backtrace(t, 3) = %d frames, want the first 3:\n%s", len(got), cmp.Diff(want[:3], got))
	}
	for _, max := range []int{0, -1} {
		if got := m.Backtrace(th, max); got != nil {
			t.Errorf("Backtrace(t, %d) = %d frames, want none", max, len(got))
		}
	}

	info := m.ThreadInfo(th)
	wantInfo := ThreadInfo{BlockedThread: BlockedThread{State: Running, Where: want[0].Where}, Steps: 2 + 19*8 + 2, Switches: 1}
	if d := cmp.Diff(wantInfo, info); d != "" {
		t.Errorf("ThreadInfo (-want +got):\n%s", d)
	}
}

// TestBacktraceEveryStep stops fib(4) after every number of steps from its first instruction
// to its exit, and checks each backtrace against the calls really in progress: a shadow stack
// kept from the instructions that ran, pushed at each call and popped at each ret. It covers a
// function at its first instruction, a leaf, a frame half built (after enter, between the
// pushes), half undone (after leave, on ret), and main returning into the exit stub.
func TestBacktraceEveryStep(t *testing.T) {
	src := bytes.Replace([]byte(fibSrc), []byte("li      a0, 20"), []byte("li      a0, 4"), 1)
	img, err := asm.Assemble("fib.s", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []uint64 // the calls in progress, outermost first
	for steps := uint64(0); ; steps++ {
		m, err := Load(img, Options{MaxSteps: steps, StackSize: 4096, MaxMem: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		if steps > 0 {
			if _, err := m.Run(); err == nil {
				if steps < 50 {
					t.Fatalf("fib(4) exited after %d steps; it takes more", steps)
				}
				return
			}
		}
		th := m.Process().Thread(1)
		if th.Steps != steps {
			t.Fatalf("stopped after %d steps, want %d", th.Steps, steps)
		}
		want := []uint64{th.PCAddr()}
		for i := len(calls) - 1; i >= 0; i-- {
			want = append(want, calls[i])
		}
		var got []uint64
		for _, f := range m.Backtrace(th, 100) {
			got = append(got, f.PC)
			if f.Where.PC != f.PC {
				t.Errorf("after %d steps: frame at %#x has its Where at %#x", steps, f.PC, f.Where.PC)
			}
		}
		if !cmp.Equal(want, got) {
			t.Fatalf("after %d steps, at %#x: backtrace %#x, want %#x", steps, th.PCAddr(), got, want)
		}
		// What the next instruction does to the calls in progress.
		if th.PC < len(img.Text) {
			switch img.Text[th.PC].Op() {
			case isa.CALL:
				calls = append(calls, th.PCAddr())
			case isa.RET:
				if len(calls) > 0 { // main's ret returns to the loader's stub, not to a call
					calls = calls[:len(calls)-1]
				}
			}
		}
	}
}

// TestBacktraceDamaged damages the deep fib's stack and registers as a wild store would, and
// checks that the walk stops at the damage: at an fp outside the stack, one that does not go up
// the stack (a loop of frames among them), and a return address that does not follow a call.
func TestBacktraceDamaged(t *testing.T) {
	const steps = 2 + 19*8 + 2 // as in TestBacktraceDeepFib
	fp19 := uint64(isa.DataBase - 32*19)
	word := func(v uint64) []byte { return le.AppendUint64(nil, v) }
	tests := []struct {
		name   string
		damage func(t *testing.T, th *Thread)
		frames int // how many of the frames of the intact stack are left
		last   func(f *Frame)
	}{
		{"saved fp points at itself", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19, word(fp19))
		}, 3, func(f *Frame) { f.FP = fp19 }},
		{"two saved fps point at each other", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19+32, word(fp19)) // fp19's saved fp is fp19+32
		}, 4, func(f *Frame) { f.FP = fp19 }},
		{"saved fp points down the stack", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19, word(fp19-64))
		}, 3, func(f *Frame) { f.FP = fp19 - 64 }},
		{"saved fp points into the data", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19, word(isa.DataBase))
		}, 3, func(f *Frame) { f.FP = isa.DataBase }},
		{"saved fp wraps around", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19, word(math.MaxUint64-7))
		}, 3, func(f *Frame) { f.FP = math.MaxUint64 - 7 }},
		{"return address not after a call", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19+8, word(fibAddr+12)) // after enter
		}, 2, nil},
		{"return address in the data", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19+8, word(isa.DataBase))
		}, 2, nil},
		{"return address misaligned", func(t *testing.T, th *Thread) {
			mustWrite(t, th.Proc, fp19+8, word(fibCall1+6))
		}, 2, nil},
		{"fp register outside memory", func(t *testing.T, th *Thread) {
			th.R[isa.FP] = 8
		}, 2, nil},
		{"fp register below sp", func(t *testing.T, th *Thread) {
			th.R[isa.FP] = th.R[isa.SP] - 32
		}, 2, nil},
		{"fp register at the top of the address space", func(t *testing.T, th *Thread) {
			th.R[isa.FP] = math.MaxUint64
		}, 2, nil},
	}
	intact, _ := stopAfter(t, "fib.s", fibSrc, steps)
	whole := intact.Backtrace(intact.Process().Thread(1), 100)
	if len(whole) != 21 {
		t.Fatalf("the intact stack has %d frames, want 21 (see TestBacktraceDeepFib)", len(whole))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := stopAfter(t, "fib.s", fibSrc, steps)
			th := m.Process().Thread(1)
			tt.damage(t, th)
			want := append([]Frame(nil), whole[:tt.frames]...)
			if tt.last != nil {
				tt.last(&want[len(want)-1])
			}
			// Frames 0 and 1 show the registers as they are now.
			want[0].FP, want[1].FP = th.R[isa.FP], th.R[isa.FP]
			got := m.Backtrace(th, 1000)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Backtrace (-want +got):\n%s", d)
			}
		})
	}

	// A wild sp hides the leaf's caller, but the chain still holds.
	m, _ := stopAfter(t, "fib.s", fibSrc, steps)
	th := m.Process().Thread(1)
	th.R[isa.SP] = 0
	want := append([]Frame{whole[0]}, whole[2:]...)
	want[0].SP = 0
	if d := cmp.Diff(want, m.Backtrace(th, 1000)); d != "" {
		t.Errorf("sp = 0: Backtrace (-want +got):\n%s", d)
	}
}

func mustWrite(t *testing.T, p *Process, addr uint64, b []byte) {
	t.Helper()
	if err := p.WriteMemory(addr, b); err != nil {
		t.Fatal(err)
	}
}

// threadsSrc leaves thread 1 joining thread 2, thread 2 parked on a futex in park, a leaf
// called from worker, which keeps a frame, and thread 3 spinning.
const threadsSrc = `main:   la      a0, worker
        li      a1, 0
        li      a2, 256
        syscall thread_spawn
        mov     s0, a0
        la      a0, spinner
        li      a1, 0
        li      a2, 256
        syscall thread_spawn
        mov     a0, s0
        syscall thread_join
        ret
worker: enter   0
        la      a0, word
        call    park
        leave
        ret
park:   li      a1, 0
        syscall futex_wait
        ret
spinner: jmp    spinner
        .data
pad:    .quad   0
word:   .quad   0
`

// TestThreadInfoBlocked stops threadsSrc after 1000 steps: main ran 11 instructions up to its
// join, worker and park 5 up to the futex, and the spinner the rest.
func TestThreadInfoBlocked(t *testing.T) {
	m, _ := stopAfter(t, "threads.s", threadsSrc, 1000)
	p := m.Process()
	at := func(tid, i, line int, instr, text string) Where {
		return Where{Proc: 1, Thread: tid, PC: isa.CodeAddr(i), Instr: instr, File: "threads.s", Line: line, Text: text}
	}
	want := []ThreadInfo{
		{BlockedThread: BlockedThread{State: Blocked, Waits: "thread_join of thread 2",
			Where: at(1, 10, 11, "syscall thread_join", "        syscall thread_join")},
			Steps: 11, Switches: 1},
		{BlockedThread: BlockedThread{State: Blocked, Waits: "futex_wait on address 0x10000008 (word)",
			Where:  at(2, 18, 19, "syscall futex_wait", "        syscall futex_wait"),
			Caller: at(2, 14, 15, "call park", "        call    park")},
			Steps: 5, Switches: 1},
		{BlockedThread: BlockedThread{State: Running, Where: at(3, 20, 21, "jmp spinner", "spinner: jmp    spinner")},
			Steps: 1000 - 16, Switches: 1},
	}
	var got []ThreadInfo
	for _, th := range p.Threads() {
		got = append(got, m.ThreadInfo(th))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ThreadInfo of each thread (-want +got):\n%s", d)
	}

	// Thread 2's stack is the first taken from the heap, at the end of the data: 256 bytes
	// whose top word is the return address into the thread exit stub. worker's frame is just
	// below it, and park's return address below that.
	stack := uint64(isa.DataBase + 16)
	wantFrames := []Frame{
		{PC: isa.CodeAddr(18), Func: "park", Off: 4, Where: want[1].Where, FP: stack + 240, SP: stack + 232},
		{PC: isa.CodeAddr(14), Func: "worker", Off: 8, Where: want[1].Caller, FP: stack + 240, SP: stack + 240},
	}
	if d := cmp.Diff(wantFrames, m.Backtrace(p.Thread(2), 10)); d != "" {
		t.Errorf("Backtrace of thread 2 (-want +got):\n%s", d)
	}
	// The other two are in the functions they started in, which pushed nothing: the return
	// address at sp is the loader's stub.
	if d := cmp.Diff([]Frame{{PC: isa.CodeAddr(10), Func: "main", Off: 40, Where: want[0].Where, SP: isa.DataBase - 16}},
		m.Backtrace(p.Thread(1), 10)); d != "" {
		t.Errorf("Backtrace of thread 1 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Frame{{PC: isa.CodeAddr(20), Func: "spinner", Where: want[2].Where, SP: stack + 256 + 248}},
		m.Backtrace(p.Thread(3), 10)); d != "" {
		t.Errorf("Backtrace of thread 3 (-want +got):\n%s", d)
	}

	for _, id := range []int{0, -1, 4, 1 << 40} {
		if th := p.Thread(id); th != nil {
			t.Errorf("Thread(%d) = thread %d, want nil", id, th.ID)
		}
	}
}

// TestInspectBeforeRun looks at a machine that has not run, and changes it: the program then
// runs with the changes.
func TestInspectBeforeRun(t *testing.T) {
	m := inspectLoad(t, "fib.s", fibSrc, Options{})
	procs := m.Processes()
	if len(procs) != 1 || procs[0] != m.Process() {
		t.Fatalf("Processes() = %v, want the first process alone", procs)
	}
	th := procs[0].Thread(1)
	info := m.ThreadInfo(th)
	wantInfo := ThreadInfo{BlockedThread: BlockedThread{State: Runnable,
		Where: Where{Proc: 1, Thread: 1, PC: fibMain, Instr: "li a0, 20", File: "fib.s", Line: 15, Text: "main:   li      a0, 20"}}}
	if d := cmp.Diff(wantInfo, info); d != "" {
		t.Errorf("ThreadInfo (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Frame{{PC: fibMain, Func: "main", Where: wantInfo.Where, SP: isa.DataBase - 16}}, m.Backtrace(th, 10)); d != "" {
		t.Errorf("Backtrace at the entry (-want +got):\n%s", d)
	}

	// Start in fib with a0 = 10 instead: fib returns into the exit stub, with fib(10).
	fib, ok := procs[0].Lookup("fib")
	if !ok || fib != fibAddr {
		t.Fatalf("Lookup(fib) = %#x, %v; want %#x", fib, ok, uint64(fibAddr))
	}
	if err := th.SetPC(fib); err != nil {
		t.Fatal(err)
	}
	if th.PC != 0 || th.PCAddr() != fibAddr {
		t.Errorf("after SetPC(%#x): PC %d, PCAddr %#x", fib, th.PC, th.PCAddr())
	}
	th.R[isa.A0] = 10
	res, err := m.Run()
	if err != nil || res.ExitCode != 55 {
		t.Errorf("Run: status %d, %v; want fib(10) = 55", res.ExitCode, err)
	}
	if err := th.SetPC(fib); err == nil || err.Error() != "thread 1 of process 1 has ended: its pc cannot be set" {
		t.Errorf("SetPC of an ended thread: %v", err)
	}
}

func TestSetPCRefused(t *testing.T) {
	m := inspectLoad(t, "fib.s", fibSrc, Options{})
	th := m.Process().Thread(1)
	for _, c := range []struct {
		addr uint64
		want string
	}{
		{0, "0x00000000"},
		{isa.TextBase - 4, "0x003ffffc"},
		{isa.TextBase + 2, "0x00400002"},                // not a multiple of 4
		{isa.CodeAddr(19), "0x0040004c"},                // past the end: the sentinel that traps
		{isa.CodeAddr(19 + sentinelExit), "0x00400050"}, // the exit stub
		{isa.DataBase, "0x10000000"},
		{math.MaxUint64 - 3, "0xfffffffffffffffc"},
	} {
		err := th.SetPC(c.addr)
		want := "pc " + c.want + " is not the address of an instruction of process 1 (the text holds 19, at 0x00400000 to 0x00400048)"
		if err == nil || err.Error() != want {
			t.Errorf("SetPC(%#x) = %v\nwant %s", c.addr, err, want)
		}
		if th.PC != 16 {
			t.Errorf("SetPC(%#x) refused, but moved pc to %d", c.addr, th.PC)
		}
	}
}

// memSrc exits with the quad at value. With a stack of 4096 bytes, its memory is
// 0xffff000 to 0x10000010: the stack, then 8 bytes of data, rounded up to 16.
const memSrc = `main:   la      t0, value
        ld      a0, 0(t0)
        ret
        .data
value:  .quad   1
`

func TestMemory(t *testing.T) {
	m := inspectLoad(t, "mem.s", memSrc, Options{})
	p := m.Process()
	const lo, hi = isa.DataBase - 4096, isa.DataBase + 16
	value, ok := p.Lookup("value")
	if !ok || value != isa.DataBase {
		t.Fatalf("Lookup(value) = %#x, %v", value, ok)
	}

	// Round trips, at the ends of memory and across the stack and the data.
	for _, addr := range []uint64{lo, lo + 1, isa.DataBase - 4, value, hi - 8} {
		in := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		if err := p.WriteMemory(addr, in); err != nil {
			t.Fatalf("WriteMemory(%#x): %v", addr, err)
		}
		out := make([]byte, 8)
		if err := p.ReadMemory(addr, out); err != nil {
			t.Fatalf("ReadMemory(%#x): %v", addr, err)
		}
		base, mem := p.Memory()
		if !bytes.Equal(out, in) || !bytes.Equal(mem[addr-base:addr-base+8], in) {
			t.Errorf("at %#x: wrote %v, read %v, memory holds %v", addr, in, out, mem[addr-base:addr-base+8])
		}
	}
	for _, addr := range []uint64{lo, hi} {
		if err := p.ReadMemory(addr, nil); err != nil {
			t.Errorf("ReadMemory(%#x, nothing): %v", addr, err)
		}
	}

	before := bytes.Clone(mustMemory(p))
	const span = ": not inside the memory of process 1, which is 0xffff000 to 0x10000010"
	for _, c := range []struct {
		addr uint64
		n    int
		want string // after "read" or "write"
	}{
		{lo - 1, 1, " at 0xfffefff" + span},
		{lo - 1, 2, " at 0xfffefff" + span},
		{hi - 4, 8, " at 0x1000000c" + span},
		{hi, 1, " at 0x10000010" + span},
		{0, 8, " at 0x0" + span},
		{math.MaxUint64 - 3, 8, " at 0xfffffffffffffffc" + span}, // its end wraps around to 4
		{math.MaxUint64, 2, " at 0xffffffffffffffff" + span},
		{lo, 4096 + 17, " at 0xffff000" + span},
		{isa.TextBase, 4, " at 0x400000" + span + "; that is a code address, and the text is not in memory"},
	} {
		b := make([]byte, c.n)
		for verb, access := range map[string]func(uint64, []byte) error{"read": p.ReadMemory, "write": p.WriteMemory} {
			err := access(c.addr, b)
			want := itoa(c.n) + "-byte " + verb + c.want
			if err == nil || err.Error() != want {
				t.Errorf("%s of %d bytes at %#x: %v\nwant %s", verb, c.n, c.addr, err, want)
			}
		}
	}
	if !bytes.Equal(before, mustMemory(p)) {
		t.Errorf("a refused write changed memory")
	}

	// The program sees what was written.
	if err := p.WriteMemory(value, le.AppendUint64(nil, 42)); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Run(); err != nil || res.ExitCode != 42 {
		t.Errorf("Run: status %d, %v; want the 42 written into value", res.ExitCode, err)
	}
}

func mustMemory(p *Process) []byte { _, mem := p.Memory(); return mem }

// procsSrc starts a process that exits at once with status 7, and that nobody waits for, then
// one that spins; main spins too.
const procsSrc = `main:   la      a0, quits
        li      a1, 7
        li      a2, 0
        li      a3, 1
        syscall start
        la      a0, spins
        li      a1, 0
        li      a2, 0
        li      a3, 1
        syscall start
.loop:  jmp     .loop
quits:  syscall exit
spins:  jmp     spins
`

// TestProcessesAfterRun checks what the process table keeps once the run is over: the first
// process whole, a zombie's status, another process's threads but not its memory.
//
// On one processor, main has the first 8 slices (procQuantum) of 10,000 steps, then process 2
// exits in its first, and process 3 spins until the stop: its thread is the one running then.
func TestProcessesAfterRun(t *testing.T) {
	m, _ := stopAfter(t, "procs.s", procsSrc, 100_000)
	procs := m.Processes()
	var ids []int
	for _, p := range procs {
		ids = append(ids, p.ID)
	}
	if !cmp.Equal(ids, []int{1, 2, 3}) {
		t.Fatalf("Processes() = %v, want 1, 2, 3", ids)
	}
	zombie, spinner := procs[1], procs[2]
	if code, ended := zombie.ExitCode(); code != 7 || !ended || len(zombie.Threads()) != 0 || zombie.Thread(1) != nil {
		t.Errorf("process 2: status %d, ended %v, %d threads; want 7, true and none", code, ended, len(zombie.Threads()))
	}
	if _, ended := spinner.ExitCode(); ended || len(spinner.Threads()) != 1 {
		t.Errorf("process 3: ended %v, %d threads; want alive, with 1", ended, len(spinner.Threads()))
	}
	b := make([]byte, 8)
	for p, want := range map[*Process]string{
		zombie:  "8-byte read at 0x10000000: process 2 has no memory: it has ended",
		spinner: "8-byte read at 0x10000000: process 3 has no memory: the run is over, and only the first process's memory is kept",
	} {
		if err := p.ReadMemory(isa.DataBase, b); err == nil || err.Error() != want {
			t.Errorf("process %d: ReadMemory: %v\nwant %s", p.ID, err, want)
		}
	}
	if err := m.Process().ReadMemory(isa.DataBase-8, b); err != nil {
		t.Errorf("the first process's memory: %v", err)
	}

	// Process 3's thread has registers and code but no stack to walk.
	th := spinner.Thread(1)
	where := Where{Proc: 3, Thread: 1, PC: isa.CodeAddr(12), Instr: "jmp spins", File: "procs.s", Line: 13, Text: "spins:  jmp     spins"}
	if d := cmp.Diff([]Frame{{PC: where.PC, Func: "spins", Where: where, SP: th.R[isa.SP]}}, m.Backtrace(th, 10)); d != "" {
		t.Errorf("Backtrace of process 3 (-want +got):\n%s", d)
	}
	if info := m.ThreadInfo(th); info.Where != where || info.State != Running {
		t.Errorf("ThreadInfo of process 3's thread: %v, state %v", info.Where, info.State)
	}
}

// TestInspectWildPC checks that a pc written straight into Thread.PC, out of the text, is
// described by its address alone.
func TestInspectWildPC(t *testing.T) {
	m := inspectLoad(t, "fib.s", fibSrc, Options{})
	th := m.Process().Thread(1)
	for _, pc := range []int{-1, 19 + numSentinels, 1 << 40} {
		th.PC = pc
		where := Where{Proc: 1, Thread: 1, PC: isa.CodeAddr(pc)}
		if info := m.ThreadInfo(th); info.Where != where {
			t.Errorf("pc %d: ThreadInfo's Where = %+v, want %+v", pc, info.Where, where)
		}
		if d := cmp.Diff([]Frame{{PC: where.PC, Where: where, SP: isa.DataBase - 16}}, m.Backtrace(th, 10)); d != "" {
			t.Errorf("pc %d: Backtrace (-want +got):\n%s", pc, d)
		}
	}
}

// TestWildPCTraps checks that a pc written straight into Thread.PC, out of the code, traps
// when the thread runs, where the loop takes the pc from the thread: as a Resume begins, at a
// switch by a syscall (main yields to the spinner), and at a switch by preemption (the spinner's
// slice ends). The loop fetches instructions without Go's bounds check, so these checks are
// all that keeps it inside the code.
func TestWildPCTraps(t *testing.T) {
	const src = `main:   la      a0, spin
        li      a1, 0
        li      a2, 256
        syscall thread_spawn
.y:     syscall yield
        jmp     .y
spin:   jmp     spin
`
	for _, pc := range []int{-1, 7 + numSentinels, 1 << 40} {
		for _, c := range []struct {
			name   string
			steps  uint64 // where the first Resume stops: in main (4) or in the spinner (505)
			stopIn int    // the thread it stops in
			wild   int    // the thread whose pc is written: 1 main, 2 the spinner
		}{
			{"the running thread", 4, 1, 1},
			{"a switch by a syscall", 4, 1, 2},
			{"a switch by preemption", 505, 2, 1},
		} {
			m := inspectLoad(t, "wild.s", src, Options{Quantum: 1000})
			st, err := m.Resume(Until{Steps: c.steps})
			if err != nil || st.Kind != StopSteps {
				t.Fatalf("%s: the first Resume: %+v, %v", c.name, st, err)
			}
			if st.Thread == nil || st.Thread.ID != c.stopIn {
				t.Fatalf("%s: stopped %+v, want in thread %d", c.name, st, c.stopIn)
			}
			th := m.Process().Thread(c.wild)
			th.PC = pc
			st, err = m.Resume(Until{})
			if err != nil || st.Kind != StopTrapped || st.Trap.Trap != isa.TrapBadJump {
				t.Fatalf("%s, pc %d: %+v, %v; want a bad-jump trap", c.name, pc, st, err)
			}
			if st.Thread != th || st.Trap.Where.PC != isa.CodeAddr(pc) {
				t.Errorf("%s, pc %d: trapped in thread %d at %#x, want thread %d at %#x", c.name, pc, st.Thread.ID, st.Trap.Where.PC, th.ID, isa.CodeAddr(pc))
			}
		}
	}
}

// symSrc has labels that share an address: a global and a local one of its own, at f; a
// local one of f, which sorts first, and two globals, at g; a label of the data's end and one
// of the bss's start. Labels mark the ends of the text and of the bss.
const symSrc = `main:   la      a0, msg
.loop:  nop
        nop
        ret
f:
.top:   ret
.end:
h:
g:      ret
text_end:
        .data
msg:    .ascii  "hi"
msg_end:
        .bss
buf:    .space  16
bss_end:
`

func TestSymbol(t *testing.T) {
	m := inspectLoad(t, "sym.s", symSrc, Options{})
	p := m.Process()
	type sym struct {
		Name string
		Off  uint64
		OK   bool
	}
	for _, c := range []struct {
		addr uint64
		want sym
	}{
		{isa.TextBase, sym{"main", 0, true}},
		{isa.TextBase + 4, sym{"main.loop", 0, true}},
		{isa.TextBase + 12, sym{"main.loop", 8, true}},
		{isa.TextBase + 13, sym{"main.loop", 9, true}},
		{isa.TextBase + 16, sym{"f", 0, true}}, // the global before the local
		{isa.TextBase + 20, sym{"g", 0, true}}, // the globals before f.end, then the first by name
		{isa.TextBase + 23, sym{"g", 3, true}},
		{isa.TextBase + 24, sym{"text_end", 0, true}}, // past the text: exactly a label
		{isa.TextBase + 28, sym{}},                    // the exit stub
		{isa.TextBase - 4, sym{}},
		{isa.DataBase, sym{"msg", 0, true}},
		{isa.DataBase + 1, sym{"msg", 1, true}},
		{isa.DataBase + 2, sym{"buf", 0, true}}, // the first by name of buf and msg_end
		{isa.DataBase + 17, sym{"buf", 15, true}},
		{isa.DataBase + 18, sym{"bss_end", 0, true}}, // past the bss: exactly a label
		{isa.DataBase + 26, sym{}},                   // the heap
		{isa.DataBase - 8, sym{}},                    // the stack
		{0, sym{}},
		{math.MaxUint64, sym{}},
	} {
		var got sym
		got.Name, got.Off, got.OK = m.Symbol(p, c.addr)
		if got != c.want {
			t.Errorf("Symbol(%#x) = %+v, want %+v", c.addr, got, c.want)
		}
	}
	for name, want := range map[string]uint64{"main": isa.TextBase, "main.loop": isa.TextBase + 4, "f.top": isa.TextBase + 16, "f.end": isa.TextBase + 20, "bss_end": isa.DataBase + 18} {
		if addr, ok := p.Lookup(name); !ok || addr != want {
			t.Errorf("Lookup(%q) = %#x, %v; want %#x", name, addr, ok, want)
		}
	}
	for _, name := range []string{"loop", "top", "", "MAIN"} {
		if addr, ok := p.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %#x, want none", name, addr)
		}
	}
}

// TestTrapCallers checks that a trap's report names where the function that trapped was called
// from, and so on out, as a backtrace would, and says when it leaves the outer calls out.
func TestTrapCallers(t *testing.T) {
	const src = `main:   li      a0, 20
        call    down
        ret
down:   enter   0
        addi    a0, a0, -1
        beqz    a0, .trap
        call    down
        leave
        ret
.trap:  li      t0, 0
        ld      a0, 0(t0)
`
	for _, c := range []struct {
		depth int
		want  []int // the lines of the calls, innermost first
		more  bool
	}{
		{1, []int{2}, false},
		{3, []int{7, 7, 2}, false},
		{20, []int{7, 7, 7, 7, 7, 7, 7, 7}, true},
	} {
		m := inspectLoad(t, "down.s", strings.Replace(src, "20", strconv.Itoa(c.depth), 1), Options{})
		_, err := m.Run()
		var te *TrapError
		if !errors.As(err, &te) {
			t.Fatalf("depth %d: %v, want a trap", c.depth, err)
		}
		var lines []int
		for _, w := range te.Callers {
			lines = append(lines, w.Line)
		}
		if !slices.Equal(lines, c.want) || te.MoreCallers != c.more {
			t.Errorf("depth %d: callers at lines %v (more %v), want %v (more %v)", c.depth, lines, te.MoreCallers, c.want, c.more)
		}
		want := "\n  called from down.s:2: call    down\n"
		if c.more {
			want = "\n  called 8 times from down.s:7: call    down\n  ... and from further out\n"
		}
		if rep := te.Report(); !strings.Contains(rep, want) {
			t.Errorf("depth %d: the report does not have %q:\n%s", c.depth, want, rep)
		}
	}
}
