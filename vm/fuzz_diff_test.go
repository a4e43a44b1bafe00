package vm_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
	"github.com/spindle-vm/spindle/vm/ref"
)

// The fuzz targets of this file run generated programs (see vm/internal/progen) and compare
// what happened: FuzzDifferential on the VM and on the reference interpreter of vm/ref,
// FuzzPreemption on the VM under three schedules. Each run has a step budget, so that every
// program ends, and a small memory limit, which a program's sbrk can reach.
const (
	fuzzStack  = 4096
	fuzzMaxMem = 1 << 16
)

// fuzzArgs are the arguments every run gets, so that argc and argv have something to find.
var fuzzArgs = []string{"prog", "arg"}

// programSteps is the step budget of the programs of programs/ and tests/testdata, and
// programInput their input: enough for them to do something, and to read some numbers and a
// line.
const programSteps = 200_000

var programInput = []byte("12\n5\nhello, world\n3\n")

// An outcome is what a run did: how it ended, where, with which registers and output, after
// how many instructions, and a digest of its memory.
type outcome struct {
	Stop     ref.Stop
	ExitCode int64
	Trap     isa.Trap
	PC       uint64 // for a trap or a limit
	Regs     [isa.NumRegs]uint64
	Stdout   string
	Stderr   string
	Steps    uint64
	MemBase  uint64
	MemLen   int
	MemHash  uint64 // 0 when the memory could not be compared
}

var hashSeed = maphash.MakeSeed()

func memHash(b []byte) uint64 { return maphash.Bytes(hashSeed, b) | 1 }

// writers recycles the buffered writers that receive a run's output. vm.Load wraps Stdout and
// Stderr in 64 KiB bufio.Writers, and bufio returns a writer that is already one of that
// size as it is: so each run does not allocate and clear 128 KiB for its output.
var writers = sync.Pool{New: func() any {
	o := &output{}
	o.out = bufio.NewWriterSize(&o.outBuf, 64<<10)
	o.err = bufio.NewWriterSize(&o.errBuf, 64<<10)
	return o
}}

type output struct {
	outBuf, errBuf bytes.Buffer
	out, err       *bufio.Writer
}

func (o *output) reset() {
	o.outBuf.Reset()
	o.errBuf.Reset()
	o.out.Reset(&o.outBuf)
	o.err.Reset(&o.errBuf)
}

// A vmRun is what a run on the VM did, the memory it ended with, and
// the machine's initial state as the reference interpreter takes it.
type vmRun struct {
	out     outcome
	mem     []byte
	initial ref.Machine
}

// runVM loads and runs img. before, if not nil, gets the initial state before the VM runs, and
// says whether to run it.
func runVM(t *testing.T, img *object.Image, stdin []byte, opts vm.Options, before func(ref.Machine) bool) (vmRun, bool) {
	o := writers.Get().(*output)
	defer writers.Put(o)
	o.reset()
	opts.Stdout, opts.Stderr, opts.Args = o.out, o.err, fuzzArgs
	opts.StackSize, opts.MaxMem = fuzzStack, fuzzMaxMem
	if stdin != nil {
		opts.Stdin = bytes.NewReader(stdin)
	}
	m, err := vm.Load(img, opts)
	if err != nil {
		var le *vm.LoadError
		var lim *vm.LimitError
		if !errors.As(err, &le) && !errors.As(err, &lim) {
			t.Fatalf("load: unexpected error %T: %v", err, err)
		}
		return vmRun{}, false
	}
	p := m.Process()
	main := p.Threads()[0]
	base, mem0 := p.Memory()
	init := ref.Machine{
		Text: img.Text, Consts: img.Consts, Base: base, Mem: mem0,
		Regs: main.R, PC: isa.CodeAddr(main.PC), StackLo: main.StackLo, StackHi: main.StackHi,
		MaxMem: fuzzMaxMem, MaxSteps: opts.MaxSteps, Input: stdin,
	}
	// argv is an array of the arguments' addresses at a1, as the program starts.
	for i := range uint64(main.R[isa.A0]) {
		off := main.R[isa.A1] + 8*i - base
		init.Args = append(init.Args, binary.LittleEndian.Uint64(mem0[off:]))
	}
	if before != nil && !before(init) { // it runs first: the VM changes mem0 as it runs
		return vmRun{}, false
	}
	res, err := m.Run()
	r := vmRun{initial: init}
	r.out.Steps = res.Steps
	r.out.Regs = main.R
	var te *vm.TrapError
	var le *vm.LimitError
	switch {
	case err == nil:
		r.out.Stop, r.out.ExitCode = ref.Exited, res.ExitCode
	case errors.As(err, &te):
		r.out.Stop, r.out.Trap, r.out.PC, r.out.Regs = ref.Trapped, te.Trap, te.PC, te.Regs
	case errors.As(err, &le) && le.Limit == vm.LimitSteps:
		r.out.Stop, r.out.PC = ref.StepLimit, le.PC
	case errors.As(err, &le) && le.Limit == vm.LimitMemory:
		r.out.Stop, r.out.PC = ref.MemLimit, le.PC
	default:
		t.Fatalf("run: unexpected error %T: %v\n%s", err, err, listing(img, stdin))
	}
	r.out.Stdout, r.out.Stderr = o.outBuf.String(), o.errBuf.String()
	// The first process's memory stays after the run, however it ended.
	r.out.MemBase, r.mem = p.Memory()
	if r.mem == nil {
		t.Fatalf("the process's memory is gone after a run that ended with %v\n%s", err, listing(img, stdin))
	}
	// The memory may lie outside Go's heap, given back when m is garbage: keep a copy.
	r.mem = bytes.Clone(r.mem)
	r.out.MemHash = memHash(r.mem)
	r.out.MemLen = len(r.mem)
	runtime.KeepAlive(m)
	return r, true
}

