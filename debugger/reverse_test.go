package debugger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/vm"
)

// spinlockSrc: two threads take a lock whose test and set are two steps, so both get in.
const spinlockSrc = `# tbug.s: two threads share a counter guarded by a home-made lock that is broken
        .equ    N, 10000
        .data
flag:   .quad   0                   # 0 = free, 1 = taken
inside: .quad   0                   # how many threads are in the critical section
counter: .quad  0
        .text
worker: la      t0, flag
        la      t3, inside
        li      t1, N
.wait:  ld      t2, 0(t0)           # is the lock free?
        bnez    t2, .wait           # BUG: test and set are two steps
        li      t2, 1
        sd      t2, 0(t0)           # take it
        ld      a1, 0(t3)
        addi    a1, a1, 1
        sd      a1, 0(t3)           # inside += 1
        la      a2, counter
        ld      a3, 0(a2)
        addi    a3, a3, 1
        sd      a3, 0(a2)           # counter += 1
        ld      a1, 0(t3)
        addi    a1, a1, -1
        sd      a1, 0(t3)           # inside -= 1
        li      t2, 0
        sd      t2, 0(t0)           # release
        dec     t1
        bnez    t1, .wait
        ret
main:   la      a0, worker
        li      a1, 0
        li      a2, 512
        syscall thread_spawn
        la      a0, worker
        li      a1, 0
        li      a2, 512
        syscall thread_spawn
        li      a0, 2
        syscall thread_join
        li      a0, 3
        syscall thread_join
        la      t0, counter
        ld      a0, 0(t0)
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      a0, 0
        ret
`

// TestReverseContinueToOtherThread: reverse-continue, with one thread focused, back to a
// breakpoint that another thread came to as it was switched in. The session switches to that
// thread and says so, the thread is on the processor as in the forward run, and a stepi then
// executes its instruction, rather than stopping at the same breakpoint a second time.
func TestReverseContinueToOtherThread(t *testing.T) {
	opts := testOptions()
	opts.Sched, opts.Seed = vm.SchedRandom, 1
	var out strings.Builder
	s, err := New(Config{Image: assembleText(t, "spin.s", spinlockSrc), Options: opts}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"break spin.s:18 if *inside > 1", "continue", "delete", "thread 3", "break spin.s:12"} {
		exec(t, s, c)
	}
	out.Reset()
	exec(t, s, "reverse-continue")
	st := s.stop
	if s.cur == nil || s.cur.ID != 2 || st.Kind != vm.StopBreakpoint || st.Thread.ID != 2 {
		t.Fatalf("reverse-continue stopped at %+v, showing thread %s; want thread 1.2 at its breakpoint:\n%s", st, threadName(s.cur), out.String())
	}
	if !strings.Contains(out.String(), "[Switching to thread 1.2]") {
		t.Errorf("the switch of the focus to thread 1.2 is not said:\n%s", out.String())
	}
	if s.cur.State != vm.Running {
		t.Errorf("thread 1.2 is %v at its breakpoint; in the forward run it was on the processor", s.cur.State)
	}
	steps, pc := s.m.Steps(), s.cur.PC
	exec(t, s, "stepi")
	if s.m.Steps() != steps+1 || s.cur.PC == pc {
		t.Errorf("stepi after it: step %d to %d, pc %d to %d; want one instruction of thread 1.2", steps, s.m.Steps(), pc, s.cur.PC)
	}
}

// TestReverseContinueSameStep: a watchpoint and a catchpoint that stop the run at one step (a
// store, then a syscall) are two stops in that order, backwards as forwards.
func TestReverseContinueSameStep(t *testing.T) {
	const src = `        .data
total:  .quad   0
        .text
main:   li      a0, 3
        la      t0, total
        sd      a0, 0(t0)
        syscall print_int
        li      a0, 0
        ret
`
	var out strings.Builder
	s, err := New(Config{Image: assembleText(t, "p.s", src), Options: testOptions()}, &out)
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(cmds ...string) []vm.StopKind {
		var ks []vm.StopKind
		for _, c := range cmds {
			exec(t, s, c)
			ks = append(ks, s.stop.Kind)
		}
		return ks
	}
	exec(t, s, "watch total")
	exec(t, s, "catch syscall print_int")
	got := kinds("continue", "continue", "reverse-continue", "continue", "reverse-continue", "reverse-continue")
	want := []vm.StopKind{vm.StopWatchpoint, vm.StopSyscall, vm.StopWatchpoint, vm.StopSyscall, vm.StopWatchpoint, 0}
	if !slices.Equal(got, want) {
		t.Errorf("continue, continue, reverse-continue, continue, reverse-continue, reverse-continue stopped for %v, want %v:\n%s", got, want, out.String())
	}
	if s.m.Steps() != 0 {
		t.Errorf("the last reverse-continue came to step %d, want the start", s.m.Steps())
	}
}

