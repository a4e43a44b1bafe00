package vm

import (
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spindle-vm/spindle/internal/quote"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// A Where names a place in a running program: the thread, the instruction and its source line.
type Where struct {
	Proc, Thread int
	PC           uint64 // the instruction's code address
	Instr        string // the instruction, disassembled
	File         string // source file, "" if unknown
	Line         int
	Text         string // the source line, "" if unknown
}

func (w Where) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "thread %d of process %d at %#08x", w.Thread, w.Proc, w.PC)
	if w.Instr != "" {
		fmt.Fprintf(&b, ": %s", w.Instr)
	}
	if w.File != "" {
		b.WriteString("\n  " + w.fileLine())
	}
	return b.String()
}

// fileLine is the file, line and text of the source line, "prog.s:3: div a0, a0, t0", made
// safe to print: the text is the user's, and control characters in it, such as a terminal's
// escape sequences, are shown rather than obeyed (quote.Line).
func (w Where) fileLine() string {
	s := fmt.Sprintf("%s:%d", w.File, w.Line)
	if t := strings.TrimSpace(w.Text); t != "" {
		s += ": " + t
	}
	return quote.Line(s)
}

// A TrapError reports the fault that stopped a thread, and so its process.
type TrapError struct {
	Trap   isa.Trap
	Detail string // what exactly went wrong, such as the bad address; may be ""
	Where
	Regs [isa.NumRegs]uint64

	// Callers are where the function that trapped was called from, and so on out, as far as
	// Backtrace can tell, the innermost first; at most maxTrapCallers, and MoreCallers says
	// there were more.
	Callers     []Where
	MoreCallers bool
}

// maxTrapCallers bounds a trap's Callers: a deep recursion's report names its innermost calls.
const maxTrapCallers = 8

func (e *TrapError) Error() string {
	msg := "trap: " + e.Trap.String()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + "\n  in " + e.Where.String()
}

// Report is the full report of the trap: Error's text and the registers.
func (e *TrapError) Report() string {
	var b strings.Builder
	b.WriteString(e.Error())
	for i := 0; i < len(e.Callers); {
		// A recursion's calls come from one place: they are said once, with their count.
		c, n := e.Callers[i], 1
		for i+n < len(e.Callers) && e.Callers[i+n].PC == c.PC {
			n++
		}
		i += n
		b.WriteString("\n  called ")
		if n > 1 {
			fmt.Fprintf(&b, "%d times ", n)
		}
		if c.File != "" {
			b.WriteString("from " + c.fileLine())
		} else {
			fmt.Fprintf(&b, "from %#08x", c.PC)
		}
	}
	if e.MoreCallers {
		b.WriteString("\n  ... and from further out")
	}
	b.WriteString("\nregisters:")
	for i, v := range e.Regs {
		if i%4 == 0 {
			b.WriteString("\n ")
		}
		fmt.Fprintf(&b, " %-2s %#016x", isa.RegName(i), v)
	}
	fmt.Fprintf(&b, "\n  pc %#016x\n", e.PC)
	return b.String()
}

// Limit names one of the limits of a run.
type Limit uint8

// The limits, each set by a field of Options.
const (
	LimitSteps     Limit = iota + 1 // MaxSteps: instructions of the whole run
	LimitMemory                     // MaxMem: bytes of one process
	LimitTime                       // Timeout: wall time of the run
	LimitThreads                    // MaxThreads: threads alive at once
	LimitProcesses                  // MaxProcs: processes in the table at once
)

func (l Limit) String() string {
	if l < LimitSteps || l > LimitProcesses {
		return fmt.Sprintf("limit %d", l)
	}
	return [...]string{"steps", "memory", "time", "threads", "processes"}[l-1]
}

// A LimitError reports that a run reached one of its limits. Its message says which, in the
// VM's terms; a program that sets the limits, such as the spindle command with its flags, names
// them in its own.
type LimitError struct {
	Limit  Limit
	Value  uint64 // the limit: steps, bytes, or nanoseconds for time
	Steps  uint64 // instructions executed
	Detail string
	Where
	// Threads are the other threads alive when the run stopped, the first MaxDeadlockReport of
	// them, and MoreThreads how many more there were.
	Threads     []BlockedThread
	MoreThreads int
}

