package vm

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// The benchmarks come in pairs. Each program of programs/bench, and each micro-benchmark in
// micro_bench_test.go, has a twin named ...Native that runs the same algorithm in Go on the same
// N (goroutines and channels where the program has threads and channels), and both report the
// time per unit of work in the same metric: ns/call, ns/number, ns/roundtrip and so on. Read a
// pair as the ratio of its two metrics, both taken in the same go test run:
//
//	BenchmarkFib-2            373    3121041 ns/op    12.9 ns/call
//	BenchmarkFibNative-2     3348     342289 ns/op     1.5 ns/call
//
// says that a call in Spindle costs about 8.6 times what it costs in compiled Go, the
// hardware's limit for that algorithm. The Spindle side runs the program through Run, as the
// spindle command does, without the command's start-up and with the assembly done once, before
// the timer; both sides check that they computed the same result. docs/performance.md has the
// pairs' current ratios, and says why they differ from those of ../shared/bench/compare.
//
// N is chosen so that one iteration takes tens of milliseconds, and so that CI, which runs every
// benchmark once (-benchtime 1x), stays quick: spawn runs 10^5 threads, not the 10^6 of
// ../shared/bench/compare, since a million goroutines take the native side seconds and gigabytes.
//
// The profile cmd/spindle/default.pgo comes from these benchmarks and BenchmarkLoop: see
// docs/design.md, "Why is there a profile in cmd/spindle?". Its command selects the Spindle
// sides by name ('Fib$' and so on), which the natives' names do not match.

// A workload is a program that reads N from its input and prints one number, and the same
// algorithm in Go, which returns that number.
type workload struct {
	n      int64
	units  func(n int64) float64 // units of work for n
	unit   string                // "call", "number", ...
	native func(n int64) int64
}

// benchWorkloads are the programs of programs/bench by name, with the N their benchmarks run.
var benchWorkloads = map[string]workload{
	"fib":      {25, fibCalls, "call", fibNative},
	"loop":     {10_000_000, count, "iteration", loopRef},
	"sieve":    {1_000_000, count, "number", sieveNative},
	"pingpong": {1_000_000, count, "roundtrip", pingpongNative},
	"spawn":    {100_000, count, "thread", spawnNative},
}

func count(n int64) float64 { return float64(n) }

// benchImage assembles programs/bench/NAME.s.
func benchImage(tb testing.TB, name string) *object.Image {
	tb.Helper()
	img, err := asm.AssembleFile("../programs/bench/" + name + ".s")
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// benchSpindle runs img with input n, b.N times, and reports the time per unit of work. Each
// run must print w.native(n).
func benchSpindle(b *testing.B, img *object.Image, w workload) {
	want := strconv.FormatInt(w.native(w.n), 10) + "\n"
	in := strconv.FormatInt(w.n, 10) + "\n"
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if _, err := Run(img, Options{Stdin: strings.NewReader(in), Stdout: &out, Stderr: os.Stderr}); err != nil {
			b.Fatal(err)
		}
	}
	if out.String() != want {
		b.Fatalf("printed %q, want %q, what the native version computes", out.String(), want)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/w.units(w.n), "ns/"+w.unit)
}

// benchNative runs w's Go version with input n, b.N times, and reports the time per unit of
// work, for the ratio to its Spindle twin.
func benchNative(b *testing.B, w workload) {
	var got int64
	for b.Loop() {
		got = w.native(w.n)
	}
	sink = got
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/w.units(w.n), "ns/"+w.unit)
}

// sink keeps the natives' results alive, so that the compiler cannot drop their work.
var sink int64

func benchProgram(b *testing.B, name string) {
	benchSpindle(b, benchImage(b, name), benchWorkloads[name])
}

func BenchmarkFib(b *testing.B)            { benchProgram(b, "fib") }
func BenchmarkFibNative(b *testing.B)      { benchNative(b, benchWorkloads["fib"]) }
func BenchmarkLoopProgram(b *testing.B)    { benchProgram(b, "loop") }
func BenchmarkLoopNative(b *testing.B)     { benchNative(b, benchWorkloads["loop"]) }
func BenchmarkSieve(b *testing.B)          { benchProgram(b, "sieve") }
func BenchmarkSieveNative(b *testing.B)    { benchNative(b, benchWorkloads["sieve"]) }
func BenchmarkPingpong(b *testing.B)       { benchProgram(b, "pingpong") }
func BenchmarkPingpongNative(b *testing.B) { benchNative(b, benchWorkloads["pingpong"]) }
func BenchmarkSpawn(b *testing.B)          { benchProgram(b, "spawn") }
func BenchmarkSpawnNative(b *testing.B)    { benchNative(b, benchWorkloads["spawn"]) }

