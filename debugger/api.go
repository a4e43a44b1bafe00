package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// The session as a program drives it. The REPL reads what the session says; an editor's debug
// adapter (package dap) needs the same things as values: the threads, a thread's frames,
// registers and locals, the breakpoints it made, and why the program stopped. The methods here
// read them with the internals the commands use. What changes the session (a breakpoint, a
// run, a register set) goes through the commands themselves, by Exec, so that a record of the
// session (record save) holds it and a replay in the REPL comes to the same state.

// programOutput is where the program's output i (0 for stdout, 1 for stderr) goes: to w, the
// transcript or nowhere while the session is quiet, unless the Config gives a writer for it.
func (c *Config) programOutput(i int, w io.Writer) io.Writer {
	if o := [2]io.Writer{c.Stdout, c.Stderr}[i]; o != nil && w != io.Discard {
		return o
	}
	return w
}

// Threads returns the threads that have not exited, of every process, by process and thread.
func (s *Session) Threads() []*vm.Thread {
	var ts []*vm.Thread
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			if t.State != vm.Exited {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// Thread returns thread pid.tid, or nil if there is none or it has exited.
func (s *Session) Thread(pid, tid int) *vm.Thread {
	if t := s.find(threadID{pid, tid}); t != nil && t.State != vm.Exited {
		return t
	}
	return nil
}

// ThreadName names a thread as the session does: process.thread, such as 1.2.
func ThreadName(t *vm.Thread) string { return threadName(t) }

// Current returns the thread the session shows, which step commands run: the one that stopped
// last, or the one focused or selected since. It may be nil, or have exited (at the end).
func (s *Session) Current() *vm.Thread { return s.cur }

// Steps returns the step of the run the machine is at: how many instructions it has executed.
func (s *Session) Steps() uint64 { return s.m.Steps() }

// Moves counts the runs of the machine, forward or to a step of the past: a command that
// changed it moved the program.
func (s *Session) Moves() int { return s.moves }

// AtEnd reports whether the machine is at the end of the run, and how the run ended. Unlike
// Ended, it is false once a reverse command has gone back from the end.
func (s *Session) AtEnd() (vm.Stop, bool) {
	if s.ended == nil {
		return vm.Stop{}, false
	}
	return *s.ended, true
}

// Stopped returns the last stop, and the ids of the breakpoints, watchpoints and catchpoints
// of the user that it is one of, whose conditions and hit conditions hold (not the log points,
// which do not stop). After a reverse command that came back
// to a breakpoint, it is that breakpoint's stop; after a step, forward or back, a stop of kind
// vm.StopSteps (or vm.StopReturn after finish).
func (s *Session) Stopped() (vm.Stop, []int) {
	st := s.stop
	var ids []int
	if !stoppedBy(st) || st.Thread == nil {
		return st, nil
	}
	for _, b := range s.bps {
		if b.id > 0 && s.stopsAt(b, st) {
			ids = append(ids, b.id)
		}
	}
	return st, ids
}

// Backtrace returns thread t's frames, innermost first, at most max of them.
func (s *Session) Backtrace(t *vm.Thread, max int) []vm.Frame { return s.m.Backtrace(t, max) }

// Select makes t the current thread, with frame n of its backtrace selected, as thread and
// frame select them for what reads the selected frame (Eval, Registers, Locals, and the
// commands): an editor selects the frame its user looks at. It focuses nothing (see the
// thread command): a session that is focused stays so, on t.
func (s *Session) Select(t *vm.Thread, n int) error {
	if t == nil || t.State == vm.Exited {
		return errors.New("no such thread: it has exited")
	}
	if fr := s.m.Backtrace(t, n+1); n < 0 || n >= len(fr) {
		return fmt.Errorf("no frame %d in thread %s, which has %d", n, threadName(t), len(fr))
	}
	s.cur = t
	s.selectFrame(n)
	return nil
}

// Focused reports whether t is the focused thread (thread N), which step commands run and
// reverse commands go back in.
func (s *Session) Focused(t *vm.Thread) bool { return s.focused && s.cur == t }

// A Register is a register's name (its alias, or pc) and its value.
type Register struct {
	Name  string
	Value uint64
}

// Registers returns the registers of the current thread, then pc, in its selected frame: pc,
// sp and fp are the frame's, the others the thread's, as expressions read them.
func (s *Session) Registers() ([]Register, error) {
	t, err := s.stack()
	if err != nil {
		return nil, err
	}
	regs := make([]Register, 0, isa.NumRegs+1)
	for r := range isa.NumRegs {
		name := isa.RegName(r)
		v, _ := s.register(t, name)
		regs = append(regs, Register{name, v})
	}
	pc, _ := s.register(t, "pc")
	return append(regs, Register{"pc", pc}), nil
}

// Eval evaluates an expression in the selected frame of the current thread, as print does.
func (s *Session) Eval(expr string) (uint64, error) {
	if s.cur == nil {
		return 0, errors.New("no current thread")
	}
	return s.eval(expr, s.cur)
}

// FormatValue writes a value as print does: in decimal, with hex beside it from 10 on.
func FormatValue(v uint64) string { return formatValue(v, 0) }

// Describe names a code address as a stop does: 0x400010 <worker.loop+8> at race.s:44.
func (s *Session) Describe(addr uint64) string { return s.symbolize(s.cur, addr) }

// Source returns the source text of one of the program's files, if the image holds it.
func (s *Session) Source(file string) ([]byte, bool) {
	src, ok := s.img.Sources[file]
	return src, ok
}

// A ThreadContext is a thread's context, as ctx shows it: what it is doing, where its stack
// is, and which thread the processor runs.
type ThreadContext struct {
	vm.ThreadInfo
	StackLo, StackHi uint64
	// Processor is the thread on the processor: the thread itself, another (whose registers
	// the processor holds while this one's are saved in it), or nil when none runs.
	Processor *vm.Thread
}

// Context returns thread t's context.
func (s *Session) Context(t *vm.Thread) ThreadContext {
	return ThreadContext{ThreadInfo: s.m.ThreadInfo(t), StackLo: t.StackLo, StackHi: t.StackHi, Processor: s.running()}
}

// running returns the thread on the processor, or nil.
func (s *Session) running() *vm.Thread {
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			if t.State == vm.Running {
				return t
			}
		}
	}
	return nil
}

