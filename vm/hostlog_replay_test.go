package vm

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// resumePaused resumes m by u, pausing it after d of wall time if it has not stopped.
func resumePaused(t *testing.T, m *Machine, u Until, d time.Duration) Stop {
	t.Helper()
	tm := time.AfterFunc(d, func() { m.Pause() })
	st, err := m.Resume(u)
	tm.Stop()
	m.CancelPause()
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	return st
}

// writerProgram connects to addr and writes 16 KiB of 'A', then 16 KiB of 'B', again and
// again, for ever.
func writerProgram(addr string) string {
	data, load := addrData("addr", addr)
	return `.data
` + data + ` .align 8
bufa:   .space 16384
bufb:   .space 16384
        .text
main:   la t0, bufa
        la a3, bufb
        li t1, 16384
        li t2, 65
        li t3, 66
.fill:  sb t2, 0(t0)
        sb t3, 0(a3)
        inc t0
        inc a3
        dec t1
        bnez t1, .fill
.conn: ` + load + ` li a2, 0
        syscall connect
        mov s0, a0
.loop:  mov a0, s0
        la a1, bufa
        li a2, 16384
        syscall write
        mov a0, s0
        la a1, bufb
        li a2, 16384
        syscall write
        j .loop
`
}

// TestHostLogReplayLeavesSendsAlone checks that a replay leaves a write in flight alone: a
// write blocked on the host (the peer does not read) is in flight when the machine goes back,
// and the replay of the earlier writes must not copy their bytes into the store that the
// goroutine still sends from. The peer must get exactly what the program wrote.
func TestHostLogReplayLeavesSendsAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		<-release
		var b []byte
		buf := make([]byte, 1<<16)
		for {
			c.SetReadDeadline(time.Now().Add(time.Second))
			n, err := c.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- b
	}()
	addr := ln.Addr().String()
	m, _ := loadSource(t, writerProgram(addr), "", Options{VirtualClock: true, NetGrants: []NetGrant{{Addr: addr, Connect: true}}})
	var snaps []*Snapshot
	for {
		snaps = append(snaps, snapshot(t, m))
		st := resumePaused(t, m, Until{Steps: 7}, 300*time.Millisecond)
		if st.Ended {
			t.Fatalf("ended: %v", st.Err)
		}
		if st.Kind == StopInterrupted {
			break // the write is blocked on the host
		}
	}
	furthest := m.Steps()
	var sock *socket
	for _, d := range m.Process().fds {
		if d.sock != nil {
			sock = d.sock
		}
	}
	inflight := sock.wstore[0]
	m.net.mu.Lock()
	t.Logf("inflight %d, done %d, writing %v", m.net.inflight, len(m.net.done), sock.writing)
	m.net.mu.Unlock()
	t.Logf("blocked at step %d, writing %q; %d snapshots", furthest, inflight, len(snaps))
	// Back a few snapshots, and forward to the first write of the other letter.
	for i := len(snaps) - 2; i > 0; i-- {
		if err := m.Restore(snaps[i]); err != nil {
			t.Fatal(err)
		}
		resumePaused(t, m, Until{Steps: 7}, 300*time.Millisecond)
		if len(sock.wstore) > 0 && sock.wstore[0] != inflight {
			t.Logf("the replay from snapshot %d put %q in the store the goroutine sends (%q at its end), at step %d, %p", i, sock.wstore[0], sock.wstore[16383], m.Steps(), &sock.wstore[0])
			break
		}
	}
	close(release)
	b := <-got
	bad := 0
	for i, x := range b {
		want := byte('A')
		if i/16384%2 == 1 {
			want = 'B'
		}
		if x != want {
			bad++
		}
	}
	t.Logf("peer got %d bytes = %.2f blocks", len(b), float64(len(b))/16384)
	if bad > 0 {
		t.Errorf("the peer received %d bytes, %d of them not what the program wrote", len(b), bad)
	}
}

// clientProgram connects to addr, reads what the server says until its end, closes the
// connection, and connects again as long as the word at again is not 0, clearing it first.
func clientProgram(addr string) string {
	data, load := addrData("addr", addr)
	return `.data
` + data + ` .align 8
again:  .quad 0
buf:    .space 64
        .text
main:
.conn: ` + load + ` li a2, 0
        syscall connect
        mov s0, a0
.read:  mov a0, s0
        la a1, buf
        li a2, 64
        syscall read
        li t0, 0
        blt t0, a0, .read
        mov a0, s0
        syscall close
        li a0, 0
        syscall print_int
        la t0, again
        ld t1, 0(t0)
        li t2, 0
        sd t2, 0(t0)
        bnez t1, .conn
        li a0, 0
        ret
`
}

// TestHostLogLiveAfterEnd checks that a run that ended, restored to a point after its last
// dealing with the network and changed there (Diverge allows it), goes on live: a new connect
// completes (the end had closed the network for good).
func TestHostLogLiveAfterEnd(t *testing.T) {
	var accepted atomic.Int32
	addr := goServer(t, func(c net.Conn) { accepted.Add(1); c.Write([]byte("hi")); c.Close() })
	m, _ := loadSource(t, clientProgram(addr), "", Options{VirtualClock: true, NetGrants: []NetGrant{{Addr: addr, Connect: true}}})
	var snaps []*Snapshot
	for {
		snaps = append(snaps, snapshot(t, m))
		st := resumePaused(t, m, Until{Steps: 1}, 2*time.Second)
		if st.Ended {
			break
		}
	}
	// The last snapshot before the end where the log has nothing more.
	var at *Snapshot
	for _, s := range snaps {
		if err := m.Restore(s); err != nil {
			t.Fatal(err)
		}
		if !m.HostAhead() {
			at = s
			break
		}
	}
	if at == nil {
		t.Fatal("no snapshot past the log")
	}
	if err := m.Diverge(); err != nil {
		t.Fatalf("Diverge at step %d: %v", m.Steps(), err)
	}
	p := m.Process()
	p.mem[symbol(t, m, "again")-p.memBase] = 1
	st := resumePaused(t, m, Until{}, 3*time.Second)
	if !st.Ended {
		t.Errorf("after the change at step %d, the run did not end: %v at step %d; the server accepted %d connections", at.Steps, st.Kind, st.Steps, accepted.Load())
	}
}
