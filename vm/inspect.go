package vm

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Inspection: what a debugger reads and changes between runs. Every function here is for a
// machine on which no processor runs: after Load and before Run, after Run returns, or between
// two Resumes. None takes the kernel lock, and none may be called while the machine runs.
//
// A thread's registers need no function: Thread.R is its register file, and a write to it is
// what the thread finds there when it next runs. Its pc is Thread.PC, an instruction index;
// PCAddr and SetPC read and set it as a code address, and SetPC checks it.

// Processes returns the process table: the processes alive, and those that have ended but have
// not yet been waited for (zombies), by increasing id. A process that has been waited for, or
// whose parent ended, has been reaped and is not in it.
//
// After Run returns, the table is as the run left it. The first process keeps everything: its
// threads, their registers and its memory. Every other process alive at the end keeps its
// threads and registers but not its memory, which Run gives back to the host. A zombie keeps
// only its id and exit status (see ExitCode).
func (m *Machine) Processes() []*Process { return slices.Clone(m.procs) }

// Thread returns thread id of p, or nil if there is none: never made, joined already, or the
// process has ended and is not the first.
func (p *Process) Thread(id int) *Thread {
	if id <= 0 {
		return nil
	}
	return p.thread(uint64(id))
}

// ThreadInfo is what a debugger shows of a thread.
//
// Its Where is the instruction the thread is at: the next one it runs or, when it is blocked,
// the syscall it waits in, as the reports of deadlocks and stops say. A blocked thread resumes
// at its PC, which is past that syscall, or at it for a read or a write that starts over.
type ThreadInfo struct {
	BlockedThread // its state, what it waits for, where it is and where a leaf it is in was called from

	Steps    uint64 // instructions it has executed
	Switches uint64 // times it has been switched in
}

// ThreadInfo describes thread t, in the same words as a report of a deadlock or a stop.
func (m *Machine) ThreadInfo(t *Thread) ThreadInfo {
	info := ThreadInfo{Steps: t.Steps, Switches: t.Switches}
	if !t.Proc.hasCode(t.waitPC()) {
		// Its process has ended and given its code back, or its pc was set out of the text
		// by a write to Thread.PC: there is nothing to disassemble and no caller to find.
		info.State = t.State
		info.Where = m.whereAt(t, t.waitPC())
		if t.State == Blocked {
			info.Waits = t.waitString()
		}
		return info
	}
	info.BlockedThread = m.describe(t)
	return info
}

// hasCode reports whether pc is an index into the process's code, sentinels included: the
// process's code is only gone once it has ended, unless it is the first.
func (p *Process) hasCode(pc int) bool { return pc >= 0 && pc < len(p.code) }

// whereAt is where, for any pc: an index out of the process's code gives the address alone.
func (k *kernel) whereAt(t *Thread, pc int) Where {
	if !t.Proc.hasCode(pc) {
		return Where{Proc: t.Proc.ID, Thread: t.ID, PC: isa.CodeAddr(pc)}
	}
	return k.where(t, pc)
}

// PCAddr returns the code address of the instruction the thread runs next.
func (t *Thread) PCAddr() uint64 { return isa.CodeAddr(t.PC) }

// SetPC makes the thread go on at code address addr when it next runs. It refuses an address
// that is not an instruction of its process's text, as the loader refuses such an entry point,
// and a thread that has ended. A blocked thread still waits; it goes on at addr once woken.
func (t *Thread) SetPC(addr uint64) error {
	p := t.Proc
	if t.State == Exited {
		return fmt.Errorf("thread %d of process %d has ended: its pc cannot be set", t.ID, p.ID)
	}
	pc, ok := isa.CodeIndex(addr, p.textN)
	if !ok {
		return fmt.Errorf("pc %#08x is not the address of an instruction of process %d (%s)", addr, p.ID, isa.TextSpan(p.textN))
	}
	t.PC = pc
	return nil
}

// ReadMemory reads len(b) bytes of the process's memory at addr into b. It refuses, reading
// nothing, a range that is not wholly inside the memory, and says what the memory spans.
func (p *Process) ReadMemory(addr uint64, b []byte) error {
	off, err := p.memRange("read", addr, len(b))
	if err != nil {
		return err
	}
	copy(b, p.mem[off:])
	return nil
}

