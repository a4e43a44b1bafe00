package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// ins is one instruction of a hand-built program, for tests that must not depend on the
// assembler.
type ins struct {
	op isa.Opcode
	o  isa.Operands
}

func i0(op isa.Opcode) ins                      { return ins{op: op} }
func iA(op isa.Opcode, a int) ins               { return ins{op, isa.Operands{A: a}} }
func iAB(op isa.Opcode, a, b int) ins           { return ins{op, isa.Operands{A: a, B: b}} }
func iABC(op isa.Opcode, a, b, c int) ins       { return ins{op, isa.Operands{A: a, B: b, C: c}} }
func iABI(op isa.Opcode, a, b int, k int64) ins { return ins{op, isa.Operands{A: a, B: b, Imm: k}} }
func iAI(op isa.Opcode, a int, k int64) ins     { return ins{op, isa.Operands{A: a, Imm: k}} }
func iI(op isa.Opcode, k int64) ins             { return ins{op, isa.Operands{Imm: k}} }
func sys(n isa.Syscall) ins                     { return iI(isa.SYSCALL, int64(n)) }

func image(t testing.TB, prog ...ins) *object.Image {
	t.Helper()
	img := &object.Image{Entry: isa.TextBase}
	for _, in := range prog {
		w, err := isa.Encode(in.op, in.o)
		if err != nil {
			t.Fatal(err)
		}
		img.Text = append(img.Text, w)
	}
	return img
}

func run(t testing.TB, img *object.Image, stdin string, opts Options) (string, Result, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Stdin = strings.NewReader(stdin)
	opts.Stdout = &out
	opts.Stderr = &out
	res, err := Run(img, opts)
	return out.String(), res, err
}

// loopProgram is programs/bench/loop.s by hand: s = (s*31 + i) % 1000000007 for i < n.
func loopProgram(t testing.TB) *object.Image {
	img := image(t,
		sys(isa.SysReadInt),                // 0
		iAB(isa.MOV, isa.T3, isa.A0),       // 1: n
		iAI(isa.LI, isa.T0, 0),             // 2: s
		iAI(isa.LI, isa.T1, 0),             // 3: i
		iAI(isa.LK, isa.T2, 0),             // 4: 1000000007
		iABI(isa.MULI, isa.T0, isa.T0, 31), // 5: loop
		iABC(isa.ADD, isa.T0, isa.T0, isa.T1),
		iABC(isa.REM, isa.T0, isa.T0, isa.T2),
		iABI(isa.ADDI, isa.T1, isa.T1, 1),
		iABI(isa.BLT, isa.T1, isa.T3, -4), // 9
		iAB(isa.MOV, isa.A0, isa.T0),
		sys(isa.SysPrintInt),
		iAI(isa.LI, isa.A0, '\n'),
		sys(isa.SysPutc),
		i0(isa.HALT),
	)
	img.Consts = []uint64{1000000007}
	return img
}

func loopRef(n int64) int64 {
	var s int64
	for i := int64(0); i < n; i++ {
		s = (s*31 + i) % 1000000007
	}
	return s
}

