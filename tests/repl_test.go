//go:build linux

package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// The REPL of spindle debug, driven through a pseudo-terminal as a person drives it: the keys go
// in as bytes, and the output is read twice, as the raw stream (for what the commands print)
// and as the screen of a terminal emulator (for what line editing shows: a completion, a line
// recalled from the history), since readline redraws the line with escape sequences that no
// plain match on the stream reads reliably.

const (
	replRows, replCols = 40, 120
	// replTimeout bounds every expectation, so that a REPL that hangs fails the test instead
	// of CI. Each session answers in milliseconds.
	replTimeout = 10 * time.Second
	prompt      = "(spindle) "
)

// Keys, as a terminal sends them.
const (
	keyTab   = "\t"
	keyEnter = "\r"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
	keyUp    = "\x1b[A"
)

// spin.s loops for ever.
const spinSource = `        .text
main:   li      t0, 0
.loop:  addi    t0, t0, 1
        jmp     .loop
`

// A repl is one spindle debug session on a pseudo-terminal.
type repl struct {
	t      *testing.T
	c      *expect.Console
	screen vt10x.Terminal
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's, once exited is closed
	out    bytes.Buffer
}

// startREPL runs spindle debug with args in dir, on a terminal of replRows × replCols, with HOME
// set to home, and waits for its first prompt.
func startREPL(t *testing.T, home, dir string, args ...string) *repl {
	t.Helper()
	r := &repl{t: t, exited: make(chan struct{})}
	r.screen = vt10x.New(vt10x.WithSize(replCols, replRows))
	c, err := expect.NewConsole(expect.WithStdout(r.screen, &r.out), expect.WithDefaultTimeout(replTimeout))
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	t.Cleanup(func() { c.Close() })
	// readline takes the width from the terminal: at 0 columns, Tab only rings the bell.
	if err := pty.Setsize(c.Tty(), &pty.Winsize{Rows: replRows, Cols: replCols}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "spindle"), append([]string{"debug", "--seed", "1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Tty(), c.Tty(), c.Tty()
	// A session of its own, with the terminal as its controlling terminal (as pty.Start does),
	// so that Ctrl-C, typed while the terminal is not in raw mode, sends it SIGINT.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd = cmd
	go func() {
		r.err = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			cmd.Process.Kill()
			<-r.exited
		}
	})
	r.expect(prompt)
	return r
}

// fail stops the test with what the session printed and what its screen shows.
func (r *repl) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("%s\n--- the output:\n%q\n--- the screen:\n%s", fmt.Sprintf(format, args...), r.out.String(), screenText(r.screen))
}

// send types keys.
func (r *repl) send(keys string) {
	r.t.Helper()
	if _, err := r.c.Send(keys); err != nil {
		r.fail("typing %q: %v", keys, err)
	}
}

// expect reads the output until it has printed s.
func (r *repl) expect(s string) {
	r.t.Helper()
	if _, err := r.c.ExpectString(s); err != nil {
		r.fail("waiting for %q: %v", s, err)
	}
}

// command types line and Enter, and waits for the output to show want and then a new prompt.
func (r *repl) command(line, want string) {
	r.t.Helper()
	r.send(line + keyEnter)
	r.expect(want)
	r.expect(prompt)
}

// expectLine waits until the screen's line at the cursor is want (trailing blanks aside), with
// the cursor at its end: for the line that readline is editing.
func (r *repl) expectLine(want string) {
	r.t.Helper()
	r.await(&lineMatcher{screen: r.screen, want: want}, fmt.Sprintf("the line %q", want))
}

// expectScreen waits until the screen shows each of want, on one line, with any run of blanks
// for a blank: readline lays out the candidates of a completion in columns.
func (r *repl) expectScreen(want ...string) {
	r.t.Helper()
	r.await(&screenMatcher{screen: r.screen, want: want}, fmt.Sprintf("the screen to show %q", want))
}

// await waits until the screen matches m, at once if it does already; what names it in a
// failure.
func (r *repl) await(m expect.Matcher, what string) {
	r.t.Helper()
	if m.Match(nil) {
		return
	}
	if _, err := r.c.Expect(func(o *expect.ExpectOpts) error {
		o.Matchers = append(o.Matchers, m)
		return nil
	}); err != nil {
		r.fail("waiting for %s: %v", what, err)
	}
}