func (e *LimitError) Error() string {
	var msg string
	switch e.Limit {
	case LimitSteps:
		msg = fmt.Sprintf("step limit exceeded: %d instructions executed; the limit is %d", e.Steps, e.Value)
	case LimitMemory:
		msg = fmt.Sprintf("memory limit exceeded: %s; the limit is %d bytes", e.Detail, e.Value)
	case LimitTime:
		msg = fmt.Sprintf("time limit exceeded: the run took longer than %v", durationString(e.Value))
	case LimitThreads, LimitProcesses:
		msg = fmt.Sprintf("%v limit exceeded: %s; the limit is %d", e.Limit, e.Detail, e.Value)
	default:
		msg = e.Limit.String() + " exceeded"
	}
	return stopReport(msg, e.Where, e.Threads, e.MoreThreads)
}

// stopReport is the report of a run that stopped: msg, where the thread that noticed was, and
// where the others were.
func stopReport(msg string, w Where, threads []BlockedThread, more int) string {
	var b strings.Builder
	b.WriteString(msg)
	if w.PC != 0 {
		b.WriteString("\n  in " + w.String())
	}
	writeThreads(&b, threads, more)
	return b.String()
}

// An InterruptError reports a run stopped by Machine.Interrupt, as by Ctrl-C.
type InterruptError struct {
	Steps uint64
	Where
	Threads     []BlockedThread // as in LimitError
	MoreThreads int
}

func (e *InterruptError) Error() string {
	return stopReport(fmt.Sprintf("interrupted after %d instructions", e.Steps), e.Where, e.Threads, e.MoreThreads)
}

// A LoadError reports an image that cannot be loaded.
type LoadError struct {
	Msg string
}

func (e *LoadError) Error() string { return "load: " + e.Msg }

// An InternalError reports a bug in Spindle itself: a Go panic caught at the VM's boundary.
type InternalError struct {
	Value any
	Stack string
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("internal error: %v\nThis is a bug in Spindle; please report it with the program that caused it.\n%s", e.Value, e.Stack)
}

func stack() string { return string(debug.Stack()) }

func durationString(ns uint64) string { return time.Duration(ns).String() }

// where describes instruction pc of thread t.
func (k *kernel) where(t *Thread, pc int) Where {
	p := t.Proc
	w := Where{Proc: p.ID, Thread: t.ID, PC: isa.CodeAddr(pc)}
	img := p.image
	switch {
	case pc < p.textN:
		w.Instr = object.DisassembleInstr(p.instr(pc), w.PC, img)
		if pc < len(img.Lines) {
			l := img.Lines[pc]
			if int(l.File) < len(img.Files) {
				w.File, w.Line = img.Files[l.File], int(l.Line)
				if src, ok := img.Sources[w.File]; ok {
					w.Text = sourceLine(src, w.Line)
				} else if k.opts.SourceLine != nil {
					w.Text = k.opts.SourceLine(w.File, w.Line)
				}
			}
		}
	case pc == p.textN+sentinelEnd:
		w.Instr = "(past the end of the text)"
	case pc == p.textN+sentinelExit:
		w.Instr = "(return from the entry point: exit)"
	case pc == p.textN+sentinelThreadExit:
		w.Instr = "(return from the thread's entry: thread_exit)"
	}
	return w
}

// sourceLine returns line n (1-based) of src, or "" if there is none.
func sourceLine(src []byte, n int) string {
	for i := 1; len(src) > 0; i++ {
		line, rest, _ := bytes.Cut(src, []byte("\n"))
		if i == n {
			return strings.TrimRight(string(line), "\r")
		}
		src = rest
	}
	return ""
}

// fault, memFault, stackFault and jumpFault are how the loop stops at a trap: they retire the
// slice's steps, store pc, and build the report.
func (c *cpu) fault(t *Thread, pc int, budget int64, kind isa.Trap, detail string) error {
	if kind == isa.TrapBreakpoint && c.opts.EbreakGoesOn {
		// Under a debugger, an ebreak is no trap: decided here, out of the loop, whose
		// lines the profile that builds it is keyed by.
		return c.ebreak(t, pc, budget)
	}
	return c.leave(t, pc, budget, c.trap(t, pc, kind, detail))
}