func TestLoop(t *testing.T) {
	out, res, err := run(t, loopProgram(t), "1000\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatInt(loopRef(1000), 10) + "\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	// 5 set-up instructions, 5 per iteration, then 5 to print and halt.
	if want := uint64(5 + 5*1000 + 5); res.Steps != want {
		t.Errorf("steps = %d, want %d", res.Steps, want)
	}
}

func TestStepLimit(t *testing.T) {
	// The run stops at the limit exactly, wherever it falls in the loop's body, whatever the
	// quantum and the scheduler.
	for _, opts := range []Options{
		{MaxSteps: 10_000, Quantum: 100},
		{MaxSteps: 10_001},
		{MaxSteps: 10_003, Quantum: 1},
		{MaxSteps: 5, Quantum: MaxQuantum},
		{MaxSteps: 10_002, Sched: SchedRandom, Seed: 3, VirtualClock: true},
		{MaxSteps: 10_004, CPUs: 1},
	} {
		_, res, err := run(t, loopProgram(t), "1000000\n", opts)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != LimitSteps {
			t.Fatalf("%+v: err = %v, want a step LimitError", opts, err)
		}
		if res.Steps != opts.MaxSteps || le.Steps != opts.MaxSteps {
			t.Errorf("%+v: %d steps, %d reported; want %d", opts, res.Steps, le.Steps, opts.MaxSteps)
		}
	}
}

func TestTraps(t *testing.T) {
	tests := []struct {
		name string
		prog []ins
		trap isa.Trap
		pc   int
	}{
		{"div", []ins{iAI(isa.LI, isa.A0, 5), iAI(isa.LI, isa.A1, 0), iABC(isa.DIV, isa.A0, isa.A0, isa.A1)}, isa.TrapDivZero, 2},
		{"remu", []ins{iABC(isa.REMU, isa.A0, isa.A0, isa.A2)}, isa.TrapDivZero, 0},
		{"null load", []ins{iAI(isa.LI, isa.A0, 0), iABI(isa.LD, isa.A1, isa.A0, 0)}, isa.TrapMemory, 1},
		{"store past top", []ins{iAI(isa.LK, isa.A0, 0), iABI(isa.SB, isa.A1, isa.A0, 0)}, isa.TrapMemory, 1},
		{"illegal", []ins{i0(isa.NOP), i0(isa.ILLEGAL)}, isa.TrapIllegal, 1},
		{"past end", []ins{i0(isa.NOP)}, isa.TrapIllegal, 1},
		{"ebreak", []ins{i0(isa.EBREAK)}, isa.TrapBreakpoint, 0},
		{"jr", []ins{iAI(isa.LI, isa.A0, 3), iA(isa.JR, isa.A0)}, isa.TrapBadJump, 1},
		{"bad syscall", []ins{sys(999)}, isa.TrapBadSyscall, 0},
		{"write buffer", []ins{iAI(isa.LI, isa.A0, 1), iAI(isa.LI, isa.A1, 16), iAI(isa.LI, isa.A2, 4), sys(isa.SysWrite)}, isa.TrapSyscallArg, 3},
		{"recursion", []ins{iI(isa.CALL, 0)}, isa.TrapStackOverflow, 0},
		{"push", []ins{iA(isa.PUSH, isa.A0), iI(isa.JMP, -1)}, isa.TrapStackOverflow, 0},
		{"enter", []ins{iI(isa.ENTER, 1<<22)}, isa.TrapStackOverflow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := image(t, tt.prog...)
			img.Consts = []uint64{isa.DataBase + 1<<30}
			_, _, err := run(t, img, "", Options{StackSize: 4096})
			var te *TrapError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a trap", err)
			}
			if te.Trap != tt.trap || te.PC != isa.CodeAddr(tt.pc) || te.Thread != 1 {
				t.Errorf("trap %v at %#x in thread %d, want %v at %#x in thread 1\n%s", te.Trap, te.PC, te.Thread, tt.trap, isa.CodeAddr(tt.pc), te.Report())
			}
		})
	}
}

