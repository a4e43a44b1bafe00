package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// A command is one of the session's commands.
type command struct {
	name    string
	aliases []string
	args    string // the synopsis of its arguments
	help    string
	more    string // what help COMMAND says besides help
	step    bool   // an empty line repeats it
	repeat  string // what an empty line after it runs, if not the same line
	run     func(s *Session, arg string) error
}

var commands []*command

func init() {
	commands = []*command{
		{name: "run", aliases: []string{"r"}, help: "run the program from the beginning to a breakpoint or the end", run: (*Session).cmdRun},
		{name: "continue", aliases: []string{"c"}, args: "[N]", help: "go on to the next breakpoint, watchpoint, catchpoint or trap; with N, go past the current breakpoint N-1 more times", step: true, run: (*Session).cmdContinue},
		{name: "stepi", aliases: []string{"si"}, args: "[N]", help: "execute one instruction, or N", step: true, run: (*Session).cmdStepi},
		{name: "step", aliases: []string{"s"}, args: "[N]", help: "go to the next source line, into calls", step: true, run: (*Session).cmdStep},
		{name: "next", aliases: []string{"n"}, args: "[N]", help: "go to the next source line, over calls", step: true, run: (*Session).cmdNext},
		{name: "finish", args: "", help: "run until the selected frame's function returns (the current one, unless up chose another), and show what it returned in a0", step: true, run: (*Session).cmdFinish},
		{name: "until", aliases: []string{"u"}, args: "[LOCATION]", help: "next, but not back around a loop: go on to a line past this one, or until the function returns; with LOCATION, run until the current frame reaches it (not a deeper call of it) or returns", step: true, run: (*Session).cmdUntil},
		{name: "advance", args: "LOCATION", help: "run until the thread reaches LOCATION, or its current function returns (or another stop comes first)", run: (*Session).cmdAdvance},
		{name: "reverse-stepi", aliases: []string{"rsi", "back"}, args: "[N]", help: "go back one instruction, or N: of the focused thread (thread N), else of the machine, whichever thread executed it", step: true, run: (*Session).cmdReverseStepi},
		{name: "reverse-step", aliases: []string{"rs"}, args: "[N]", help: "go back to the start of the previous source line, into calls", step: true, run: (*Session).cmdReverseStep},
		{name: "reverse-next", aliases: []string{"rn"}, args: "[N]", help: "go back to the start of the previous source line, over calls", step: true, run: (*Session).cmdReverseNext},
		{name: "reverse-finish", args: "", help: "go back to the call of the current function", step: true, run: (*Session).cmdReverseFinish},
		{name: "reverse-continue", aliases: []string{"rc"}, args: "", help: "go back to the previous breakpoint, watchpoint, catchpoint or trap, or to the start", step: true, run: (*Session).cmdReverseContinue},
		{name: "break", aliases: []string{"b"}, args: "[LOCATION] [thread THREAD] [if EXPR] | switch [to THREAD]", help: "stop before the instruction at LOCATION (a label, label+N, an address, FILE:LINE or LINE), in THREAD only if given, when EXPR is not 0; break switch stops at a context switch (to THREAD only, if given). THREAD is TID, a thread of the current process, or PID.TID", run: (*Session).cmdBreak},
		{name: "tbreak", args: "LOCATION [thread THREAD] [if EXPR]", help: "a temporary breakpoint: break, deleted when it first stops the program", run: (*Session).cmdTbreak},
		{name: "watch", args: "EXPR [LEN]", help: "stop when the LEN bytes (default 8) at the address EXPR change, showing the old and the new value", run: (*Session).cmdWatch},
		{name: "catch", args: "syscall [NAME] | trap", help: "stop before a syscall (any, or NAME), or say that traps stop (they always do)", run: (*Session).cmdCatch},
		{name: "delete", aliases: []string{"d"}, args: "[N...]", help: "delete breakpoints N..., or all of them", run: (*Session).cmdDelete},
		{name: "clear", args: "[LOCATION]", help: "delete the breakpoints at LOCATION (a FILE:LINE or LINE: those on that line), or at the current line", run: (*Session).cmdClear},
		{name: "disable", args: "[N...]", help: "disable breakpoints N..., or all of them", run: (*Session).cmdDisable},
		{name: "enable", args: "[N...]", help: "enable breakpoints N..., or all of them", run: (*Session).cmdEnable},
		{name: "ignore", args: "N COUNT", help: "go past breakpoint N its next COUNT hits", run: (*Session).cmdIgnore},
		{name: "condition", args: "N [EXPR] | -hitcount N [HITCOND] | -log N [\"MESSAGE\"]", help: "make breakpoint N stop only when EXPR is not 0; no EXPR removes the condition",
			more: "condition -hitcount N HITCOND: stop only at the hits whose number in the run HITCOND accepts: N or >= N (the Nth hit and each one after), > N, == N, != N, < N, <= N, % N (every Nth)\n" +
				"  condition -log N \"MESSAGE\": print MESSAGE rather than stop, with each {EXPR} the value of EXPR in the thread that reached it ({{ and }} are braces)\n" +
				"  with nothing after N, each removes what it gave", run: (*Session).cmdCondition},
		{name: "print", aliases: []string{"p"}, args: "[/FMT] EXPR", help: "show the value of EXPR: registers, labels, *ADDR, numbers and C's operators; FMT is x, d, u, t, c or s (the string at the address)", run: (*Session).cmdPrint},
		{name: "x", args: "/NFU ADDR", help: "examine memory: N units of U (b, h, w, g: 1, 2, 4, 8 bytes) in format F (x, d, u, t, c, s, i)", run: (*Session).cmdExamine},
		{name: "display", args: "[/F] [EXPR]", help: "show EXPR after every stop, in format F (x, d, u, t, c; s the string at the address, i the instruction there, as display/i pc); with no EXPR, show the displays now", run: (*Session).cmdDisplay},
		{name: "undisplay", args: "[N...]", help: "stop showing displays N..., or all of them", run: (*Session).cmdUndisplay},
		{name: "set", args: "REG = EXPR | *ADDR = EXPR | scheduler-locking on|off", help: "change a register, pc or 8 bytes of memory (in the past, the future after it is dropped), or whether step commands run the focused thread alone", run: (*Session).cmdSet},
		{name: "info", aliases: []string{"i"}, args: "registers [REG...|THREAD] | threads | processes | breakpoints | symbols [TEXT] | frame | locals | line [LOCATION] | display", help: "show part of the state; frame and locals describe the selected frame, line the addresses of a source line", run: (*Session).cmdInfo},
		{name: "backtrace", aliases: []string{"bt", "where"}, args: "[THREAD]", help: "show the calls on a thread's stack", run: (*Session).cmdBacktrace},
		{name: "frame", aliases: []string{"f"}, args: "[N]", help: "select frame N of the current thread's backtrace (0 is where the thread is) and show it; with no N, show the selected frame and the step of the run", run: (*Session).cmdFrame},
		{name: "up", args: "[N]", help: "select the frame N (1) above the selected one, towards the outermost caller, and show it", run: (*Session).cmdUp},
		{name: "down", args: "[N]", help: "select the frame N (1) below the selected one, towards where the thread is, and show it", run: (*Session).cmdDown},
		{name: "list", aliases: []string{"l"}, args: "[LOCATION | A,B | FILE:A,B | -]", help: "show the source around the selected frame's line or LOCATION, or lines A to B; list again (or Enter) goes on after the lines shown, list - shows those before", step: true, repeat: "list", run: (*Session).cmdList},
		{name: "disassemble", aliases: []string{"disasm"}, args: "[LOCATION]", help: "show the instructions around pc, or LOCATION", run: (*Session).cmdDisasm},
		{name: "thread", aliases: []string{"t"}, args: "[PID.TID | TID] | apply all|THREAD... COMMAND", help: "focus a thread: step commands run it (alone, with scheduler-locking on); thread apply runs a command that shows a thread (bt, info, print, x, ...) for each thread given, or all", run: (*Session).cmdThread},
		{name: "sched", args: "", help: "show the threads that can run and those that wait, with what they wait on", run: (*Session).cmdSched},
		{name: "ctx", args: "", help: "show the focused thread's context: the processor's registers if it runs, else what is saved in the thread, beside the processor's", run: (*Session).cmdCtx},
		{name: "trace", args: "switches on|off", help: "print every context switch as it happens", run: (*Session).cmdTrace},
		{name: "reset", aliases: []string{"start", "kill"}, args: "", help: "go back to the start of the program, before its first instruction, keeping the breakpoints (run, continue and step go on from there)", run: (*Session).cmdReset},
		{name: "reload", args: "", help: "assemble the program again and start it again, keeping the breakpoints", run: (*Session).cmdReload},
		{name: "record", args: "save FILE", help: "write what reproduces this session to FILE: the program's hash, the flags, the input and the commands; spindle debug --replay FILE opens it at the same state", run: (*Session).cmdRecord},
		{name: "commands", args: "[N...]", help: "give breakpoints N (or the last one made) commands to run when they stop the program: the lines that follow, up to end; silent first stops without a word", run: (*Session).cmdCommands},
		{name: "echo", args: "TEXT", help: "print TEXT, with C's escapes (\\n for a newline, which echo does not add)", run: (*Session).cmdEcho},
		{name: "printf", args: "\"FORMAT\", EXPR...", help: "print EXPRs by FORMAT, as C's printf: %d %i %u %x %X %o %b %c %s (the string at the address) %%", run: (*Session).cmdPrintf},
		{name: "help", aliases: []string{"h"}, args: "[COMMAND]", help: "list the commands, or explain one", run: (*Session).cmdHelp},
		{name: "quit", aliases: []string{"q", "exit"}, help: "leave the debugger", run: (*Session).cmdQuit},
	}
}

