package debugger

import (
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/vm"
)

// TestStepOntoABreakpointIsAHit: a step that ends where a thread is about to execute a
// breakpoint's instruction comes to the breakpoint: the run after it goes past it, so the hit
// is counted there, or never. Its hit's number is its place in the run however the run came
// to it (stepi or continue), and a log point there prints.
func TestStepOntoABreakpointIsAHit(t *testing.T) {
	s, out := countSession(t)
	exec(t, s, "break main.loop")
	exec(t, s, "condition -hitcount 1 == 3")
	exec(t, s, "stepi 3") // li, li, la: at main.loop, its first hit (t0 = 0)
	if got := value(t, s, "pc"); got != s.breakpoint(1).addr {
		t.Fatalf("stepi 3 came to %#x; want main.loop", got)
	}
	exec(t, s, "continue")
	if got := value(t, s, "t0"); got != 2 {
		t.Errorf("stepi onto hit 1, then continue with == 3: stopped at t0 = %d; want 2, the third hit", got)
	}

	// A breakpoint that stops: the step stops there, as at the breakpoint.
	exec(t, s, "condition -hitcount 1")
	exec(t, s, "stepi 3") // the addi, sd, blt of t0 = 2: at main.loop again
	if _, ids := s.Stopped(); len(ids) != 1 || ids[0] != 1 {
		t.Errorf("stepi onto breakpoint 1: the stop is one of breakpoints %v; want [1]", ids)
	}
	if b := s.breakpoint(1); b.hits != 4 {
		t.Errorf("breakpoint 1 already hit %d times; want 4 (3 before, and the one stepped onto)", b.hits)
	}

	// A log point prints when a step comes to it.
	exec(t, s, `condition -log 1 "t0 = {t0}"`)
	out.Reset()
	exec(t, s, "stepi 3")
	if !strings.Contains(out.String(), "t0 = 4\n") {
		t.Errorf("stepi onto log point 1 printed\n%s\nwant t0 = 4", out)
	}
	out.Reset()
	exec(t, s, "next")
	exec(t, s, "next")
	exec(t, s, "next")
	if !strings.Contains(out.String(), "t0 = 5\n") {
		t.Errorf("next onto log point 1 printed\n%s\nwant t0 = 5", out)
	}
}

// TestHitConditionGivenAtItsStop: a hit condition given while the program is stopped at one of
// its breakpoint's hits counts the hits after that one ("from there"), forward, and again
// after going back to before it and forward over it.
func TestHitConditionGivenAtItsStop(t *testing.T) {
	s, _ := countSession(t)
	exec(t, s, "break main.loop")
	for range 3 {
		exec(t, s, "continue") // to hit 3, t0 = 2
	}
	if got := value(t, s, "t0"); got != 2 {
		t.Fatalf("three continues stopped at t0 = %d; want 2", got)
	}
	exec(t, s, "condition -hitcount 1 == 2")
	exec(t, s, "continue")
	if got := value(t, s, "t0"); got != 4 {
		t.Fatalf("== 2 given at t0 = 2: stopped at t0 = %d; want 4, the second hit after it", got)
	}
	exec(t, s, "reverse-stepi 20") // before the hit at which it was given
	exec(t, s, "continue")
	if got := value(t, s, "t0"); got != 4 {
		t.Errorf("back before where == 2 was given, and on: stopped at t0 = %d; want 4 again", got)
	}
	var buf strings.Builder
	s.out = &buf
	exec(t, s, "info breakpoints")
	if want := "numbered == 2 (2 up to here)"; !strings.Contains(buf.String(), want) {
		t.Errorf("info breakpoints:\n%s\nwant %s", buf.String(), want)
	}
}

// TestRelaunchStartsANewRun: after Relaunch (and reload), the run of the program before is
// gone: its end, and how far it went, are not the new run's.
func TestRelaunchStartsANewRun(t *testing.T) {
	s, out := countSession(t)
	exec(t, s, "continue")
	if _, ended := s.Ended(); !ended {
		t.Fatal("continue did not end the run")
	}
	if err := s.Relaunch(s.cfg); err != nil {
		t.Fatal(err)
	}
	if end, ended := s.Ended(); ended {
		t.Errorf("relaunched, the session says the run ended (%v)", end)
	}
	out.Reset()
	exec(t, s, "thread 1")
	exec(t, s, "stepi")
	exec(t, s, "set t0 = 7")
	for _, stale := range []string{"the run goes another way", "a change in the past"} {
		if strings.Contains(out.String(), stale) {
			t.Errorf("a step and a set at the furthest point of the new run say\n%s", out)
		}
	}
}