// WriteMemory writes b into the process's memory at addr, as a store of the program would:
// its threads see it when they next run. It refuses, writing nothing, a range that is not
// wholly inside the memory, and says what the memory spans.
func (p *Process) WriteMemory(addr uint64, b []byte) error {
	off, err := p.memRange("write", addr, len(b))
	if err != nil {
		return err
	}
	copy(p.mem[off:], b)
	if len(b) > 0 {
		p.wrote(off, uint64(len(b)))
	}
	return nil
}

// memRange returns the offset in mem of the n bytes at addr, or why they are not all in it.
// The memory is [memBase, memBase+len(mem)): the main stack, the data, the bss and the heap
// up to the break. A range that wraps around the top of the address space is outside it, as
// inMem, which computes with offsets, makes sure.
func (p *Process) memRange(verb string, addr uint64, n int) (uint64, error) {
	if p.mem == nil {
		why := "it has ended"
		if !p.exited {
			why = "the run is over, and only the first process's memory is kept"
		}
		return 0, fmt.Errorf("%d-byte %s at %#x: process %d has no memory: %s", n, verb, addr, p.ID, why)
	}
	if !p.inMem(addr, uint64(n)) {
		var hint string
		if addr >= isa.TextBase && addr < isa.DataBase && addr-isa.TextBase < isa.InstrSize*uint64(len(p.code)) {
			hint = "; that is a code address, and the text is not in memory"
		}
		return 0, fmt.Errorf("%d-byte %s at %#x: not inside the memory of process %d, which is %#x to %#x%s",
			n, verb, addr, p.ID, p.memBase, p.memBase+uint64(len(p.mem)), hint)
	}
	return addr - p.memBase, nil
}

// Symbol names address addr of process p by the nearest label at or below it: it returns the
// label's name and addr's offset from it. A text address is named by a label of the text, and
// an address of the data or the bss by one of those; where several labels share an address, a
// global one is chosen before a local one, then the first by name. Any other address (the
// stack, the heap, the sentinels after the text) has a name only if a label is at it exactly,
// such as one that marks the end of the text or the data.
func (m *Machine) Symbol(p *Process, addr uint64) (name string, off uint64, ok bool) {
	return p.symbolAt(addr, false)
}

// Image returns the program the process runs: its text, labels and line table.
func (p *Process) Image() *object.Image { return p.image }

// Lookup returns the address of the label of the process's program that has the given name,
// the full name for a local label ("main.loop").
func (p *Process) Lookup(name string) (uint64, bool) {
	for _, s := range p.image.Symbols {
		if s.Name == name {
			return s.Addr, true
		}
	}
	return 0, false
}

// symbolAt is Symbol; with global, only a global label names addr, as a function's name names
// every instruction of its body, its local labels' included.
func (p *Process) symbolAt(addr uint64, global bool) (string, uint64, bool) {
	syms := p.image.Symbols // sorted by address, then name
	textEnd := isa.CodeAddr(len(p.image.Text))
	dataEnd := isa.DataBase + uint64(len(p.image.Data)) + p.image.BSS
	lo := addr // the lowest address of a label that may name addr
	switch {
	case addr >= isa.TextBase && addr < textEnd:
		lo = isa.TextBase
	case addr >= isa.DataBase && addr < dataEnd:
		lo = isa.DataBase
	}
	// The labels at the nearest address at or below addr are syms[first:end].
	end := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr })
	for end > 0 && syms[end-1].Addr >= lo {
		at := syms[end-1].Addr
		first := end - 1
		for first > 0 && syms[first-1].Addr == at {
			first--
		}
		if i := slices.IndexFunc(syms[first:end], isGlobal); i >= 0 {
			return syms[first+i].Name, addr - at, true
		}
		if !global {
			return syms[first].Name, addr - at, true
		}
		end = first
	}
	return "", 0, false
}

func isGlobal(s object.Symbol) bool { return !strings.Contains(s.Name, ".") }

// A Frame is one call on a thread's stack, as Backtrace finds it.
//
// PC, Func+Off and Where are all the instruction the frame is at. For frame 0, that is where
// the thread is (see ThreadInfo); for a caller's frame, it is the call it made, which it goes
// on after, at PC+4, when the frame below returns.
//
// FP and SP are frame 0's registers. A caller's are the values its fp and sp have again when
// the frame below returns: the fp saved at 0(fp), and the sp just above the return address.
type Frame struct {
	PC     uint64 // code address
	Func   string // the function: the nearest global label at or below PC, "" if there is none
	Off    uint64 // PC's offset from Func
	Where  Where  // the instruction, its source line and text
	FP, SP uint64
}