// lookup finds a command by its name, an alias, or a prefix of one name that no other has.
func lookup(word string) (*command, error) {
	var found []*command
	for _, c := range commands {
		if c.name == word || slices.Contains(c.aliases, word) {
			return c, nil
		}
		if strings.HasPrefix(c.name, word) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no command %q; try help", word)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, c := range found {
		names[i] = c.name
	}
	return nil, fmt.Errorf("%q is ambiguous: %s", word, strings.Join(names, ", "))
}

// Exec runs one command line. An empty line repeats the last step-like command. An error is
// the command's: the session goes on.
func (s *Session) Exec(line string) error {
	if s.defining != nil {
		s.define(line)
		s.history = append(s.history, line)
		return nil
	}
	line = strings.TrimSpace(line)
	if line == "" {
		if s.last == "" {
			return nil
		}
		line = s.last
	}
	if line = stripComment(line); line == "" {
		return nil
	}
	word, arg, _ := strings.Cut(line, " ")
	if i := strings.IndexByte(word, '/'); i > 0 {
		// p/x, x/4xg: the format is part of the argument.
		word, arg = word[:i], word[i:]+" "+arg
	}
	c, err := lookup(word)
	if err != nil {
		return err
	}
	if arg = strings.TrimSpace(arg); c.args == "" && arg != "" {
		return fmt.Errorf("%s takes no argument (found %q)", c.name, arg)
	}
	if !s.inCommands {
		// A Ctrl-C that came between commands is not for this one; one that came during a
		// breakpoint's commands is for the command that stopped there, and ends them.
		s.m.CancelPause()
		s.wasPaused = false
	}
	s.undone = false
	s.last = ""
	if c.step {
		s.last = line
		if c.repeat != "" {
			s.last = c.repeat
		}
	}
	if err := s.run(c, strings.TrimSpace(arg)); err != nil {
		return err
	}
	switch {
	case c.name == "record" || c.name == "help" || c.name == "quit" || s.undone:
		// Nothing to replay: it changed nothing.
	case s.inCommands:
		// A breakpoint's command: a replay runs it when the breakpoint stops the run again.
	default:
		s.history = append(s.history, line)
		if s.wasPaused {
			s.paused = append(s.paused, PausedCommand{Command: len(s.history) - 1, Steps: s.m.Steps()})
		}
	}
	return nil
}

// stripComment drops a comment from a command line: from a # at its start, or after a blank,
// that is not inside a string or a char ('#').
func stripComment(line string) string {
	end := len(line)
	outsideQuotes(line, func(i int) bool {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			end = i
			return false
		}
		return true
	})
	return strings.TrimSpace(line[:end])
}

// outsideQuotes calls f with the index of each byte of text that is not inside a string or a
// char ("a, b", '#'), until f returns false.
func outsideQuotes(text string, f func(i int) bool) {
	var quote byte
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		default:
			if !f(i) {
				return
			}
		}
	}
}

// Quit reports whether the session has been quit.
func (s *Session) Quit() bool { return s.quit }

// Pause stops the program at its next check point, from another goroutine (Ctrl-C).
func (s *Session) Pause() { s.m.Pause() }

// count reads an optional repeat count.
func count(arg string) (int, error) {
	if arg == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a count: want a positive integer", arg)
	}
	return n, nil
}

// countThread reads a step command's count, and finds with find the thread it steps.
func countThread(arg string, find func() (*vm.Thread, error)) (int, *vm.Thread, error) {
	n, err := count(arg)
	if err != nil {
		return 0, nil, err
	}
	t, err := find()
	return n, t, err
}

// The execution commands.

// after shows a stop, and makes its thread the current one unless a thread is focused.
func (s *Session) after(st vm.Stop) {
	s.stop = st
	if st.Kind == vm.StopInterrupted {
		s.wasPaused = true
	}
	silent := false
	if stoppedBy(st) && len(s.hit) > 0 {
		silent = true
		for _, b := range s.hit {
			silent = silent && b.silent
			if len(b.commands) > 0 {
				s.queued = append(s.queued, b)
			}
		}
	}
	if s.focused && s.cur != nil && s.cur.State == vm.Exited {
		// The focused thread has ended: no thread is focused any more.
		fmt.Fprintf(s.out, "[thread %s has exited: no thread is focused]\n", threadName(s.cur))
		s.focused = false
	}
	switch {
	case st.Thread == nil:
	case !s.focused || s.cur == nil || s.cur.State == vm.Exited:
		s.cur = st.Thread
	case stoppedBy(st) && st.Thread != s.cur && silent:
		s.cur = st.Thread
	case stoppedBy(st) && st.Thread != s.cur:
		s.switchTo(st.Thread)
	}
	if s.cur != nil && s.cur.State == vm.Exited {
		// Its thread ended (and may have been joined): the main thread is shown, if it lives.
		if main := s.m.Process().Thread(1); main != nil && main.State != vm.Exited {
			s.cur, s.focused = main, false
		}
	}
	if silent {
		return
	}
	s.showStop(st)
}

// stoppedBy reports whether stop st is one that a thread came to, as a breakpoint, watchpoint,
// catchpoint, switch or trap, rather than the end of a step or a pause.
func stoppedBy(st vm.Stop) bool {
	switch st.Kind {
	case vm.StopBreakpoint, vm.StopWatchpoint, vm.StopSyscall, vm.StopSwitch, vm.StopTrapped:
		return true
	}
	return false
}

// switchTo makes thread t the focused one, because it stopped the run, and says so, as gdb
// does when another thread hits a breakpoint.
func (s *Session) switchTo(t *vm.Thread) {
	s.cur = t
	fmt.Fprintf(s.out, "[Switching to thread %s]\n", threadName(t))
}

// forward runs forward to u's stop, with the focused thread alone when u names it and
// scheduler locking is on.
func (s *Session) forward(u vm.Until) (vm.Stop, error) {
	u = s.until(u)
	alone := s.focused && s.lock && u.Thread != nil
	from := s.m.Steps()
	if s.diverges(from, alone) {
		what := "all threads, where the run had a thread alone"
		if alone {
			what = "a thread alone, where the run had all threads"
		}
		if err := s.diverge(what); err != nil {
			return vm.Stop{}, err
		}
		fmt.Fprintln(s.out, "[the run goes another way from here: what followed is dropped]")
		s.dropFuture()
	}
	if alone {
		if err := s.m.SetPolicy(vm.Focus{Thread: u.Thread}); err != nil {
			return vm.Stop{}, err
		}
	}
	st, err := s.resume(u)
	if alone {
		s.m.SetPolicy(vm.Focus{})
		if to := s.m.Steps(); to > from {
			s.focus = append(s.focus, focusSpan{from, to, u.Thread.Proc.ID, u.Thread.ID})
		}
	}
	return st, err
}