// TestRelaunchFindsABreakpointAgain: a breakpoint that a relaunch disabled, its program not
// having its place, is enabled again by a relaunch whose program has it; one that the user
// disabled stays disabled.
func TestRelaunchFindsABreakpointAgain(t *testing.T) {
	s, out := countSession(t)
	cfg := s.cfg
	exec(t, s, "break count.s:8")
	exec(t, s, "break main.loop")
	exec(t, s, "disable 2")
	other := cfg
	other.Image = assembleText(t, "other.s", "main:   li a0, 0\n        ret\n")
	if err := s.Relaunch(other); err != nil {
		t.Fatal(err)
	}
	if b := s.breakpoint(1); b.enabled {
		t.Fatal("breakpoint 1 at count.s:8 is enabled in other.s")
	}
	// Its address is of count.s: enabled in other.s, it would stop wherever that is.
	if err := s.Exec("enable 1"); err == nil || !strings.Contains(err.Error(), "has no place in the program") {
		t.Errorf("enable 1 in other.s: %v; want an error", err)
	}
	if err := s.Relaunch(cfg); err != nil {
		t.Fatal(err)
	}
	if b := s.breakpoint(1); !b.enabled {
		t.Errorf("relaunched with count.s again, breakpoint 1 at count.s:8 is still disabled:\n%s", out)
	}
	if b := s.breakpoint(2); b.enabled {
		t.Errorf("breakpoint 2, which the user disabled, was enabled by a relaunch")
	}
	exec(t, s, "continue")
	if _, ids := s.Stopped(); len(ids) != 1 || ids[0] != 1 {
		t.Errorf("continue stopped at breakpoints %v; want [1]", ids)
	}
}

// TestDisabledHitsCount: a breakpoint with a hit condition goes on counting the hits of the run
// while it is disabled, without stopping: == 5 is the same place of the run whether it was
// disabled on the way there or not, as after run. Its "already hit" count is of the hits seen
// while enabled, as gdb's is, and a disabled one with no hit condition counts nothing.
func TestDisabledHitsCount(t *testing.T) {
	s, out := countSession(t)
	exec(t, s, "break main.loop")
	exec(t, s, "condition -hitcount 1 == 5")
	exec(t, s, "disable 1")
	exec(t, s, "break count.s:8") // the sd: one hit a pass, after main.loop's
	for range 3 {
		exec(t, s, "continue")
	}
	if got := value(t, s, "t0"); got != 3 {
		t.Fatalf("three continues to breakpoint 2 came to t0 = %d; want 3", got)
	}
	exec(t, s, "delete 2")
	exec(t, s, "enable 1")
	exec(t, s, "continue")
	if got := value(t, s, "t0"); got != 4 || s.stop.Kind != vm.StopBreakpoint {
		t.Errorf("enable 1, continue: stopped (%v) at t0 = %d; want hit 5 of main.loop, t0 = 4:\n%s", s.stop.Kind, got, out)
	}
	if b := s.breakpoint(1); b.hits != 2 {
		t.Errorf("breakpoint 1 already hit %d times; want 2 (hits 4 and 5, seen while enabled)", b.hits)
	}
	exec(t, s, "run")
	if got := value(t, s, "t0"); got != 4 {
		t.Errorf("run: stopped at t0 = %d; want 4, the same hit 5", got)
	}

	// Disabled over hit 5, it does not stop there, and == 5 is behind.
	exec(t, s, "run")
	exec(t, s, "disable 1")
	exec(t, s, "reverse-stepi")
	exec(t, s, "continue")
	if s.ended == nil {
		t.Errorf("disabled over hit 5, continue stopped (%v) at t0 = %d; want the end", s.stop.Kind, value(t, s, "t0"))
	}
}
