package debugger

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/vm"
)

// The debugger's speed, beside the plain run's: a continue to a breakpoint at the end of
// programs/bench/loop.s, and a step back at the end of the run.

const benchLoopN = "10000000\n"

func BenchmarkRunLoop(b *testing.B) {
	img := assembleFile(b, "bench/loop.s")
	for b.Loop() {
		if _, err := vm.Run(img, vm.Options{Stdin: strings.NewReader(benchLoopN), VirtualClock: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// loopSession is a session on loop.s with a breakpoint at its end.
func loopSession(b *testing.B) *Session {
	b.Helper()
	s, err := New(Config{Image: assembleFile(b, "bench/loop.s"), Stdin: []byte(benchLoopN)}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Exec("break main.done"); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkContinueLoop(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := loopSession(b)
		b.StartTimer()
		if err := s.Exec("continue"); err != nil || s.stop.Kind != vm.StopBreakpoint {
			b.Fatalf("%v, stopped for %v", err, s.stop.Kind)
		}
	}
}

// BenchmarkReverseStepi measures a step back at the end of a run of 40 million instructions,
// then 1000 steps back from there.
func BenchmarkReverseStepi(b *testing.B) {
	s := loopSession(b)
	if err := s.Exec("continue"); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	s.out = &out
	end := s.m.Steps()
	for b.Loop() {
		if err := s.Exec("reverse-stepi"); err != nil || s.m.Steps() != end-1 {
			b.Fatalf("%v, at step %d, want %d", err, s.m.Steps(), end-1)
		}
		if err := s.Exec("reverse-stepi 1000"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.seek(end); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkReverseStepiBudget measures a step back at the end of a run of 39 million
// instructions that write to 64 pages over and over, under a budget of 2 MiB that holds a few
// of its checkpoints: the distance from the last one to the end is what a step back runs
// again. It reports the bytes the snapshots hold.
func BenchmarkReverseStepiBudget(b *testing.B) {
	s := budgetSession(b, pagesProgram(b, 120_000), budgetTest, new(bytes.Buffer))
	if err := s.Exec("continue"); err != nil || s.ended == nil {
		b.Fatalf("%v, stopped for %v", err, s.stop.Kind)
	}
	s.out = io.Discard
	end := s.m.Steps()
	for b.Loop() {
		if err := s.Exec("reverse-stepi"); err != nil || s.m.Steps() != end-1 {
			b.Fatalf("%v, at step %d, want %d", err, s.m.Steps(), end-1)
		}
		if mem := s.m.SnapshotMem(); mem > budgetTest {
			b.Fatalf("the snapshots hold %d bytes, past the budget of %d", mem, budgetTest)
		}
		b.StopTimer()
		if err := s.seek(end); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(s.m.SnapshotMem()), "snapshot-bytes")
	b.ReportMetric(float64(len(s.cps)), "checkpoints")
}