// diverge tells the machine that the run goes another way from here, for what, or says why it
// cannot: the program used files or the network later, and they cannot be taken back.
func (s *Session) diverge(what string) error {
	if s.m.Diverge() != nil {
		return fmt.Errorf("%s: the program used files or the network after this point, and they cannot be taken back: "+
			"its past cannot be changed here (it can at step %d, where it was furthest)", what, s.furthest)
	}
	return nil
}

// diverges reports whether a run forward from step now, with a thread alone or not, may not
// be the run that the timeline holds after now: it held a thread alone where this run does
// not, or the other way round.
func (s *Session) diverges(now uint64, alone bool) bool {
	if alone {
		return s.cps[len(s.cps)-1].steps > now || s.lastEnd != nil && s.ended == nil
	}
	for _, f := range s.focus {
		if f.to > now {
			return true
		}
	}
	return false
}

func (s *Session) cmdRun(arg string) error {
	s.recount(false)
	if s.m.Steps() > 0 {
		fmt.Fprintln(s.out, "Starting the program from the beginning.")
		if err := s.toStart(); err != nil {
			return err
		}
	}
	// A breakpoint at the first instruction stops run there, as in gdb (break main, run): a
	// continue from here would go past it. (A disabled one that counts its hits counts this
	// one.)
	if t := s.cur; t != nil && slices.Contains(s.codeBreakpoints(), t.PCAddr()) {
		s.hit = nil
		if hit := (vm.Stop{Kind: vm.StopBreakpoint, Thread: t, PC: t.PCAddr()}); s.breakHit(hit) {
			s.after(hit)
			return nil
		}
	}
	return s.cmdContinue("")
}

func (s *Session) cmdContinue(arg string) error {
	if arg != "" {
		n, err := count(arg)
		if err != nil {
			return err
		}
		at := false
		for _, b := range s.bps {
			if b.id > 0 && b.enabled && b.matches(s.stop) {
				s.setIgnore(b, n-1)
				at = true
			}
		}
		if !at {
			fmt.Fprintln(s.out, "Not stopped at a breakpoint: the count is ignored.")
		}
	}
	st, err := s.forward(vm.Until{})
	if err != nil {
		return err
	}
	s.after(st)
	return nil
}

// thread returns the thread step commands run: the current one.
func (s *Session) thread() (*vm.Thread, error) {
	if s.cur == nil || s.cur.State == vm.Exited {
		return nil, errors.New("no current thread: it has ended (info threads, then thread N)")
	}
	return s.cur, nil
}

// stepOne executes one instruction of thread t, or of the machine when no thread is focused.
func (s *Session) stepOne(t *vm.Thread, n int) (vm.Stop, error) {
	if s.focused {
		return s.forward(vm.Until{Thread: t, ThreadSteps: uint64(n)})
	}
	return s.forward(vm.Until{Steps: uint64(n)})
}

func (s *Session) cmdStepi(arg string) error {
	n, t, err := countThread(arg, s.thread)
	if err != nil {
		return err
	}
	st, err := s.stepOne(t, n)
	if err != nil {
		return err
	}
	s.after(st)
	return nil
}

// line returns the source line of thread t's next instruction.
func (s *Session) line(t *vm.Thread) object.Line {
	img := t.Proc.Image()
	if t.PC >= 0 && t.PC < len(img.Lines) {
		return img.Lines[t.PC]
	}
	return object.Line{}
}

// stepLine runs thread t to the start of another source line, over calls if over is set.
func (s *Session) stepLine(t *vm.Thread, over bool) (vm.Stop, error) {
	start := s.line(t)
	for {
		var st vm.Stop
		var err error
		if ins := s.instr(t); over && (ins.Op() == isa.CALL || ins.Op() == isa.CALLR) {
			st, err = s.forward(vm.Until{Thread: t, Return: t.R[isa.SP] - 8})
			if err == nil && st.Kind == vm.StopReturn {
				st.Kind = vm.StopSteps
			}
		} else {
			st, err = s.stepOne(t, 1)
		}
		if err != nil || st.Kind != vm.StopSteps || st.Ended {
			return st, err
		}
		if t.State == vm.Exited {
			return st, nil
		}
		if st.Thread == t && s.line(t) != start {
			return st, nil
		}
	}
}

// instr returns thread t's next instruction, as the program has it.
func (s *Session) instr(t *vm.Thread) isa.Instr {
	text := t.Proc.Image().Text
	if t.PC >= 0 && t.PC < len(text) {
		return text[t.PC]
	}
	return 0
}

func (s *Session) lineCommand(arg string, over bool) error {
	n, t, err := countThread(arg, s.thread)
	if err != nil {
		return err
	}
	var st vm.Stop
	for range n {
		if st, err = s.stepLine(t, over); err != nil || st.Kind != vm.StopSteps {
			break
		}
	}
	if err != nil {
		return err
	}
	s.after(st)
	return nil
}

func (s *Session) cmdStep(arg string) error { return s.lineCommand(arg, false) }
func (s *Session) cmdNext(arg string) error { return s.lineCommand(arg, true) }

func (s *Session) cmdFinish(arg string) error {
	t, frames, err := s.selected(2)
	if err != nil {
		return err
	}
	if len(frames) < 2 {
		return s.outermost("finish", t, frames[0])
	}
	fmt.Fprintf(s.out, "Run till exit from %s\n", s.frameLine(t, s.frame, frames[0]))
	// The selected frame's return address lies just below its caller's sp.
	st, err := s.forward(vm.Until{Thread: t, Return: frames[1].SP - 8})
	if err != nil {
		return err
	}
	s.after(st)
	if st.Kind == vm.StopReturn {
		fmt.Fprintf(s.out, "Value returned: a0 = %s\n", formatValue(t.R[isa.A0], 0))
	}
	return nil
}

// outermost is the error of a command that needs a caller, in a thread's outermost frame.
func (s *Session) outermost(cmd string, t *vm.Thread, f vm.Frame) error {
	ends := "the thread"
	if t.ID == 1 {
		ends = "the process"
	}
	return fmt.Errorf("%s: %s is the outermost frame of thread %s: the loader started it, and it returns into the loader's stub, which ends %s", cmd, frameName(f), threadName(t), ends)
}

func frameName(f vm.Frame) string {
	if f.Func == "" {
		return fmt.Sprintf("%#x", f.PC)
	}
	return f.Func
}

func (s *Session) cmdAdvance(arg string) error { return s.runTo("advance", arg, false) }

func (s *Session) cmdUntil(arg string) error {
	if arg == "" {
		return s.untilPast()
	}
	return s.runTo("until", arg, true)
}

// frameTop returns the address just above thread t's current frame: its caller's sp once it
// has returned, or the top of its stack in its outermost frame (inner is then false). A frame
// that the current one calls has a lower top.
func (s *Session) frameTop(t *vm.Thread) (top uint64, inner bool) {
	fr := s.m.Backtrace(t, 2)
	if len(fr) < 2 {
		return t.StackHi, false
	}
	return fr[1].SP, true
}

// runTo runs the current thread until it reaches the instruction at arg, or its current
// function returns, or another stop comes first. With thisFrame (until), arriving there in a
// call deeper than the current frame, as a recursion does, does not count.
func (s *Session) runTo(cmd, arg string, thisFrame bool) error {
	if arg == "" {
		return fmt.Errorf("%s: where to? (a label, an address or FILE:LINE)", cmd)
	}
	t, err := s.thread()
	if err != nil {
		return err
	}
	addr, _, _, err := s.location(arg)
	if err != nil {
		return err
	}
	if _, err := codeIndex(t.Proc.Image(), addr); err != nil {
		return err
	}
	if err := s.m.SetBreakpoint(addr); err != nil {
		return err
	}
	u := vm.Until{Thread: t}
	top, inner := s.frameTop(t)
	if inner {
		u.Return = top - 8 // where the current frame's return address lies
	}
	// No id: it is not listed, and goes when the run stops. Not temp: a hit that does not
	// count (a deeper call, another thread) must not delete it.
	b := &breakpoint{kind: bpCode, addr: addr, spec: arg, enabled: true}
	s.bps = append(s.bps, b)
	var st vm.Stop
	for {
		st, err = s.forward(u)
		if err != nil || st.Kind != vm.StopBreakpoint || st.PC != addr || s.userBreakpointAt(addr) {
			break
		}
		if st.Thread == t {
			if ft, _ := s.frameTop(t); !thisFrame || ft >= top {
				break
			}
		}
		// Another thread, or a deeper call, came to the location: go on.
	}
	s.bps = slices.DeleteFunc(s.bps, func(x *breakpoint) bool { return x == b })
	s.setBreakpoints()
	if err != nil {
		return err
	}
	s.after(st)
	return nil
}

