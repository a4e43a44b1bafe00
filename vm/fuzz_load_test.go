package vm

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/object"
)

// FuzzLoad feeds any bytes to the path an object file takes through `spindle run`: UnmarshalImage,
// then Load, then Run under tight limits. Whatever the bytes, the answer must be a clean error
// or a run that ends by itself, traps, deadlocks or reaches a limit, and it must come in bounded
// time and host memory. A Go panic, an InternalError, a run past its step or time limit, a
// goroutine left behind, or host memory that the limits do not account for is a failure.
//
// The options of a run are drawn from a hash of the input, so that one input always runs the
// same way: mostly on one processor with the virtual clock and a seed (deterministic, fast
// through sleeps), with either scheduler and a few quanta; one input in eight runs on two
// processors with the real clock, where the kernel lock, the inboxes and the stealing run.
//
// The file is self-contained, as OSS-Fuzz's build of native Go fuzz targets wants.
func FuzzLoad(f *testing.F) {
	seeds, err := fuzzLoadSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := object.UnmarshalImage(b)
		if err != nil {
			var oe *object.ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("UnmarshalImage: error %v is a %T, want *object.ObjectError", err, err)
			}
			return
		}
		fuzzLoadRun(t, img, fuzzLoadOptions(b))
	})
}

// The limits of every run. They are small so that an execution is quick, and so that host
// memory beyond them stands out.
const (
	fuzzLoadMaxSteps   = 100_000
	fuzzLoadMaxMem     = 1 << 20
	fuzzLoadStack      = 4 << 10
	fuzzLoadMaxThreads = 64
	fuzzLoadMaxProcs   = 3
	fuzzLoadTimeout    = 500 * time.Millisecond

	// fuzzLoadSlack is host memory a run may hold beyond its processes' limits and code: the
	// Machine, the report of an error, the Go runtime's own bookkeeping.
	fuzzLoadSlack = 2 << 20
)

// fuzzLoadOptions derives the options of a run from its input.
func fuzzLoadOptions(b []byte) Options {
	h := fnv.New64a()
	h.Write(b)
	sum := h.Sum64()
	opts := Options{
		Args:       []string{"prog"},
		MaxSteps:   fuzzLoadMaxSteps,
		MaxMem:     fuzzLoadMaxMem,
		StackSize:  fuzzLoadStack,
		MaxThreads: fuzzLoadMaxThreads,
		MaxProcs:   fuzzLoadMaxProcs,
		Timeout:    fuzzLoadTimeout,
		Quantum:    [...]int64{0, 1, 13, 500}[sum&3],
		Stats:      sum>>2&1 == 1,
		Seed:       sum >> 8,
	}
	if sum>>3&1 == 1 {
		opts.Sched = SchedRandom
	}
	if sum>>4&7 == 0 {
		opts.CPUs = 2
	} else {
		opts.VirtualClock = true
	}
	if sum>>7&15 == 0 {
		// Above smallMem a process's memory is reserved address space rather than a slice of
		// the heap: one run in sixteen takes that path, which is slower to set up.
		opts.MaxMem = 2 * smallMem
	}
	return opts
}

// fuzzLoadRun loads and runs img and checks how it ended.
func fuzzLoadRun(t *testing.T, img *object.Image, opts Options) {
	goroutines := runtime.NumGoroutine()
	if alive := fuzzLoadRunChecked(t, img, opts, fuzzLoadAllocs()); alive > 0 {
		// The run left more in the heap than its limits explain. Collect again, with the
		// machine out of reach, to see how much of it the machine really held.
		runtime.GC()
		if held := int64(alive) - int64(fuzzLoadHeap()); held > int64(fuzzLoadAllowed(img, opts)) {
			t.Fatalf("host memory: the machine held %d MiB after its run, more than its limits allow (%d MiB)\n%s",
				held>>20, fuzzLoadAllowed(img, opts)>>20, fuzzLoadListing(img))
		}
	}
	// Every goroutine of the run must be gone: the processors, the input pump, the timers.
	checkNoGoroutineLeft(t, goroutines)
}

