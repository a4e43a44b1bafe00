package debugger

import (
	"bytes"
	"strings"
	"testing"
)

// raceSession returns a session on race.s (300 increments a thread) stopped at worker's first
// instruction in thread 1.2, with thread 1.1 blocked in its thread_join.
func raceSession(t *testing.T) (*Session, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s, err := New(Config{Image: assembleFile(t, "threads/race.s", "100_000", "300"), Options: testOptions()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "break worker")
	exec(t, s, "run")
	out.Reset()
	return s, &out
}

// TestInfoRegistersBlocked: the pc that info registers shows of a thread blocked in a syscall
// is the one saved past it, where it resumes, and the line says so and where it waits, which
// is what bt shows.
func TestInfoRegistersBlocked(t *testing.T) {
	s, out := raceSession(t)
	exec(t, s, "bt 1")
	bt := out.String()
	if !strings.HasPrefix(bt, "#0  0x400054 <main.join+4>") {
		t.Fatalf("bt 1 at worker shows:\n%s\nwant thread 1.1 in its thread_join at 0x400054", bt)
	}
	for _, cmd := range []string{"info registers 1", "thread 1", "info registers", "info registers pc"} {
		out.Reset()
		exec(t, s, cmd)
		if cmd == "thread 1" {
			continue
		}
		want := "pc   0x400058 <main.join+8> at ../programs/threads/race.s:63  (saved: the thread resumes there; it waits in the syscall at 0x400054)\n"
		if !strings.HasSuffix(out.String(), want) {
			t.Errorf("%s shows:\n%s\nwant it to end with %q", cmd, out.String(), want)
		}
	}
	// A thread that runs has no such note.
	out.Reset()
	exec(t, s, "info registers 2")
	if strings.Contains(out.String(), "saved") || !strings.Contains(out.String(), "pc   0x400000 <worker>") {
		t.Errorf("info registers 2 shows:\n%s", out.String())
	}
}