// codeIndex returns the index in img's text of the instruction at addr, or an error that says
// addr is not the address of one.
func codeIndex(img *object.Image, addr uint64) (int, error) {
	i, ok := isa.CodeIndex(addr, len(img.Text))
	if !ok {
		return 0, fmt.Errorf("%#x is not the address of an instruction (%s)", addr, isa.TextSpan(len(img.Text)))
	}
	return i, nil
}

// userBreakpointAt reports whether one of the user's enabled breakpoints is at code address addr.
func (s *Session) userBreakpointAt(addr uint64) bool {
	return slices.ContainsFunc(s.bps, func(b *breakpoint) bool {
		return b.id > 0 && b.enabled && b.kind == bpCode && b.addr == addr
	})
}

// untilPast is until with no argument: next, but where the next line is back around a loop,
// it goes on until a line past the current one, or until the current function returns.
func (s *Session) untilPast() error {
	t, err := s.thread()
	if err != nil {
		return err
	}
	start := t.PCAddr()
	top, _ := s.frameTop(t)
	var st vm.Stop
	for {
		st, err = s.stepLine(t, true)
		if err != nil || st.Kind != vm.StopSteps || st.Ended || t.State == vm.Exited {
			break
		}
		if ft, _ := s.frameTop(t); t.PCAddr() > start || ft > top {
			break
		}
	}
	if err != nil {
		return err
	}
	s.after(st)
	return nil
}

func (s *Session) cmdReset(arg string) error {
	if err := s.toStart(); err != nil {
		return err
	}
	s.recount(false)
	s.showWhere(s.cur)
	return nil
}

// toStart puts the machine back before its first instruction.
func (s *Session) toStart() error {
	if err := s.m.Restore(s.cps[0].snap); err != nil {
		return err
	}
	s.ended = nil
	s.outs[0].pos, s.outs[1].pos = s.m.Output()
	s.focused = false
	s.cur = s.m.Process().Thread(1)
	s.stop = vm.Stop{}
	s.selectFrame(0)
	return nil
}

func (s *Session) cmdReload(arg string) error {
	if s.cfg.Reload == nil {
		return errors.New("reload: this session cannot assemble its program again")
	}
	img, err := s.cfg.Reload()
	if err != nil {
		return err
	}
	if err := s.restart(s.cfg, img); err != nil {
		return fmt.Errorf("reload: %v; the session goes on with the program as it was", err)
	}
	fmt.Fprintln(s.out, "Reloaded; the program starts again.")
	s.showWhere(s.cur)
	return nil
}

// restart starts the program of img again, as cfg configures its run, keeping the breakpoints:
// one at FILE:LINE follows its line, one at a label its label, and one that is no longer in the
// program is disabled, with a word. A program that does not load leaves the session as it was.
func (s *Session) restart(cfg Config, img *object.Image) error {
	// The session as it was stays whole until the new program has loaded: a program that does
	// not load leaves it as it was, its snapshots included.
	before := *s
	s.cfg = cfg.withDefaults()
	s.bps = nil
	if err := s.load(img); err != nil {
		*s = before
		return err
	}
	for _, c := range before.cps {
		c.snap.Release()
	}
	before.m.Close() // its files and sockets: the new program may listen where it did
	s.bps = before.bps
	s.reloaded = true
	s.recount(true)
	for _, b := range s.bps {
		var err error
		switch b.kind {
		case bpWatch:
			err = s.rewatch(b)
		case bpCode:
			err = s.relocate(b)
		default:
			continue
		}
		switch {
		case err != nil:
			if b.enabled {
				fmt.Fprintf(s.out, "%s %d (%s) is disabled: %v\n", b.what(), b.id, b.spec, err)
				b.revive = true
			}
			b.enabled, b.lost = false, true
		case b.lost:
			// A program before had no place for it; this one has.
			if b.revive {
				fmt.Fprintf(s.out, "%s %d (%s) is enabled again: the program has its place\n", b.what(), b.id, b.spec)
			}
			b.enabled, b.lost, b.revive = b.revive, false, false
		}
	}
	return s.setBreakpoints()
}

// relocate finds code breakpoint b's place in the program as it is now (after a reload, a new
// one): its line, or its label.
func (s *Session) relocate(b *breakpoint) error {
	spec := b.spec
	if b.file != "" {
		spec = fmt.Sprintf("%s:%d", b.file, b.line)
	}
	addr, _, _, err := s.location(spec)
	if err == nil {
		_, err = codeIndex(s.img, addr)
	}
	if err != nil {
		return err
	}
	b.addr = addr
	return nil
}

// rewatch points watchpoint b at its expression's memory in the machine as it is now (after a
// reload, a new one), if there is such memory.
func (s *Session) rewatch(b *breakpoint) error {
	p := s.procOf(s.cur)
	addr, err := s.eval(b.spec, s.cur)
	if err == nil {
		err = p.ReadMemory(addr, make([]byte, b.watch.Len))
	}
	if err != nil {
		return err
	}
	b.watch = vm.Watch{Proc: p, Addr: addr, Len: b.watch.Len}
	return nil
}

func (s *Session) cmdQuit(arg string) error {
	s.quit = true
	return nil
}

// The breakpoint commands.

func (s *Session) cmdBreak(arg string) error { return s.breakCommand(arg, false) }
func (s *Session) cmdTbreak(arg string) error {
	return s.breakCommand(arg, true)
}

func (s *Session) breakCommand(arg string, temp bool) error {
	if rest, ok := strings.CutPrefix(arg, "switch"); ok && (rest == "" || rest[0] == ' ') {
		b := &breakpoint{kind: bpSwitch, spec: "switch", temp: temp}
		if to, ok := strings.CutPrefix(strings.TrimSpace(rest), "to "); ok {
			// A TID is the current process's thread, as in break ... thread N: a thread of
			// another process is named PID.TID.
			id, err := s.threadID(strings.TrimSpace(to))
			if err != nil {
				return fmt.Errorf("break switch to %s: %v", strings.TrimSpace(to), err)
			}
			b.toThread, b.spec = &id, fmt.Sprintf("switch to %d.%d", id.pid, id.tid)
		}
		b = s.addBreakpoint(b)
		fmt.Fprintf(s.out, "%s %d at every context switch%s\n", b.title(), b.id, strings.TrimPrefix(b.spec, "switch"))
		return nil
	}
	spec, cond, hasIf := strings.Cut(arg+" ", " if ")
	spec, cond = strings.TrimSpace(spec), strings.TrimSpace(cond)
	if hasIf && cond == "" {
		return errors.New("break: if what? (a condition after if, such as a0 == 3)")
	}
	var only *threadID
	if rest, th, ok := strings.Cut(" "+spec+" ", " thread "); ok {
		id, err := s.threadID(strings.TrimSpace(th))
		if err != nil {
			return fmt.Errorf("break ... thread %s: %v", strings.TrimSpace(th), err)
		}
		spec, only = strings.TrimSpace(rest), &id
	}
	if spec == "" {
		if s.cur == nil {
			return errors.New("break: where? (a label, an address or FILE:LINE)")
		}
		spec = fmt.Sprintf("*%#x", s.framePC())
	}
	addr, file, line, err := s.location(spec)
	if err != nil {
		return err
	}
	if strings.HasPrefix(spec, ".") {
		// A label local to the current function: its whole name, so that a reload, where
		// the current function is main, finds the same one.
		if name, off, ok := s.m.Symbol(s.procOf(s.cur), addr); ok && off == 0 {
			spec = name
		}
	}
	if cond != "" {
		if _, err := s.eval(cond, s.cur); err != nil {
			return err
		}
	}
	if _, err := codeIndex(s.img, addr); err != nil {
		return err
	}
	for _, o := range s.bps {
		if o.id > 0 && o.kind == bpCode && o.addr == addr {
			fmt.Fprintf(s.out, "Note: breakpoint %d is also at %s.\n", o.id, s.symbolize(s.cur, addr))
		}
	}
	b := s.addBreakpoint(&breakpoint{kind: bpCode, spec: spec, addr: addr, file: file, line: line, cond: cond, temp: temp, thread: only})
	fmt.Fprintf(s.out, "%s %d at %s\n", b.title(), b.id, s.symbolize(s.cur, addr))
	return nil
}

