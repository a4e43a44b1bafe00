package debugger

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// TestPauseBetweenCommands: a Ctrl-C that comes while no command runs the program does not
// pause the next command's run.
func TestPauseBetweenCommands(t *testing.T) {
	img := assembleText(t, "spin.s", "main: li t0, 0\n.loop: inc t0\n j .loop\n")
	s, err := New(Config{Image: img, Options: testOptions()}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "print t0")
	s.Pause()
	exec(t, s, "stepi 1000")
	if got := s.m.Steps(); got != 1000 {
		t.Fatalf("stepi 1000 came to step %d: the pause from before it stopped it", got)
	}
}

// TestReloadEdited: reload after the file was edited assembles it again and starts over; a
// breakpoint at FILE:LINE follows its line's new address, one at a label that is gone is
// disabled with a word, and the rest stay as they were.
func TestReloadEdited(t *testing.T) {
	const before = `main:   li      a0, 1       # 1
        call    f           # 2
        li      a0, 0       # 3
        ret                 # 4
f:      addi    a0, a0, 1   # 5
.gone:  ret                 # 6
`
	// A comment line before f, two instructions more in it, and its local label renamed: line 6
	// is now f's first instruction, one instruction earlier than f.gone was.
	const after = `main:   li      a0, 1       # 1
        call    f           # 2
        li      a0, 0       # 3
        ret                 # 4
# f adds 3 now                5
f:      addi    a0, a0, 1   # 6
        addi    a0, a0, 1   # 7
        addi    a0, a0, 1   # 8
.kept:  ret                 # 9
`
	src := before
	cfg := Config{Image: assembleText(t, "p.s", src), Options: testOptions()}
	cfg.Reload = func() (*object.Image, error) { return asm.Assemble("p.s", []byte(src), nil) }
	var out bytes.Buffer
	s, err := New(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "break p.s:6") // f.gone before the edit; the second addi after it
	exec(t, s, "break f.gone")
	exec(t, s, "break f")
	exec(t, s, "stepi 3")
	src = after
	out.Reset()
	exec(t, s, "reload")
	if s.m.Steps() != 0 {
		t.Errorf("after reload the machine is at step %d, not at the start", s.m.Steps())
	}
	img := s.img
	bps := map[int]*breakpoint{}
	for _, b := range s.bps {
		bps[b.id] = b
	}
	line6 := symbol(t, img, "f")
	if b := bps[1]; b == nil || !b.enabled || b.addr != line6 {
		t.Errorf("break p.s:6 after reload: %+v; want it at line 6 of the new text, %#x", b, line6)
	}
	if b := bps[2]; b == nil || b.enabled {
		t.Errorf("break f.gone after reload: %+v; want it disabled", b)
	}
	if !strings.Contains(out.String(), "breakpoint 2 (f.gone) is disabled") {
		t.Errorf("reload said %q; want it to say that breakpoint 2 is disabled", out.String())
	}
	if b := bps[3]; b == nil || !b.enabled || b.addr != symbol(t, img, "f") {
		t.Errorf("break f after reload: %+v; want it at f", b)
	}
	exec(t, s, "continue")
	if s.stop.Kind != vm.StopBreakpoint || s.stop.PC != line6 || s.cur.R[isa.A0] != 1 {
		t.Errorf("continue stopped at %+v with a0 = %d; want the breakpoints at line 6, f, with a0 = 1", s.stop, s.cur.R[isa.A0])
	}
}

// TestTranscriptLines: what the session says starts on a line of its own, even after output of
// the program that left its line open; the program's output itself is shown as it was written.
func TestTranscriptLines(t *testing.T) {
	img := assembleText(t, "p.s", "main: li a0, 42\n syscall print_int\n li a0, 10\n syscall putc\n ret\n")
	var out bytes.Buffer
	s, err := New(Config{Image: img, Options: testOptions()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "stepi 2")
	exec(t, s, "stepi 2")
	want := "42\nthread 1.1  0x400008 <main+8> at p.s:3\n" +
		"     3\t li a0, 10\n" +
		"\nthread 1.1  0x400010 <main+16> at p.s:5\n"
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("the transcript is\n%q\nwant it to begin\n%q", out.String(), want)
	}
}

// TestReloadKept: reload keeps trace switches on, and a program that no longer assembles
// leaves the session as it was, able to go back as before.
func TestReloadKept(t *testing.T) {
	img := assembleFile(t, "threads/race.s", "100_000", "300")
	fail := false
	cfg := Config{Image: img, Options: testOptions()}
	cfg.Reload = func() (*object.Image, error) {
		if fail {
			// It assembles, but does not load: the session has begun to load it.
			bad := *img
			bad.Entry = 0x10
			return &bad, nil
		}
		return img, nil
	}
	var out bytes.Buffer
	s, err := New(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "trace switches on")
	exec(t, s, "reload")
	out.Reset()
	exec(t, s, "stepi 100")
	if !strings.Contains(out.String(), "[switch at step ") {
		t.Errorf("after reload, trace switches on shows no switch in 100 steps of race.s:\n%s", out.String())
	}
	exec(t, s, "break worker")
	want := stateOf(s.m)
	fail = true
	if err := s.Exec("reload"); err == nil || !strings.Contains(err.Error(), "the session goes on with the program as it was") {
		t.Fatalf("reload of a program that does not load: %v", err)
	}
	if diff := cmp.Diff(want, stateOf(s.m)); diff != "" {
		t.Fatalf("a failed reload changed the state (-before +after):\n%s", diff)
	}
	if s.breakpoint(1) == nil {
		t.Error("a failed reload lost breakpoint 1")
	}
	exec(t, s, "reverse-stepi 50")
	if s.m.Steps() != 50 {
		t.Errorf("reverse-stepi 50 after a failed reload came to step %d, want 50", s.m.Steps())
	}
}