// checkNoGoroutineLeft fails t if, 5 s from now, more goroutines run than before, the number
// it was given: a machine's goroutines end with its run. Goroutines end a little after the
// run returns, so it polls.
func checkNoGoroutineLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the run, %d after it:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// fuzzLoadRunChecked does the run. If the run allocated more than the limits allow a machine to
// hold (allocs counts the heap's allocations before it), it returns the size of the heap with the
// machine still alive after a collection, for the caller to compare with the size once the
// machine is gone; otherwise 0.
func fuzzLoadRunChecked(t *testing.T, img *object.Image, opts Options, allocs uint64) uint64 {
	m, err := Load(img, opts)
	if err != nil {
		var le *LoadError
		var lim *LimitError
		switch {
		case errors.As(err, &le):
		case errors.As(err, &lim) && lim.Limit == LimitMemory:
		default:
			t.Fatalf("Load: error %v is a %T, want *LoadError or a memory *LimitError", err, err)
		}
		_ = err.Error()
		return 0
	}
	o := runWatched(t, m, opts.Timeout, func() string { return fuzzLoadListing(img) })
	res, err := o.res, o.err

	var (
		trap *TrapError
		lim  *LimitError
		dl   *DeadlockError
		ie   *InternalError
	)
	switch {
	case err == nil:
	case errors.As(err, &ie):
		t.Fatalf("internal error: %v\n%s", ie, fuzzLoadListing(img))
	case errors.As(err, &trap):
		if trap.Thread < 1 || trap.Proc < 1 {
			t.Errorf("trap report names thread %d of process %d", trap.Thread, trap.Proc)
		}
		_ = trap.Report()
	case errors.As(err, &lim):
		switch lim.Limit {
		case LimitSteps:
			if lim.Steps < opts.MaxSteps {
				t.Errorf("step limit reported after %d steps; the limit is %d", lim.Steps, opts.MaxSteps)
			}
		case LimitMemory, LimitTime, LimitThreads, LimitProcesses:
		default:
			t.Errorf("unknown limit %v: %v", lim.Limit, lim)
		}
	case errors.As(err, &dl):
		if dl.Blocked < 1 || len(dl.Threads) > dl.Blocked || len(dl.Threads) > MaxDeadlockReport {
			t.Errorf("deadlock report of %d threads, %d blocked: %v", len(dl.Threads), dl.Blocked, dl)
		}
	default:
		t.Fatalf("Run: error %v is a %T, want nil, a trap, a limit or a deadlock\n%s", err, err, fuzzLoadListing(img))
	}
	if err != nil {
		_ = err.Error()
	}

	// One processor stops at the step limit exactly. Each other one may run on by what it has
	// not yet published when the limit is reached: a quantum, and the straight run of code to
	// its next check point, at most the text.
	quantum := uint64(opts.Quantum)
	if quantum == 0 {
		quantum = DefaultQuantum
	}
	if most := opts.MaxSteps + uint64(max(opts.CPUs, 1)-1)*(quantum+uint64(len(img.Text)+numSentinels)); res.Steps > most {
		t.Errorf("%d steps executed; the limit is %d, and no more than %d can be explained", res.Steps, opts.MaxSteps, most)
	}
	if res.Duration > opts.Timeout+2*time.Second {
		t.Errorf("the run took %v; its time limit is %v", res.Duration, opts.Timeout)
	}
	// A machine runs once. Once Run has returned, every process's memory but the first's (which
	// Machine.Process shows) must be back with the host: memory mapped outside the Go heap is
	// not collected with the machine.
	for _, p := range m.procs {
		if p != m.proc && (p.mem != nil || p.release != nil) {
			t.Errorf("process %d still holds its memory (%d bytes) after the run; the run ended with %v", p.ID, len(p.mem), err)
		}
	}
	if m.reserved > 1 {
		t.Errorf("%d memory reservations are left after the run; at most the first process's may be", m.reserved)
	}

	// What a run allocated bounds what it holds, and costs nothing to read; only a run that
	// allocated much pays for the collections that measure what it holds.
	if fuzzLoadAllocs()-allocs <= fuzzLoadAllowed(img, opts) {
		return 0
	}
	runtime.GC()
	held := fuzzLoadHeap()
	runtime.KeepAlive(m)
	return held
}