func (c *cpu) memFault(t *Thread, pc int, budget int64, addr, size uint64) error {
	return c.leave(t, pc, budget, c.memTrap(t, pc, addr, size))
}

func (c *cpu) stackFault(t *Thread, pc int, budget int64, sp uint64) error {
	return c.leave(t, pc, budget, c.stackTrap(t, pc, sp))
}

func (c *cpu) jumpFault(t *Thread, pc int, budget int64, target uint64) error {
	return c.leave(t, pc, budget, c.jumpTrap(t, pc, target))
}

// badPC is the trap of a thread whose saved pc is not an index into its process's code. The
// loop keeps pc inside the code by itself, so only a write to Thread.PC from outside, between
// two runs, makes one; the loop checks each pc it takes from a Thread (see fetch).
func (c *cpu) badPC(t *Thread) error {
	detail := fmt.Sprintf("the thread's pc %#08x is not the address of an instruction (%s)", isa.CodeAddr(t.PC), isa.TextSpan(t.Proc.textN))
	return c.trap(t, t.PC, isa.TrapBadJump, detail)
}

func (k *kernel) trap(t *Thread, pc int, kind isa.Trap, detail string) error {
	if kind == isa.TrapIllegal && detail == "" {
		if pc == t.Proc.textN+sentinelEnd {
			detail = "the program ran past the end of its text; end it with exit, halt or ret"
			if last := k.where(t, pc-1); pc > 0 && last.File != "" {
				detail = fmt.Sprintf("the program ran past the end of its text, after its last instruction at %s:%d; end it with exit, halt or ret", last.File, last.Line)
			}
		} else {
			detail = fmt.Sprintf("word %#08x", uint32(t.Proc.instr(pc)))
		}
	}
	e := &TrapError{Trap: kind, Detail: detail, Where: k.whereAt(t, pc), Regs: t.R}
	for i, f := range k.backtrace(t, pc, maxTrapCallers+2)[1:] {
		if i == maxTrapCallers {
			e.MoreCallers = true
			break
		}
		e.Callers = append(e.Callers, f.Where)
	}
	return e
}

// badArg is the trap of a syscall whose arguments are wrong, such as a join of the caller
// itself: it stops t at its syscall, with the detail that format and args make.
func (k *kernel) badArg(t *Thread, format string, args ...any) error {
	return k.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf(format, args...))
}

func (k *kernel) memTrap(t *Thread, pc int, addr, size uint64) error {
	p := t.Proc
	detail := fmt.Sprintf("%d-byte access at %#x; memory is %#x to %#x", size, addr, p.memBase, p.memBase+uint64(len(p.mem)))
	if addr < nullPage {
		// The commonest mistake of all deserves its name: a pointer that was never set, or a
		// field read through one.
		detail = "null pointer: " + detail
	}
	return k.trap(t, pc, isa.TrapMemory, detail)
}

// nullPage is the span of addresses whose access is reported as through a null pointer: below
// it, an address is a small offset from 0. No process's memory reaches down to it (see
// MaxStackSize).
const nullPage = 4096

func (k *kernel) stackTrap(t *Thread, pc int, sp uint64) error {
	if sp < t.StackLo {
		return k.trap(t, pc, isa.TrapStackOverflow, fmt.Sprintf("sp would be %#x, below the bottom of the stack at %#x (the stack is %d bytes)",
			sp, t.StackLo, t.StackHi-t.StackLo))
	}
	return k.memTrap(t, pc, sp, 8)
}

func (k *kernel) jumpTrap(t *Thread, pc int, target uint64) error {
	return k.trap(t, pc, isa.TrapBadJump, fmt.Sprintf("%#08x is not the address of an instruction (%s)", target, isa.TextSpan(t.Proc.textN)))
}

func (k *kernel) traceInstr(t *Thread, pc int, ins isa.Instr) {
	fmt.Fprintf(os.Stderr, "t%d %#08x %s\n", t.ID, isa.CodeAddr(pc), object.DisassembleInstr(ins, isa.CodeAddr(pc), t.Proc.image))
}
