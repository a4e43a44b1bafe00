// Package progen generates Spindle programs from a fuzzer's bytes, for the fuzz targets of
// package vm. Every program it makes loads: its branches stay in the text, its constants are in
// the pool, its words are instructions. Its structure is that of a real program
// (functions with frames, bounded loops, branches forward, memory operations on its data,
// syscalls), with now and then something a careless or hostile program does: a division by
// zero, an access out of bounds, a jump to a computed address, a return to garbage, an illegal
// instruction. Its loops are bounded by counters that nothing else writes, except
// those wild things, and the run's step budget bounds the rest.
//
// With Options.Threads the program is race-free instead: its main thread spawns worker threads
// that each work on memory of their own, joins them and prints what they did, and nothing in it
// traps before the end. Its result cannot depend on how the threads interleave.
//
// Sched makes programs of another kind, for the fuzz target of the scheduler: threads that
// meet on channels, futexes and joins, and whose fate (the output they print, a deadlock, an
// exit) is known from their structure, with the options to run them with.
package progen

import (
	"fmt"
	"math/bits"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Options select the kind of program.
type Options struct {
	Threads bool // a race-free program of 0 to 4 worker threads that never traps by design
}

// A Program is a generated image, the input it may read, and a step budget for running it.
type Program struct {
	Image    *object.Image
	Stdin    []byte
	MaxSteps uint64
}

// Limits of a program's size and running time.
const (
	maxFuncs    = 4
	maxInstrs   = 500   // instructions, roughly: a statement may pass it by a few
	maxFnInstrs = 48    // the same, for one helper function
	costBudget  = 20000 // instructions a run may execute, by the generator's estimate
	maxDepth    = 3     // nesting of ifs and loops
	regionSize  = 256   // bytes of .bss that each thread of a threaded program owns
	threadStack = 2048  // bytes of a worker's stack: several times its deepest chain of frames
)

// The registers' roles. The generated code writes only the scratch registers, r0 to s0, except
// in wild statements; dataReg holds the base of the memory the code works on, and loopReg[d]
// the counter of the loop at depth d. Functions save and restore the loop counters.
const (
	numScratch = isa.S0 + 1
	dataReg    = isa.S1
)

var loopReg = [2]int{isa.S2, isa.S3}

// Generate builds a program from data. The same data always gives the same program.
func Generate(data []byte, opts Options) *Program {
	p := &pool{b: data, j: len(data)}
	g := &gen{front: &source{p: p}, back: &source{p: p, back: true}, opts: opts, safe: opts.Threads, constIdx: map[uint64]int{}}
	g.src = g.front
	return g.program()
}

// source hands out the fuzzer's bytes, bit by bit, so that a choice among k alternatives
// takes only the bits it needs: the front bytes go to main and the workers, the back ones,
// from the end, to the helper functions, so that a helper's size does not starve main, which
// calls it. Once the two ends meet it gives zeros, which make the generator choose the first,
// simplest alternatives, so that every program ends.
type source struct {
	p     *pool
	back  bool
	quota int    // for the back: how many more bytes the current function may take
	acc   uint64 // bits taken from the bytes and not yet used
	nacc  uint
}

type pool struct {
	b    []byte
	i, j int // the front bytes b[:i] and the back bytes b[j:] are used
}

func (s *source) done() bool { return s.p.i >= s.p.j || s.back && s.quota <= 0 }

func (s *source) raw() byte {
	p := s.p
	switch {
	case s.done():
		return 0
	case s.back:
		s.quota--
		p.j--
		return p.b[p.j]
	}
	p.i++
	return p.b[p.i-1]
}

// bits returns the next k bits, k <= 32.
func (s *source) bits(k uint) uint64 {
	for s.nacc < k {
		s.acc |= uint64(s.raw()) << s.nacc
		s.nacc += 8
	}
	v := s.acc & (1<<k - 1)
	s.acc >>= k
	s.nacc -= k
	return v
}

// n returns a number in [0, k).
func (s *source) n(k int) int {
	return int(s.bits(uint(bits.Len(uint(k-1))))) % k
}

func (s *source) byte() byte  { return byte(s.bits(8)) }
func (s *source) u16() uint64 { return s.bits(16) }
func (s *source) u64() uint64 { return s.bits(32) | s.bits(32)<<32 }

// A chunk is the code of one function, laid out in the text after all are generated.
type chunk struct {
	code   []isa.Instr
	fixups []fixup
}

// A fixup is a branch whose offset is known once its label is placed.
type fixup struct {
	at    int // index in the chunk
	op    isa.Opcode
	a, b  int
	label int
}

// A label is a place in a chunk.
type label struct{ chunk, at int }

// A constFix is a pool entry that holds a code address known only after layout: a label's, or
// that of one of the words the loader appends after the text (sentinel >= 0).
type constFix struct {
	index, label, sentinel int
}

type fn struct {
	chunk int
	entry int // label
	cost  int // instructions one call executes, at most, by estimate
	name  string
}

type gen struct {
	src         *source // front or back
	front, back *source
	opts        Options
	safe        bool // nothing that traps or runs wild
	chaos       int  // how often a program that may trap does something risky: 0 to 3

	chunks   []chunk
	cur      int // the chunk being generated
	labels   []label
	consts   []uint64
	constIdx map[uint64]int
	constFix []constFix
	funcs    []fn // helpers; a helper may call only helpers after it
	instrs   int
	dataLen  uint64
	bss      uint64
	memSpan  uint64 // bytes from DataBase that the code's data accesses aim at
	region   uint64 // in a threaded program, the bytes from dataReg a thread may use
	tidTable uint64 // address of the table of worker thread ids
	isWorker bool

	// The function being generated.
	fnIndex   int // index in funcs, or -1 for main and workers
	frame     int // bytes of locals below fp, or -1 without a frame
	epilogue  int
	depth     int
	loopDepth int
	mult      int // how many times the current statement runs per call, by estimate
	cost      int // the current function's estimated cost so far
	fnInstrs  int // the current function's instructions so far
}

func (g *gen) program() *Program {
	p := &Program{}
	workers := 0
	if g.opts.Threads {
		workers = g.src.n(5)
		p.MaxSteps = 1 << 22
	} else {
		g.chaos = g.src.n(4)
		p.MaxSteps = uint64(16+g.src.n(64)) << g.src.n(9)
		p.Stdin = g.input()
	}
	nfuncs := g.src.n(maxFuncs + 1)
	if !g.opts.Threads {
		g.dataLen = uint64(g.src.n(64))
	}
	data := make([]byte, g.dataLen)
	for i := range data {
		data[i] = g.src.byte()
	}
	regionsBase := isa.DataBase + (g.dataLen+7)&^7
	if g.opts.Threads {
		g.region = regionSize
		g.bss = (regionsBase - isa.DataBase - g.dataLen) + uint64(workers+1)*regionSize + 8*uint64(workers)
		g.tidTable = regionsBase + uint64(workers+1)*regionSize
	} else {
		g.bss = 64 + 8*uint64(g.src.n(48))
	}
	g.memSpan = g.dataLen + g.bss

	// Helpers are generated last first, so that a caller knows what its callees cost.
	g.funcs = make([]fn, nfuncs)
	for i := range g.funcs {
		g.funcs[i] = fn{chunk: g.newChunk(), entry: g.newLabel(), name: fmt.Sprintf("f%d", i)}
	}
	// The helpers and the workers share half the bytes that are left, from the back; main has
	// the other half. Helpers come first, so that the workers know what they cost.
	g.src = g.back
	share := func(k int) { g.back.quota = (g.back.p.j - g.back.p.i) / (2 * k) }
	for i := nfuncs - 1; i >= 0; i-- {
		share(i + 1 + workers)
		g.function(i)
	}
	var workerFns []fn
	for k := range workers {
		share(workers - k)
		w := fn{chunk: g.newChunk(), entry: g.newLabel(), name: fmt.Sprintf("worker%d", k)}
		g.cur = w.chunk
		g.worker(w)
		workerFns = append(workerFns, w)
	}
	g.src = g.front
	mainFn := fn{chunk: g.newChunk(), entry: g.newLabel(), name: "main"}
	g.cur = mainFn.chunk
	g.place(mainFn.entry)
	if g.opts.Threads {
		g.threadedMain(workerFns, regionsBase)
	} else {
		g.main()
	}

	img := &object.Image{Data: data, BSS: g.bss}
	g.layout(img, append(append(g.funcs, workerFns...), mainFn), mainFn)
	p.Image = img
	return p
}

// input makes a few lines for read and read_int: numbers, words, or raw bytes.
func (g *gen) input() []byte {
	var b []byte
	for range g.src.n(4) {
		switch g.src.n(4) {
		case 0, 1:
			b = fmt.Appendf(b, "%d\n", int64(g.src.u64())>>g.src.n(64))
		case 2:
			b = fmt.Appendf(b, " %d \n", int8(g.src.byte()))
		default:
			for range g.src.n(16) {
				b = append(b, g.src.byte())
			}
		}
	}
	return b
}

func (g *gen) newChunk() int {
	g.chunks = append(g.chunks, chunk{})
	return len(g.chunks) - 1
}

func (g *gen) newLabel() int {
	g.labels = append(g.labels, label{-1, -1})
	return len(g.labels) - 1
}

func (g *gen) place(l int) { g.labels[l] = label{g.cur, len(g.chunks[g.cur].code)} }

func (g *gen) full() bool {
	return g.instrs >= maxInstrs || g.src.done() || g.fnIndex >= 0 && g.fnInstrs >= maxFnInstrs
}

// emit appends an instruction; its operands are the generator's to get right.
func (g *gen) emit(op isa.Opcode, o isa.Operands) {
	w, err := isa.Encode(op, o)
	if err != nil {
		panic(fmt.Sprintf("progen: %v", err))
	}
	g.word(w)
}

func (g *gen) word(w isa.Instr) {
	c := &g.chunks[g.cur]
	c.code = append(c.code, w)
	g.instrs++
	g.fnInstrs++
	g.cost += g.mult
}

func (g *gen) abc(op isa.Opcode, a, b, c int) { g.emit(op, isa.Operands{A: a, B: b, C: c}) }
func (g *gen) abi(op isa.Opcode, a, b int, imm int64) {
	g.emit(op, isa.Operands{A: a, B: b, Imm: imm})
}
func (g *gen) ai(op isa.Opcode, a int, imm int64) { g.emit(op, isa.Operands{A: a, Imm: imm}) }
func (g *gen) a(op isa.Opcode, a int)             { g.emit(op, isa.Operands{A: a}) }
func (g *gen) n(op isa.Opcode)                    { g.emit(op, isa.Operands{}) }
func (g *gen) sys(n isa.Syscall)                  { g.emit(isa.SYSCALL, isa.Operands{Imm: int64(n)}) }

// branch appends a branch (or jmp, or call) to label l.
func (g *gen) branch(op isa.Opcode, a, b, l int) {
	c := &g.chunks[g.cur]
	c.fixups = append(c.fixups, fixup{at: len(c.code), op: op, a: a, b: b, label: l})
	g.word(0)
}

// li loads any constant, as the assembler's li does: from the immediate or from the pool.
func (g *gen) li(r int, v uint64) {
	if int64(v) >= isa.MinImm20 && int64(v) <= isa.MaxImm20 {
		g.ai(isa.LI, r, int64(v))
		return
	}
	i, ok := g.constIdx[v]
	if !ok {
		i = len(g.consts)
		g.consts = append(g.consts, v)
		g.constIdx[v] = i
	}
	g.ai(isa.LK, r, int64(i))
}

// la loads the code address of label l, or of appended word sentinel when l < 0.
func (g *gen) la(r, l, sentinel int) {
	g.constFix = append(g.constFix, constFix{index: len(g.consts), label: l, sentinel: sentinel})
	g.consts = append(g.consts, 0)
	g.ai(isa.LK, r, int64(len(g.consts)-1))
}

// Registers.
func (g *gen) scratch() int { return g.src.n(numScratch) }

// any is a register to read. A race-free program does not read sp and fp, whose values in a
// worker depend on where its stack is, which depends on which threads had ended, and given
// their stacks back, when it was spawned.
func (g *gen) any() int {
	if g.safe {
		return g.src.n(isa.FP)
	}
	return g.src.n(isa.NumRegs)
}

// risky says whether to do something that may trap or run wild now: never in a safe
// program, and in the others more often the more chaotic they are.
func (g *gen) risky() bool {
	if g.safe {
		return false
	}
	return g.src.n(256) < [...]int{1, 4, 10, 24}[g.chaos]
}

// dst is the register a statement writes: a scratch one, or in a wild moment any.
func (g *gen) dst() int {
	if g.risky() && g.src.n(8) == 0 {
		return g.any()
	}
	return g.scratch()
}

// value returns a number worth computing with: the edges of the arithmetic, or random bits.
func (g *gen) value() uint64 {
	edges := [...]uint64{0, 1, ^uint64(0), 2, 7, 63, 64, 65, 0x7f, 0x80, 0xff, 0x8000, 0xffff,
		1 << 31, 1<<32 - 1, 1 << 32, 1 << 63, 1<<63 - 1, isa.DataBase, isa.TextBase}
	switch g.src.n(4) {
	case 0:
		return edges[g.src.n(len(edges))]
	case 1:
		return uint64(int64(int8(g.src.byte())))
	case 2:
		return g.src.u16()
	}
	return g.src.u64()
}

// The ALU operations with three registers, and the ones with an immediate.
var (
	aluOps  = []isa.Opcode{isa.ADD, isa.SUB, isa.MUL, isa.AND, isa.OR, isa.XOR, isa.SHL, isa.SHR, isa.SAR, isa.SLT, isa.SLTU, isa.SEQ, isa.SNE}
	divOps  = []isa.Opcode{isa.DIV, isa.DIVU, isa.REM, isa.REMU}
	immOps  = []isa.Opcode{isa.ADDI, isa.MULI, isa.ANDI, isa.ORI, isa.XORI, isa.SHLI, isa.SHRI, isa.SARI, isa.SLTI, isa.SLTIU}
	loadOps = []isa.Opcode{isa.LB, isa.LBU, isa.LH, isa.LHU, isa.LW, isa.LWU, isa.LD}
	sizeOf  = map[isa.Opcode]int64{isa.LB: 1, isa.LBU: 1, isa.LH: 2, isa.LHU: 2, isa.LW: 4, isa.LWU: 4, isa.LD: 8,
		isa.SB: 1, isa.SH: 2, isa.SW: 4, isa.SD: 8}
	storeOps = []isa.Opcode{isa.SB, isa.SH, isa.SW, isa.SD}
	condOps  = []isa.Opcode{isa.BEQ, isa.BNE, isa.BLT, isa.BGE, isa.BLTU, isa.BGEU, isa.BEQZ, isa.BNEZ}
)

func pick[T any](g *gen, xs []T) T { return xs[g.src.n(len(xs))] }

// block generates up to max statements.
func (g *gen) block(max int) {
	for range 1 + g.src.n(max) {
		if g.full() || g.cost > costBudget {
			return
		}
		g.stmt()
	}
}

func (g *gen) stmt() {
	switch k := g.src.n(40); {
	case k < 6:
		g.abc(pick(g, aluOps), g.dst(), g.any(), g.any())
	case k < 10:
		g.aluImm()
	case k < 12:
		g.li(g.dst(), g.value())
	case k < 13:
		g.abc(pick(g, []isa.Opcode{isa.MOV, isa.NOT, isa.NEG}), g.dst(), g.any(), 0)
	case k < 17:
		g.memory()
	case k < 19:
		g.divide()
	case k < 22:
		g.ifBlock()
	case k < 25:
		g.loop()
	case k < 28:
		g.call()
	case k < 32:
		g.syscall()
	case k < 34:
		g.atomic()
	case k < 35:
		g.pushPop()
	case k < 37:
		g.local()
	case k < 38:
		g.earlyReturn()
	default:
		if g.risky() {
			g.wild()
		} else {
			g.aluImm()
		}
	}
}

func (g *gen) aluImm() {
	var imm int64
	switch g.src.n(3) {
	case 0:
		imm = int64(int8(g.src.byte())) >> 3
	case 1:
		imm = int64(pick(g, []int16{63, 64, 65, -1, -64, 255, 0x7fff, -0x8000}))
	default:
		imm = int64(int16(g.src.u16()))
	}
	g.abi(pick(g, immOps), g.dst(), g.any(), imm)
}

// divide divides by a register that is usually made nonzero first, and in a program that may
// trap is sometimes left as it is, zero included.
func (g *gen) divide() {
	op, d, x, y := pick(g, divOps), g.dst(), g.any(), g.any()
	if !g.risky() {
		t := g.scratch()
		g.abi(isa.ORI, t, y, 1)
		y = t
	}
	g.abc(op, d, x, y)
}

// memory loads or stores through dataReg, the stack pointer, or any register.
func (g *gen) memory() {
	var op isa.Opcode
	if g.src.n(2) == 0 {
		op = pick(g, loadOps)
	} else {
		op = pick(g, storeOps)
	}
	size := sizeOf[op]
	reg := g.dst()
	if op >= isa.SB {
		reg = g.any()
	}
	base, off := dataReg, int64(0)
	switch k := g.src.n(4); {
	case g.safe:
		off = int64(g.src.u16() % (g.region - uint64(size) + 1))
	case g.risky():
		// Anywhere: mostly out of bounds.
		if k < 2 {
			off = int64(int16(g.src.u16()))
		} else {
			base = g.any()
			off = int64(int8(g.src.byte()))
		}
	case k < 3:
		off = int64(g.src.u16() % (g.memSpan - uint64(size) + 1))
		if g.risky() {
			// At the edges of the data: into the top of the stack below it, or past the
			// break after it.
			off = int64(g.src.u16()%(g.memSpan+16)) - 8
		}
	default:
		base = isa.SP
		off = int64(g.src.n(64)) - 8
		if op >= isa.SB {
			off = -8 - int64(g.src.n(56)) // stores go below sp, onto free stack
		}
	}
	g.abi(op, reg, base, off)
}

// local loads or stores a local variable of the current frame.
func (g *gen) local() {
	if g.frame < 8 {
		g.memory()
		return
	}
	op := pick(g, loadOps)
	reg := g.dst()
	if g.src.n(2) == 0 {
		op = pick(g, storeOps)
		reg = g.any()
	}
	size := sizeOf[op]
	off := -size - int64(g.src.n(g.frame-int(size)+1))
	g.abi(op, reg, isa.FP, off)
}

// ifBlock branches forward over a block.
func (g *gen) ifBlock() {
	if g.depth >= maxDepth {
		g.aluImm()
		return
	}
	end := g.newLabel()
	op := pick(g, condOps)
	if !g.safe && g.src.n(16) == 0 {
		op = isa.JMP // the block is dead code
	}
	g.branch(op, g.any(), g.any(), end)
	g.depth++
	g.block(4)
	g.depth--
	g.place(end)
}

// loop runs a block a few times, counting in the loop register of its depth: down to zero,
// up to a limit, or, at depth 0, up with the loop instruction, whose limit is in the depth 1
// register, so that the block holds no other loop.
func (g *gen) loop() {
	if g.depth >= maxDepth || g.loopDepth >= len(loopReg) {
		g.aluImm()
		return
	}
	ctr := loopReg[g.loopDepth]
	n := 1 + g.src.n(6)
	top := g.newLabel()
	kind := g.src.n(3)
	if kind == 2 && g.loopDepth > 0 {
		kind = 0
	}
	switch kind {
	case 0:
		g.li(ctr, uint64(n))
	case 1:
		g.li(ctr, 0)
	case 2:
		g.li(ctr, 0)
		g.li(loopReg[1], uint64(n))
	}
	g.place(top)
	g.depth++
	outer := g.loopDepth
	g.loopDepth++
	if kind == 2 {
		g.loopDepth = len(loopReg)
	}
	g.mult *= n
	g.block(5)
	switch kind {
	case 0:
		g.abi(isa.ADDI, ctr, ctr, -1)
		g.branch(isa.BNEZ, ctr, 0, top)
	case 1:
		t := g.scratch()
		g.abi(isa.ADDI, ctr, ctr, 1)
		g.abi(isa.SLTI, t, ctr, int64(n))
		g.branch(isa.BNEZ, t, 0, top)
	case 2:
		g.branch(isa.LOOP, ctr, loopReg[1], top)
	}
	g.mult /= n
	g.loopDepth = outer
	g.depth--
}

// call calls a helper after the current function, directly or through a register, if what it
// costs fits the budget; in a program that may trap, a function sometimes calls itself
// without end.
func (g *gen) call() {
	first := g.fnIndex + 1
	if g.fnIndex < 0 {
		first = 0
	}
	if !g.safe && g.fnIndex >= 0 && g.src.n(32) == 0 {
		g.branch(isa.CALL, 0, 0, g.funcs[g.fnIndex].entry)
		return
	}
	if first >= len(g.funcs) {
		g.aluImm()
		return
	}
	f := g.funcs[first+g.src.n(len(g.funcs)-first)]
	if g.cost+g.mult*f.cost > costBudget {
		g.aluImm()
		return
	}
	if g.src.n(2) == 0 {
		g.li(isa.A0, g.value())
	}
	if g.src.n(3) == 0 {
		t := g.scratch()
		g.la(t, f.entry, -1)
		g.a(isa.CALLR, t)
	} else {
		g.branch(isa.CALL, 0, 0, f.entry)
	}
	g.cost += g.mult * f.cost
}

// syscall asks for a service, with arguments that are mostly right.
func (g *gen) syscall() {
	if g.safe {
		// Only the main thread prints, not the helpers that workers call too: the order of
		// the threads' output would depend on the schedule.
		switch k := g.src.n(8); {
		case k < 3 || g.isWorker || g.fnIndex >= 0:
			g.sys(pick(g, []isa.Syscall{isa.SysYield, isa.SysGettid, isa.SysGetpid}))
		case k < 5:
			g.abc(isa.MOV, isa.A0, g.any(), 0)
			g.sys(isa.SysPrintInt)
		case k < 6:
			g.li(isa.A0, uint64('a'+g.src.n(26)))
			g.sys(isa.SysPutc)
		default:
			off := g.src.u16() % g.region
			g.li(isa.A0, 1)
			g.abi(isa.ADDI, isa.A1, dataReg, int64(off))
			g.li(isa.A2, g.src.u16()%(g.region-off+1))
			g.sys(isa.SysWrite)
		}
		return
	}
	// A buffer in the data, or now and then anywhere.
	// buffer puts in reg the address of n bytes in the data, or when risky anywhere; n is at
	// most 40, or when risky anything. It returns n.
	buffer := func(reg int) uint64 {
		n := uint64(g.src.n(41))
		switch {
		case g.risky():
			if g.src.n(2) == 0 {
				n = g.value()
			}
			g.abc(isa.MOV, reg, g.any(), 0)
		case g.risky():
			// At the edges of memory: below the data, in the top of the stack, or past it.
			g.abi(isa.ADDI, reg, dataReg, int64(g.src.u16()%(g.memSpan+16))-8)
		default:
			n = min(n, g.memSpan)
			g.abi(isa.ADDI, reg, dataReg, int64(g.src.u16()%(g.memSpan-n+1)))
		}
		return n
	}
	k := g.src.n(12)
	if g.risky() {
		k = 12 + g.src.n(4)
	}
	switch k {
	case 0, 1:
		g.li(isa.A0, uint64(1+g.src.n(2)))
		if g.src.n(8) == 0 {
			g.li(isa.A0, uint64(g.src.n(5)))
		}
		g.li(isa.A2, buffer(isa.A1))
		g.sys(isa.SysWrite)
	case 2:
		g.abc(isa.MOV, isa.A0, g.any(), 0)
		g.sys(isa.SysPrintInt)
	case 4, 11:
		g.li(isa.A0, uint64(' '+g.src.n(95)))
		g.sys(isa.SysPutc)
	case 5:
		buffer(isa.A0)
		g.sys(isa.SysPuts)
	case 6:
		// Grow or shrink the heap, then use what it gave.
		inc := uint64(24 + 8*g.src.n(61))
		if g.risky() {
			if g.src.n(2) == 0 {
				inc = -inc
			} else {
				inc = g.value()
			}
		}
		g.li(isa.A0, inc)
		g.sys(isa.SysSbrk)
		g.abi(pick(g, storeOps), g.any(), isa.A0, int64(g.src.n(16)))
	case 7:
		g.li(isa.A0, 0)
		g.sys(isa.SysBrk)
		g.abi(isa.ADDI, isa.A0, isa.A0, int64(int16(g.src.u16()))&^7)
		g.sys(isa.SysBrk)
	case 8:
		g.li(isa.A0, 0)
		g.li(isa.A2, buffer(isa.A1))
		g.sys(isa.SysRead)
	case 9:
		g.sys(isa.SysReadInt)
	case 3:
		g.sys(isa.SysArgc)
		g.li(isa.A0, uint64(g.src.n(2))) // there are two arguments
		g.sys(isa.SysArgv)
		g.abi(isa.LBU, g.scratch(), isa.A0, 0)
	case 10:
		g.sys(pick(g, []isa.Syscall{isa.SysGettid, isa.SysGetpid, isa.SysYield}))
	case 12:
		g.abc(isa.MOV, isa.A0, g.any(), 0)
		g.sys(isa.SysExit)
	case 13:
		if g.src.n(4) == 0 {
			g.li(isa.A0, uint64(g.src.n(4)))
			g.sys(isa.SysClose)
		} else {
			g.sys(isa.SysThreadJoin)
		}
	default:
		// A service that does not exist: one of the gaps between the areas, unless it has
		// been given a service since.
		n := pick(g, []isa.Syscall{0, 12, 19, 28, 39, 46, 59, 79, 80, 255, isa.MaxUimm24})
		if _, ok := n.Info(); ok {
			n = 0
		}
		g.sys(n)
	}
}

// atomic does a cas or xadd on a word of the data.
func (g *gen) atomic() {
	t := g.scratch()
	switch {
	case g.safe:
		g.abi(isa.ADDI, t, dataReg, int64(g.src.u16()%(g.region-7)))
	case g.risky():
		g.abi(isa.ADDI, t, dataReg, int64(g.src.u16()%(g.memSpan+16))-8)
	default:
		g.abi(isa.ADDI, t, dataReg, int64(g.src.u16()%(g.memSpan-7)))
	}
	op := isa.CAS
	if g.src.n(2) == 0 {
		op = isa.XADD
	}
	g.abc(op, g.dst(), t, g.any())
}

// pushPop saves registers on the stack around a statement and takes them back, maybe into
// other registers.
func (g *gen) pushPop() {
	n := 1 + g.src.n(3)
	for range n {
		g.a(isa.PUSH, g.any())
	}
	g.aluImm()
	for range n {
		g.a(isa.POP, g.scratch())
	}
}

// earlyReturn branches to the function's epilogue; main does it only when risky, since it
// ends the program.
func (g *gen) earlyReturn() {
	if g.fnIndex < 0 && !g.isWorker && !g.risky() {
		g.ifBlock()
		return
	}
	g.branch(pick(g, condOps), g.any(), g.any(), g.epilogue)
}

// wild does one of the things that a program should not do, and the VM must still get right.
func (g *gen) wild() {
	t := g.scratch()
	switch g.src.n(12) {
	case 0, 1:
		// A jump or call through a register to a computed address: a function, one of the
		// words after the text, an instruction by number, or no instruction at all.
		switch g.src.n(4) {
		case 0:
			if len(g.funcs) > 0 {
				g.la(t, pick(g, g.funcs).entry, -1)
				break
			}
			fallthrough
		case 1:
			g.la(t, -1, g.src.n(3))
		case 2:
			g.li(t, isa.CodeAddr(g.src.n(g.instrs+8)))
		default:
			g.li(t, isa.TextBase+uint64(g.src.n(g.instrs*4+16)))
		}
		if g.src.n(2) == 0 {
			g.a(isa.JR, t)
		} else {
			g.a(isa.CALLR, t)
		}
	case 2:
		// A return to whatever a register holds, or to the exit after the text.
		if g.src.n(2) == 0 {
			g.la(t, -1, 1)
		}
		g.a(isa.PUSH, t)
		g.n(isa.RET)
	case 3, 4:
		// The loader takes no word that is not an instruction, but the all-zero word is one.
		g.n(pick(g, []isa.Opcode{isa.ILLEGAL, isa.EBREAK, isa.HALT}))
	case 5:
		// Move the stack pointer, or the frame pointer, somewhere else.
		switch g.src.n(3) {
		case 0:
			g.abi(isa.ADDI, isa.SP, isa.SP, int64(int8(g.src.byte())))
		case 1:
			g.abc(isa.MOV, pick(g, []int{isa.SP, isa.FP}), g.any(), 0)
		default:
			g.li(isa.SP, g.value())
		}
	case 6:
		// A frame too big for the stack, or just big.
		g.emit(isa.ENTER, isa.Operands{Imm: int64(pick(g, []uint64{4096, 4000, 1 << 20, isa.MaxUimm24, uint64(g.src.u16())}))})
	case 7:
		g.a(pick(g, []isa.Opcode{isa.POP, isa.PUSH}), isa.SP)
	case 8:
		g.n(pick(g, []isa.Opcode{isa.LEAVE, isa.RET}))
	case 9:
		// Another loop's counter gets a new value: the step budget must end the loop.
		g.li(pick(g, loopReg[:]), g.value())
	default:
		g.abc(pick(g, divOps), g.dst(), g.any(), g.any())
	}
}

// function generates helper i: a prologue, a body, an epilogue that returns.
func (g *gen) function(i int) {
	f := &g.funcs[i]
	g.cur = f.chunk
	g.fnIndex = i
	g.place(f.entry)
	g.body(false)
	f.cost = g.cost
}

// body generates a function's code after its entry label: its frame, the saved loop
// registers, its statements and its return.
func (g *gen) body(worker bool) {
	g.frame, g.depth, g.loopDepth, g.mult, g.cost, g.fnInstrs = -1, 0, 0, 1, 0, 0
	g.epilogue = g.newLabel()
	enter := g.src.n(3) != 0
	if enter {
		g.frame = 8 * g.src.n(9)
		g.emit(isa.ENTER, isa.Operands{Imm: int64(g.frame)})
		if g.safe {
			// A reused stack holds what the thread before left in it: locals start known.
			for off := 8; off <= g.frame; off += 8 {
				g.abi(isa.SD, dataReg, isa.FP, int64(-off))
			}
		}
	}
	g.a(isa.PUSH, loopReg[0])
	g.a(isa.PUSH, loopReg[1])
	for first := true; first || !g.full() && g.cost < costBudget && g.src.n(4) != 0; first = false {
		g.block(8)
	}
	if g.src.n(2) == 0 {
		g.abc(isa.MOV, isa.A0, g.any(), 0)
	}
	g.place(g.epilogue)
	g.a(isa.POP, loopReg[1])
	g.a(isa.POP, loopReg[0])
	if enter {
		g.n(isa.LEAVE)
	}
	if worker && g.src.n(3) == 0 {
		g.sys(isa.SysThreadExit)
		return
	}
	g.n(isa.RET)
}

// main generates the entry of a program that may trap.
func (g *gen) main() {
	g.fnIndex, g.frame, g.depth, g.loopDepth, g.mult, g.cost = -1, -1, 0, 0, 1, 0
	g.epilogue = g.newLabel()
	g.li(dataReg, isa.DataBase)
	for range g.src.n(5) {
		g.li(g.scratch(), g.value())
	}
	for !g.full() && g.cost < costBudget {
		g.block(16)
	}
	g.place(g.epilogue)
	switch g.src.n(8) {
	case 0, 1, 2:
		if g.src.n(2) == 0 {
			g.li(isa.A0, uint64(g.src.byte()))
		} else {
			g.abc(isa.MOV, isa.A0, g.any(), 0)
		}
		g.sys(isa.SysExit)
	case 3, 4:
		g.n(isa.RET) // to the exit after the text, with a0 as the status
	case 5:
		g.n(isa.HALT)
	case 6:
		g.la(isa.T0, -1, 2+g.src.n(2)-1) // to the exit or the thread_exit after the text
		g.a(isa.JR, isa.T0)
	default:
		// The run goes past the end of the text. A branch may not: the loader checks that
		// every branch lands on an instruction, so the epilogue's label needs one.
		g.n(isa.NOP)
	}
}

// worker generates the entry of a worker thread, whose argument is the base of its region.
func (g *gen) worker(w fn) {
	g.fnIndex = -1
	g.isWorker = true
	g.place(w.entry)
	g.abc(isa.MOV, dataReg, isa.A0, 0)
	g.body(true)
	g.isWorker = false
}

// threadedMain spawns the workers, works on its own region, joins the workers, prints what
// each returned and the memory they worked on, and ends.
func (g *gen) threadedMain(workers []fn, regions uint64) {
	g.fnIndex, g.frame, g.depth, g.loopDepth, g.mult, g.cost = -1, -1, 0, 0, 1, 0
	g.epilogue = g.newLabel()
	for k, w := range workers {
		g.la(isa.A0, w.entry, -1)
		g.li(isa.A1, regions+uint64(k+1)*regionSize)
		g.li(isa.A2, threadStack)
		g.sys(isa.SysThreadSpawn)
		g.li(isa.T0, g.tidTable)
		g.abi(isa.SD, isa.A0, isa.T0, int64(8*k))
	}
	g.li(dataReg, regions)
	for !g.full() && g.cost < costBudget {
		g.block(16)
	}
	g.place(g.epilogue)
	for k := range workers {
		g.li(isa.T0, g.tidTable)
		g.abi(isa.LD, isa.A0, isa.T0, int64(8*k))
		g.sys(isa.SysThreadJoin)
		g.sys(isa.SysPrintInt)
		g.li(isa.A0, '\n')
		g.sys(isa.SysPutc)
	}
	g.li(isa.A0, 1)
	g.li(isa.A1, regions)
	g.li(isa.A2, uint64(len(workers)+1)*regionSize)
	g.sys(isa.SysWrite)
	switch g.src.n(4) {
	case 1:
		g.n(isa.EBREAK) // a trap keeps the memory for inspection
	case 2:
		g.n(isa.HALT)
	default:
		g.abc(isa.MOV, isa.A0, g.scratch(), 0)
		g.sys(isa.SysExit)
	}
}

// layout concatenates the chunks, resolves branches and code addresses, and fills img.
func (g *gen) layout(img *object.Image, fns []fn, mainFn fn) {
	start := make([]int, len(g.chunks))
	n := 0
	order := make([]int, 0, len(fns))
	for _, f := range fns {
		order = append(order, f.chunk)
	}
	for _, c := range order {
		start[c] = n
		n += len(g.chunks[c].code)
	}
	pos := func(l int) int { return start[g.labels[l].chunk] + g.labels[l].at }
	for _, c := range order {
		ch := &g.chunks[c]
		for _, f := range ch.fixups {
			at := start[c] + f.at
			w, err := isa.Encode(f.op, isa.Operands{A: f.a, B: f.b, Imm: int64(pos(f.label) - at)})
			if err != nil {
				panic(fmt.Sprintf("progen: %v", err))
			}
			ch.code[f.at] = w
		}
		img.Text = append(img.Text, ch.code...)
	}
	for _, f := range g.constFix {
		if f.label >= 0 {
			g.consts[f.index] = isa.CodeAddr(pos(f.label))
		} else {
			g.consts[f.index] = isa.CodeAddr(n + f.sentinel)
		}
	}
	img.Consts = g.consts
	img.Entry = isa.CodeAddr(pos(mainFn.entry))
	for _, f := range fns {
		img.Symbols = append(img.Symbols, object.Symbol{Name: f.name, Addr: isa.CodeAddr(pos(f.entry))})
	}
	img.Symbols = append(img.Symbols, object.Symbol{Name: "data", Addr: isa.DataBase})
}