// fuzzLoadAllowed is the Go heap a machine may hold: for each process that can be alive, its
// memory limit (its memory, which at this limit is made on the heap, and the kernel's objects for
// it, such as channel buffers, which are charged to the limit) and its copy of the code, and the
// slack.
func fuzzLoadAllowed(img *object.Image, opts Options) uint64 {
	code := 4 * uint64(len(img.Text)+3)
	return uint64(opts.MaxProcs)*(opts.MaxMem+code) + fuzzLoadSlack
}

var fuzzLoadSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}

// fuzzLoadHeap returns the bytes of the heap's objects, live or not yet swept: right after a
// collection, the live ones.
func fuzzLoadHeap() uint64 {
	metrics.Read(fuzzLoadSamples)
	return fuzzLoadSamples[0].Value.Uint64()
}

// fuzzLoadAllocs returns the bytes allocated in the heap so far. Unlike runtime.ReadMemStats,
// reading it does not stop the world, so it can be read on every execution.
func fuzzLoadAllocs() uint64 {
	metrics.Read(fuzzLoadSamples)
	return fuzzLoadSamples[1].Value.Uint64()
}

// fuzzLoadListing disassembles img for a failure's message, shortened if it is long.
func fuzzLoadListing(img *object.Image) string {
	var b bytes.Buffer
	if err := object.Disassemble(&b, img); err != nil {
		return "(no listing: " + err.Error() + ")"
	}
	if b.Len() > 8<<10 {
		return b.String()[:8<<10] + "\n..."
	}
	return b.String()
}

var fuzzLoadSeedCache struct {
	once  sync.Once
	seeds [][]byte
	err   error
}

// fuzzLoadSeeds returns the object files of the example programs and of the sources in the
// tests' data: every .s under programs/, asm/testdata/roundtrip and the .s files of the
// tests/testdata scripts. A source that does not assemble (the scripts test errors too) is
// left out. They are computed once: OSS-Fuzz's harness calls the fuzz function once an input.
func fuzzLoadSeeds() ([][]byte, error) {
	c := &fuzzLoadSeedCache
	c.once.Do(func() { c.seeds, c.err = fuzzLoadCollect() })
	return c.seeds, c.err
}

func fuzzLoadCollect() ([][]byte, error) {
	var seeds [][]byte
	add := func(img *object.Image, err error) {
		if err != nil {
			return
		}
		if b, err := img.MarshalBinary(); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, dir := range []string{"../programs", "../asm/testdata/roundtrip"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".s") {
				add(asm.AssembleFile(path))
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	scripts, err := filepath.Glob("../tests/testdata/*.txtar")
	if err != nil {
		return nil, err
	}
	for _, path := range scripts {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			return nil, err
		}
		files := map[string][]byte{}
		for _, f := range ar.Files {
			files[filepath.Clean(f.Name)] = f.Data
		}
		read := func(name string) ([]byte, error) {
			if b, ok := files[filepath.Clean(name)]; ok {
				return b, nil
			}
			return nil, fs.ErrNotExist
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".s") {
				add(asm.Assemble(f.Name, f.Data, &asm.Options{ReadFile: read}))
			}
		}
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("no seed programs found under ../programs (working directory %s)", fuzzLoadWd())
	}
	return seeds, nil
}

func fuzzLoadWd() string {
	wd, _ := os.Getwd()
	return wd
}
