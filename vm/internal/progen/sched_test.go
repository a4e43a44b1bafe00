package progen_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
)

// Every scheduler program loads, the same bytes make the same program, and what a program is
// to do agrees with its class and its stop. The inputs make programs of every class and every
// stop, or the checks would pass on too few kinds.
func TestSched(t *testing.T) {
	classes := map[progen.SchedClass]int{}
	stops := map[progen.SchedStop]int{}
	for _, b := range inputs(400) {
		p := progen.Sched(b)
		q := progen.Sched(b)
		if diff := cmp.Diff(p, q, cmpopts.IgnoreUnexported(progen.SchedProgram{})); diff != "" {
			t.Fatalf("%q: two programs from the same bytes (-first +second):\n%s", b, diff)
		}
		if p.String() != q.String() {
			t.Fatalf("%q: two programs from the same bytes:\n%s\n%s", b, p, q)
		}
		if _, err := vm.Load(p.Image, vm.Options{MaxMem: 4 << 20, StackSize: 64 << 10}); err != nil {
			t.Fatalf("%q: %v\n%s", b, err, p)
		}
		classes[p.Class]++
		stops[p.Stop]++

		var bad string
		switch {
		case p.Procs != 1 && p.Procs != 2:
			bad = "a number of processes that is neither 1 nor 2"
		case (p.Procs == 2) != (p.CPUs == 2), p.Procs == 2 && p.VirtualClock:
			bad = "two processes, but not two processors on the real clock"
		case (p.Class == progen.SchedDeadlock) != (p.Stuck != ""):
			bad = "what a thread is stuck on is said of a program that is not of class deadlock, or not of one that is"
		case p.Stop != progen.SchedStopNone && (p.Class != progen.SchedFinish || p.Procs != 1 || p.Output == ""):
			bad = "a stopped program that is not a finishing one of one process, or that prints nothing"
		case (p.Stop == progen.SchedStopTimeout || p.Stop == progen.SchedStopInterrupt) && (p.MaxSteps != 0 || p.StopAt <= 0 || p.VirtualClock):
			bad = "a stop by time with a step limit, no time, or the virtual clock"
		case p.Stop == progen.SchedStopSteps && (p.MaxSteps == 0 || p.MaxSteps > 64_000):
			bad = "a stop by the step limit without a short one"
		case p.Stop == progen.SchedStopNone && (p.MaxSteps == 0 || p.StopAt != 0):
			bad = "a program that is not stopped, with no step limit or a time to stop"
		}
		if bad != "" {
			t.Fatalf("%q: %s: %+v\n%s", b, bad, *p, p)
		}
	}
	for c := range progen.SchedExit + 1 {
		if classes[c] == 0 {
			t.Errorf("no program of class %s", c)
		}
	}
	for s := range progen.SchedStopSteps + 1 {
		if stops[s] == 0 {
			t.Errorf("no program stopped by %s", s)
		}
	}
	t.Logf("classes %v, stops %v", classes, stops)
}
