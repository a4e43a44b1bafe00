package debugger

import (
	"fmt"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// What a session shows: where a thread is, the registers, memory, code and source.

func threadName(t *vm.Thread) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%d.%d", t.Proc.ID, t.ID)
}

func sysName(n isa.Syscall) string {
	if info, ok := n.Info(); ok {
		return info.Name
	}
	return fmt.Sprintf("%d", n)
}

// where returns where thread t is: the instruction it runs next, or the syscall it waits in.
func (s *Session) where(t *vm.Thread) vm.Where {
	if t == nil {
		return vm.Where{}
	}
	return s.m.ThreadInfo(t).Where
}

// symbolize names a code address: label+offset, with its source position.
func (s *Session) symbolize(t *vm.Thread, addr uint64) string {
	return fmt.Sprintf("%#x", addr) + s.symbolName(t, addr) + s.sourcePos(t, addr)
}

// symbolName is the " <label+offset>" of symbolize, or "" where no label names addr.
func (s *Session) symbolName(t *vm.Thread, addr uint64) string {
	name, off, ok := s.m.Symbol(s.procOf(t), addr)
	switch {
	case !ok:
		return ""
	case off == 0:
		return fmt.Sprintf(" <%s>", name)
	}
	return fmt.Sprintf(" <%s+%d>", name, off)
}

// sourcePos is the " at FILE:LINE" of symbolize, or "" where addr has no source line.
func (s *Session) sourcePos(t *vm.Thread, addr uint64) string {
	if file, line, ok := sourceOf(s.procOf(t).Image(), addr); ok {
		return fmt.Sprintf(" at %s:%d", file, line)
	}
	return ""
}

// sourceOf returns the source file and line of the instruction at code address addr of img;
// ok is false where there is none (not an instruction, or one without a line).
func sourceOf(img *object.Image, addr uint64) (file string, line int, ok bool) {
	if i, ok := isa.CodeIndex(addr, len(img.Text)); ok && i < len(img.Lines) && img.Lines[i].Line > 0 {
		l := img.Lines[i]
		return img.Files[l.File], int(l.Line), true
	}
	return "", 0, false
}

// procOf returns thread t's process, or the first process for no thread.
func (s *Session) procOf(t *vm.Thread) *vm.Process {
	if t == nil {
		return s.m.Process()
	}
	return t.Proc
}

// Colours, on a terminal only (Config.Color): where a thread is, in bold; why the run
// stopped, in yellow; a trap, in red. Each wraps a whole line, so that the text stays
// contiguous for whoever reads it.
const (
	whereColor = "\x1b[1m"
	stopColor  = "\x1b[33m"
	trapColor  = "\x1b[1;31m"
)

// paint wraps text in a colour when the session uses colour.
func (s *Session) paint(color, text string) string {
	if !s.cfg.Color {
		return text
	}
	return color + text + "\x1b[0m"
}

// showStop says why the run stopped, and where, then evaluates the displays.
func (s *Session) showStop(st vm.Stop) {
	if st.Ended {
		s.showEnd(st)
		return
	}
	t := st.Thread
	switch st.Kind {
	case vm.StopTrapped:
		report, _ := strings.CutSuffix(st.Trap.Report(), "\n")
		first, rest, _ := strings.Cut(report, "\n")
		fmt.Fprintln(s.out, s.paint(trapColor, fmt.Sprintf("Thread %s trapped: %s", threadName(t), first)))
		if rest != "" {
			fmt.Fprintln(s.out, rest)
		}
	case vm.StopBreakpoint:
		if st.Trap != nil {
			s.showEbreak(st)
		}
	case vm.StopInterrupted:
		fmt.Fprintln(s.out, s.paint(stopColor, s.pausedLine()))
	case vm.StopInput:
		fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("Paused while thread %s waits for input, with none read: the next command that runs the program asks again.", threadName(t))))
	}
	if t == nil {
		fmt.Fprintln(s.out, "No thread is running: every thread waits.")
		return
	}
	s.showWhere(t)
	s.showDisplays()
}

// showEbreak says that an ebreak of the program stopped it: the thread has executed it, and
// goes on from the next instruction.
func (s *Session) showEbreak(st vm.Stop) {
	fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("Thread %s stopped after the ebreak at %s", threadName(st.Thread), s.symbolize(st.Thread, st.Trap.PC))))
}

// showEnd says how the run ended.
func (s *Session) showEnd(st vm.Stop) {
	switch {
	case st.Err == nil:
		fmt.Fprintf(s.out, "[the program exited with status %d after %d steps]\n", st.ExitCode, st.Steps)
	case st.Kind == vm.StopTrapped:
		fmt.Fprintf(s.out, "[the program ended with the trap, after %d steps]\n", st.Steps)
	default:
		fmt.Fprintf(s.out, "[the program ended after %d steps: %v]\n", st.Steps, st.Err)
	}
}

// showWhere prints the thread's next instruction and its source line.
func (s *Session) showWhere(t *vm.Thread) {
	w := s.where(t)
	fmt.Fprintln(s.out, s.paint(whereColor, fmt.Sprintf("thread %s  %s", threadName(t), s.symbolize(t, w.PC))))
	s.showLine(w)
}