func (s *Session) cmdWatch(arg string) error {
	if arg == "" {
		return errors.New("watch: what? (an address, such as counter or *(sp+8))")
	}
	expr, n := arg, 8
	if i := strings.LastIndexByte(arg, ' '); i > 0 {
		if v, err := strconv.Atoi(arg[i+1:]); err == nil {
			expr, n = strings.TrimSpace(arg[:i]), v
		}
	}
	if n <= 0 || n > 4096 {
		return fmt.Errorf("watch: %d bytes; want from 1 to 4096", n)
	}
	t := s.cur
	if _, isReg := isa.ParseReg(strings.TrimPrefix(expr, "$")); isReg || expr == "pc" || expr == "$pc" {
		return fmt.Errorf("watch %s: watch takes an address (a label such as counter, or an expression such as sp+8), and a register is not memory", expr)
	}
	addr, err := s.eval(expr, t)
	if err != nil {
		return err
	}
	p := s.m.Process()
	if t != nil {
		p = t.Proc
	}
	if err := p.ReadMemory(addr, make([]byte, n)); err != nil {
		if label, ok := derefLabel(expr); ok {
			if at, lerr := s.eval(label, t); lerr == nil && p.ReadMemory(at, make([]byte, n)) == nil {
				// print *counter shows the counter, and a gdb user watches it as watch *counter;
				// but watch, as in watch *(sp+8), takes the address of what it watches.
				again := label
				if n != 8 {
					again += " " + strconv.Itoa(n)
				}
				return fmt.Errorf("watch %s: watch takes an address, and %s is the value at %s, %d (%#x), not an address in memory: did you mean `watch %s`, the %d bytes at %s?",
					expr, expr, label, int64(addr), addr, again, n, label)
			}
		}
		return err
	}
	b := s.addBreakpoint(&breakpoint{kind: bpWatch, spec: expr, watch: vm.Watch{Proc: p, Addr: addr, Len: n}})
	fmt.Fprintf(s.out, "Watchpoint %d: %d bytes at %s\n", b.id, n, s.symbolize(t, addr))
	return nil
}

// derefLabel returns LABEL if expr is *LABEL or *(LABEL).
func derefLabel(expr string) (string, bool) {
	e, ok := strings.CutPrefix(expr, "*")
	if !ok {
		return "", false
	}
	e = strings.TrimSpace(e)
	if in, ok := strings.CutPrefix(e, "("); ok {
		if e, ok = strings.CutSuffix(in, ")"); !ok {
			return "", false
		}
		e = strings.TrimSpace(e)
	}
	if e == "" || e == "pc" {
		return "", false
	}
	if _, isReg := isa.ParseReg(strings.TrimPrefix(e, "$")); isReg {
		return "", false
	}
	for i, c := range e {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return "", false
		}
	}
	return e, true
}

func (s *Session) cmdCatch(arg string) error {
	what, name, _ := strings.Cut(arg, " ")
	switch what {
	case "syscall":
		b := &breakpoint{kind: bpSyscall, spec: "syscall", anySyscall: true}
		if name = strings.TrimSpace(name); name != "" {
			info, ok := isa.LookupSyscall(name)
			if !ok {
				return fmt.Errorf("catch syscall: no syscall %q (see docs/syscalls.md)", name)
			}
			b.syscall, b.anySyscall, b.spec = info.Num, false, "syscall "+name
		}
		b = s.addBreakpoint(b)
		fmt.Fprintf(s.out, "Catchpoint %d (%s)\n", b.id, b.spec)
	case "trap":
		b := s.addBreakpoint(&breakpoint{kind: bpTrap, spec: "trap"})
		fmt.Fprintf(s.out, "Catchpoint %d (trap): a trap stops the program at the trapping instruction, with or without it\n", b.id)
	default:
		return errors.New("catch: syscall [NAME] or trap")
	}
	return nil
}

// ids reads a list of breakpoint numbers; none means all.
func (s *Session) ids(arg string) ([]*breakpoint, error) {
	if arg == "" {
		return slices.Clone(s.bps), nil
	}
	var bs []*breakpoint
	for _, f := range strings.Fields(arg) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a breakpoint number", f)
		}
		b := s.breakpoint(id)
		if b == nil || id == 0 {
			return nil, fmt.Errorf("no breakpoint %d", id)
		}
		bs = append(bs, b)
	}
	return bs, nil
}

func (s *Session) cmdDelete(arg string) error {
	bs, err := s.ids(arg)
	if err != nil {
		return err
	}
	for _, b := range bs {
		s.deleteBreakpoint(b.id)
	}
	return nil
}

func (s *Session) cmdClear(arg string) error {
	spec := arg
	if spec == "" {
		t, err := s.thread()
		if err != nil {
			return err
		}
		spec = fmt.Sprintf("*%#x", t.PCAddr())
		if w := s.where(t); w.File != "" {
			spec = fmt.Sprintf("%s:%d", w.File, w.Line)
		}
	}
	addr, file, line, err := s.location(spec)
	if err != nil {
		return err
	}
	var ids []string
	for _, b := range slices.Clone(s.bps) {
		if b.id == 0 || b.kind != bpCode {
			continue
		}
		if f, n, ok := sourceOf(s.img, b.addr); b.addr == addr || line > 0 && ok && f == file && n == line {
			s.deleteBreakpoint(b.id)
			ids = append(ids, strconv.Itoa(b.id))
		}
	}
	switch len(ids) {
	case 0:
		return fmt.Errorf("clear: no breakpoint at %s", spec)
	case 1:
		fmt.Fprintf(s.out, "Deleted breakpoint %s\n", ids[0])
	default:
		fmt.Fprintf(s.out, "Deleted breakpoints %s\n", strings.Join(ids, " "))
	}
	return nil
}

func (s *Session) enable(arg string, on bool) error {
	bs, err := s.ids(arg)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if on && b.lost && arg != "" {
			return fmt.Errorf("%s %d (%s) has no place in the program as it is now: a reload or a restart whose program has it enables it", b.what(), b.id, b.spec)
		}
	}
	for _, b := range bs {
		if b.lost {
			b.revive = on // (enable with no N: once the program has its place)
			continue
		}
		b.enabled = on
	}
	return s.setBreakpoints()
}

func (s *Session) cmdDisable(arg string) error { return s.enable(arg, false) }
func (s *Session) cmdEnable(arg string) error  { return s.enable(arg, true) }

func (s *Session) cmdIgnore(arg string) error {
	f := strings.Fields(arg)
	if len(f) != 2 {
		return errors.New("ignore: N COUNT")
	}
	bs, err := s.ids(f[0])
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a count", f[1])
	}
	s.setIgnore(bs[0], n)
	return nil
}

// setIgnore makes breakpoint b go past its next n hits.
func (s *Session) setIgnore(b *breakpoint, n int) {
	b.ignore = n
	switch n {
	case 0:
		fmt.Fprintf(s.out, "Will stop the next time %s %d is reached.\n", b.what(), b.id)
	case 1:
		fmt.Fprintf(s.out, "Will ignore the next crossing of %s %d.\n", b.what(), b.id)
	default:
		fmt.Fprintf(s.out, "Will ignore the next %d crossings of %s %d.\n", n, b.what(), b.id)
	}
}