// refOutcome is the reference's result in the same terms.
func refOutcome(res ref.Result) outcome {
	o := outcome{Stop: res.Stop, ExitCode: res.ExitCode, Trap: res.Trap, PC: res.PC, Regs: res.Regs,
		Stdout: string(res.Stdout), Stderr: string(res.Stderr), Steps: res.Steps,
		MemBase: res.Base, MemLen: len(res.Mem), MemHash: memHash(res.Mem)}
	if res.Stop == ref.Exited {
		o.PC = 0 // where an exit happened is not part of the architecture
	}
	return o
}

// differential runs img on the VM and on the reference and fails if they differ. It reports
// whether it compared them: not if the image does not load, or the reference declines it.
func differential(t *testing.T, img *object.Image, stdin []byte, opts vm.Options) bool {
	var want ref.Result
	var wantErr error
	got, ok := runVM(t, img, stdin, opts, func(m ref.Machine) bool {
		want, wantErr = ref.Run(m)
		if wantErr != nil && !errors.Is(wantErr, ref.ErrUnsupported) {
			t.Fatalf("reference: %v\n%s", wantErr, listing(img, stdin))
		}
		return wantErr == nil
	})
	if !ok {
		return false
	}
	w := refOutcome(want)
	if got.out.Stop == ref.Exited {
		got.out.PC = 0
	}
	if got.out != w {
		msg := cmp.Diff(w, got.out)
		if w.MemHash != got.out.MemHash {
			msg += memDiff(want.Base, want.Mem, got.out.MemBase, got.mem)
		}
		t.Fatalf("the VM and the reference differ (-reference +vm):\n%s\n%s", msg, listing(img, stdin))
	}
	return true
}

// memDiff describes the first difference between two memories.
func memDiff(baseA uint64, a []byte, baseB uint64, b []byte) string {
	if baseA != baseB || len(a) != len(b) {
		return fmt.Sprintf("\nmemory: %#x+%d vs %#x+%d bytes", baseA, len(a), baseB, len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			lo, hi := i&^7, min(i&^7+16, len(a))
			return fmt.Sprintf("\nmemory differs first at %#x: % x vs % x", baseA+uint64(i), a[lo:hi], b[lo:hi])
		}
	}
	return ""
}

// listing is the program as assembly, and its input, for a report.
func listing(img *object.Image, stdin []byte) string {
	var b strings.Builder
	if err := object.Disassemble(&b, img); err != nil {
		fmt.Fprintf(&b, "(disassembly failed: %v)\n", err)
	}
	fmt.Fprintf(&b, "# stdin: %q\n", stdin)
	return b.String()
}

