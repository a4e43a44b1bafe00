package debugger

import (
	"bytes"
	"strings"
	"testing"
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
