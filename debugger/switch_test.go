package debugger

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/vm"
)

// twoProcsSrc: process 1 starts process 2 at child; each makes a second thread, so that both
// have a thread 1 and a thread 2, and all four count down a loop.
const twoProcsSrc = `        .text
work:   li      t1, 40
.l:     dec     t1
        bnez    t1, .l
        ret
main:   la      a0, child
        li      a1, 0
        li      a2, 0
        li      a3, 1
        syscall start
        mov     s0, a0
        la      a0, work
        li      a1, 0
        li      a2, 256
        syscall thread_spawn
        call    work
        li      a0, 2
        syscall thread_join
        mov     a0, s0
        syscall wait
        li      a0, 0
        ret
child:  la      a0, work
        li      a1, 0
        li      a2, 256
        syscall thread_spawn
        call    work
        li      a0, 2
        syscall thread_join
        li      a0, 0
        ret
`

// TestBreakSwitchTo: break switch to PID.TID stops only at switches to that thread of that
// process; a bare TID is the current process's thread, as in break ... thread N and thread N.
func TestBreakSwitchTo(t *testing.T) {
	for _, c := range []struct{ arg, want, spec string }{
		{"2", "1.2", "switch to 1.2"},
		{"1.2", "1.2", "switch to 1.2"},
		{"2.2", "2.2", "switch to 2.2"},
		{"2.1", "2.1", "switch to 2.1"},
	} {
		t.Run(c.arg, func(t *testing.T) {
			opts := testOptions()
			opts.Quantum = 10
			var out bytes.Buffer
			s, err := New(Config{Image: assembleText(t, "two.s", twoProcsSrc), Options: opts}, &out)
			if err != nil {
				t.Fatal(err)
			}
			exec(t, s, "break switch to "+c.arg)
			if !strings.Contains(out.String(), "Breakpoint 1 at every context "+c.spec+"\n") {
				t.Errorf("break switch to %s says:\n%s\nwant the breakpoint at every context %s", c.arg, out.String(), c.spec)
			}
			stops := 0
			for s.ended == nil {
				exec(t, s, "continue")
				if s.ended != nil {
					break
				}
				stops++
				if got := threadName(s.stop.Thread); got != c.want {
					t.Fatalf("break switch to %s stopped at a switch to thread %s:\n%s", c.arg, got, out.String())
				}
				if stops > 1000 {
					t.Fatal("more than 1,000 stops")
				}
			}
			if stops == 0 {
				t.Errorf("break switch to %s never stopped:\n%s", c.arg, out.String())
			}
		})
	}
}

// TestTraceSwitchesAsTraceSched: trace switches on says of each switch what spindle run
// --trace-sched (the machine's trace) says: the step, the threads and why, with what a thread
// that blocked waits for.
func TestTraceSwitchesAsTraceSched(t *testing.T) {
	img := assembleFile(t, "threads/race.s", "100_000", "300")
	opts := testOptions()
	opts.Sched, opts.Seed, opts.Quantum = vm.SchedRandom, 1, 50

	var trace bytes.Buffer
	plain := opts
	plain.CPUs, plain.VirtualClock, plain.Trace, plain.TraceFormat = 1, true, &trace, vm.TraceText
	plain.Stdout, plain.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	m, err := vm.Load(img, plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Resume(vm.Until{}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	var want []string
	re := regexp.MustCompile(`^step (\d+) t=\d+ns cpu0 switch (\S+) -> (\S+) \((.*)\)$`)
	for _, l := range strings.Split(trace.String(), "\n") {
		if g := re.FindStringSubmatch(l); g != nil && g[3] != "-" {
			want = append(want, fmt.Sprintf("[switch at step %s: %s -> %s (%s)]", g[1], g[2], g[3], g[4]))
		}
	}

	var out bytes.Buffer
	s, err := New(Config{Image: img, Options: opts}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "trace switches on")
	exec(t, s, "continue")
	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "[switch at step ") {
			got = append(got, l)
		}
	}
	if !slices.ContainsFunc(want, func(l string) bool { return strings.Contains(l, "(blocked: thread_join of thread 2)") }) {
		t.Fatalf("the trace has no switch away from a blocked thread_join:\n%s", trace.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trace switches on differs from the machine's trace (-trace +session):\n%s", diff)
	}
}
