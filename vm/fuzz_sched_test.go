package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm/internal/progen"
)

// FuzzScheduler turns its bytes into a multi-threaded program whose fate is known from its
// structure (progen.Sched says how it is built), runs it with the options the generator chose,
// and checks that the scheduler gives it that fate:
//
//   - a program of class progen.SchedFinish must print the sum of what its sources sent and end
//     with the status main chose. A deadlock, or a time-out, is a lost wake-up.
//   - a program of class progen.SchedDeadlock has a thread blocked for good, so main never
//     ends, and every thread ends up blocked: the run must stop with a DeadlockError, and its
//     report must agree with the thread table of the result: every thread that has not exited
//     is blocked, each reported thread waits for what the table says, and one of them waits for
//     the operation that cannot complete.
//   - a program of class progen.SchedExit must end with the status of the exit one thread
//     calls, whoever is blocked.
//   - a program that never ends, one of class progen.SchedFinish in four of one process, is
//     stopped from outside at a random moment, by a time-out, an interrupt or a step limit. The
//     run must end with that stop, the step limit exactly, and its output must be what the
//     program printed before it, cut short.
//
// After every run no goroutine of the machine may be left. A failure prints what was generated
// and the program's listing.
func FuzzScheduler(f *testing.F) {
	for _, b := range schedFuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		schedCheck(t, progen.Sched(b))
	})
}

// The limits of a run of a generated program.
const (
	schedTimeout   = 20 * time.Second
	schedMaxMem    = 4 << 20
	schedMainStack = 64 << 10
)

// schedOptions are the options of the program's run.
func schedOptions(p *progen.SchedProgram) Options {
	opts := Options{
		MaxSteps:  p.MaxSteps,
		MaxMem:    schedMaxMem,
		StackSize: schedMainStack,
		Timeout:   schedTimeout,
		Quantum:   p.Quantum,
		// The deadlock check needs the thread table; without statistics, chan_sendrecv can
		// take its fast path, the direct hand-off.
		Stats:        p.Class == progen.SchedDeadlock,
		Seed:         p.Seed,
		Args:         []string{"sched"},
		CPUs:         p.CPUs,
		VirtualClock: p.VirtualClock,
	}
	if p.Random {
		opts.Sched = SchedRandom
	}
	if p.Stop == progen.SchedStopTimeout {
		opts.Timeout = p.StopAt
	}
	return opts
}

// runOutcome is what Machine.Run returned.
type runOutcome struct {
	res Result
	err error
}

// runWatched runs m and returns what Run returned. If Run has not returned 10 s after the time
// limit, the run is a failure, reported with what describe says of the program and with every
// goroutine's stack.
func runWatched(t *testing.T, m *Machine, timeout time.Duration, describe func() string) runOutcome {
	done := make(chan runOutcome, 1)
	go func() {
		res, err := m.Run()
		done <- runOutcome{res, err}
	}()
	select {
	case o := <-done:
		return o
	case <-time.After(timeout + 10*time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("Run has not returned 10s after its time limit of %v\n%s\ngoroutines:\n%s", timeout, describe(), buf[:runtime.Stack(buf, true)])
		return runOutcome{}
	}
}

// schedCheck runs the program and checks its fate.
func schedCheck(t *testing.T, p *progen.SchedProgram) {
	goroutines := runtime.NumGoroutine()
	var out bytes.Buffer
	opts := schedOptions(p)
	opts.Stdout = &out
	opts.Stderr = &out
	m, err := Load(p.Image, opts)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, schedDescribe(p))
	}
	if p.Stop == progen.SchedStopInterrupt {
		go func() {
			time.Sleep(p.StopAt)
			m.Interrupt()
		}()
	}
	o := runWatched(t, m, opts.Timeout, func() string { return schedDescribe(p) })
	res, err := o.res, o.err

	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nerr: %v\nexit status %d, output %q\n%s", fmt.Sprintf(format, args...), err, res.ExitCode, out.String(), schedDescribe(p))
	}
	var dl *DeadlockError
	switch {
	case p.Stop != progen.SchedStopNone:
		// Stopped at a random moment: what it printed is what it would have printed, cut short.
		var le *LimitError
		var ie *InterruptError
		switch {
		case p.Stop == progen.SchedStopInterrupt && !errors.As(err, &ie),
			p.Stop == progen.SchedStopTimeout && !(errors.As(err, &le) && le.Limit == LimitTime),
			p.Stop == progen.SchedStopSteps && !(errors.As(err, &le) && le.Limit == LimitSteps):
			fail("a program stopped by %s ended otherwise", p.Stop)
		case !strings.HasPrefix(p.Output, out.String()):
			fail("the output is not what the program printed before its stop, %q", p.Output)
		case p.Stop == progen.SchedStopSteps && res.Steps != p.MaxSteps:
			fail("%d steps; the limit was %d", res.Steps, p.MaxSteps)
		}
	case p.Class == progen.SchedFinish || p.Class == progen.SchedExit:
		if errors.As(err, &dl) {
			fail("a %s program deadlocked: a wake-up was lost, or a deadlock reported where there is none", p.Class)
		}
		if err != nil {
			fail("a %s program did not end by itself", p.Class)
		}
		if out.String() != p.Output || res.ExitCode != p.Status {
			fail("want exit status %d and output %q", p.Status, p.Output)
		}
	case p.Class == progen.SchedDeadlock:
		if !errors.As(err, &dl) {
			fail("a program with a thread blocked for good did not deadlock")
		}
		if msg := schedCheckDeadlock(dl, res, p.Stuck); msg != "" {
			fail("%s", msg)
		}
	}

	checkNoGoroutineLeft(t, goroutines)
}

