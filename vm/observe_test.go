package vm

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// recorder is an embedder's observer: it keeps every event, in words that do not depend on
// the run's Thread and Process values, so that two runs can be compared.
type recorder struct{ events []string }

func (r *recorder) Observe(e Event) { r.events = append(r.events, describeEvent(e)) }

func describeEvent(e Event) string {
	s := fmt.Sprintf("%v cpu%d step %d t=%v", e.Kind, e.CPU, e.Steps, e.Clock)
	if e.Thread != nil {
		s += " thread " + threadName(e.Thread)
	}
	switch e.Kind {
	case EventSwitch:
		s += fmt.Sprintf(" -> %s (%v)", threadName(e.To), e.Reason)
	case EventBlock, EventWake:
		s += " on " + e.Thread.Waits()
	case EventSyscall:
		s += fmt.Sprintf(" %d", e.Syscall)
	case EventProcessStart, EventProcessEnd:
		s += fmt.Sprintf(" process %d status %d", e.Proc.ID, e.Status)
	case EventEnd:
		s += fmt.Sprintf(" err %v", e.Err)
	}
	return s
}

// The programs the tests observe, and their input: threads that block and wake on futexes,
// sleepers, channels with chan_sendrecv's hand-off, and processes that start, wait and exit.
var observed = []struct{ name, stdin string }{
	{"threads/producer_consumer.s", ""},
	{"threads/sleepers.s", ""},
	{"bench/pingpong.s", "50"},
	{"processes/pipeline.s", "10"},
}

