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

// TestInfoRegistersNames: info registers takes register names, as gdb does (info registers rax
// rbx), and shows those alone; a thread still shows all of its registers.
func TestInfoRegistersNames(t *testing.T) {
	s, out := raceSession(t)
	exec(t, s, "info registers t0 $sp pc")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "t0 ") || !strings.HasPrefix(lines[1], "sp ") || !strings.HasPrefix(lines[2], "pc   0x400000 <worker>") {
		t.Errorf("info registers t0 $sp pc shows:\n%s\nwant t0, sp and pc", out.String())
	}
	out.Reset()
	exec(t, s, "info registers 1")
	if n := strings.Count(out.String(), "\n"); n != 9 {
		t.Errorf("info registers 1 shows %d lines, want the 8 of the registers and pc:\n%s", n, out.String())
	}
	if err := s.Exec("info registers t0 t9"); err == nil || !strings.Contains(err.Error(), `"t9" is not a register`) {
		t.Errorf("info registers t0 t9: %v, want t9 refused as a register", err)
	}
}

// TestThreadApply: thread apply all bt shows each thread's backtrace under its name, and thread
// apply THREAD... the threads given; the current thread and its frame are as they were, and a
// command that runs the program is refused.
func TestThreadApply(t *testing.T) {
	s, out := raceSession(t)
	exec(t, s, "thread apply all bt")
	want := `Thread 1.1 (blocked: thread_join of thread 2):
#0  0x400054 <main.join+4> at ../programs/threads/race.s:62

Thread 1.2 (running):
#0  0x400000 <worker> at ../programs/threads/race.s:38

Thread 1.3 (runnable):
#0  0x400000 <worker> at ../programs/threads/race.s:38
`
	if out.String() != want {
		t.Errorf("thread apply all bt shows:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	exec(t, s, "thread apply 1 1.3 p/x t0")
	if want := "Thread 1.1 (blocked: thread_join of thread 2):\nt0 = 0x2\n\nThread 1.3 (runnable):\nt0 = 0x0\n"; out.String() != want {
		t.Errorf("thread apply 1 1.3 p/x t0 shows:\n%s\nwant:\n%s", out.String(), want)
	}
	if s.cur == nil || threadName(s.cur) != "1.2" || s.focused {
		t.Errorf("after thread apply the current thread is %s (focused %v), want 1.2 as before", threadName(s.cur), s.focused)
	}
	steps := s.m.Steps()
	for _, bad := range []string{"thread apply all stepi", "thread apply all", "thread apply bt"} {
		if err := s.Exec(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if s.m.Steps() != steps {
		t.Errorf("the refused commands ran the program from step %d to %d", steps, s.m.Steps())
	}
}

// TestWatchDerefLabel: watch *counter, as a gdb user who printed *counter types it, reads the
// counter's value as the address to watch; when that is not an address in memory, the error
// says what watch takes and proposes watch counter. One whose value is an address watches it.
func TestWatchDerefLabel(t *testing.T) {
	s, out := raceSession(t)
	for _, c := range []struct{ cmd, want string }{
		{"watch *counter", "watch *counter: watch takes an address, and *counter is the value at counter, 0 (0x0), not an address in memory: did you mean `watch counter`, the 8 bytes at counter?"},
		{"watch *(counter) 4", "watch *(counter): watch takes an address, and *(counter) is the value at counter, 0 (0x0), not an address in memory: did you mean `watch counter 4`, the 4 bytes at counter?"},
		{"watch *0", "8-byte read at 0x0: not inside the memory"},
	} {
		err := s.Exec(c.cmd)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %s", c.cmd, err, c.want)
		}
	}
	exec(t, s, "set *counter = counter")
	out.Reset()
	exec(t, s, "watch *counter")
	if want := "Watchpoint 2: 8 bytes at 0x10000000 <counter>\n"; out.String() != want {
		t.Errorf("watch *counter where counter holds its own address says %q, want %q", out.String(), want)
	}
}
