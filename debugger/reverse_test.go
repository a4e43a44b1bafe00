package debugger

import (
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