// A Breakpoint is one of the user's breakpoints or watchpoints, as info breakpoints lists it.
type Breakpoint struct {
	ID   int
	Addr uint64 // the instruction of a breakpoint; the memory of a watchpoint
	// File and Line are the source line of a breakpoint's instruction: where a breakpoint
	// asked for at a line without code, or a label, really is.
	File string
	Line int
	// Enabled is false for a breakpoint disabled, by disable or by a restart that did not find
	// its place in the program (Lost): a restart whose program has it enables it again.
	Enabled, Lost bool
}

// Command runs a command line as Exec does, for a program that drives the session: it
// refuses while the lines of a commands list are being typed, which would take it as one of
// them.
func (s *Session) Command(line string) error {
	if s.defining != nil {
		return errors.New("a commands list is being typed: end it with end first")
	}
	return s.Exec(line)
}

// command runs the command line that format and a make.
func (s *Session) command(format string, a ...any) error { return s.Command(fmt.Sprintf(format, a...)) }

// Break makes a breakpoint at location, as break does: a label, label+N, FILE:LINE, LINE or
// *ADDR. It is the first instruction of the line, or of the next line with code.
func (s *Session) Break(location string) (Breakpoint, error) {
	if strings.Contains(" "+location+" ", " if ") || strings.Contains(" "+location+" ", " thread ") {
		return Breakpoint{}, fmt.Errorf("%q is not a location", location)
	}
	return s.made(func() error { return s.command("break %s", location) })
}

// Watch makes a watchpoint on the n bytes at the address expr gives, as watch does.
func (s *Session) Watch(expr string, n int) (Breakpoint, error) {
	return s.made(func() error { return s.command("watch %s %d", expr, n) })
}

// made runs make, which makes one breakpoint, and returns the breakpoint made.
func (s *Session) made(make func() error) (Breakpoint, error) {
	before := s.nextBP
	if err := make(); err != nil {
		return Breakpoint{}, err
	}
	b := s.breakpoint(s.nextBP)
	if s.nextBP == before || b == nil {
		return Breakpoint{}, errors.New("no breakpoint was made")
	}
	return s.breakpointOf(b), nil
}

// Breakpoint returns breakpoint id, as it is now.
func (s *Session) Breakpoint(id int) (Breakpoint, bool) {
	b := s.breakpoint(id)
	if b == nil || id <= 0 {
		return Breakpoint{}, false
	}
	return s.breakpointOf(b), true
}

func (s *Session) breakpointOf(b *breakpoint) Breakpoint {
	bp := Breakpoint{ID: b.id, Enabled: b.enabled, Lost: b.lost}
	switch b.kind {
	case bpCode:
		bp.Addr = b.addr
		bp.File, bp.Line, _ = sourceOf(s.img, b.addr)
	case bpWatch:
		bp.Addr = b.watch.Addr
	}
	return bp
}

// Condition makes breakpoint id stop only when cond is not 0, as condition does; "" removes
// the condition.
func (s *Session) Condition(id int, cond string) error {
	return s.command("condition %d %s", id, cond)
}

