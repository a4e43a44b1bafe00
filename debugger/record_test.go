package debugger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRecordReplay records sessions that step forwards and backwards, change a register in the
// past and read input, and replays each record in a new session: it must come to the same state.
func TestRecordReplay(t *testing.T) {
	cmds := []string{"break worker", "continue", "stepi 40", "thread 2", "set scheduler-locking off",
		"reverse-stepi 7", "next", "set t1 = 3", "continue", "reverse-continue", "reverse-stepi 2"}
	for _, p := range programs(t) {
		t.Run(p.name, func(t *testing.T) {
			var out bytes.Buffer
			s := p.newSession(t, &out)
			var saved []byte
			s.cfg.Save = func(name string, b []byte) error { saved = b; return nil }
			for _, c := range cmds {
				s.Exec(c) // some fail on some programs (no worker, no thread 2): they are not recorded
			}
			want := stateOf(s.m)
			if err := s.Exec("record save rec.json"); err != nil {
				t.Fatal(err)
			}
			rec, err := ReadRecord(bytes.NewReader(saved))
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Commands) < 4 {
				t.Fatalf("only %d commands recorded: %q", len(rec.Commands), rec.Commands)
			}
			again := p.newSession(t, &bytes.Buffer{})
			again.cfg.Input = nil // the input comes from the record
			if err := again.Replay(rec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, stateOf(again.m)); diff != "" {
				t.Fatalf("the replay of %q came to another state (-recorded +replayed):\n%s", rec.Commands, diff)
			}
		})
	}
}

// TestReplayRefusals: a record of another program, or of another version, is refused.
func TestReplayRefusals(t *testing.T) {
	ps := programs(t)
	s := ps[0].newSession(t, &bytes.Buffer{})
	rec, err := s.Record("fib.s")
	if err != nil {
		t.Fatal(err)
	}
	other := ps[1].newSession(t, &bytes.Buffer{})
	if err := other.Replay(rec); err == nil || !strings.Contains(err.Error(), "not the one recorded") {
		t.Errorf("a record of fib replayed on race: %v", err)
	}
	rec.Version = 99
	b, _ := json.Marshal(rec)
	if _, err := ReadRecord(bytes.NewReader(b)); err == nil {
		t.Error("a record of version 99 read")
	}
	if _, err := ReadRecord(strings.NewReader("not json")); err == nil {
		t.Error("a record that is not JSON read")
	}
}