// Backtrace walks the calls on thread t's stack, innermost first, and returns at most max
// frames (none if max <= 0).
//
// It follows the frame pointers of docs/isa.md: a function that has run enter has the
// caller's fp at 0(fp) and its return address at 8(fp). The walk ends at a return into one
// of the loader's stubs, which end the process or the thread, or at fp = 0, which the loader
// starts threads with.
//
// A function that keeps no frame (a leaf), or that has not run its enter yet, or has already
// run its leave, still shows its caller if it has pushed nothing since it was called: when the
// word at sp is a return address, just after a call, that call is frame 1, and the walk goes
// on from fp, which is still the caller's. A leaf that pushes registers without making a frame
// hides its caller.
//
// A damaged stack cannot make it loop or read outside the thread's stack: the walk stops at
// the first fp that is not inside the stack, or not above the frame before it, and at the
// first return address that does not follow a call.
func (m *Machine) Backtrace(t *Thread, max int) []Frame {
	return m.backtrace(t, t.waitPC(), max)
}

// backtrace is Backtrace of thread t at instruction pc, which may not be its saved pc yet: a
// trap's report is made before the pc is stored.
func (k *kernel) backtrace(t *Thread, pc int, max int) []Frame {
	if max <= 0 {
		return nil
	}
	p := t.Proc
	sp, fp := t.R[isa.SP], t.R[isa.FP]
	frames := []Frame{k.frame(t, pc, fp, sp)}
	if p.code == nil || p.mem == nil {
		return frames // its process has ended, or the run has, and its code or memory is gone
	}

	// lo is the lowest address that the next frame's words may lie at: each frame lies above
	// the one it called, which is what ends the walk of a damaged chain.
	lo := sp
	word := func(addr uint64) (uint64, bool) {
		// The stack's bounds are the thread's own: a thread's saved fp cannot point at
		// another thread's stack, nor at the data.
		if addr < lo || addr < t.StackLo || addr > t.StackHi-8 || !p.inMem(addr, 8) {
			return 0, false
		}
		return p.load64(addr), true
	}
	if ra, ok := word(sp); ok {
		if p.isStub(ra) {
			return frames // the entry of the process or of the thread, before it pushed anything
		}
		if call, ok := t.leafCaller(); ok && len(frames) < max {
			frames = append(frames, k.frame(t, call, fp, sp+8))
			lo = sp + 8
		}
	}
	for len(frames) < max && fp != 0 {
		savedFP, ok1 := word(fp)
		ra, ok2 := word(fp + 8)
		if !ok1 || !ok2 || p.isStub(ra) {
			break
		}
		call, ok := p.callBefore(ra)
		if !ok {
			break
		}
		frames = append(frames, k.frame(t, call, savedFP, fp+16))
		lo = fp + 16
		fp = savedFP
	}
	return frames
}

// frame describes instruction pc of t as a frame of its stack.
func (k *kernel) frame(t *Thread, pc int, fp, sp uint64) Frame {
	f := Frame{PC: isa.CodeAddr(pc), Where: k.whereAt(t, pc), FP: fp, SP: sp}
	f.Func, f.Off, _ = t.Proc.symbolAt(f.PC, true)
	return f
}

// isStub reports whether code address a is the return address a thread starts with: one of the
// sentinels after the text that end the process or the thread.
func (p *Process) isStub(a uint64) bool {
	return a == isa.CodeAddr(p.textN+sentinelExit) || a == isa.CodeAddr(p.textN+sentinelThreadExit)
}

// callBefore returns the index of the call that return address a returns from: a must be a
// code address just after a call.
func (p *Process) callBefore(a uint64) (int, bool) {
	i, ok := isa.CodeIndex(a, p.textN)
	if !ok || i == 0 || !p.hasCode(i-1) {
		return 0, false
	}
	switch p.instr(i - 1).Op() {
	case isa.CALL, isa.CALLR:
		return i - 1, true
	}
	return 0, false
}