// quit types Ctrl-D at the prompt, and checks that the command exits with status want.
func (r *repl) quit(want int) {
	r.t.Helper()
	r.send(keyCtrlD)
	r.expect("quit")
	if st := r.wait(); st != want {
		r.t.Errorf("exit status %d, want %d", st, want)
	}
}

// wait waits for the command to exit, and returns its status.
func (r *repl) wait() int {
	r.t.Helper()
	select {
	case <-r.exited:
	case <-time.After(replTimeout):
		r.fail("spindle debug did not exit")
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	}
	r.fail("spindle debug: %v", r.err)
	return -1
}

// cpuTicks is the CPU time the command has used, in clock ticks (10ms), from Linux's /proc.
func (r *repl) cpuTicks() int {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(r.cmd.Process.Pid), "stat"))
	if err != nil {
		r.fail("%v", err)
	}
	// Fields after the command name, which is in parentheses: utime is field 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

// A lineMatcher matches when the screen's line at the cursor is want, with the cursor after it.
type lineMatcher struct {
	screen vt10x.Terminal
	want   string
}

func (m *lineMatcher) Match(any) bool {
	cur := m.screen.Cursor()
	return strings.TrimRight(screenLine(m.screen, cur.Y), " ") == strings.TrimRight(m.want, " ") && cur.X == len(m.want)
}

func (m *lineMatcher) Criteria() any { return m.want }

// A screenMatcher matches when the screen shows each of want, blanks aside (see expectScreen).
type screenMatcher struct {
	screen vt10x.Terminal
	want   []string
}

func (m *screenMatcher) Match(any) bool {
	var lines []string
	for line := range strings.Lines(screenText(m.screen)) {
		lines = append(lines, strings.Join(strings.Fields(line), " "))
	}
	s := strings.Join(lines, "\n")
	for _, w := range m.want {
		if !strings.Contains(s, strings.Join(strings.Fields(w), " ")) {
			return false
		}
	}
	return true
}

func (m *screenMatcher) Criteria() any { return m.want }

func screenLine(v vt10x.View, y int) string {
	cols, _ := v.Size()
	line := make([]rune, cols)
	for x := range line {
		line[x] = v.Cell(x, y).Char
	}
	return string(line)
}