func TestMemoryOps(t *testing.T) {
	// Store -2 as 64 bits at the data base, then read it back at every width, signed and not.
	img := image(t,
		iAI(isa.LK, isa.S0, 0),
		iAI(isa.LI, isa.T0, -2),
		iABI(isa.SD, isa.T0, isa.S0, 0),
		iABI(isa.LB, isa.A0, isa.S0, 0),
		iABI(isa.LBU, isa.A1, isa.S0, 0),
		iABI(isa.LH, isa.A2, isa.S0, 0),
		iABI(isa.LHU, isa.A3, isa.S0, 0),
		iABI(isa.LW, isa.A4, isa.S0, 0),
		iABI(isa.LWU, isa.A5, isa.S0, 0),
		iABI(isa.LD, isa.T1, isa.S0, 0),
		iABI(isa.LBU, isa.T2, isa.S0, 8), // the next quad is still zero
		i0(isa.EBREAK),
	)
	img.Consts = []uint64{isa.DataBase}
	img.BSS = 16
	_, _, err := run(t, img, "", Options{})
	var te *TrapError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want the breakpoint", err)
	}
	m2 := ^uint64(1)
	want := []uint64{m2, 0xfe, m2, 0xfffe, m2, 0xfffffffe, m2, 0}
	got := []uint64{te.Regs[isa.A0], te.Regs[isa.A1], te.Regs[isa.A2], te.Regs[isa.A3], te.Regs[isa.A4], te.Regs[isa.A5], te.Regs[isa.T1], te.Regs[isa.T2]}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("loads (-want +got):\n%s", d)
	}
}

func BenchmarkLoop(b *testing.B) {
	img := loopProgram(b)
	var steps uint64
	for b.Loop() {
		_, res, err := run(b, img, "1000000\n", Options{})
		if err != nil {
			b.Fatal(err)
		}
		steps += res.Steps
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/instr")
}

func TestSyscalls(t *testing.T) {
	// Echo one line: read it into the heap (grown with sbrk), write it back, print its length,
	// then exit with status 3.
	img := image(t,
		iAI(isa.LI, isa.A0, 64),
		sys(isa.SysSbrk), // a0 = old break = the buffer
		iAB(isa.MOV, isa.S0, isa.A0),
		iAI(isa.LI, isa.A0, 0),
		iAB(isa.MOV, isa.A1, isa.S0),
		iAI(isa.LI, isa.A2, 64),
		sys(isa.SysRead),
		iAB(isa.MOV, isa.A2, isa.A0),
		iAB(isa.MOV, isa.S1, isa.A0),
		iAI(isa.LI, isa.A0, 1),
		iAB(isa.MOV, isa.A1, isa.S0),
		sys(isa.SysWrite),
		iAB(isa.MOV, isa.A0, isa.S1),
		sys(isa.SysPrintInt),
		iAI(isa.LI, isa.A0, 3),
		sys(isa.SysExit),
	)
	out, res, err := run(t, img, "hello\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff("hello\n6", out); d != "" {
		t.Errorf("output (-want +got):\n%s", d)
	}
	if res.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", res.ExitCode)
	}
}

func TestArgs(t *testing.T) {
	// Print argc, then each argument with puts: the registers at entry and the syscalls agree.
	img := image(t,
		iAB(isa.MOV, isa.S0, isa.A0), // argc
		iAB(isa.MOV, isa.S1, isa.A1), // argv
		sys(isa.SysArgc),
		sys(isa.SysPrintInt),
		iAI(isa.LI, isa.S2, 0),
		iABI(isa.BGE, isa.S2, isa.S0, 7), // 5: loop
		iABI(isa.SHLI, isa.T0, isa.S2, 3),
		iABC(isa.ADD, isa.T0, isa.T0, isa.S1),
		iABI(isa.LD, isa.A0, isa.T0, 0),
		sys(isa.SysPuts),
		iABI(isa.ADDI, isa.S2, isa.S2, 1),
		iI(isa.JMP, -6),
		iAB(isa.MOV, isa.A0, isa.S0), // 12: argv(argc) is 0
		sys(isa.SysArgv),
		i0(isa.RET), // returning from the entry exits with a0
	)
	out, res, err := run(t, img, "", Options{Args: []string{"prog", "a", "bc"}})
	if err != nil {
		t.Fatal(err)
	}
	if out != "3progabc" || res.ExitCode != 0 {
		t.Errorf("output %q, exit %d; want \"3progabc\", 0", out, res.ExitCode)
	}
}

