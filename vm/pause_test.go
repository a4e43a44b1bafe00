package vm

import (
	"github.com/google/go-cmp/cmp"
	"net"
	"testing"
	"time"
)

// twoCounters: two threads that count, each its own word, for ever.
const twoCounters = `
        .data
        .align 8
n1:     .quad 0
n2:     .quad 0
        .text
main:   la a0, count2
        li a1, 0
        li a2, 4096
        syscall thread_spawn
        la t0, n1
.l1:    ld t1, 0(t0)
        inc t1
        sd t1, 0(t0)
        j .l1
count2: la t0, n2
.l2:    ld t1, 0(t0)
        inc t1
        nop
        nop
        nop
        nop
        nop
        sd t1, 0(t0)
        j .l2
`

// pausedAfter loads src, takes a snapshot, runs it steps on, and pauses it at the check point
// that comes next: it returns the machine, paused, and the snapshot of its start.
func pausedAfter(t *testing.T, src string, opts Options, steps uint64) (*Machine, *Snapshot) {
	t.Helper()
	m, _ := loadSource(t, src, "", opts)
	s := snapshot(t, m)
	if _, err := m.Resume(Until{Steps: steps}); err != nil {
		t.Fatal(err)
	}
	m.Pause()
	if st, err := m.Resume(Until{}); err != nil || st.Kind != StopInterrupted {
		t.Fatal(st, err)
	}
	return m, s
}

// TestPauseAtCheckpoint checks that a run paused at a check point, before its poll and its
// switch, goes on as a run without the pause: the rest of the check point is made where it was
// due, and the states 5,000 steps on are the same.
func TestPauseAtCheckpoint(t *testing.T) {
	m, s := pausedAfter(t, twoCounters, Options{VirtualClock: true}, 25000)
	at := m.Steps()
	polls := m.cpus[0].polls
	if _, err := m.Resume(Until{Steps: 5000}); err != nil {
		t.Fatal(err)
	}
	run := dump(m)
	runPolls := m.cpus[0].polls
	if err := m.Restore(s); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Resume(Until{Steps: at}); err != nil {
		t.Fatal(err)
	}
	t.Logf("paused at step %d: polls %d in the run, %d in a replay", at, polls, m.cpus[0].polls)
	if _, err := m.Resume(Until{Steps: 5000}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(run, dump(m)); diff != "" {
		t.Errorf("the run after a pause and a replay without it differ (-run +replay):\n%s", diff)
	}
	t.Logf("5000 steps on: polls %d in the run, %d in the replay", runPolls, m.cpus[0].polls)
}

// spinReadProgram connects to addr; a thread counts for ever while the main thread reads
// from the connection, and stores how many bytes it read.
func spinReadProgram(addr string) string {
	data, load := addrData("addr", addr)
	return `.data
` + data + ` .align 8
got:    .quad 0
n:      .quad 0
buf:    .space 64
        .text
main: ` + load + ` li a2, 0
        syscall connect
        mov s0, a0
        la a0, spin
        li a1, 0
        li a2, 4096
        syscall thread_spawn
        mov a0, s0
        la a1, buf
        li a2, 64
        syscall read
        la t0, got
        sd a0, 0(t0)
.w:     j .w
spin:   la t0, n
.l:     ld t1, 0(t0)
        inc t1
        sd t1, 0(t0)
        j .l
`
}

// TestPauseKeepsCompletions checks that a completion that comes while the machine is paused at
// a check point is applied where a replay applies it: at the poll of the check point that the
// pause interrupted, made when the run goes on. The states at every step after are the same.
func TestPauseKeepsCompletions(t *testing.T) {
	send := make(chan struct{})
	addr := goServer(t, func(c net.Conn) { <-send; c.Write([]byte("data")); time.Sleep(5 * time.Second) })
	m, s := pausedAfter(t, spinReadProgram(addr), Options{VirtualClock: true, NetGrants: []NetGrant{{Addr: addr, Connect: true}}}, 20000)
	at := m.Steps()
	close(send)
	for {
		m.net.mu.Lock()
		n := len(m.net.done)
		m.net.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var run [][]string
	for range 40 {
		if _, err := m.Resume(Until{Steps: 1}); err != nil {
			t.Fatal(err)
		}
		run = append(run, dump(m))
	}
	if err := m.Restore(s); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Resume(Until{Steps: at}); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := m.Resume(Until{Steps: 1}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(run[i], dump(m)); diff != "" {
			t.Fatalf("paused at step %d; at step %d the run and the replay differ (-run +replay):\n%s", at, at+uint64(i)+1, diff)
		}
	}
}
