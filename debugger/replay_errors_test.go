package debugger

import (
	"bytes"
	"testing"
)

// TestReplayFailedCommand: a record whose command fails on replay (edited by hand: a session
// records only the commands that succeeded) is refused, and the error names the command.
func TestReplayFailedCommand(t *testing.T) {
	p := programs(t)[0]
	s := p.newSession(t, &bytes.Buffer{})
	exec(t, s, "break fib")
	rec, err := s.Record("fib.s")
	if err != nil {
		t.Fatal(err)
	}
	rec.Commands = append(rec.Commands, "break nosuch", "continue")
	again := p.newSession(t, &bytes.Buffer{})
	err = again.Replay(rec)
	want := `the recorded command 2, "break nosuch", failed: in "nosuch": no register or label is named nosuch`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