// BenchmarkLoop, in vm_test.go, runs loop.s's algorithm from a hand-built image (addi and blt
// where loop.s has loop) and reports ns/instr; BenchmarkLoopProgram runs loop.s itself, as the
// other programs' benchmarks do.

// TestBenchmarkPairs runs each pair of benchmarks, programs and micro-benchmarks, at a small N:
// the program must print what its native twin returns, so that each pair computes the same
// thing, whatever N the benchmarks run.
func TestBenchmarkPairs(t *testing.T) {
	small := map[string]int64{"fib": 15, "loop": 1000, "sieve": 1000, "pingpong": 100, "spawn": 100}
	for name, w := range benchWorkloads {
		checkPair(t, name, benchImage(t, name), w, small[name])
	}
	for _, m := range micros {
		checkPair(t, m.name, microImage(t, m), m.workload, 100)
	}
}

func checkPair(t *testing.T, name string, img *object.Image, w workload, n int64) {
	t.Helper()
	out, _, err := run(t, img, strconv.FormatInt(n, 10)+"\n", Options{})
	if err != nil {
		t.Fatalf("%s %d: %v", name, n, err)
	}
	if want := strconv.FormatInt(w.native(n), 10) + "\n"; out != want {
		t.Errorf("%s %d printed %q; the native version returns %q", name, n, out, want)
	}
}

// The native versions. Each is the algorithm of its program in programs/bench, whose comments
// explain it; ../shared/bench/peers/native has the same ones as a command.

// fibCalls is how many calls fib(n) makes, leaves included: 2*fib(n+1) - 1.
func fibCalls(n int64) float64 { return float64(2*fibNative(n+1) - 1) }

//go:noinline
func fibNative(n int64) int64 {
	if n < 2 {
		return n
	}
	return fibNative(n-1) + fibNative(n-2)
}

// sieveNative counts the primes up to n with the sieve of Eratosthenes, three times over, in a
// byte array filled anew each time, as sieve.s does.
func sieveNative(n int64) int64 {
	if n < 2 {
		return 0
	}
	a := make([]byte, n+1)
	var count int64
	for range 3 {
		for i := range a {
			a[i] = 1
		}
		count = 0
		for i := int64(2); i <= n; i++ {
			if a[i] == 1 {
				count++
				for j := i * i; j <= n; j += i {
					a[j] = 0
				}
			}
		}
	}
	return count
}

// pingpongNative hands a counter back and forth n times between two goroutines over two
// unbuffered channels; the other goroutine adds one each time.
func pingpongNative(n int64) int64 {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for x := range ping {
			pong <- x + 1
		}
	}()
	var v int64
	for range n {
		ping <- v
		v = <-pong
	}
	close(ping)
	return v
}

// spawnNative makes n goroutines that are alive at once, each waiting on one shared channel;
// it sends 1 to each, joins them all and sums their values, x + 1 for the x-th.
func spawnNative(n int64) int64 {
	ch := make(chan int64)
	values := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			values[i] = i + 1 + <-ch
		}()
	}
	for range n {
		ch <- 1
	}
	wg.Wait()
	var s int64
	for _, v := range values {
		s += v
	}
	return s
}

// benchContinue loads programs/bench/fib.s with input 25, sets a breakpoint just after main's
// call of fib, and resumes to it, b.N times: a debugger's continue to a breakpoint, for the
// ratio to BenchmarkFib. With snapshot set, a snapshot is taken first, after which only
// execStep runs the machine (it marks the pages that stores write).
func benchContinue(b *testing.B, snapshot bool) {
	img := benchImage(b, "fib")
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
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/fibCalls(25), "ns/call")
}

func BenchmarkContinue(b *testing.B)            { benchContinue(b, false) }
func BenchmarkContinueSnapshotted(b *testing.B) { benchContinue(b, true) }