// showLine prints the source line of w, or its instruction where it has none.
func (s *Session) showLine(w vm.Where) {
	if w.Text != "" {
		fmt.Fprintf(s.out, "%6d\t%s\n", w.Line, strings.TrimRight(w.Text, " \t"))
	} else {
		fmt.Fprintf(s.out, "\t%s\n", w.Instr)
	}
}

func (s *Session) showDisplays() {
	for i, d := range s.displays {
		if d == "" {
			continue
		}
		s.showDisplay(i+1, d)
	}
}

// showDisplay shows display n, "[/F ]EXPR".
func (s *Session) showDisplay(n int, d string) {
	f, expr := format(d)
	var fc byte
	if f != "" {
		fc = f[0]
	}
	if s.cur == nil {
		fmt.Fprintf(s.out, "%d: %s = <no current thread>\n", n, expr)
		return
	}
	v, err := s.eval(expr, s.cur)
	if err != nil {
		fmt.Fprintf(s.out, "%d: %s = <%v>\n", n, expr, err)
		return
	}
	switch fc {
	case 'i': // display/i pc: the instruction at the address, as x/i shows it
		fmt.Fprintf(s.out, "%d: x/i %s\n", n, expr)
		if err := s.disasm(v, 1, false); err != nil {
			fmt.Fprintf(s.out, "   <%v>\n", err)
		}
	case 's':
		str, err := s.cString(v)
		if err != nil {
			fmt.Fprintf(s.out, "%d: %s = <%v>\n", n, expr, err)
			return
		}
		fmt.Fprintf(s.out, "%d: %s = %q\n", n, expr, str)
	default:
		fmt.Fprintf(s.out, "%d: %s = %s\n", n, expr, formatValue(v, fc))
	}
}

// formatValue writes v in format f: x hex, d signed, u unsigned, t binary, c char, or by
// default signed decimal with hex beside it.
func formatValue(v uint64, f byte) string {
	switch f {
	case 'x':
		return fmt.Sprintf("%#x", v)
	case 'd':
		return fmt.Sprintf("%d", int64(v))
	case 'u':
		return fmt.Sprintf("%d", v)
	case 't':
		return fmt.Sprintf("%b", v)
	case 'c':
		return fmt.Sprintf("%d %q", int64(v), rune(v))
	}
	if v < 10 {
		return fmt.Sprintf("%d", v)
	}
	return fmt.Sprintf("%d (%#x)", int64(v), v)
}

// showRegisters prints thread t's registers, four to a line, and its pc.
func (s *Session) showRegisters(t *vm.Thread) {
	for r := range isa.NumRegs {
		fmt.Fprint(s.out, regLine(t, r))
		if r%2 == 1 {
			fmt.Fprintln(s.out)
		} else {
			fmt.Fprint(s.out, "    ")
		}
	}
	fmt.Fprintln(s.out, s.pcLine(t))
}

// regLine shows register r of thread t, in hex and in signed decimal.
func regLine(t *vm.Thread, r int) string {
	return fmt.Sprintf("%-4s %#18x %20d", isa.RegName(r), t.R[r], int64(t.R[r]))
}

// pcLine shows thread t's pc, with its label and source position. The pc of a thread blocked in
// a syscall is saved past it, where the thread resumes, while bt, info threads, frame and sched
// show the syscall it waits in: the line says so.
func (s *Session) pcLine(t *vm.Thread) string {
	line := fmt.Sprintf("%-4s %s", "pc", s.symbolize(t, t.PCAddr()))
	if info := s.m.ThreadInfo(t); info.State == vm.Blocked && info.Where.PC != t.PCAddr() {
		line += fmt.Sprintf("  (saved: the thread resumes there; it waits in the syscall at %#x)", info.Where.PC)
	}
	return line
}

// showBacktrace prints thread t's frames, innermost first.
func (s *Session) showBacktrace(t *vm.Thread, max int) {
	for i, f := range s.m.Backtrace(t, max) {
		fmt.Fprintln(s.out, s.frameLine(t, i, f))
	}
}

// showThreads lists every thread of every process, marking the current one.
func (s *Session) showThreads() {
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			mark := " "
			if t == s.cur {
				mark = "*"
			}
			info := s.m.ThreadInfo(t)
			state := strings.ToLower(info.State.String())
			if info.Waits != "" {
				state += " (" + info.Waits + ")"
			}
			fmt.Fprintf(s.out, "%s %-6s %-40s %s\n", mark, threadName(t), state, s.symbolize(t, info.PC))
		}
	}
}

// showSource lists lines lo to hi of file, marking line mark.
func (s *Session) showSource(file string, lo, hi, mark int) {
	lines := s.sourceLines(file)
	for n := max(lo, 1); n <= min(hi, len(lines)); n++ {
		m := " "
		if n == mark {
			m = ">"
		}
		fmt.Fprintf(s.out, "%s%5d\t%s\n", m, n, lines[n-1])
	}
}

// sourceLines returns the lines of one of the program's source files, if the image has it.
func (s *Session) sourceLines(file string) []string {
	src, ok := s.img.Sources[file]
	if !ok {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
}