func (s *Session) cmdCondition(arg string) error {
	switch flag, rest, _ := strings.Cut(arg, " "); flag {
	case "-hitcount":
		return s.conditionHits(rest)
	case "-log":
		return s.conditionLog(rest)
	}
	id, cond, _ := strings.Cut(arg, " ")
	if id == "" {
		return errors.New("condition: N [EXPR]")
	}
	bs, err := s.ids(id)
	if err != nil {
		return err
	}
	if cond = strings.TrimSpace(cond); cond != "" {
		if _, err := s.eval(cond, s.cur); err != nil {
			return err
		}
	}
	bs[0].cond = cond
	return nil
}

// The inspection commands.

// format splits "/FMT rest" into its format letters and the rest.
func format(arg string) (string, string) {
	if !strings.HasPrefix(arg, "/") {
		return "", arg
	}
	f, rest, _ := strings.Cut(arg[1:], " ")
	return f, strings.TrimSpace(rest)
}

func (s *Session) cmdPrint(arg string) error {
	f, expr := format(arg)
	if expr == "" {
		return errors.New("print: what? (a register, a label, *ADDR, or an expression of them)")
	}
	v, err := s.eval(expr, s.cur)
	if err != nil {
		return err
	}
	if f == "s" {
		str, err := s.cString(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s = %q\n", expr, str)
		return nil
	}
	fc, err := valueFormat(f)
	if err != nil {
		return fmt.Errorf("print: %v: want x, d, u, t, c or s", err)
	}
	fmt.Fprintf(s.out, "%s = %s\n", expr, formatValue(v, fc))
	return nil
}

// valueFormat reads the format of a value: "" (decimal and hex) or one of x, d, u, t and c.
func valueFormat(f string) (byte, error) {
	if f == "" {
		return 0, nil
	}
	if len(f) > 1 || !strings.Contains("xdutc", f) {
		return 0, fmt.Errorf("format %q", f)
	}
	return f[0], nil
}

// cString reads the NUL-terminated string at addr, at most 4096 bytes of it.
func (s *Session) cString(addr uint64) (string, error) {
	p := s.cur.Proc
	var b []byte
	for i := range uint64(4096) {
		var c [1]byte
		if err := p.ReadMemory(addr+i, c[:]); err != nil {
			return "", err
		}
		if c[0] == 0 {
			break
		}
		b = append(b, c[0])
	}
	return string(b), nil
}

func (s *Session) cmdExamine(arg string) error {
	f, expr := format(arg)
	n, fc, size := 1, byte('x'), 8
	digits := strings.TrimLeftFunc(f, func(r rune) bool { return '0' <= r && r <= '9' })
	if len(digits) < len(f) {
		n, _ = strconv.Atoi(f[:len(f)-len(digits)])
	}
	for _, c := range []byte(digits) {
		switch c {
		case 'b', 'h', 'w', 'g':
			size = map[byte]int{'b': 1, 'h': 2, 'w': 4, 'g': 8}[c]
		case 'x', 'd', 'u', 'c', 's', 'i', 't':
			fc = c
		default:
			return fmt.Errorf("x: %q is neither a format (x, d, u, t, c, s, i) nor a size (b, h, w, g)", c)
		}
	}
	if fc == 'c' && !strings.ContainsAny(digits, "bhwg") {
		size = 1
	}
	if n <= 0 || n > 4096 {
		return fmt.Errorf("x: %d units; want from 1 to 4096", n)
	}
	if expr == "" {
		return errors.New("x: at what address?")
	}
	addr, err := s.eval(expr, s.cur)
	if err != nil {
		return err
	}
	switch fc {
	case 's':
		for range n {
			str, err := s.cString(addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "%s:\t%q\n", s.symbolize(s.cur, addr), str)
			addr += uint64(len(str)) + 1
		}
		return nil
	case 'i':
		return s.disasm(addr, n, false)
	}
	b := make([]byte, n*size)
	if err := s.cur.Proc.ReadMemory(addr, b); err != nil {
		return err
	}
	perLine := 16 / size
	for i := 0; i < n; i++ {
		if i%perLine == 0 {
			if i > 0 {
				fmt.Fprintln(s.out)
			}
			fmt.Fprintf(s.out, "%s:", s.symbolize(s.cur, addr+uint64(i*size)))
		}
		var v uint64
		for j := size - 1; j >= 0; j-- {
			v = v<<8 | uint64(b[i*size+j])
		}
		if fc == 'd' {
			v = uint64(int64(v<<(64-8*size)) >> (64 - 8*size))
		}
		switch fc {
		case 'x':
			fmt.Fprintf(s.out, "\t0x%0*x", 2*size, v)
		case 'c':
			fmt.Fprintf(s.out, "\t%q", rune(v))
		default:
			fmt.Fprintf(s.out, "\t%s", formatValue(v, fc))
		}
	}
	fmt.Fprintln(s.out)
	return nil
}

// disasm shows n instructions from addr, marking pc's.
func (s *Session) disasm(addr uint64, n int, around bool) error {
	img := s.cur.Proc.Image()
	i, err := codeIndex(img, addr)
	if err != nil {
		return err
	}
	if around {
		i = max(0, i-n/2)
	}
	here := s.framePC()
	for j := i; j < min(i+n, len(img.Text)); j++ {
		a := isa.CodeAddr(j)
		mark := "  "
		if a == here {
			mark = "=>"
		}
		fmt.Fprintf(s.out, "%s %s:\t%s\n", mark, s.symbolize(s.cur, a), object.DisassembleInstr(img.Text[j], a, img))
	}
	return nil
}

func (s *Session) cmdDisasm(arg string) error {
	if s.cur == nil {
		return errors.New("no current thread")
	}
	addr := s.framePC()
	if arg != "" {
		var err error
		if addr, _, _, err = s.location(arg); err != nil {
			return err
		}
	}
	return s.disasm(addr, 10, arg == "")
}

func (s *Session) cmdDisplay(arg string) error {
	if arg == "" {
		s.showDisplays()
		return nil
	}
	f, expr := format(arg)
	if _, err := valueFormat(f); err != nil && f != "i" && f != "s" {
		return fmt.Errorf("display: %v: want x, d, u, t, c, s (the string at the address) or i (the instruction there)", err)
	}
	if _, err := s.eval(expr, s.cur); err != nil {
		return err
	}
	s.displays = append(s.displays, arg)
	s.showDisplay(len(s.displays), arg)
	return nil
}

func (s *Session) cmdUndisplay(arg string) error {
	if arg == "" {
		s.displays = nil
		return nil
	}
	for _, f := range strings.Fields(arg) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || n > len(s.displays) || s.displays[n-1] == "" {
			return fmt.Errorf("no display %s", f)
		}
		s.displays[n-1] = ""
	}
	return nil
}

