package debugger

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInputInterrupted: a prompt for input that is interrupted (ErrInputInterrupted) ends the
// command at the program's read, with nothing read; the next command asks again, and the run
// is the plain run. A record of the session replays to the same state.
func TestInputInterrupted(t *testing.T) {
	p := programs(t)[4] // echo, fed a line at a time
	r := p.plainRun(t, 0, nil)
	var out bytes.Buffer
	s := p.newSession(t, &out)
	input := s.cfg.Input
	interrupt := true
	s.cfg.Input = func() (string, error) {
		if interrupt {
			interrupt = false
			return "", ErrInputInterrupted
		}
		return input()
	}
	var saved []byte
	s.cfg.Save = func(name string, b []byte) error { saved = b; return nil }

	exec(t, s, "continue")
	r.check(t, s, "continue interrupted at the input prompt")
	if !strings.Contains(out.String(), "Paused while thread 1.1 waits for input, with none read") {
		t.Fatalf("the stop at the input prompt is not reported:\n%s", out.String())
	}
	if len(s.typed) != 0 || s.typedEnd {
		t.Fatalf("the interrupted prompt gave the program input: typed %q, ended %v", s.typed, s.typedEnd)
	}
	exec(t, s, "stepi 5") // asks again: "one"
	r.check(t, s, "stepi 5 after the interrupted prompt")
	want := stateOf(s.m)
	exec(t, s, "record save rec.json")
	exec(t, s, "continue")
	r.check(t, s, "continue to the end")
	for _, line := range p.lines {
		if strings.Count(out.String(), "\n"+line+"\n") != 1 {
			t.Fatalf("the program's output does not show %q once:\n%s", line, out.String())
		}
	}

	rec, err := ReadRecord(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	again := p.newSession(t, &bytes.Buffer{})
	again.cfg.Input = nil // the input comes from the record
	if err := again.Replay(rec); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stateOf(again.m)); diff != "" {
		t.Fatalf("the replay of %q, input pauses %v, came to another state (-recorded +replayed):\n%s", rec.Commands, rec.InputPauses, diff)
	}
}
