package debugger

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/vm"
)

// spinSrc runs forever.
const spinSrc = `
main:   li      t0, 0
.loop:  addi    t0, t0, 1
        j       .loop
`

// TestTimeout: Config.Timeout pauses a command that runs the program. The state it pauses in
// is the one a plain run comes to in as many steps; a reverse command that it cuts short goes
// back to where it started; and from there, the run goes on and goes back as without it.
func TestTimeout(t *testing.T) {
	img := assembleText(t, "spin.s", spinSrc)
	var out bytes.Buffer
	s, err := New(Config{Image: img, Options: testOptions(), Timeout: 50 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(Config{Image: img, Options: testOptions()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// plainAt runs the session without a time limit to step k.
	plainAt := func(k uint64) state {
		t.Helper()
		exec(t, plain, "reset")
		for now := plain.m.Steps(); now < k; now = plain.m.Steps() {
			exec(t, plain, "stepi "+itoa(min(k-now, 1<<30)))
		}
		return stateOf(plain.m)
	}

	exec(t, s, "continue")
	if !s.TimedOut() || !strings.Contains(out.String(), "Paused: the command ran for 50ms of wall time (--timeout).") {
		t.Fatalf("continue was not paused by the time limit (TimedOut %v):\n%s", s.TimedOut(), out.String())
	}
	paused := s.m.Steps()
	if diff := cmp.Diff(plainAt(paused), stateOf(s.m)); diff != "" {
		t.Fatalf("paused at step %d in another state than a plain run's (-plain +paused):\n%s", paused, diff)
	}
	exec(t, s, "stepi 3")
	if s.TimedOut() || s.m.Steps() != paused+3 {
		t.Fatalf("stepi 3 after the pause: at step %d, want %d; TimedOut %v", s.m.Steps(), paused+3, s.TimedOut())
	}

	// Going back over the whole run without a stop takes longer than the limit: the command
	// ends where it started.
	s.cfg.Timeout = 0
	exec(t, s, "stepi 100000000")
	s.cfg.Timeout = 20 * time.Millisecond
	from := s.m.Steps()
	want := stateOf(s.m)
	out.Reset()
	exec(t, s, "reverse-continue")
	if !s.TimedOut() || !strings.Contains(out.String(), "reverse-continue did not finish: back where it started, at step "+itoa(from)) {
		t.Fatalf("reverse-continue was not paused by the time limit (TimedOut %v):\n%s", s.TimedOut(), out.String())
	}
	if diff := cmp.Diff(want, stateOf(s.m)); diff != "" {
		t.Fatalf("the paused reverse-continue did not come back to step %d (-before +after):\n%s", from, diff)
	}
	exec(t, s, "reverse-stepi")
	if diff := cmp.Diff(plainAt(from-1), stateOf(s.m)); diff != "" {
		t.Fatalf("reverse-stepi after the paused reverse-continue (-plain +session):\n%s", diff)
	}

	// A record of the session replays to the same state: the paused continue stops where it
	// was paused, and the reverse-continue that went back to where it started is not in it.
	rec, err := s.Record("spin.s")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"continue", "stepi 3", "stepi 100000000", "reverse-stepi"}; !slices.Equal(rec.Commands, want) {
		t.Fatalf("the record's commands are %q, want %q", rec.Commands, want)
	}
	if want := []PausedCommand{{Command: 0, Steps: paused}}; !slices.Equal(rec.Paused, want) {
		t.Fatalf("the record's paused commands are %+v, want %+v", rec.Paused, want)
	}
	// (A time limit, so that a replay that does not stop where the pause did fails, not hangs.)
	replayed, err := New(Config{Image: img, Options: testOptions(), Timeout: 5 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := replayed.Replay(rec); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stateOf(s.m), stateOf(replayed.m)); diff != "" {
		t.Fatalf("the replay is in another state than the recorded session (-recorded +replayed):\n%s", diff)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestCommandsListStops: a breakpoint's commands that run the program on and on (continue at
// a breakpoint in an endless loop) stop at the time limit of the command that began them, and
// at a Ctrl-C; a record of it replays to the same step.
func TestCommandsListStops(t *testing.T) {
	img := assembleText(t, "spin.s", spinSrc)
	for _, how := range []string{"timeout", "ctrl-c"} {
		t.Run(how, func(t *testing.T) {
			cfg := Config{Image: img, Options: testOptions()}
			if how == "timeout" {
				cfg.Timeout = 100 * time.Millisecond
			}
			var out bytes.Buffer
			s, err := New(cfg, &out)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"break main.loop", "commands", "silent", "continue", "end"} {
				exec(t, s, c)
			}
			if how == "ctrl-c" {
				time.AfterFunc(100*time.Millisecond, s.Pause)
			}
			done := make(chan error, 1)
			go func() { done <- s.Exec("run") }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("run with a commands list that continues did not stop")
			}
			if s.stop.Kind != vm.StopInterrupted {
				t.Fatalf("the list ended at %+v, want the pause", s.stop)
			}
			rec, err := s.Record("spin.s")
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Paused) != 1 || rec.Paused[0].Steps != s.m.Steps() {
				t.Fatalf("the record's paused commands are %+v, want run's, at step %d", rec.Paused, s.m.Steps())
			}
			replayed, err := New(Config{Image: img, Options: testOptions(), Timeout: 10 * time.Second}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if err := replayed.Replay(rec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stateOf(s.m), stateOf(replayed.m)); diff != "" {
				t.Fatalf("the replay is in another state (-recorded +replayed):\n%s", diff)
			}
		})
	}
}