func TestStripComment(t *testing.T) {
	for in, want := range map[string]string{
		"# all of it":              "",
		"break fib   # stop there": "break fib",
		"print '#'":                "print '#'",
		"print '#' # the char":     "print '#'",
		`print "a # b" # a string`: `print "a # b"`,
		`print "\" # still in it"`: `print "\" # still in it"`,
		"print a0#not a comment":   "print a0#not a comment",
		"delete\t# all":            "delete",
	} {
		if got := stripComment(in); got != want {
			t.Errorf("stripComment(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEmptyLineRepeats: at the prompt an empty line repeats a step, and after list it lists on.
func TestEmptyLineRepeats(t *testing.T) {
	var out bytes.Buffer
	s, err := New(Config{Image: assembleFile(t, "fib.s"), Options: testOptions(), Stdin: []byte("5\n")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "stepi")
	exec(t, s, "")
	if s.m.Steps() != 2 {
		t.Errorf("stepi then an empty line: at step %d, want 2", s.m.Steps())
	}
	exec(t, s, "list 1,3")
	out.Reset()
	exec(t, s, "")
	if got := out.String(); !strings.HasPrefix(got, "     4\t") {
		t.Errorf("an empty line after list 1,3 showed\n%s\nwant the lines from 4 on", got)
	}
}

// TestBreakpointCounts: a crossing that ignore goes past counts as a hit, as gdb counts it, and
// continue N says how many it will go past, in words that fit the count.
func TestBreakpointCounts(t *testing.T) {
	var out bytes.Buffer
	s, err := New(Config{Image: assembleFile(t, "fib.s"), Options: testOptions(), Stdin: []byte("5\n")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "break fib")
	exec(t, s, "ignore 1 2")
	exec(t, s, "continue") // past two, stops at the third
	if b := s.breakpoint(1); b == nil || b.hits != 3 {
		t.Fatalf("breakpoint 1 after ignore 1 2 and a continue: %+v; want 3 hits", b)
	}
	out.Reset()
	exec(t, s, "continue 2")
	if got, want := out.String(), "Will ignore the next crossing of breakpoint 1.\n"; !strings.HasPrefix(got, want) {
		t.Errorf("continue 2 said %q, want it to begin %q", got, want)
	}
	out.Reset()
	exec(t, s, "break fib")
	if !strings.Contains(out.String(), "Note: breakpoint 1 is also at 0x400000 <fib>") {
		t.Errorf("a second breakpoint at fib said %q, want a note that breakpoint 1 is there", out.String())
	}
	if err := s.Exec("sched now"); err == nil || !strings.Contains(err.Error(), "sched takes no argument") {
		t.Errorf("sched with an argument: %v, want that it takes none", err)
	}
}

// TestReloadWatchAndLocal: after reload, a watchpoint watches the new machine's memory, a
// breakpoint at a label local to the function it was made in stays there, and a record is
// refused, since the history is of two programs.
func TestReloadWatchAndLocal(t *testing.T) {
	const src = `        .data
count:  .quad   0
        .text
main:   call    f
        la      t0, count
        li      t1, 7
        sd      t1, 0(t0)
        li      a0, 0
        ret
f:      li      t0, 3
.loop:  dec     t0
        bnez    t0, .loop
        ret
`
	img := assembleText(t, "p.s", src)
	cfg := Config{Image: img, Options: testOptions(), Program: "p.s"}
	cfg.Reload = func() (*object.Image, error) { return assembleText(t, "p.s", src), nil }
	cfg.Save = func(string, []byte) error { return nil }
	var out bytes.Buffer
	s, err := New(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"break f", "run", "break .loop", "watch count", "reload", "delete 1"} {
		exec(t, s, c)
	}
	if b := s.breakpoint(2); b == nil || b.spec != "f.loop" || b.addr != symbol(t, s.img, "f.loop") {
		t.Errorf("break .loop after reload: %+v; want it at f.loop", b)
	}
	exec(t, s, "delete 2")
	exec(t, s, "continue")
	if s.stop.Kind != vm.StopWatchpoint {
		t.Errorf("continue after reload stopped at %+v, want the watchpoint on count", s.stop)
	}
	if err := s.Exec("record save r.json"); err == nil || !strings.Contains(err.Error(), "reloaded") {
		t.Errorf("record after reload: %v, want a refusal", err)
	}
}