// ran returns the thread that executes step k+1 of run r: the one whose count of instructions
// it raises.
func (r *run) ran(k uint64) (pid, tid int, ok bool) {
	if k+1 >= uint64(len(r.states)) {
		return 0, 0, false
	}
	for i, p := range r.states[k].Procs {
		for j, t := range p.Threads {
			after := r.states[k+1].Procs
			if i < len(after) && j < len(after[i].Threads) && after[i].Threads[j].Steps > t.Steps {
				return p.ID, t.ID, true
			}
		}
	}
	return 0, 0, false
}

// TestReverseStepiShowsThreadThatRan: with no thread focused, reverse-stepi goes back one
// instruction of the machine, and the thread it shows is the one that executed it, across
// the context switches of a random schedule (as stepi shows the thread that runs).
func TestReverseStepiShowsThreadThatRan(t *testing.T) {
	p := programs(t)[1] // race
	r := p.plainRun(t, 0, nil)
	var out bytes.Buffer
	s := p.newSession(t, &out)
	exec(t, s, "stepi 1500")
	rng := rand.New(rand.NewPCG(3, 4))
	switched := 0
	var last *vm.Thread
	for s.m.Steps() > 0 {
		from := s.m.Steps()
		n := uint64(1)
		if rng.IntN(4) == 0 {
			n = 1 + rng.Uint64N(20)
		}
		exec(t, s, fmt.Sprintf("reverse-stepi %d", n))
		k := s.m.Steps()
		if k != from-min(from, n) {
			t.Fatalf("reverse-stepi %d from step %d came to step %d", n, from, k)
		}
		pid, tid, ok := r.ran(k)
		if !ok {
			t.Fatalf("no thread executes step %d of the run", k+1)
		}
		if s.cur == nil || s.cur.Proc.ID != pid || s.cur.ID != tid {
			t.Fatalf("reverse-stepi %d from step %d to %d shows thread %s; thread %d.%d executed the instruction gone back over:\n%s",
				n, from, k, threadName(s.cur), pid, tid, out.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("thread %d.%d  ", pid, tid)) {
			t.Fatalf("reverse-stepi to step %d does not show thread %d.%d:\n%s", k, pid, tid, out.String())
		}
		if last != nil && last != s.cur {
			switched++
		}
		last = s.cur
		out.Reset()
	}
	if switched < 5 {
		t.Errorf("the thread shown changed %d times going back: the test crosses too few switches", switched)
	}
}

// TestReverseAtThreadStart: going back in a thread that has executed nothing yet stays where
// it is and says whose start it is, and who made the thread when, not that the program starts
// there; reverse-next with no thread focused goes back in the thread shown, which is the same
// start.
func TestReverseAtThreadStart(t *testing.T) {
	p := programs(t)[1] // race
	for _, c := range []struct{ cmds, want string }{
		{"thread 2|reverse-stepi", "No more history: this is the start of thread 1.2 (made by thread 1.1 at step 7)."},
		{"reverse-next", "No more history: this is the start of thread 1.2 (made by thread 1.1 at step 7)."},
		{"reverse-step", "No more history: this is the start of thread 1.2 (made by thread 1.1 at step 7)."},
	} {
		t.Run(c.cmds, func(t *testing.T) {
			var out bytes.Buffer
			s := p.newSession(t, &out)
			exec(t, s, "break worker")
			exec(t, s, "run")
			at := s.m.Steps()
			if s.cur == nil || s.cur.ID != 2 || s.cur.Steps != 0 {
				t.Fatalf("run stopped in thread %s, want thread 1.2 at its start", threadName(s.cur))
			}
			out.Reset()
			for _, cmd := range strings.Split(c.cmds, "|") {
				exec(t, s, cmd)
			}
			if !strings.Contains(out.String(), c.want) {
				t.Errorf("%s at the start of thread 1.2 says:\n%s\nwant %q", c.cmds, out.String(), c.want)
			}
			if strings.Contains(out.String(), "start of the program") {
				t.Errorf("%s at step %d says it is the start of the program:\n%s", c.cmds, at, out.String())
			}
			if s.m.Steps() != at || s.cur.ID != 2 {
				t.Errorf("%s came to step %d in thread %s; want it to stay at step %d in 1.2", c.cmds, s.m.Steps(), threadName(s.cur), at)
			}
		})
	}
	// The start of the program is still that.
	var out bytes.Buffer
	s := p.newSession(t, &out)
	exec(t, s, "reverse-stepi")
	if want := "No more history: this is the start of the program."; !strings.Contains(out.String(), want) {
		t.Errorf("reverse-stepi at step 0 says:\n%s\nwant %q", out.String(), want)
	}
}