// screenText is the screen's lines, without trailing blanks.
func screenText(v vt10x.View) string {
	_, rows := v.Size()
	var b strings.Builder
	for y := range rows {
		b.WriteString(strings.TrimRight(screenLine(v, y), " "))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// replDir makes a directory with programs/fib.s and spin.s in it.
func replDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	fib, err := os.ReadFile("../programs/fib.s")
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string][]byte{"fib.s": fib, "spin.s": []byte(spinSource)} {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestREPL(t *testing.T) {
	dir := replDir(t)

	t.Run("help", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "fib.s")
		if banner := "fib.s: stopped before its first instruction; help lists the commands."; !strings.Contains(r.out.String(), banner) {
			r.fail("no banner %q", banner)
		}
		r.command("help", "list the commands, or explain one")
		r.command("help stepi", "execute one instruction, or N")
		r.quit(0)
	})

	t.Run("completion", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "fib.s")
		r.send("brea" + keyTab)
		r.expectLine(prompt + "break ")
		// fib and fib.base begin with fi: Tab completes what they share.
		r.send("fi" + keyTab)
		r.expectLine(prompt + "break fib")
		r.command("", "Breakpoint 1 at 0x400000 <fib> at fib.s:19")
		r.send("tbreak fib.b" + keyTab)
		r.expectLine(prompt + "tbreak fib.base ")
		r.command("", "Temporary breakpoint 2 at 0x40003c <fib.base> at fib.s:33")

		// A word that is whole already is one of the candidates; a file ends with a colon.
		r.send("list fib" + keyTab)
		r.expectLine(prompt + "list fib")
		r.send(keyTab)
		r.expectScreen("fib fib.base fib.s:")
		r.send("." + keyTab)
		r.expectLine(prompt + "list fib.")
		r.send("s" + keyTab)
		r.expectLine(prompt + "list fib.s:")
		r.command("19", "19\tfib:    li      t0, 2")
		r.send("break main" + keyTab + keyTab)
		r.expectScreen("main main.bad")
		r.send(keyEnter)
		r.expectLine(prompt + "break main ")
		r.command("", "Breakpoint 3 at 0x400040 <main> at fib.s:35")

		// help's argument is a command.
		r.send("help brea" + keyTab)
		r.expectLine(prompt + "help break ")
		r.command("", "stop before the instruction at LOCATION")

		// info's argument is what it shows.
		r.send("info brea" + keyTab)
		r.expectLine(prompt + "info breakpoints ")
		r.command("", "Num  Type")

		// A command's name may have a '-' in it: Tab completes what the reverse commands
		// share, and the next lists them.
		r.send("rev" + keyTab)
		r.expectLine(prompt + "reverse-")
		r.send(keyTab)
		r.expectScreen("reverse-stepi reverse-step reverse-next reverse-finish reverse-continue")
		r.send("co" + keyTab)
		r.expectLine(prompt + "reverse-continue ")
		r.command("", "[no breakpoint, watchpoint, catchpoint or trap before: back at the start]")

		// catch's arguments, and the syscalls by name.
		r.send("catch sy" + keyTab)
		r.expectLine(prompt + "catch syscall ")
		r.send("print_i" + keyTab)
		r.expectLine(prompt + "catch syscall print_int ")
		r.command("", "Catchpoint 4 (syscall print_int)")

		// Several registers begin with s: the first Tab lists them, the second selects the
		// first, and Enter takes it.
		r.send("p s" + keyTab)
		r.expectScreen("s0 s1 s2 s3 sp")
		r.send(keyTab + keyEnter)
		r.expectLine(prompt + "p s0 ")
		r.command("", "s0 = 0")
		r.quit(0)
	})

	t.Run("enter repeats", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "spin.s")
		r.command("stepi", "thread 1.1  0x400004 <main.loop> at spin.s:3")
		r.command("", "thread 1.1  0x400008 <main.loop+4> at spin.s:4")
		r.command("", "thread 1.1  0x400004 <main.loop> at spin.s:3")
		r.command("info registers pc", "pc   0x400004 <main.loop> at spin.s:3")
		// An empty line after a command that is not a step does nothing.
		r.send(keyEnter)
		r.expect(prompt)
		r.command("print t0", "t0 = 1")
		r.quit(0)
	})

	t.Run("commands prompt", func(t *testing.T) {
		// The lines of a commands list are asked for with gdb's "> ", up to end.
		r := startREPL(t, t.TempDir(), dir, "spin.s")
		r.command("break main.loop", "Breakpoint 1 at 0x400004 <main.loop> at spin.s:3")
		r.send("commands" + keyEnter)
		r.expectLine("> ")
		r.send("silent" + keyEnter)
		r.expectLine("> ")
		r.send(`printf "t0 = %d\n", t0` + keyEnter)
		r.expectLine("> ")
		r.send("end" + keyEnter)
		r.expectLine(prompt)
		r.command("continue", "t0 = 0")
		r.quit(0)
	})

	t.Run("history", func(t *testing.T) {
		home := t.TempDir()
		r := startREPL(t, home, dir, "spin.s")
		r.command("stepi", "0x400004 <main.loop>")
		r.command("info registers pc", "pc   0x400004 <main.loop> at spin.s:3")
		r.quit(0)
		b, err := os.ReadFile(filepath.Join(home, ".spindle_history"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), "stepi\ninfo registers pc\n"; got != want {
			t.Errorf("~/.spindle_history holds %q, want %q", got, want)
		}

		r = startREPL(t, home, dir, "spin.s")
		r.send(keyUp)
		r.expectLine(prompt + "info registers pc")
		r.send(keyUp)
		r.expectLine(prompt + "stepi")
		r.command("", "0x400004 <main.loop>")
		r.send(keyUp)
		r.expectLine(prompt + "stepi")
		r.send(keyUp)
		r.expectLine(prompt + "info registers pc")
		r.command("", "pc   0x400004 <main.loop> at spin.s:3")
		r.quit(0)
	})

	t.Run("ctrl-c pauses", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "spin.s")
		before := r.cpuTicks()
		r.send("continue" + keyEnter)
		r.expect("continue")
		// Once the command has spun for 100ms, it runs the program, with the terminal out
		// of raw mode: Ctrl-C is a signal now, not a key for readline.
		deadline := time.Now().Add(replTimeout)
		for r.cpuTicks() < before+10 {
			if time.Now().After(deadline) {
				r.fail("continue did not run the program")
			}
			time.Sleep(10 * time.Millisecond)
		}
		r.send(keyCtrlC)
		r.expect("Paused.")
		r.expect(prompt)
		r.command("info registers pc", "pc   0x40000")
		r.command("stepi", "thread 1.1  0x40000")
		r.quit(0)
	})

	t.Run("ctrl-c at the prompt", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "spin.s")
		r.send("stepi 5")
		r.expectLine(prompt + "stepi 5")
		r.send(keyCtrlC)
		r.expect("^C")
		r.expectLine(prompt)
		// The line typed before Ctrl-C is gone, and nothing ran.
		r.command("info registers pc", "pc   0x400000 <main> at spin.s:2")
		r.send(keyCtrlC)
		r.expect("^C")
		r.expectLine(prompt)
		r.quit(0)
	})

	t.Run("program input", func(t *testing.T) {
		home := t.TempDir()
		r := startREPL(t, home, dir, "fib.s")
		r.send("continue" + keyEnter)
		r.expect("[the program reads its input, and none is waiting: type a line, or end it with Ctrl-D]")
		r.expectLine("input> ")
		// Ctrl-C returns to the debugger's prompt, with the program held at its read: the
		// line typed is dropped, and the input has not ended.
		r.send("3" + keyCtrlC)
		r.expect("^C")
		r.expect("Paused while thread 1.1 waits for input, with none read")
		r.expect("thread 1.1  0x400040 <main> at fib.s:35")
		r.expectLine(prompt)
		r.command("info registers pc", "pc   0x400040 <main> at fib.s:35")
		// The next command that runs the program asks again.
		r.send("continue" + keyEnter)
		r.expect("[the program reads its input, and none is waiting: type a line, or end it with Ctrl-D]")
		r.expectLine("input> ")
		r.send("10" + keyEnter)
		r.expect("55")
		r.expect("[the program exited with status 0 after ")
		r.expect(prompt)
		// The program's input is not a command: Up recalls the command before it.
		r.send(keyUp)
		r.expectLine(prompt + "continue")
		r.send(keyCtrlC)
		r.expect(prompt)
		r.quit(0)
		b, err := os.ReadFile(filepath.Join(home, ".spindle_history"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), "continue\ninfo registers pc\ncontinue\n"; got != want {
			t.Errorf("~/.spindle_history holds %q, want %q", got, want)
		}
	})

	t.Run("ctrl-d quits with the program's status", func(t *testing.T) {
		r := startREPL(t, t.TempDir(), dir, "fib.s")
		r.send("continue" + keyEnter)
		r.expectLine("input> ")
		r.send("ten" + keyEnter)
		r.expect("fib: expected an integer on stdin")
		r.expect("[the program exited with status 1 after ")
		r.expect(prompt)
		r.quit(1) // the program's
	})
}

// TestREPLColour: on a terminal the debugger colours where a thread is, unless NO_COLOR is set.
func TestREPLColour(t *testing.T) {
	dir := replDir(t)
	r := startREPL(t, t.TempDir(), dir, "fib.s")
	r.command("frame", "\x1b[1mthread 1.1  0x400040 <main> at fib.s:35\x1b[0m")
	r.quit(0)

	t.Setenv("NO_COLOR", "1")
	r = startREPL(t, t.TempDir(), dir, "fib.s")
	r.command("frame", "thread 1.1  0x400040 <main> at fib.s:35")
	if strings.Contains(r.out.String(), "\x1b[1mthread") {
		r.fail("colour with NO_COLOR set")
	}
	r.quit(0)
}