func TestReadInt(t *testing.T) {
	img := image(t,
		sys(isa.SysReadInt),
		sys(isa.SysPrintInt),
		iAB(isa.MOV, isa.A0, isa.A1),
		sys(isa.SysPrintInt),
		iI(isa.JMP, -4),
	)
	out, _, err := run(t, img, " -42 \nx\n"+strings.Repeat("9", 5000)+"\n7", Options{MaxSteps: 30})
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want the step limit", err)
	}
	// -42, then a line that is not a number, then one too long to hold, then 7 without a
	// newline, then end of input forever.
	if want := "-421" + "00" + "00" + "71" + "00"; !strings.HasPrefix(out, want) {
		t.Errorf("output %q, want it to start with %q", out, want)
	}
}

func TestMemoryLimit(t *testing.T) {
	img := image(t,
		iAI(isa.LK, isa.A0, 0),
		sys(isa.SysSbrk),
		i0(isa.HALT),
	)
	img.Consts = []uint64{1 << 30}
	_, _, err := run(t, img, "", Options{MaxMem: 16 << 20})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != LimitMemory {
		t.Fatalf("err = %v, want a memory LimitError", err)
	}
	if _, err := Load(&object.Image{Text: img.Text, Consts: img.Consts, Entry: isa.TextBase, BSS: 1 << 40}, Options{}); !errors.As(err, &le) {
		t.Errorf("a huge bss: err = %v, want a memory LimitError", err)
	}
}