func (s *Session) cmdSet(arg string) error {
	if rest, ok := strings.CutPrefix(arg, "scheduler-locking"); ok {
		switch strings.TrimSpace(rest) {
		case "on":
			s.lock = true
		case "off":
			s.lock = false
		default:
			return errors.New("set scheduler-locking on|off")
		}
		return nil
	}
	lhs, rhs, ok := strings.Cut(arg, "=")
	if !ok {
		return errors.New("set: REG = EXPR, *ADDR = EXPR, or scheduler-locking on|off")
	}
	lhs, rhs = strings.TrimSpace(strings.TrimPrefix(lhs, "var ")), strings.TrimSpace(rhs)
	if s.ended != nil {
		// Its threads have exited: a change there would undo the end and go nowhere.
		return errEnded
	}
	if err := s.setInFrame(strings.TrimPrefix(lhs, "$")); err != nil {
		return err
	}
	t, err := s.thread()
	if err != nil {
		return err
	}
	v, err := s.eval(rhs, t)
	if err != nil {
		return err
	}
	if err := s.diverge("set"); err != nil {
		return err
	}
	if s.m.Steps() < s.furthest {
		fmt.Fprintln(s.out, "[a change in the past: the run after this point is dropped]")
	}
	name := strings.TrimPrefix(lhs, "$")
	switch r, isReg := isa.ParseReg(name); {
	case name == "pc":
		if err := t.SetPC(v); err != nil {
			return err
		}
	case isReg:
		t.R[r] = v
	case strings.HasPrefix(lhs, "*"):
		addr, err := s.eval(lhs[1:], t)
		if err != nil {
			return err
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		if err := t.Proc.WriteMemory(addr, b[:]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("set: %s is neither a register nor *ADDR", lhs)
	}
	s.dropFuture()
	return nil
}

func (s *Session) cmdInfo(arg string) error {
	what, rest, _ := strings.Cut(arg, " ")
	subs := InfoTopics()
	var match []string
	for _, sub := range subs {
		if strings.HasPrefix(sub, what) && what != "" {
			match = append(match, sub)
		}
	}
	if len(match) != 1 {
		return fmt.Errorf("%s: want one of %s", strings.TrimSpace("info "+what), strings.Join(subs, ", "))
	}
	switch match[0] {
	case "registers":
		if regs, ok := regNames(rest); ok {
			// info registers REG..., as gdb takes them: those registers alone.
			t, err := s.thread()
			if err != nil {
				return err
			}
			for _, r := range regs {
				if r < 0 {
					fmt.Fprintln(s.out, s.pcLine(t))
				} else {
					fmt.Fprintln(s.out, regLine(t, r))
				}
			}
			return nil
		}
		if f := strings.Fields(rest); len(f) > 1 {
			for _, w := range f {
				if _, ok := regNames(w); !ok {
					return fmt.Errorf("info registers %s: %q is not a register (info registers REG... or info registers THREAD)", rest, w)
				}
			}
		}
		t, err := s.threadArg(rest)
		if err != nil {
			return err
		}
		s.showRegisters(t)
	case "threads":
		s.showThreads()
	case "processes":
		for _, p := range s.m.Processes() {
			state := "running"
			if code, ended := p.ExitCode(); ended {
				state = fmt.Sprintf("exited with status %d", code)
			}
			fmt.Fprintf(s.out, "process %d  %s  %d threads  %s\n", p.ID, filenameOf(p), len(p.Threads()), state)
		}
	case "breakpoints":
		s.showBreakpoints()
	case "symbols":
		for _, sym := range s.img.Symbols {
			if rest == "" || strings.Contains(sym.Name, rest) {
				fmt.Fprintf(s.out, "0x%08x  %s\n", sym.Addr, sym.Name)
			}
		}
	case "frame":
		return s.infoFrame()
	case "locals":
		return s.infoLocals()
	case "line":
		return s.infoLine(rest)
	case "display":
		for i, d := range s.displays {
			if d != "" {
				fmt.Fprintf(s.out, "%d: %s\n", i+1, d)
			}
		}
	}
	return nil
}

// showBreakpoints lists the breakpoints, watchpoints and catchpoints as gdb does: a line
// each, and a line below it for each of its condition, hits and ignore count.
func (s *Session) showBreakpoints() {
	if !slices.ContainsFunc(s.bps, func(b *breakpoint) bool { return b.id > 0 }) {
		fmt.Fprintln(s.out, "No breakpoints, watchpoints or catchpoints.")
		return
	}
	fmt.Fprintf(s.out, "%-4s %-11s %-5s %-4s %s\n", "Num", "Type", "Disp", "Enb", "What")
	for _, b := range s.bps {
		if b.id == 0 {
			continue
		}
		disp, on := "keep", "y"
		if b.temp {
			disp = "del"
		}
		if !b.enabled {
			on = "n"
		}
		what := b.spec
		switch b.kind {
		case bpCode:
			what = s.symbolize(s.cur, b.addr)
		case bpWatch:
			what = fmt.Sprintf("%s: %d bytes at %s", b.spec, b.watch.Len, s.symbolize(s.cur, b.watch.Addr))
		case bpSwitch:
			what = "context " + b.spec
		}
		fmt.Fprintf(s.out, "%-4d %-11s %-5s %-4s %s\n", b.id, b.what(), disp, on, what)
		if b.thread != nil {
			fmt.Fprintf(s.out, "\tstop only in thread %d.%d\n", b.thread.pid, b.thread.tid)
		}
		if b.cond != "" {
			fmt.Fprintf(s.out, "\tstop only if %s\n", b.cond)
		}
		if b.hitCond.set() {
			n := b.runCount(s.m.Steps())
			fmt.Fprintf(s.out, "\tonly %s (%d up to here)\n", b.hitCond.describe(), n)
		}
		if b.log != nil {
			fmt.Fprintf(s.out, "\tlog %s, and go on\n", quote(b.log.text))
		}
		if b.hits > 0 {
			fmt.Fprintf(s.out, "\t%s already hit %d time%s\n", b.what(), b.hits, plural(b.hits))
		}
		if b.ignore > 0 {
			fmt.Fprintf(s.out, "\twill ignore the next %d crossings\n", b.ignore)
		}
		if b.silent {
			fmt.Fprintln(s.out, "\t\tsilent")
		}
		for _, c := range b.commands {
			fmt.Fprintf(s.out, "\t\t%s\n", c)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func filenameOf(p *vm.Process) string {
	if img := p.Image(); img != nil && len(img.Files) > 0 {
		return img.Files[0]
	}
	return "?"
}

// threadID reads a thread's name, TID (of the current process) or PID.TID, whether or not the
// thread exists yet: a breakpoint may name a thread that the program has still to make.
func (s *Session) threadID(arg string) (threadID, error) {
	pid, tid := 1, arg
	if s.cur != nil {
		pid = s.cur.Proc.ID
	}
	if p, t, ok := strings.Cut(arg, "."); ok {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return threadID{}, fmt.Errorf("%q is not a thread: want TID or PID.TID", arg)
		}
		pid, tid = n, t
	}
	id, err := strconv.Atoi(tid)
	if err != nil || id <= 0 {
		return threadID{}, fmt.Errorf("%q is not a thread: want TID or PID.TID", arg)
	}
	return threadID{pid, id}, nil
}

// threadArg reads a thread as PID.TID or TID (of the current process); "" is the current one.
func (s *Session) threadArg(arg string) (*vm.Thread, error) {
	if arg == "" {
		return s.thread()
	}
	id, err := s.threadID(arg)
	if err != nil {
		return nil, err
	}
	p := s.process(id.pid)
	if p == nil {
		return nil, fmt.Errorf("no process %d", id.pid)
	}
	t := p.Thread(id.tid)
	if t == nil || t.State == vm.Exited {
		return nil, fmt.Errorf("no thread %d.%d (info threads lists them)", id.pid, id.tid)
	}
	return t, nil
}

func (s *Session) cmdBacktrace(arg string) error {
	t, err := s.threadArg(arg)
	if err != nil {
		return err
	}
	s.showBacktrace(t, 64)
	return nil
}

// regNames reads a list of registers, such as "t0 t1 $sp pc", as info registers takes it; -1
// stands for pc. It reports false if the list is empty or a word is not a register.
func regNames(arg string) ([]int, bool) {
	var regs []int
	for _, w := range strings.Fields(arg) {
		w = strings.TrimPrefix(w, "$")
		if w == "pc" {
			regs = append(regs, -1)
			continue
		}
		r, ok := isa.ParseReg(w)
		if !ok {
			return nil, false
		}
		regs = append(regs, r)
	}
	return regs, len(regs) > 0
}

// applyCommands are the commands thread apply runs: those that show a thread and change
// nothing.
var applyCommands = []string{"backtrace", "info", "print", "x", "printf", "echo", "ctx", "frame", "disassemble", "list"}

// threadApply runs a command for each of a list of threads, as gdb's thread apply does:
// thread apply all bt, thread apply 2 3 info registers. Each runs with its thread as the
// current one; then the current thread, its focus and its selected frame are as they were.
func (s *Session) threadApply(arg string) error {
	usage := errors.New("thread apply all|THREAD... COMMAND: a command for each thread, such as thread apply all bt")
	f := strings.Fields(arg)
	var threads []*vm.Thread
	switch {
	case len(f) > 0 && f[0] == "all":
		threads, f = s.Threads(), f[1:]
	default:
		for len(f) > 0 && strings.Trim(f[0], "0123456789.") == "" {
			t, err := s.threadArg(f[0])
			if err != nil {
				return err
			}
			threads = append(threads, t)
			f = f[1:]
		}
		if len(threads) == 0 {
			return usage
		}
	}
	if len(f) == 0 {
		return usage
	}
	word, rest := f[0], strings.Join(f[1:], " ")
	if i := strings.IndexByte(word, '/'); i > 0 {
		word, rest = word[:i], word[i:]+" "+rest // p/x, x/4xg
	}
	c, err := lookup(word)
	if err != nil {
		return err
	}
	if !slices.Contains(applyCommands, c.name) {
		return fmt.Errorf("thread apply runs a command that shows a thread (%s), not %s", strings.Join(applyCommands, ", "), c.name)
	}
	if rest = strings.TrimSpace(rest); c.args == "" && rest != "" {
		return fmt.Errorf("%s takes no argument (found %q)", c.name, rest)
	}
	cur, focused, frame, listed := s.cur, s.focused, s.frame, s.listed
	defer func() { s.cur, s.focused, s.frame, s.listed = cur, focused, frame, listed }()
	for i, t := range threads {
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		info := s.m.ThreadInfo(t)
		state := strings.ToLower(info.State.String())
		if info.Waits != "" {
			state += ": " + info.Waits
		}
		fmt.Fprintf(s.out, "Thread %s (%s):\n", threadName(t), state)
		s.cur = t
		s.selectFrame(0)
		if err := c.run(s, rest); err != nil {
			return fmt.Errorf("thread %s: %w", threadName(t), err)
		}
	}
	return nil
}

func (s *Session) cmdThread(arg string) error {
	if rest, ok := strings.CutPrefix(arg, "apply"); ok && (rest == "" || rest[0] == ' ') {
		return s.threadApply(rest)
	}
	if arg == "" {
		if s.cur == nil {
			return errors.New("no current thread")
		}
		fmt.Fprintf(s.out, "[current thread is %s]\n", threadName(s.cur))
		return nil
	}
	t, err := s.threadArg(arg)
	if err != nil {
		return err
	}
	s.cur, s.focused = t, true
	s.selectFrame(0)
	lock := "alone (scheduler-locking on)"
	if !s.lock {
		lock = "with the others (scheduler-locking off)"
	}
	fmt.Fprintf(s.out, "[thread %s is focused: step commands run it %s]\n", threadName(t), lock)
	s.showWhere(t)
	return nil
}

func (s *Session) cmdSched(arg string) error {
	var ready, waiting []string
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			info := s.m.ThreadInfo(t)
			line := fmt.Sprintf("%-6s %s", threadName(t), s.symbolize(t, info.PC))
			switch info.State {
			case vm.Running, vm.Runnable:
				if t == s.stop.Thread && info.State == vm.Running {
					line += "  (on the processor)"
				}
				ready = append(ready, line)
			case vm.Blocked:
				waiting = append(waiting, line+"  waits: "+info.Waits)
			}
		}
	}
	fmt.Fprintln(s.out, "can run:")
	for _, l := range ready {
		fmt.Fprintln(s.out, "  "+l)
	}
	fmt.Fprintln(s.out, "waiting:")
	for _, l := range waiting {
		fmt.Fprintln(s.out, "  "+l)
	}
	return nil
}

func (s *Session) cmdCtx(arg string) error {
	t, err := s.thread()
	if err != nil {
		return err
	}
	info := s.m.ThreadInfo(t)
	fmt.Fprintf(s.out, "thread %s: %s, %d steps, switched in %d time%s, stack %#x to %#x\n",
		threadName(t), strings.ToLower(info.State.String()), info.Steps, info.Switches, plural(int(min(info.Switches, 2))), t.StackLo, t.StackHi)
	running := s.running()
	switch {
	case running == t:
		fmt.Fprintln(s.out, "It is on the processor: its context is the processor's registers, and is saved in the thread when a switch takes it off.")
		s.showRegisters(t)
		return nil
	case running == nil:
		fmt.Fprintln(s.out, "It is off the processor, and so is every thread: its context is saved in the thread, and is what a switch restores.")
		s.showRegisters(t)
		return nil
	}
	fmt.Fprintf(s.out, "It is off the processor, which runs thread %s: its context is saved in the thread, and is what a switch to it restores (* where it differs from the processor's).\n", threadName(running))
	fmt.Fprintf(s.out, "%-4s %39s   %39s\n", "", "thread "+threadName(t)+" (saved)", "processor (thread "+threadName(running)+")")
	for r := range isa.NumRegs {
		mark := ""
		if t.R[r] != running.R[r] {
			mark = "  *"
		}
		fmt.Fprintf(s.out, "%-4s %#18x %20d   %#18x %20d%s\n", isa.RegName(r), t.R[r], int64(t.R[r]), running.R[r], int64(running.R[r]), mark)
	}
	fmt.Fprintf(s.out, "%-4s saved:     %s\n%-4s processor: %s\n", "pc", s.symbolize(t, t.PCAddr()), "", s.symbolize(running, running.PCAddr()))
	return nil
}

func (s *Session) cmdTrace(arg string) error {
	switch arg {
	case "switches on":
		s.switches = true
		if s.tracer == nil || s.tracer.m != s.m {
			s.tracer = &switchTracer{s: s, m: s.m, high: s.m.Steps()}
			s.m.Attach(s.tracer)
		}
	case "switches off":
		s.switches = false
	default:
		return errors.New("trace switches on|off")
	}
	return nil
}

// A switchTracer prints the context switches of a run as they happen, once: a run that goes
// over the same steps again, after a step back, does not print them again.
type switchTracer struct {
	s    *Session
	m    *vm.Machine
	high uint64 // the furthest step it has printed a switch at
}

func (tr *switchTracer) Observe(e vm.Event) {
	if e.Kind != vm.EventSwitch || !tr.s.switches || e.Steps <= tr.high && tr.high > 0 || e.To == nil {
		return
	}
	tr.high = e.Steps
	fmt.Fprintf(tr.s.out, "[switch at step %d: %s -> %s (%s)]\n", e.Steps, threadName(e.Thread), threadName(e.To), e.Why())
}

func (s *Session) cmdHelp(arg string) error {
	if arg != "" {
		c, err := lookup(arg)
		if err != nil {
			return err
		}
		names := c.name
		if len(c.aliases) > 0 {
			names += " (" + strings.Join(c.aliases, ", ") + ")"
		}
		fmt.Fprintf(s.out, "%s %s\n  %s\n", names, c.args, c.help)
		if c.more != "" {
			fmt.Fprintf(s.out, "  %s\n", c.more)
		}
		return nil
	}
	for _, c := range commands {
		fmt.Fprintf(s.out, "  %-18s %s\n", c.name, c.help)
	}
	fmt.Fprintln(s.out, "Any unique prefix of a command works; an empty line repeats a step. help COMMAND says more.")
	return nil
}

// InfoTopics returns what info shows, for completion: info registers, info threads, ...
func InfoTopics() []string {
	return []string{"registers", "threads", "processes", "breakpoints", "symbols", "frame", "locals", "line", "display"}
}

// CommandNames returns the names of the commands, for completion.
func CommandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// Labels returns the program's labels, for completion.
func (s *Session) Labels() []string {
	var names []string
	for _, sym := range s.img.Symbols {
		names = append(names, sym.Name)
	}
	return names
}

// Files returns the program's source files, for completion.
func (s *Session) Files() []string { return s.img.Files }

// Ended returns how the run ended, if it has reached its end (and perhaps gone back since).
func (s *Session) Ended() (vm.Stop, bool) {
	if s.lastEnd == nil {
		return vm.Stop{}, false
	}
	return *s.lastEnd, true
}

// Banner says what the session debugs, and where it stands: with the random scheduler, the
// seed that makes its schedule, which nothing else depends on (so that the transcripts of a
// program under the round-robin scheduler are the same from one session to the next).
func (s *Session) Banner(name string) {
	seed := ""
	if s.cfg.Options.Sched == vm.SchedRandom {
		seed = fmt.Sprintf(" (seed %d)", s.cfg.Options.Seed)
	}
	fmt.Fprintf(s.out, "%s: stopped before its first instruction%s; help lists the commands.\n", name, seed)
	s.showWhere(s.cur)
}