// HitCondition makes breakpoint id stop only at the hits whose number in the run the hit
// condition accepts (N, >= N, > N, == N, != N, < N, <= N or % N), as condition -hitcount does;
// "" removes it.
func (s *Session) HitCondition(id int, hit string) error {
	if err := CheckHitCondition(hit); err != nil {
		return err // before a # in it is taken for a comment
	}
	return s.command("condition -hitcount %d %s", id, strings.TrimSpace(hit))
}

// Log makes breakpoint id a log point that prints message, as condition -log does; "" makes it
// stop again.
func (s *Session) Log(id int, message string) error {
	if message == "" {
		return s.command("condition -log %d", id)
	}
	return s.command("condition -log %d %s", id, quote(message))
}

// Relaunch starts the program again as cfg has it: cfg may name another program, or give it
// other arguments, other input or other options. The breakpoints are kept, as reload keeps
// them (see restart), and so are the displays and the settings; a cfg whose program does not
// load leaves the session as it was. As after reload, the session cannot be recorded any more.
// It calls the Close of the configuration it leaves, or of cfg if cfg does not load.
func (s *Session) Relaunch(cfg Config) error {
	left := s.cfg
	if err := s.restart(cfg, cfg.Image); err != nil {
		if cfg.Close != nil {
			cfg.Close()
		}
		return err
	}
	if left.Close != nil {
		left.Close() // its machine, which used its grants, is closed
	}
	fmt.Fprintln(s.out, "Restarted, as the launch configuration has it now.")
	s.showWhere(s.cur)
	return nil
}

// Delete deletes breakpoint id, as delete does.
func (s *Session) Delete(id int) error { return s.command("delete %d", id) }

// ReadMemory reads up to n bytes of the current thread's process at addr: those from addr to
// the end of its memory, or none if addr is not in it.
func (s *Session) ReadMemory(addr uint64, n int) ([]byte, error) {
	p := s.procOf(s.cur)
	base, mem := p.Memory()
	if addr < base || addr-base >= uint64(len(mem)) || n <= 0 {
		return nil, nil
	}
	b := make([]byte, min(uint64(n), uint64(len(mem))-(addr-base)))
	if err := p.ReadMemory(addr, b); err != nil {
		return nil, err
	}
	return b, nil
}

// WriteMemory writes b into the current thread's process at addr, as set *ADDR = EXPR does, a
// word of 8 bytes at a time, each with the bytes around it as they are where b does not cover
// it: in the past, the run after it is dropped.
func (s *Session) WriteMemory(addr uint64, b []byte) error {
	p := s.procOf(s.cur)
	if err := p.ReadMemory(addr, make([]byte, len(b))); err != nil {
		return err
	}
	base, _ := p.Memory()
	end := addr + uint64(len(b))
	for at := addr; at < end; at += 8 {
		w := at
		if end-w < 8 {
			w = max(base, end-min(end, 8)) // the last word ends with b, unless memory starts after
		}
		var word [8]byte
		if err := p.ReadMemory(w, word[:]); err != nil {
			return err
		}
		for i := range word {
			if a := w + uint64(i); a >= addr && a < end {
				word[i] = b[a-addr]
			}
		}
		if err := s.command("set *%#x = %#x", w, binary.LittleEndian.Uint64(word[:])); err != nil {
			return err
		}
	}
	return nil
}

// An Instruction is one instruction of the program's text, as disassemble shows it.
type Instruction struct {
	Addr  uint64
	Word  isa.Instr
	Text  string // in the assembly syntax; "" for an address outside the text
	Label string // label+offset, or "" where no label names it
	File  string
	Line  int
}

// Disassemble returns n instructions of the current thread's program, from the one at addr
// moved by from instructions (back if negative): an address outside the text gives an
// Instruction with no Text, so that there are always n.
func (s *Session) Disassemble(addr uint64, from, n int) []Instruction {
	p := s.procOf(s.cur)
	img := p.Image()
	d := int64(addr - isa.TextBase)
	first := d / isa.InstrSize
	if d < 0 && d%isa.InstrSize != 0 {
		first-- // the instruction that addr is in, below the text too
	}
	first += int64(from)
	out := make([]Instruction, 0, n)
	for i := first; i < first+int64(n); i++ {
		a := uint64(int64(isa.TextBase) + i*isa.InstrSize)
		in := Instruction{Addr: a}
		if i >= 0 && i < int64(len(img.Text)) {
			in.Word = img.Text[i]
			in.Text = object.DisassembleInstr(img.Text[i], a, img)
			in.Label = strings.TrimSuffix(strings.TrimPrefix(s.symbolName(s.cur, a), " <"), ">")
			in.File, in.Line, _ = sourceOf(img, a)
		}
		out = append(out, in)
	}
	return out
}