// schedCheckDeadlock compares a deadlock report with the thread table of the result, and
// returns what disagrees, or "".
func schedCheckDeadlock(dl *DeadlockError, res Result, stuck string) string {
	type key struct{ proc, thread int }
	blocked := map[key]string{}
	for _, th := range res.Threads {
		switch th.State {
		case Blocked:
			blocked[key{th.Proc, th.ID}] = th.BlockedOn
		case Exited:
		default:
			return fmt.Sprintf("deadlock reported while thread %d.%d is %v", th.Proc, th.ID, th.State)
		}
	}
	if dl.Blocked != len(blocked) {
		return fmt.Sprintf("the report counts %d blocked threads; the thread table has %d", dl.Blocked, len(blocked))
	}
	if want := min(len(blocked), MaxDeadlockReport); len(dl.Threads) != want {
		return fmt.Sprintf("the report describes %d threads, want %d", len(dl.Threads), want)
	}
	found := false
	for _, bt := range dl.Threads {
		waits, ok := blocked[key{bt.Proc, bt.Thread}]
		if !ok {
			return fmt.Sprintf("the report lists thread %d.%d, which is not blocked", bt.Proc, bt.Thread)
		}
		if waits != bt.Waits {
			return fmt.Sprintf("the report says thread %d.%d waits for %q; the thread table says %q", bt.Proc, bt.Thread, bt.Waits, waits)
		}
		found = found || bt.Waits == stuck
	}
	if !found && len(blocked) <= MaxDeadlockReport {
		return fmt.Sprintf("no thread of the report waits for %s", stuck)
	}
	return ""
}

// schedDescribe prints the program for a failure: what was generated, then the listing.
func schedDescribe(p *progen.SchedProgram) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", p)
	object.Disassemble(&b, p.Image)
	return b.String()
}

var schedSeedCache struct {
	once  sync.Once
	seeds [][]byte
}

// schedFuzzSeeds are inputs that make one program of each class and variant, and, as more
// bytes to draw from, the object files of the threaded example programs. They are computed
// once: OSS-Fuzz's harness calls the fuzz function once an input.
func schedFuzzSeeds() [][]byte {
	c := &schedSeedCache
	c.once.Do(func() {
		for class := range 10 {
			for variant := range 4 {
				// class, processes, policy, quantum, seed, layers, items, capacities...
				b := []byte{byte(class), byte(variant), byte(variant / 2), byte(variant), 1, 2, 5, 1, 1, 0, 0, 2, 1, 3, 2, 1, 0, 4, 1, 2, 3}
				for i := range 40 {
					b = append(b, byte(i*7+class))
				}
				c.seeds = append(c.seeds, b)
			}
		}
		filepath.WalkDir("../programs/threads", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".s") {
				if img, err := asm.AssembleFile(path); err == nil {
					if b, err := img.MarshalBinary(); err == nil {
						c.seeds = append(c.seeds, b)
					}
				}
			}
			return nil
		})
	})
	return c.seeds
}