// TestDifferentialPrograms runs the programs of programs/ and the assembly files of the
// scripts in tests/testdata on the VM and on the reference, with a fixed input. Those that use
// threads or processes are skipped: the reference declines them.
//
// They are not seeds of FuzzDifferential: mutated images were rejected by the loader 97% of
// the time (a word with reserved bits set, a branch out of the text), and the fuzzer spent
// most of its time on them.
func TestDifferentialPrograms(t *testing.T) {
	// 43 of the 71 programs and test sources are compared today; the others use what the
	// reference does not model. A floor keeps a change to the reference, or to how programs are
	// found, from turning the test into a row of skips that passes.
	const minCompared = 40
	compared := 0
	for _, p := range seedPrograms(t) {
		t.Run(p.name, func(t *testing.T) {
			if !differential(t, p.img, programInput, vm.Options{MaxSteps: programSteps}) {
				t.Skip("the reference does not model what it uses: threads, processes or time")
			}
			compared++
		})
	}
	if run := flag.Lookup("test.run").Value.String(); compared < minCompared && !strings.Contains(run, "/") {
		t.Errorf("%d programs compared with the reference; want at least %d", compared, minCompared)
	}
}

// TestDifferentialCases runs the reproducers of what FuzzDifferential found, and corners that
// the documents leave to the VM, on the VM and on the reference. The fuzz inputs under
// testdata/fuzz/FuzzDifferential are generator bytes, which make another program once the
// generator changes; these stay.
func TestDifferentialCases(t *testing.T) {
	long := strings.Repeat("7", 5000) + "\n12\n"
	tests := []struct{ name, src, stdin string }{
		// Found by FuzzDifferential: enter wrote fp's old value and moved fp, then trapped.
		{"enter_overflow", "li fp, 7\nenter 4096\n", ""},
		{"push_pop_sp", "push sp\npop t0\nli t1, 3\npush t1\npop sp\nhalt\n", ""},
		{"callr_bad_target_full_stack", "lk sp, 0x0ffff000\nli t0, 3\ncallr t0\n", ""},
		{"step_limit_overshoot", "main: nop\nnop\njmp main\n", ""},
		{"read_int_long_line", "syscall read_int\nmov s0, a0\nsyscall read_int\nhalt\n", long},
		{"puts_without_nul", ".data\nx: .ascii \"abc\"\n.text\nmain: la a0, x\nsyscall puts\n", ""},
		{"sbrk_shrink_grow_reads_zeros", "li a0, 64\nsyscall sbrk\nli t0, -1\nsd t0, 8(a0)\nli a0, -64\nsyscall sbrk\n" +
			"li a0, 64\nsyscall sbrk\nld a1, 8(a0)\nhalt\n", ""},
		{"zero_length_write_at_the_break", "li a0, 0\nsyscall brk\nmov a1, a0\nli a0, 1\nli a2, 0\nsyscall write\nhalt\n", ""},
		{"close_stdout_then_print", "li a0, 1\nsyscall close\nli a0, 5\nsyscall print_int\nli a0, 1\nsyscall close\nhalt\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := asm.Assemble(tt.name+".s", []byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !differential(t, img, []byte(tt.stdin), vm.Options{MaxSteps: 100_000}) {
				t.Fatal("not compared")
			}
		})
	}
}

// FuzzDifferential runs generated programs on the VM and on the reference interpreter. Output,
// how the run ended, where, the registers, the steps and the memory must be the same.
func FuzzDifferential(f *testing.F) {
	for _, b := range randomSeeds(32) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := progen.Generate(data, progen.Options{})
		// How the VM runs must not change what a program does. A virtual clock makes it read
		// its input in the loop rather than on a goroutine; a short quantum takes it through
		// the slow path of its check points; the random scheduler runs the loop that can stop
		// at any instruction.
		opts := vm.Options{MaxSteps: p.MaxSteps}
		switch len(data) % 4 {
		case 1:
			opts.VirtualClock = true
		case 2:
			opts.Quantum = 1 + int64(len(data)%7)
		case 3:
			opts.Sched, opts.Seed, opts.VirtualClock, opts.Quantum = vm.SchedRandom, uint64(len(data)), true, 5
		}
		if !differential(t, p.Image, p.Stdin, opts) {
			t.Fatalf("a generated program does not load, or the reference declines it\n%s", listing(p.Image, p.Stdin))
		}
	})
}