func TestInterrupt(t *testing.T) {
	m, err := Load(image(t, iI(isa.JMP, 0)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Interrupt() // before Run: the first check point stops it
	_, err = m.Run()
	var ie *InterruptError
	if !errors.As(err, &ie) || ie.PC != isa.TextBase {
		t.Fatalf("err = %v, want an InterruptError at the jmp", err)
	}
}

func TestLoadErrors(t *testing.T) {
	jmpOut := image(t, iI(isa.JMP, 5))
	jmpEnd := image(t, iI(isa.JMP, 1))
	lkOut := image(t, iAI(isa.LK, isa.A0, 2))
	badEntry := image(t, i0(isa.HALT))
	badEntry.Entry = isa.TextBase + 2
	tests := []struct {
		name string
		img  *object.Image
		want string
	}{
		{"empty", &object.Image{}, "load: the program has no instructions"},
		{"jump", jmpOut, "load: instruction at 0x00400000: jmp to 0x00400014, outside the text (the text holds 1, at 0x00400000 to 0x00400000)"},
		{"jump to the end of the text", jmpEnd, "load: instruction at 0x00400000: jmp to 0x00400004, outside the text (the text holds 1, at 0x00400000 to 0x00400000)"},
		{"lk", lkOut, "load: instruction at 0x00400000: lk names constant 2, but the pool has 0"},
		{"entry", badEntry, "load: entry point 0x00400002 is not the address of an instruction (the text holds 1, at 0x00400000 to 0x00400000)"},
	}
	for _, tt := range tests {
		_, err := Load(tt.img, Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestPanicIsRecovered breaks a loaded machine from inside, as a bug in the VM would, and checks
// that Run turns the Go panic into an InternalError instead of crashing its caller, on one
// processor and on several.
func TestPanicIsRecovered(t *testing.T) {
	for _, cpus := range []int{1, 2} {
		img := image(t, iAI(isa.LK, isa.A0, 0), i0(isa.HALT))
		img.Consts = []uint64{7}
		m, err := Load(img, Options{CPUs: cpus})
		if err != nil {
			t.Fatal(err)
		}
		m.Process().consts = nil // the lk that the loader checked now indexes outside the pool
		_, err = m.Run()
		var ie *InternalError
		if !errors.As(err, &ie) || !strings.Contains(ie.Error(), "This is a bug in Spindle") {
			t.Errorf("%d processors: err = %v, want an InternalError", cpus, err)
		}
	}
}

// BenchmarkLoad loads and runs a program of two instructions, under a small memory limit, the
// fuzz targets' 1 MiB, and the default; it is what each execution of a fuzz target pays first.
func BenchmarkLoad(b *testing.B) {
	img := image(b, iAI(isa.LI, isa.A0, 0), i0(isa.RET))
	for _, limit := range []uint64{64 << 10, 1 << 20, DefaultMaxMem} {
		b.Run(strconv.FormatUint(limit>>10, 10)+"KiB", func(b *testing.B) {
			for b.Loop() {
				m, err := Load(img, Options{MaxMem: limit, StackSize: 4096})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := m.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTrapKeepsPC checks that a trapping instruction leaves the thread's pc on itself, a
// syscall as much as any other.
func TestTrapKeepsPC(t *testing.T) {
	for name, bad := range map[string]ins{
		"syscall": sys(0), // no such service
		"div":     iABC(isa.DIV, isa.A0, isa.A0, isa.A0),
	} {
		m, err := Load(image(t, iAI(isa.LI, isa.A0, 0), bad), Options{Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Run()
		var te *TrapError
		if !errors.As(err, &te) {
			t.Fatalf("%s: %v; want a trap", name, err)
		}
		if pc := m.Process().Threads()[0].PC; pc != 1 {
			t.Errorf("%s: the thread's pc is %d after the trap; want 1, the trapping instruction", name, pc)
		}
	}
}

// funcWriter is a writer whose values cannot be compared.
type funcWriter func(p []byte) (int, error)

func (f funcWriter) Write(p []byte) (int, error) { return f(p) }

// TestSameWriter checks the comparison Load makes between the trace's writer and the program's
// streams, which must not panic on writers that cannot be compared.
func TestSameWriter(t *testing.T) {
	var buf bytes.Buffer
	w := funcWriter(io.Discard.Write)
	for _, tc := range []struct {
		a, b io.Writer
		want bool
	}{
		{&buf, &buf, true},
		{&buf, &bytes.Buffer{}, false},
		{w, w, false},
		{nil, nil, false},
		{io.Discard, &buf, false},
	} {
		if got := sameWriter(tc.a, tc.b); got != tc.want {
			t.Errorf("sameWriter(%T, %T) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSyscallsKeepRegisters checks the calling convention of docs/syscalls.md: a syscall
// changes a0 and a1 only, and of those only what the service's results name. Each service runs
// after a setup that gives every register from a0 to s3 a value of its own; the registers just
// before the syscall and just after it, read from the trap of an ebreak, may differ only there.
func TestSyscallsKeepRegisters(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "child.s"), []byte("main: li a0, 0\n ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	setup := map[string]string{
		"write":         "li a0, 1\n la a1, buf\n li a2, 1",
		"read":          "li a0, 0\n la a1, buf\n li a2, 1",
		"print_int":     "li a0, 5",
		"read_int":      "",
		"brk":           "li a0, 0",
		"sbrk":          "li a0, 16",
		"argc":          "",
		"argv":          "li a0, 0",
		"putc":          "li a0, 'x'",
		"puts":          "la a0, buf",
		"thread_spawn":  "la a0, w\n li a1, 0\n li a2, 256",
		"thread_join":   "la a0, w\n li a1, 0\n li a2, 256\n syscall thread_spawn\n mov s0, a0\n syscall yield\n mov a0, s0",
		"yield":         "",
		"sleep":         "li a0, 0",
		"gettid":        "",
		"getpid":        "",
		"clock":         "",
		"spawn":         "la a0, name\n li a1, 0\n li a2, 0\n li a3, 1",
		"start":         "la a0, w\n li a1, 0\n li a2, 0\n li a3, 1",
		"wait":          "la a0, w\n li a1, 0\n li a2, 0\n li a3, 1\n syscall start",
		"kill":          "li a0, 99",
		"pipe":          "",
		"close":         "li a0, 7",
		"chan_make":     "li a0, 1",
		"chan_send":     "li a0, 1\n syscall chan_make\n li a1, 5",
		"chan_recv":     "li a0, 1\n syscall chan_make\n mov s0, a0\n li a1, 5\n syscall chan_send\n mov a0, s0",
		"chan_close":    "li a0, 1\n syscall chan_make",
		"futex_wait":    "la a0, buf\n li a1, 1",
		"futex_wake":    "la a0, buf\n li a1, 1",
		"chan_sendrecv": "li a0, 1\n syscall chan_make\n li a1, 5\n mov a2, a0",
		"open":          "la a0, name\n li a1, 7\n li a2, 1",
		"pread":         "li a0, 0\n la a1, buf\n li a2, 1\n li a3, 0",
		"pwrite":        "li a0, 1\n la a1, buf\n li a2, 1\n li a3, 0",
		"seek":          "li a0, 0\n li a1, 0\n li a2, 0",
		"stat":          "la a0, name\n li a1, 7\n la a2, buf",
		"fstat":         "li a0, 0\n la a1, buf",
		"readdir":       "li a0, 0\n la a1, buf\n li a2, 16",
		"mkdir":         "la a0, name\n li a1, 7",
		"unlink":        "la a0, name\n li a1, 7",
		"rename":        "la a0, name\n li a1, 7\n la a2, name\n li a3, 7",
		"fsync":         "li a0, 0",
		"listen":        "la a0, name\n li a1, 7",
		"accept":        "li a0, 0",
		"connect":       "la a0, name\n li a1, 7\n li a2, 0",
		"shutdown":      "li a0, 0\n li a1, 2",
		"sockopt":       "li a0, 0\n li a1, 1\n li a2, 5",
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	// The file services find child.s through a grant of dir, and succeed.
	grants := []Grant{{Guest: "/d", Dir: RootDir(root)}}
	var marks strings.Builder
	for r := isa.A0; r <= isa.S3; r++ {
		fmt.Fprintf(&marks, "        li %s, %d\n", isa.RegName(r), 1000+r)
	}
	regs := func(t *testing.T, src string) [isa.NumRegs]uint64 {
		t.Helper()
		img, err := asm.Assemble("regs.s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = run(t, img, "5\n", Options{ProgramDir: dir, Assemble: assembleSource, VirtualClock: true, Grants: grants})
		var te *TrapError
		if !errors.As(err, &te) || te.Trap != isa.TrapBreakpoint || te.Proc != 1 || te.Thread != 1 {
			t.Fatalf("err = %v, want the ebreak of thread 1", err)
		}
		return te.Regs
	}
	for _, s := range isa.Syscalls {
		if s.Ret == "does not return" {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			code, ok := setup[s.Name]
			if !ok {
				t.Fatalf("no setup for %s", s.Name)
			}
			head := "main:\n" + marks.String() + code + "\n"
			tail := "\nw: li a0, 0\n ret\n .data\nname: .asciz \"child.s\"\nbuf: .space 32\n"
			before := regs(t, head+" ebreak"+tail)
			after := regs(t, head+" syscall "+s.Name+"\n ebreak"+tail)
			for r := range isa.NumRegs {
				named := r == isa.A0 && strings.Contains(s.Ret, "a0") || r == isa.A1 && strings.Contains(s.Ret, "a1")
				if before[r] != after[r] && !named {
					t.Errorf("%s changed %s from %#x to %#x; its results are %q", s.Name, isa.RegName(r), before[r], after[r], s.Ret)
				}
			}
		})
	}
}

// readIntsSrc prints "a0,a1 " for each of n read_int calls on its descriptor 0, in process 2
// when piped is set: process 1 then copies its own input into a pipe, the child's 0.
const readIntsSrc = `
        .equ    N, 8
main:   li      t0, PIPED
        beqz    t0, ints
        syscall pipe
        mov     s0, a0
        mov     s1, a1
        la      a0, ints
        li      a1, 0
        mov     a2, s0
        li      a3, 1
        syscall start
        mov     s2, a0
        mov     a0, s0
        syscall close
.copy:  li      a0, 0
        la      a1, buf
        li      a2, 4096
        syscall read
        beqz    a0, .done
        mov     a2, a0
        mov     a0, s1
        la      a1, buf
        syscall write
        jmp     .copy
.done:  mov     a0, s1
        syscall close
        mov     a0, s2
        syscall wait
        ret
ints:   li      s0, N
.next:  syscall read_int
        mov     t0, a1
        syscall print_int
        li      a0, ','
        syscall putc
        mov     a0, t0
        syscall print_int
        li      a0, ' '
        syscall putc
        addi    s0, s0, -1
        bnez    s0, .next
        li      a0, 0
        ret
        .data
buf:    .space  4096
`

// TestReadIntForms checks each case of "Reading numbers" in docs/syscalls.md, from the host's
// input and from a pipe.
func TestReadIntForms(t *testing.T) {
	refused := "0,0 "
	tests := []struct {
		name, in string
		want     string // the results of 8 read_int calls
		pipeWant string // from a pipe, if it differs
	}{
		{"signs and white space", "+5\n\t-7\t\n 12 \r\n007\n-0\n\u00a08\u00a0\n", "5,1 -7,1 12,1 7,1 0,1 8,1 0,0 0,0 ", ""},
		{"range", "9223372036854775807\n-9223372036854775808\n9223372036854775808\n-9223372036854775809\n", "9223372036854775807,1 -9223372036854775808,1 0,0 0,0 0,0 0,0 0,0 0,0 ", ""},
		{"the assembler's forms", "0x10\n1_000\n'a'\n0b1\n1e3\n4\n", strings.Repeat(refused, 5) + "4,1 0,0 0,0 ", ""},
		{"not one number", "1 2\n- 3\n5x\n\n  \n6", strings.Repeat(refused, 5) + "6,1 0,0 0,0 ", ""},
		{"empty lines and the end", "\n\n", strings.Repeat(refused, 8), ""},
		{"the longest line", strings.Repeat(" ", 4094) + "6\n7\n", "6,1 7,1 " + strings.Repeat(refused, 6), ""},
		{"a line too long", strings.Repeat(" ", 4095) + "6\n7\n", "0,0 7,1 " + strings.Repeat(refused, 6), "6,1 7,1 " + strings.Repeat(refused, 6)},
		{"a line too long for a pipe", strings.Repeat(" ", 65535) + "6\n7\n", "0,0 7,1 " + strings.Repeat(refused, 6), "6,1 0,0 7,1 " + strings.Repeat(refused, 5)},
		{"a line longer than a pipe", strings.Repeat(" ", 70000) + "6\n7\n", "0,0 7,1 " + strings.Repeat(refused, 6), "0,0 6,1 7,1 " + strings.Repeat(refused, 5)},
	}
	for _, tt := range tests {
		for _, piped := range []bool{false, true} {
			name, want := tt.name, tt.want
			if piped {
				name += " from a pipe"
				if tt.pipeWant != "" {
					want = tt.pipeWant
				}
			}
			t.Run(name, func(t *testing.T) {
				src := strings.Replace(readIntsSrc, "PIPED", strconv.Itoa(map[bool]int{false: 0, true: 1}[piped]), 1)
				img, err := asm.Assemble("ints.s", []byte(src), nil)
				if err != nil {
					t.Fatal(err)
				}
				out, _, err := run(t, img, tt.in, Options{})
				if err != nil || out != want {
					t.Errorf("output %q, err %v; want %q", out, err, want)
				}
			})
		}
	}
	// A line is read with its newline and no further: read gets what follows. And with
	// descriptor 0 closed, read_int returns a0 = a1 = 0 at once.
	src := `
main:   syscall read_int
        syscall print_int
        li      a0, 0
        la      a1, buf
        li      a2, 16
        syscall read
        mov     a2, a0
        li      a0, 1
        la      a1, buf
        syscall write
        li      a0, 0
        syscall close
        li      a0, 9
        li      a1, 9
        syscall read_int
        add     a0, a0, a1
        syscall print_int
        li      a0, 0
        ret
        .data
buf:    .space  16
`
	img, err := asm.Assemble("rest.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, img, "12\nrest\n", Options{})
	if want := "12rest\n0"; err != nil || out != want {
		t.Errorf("output %q, err %v; want %q", out, err, want)
	}
	if info, _ := isa.SysReadInt.Info(); !strings.Contains(info.Doc, itoa(MaxInputLine)+" bytes") || !strings.Contains(info.Doc, itoa(pipeSize)+" bytes") {
		t.Errorf("read_int's doc %q does not give the limits of %d and %d bytes", info.Doc, MaxInputLine, pipeSize)
	}
}

// TestLoadOptions checks that Load refuses each option it cannot honour, with a LoadError that
// says what is wrong, rather than a run that misbehaves or a crash of the host.
func TestLoadOptions(t *testing.T) {
	img := image(t, i0(isa.HALT))
	tests := []struct {
		opts Options
		want string
	}{
		{Options{StackSize: 255}, "load: a stack of 255 bytes is too small; the least is 256"},
		{Options{StackSize: 257}, "load: a stack of 257 bytes is not a multiple of 16"},
		{Options{StackSize: 256 << 20}, "load: a stack of 268435456 bytes is too large; the most is 268431360, which leaves the null page unmapped"},
		{Options{MaxMem: 1 << 62}, "load: a memory limit of 4611686018427387904 bytes is more than the most, 68719476736"},
		{Options{Quantum: 1 << 40}, "load: a quantum of 1099511627776 instructions is more than the most, 100000000"},
		{Options{CPUs: 5_000_000}, "load: 5000000 processors are more than the most, 256"},
		{Options{Timeout: -time.Second}, "load: a negative time-out, -1s"},
	}
	for _, tt := range tests {
		_, err := Load(img, tt.opts)
		var le *LoadError
		if !errors.As(err, &le) || err.Error() != tt.want {
			t.Errorf("Load(%+v) = %v, want %q", tt.opts, err, tt.want)
		}
	}
	// The largest of each is accepted, and the null pointer still traps.
	m, err := Load(image(t, iABI(isa.LD, isa.A0, isa.T0, 0), i0(isa.HALT)), Options{StackSize: MaxStackSize, MaxMem: MaxStackSize + 4096, Quantum: MaxQuantum, CPUs: MaxCPUs})
	if err != nil {
		t.Fatal(err)
	}
	var te *TrapError
	if _, err := m.Run(); !errors.As(err, &te) || te.Trap != isa.TrapMemory {
		t.Errorf("a load from address 0 with the largest stack: %v, want a memory trap", err)
	}
}

// TestVirtualClockNeverWraps sleeps the longest sleep 20 times on the virtual clock, which
// jumps to each deadline: the clock must only go forward, and stop at 2^62 ns, where it used
// to wrap to negative time after eight.
func TestVirtualClockNeverWraps(t *testing.T) {
	src := `
main:   li s0, 20
        li s1, 0                # the last reading
.loop:  li a0, -1
        syscall sleep
        syscall clock
        blt a0, s1, .back       # signed: a clock that wrapped is negative
        mov s1, a0
        addi s0, s0, -1
        bnez s0, .loop
        mov a0, s1
        syscall print_int
        li a0, 0
        ret
.back:  li a0, 1
        ret
`
	out, err := runSource(t, src, Options{VirtualClock: true})
	var clock uint64
	fmt.Sscan(out, &clock)
	// The deadlines stop at 2^62 ns; the clock then goes on by a nanosecond an instruction.
	if err != nil || clock < 1<<62 || clock > 1<<62+1000 {
		t.Errorf("output %q, err %v; want the clock just past 2^62 ns", out, err)
	}
}
