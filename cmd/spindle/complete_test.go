package main

import (
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/debugger"
)

// completeSession starts a session on the program at path, and runs commands in it.
func completeSession(t *testing.T, path string, commands ...string) completer {
	t.Helper()
	img, code := loadProgram(path, stdio{strings.NewReader(""), io.Discard, io.Discard})
	if img == nil {
		t.Fatalf("%s did not load (status %d)", path, code)
	}
	opts := addRunFlags(flag.NewFlagSet("debug", flag.ContinueOnError)).options()
	s, err := debugger.New(debugger.Config{Image: img, Options: opts, Program: path}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if err := s.Exec(c); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	return completer{s}
}

// candidates are what Tab offers at the end of line: the whole words, each with what follows
// it.
func (c completer) candidates(line string) []string {
	r := []rune(line)
	suffixes, n := c.Do(r, len(r))
	word := string(r[len(r)-n:])
	var out []string
	for _, s := range suffixes {
		out = append(out, word+string(s))
	}
	return out
}

func TestComplete(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"save.rec", "sample.txt", ".hidden", "sub/inner.rec"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"fib.s", "threads/hello.s"} {
		b, err := os.ReadFile(filepath.Join("../../programs", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	fib := completeSession(t, "fib.s")
	// hello.s at its joins: the main thread and four workers.
	threads := completeSession(t, "hello.s", "break main.join", "continue")

	reverse := []string{"reverse-stepi ", "reverse-step ", "reverse-next ", "reverse-finish ", "reverse-continue "}
	for _, tc := range []struct {
		c    completer
		line string
		want []string
	}{
		// The first word is a command's name, '-' and all.
		{fib, "", commandsThen(" ")},
		{fib, "rev", reverse},
		{fib, "reverse-", reverse},
		{fib, "reverse-f", []string{"reverse-finish "}},
		{fib, "  brea", []string{"break "}},
		{fib, "help rev", reverse},
		{fib, "help break ", nil},

		// Locations: labels and files; break also switch; *ADDR is an expression.
		{fib, "break fi", []string{"fib ", "fib.base ", "fib.s:"}},
		{fib, "b s", []string{"switch "}},
		{fib, "break switch ", []string{"to "}},
		{fib, "break fib ", []string{"if "}},
		{fib, "break fib if a0 == fi", []string{"fib ", "fib.base "}},
		{fib, "break *fib.b", []string{"fib.base "}},
		{fib, "tbreak s", nil},
		{fib, "until m", []string{"main ", "main.bad "}},
		{fib, "adv m", []string{"main ", "main.bad "}},
		{fib, "list fib.", []string{"fib.base ", "fib.s:"}},
		{fib, "clear fib.s", []string{"fib.s:"}},
		{fib, "disasm ma", []string{"main ", "main.bad "}},
		{fib, "info line fib.", []string{"fib.base ", "fib.s:"}},
		{fib, "list fib ", nil},

		// Expressions: registers and labels, after an operator too.
		{fib, "print s", []string{"s0 ", "s1 ", "s2 ", "s3 ", "sp "}},
		{fib, "p/x a0+fib.", []string{"fib.base "}},
		{fib, "print *(fib", []string{"fib ", "fib.base "}},
		{fib, "x/4xg usa", []string{"usage ", "usage_end "}},
		{fib, "display p", []string{"pc "}},
		{fib, "watch $t", []string{"t0 ", "t1 ", "t2 ", "t3 "}},
		{fib, "condition 1 a0 < ma", []string{"main ", "main.bad "}},

		// set: scheduler-locking, a register or *ADDR, then an expression.
		{fib, "set sch", []string{"scheduler-locking "}},
		{fib, "set scheduler-locking ", []string{"on ", "off "}},
		{fib, "set s", []string{"scheduler-locking ", "s0 ", "s1 ", "s2 ", "s3 ", "sp "}},
		{fib, "set *fib.", []string{"fib.base "}},
		{fib, "set t0 = fib.", []string{"fib.base "}},
		{fib, "set t0=fib.", []string{"fib.base "}},
		{fib, "set fi", nil},

		// catch and trace.
		{fib, "catch ", []string{"syscall ", "trap "}},
		{fib, "catch syscall print_", []string{"print_int "}},
		{fib, "catch syscall thread_", []string{"thread_spawn ", "thread_exit ", "thread_join "}},
		{fib, "catch trap ", nil},
		{fib, "trace ", []string{"switches "}},
		{fib, "trace switches o", []string{"on ", "off "}},
		{fib, "trace switches on ", nil},

		// record save, and only it, completes host paths.
		{fib, "record s", []string{"save "}},
		{fib, "record save s", []string{"sample.txt ", "save.rec ", "sub/"}},
		{fib, "record save sub/", []string{"sub/inner.rec "}},
		{fib, "record save .", []string{".hidden "}},
		{fib, "record save x.rec ", nil},
		{fib, "print sa", nil},

		// info: its topics, by a unique prefix too.
		{fib, "info brea", []string{"breakpoints "}},
		{fib, "i r p", []string{"pc "}},
		{fib, "info symbols ", nil},

		// Threads, as PID.TID and TID.
		{threads, "thread ", []string{"apply ", "1 ", "2 ", "3 ", "4 ", "5 ", "1.1 ", "1.2 ", "1.3 ", "1.4 ", "1.5 "}},
		{threads, "thread apply a", []string{"all ", "advance "}},
		{threads, "thread apply all ba", []string{"backtrace "}},
		{threads, "thread apply 1.2 1.", []string{"1.1 ", "1.2 ", "1.3 ", "1.4 ", "1.5 "}},
		{threads, "t 1.", []string{"1.1 ", "1.2 ", "1.3 ", "1.4 ", "1.5 "}},
		{threads, "bt 3", []string{"3 "}},
		{threads, "info registers 1", []string{"1 ", "1.1 ", "1.2 ", "1.3 ", "1.4 ", "1.5 "}},
		{threads, "info registers a", []string{"a0 ", "a1 ", "a2 ", "a3 ", "a4 ", "a5 "}},
		{threads, "info registers a0 s", []string{"s0 ", "s1 ", "s2 ", "s3 ", "sp "}},

		// Commands whose arguments are counts and numbers offer nothing, and neither do
		// words that no command takes.
		{fib, "stepi ", nil},
		{fib, "continue s", nil},
		{fib, "delete ", nil},
		{fib, "nosuch s", nil},
		{fib, "s s", nil}, // s is step's alias
		{fib, "print a0 # fi", nil},
		{fib, "# fi", nil},
	} {
		got := tc.c.candidates(tc.line)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Tab after %q (-want +got):\n%s", tc.line, diff)
		}
	}
}

// commandsThen is every command's name followed by end.
func commandsThen(end string) []string {
	var out []string
	for _, name := range debugger.CommandNames() {
		out = append(out, name+end)
	}
	return out
}

// TestCompleteEveryCommand: argSyntax says what every command's arguments complete to.
func TestCompleteEveryCommand(t *testing.T) {
	names := debugger.CommandNames()
	for _, name := range names {
		if _, ok := argSyntax[name]; !ok {
			t.Errorf("argSyntax has no entry for %s", name)
		}
	}
	for name := range maps.Keys(argSyntax) {
		if !slices.Contains(names, name) {
			t.Errorf("argSyntax has %s, which is no command", name)
		}
	}
}