// FuzzPreemption runs a race-free generated program, whose threads each work on memory of
// their own, with a quantum too long to preempt, with a quantum of one instruction, and with
// random preemption: saving and restoring a thread's context must lose nothing, so the output,
// the end, the main thread's registers, the steps and the memory are the same.
func FuzzPreemption(f *testing.F) {
	for i, b := range randomSeeds(32) {
		f.Add(b, uint64(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, quantum uint8) {
		p := progen.Generate(data, progen.Options{Threads: true})
		schedules := []vm.Options{
			{Quantum: vm.MaxQuantum},
			{Quantum: 1},
			// A short quantum, so that the random preemptions fall inside these short programs.
			{Sched: vm.SchedRandom, Seed: seed, VirtualClock: true, Quantum: 1 + int64(quantum%64)},
		}
		var first vmRun
		for i, opts := range schedules {
			opts.MaxSteps = p.MaxSteps
			r, ok := runVM(t, p.Image, nil, opts, nil)
			if !ok {
				t.Fatalf("a generated program does not load\n%s", listing(p.Image, nil))
			}
			if r.out.Stop == ref.StepLimit {
				return // where a limit stops the threads depends on the schedule
			}
			if r.out.Stop == ref.Exited {
				r.out.PC = 0
			}
			if r.mem != nil {
				// Threads' stacks lie above the initial break, and where each one is depends
				// on which threads had ended, and given theirs back, when it was spawned.
				r.mem = r.mem[:min(len(r.mem), len(r.initial.Mem))]
				r.out.MemLen, r.out.MemHash = len(r.mem), memHash(r.mem)
			}
			if i == 0 {
				first = r
				continue
			}
			if r.out != first.out {
				msg := cmp.Diff(first.out, r.out)
				if first.out.MemHash != r.out.MemHash {
					msg += memDiff(first.out.MemBase, first.mem, r.out.MemBase, r.mem)
				}
				t.Fatalf("schedule %+v differs from a run without preemption (-first +this):\n%s\n%s",
					opts, msg, listing(p.Image, nil))
			}
		}
	})
}

// randomSeeds are generator inputs from a fixed random source: programs of every kind, to
// start from.
func randomSeeds(n int) [][]byte {
	rng := rand.New(rand.NewPCG(4, 4))
	var seeds [][]byte
	for i := range n {
		b := make([]byte, 32+i*16)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		seeds = append(seeds, b)
	}
	return seeds
}

type seedProgram struct {
	name string
	img  *object.Image
}

// seedPrograms assembles the programs of programs/ and the assembly files of tests/testdata's
// scripts that assemble, but for the hostile ones.
func seedPrograms(t *testing.T) []seedProgram {
	var progs []seedProgram
	paths, _ := filepath.Glob("../programs/*.s")
	more, _ := filepath.Glob("../programs/*/*.s")
	for _, path := range append(paths, more...) {
		img, err := asm.AssembleFile(path)
		if err != nil {
			continue // a library, such as lib/sync.s, that is not a program
		}
		progs = append(progs, seedProgram{strings.TrimPrefix(path, "../"), img})
	}
	scripts, _ := filepath.Glob("../tests/testdata/*.txtar")
	for _, path := range scripts {
		if strings.HasPrefix(filepath.Base(path), "hostile_") {
			continue // sources made to be slow to assemble, or not to assemble at all
		}
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, file := range ar.Files {
			files[file.Name] = file.Data
		}
		read := func(name string) ([]byte, error) {
			if b, ok := files[name]; ok {
				return b, nil
			}
			return nil, os.ErrNotExist
		}
		for _, file := range ar.Files {
			if !strings.HasSuffix(file.Name, ".s") {
				continue
			}
			if img, err := asm.Assemble(file.Name, file.Data, &asm.Options{ReadFile: read}); err == nil {
				progs = append(progs, seedProgram{filepath.Base(path) + "/" + file.Name, img})
			}
		}
	}
	if len(progs) == 0 {
		t.Fatal("no programs found")
	}
	return progs
}
