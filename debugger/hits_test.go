package debugger

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/vm"
)

// countSrc counts to 50,000 in t0, storing each count in counter: main.loop's hit N has
// t0 = N-1, and the run is 150,000 steps, over several checkpoints.
const countSrc = `        .data
counter: .quad  0
        .text
main:   li      t0, 0
        li      t2, 50000
        la      t1, counter
.loop:  addi    t0, t0, 1
        sd      t0, 0(t1)
        blt     t0, t2, .loop
        li      a0, 0
        ret
`

func countSession(t *testing.T) (*Session, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s, err := New(Config{Image: assembleText(t, "count.s", countSrc), Options: testOptions()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return s, &out
}

// value evaluates expr in the session's current thread.
func value(t *testing.T, s *Session, expr string) uint64 {
	t.Helper()
	v, err := s.Eval(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestHitConditionIsAPlaceInTheRun: a hit condition counts the hits of the run, so that going
// back and forward again, or starting again, comes to the same hits; reverse-continue stops at
// the hits it accepts, and at no other; a hit condition changed keeps the count.
func TestHitConditionIsAPlaceInTheRun(t *testing.T) {
	s, out := countSession(t)
	exec(t, s, "break main.loop")
	exec(t, s, "condition -hitcount 1 == 5")
	// (where does the run stop, and at which value of t0: the hit's number less 1)
	at := func(what string, want uint64) {
		t.Helper()
		if got := value(t, s, "t0"); got != want || s.m.Steps() == 0 {
			t.Fatalf("%s: at step %d with t0 = %d; want t0 = %d", what, s.m.Steps(), got, want)
		}
	}
	exec(t, s, "continue")
	at("continue to hit == 5", 4)
	exec(t, s, "reverse-stepi")
	exec(t, s, "continue")
	at("back one step and on again: the fifth hit again, not a sixth", 4)
	_, ids := s.Stopped()
	if diff := cmp.Diff([]int{1}, ids); diff != "" {
		t.Errorf("the stop's breakpoints (-want +got):\n%s", diff)
	}

	exec(t, s, "condition -hitcount 1 % 3")
	exec(t, s, "continue")
	at("% 3 after hit 5: hit 6", 5)
	exec(t, s, "reverse-continue")
	at("reverse-continue: hit 3", 2)
	exec(t, s, "reverse-continue")
	if s.m.Steps() != 0 {
		t.Fatalf("reverse-continue before hit 3: at step %d, want the start", s.m.Steps())
	}
	exec(t, s, "continue")
	at("continue from the start: hit 3 again", 2)

	// Across the checkpoints: the 40,000th hit is at step 120,004 or so, and run starts the
	// count again from the start.
	exec(t, s, "condition -hitcount 1 == 40000")
	exec(t, s, "run")
	at("run with == 40000", 39999)
	first := s.m.Steps()
	out.Reset()
	exec(t, s, "info breakpoints")
	if want := "\tonly at the hits of the run numbered == 40000 (40000 up to here)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("info breakpoints:\n%s\nwant a line\n%s", out, want)
	}
	exec(t, s, "continue")
	if _, ended := s.AtEnd(); !ended {
		t.Fatalf("continue after the only hit == 40000 accepts: at step %d, want the end", s.m.Steps())
	}
	exec(t, s, "reverse-continue")
	at("reverse-continue from the end", 39999)
	if s.m.Steps() != first {
		t.Errorf("reverse-continue came to step %d; the forward run stopped at %d", s.m.Steps(), first)
	}
	exec(t, s, "reverse-stepi 1000")
	out.Reset()
	exec(t, s, "info breakpoints")
	if want := "numbered == 40000 (39666 up to here)"; !strings.Contains(out.String(), want) {
		t.Errorf("1000 steps back, info breakpoints:\n%s\nwant %s", out, want)
	}
	exec(t, s, "continue")
	at("on again from 1000 steps back", 39999)

	// Without its hit condition, it stops at every hit; given one again, it counts from here.
	exec(t, s, "condition -hitcount 1")
	exec(t, s, "continue")
	at("no hit condition", 40000)
	exec(t, s, "condition -hitcount 1 2")
	exec(t, s, "continue")
	at("2 given at hit 40001: the second hit from there", 40002)
}

// TestHitConditionForms: the forms of a hit condition, and the ones refused.
func TestHitConditionForms(t *testing.T) {
	for text, want := range map[string][]bool{ // holds at hits 1 to 6
		"3":    {false, false, true, true, true, true},
		">= 3": {false, false, true, true, true, true},
		"> 3":  {false, false, false, true, true, true},
		"==3":  {false, false, true, false, false, false},
		"!= 3": {true, true, false, true, true, true},
		"< 3":  {true, true, false, false, false, false},
		"<= 3": {true, true, true, false, false, false},
		"% 2":  {false, true, false, true, false, true},
		" %3 ": {false, false, true, false, false, true},
	} {
		h, err := parseHitCondition(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		var got []bool
		for n := 1; n <= 6; n++ {
			got = append(got, h.holds(n))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q at hits 1 to 6 (-want +got):\n%s", text, diff)
		}
	}
	const forms = "want N, >= N, > N, == N, != N, < N, <= N or % N, with N a count of hits (N alone is >= N; % N stops at every Nth hit)"
	for text, want := range map[string]string{
		"% 0":   `hit condition "% 0": % 0 divides by zero: % N stops at every Nth hit, N from 1`,
		"== 0":  `hit condition "== 0" never holds: the first hit is hit 1`,
		"< 1":   `hit condition "< 1" never holds: the first hit is hit 1`,
		"x":     `hit condition "x": ` + forms,
		"= 5":   `hit condition "= 5": ` + forms,
		">= -1": `hit condition ">= -1": ` + forms,
		"5 6":   `hit condition "5 6": ` + forms,
		"+5":    `hit condition "+5": ` + forms,
	} {
		if err := CheckHitCondition(text); err == nil || err.Error() != want {
			t.Errorf("%q: %v\nwant %s", text, err, want)
		}
	}

	s, _ := countSession(t)
	exec(t, s, "break main.loop")
	for line, want := range map[string]string{
		"condition -hitcount":         "condition -hitcount: N [HITCOND], such as condition -hitcount 1 >= 5 or condition -hitcount 1 % 2",
		"condition -hitcount 9 3":     "no breakpoint 9",
		"condition -hitcount 1 % 0":   `hit condition "% 0": % 0 divides by zero: % N stops at every Nth hit, N from 1`,
		"condition -log":              `condition -log: N ["MESSAGE"], such as condition -log 1 "counter is {*counter}"`,
		"condition -log 1 t0 is {t0}": `condition -log: the message is in double quotes: "t0 is {t0}"`,
		`condition -log 1 "t0`:        "condition -log: the message has no closing quote",
		`condition -log 1 "t0" t1`:    `condition -log: "t1" after the message's closing quote`,
		`condition -log 1 "{t0"`:      `log message "{t0": the { at 1 has no }: {EXPR} is the value of EXPR, and {{ a brace`,
		`condition -log 1 "t0}"`:      `log message "t0}": the } at 3 closes no {: }} is a brace`,
		`condition -log 1 "{ }"`:      `log message "{ }": {} has no expression: {EXPR} is the value of EXPR, and {{ a brace`,
	} {
		if err := s.Exec(line); err == nil || err.Error() != want {
			t.Errorf("%s: %v\nwant %s", line, err, want)
		}
	}
	if b := s.breakpoint(1); b.hitCond.set() || b.log != nil {
		t.Errorf("after the refusals, breakpoint 1 has a hit condition %v or a message %v", b.hitCond, b.log)
	}
	var out bytes.Buffer
	s.out = &out
	exec(t, s, "help condition")
	for _, want := range []string{"condition N [EXPR] | -hitcount N [HITCOND] | -log N [\"MESSAGE\"]\n", "\n  condition -hitcount N HITCOND: ", "\n  condition -log N \"MESSAGE\": "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help condition says\n%s\nwant %q in it", out.String(), want)
		}
	}
}

// TestLogPoints: a log point prints its message with the values of its expressions, and what is
// wrong with those that cannot be evaluated, and goes on; its condition and its hit condition
// still apply; going back, it neither stops nor prints.
func TestLogPoints(t *testing.T) {
	s, out := countSession(t)
	exec(t, s, "break main.loop if t0 < 5")
	exec(t, s, `condition -log 1 "#{t0}: {{counter}} = {*counter}, {t0 * 4}; {*0} {t0 +}\t# not a comment"`)
	exec(t, s, "condition -hitcount 1 % 2")
	out.Reset()
	exec(t, s, "info breakpoints")
	if want := "\tlog \"#{t0}: {{counter}} = {*counter}, {t0 * 4}; {*0} {t0 +}\\t# not a comment\", and go on\n"; !strings.Contains(out.String(), want) {
		t.Errorf("info breakpoints:\n%s\nwant a line\n%s", out, want)
	}
	out.Reset()
	exec(t, s, "continue")
	const bad = `<in "*0": 8-byte read at 0x0: not inside the memory of process 1, which is 0xfffc000 to 0x10000010> <in "t0 +": an operand is missing at the end>` + "\t# not a comment\n"
	want := "#1: {counter} = 1, 4; " + bad + "#3: {counter} = 3, 12 (0xc); " + bad
	if got, _, _ := strings.Cut(out.String(), "["); got != want {
		t.Errorf("continue over the log point printed\n%s\nwant\n%s", out, want)
	}
	if _, ended := s.AtEnd(); !ended {
		t.Fatalf("the log point stopped the run at step %d", s.m.Steps())
	}
	out.Reset()
	exec(t, s, "reverse-continue")
	if s.m.Steps() != 0 || strings.Contains(out.String(), "#") {
		t.Errorf("reverse-continue over the log point: at step %d, printed\n%s\nwant the start, and no message", s.m.Steps(), out)
	}
	exec(t, s, "condition -log 1")
	exec(t, s, "continue")
	if got := value(t, s, "t0"); got != 1 {
		t.Errorf("without its message, breakpoint 1 stops at t0 = %d; want 1 (hit 2)", got)
	}
}

// TestHitsWalkthrough keeps the example of docs/debugger.md's "Hit counts and log points"
// true: its script, and what the debugger prints for it.
func TestHitsWalkthrough(t *testing.T) {
	const script = `break fib
condition -log 1 "fib({a0}) returns to {*sp}"   # print, and go on
condition -hitcount 1 % 3                       # at every third call
break fib.s:33 if a0 == 1                       # a leaf of 1...
condition -hitcount 2 == 4                      # ...the fourth
run
reverse-continue                                # nothing stops before: the start
continue                                        # the same lines, the same stop
info breakpoints
`
	src, err := os.ReadFile(filepath.Join("..", "programs", "fib.s"))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Seed = 1
	var out bytes.Buffer
	s, err := New(Config{Image: assembleText(t, "fib.s", string(src)), Options: opts, Stdin: []byte("5\n")}, &out)
	if err != nil {
		t.Fatal(err)
	}
	s.Banner("fib.s")
	for _, line := range strings.Split(strings.TrimSuffix(script, "\n"), "\n") {
		exec(t, s, line)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "debugger.md"))
	if err != nil {
		t.Fatal(err)
	}
	for what, block := range map[string]string{"script": script, "transcript": out.String()} {
		if !strings.Contains(string(doc), "```\n"+block+"```\n") {
			t.Errorf("docs/debugger.md shows no %s that is\n%s", what, block)
		}
	}
}

// TestHitConditionAcrossThreads: the hits of race.s's store are counted across its two
// threads, as the run comes to them: % 7 stops at every seventh of the hits that a breakpoint
// without a hit condition stops at, whichever thread makes it, going forward and going back.
func TestHitConditionAcrossThreads(t *testing.T) {
	type stop struct {
		steps  uint64
		thread string
	}
	session := func(hit string) *Session {
		opts := testOptions()
		opts.Sched, opts.Seed, opts.Quantum = vm.SchedRandom, 1, 50
		s, err := New(Config{Image: assembleFile(t, "threads/race.s", "100_000", "300"), Options: opts}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		exec(t, s, "break worker.loop+8")
		if hit != "" {
			exec(t, s, "condition -hitcount 1 "+hit)
		}
		return s
	}
	// stops runs command until the end or the start, and returns where it stopped.
	stops := func(s *Session, command string) []stop {
		var got []stop
		for {
			exec(t, s, command)
			if _, ended := s.AtEnd(); ended || s.m.Steps() == 0 {
				return got
			}
			got = append(got, stop{s.m.Steps(), threadName(s.cur)})
		}
	}
	all := stops(session(""), "continue")
	var want []stop
	threads := map[string]bool{}
	for i := 6; i < len(all); i += 7 {
		want = append(want, all[i])
		threads[all[i].thread] = true
	}
	if len(all) != 600 || len(threads) != 2 {
		t.Fatalf("%d hits of the store, every seventh in %d threads; want 600, and both threads", len(all), len(threads))
	}
	s := session("% 7")
	if diff := cmp.Diff(want, stops(s, "continue"), cmp.AllowUnexported(stop{})); diff != "" {
		t.Errorf("continue with %% 7 (-want +got):\n%s", diff)
	}
	back := stops(s, "reverse-continue")
	slices.Reverse(back)
	if diff := cmp.Diff(want, back, cmp.AllowUnexported(stop{})); diff != "" {
		t.Errorf("reverse-continue with %% 7 from the end (-want +got):\n%s", diff)
	}
}