// TestObserverSeesTheTrace checks that an observer attached by an embedder is told of every
// switch and wake-up that the trace of the same run writes, at the same step and clock, with
// the same threads and reasons; and that it sees as many switches as the run counts.
func TestObserverSeesTheTrace(t *testing.T) {
	for _, prog := range observed {
		t.Run(prog.name, func(t *testing.T) {
			var trace bytes.Buffer
			m, _ := loadFile(t, prog.name, prog.stdin, Options{VirtualClock: true, Trace: &trace})
			var lines []string
			switches := 0
			m.Attach(ObserverFunc(func(e Event) {
				switch e.Kind {
				case EventSwitch:
					reason := e.Reason.String()
					if e.Reason == SwitchBlocked {
						reason += ": " + e.Thread.Waits()
					}
					lines = append(lines, fmt.Sprintf("step %d t=%dns cpu%d switch %s -> %s (%s)",
						e.Steps, e.Clock.Nanoseconds(), e.CPU, threadName(e.Thread), threadName(e.To), reason))
					if e.To != nil {
						switches++
					}
				case EventWake:
					lines = append(lines, fmt.Sprintf("step %d t=%dns cpu%d wake %s (%s)",
						e.Steps, e.Clock.Nanoseconds(), e.CPU, threadName(e.Thread), e.Thread.Waits()))
				}
			}))
			st := finish(t, m)
			if st.Err != nil {
				t.Fatal(st.Err)
			}
			var want []string
			for line := range strings.Lines(trace.String()) {
				if !strings.Contains(line, " end ") {
					want = append(want, strings.TrimSuffix(line, "\n"))
				}
			}
			if len(want) < 10 {
				t.Fatalf("a trace of %d switches and wake-ups:\n%s", len(want), trace.String())
			}
			if !slices.Equal(lines, want) {
				t.Errorf("the observer saw\n%s\nthe trace says\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
			if uint64(switches) != m.result.Switches {
				t.Errorf("the observer saw %d threads switched in; the run counts %d", switches, m.result.Switches)
			}
		})
	}
}

// TestObserverChangesNothing checks that a run with an observer executes what it does
// without: the same output, steps, switches and clock. Without one, chan_sendrecv takes its
// hand-off; with one, the general path, which must come to the same.
func TestObserverChangesNothing(t *testing.T) {
	for _, prog := range observed {
		t.Run(prog.name, func(t *testing.T) {
			plain, plainOut := loadFile(t, prog.name, prog.stdin, Options{VirtualClock: true})
			if st := finish(t, plain); st.Err != nil {
				t.Fatal(st.Err)
			}
			seen, seenOut := loadFile(t, prog.name, prog.stdin, Options{VirtualClock: true})
			var r recorder
			seen.Attach(&r)
			if st := finish(t, seen); st.Err != nil {
				t.Fatal(st.Err)
			}
			a, b := plain.result, seen.result
			if a.Steps != b.Steps || a.Switches != b.Switches || a.Clock != b.Clock || a.ExitCode != b.ExitCode {
				t.Errorf("without an observer %+v; with one %+v", a, b)
			}
			if plainOut.String() != seenOut.String() {
				t.Errorf("without an observer the output is %q; with one %q", plainOut, seenOut)
			}
			if prog.name == "bench/pingpong.s" {
				if plain.cpus[0].handoffs == 0 || seen.cpus[0].handoffs != 0 {
					t.Errorf("%d hand-offs without an observer, %d with one", plain.cpus[0].handoffs, seen.cpus[0].handoffs)
				}
			}
			kinds := map[EventKind]bool{}
			for _, e := range r.events {
				for k := EventSwitch; k <= EventEnd; k++ {
					if strings.HasPrefix(e, k.String()+" cpu") {
						kinds[k] = true
					}
				}
			}
			for _, k := range []EventKind{EventSwitch, EventWake, EventBlock, EventSyscall, EventThreadStart, EventEnd} {
				if !kinds[k] {
					t.Errorf("no %v event", k)
				}
			}
		})
	}
}

// TestObserverAttachedBetweenResumes checks that an observer attached between two Resumes is
// told of what happens after, and only that, and that one detached then is told of nothing
// more: the two see the events of a run observed throughout, split where the run stopped.
func TestObserverAttachedBetweenResumes(t *testing.T) {
	for _, prog := range observed {
		t.Run(prog.name, func(t *testing.T) {
			whole, _ := loadFile(t, prog.name, prog.stdin, Options{VirtualClock: true})
			var all recorder
			whole.Attach(&all)
			if st := finish(t, whole); st.Err != nil {
				t.Fatal(st.Err)
			}
			for _, at := range []uint64{1, whole.result.Steps / 3, whole.result.Steps / 2} {
				m, _ := loadFile(t, prog.name, prog.stdin, Options{VirtualClock: true})
				var before, after recorder
				detach := m.Attach(&before)
				if st := resume(t, m, Until{Steps: at}); st.Kind != StopSteps {
					t.Fatalf("stopped for %v at step %d, not after %d steps", st.Kind, st.Steps, at)
				}
				detach()
				m.Attach(&after)
				if st := finish(t, m); st.Err != nil {
					t.Fatal(st.Err)
				}
				if len(before.events) == 0 || len(after.events) == 0 {
					t.Fatalf("at step %d: %d events before, %d after", at, len(before.events), len(after.events))
				}
				n := len(before.events)
				if !slices.Equal(before.events, all.events[:min(n, len(all.events))]) {
					t.Errorf("at step %d, before the stop the observer saw\n%s\nnot\n%s", at,
						strings.Join(before.events, "\n"), strings.Join(all.events[:min(n, len(all.events))], "\n"))
				}
				if !slices.Equal(after.events, all.events[min(n, len(all.events)):]) {
					t.Errorf("at step %d, after the stop the observer saw\n%s\nnot\n%s", at,
						strings.Join(after.events, "\n"), strings.Join(all.events[min(n, len(all.events)):], "\n"))
				}
			}
		})
	}
}

// TestObserverRestore checks that a machine with an embedder's observer can be snapshotted,
// and that after a Restore its observer is told of the run from the snapshot's state on again,
// as it was the first time. The trace and the statistics still refuse a snapshot.
func TestObserverRestore(t *testing.T) {
	m, _ := loadFile(t, "threads/producer_consumer.s", "", Options{VirtualClock: true})
	var r recorder
	m.Attach(&r)
	resume(t, m, Until{Steps: 500})
	s, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	n := len(r.events)
	resume(t, m, Until{Steps: 2000})
	first := slices.Clone(r.events[n:])
	if len(first) == 0 {
		t.Fatal("no events in 2000 steps")
	}
	if err := m.Restore(s); err != nil {
		t.Fatal(err)
	}
	n = len(r.events)
	resume(t, m, Until{Steps: 2000})
	if again := r.events[n:]; !slices.Equal(first, again) {
		t.Errorf("after the Restore the observer saw\n%s\nnot\n%s", strings.Join(again, "\n"), strings.Join(first, "\n"))
	}

	var trace bytes.Buffer
	traced, _ := loadFile(t, "threads/producer_consumer.s", "", Options{VirtualClock: true, Trace: &trace})
	if _, err := traced.Snapshot(); err == nil {
		t.Error("a snapshot of a traced run")
	}
}

// TestObserverNames checks the words of the event kinds and switch reasons, which the trace
// writes.
func TestObserverNames(t *testing.T) {
	for k := EventSwitch; k <= EventEnd; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "event ") {
			t.Errorf("event kind %d is named %q", k, s)
		}
	}
	for r := SwitchQuantum; r <= SwitchKilled; r++ {
		if s := r.String(); s == "" || strings.HasPrefix(s, "reason ") {
			t.Errorf("switch reason %d is named %q", r, s)
		}
	}
	if s := (EventEnd + 1).String(); s != fmt.Sprintf("event %d", EventEnd+1) {
		t.Errorf("an unknown event kind is named %q", s)
	}
	if s := SwitchReason(0).String(); s != "reason 0" {
		t.Errorf("an unknown switch reason is named %q", s)
	}
}
