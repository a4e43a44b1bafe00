package debugger

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// The tests of reverse execution compare states: a reverse command must land on exactly the
// state that the forward run had at the same step of the machine, and a run forward after it
// must go through the same states again. The reference is a plain run of the machine, one
// step at a time, outside any session.

// A state is what the tests compare of a machine between Resumes: every thread's registers,
// pc, state and steps, a hash of every process's memory, the machine's steps and how much
// output it had written.
//
// It does not say which thread is on the processor (a running thread is runnable here): at a
// step where the scheduler switches, a Resume that stops for steps stops before the switch,
// and one that stops at a breakpoint of the thread switched to stops after it, with the same
// state otherwise. Which thread executes the next step is what tells (see run.next).
type state struct {
	Steps    uint64
	Out, Err uint64
	Procs    []procState
}

type procState struct {
	ID      int
	Exited  bool
	Code    int64
	Base    uint64
	Len     int
	Mem     uint64 // maphash of the memory
	Threads []threadState
}

type threadState struct {
	ID    int
	R     [isa.NumRegs]uint64
	PC    int
	State vm.ThreadState
	Steps uint64
}

var memSeed = maphash.MakeSeed()

func stateOf(m *vm.Machine) state {
	st := state{Steps: m.Steps()}
	st.Out, st.Err = m.Output()
	for _, p := range m.Processes() {
		code, exited := p.ExitCode()
		base, mem := p.Memory()
		ps := procState{ID: p.ID, Exited: exited, Code: code, Base: base, Len: len(mem), Mem: maphash.Bytes(memSeed, mem)}
		for _, t := range p.Threads() {
			state := t.State
			if state == vm.Running {
				state = vm.Runnable
			}
			ps.Threads = append(ps.Threads, threadState{ID: t.ID, R: t.R, PC: t.PC, State: state, Steps: t.Steps})
		}
		st.Procs = append(st.Procs, ps)
	}
	return st
}

// A program is a program to debug, with its options and input.
type program struct {
	name  string
	img   *object.Image
	opts  vm.Options
	stdin []byte   // Config.Stdin, if not nil
	lines []string // else Config.Input's lines, then the end of the input
	watch string   // an expression to watch, for the fuzz
}

// testOptions are small limits, so that hashing memory at every step is cheap.
func testOptions() vm.Options { return vm.Options{StackSize: 16 << 10, MaxMem: 4 << 20} }

