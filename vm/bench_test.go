package vm

import (
	"os"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// The profile cmd/spindle/default.pgo comes from these benchmarks and BenchmarkLoop: see
// docs/design.md, "Why is there a profile in cmd/spindle?".

// benchProgram runs programs/bench/NAME.s with input n, b.N times, and reports the time per
// unit of work (a round trip, a thread, an instruction).
func benchProgram(b *testing.B, name, n string, units float64, unit string) {
	img, err := asm.AssembleFile("../programs/bench/" + name + ".s")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Run(img, Options{Stdin: strings.NewReader(n + "\n"), Stdout: os.Stderr}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/units, "ns/"+unit)
}

func BenchmarkPingpong(b *testing.B) { benchProgram(b, "pingpong", "1000000", 1e6, "roundtrip") }
func BenchmarkSpawn(b *testing.B)    { benchProgram(b, "spawn", "1000000", 1e6, "thread") }
func BenchmarkFib(b *testing.B)      { benchProgram(b, "fib", "25", 242785, "call") }
func BenchmarkSieve(b *testing.B)    { benchProgram(b, "sieve", "1000000", 1e6, "number") }

// benchContinue loads programs/bench/fib.s with input 25, sets a breakpoint just after main's
// call of fib, and resumes to it, b.N times: a debugger's continue to a breakpoint, for the
// ratio to BenchmarkFib. With snapshot set, a snapshot is taken first, after which only
// execStep runs the machine (it marks the pages that stores write).
func benchContinue(b *testing.B, snapshot bool) {
	img, err := asm.AssembleFile("../programs/bench/fib.s")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer() // the load, and the first snapshot, which copies all of memory
		m, err := Load(img, Options{Stdin: strings.NewReader("25\n"), Stdout: os.Stderr, VirtualClock: true})
		if err != nil {
			b.Fatal(err)
		}
		run, _ := m.proc.Lookup("main.run")
		if err := m.SetBreakpoint(run + 2*isa.InstrSize); err != nil {
			b.Fatal(err)
		}
		if snapshot {
			if _, err := m.Snapshot(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if st, err := m.Resume(Until{}); err != nil || st.Kind != StopBreakpoint {
			b.Fatalf("%+v, %v", st, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/242785, "ns/call")
}

func BenchmarkContinue(b *testing.B)            { benchContinue(b, false) }
func BenchmarkContinueSnapshotted(b *testing.B) { benchContinue(b, true) }
