package vm

import (
	"os"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/asm"
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