// assembleFile assembles a program of programs/, with its text changed by the replacer's
// pairs (smaller counts, so that a run is a few thousand steps).
func assembleFile(t testing.TB, name string, replace ...string) *object.Image {
	t.Helper()
	path := filepath.Join("..", "programs", name)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(replace) > 0 {
		r := strings.NewReplacer(replace...)
		changed := r.Replace(string(src))
		if changed == string(src) {
			t.Fatalf("%s: the replacements %q changed nothing", name, replace)
		}
		src = []byte(changed)
	}
	img, err := asm.Assemble(path, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func assembleText(t testing.TB, name, src string) *object.Image {
	t.Helper()
	img, err := asm.Assemble(name, []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// trapSrc divides by zero in its fourth call of div3, after three that return.
const trapSrc = `
        .text
div3:   enter   0                   # a0 = 100 / (3 - a0)
        push    s0
        li      t0, 3
        sub     t0, t0, a0
        li      s0, 100
        div     a0, s0, t0
        pop     s0
        leave
        ret

main:   enter   0
        push    s0, s1
        li      s0, 0
        li      s1, 0
.loop:  mov     a0, s0
        call    div3
        add     s1, s1, a0
        mov     a0, s1
        syscall print_int
        li      a0, '\n'
        syscall putc
        inc     s0
        li      t0, 10
        blt     s0, t0, .loop
        li      a0, 0
        pop     s1, s0
        leave
        ret
`

func programs(t testing.TB) []program {
	race := testOptions()
	race.Sched, race.Seed, race.Quantum = vm.SchedRandom, 1, 50
	pc := testOptions()
	pc.Quantum = 40
	return []program{
		{name: "fib", img: assembleFile(t, "fib.s"), opts: testOptions(), stdin: []byte("12\n")},
		{name: "race", img: assembleFile(t, "threads/race.s", "100_000", "300"), opts: race},
		{name: "producer_consumer", img: assembleFile(t, "threads/producer_consumer.s", "K, 1000", "K, 20"), opts: pc},
		{name: "trap", img: assembleText(t, "trap.s", trapSrc), opts: testOptions()},
		{name: "echo", img: assembleFile(t, "echo.s"), opts: testOptions(), lines: []string{"one", "two two", "three"}},
		{name: "echo_stdin", img: assembleFile(t, "echo.s"), opts: testOptions(), stdin: []byte("a file\nof two lines\n")},
	}
}

// newSession starts a session on p, writing its transcript to out.
func (p program) newSession(t testing.TB, out *bytes.Buffer) *Session {
	t.Helper()
	cfg := Config{Image: p.img, Options: p.opts, Stdin: p.stdin}
	if p.stdin == nil {
		lines := slices.Clone(p.lines)
		cfg.Input = func() (string, error) {
			if len(lines) == 0 {
				return "", io.EOF
			}
			l := lines[0]
			lines = lines[1:]
			return l, nil
		}
	}
	s, err := New(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadPlain loads p as the session does, with nothing of the session around it: input
// comes from feed.
func (p program) loadPlain(t testing.TB) (*vm.Machine, func()) {
	t.Helper()
	opts := p.opts
	opts.CPUs, opts.VirtualClock, opts.FeedInput = 1, true, true
	opts.Stdout, opts.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	m, err := vm.Load(p.img, opts)
	if err != nil {
		t.Fatal(err)
	}
	lines := slices.Clone(p.lines)
	if p.stdin != nil {
		if err := m.FeedInput(p.stdin, true); err != nil {
			t.Fatal(err)
		}
	}
	feed := func() {
		var err error
		if len(lines) == 0 {
			err = m.FeedInput(nil, true)
		} else {
			err = m.FeedInput([]byte(lines[0]+"\n"), false)
			lines = lines[1:]
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return m, feed
}

// A run is the states of a plain run, one step at a time.
type run struct {
	states []state // by step
	end    state   // the state once the run is over
	endAt  uint64
}

// plainRun runs p alone, one step at a time, recording the state at every step; change, if
// not nil, is called at step at (as a user's set would be).
func (p program) plainRun(t testing.TB, at uint64, change func(*vm.Machine)) *run {
	t.Helper()
	m, feed := p.loadPlain(t)
	r := &run{}
	for {
		if m.Steps() == at && change != nil {
			change(m)
		}
		if uint64(len(r.states)) == m.Steps() {
			r.states = append(r.states, stateOf(m))
		}
		if len(r.states) > 200_000 {
			t.Fatalf("%s: more than 200,000 steps", p.name)
		}
		st, err := m.Resume(vm.Until{Steps: 1})
		if err != nil {
			t.Fatal(err)
		}
		if st.Kind == vm.StopInput {
			feed()
			continue
		}
		if st.Ended {
			r.end, r.endAt = stateOf(m), st.Steps
			break
		}
	}
	return r
}

// check compares the session's state with the run's at the same step.
func (r *run) check(t *testing.T, s *Session, what string) {
	t.Helper()
	got := stateOf(s.m)
	want := r.end
	if s.ended == nil {
		if got.Steps >= uint64(len(r.states)) {
			t.Fatalf("%s: at step %d, past the end of the run (%d steps)", what, got.Steps, r.endAt)
		}
		want = r.states[got.Steps]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s: at step %d the state is not the forward run's (-want +got):\n%s", what, got.Steps, diff)
	}
}

// exec runs a command line and fails the test if it fails.
func exec(t *testing.T, s *Session, line string) {
	t.Helper()
	if err := s.Exec(line); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
}

func TestForwardStatesArePlainRuns(t *testing.T) {
	for _, p := range programs(t) {
		t.Run(p.name, func(t *testing.T) {
			r := p.plainRun(t, 0, nil)
			var out bytes.Buffer
			s := p.newSession(t, &out)
			rng := rand.New(rand.NewPCG(1, 2))
			for s.ended == nil {
				n := 1 + rng.IntN(200)
				exec(t, s, fmt.Sprintf("stepi %d", n))
				r.check(t, s, fmt.Sprintf("stepi %d", n))
			}
		})
	}
}

// intervals are the distances between checkpoints the tests run sessions with: the
// session's own, longer than any of the runs, so that every step back starts over from the
// first snapshot; and a short one, so that they go back through many.
var intervals = []uint64{1 << 16, 37}

// TestReverseStepiEveryStep goes back from the end of each program to its start one
// instruction at a time, and so through every context switch, syscall and trap of the run:
// each step back lands on the forward run's state one step earlier.
func TestReverseStepiEveryStep(t *testing.T) {
	for _, p := range programs(t) {
		if p.lines != nil {
			continue // see TestReverseFedInput
		}
		r := p.plainRun(t, 0, nil)
		for _, iv := range intervals {
			t.Run(fmt.Sprintf("%s/%d", p.name, iv), func(t *testing.T) {
				var out bytes.Buffer
				s := p.newSession(t, &out)
				s.interval = iv
				exec(t, s, "continue")
				if p.name == "trap" {
					if s.ended != nil || s.stop.Kind != vm.StopTrapped {
						t.Fatalf("the run stopped with %v, not at the trap", s.stop.Kind)
					}
					r.check(t, s, "continue to the trap")
					exec(t, s, "continue")
				}
				if s.ended == nil {
					t.Fatalf("the run has not ended: %v", s.stop.Kind)
				}
				r.check(t, s, "continue to the end")
				for k := r.endAt; k > 0; k-- {
					exec(t, s, "reverse-stepi")
					if got := s.m.Steps(); got != k-1 {
						t.Fatalf("reverse-stepi from step %d went to step %d", k, got)
					}
					r.check(t, s, fmt.Sprintf("reverse-stepi from step %d", k))
				}
				// At the start, a step back stays there and says so: no failure.
				exec(t, s, "reverse-stepi")
				if s.m.Steps() != 0 {
					t.Fatalf("reverse-stepi at the start went to step %d", s.m.Steps())
				}
			})
		}
	}
}

// breakAddrs returns n instruction addresses of p's code, drawn from rng.
func breakAddrs(p program, rng *rand.Rand, n int) []uint64 {
	var addrs []uint64
	for range n {
		addrs = append(addrs, isa.CodeAddr(rng.IntN(len(p.img.Text))))
	}
	return addrs
}

// next returns the pc of the thread that executes step k+1 of run r, before it does.
func (r *run) next(k int) (pc int, ok bool) {
	if k+1 >= len(r.states) {
		return 0, false
	}
	for i, p := range r.states[k].Procs {
		for j, t := range p.Threads {
			after := r.states[k+1].Procs
			if i < len(after) && j < len(after[i].Threads) && after[i].Threads[j].Steps > t.Steps {
				return t.PC, true
			}
		}
	}
	return 0, false
}

// hits returns the steps of run r at which a thread comes to one of addrs and executes the
// instruction there.
func (r *run) hits(addrs []uint64) []uint64 {
	var steps []uint64
	for k := range r.states {
		if pc, ok := r.next(k); ok && slices.Contains(addrs, isa.CodeAddr(pc)) {
			steps = append(steps, uint64(k))
		}
	}
	return steps
}

// TestReverseCommands runs each program forward with stepi and continue to breakpoints, and
// then back with every reverse command, checking each landing against the forward run: the
// state, and the step it lands on where the command decides it alone.
func TestReverseCommands(t *testing.T) {
	for _, p := range programs(t) {
		if p.lines != nil {
			continue // see TestReverseFedInput
		}
		r := p.plainRun(t, 0, nil)
		for _, iv := range intervals {
			for seed := range uint64(4) {
				t.Run(fmt.Sprintf("%s/%d/%d", p.name, iv, seed), func(t *testing.T) {
					var out bytes.Buffer
					s := p.newSession(t, &out)
					s.interval = iv
					rng := rand.New(rand.NewPCG(seed, iv))
					addrs := breakAddrs(p, rng, 1+rng.IntN(3))
					for _, a := range addrs {
						exec(t, s, fmt.Sprintf("break *%#x", a))
					}
					hits := r.hits(addrs)
					// Forward, to the end.
					for s.ended == nil {
						from := s.m.Steps()
						if rng.IntN(3) == 0 {
							exec(t, s, "continue")
							r.check(t, s, "continue")
							want := r.endAt
							if i, _ := slices.BinarySearch(hits, from+1); i < len(hits) {
								want = hits[i]
							}
							if p.name == "trap" && s.ended == nil && s.stop.Kind == vm.StopTrapped {
								want = r.endAt
							}
							if got := s.m.Steps(); got != want {
								t.Fatalf("continue from step %d went to step %d, want %d", from, got, want)
							}
						} else {
							n := 1 + rng.IntN(300)
							exec(t, s, fmt.Sprintf("stepi %d", n))
							r.check(t, s, fmt.Sprintf("stepi %d from step %d", n, from))
						}
					}
					// Back, to the start.
					for i := 0; s.m.Steps() > 0; i++ {
						if i > 10_000 {
							t.Fatal("more than 10,000 reverse commands do not reach the start")
						}
						from := s.m.Steps()
						line := []string{"reverse-stepi", "reverse-continue", "reverse-step", "reverse-next", "reverse-finish"}[rng.IntN(5)]
						if line == "reverse-stepi" {
							line += fmt.Sprintf(" %d", 1+rng.IntN(100))
						}
						err := s.Exec(line)
						what := fmt.Sprintf("%s from step %d", line, from)
						if err != nil && !errors.Is(err, errStart) {
							if line == "reverse-finish" {
								continue // in main, or in a thread's first function
							}
							t.Fatalf("%s: %v", what, err)
						}
						r.check(t, s, what)
						got := s.m.Steps()
						if got == from && strings.HasPrefix(line, "reverse-") && s.cur != nil && s.cur.Steps == 0 {
							continue // at the start of the thread shown, which it goes back in
						}
						if got >= from {
							t.Fatalf("%s went to step %d", what, got)
						}
						switch {
						case strings.HasPrefix(line, "reverse-stepi"):
							var n uint64
							fmt.Sscanf(line, "reverse-stepi %d", &n)
							if want := from - min(from, n); got != want {
								t.Fatalf("%s went to step %d, want %d", what, got, want)
							}
						case line == "reverse-continue":
							var want uint64
							if i, _ := slices.BinarySearch(hits, from); i > 0 {
								want = hits[i-1]
							}
							if got != want {
								t.Fatalf("%s went to step %d, want %d (breakpoints at steps %v)", what, got, want, hits)
							}
						case line == "reverse-finish":
							if op := s.instr(s.cur).Op(); op != isa.CALL && op != isa.CALLR {
								t.Fatalf("%s came to %v, not to a call", what, op)
							}
						}
					}
				})
			}
		}
	}
}

// TestReverseFedInput goes back in a program whose input is fed a line at a time
// (Config.Input): a restored run must read the input in the pieces it was fed in, not all the
// input fed after the snapshot at once.
func TestReverseFedInput(t *testing.T) {
	p := programs(t)[4]
	r := p.plainRun(t, 0, nil)
	var out bytes.Buffer
	s := p.newSession(t, &out)
	exec(t, s, "continue")
	for k := r.endAt; k > 0; k-- {
		exec(t, s, "reverse-stepi")
		r.check(t, s, fmt.Sprintf("reverse-stepi from step %d", k))
	}
}

// TestOutputShownOnce goes back and forth over each program's run, to its end more than
// once: every state on the way is the forward run's, and the transcript shows the program's
// output once.
func TestOutputShownOnce(t *testing.T) {
	for _, p := range programs(t) {
		if p.lines != nil || p.name == "producer_consumer" {
			continue // fed input: see TestReverseFedInput; producer_consumer's output comes in pieces
		}
		r := p.plainRun(t, 0, nil)
		t.Run(p.name, func(t *testing.T) {
			var out bytes.Buffer
			s := p.newSession(t, &out)
			s.interval = 53
			exec(t, s, "run")
			for s.ended == nil {
				exec(t, s, "continue") // past the trap
			}
			want := r.outText(t, p)
			rng := rand.New(rand.NewPCG(3, 4))
			for range 20 {
				back := 1 + rng.Uint64N(s.m.Steps())
				exec(t, s, fmt.Sprintf("reverse-stepi %d", back))
				r.check(t, s, "reverse-stepi")
				for range 3 {
					if s.ended != nil {
						break
					}
					exec(t, s, fmt.Sprintf("stepi %d", 1+rng.IntN(int(back))))
					r.check(t, s, "stepi")
				}
				if rng.IntN(3) == 0 {
					exec(t, s, "reverse-continue")
					r.check(t, s, "reverse-continue")
				}
				for s.ended == nil {
					exec(t, s, "continue")
				}
				r.check(t, s, "continue")
			}
			if n := strings.Count(out.String(), want); n != 1 {
				t.Fatalf("the transcript shows the output %q %d times:\n%s", want, n, out.String())
			}
		})
	}
}

// outText returns what p writes, from a plain run.
func (r *run) outText(t *testing.T, p program) string {
	t.Helper()
	opts := p.opts
	var out bytes.Buffer
	opts.CPUs, opts.VirtualClock, opts.Stdout, opts.Stderr = 1, true, &out, &out
	opts.Stdin = bytes.NewReader(p.stdin)
	vm.Run(p.img, opts)
	if out.Len() == 0 || uint64(out.Len()) != r.end.Out+r.end.Err {
		t.Fatalf("%s writes %q, and its run counted %d bytes", p.name, out.String(), r.end.Out+r.end.Err)
	}
	return out.String()
}

// TestSetInThePast changes a register in the past: the run after it is dropped, the run
// forward goes on from the change, and so does a run forward again from before it; going back
// lands on states of the new run, never of the dropped one.
func TestSetInThePast(t *testing.T) {
	p := programs(t)[0] // fib
	const at = 400
	r := p.plainRun(t, at, func(m *vm.Machine) { m.Process().Thread(1).R[isa.S1] += 1000 })
	fib := symbol(t, p.img, "fib")
	hits := r.hits([]uint64{fib})
	for _, iv := range intervals {
		t.Run(fmt.Sprint(iv), func(t *testing.T) {
			var out bytes.Buffer
			s := p.newSession(t, &out)
			s.interval = iv
			exec(t, s, "stepi 600")
			exec(t, s, "reverse-stepi 200")
			exec(t, s, "set $s1 = $s1 + 1000")
			// With one checkpoint, at the start, set does not see that it is in the past
			// (cmdSet compares the step with the last checkpoint's, not with the furthest
			// step reached).
			if iv < 400 && !strings.Contains(out.String(), "a change in the past") {
				t.Errorf("set in the past does not say that the run after it is dropped:\n%s", out.String())
			}
			r.check(t, s, "set")
			exec(t, s, "stepi 100")
			r.check(t, s, "stepi 100 after the set")
			exec(t, s, "reverse-stepi 150")
			r.check(t, s, "reverse-stepi 150, to before the set")
			exec(t, s, "stepi 100")
			r.check(t, s, "stepi 100 past the set")
			exec(t, s, fmt.Sprintf("break *%#x", fib))
			from := s.m.Steps()
			exec(t, s, "continue")
			r.check(t, s, "continue")
			if i, _ := slices.BinarySearch(hits, from+1); s.m.Steps() != hits[i] {
				t.Fatalf("continue from step %d went to step %d, want %d", from, s.m.Steps(), hits[i])
			}
			for range 3 {
				from := s.m.Steps()
				exec(t, s, "reverse-continue")
				r.check(t, s, "reverse-continue")
				if i, _ := slices.BinarySearch(hits, from); s.m.Steps() != hits[i-1] {
					t.Fatalf("reverse-continue from step %d went to step %d, want %d", from, s.m.Steps(), hits[i-1])
				}
			}
			exec(t, s, "delete")
			exec(t, s, "continue")
			r.check(t, s, "continue to the end")
			exec(t, s, "reverse-stepi 1000")
			r.check(t, s, "reverse-stepi 1000 from the end")
		})
	}
}

// TestReverseNextOverCall goes back with reverse-next from the instruction after a call that
// has returned: it lands on the call, in the same frame, not in the function called.
func TestReverseNextOverCall(t *testing.T) {
	p := programs(t)[0] // fib
	r := p.plainRun(t, 0, nil)
	// The instruction after fib's first call of itself.
	fib := symbol(t, p.img, "fib")
	i, _ := isa.CodeIndex(fib, len(p.img.Text))
	for p.img.Text[i].Op() != isa.CALL {
		i++
	}
	after := isa.CodeAddr(i + 1)
	var out bytes.Buffer
	s := p.newSession(t, &out)
	exec(t, s, fmt.Sprintf("break *%#x", after))
	exec(t, s, "continue")
	exec(t, s, "continue")
	sp := s.cur.R[isa.SP]
	exec(t, s, "reverse-next")
	r.check(t, s, "reverse-next")
	if s.cur.PC != i || s.cur.R[isa.SP] != sp {
		t.Fatalf("reverse-next from %#x came to %s with sp %#x; want the call at %#x with sp %#x",
			after, s.symbolize(s.cur, s.cur.PCAddr()), s.cur.R[isa.SP], isa.CodeAddr(i), sp)
	}
}

func symbol(t *testing.T, img *object.Image, name string) uint64 {
	t.Helper()
	for _, sym := range img.Symbols {
		if sym.Name == name {
			return sym.Addr
		}
	}
	t.Fatalf("no symbol %s", name)
	return 0
}
