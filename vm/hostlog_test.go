package vm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/isa"
)

// filesProgram reads /g/a.txt and prints it, appends a line to /g/log.txt, makes /g/d and
// moves the log into it, printing each result: run twice on the host, the append would
// append twice, and the mkdir and the rename would fail the second time. If the word at flag
// is not 0, it removes /g/a.txt first instead.
const filesProgram = `
        .data
a:      .ascii  "/g/a.txt"
lg:     .ascii  "/g/log.txt"
d:      .ascii  "/g/d"
dl:     .ascii  "/g/d/log.txt"
line:   .ascii  "line\n"
        .align  8
flag:   .quad   0
buf:    .space  64
        .text
main:   la t0, flag
        ld t0, 0(t0)
        beqz t0, .read
        la a0, a
        li a1, 8
        syscall unlink
.read:  la a0, a
        li a1, 8
        li a2, 1                # read
        syscall open
        mov s0, a0
        la a1, buf
        li a2, 64
        syscall read
        mov a2, a0
        li a0, 1
        la a1, buf
        syscall write           # what a.txt held
        mov a0, s0
        syscall close
        la a0, lg
        li a1, 10
        li a2, 22               # write, create, append
        syscall open
        mov s0, a0
        la a1, line
        li a2, 5
        syscall write
        call show               # 5
        mov a0, s0
        syscall close
        la a0, d
        li a1, 4
        syscall mkdir
        call show               # 0
        la a0, lg
        li a1, 10
        la a2, dl
        li a3, 12
        syscall rename
        call show               # 0
        li a0, 0
        ret
show:   syscall print_int
        li a0, 10
        syscall putc
        ret
`

// snapshot takes a snapshot of m, or fails the test.
func snapshot(t *testing.T, m *Machine) *Snapshot {
	t.Helper()
	s, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stepThrough runs m to its end in Resumes of k steps, and returns the state at each stop,
// with the stop, and a snapshot taken at every fourth.
func stepThrough(t *testing.T, m *Machine, k uint64) (states [][]string, snaps []*Snapshot) {
	t.Helper()
	for i := 0; ; i++ {
		if i%4 == 0 {
			snaps = append(snaps, snapshot(t, m))
		}
		st, err := m.Resume(Until{Steps: k})
		if err != nil {
			t.Fatal(err)
		}
		if st.Ended {
			if st.Err != nil {
				t.Fatalf("the run ended with %v", st.Err)
			}
			return append(states, []string{fmt.Sprint("ended at ", st.Steps)}), snaps
		}
		states = append(states, append(dump(m), fmt.Sprintf("stop %v at %d", st.Kind, st.Steps)))
	}
}

// TestHostLogFiles checks that a restored machine replays what the host's files gave, and does
// not touch them again: the file the program appended to holds one line, however often the run
// is replayed; a file changed on the host since is read as it was; and each replay goes
// through the same states as the run, to the same end.
func TestHostLogFiles(t *testing.T) {
	base, grants, _ := fileTree(t)
	m, out := loadSource(t, filesProgram, "", Options{Grants: grants, VirtualClock: true})
	states, snaps := stepThrough(t, m, 7)
	want := "hello\n5\n0\n0\n"
	if out.String() != want {
		t.Fatalf("the run wrote %q, want %q", out.String(), want)
	}
	if err := os.WriteFile(filepath.Join(base, "g/a.txt"), []byte("changed since\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, s := range snaps {
		out.Reset()
		if err := m.Restore(s); err != nil {
			t.Fatal(err)
		}
		if i < len(snaps)-1 && !m.HostAhead() {
			t.Errorf("after a restore to snapshot %d of %d, HostAhead is false", i, len(snaps))
		}
		again, _ := stepThrough(t, m, 7)
		if diff := cmp.Diff(states[4*i:], again); diff != "" {
			t.Errorf("a replay from snapshot %d went another way (-run +replay):\n%s", i, diff)
		}
		if !strings.HasSuffix(want, out.String()) {
			t.Errorf("a replay from snapshot %d wrote %q, not the end of %q", i, out.String(), want)
		}
	}
	b, err := os.ReadFile(filepath.Join(base, "g/d/log.txt"))
	if err != nil || string(b) != "line\n" {
		t.Errorf("after the replays, the log holds %q (%v), want one line", b, err)
	}
	if m.HostAhead() || m.Diverge() != nil {
		t.Errorf("at the end of the log, HostAhead = %v and Diverge = %v; want false and nil", m.HostAhead(), m.Diverge())
	}
}

// TestHostLogDiverges checks that a restored machine whose run asks the host for something else
// than the log holds stops with ErrDiverged, the call failing with EIO, and that Diverge refuses
// to let the past change while the log has more.
func TestHostLogDiverges(t *testing.T) {
	_, grants, seen := fileTree(t)
	m, _ := loadSource(t, filesProgram, "", Options{Grants: grants, VirtualClock: true})
	s := snapshot(t, m)
	if st, err := m.Resume(Until{}); err != nil || st.Err != nil {
		t.Fatalf("the run: %v, %v", err, st.Err)
	}
	if err := m.Restore(s); err != nil {
		t.Fatal(err)
	}
	if err := m.Diverge(); !errors.Is(err, ErrHostAhead) {
		t.Errorf("Diverge before the files were used = %v, want ErrHostAhead", err)
	}
	p := m.Process()
	p.mem[symbol(t, m, "flag")-p.memBase] = 1 // as a debugger's set would: the program unlinks a.txt first
	asked := len(*seen)
	_, err := m.Resume(Until{Steps: 6}) // to just after the unlink
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("a replay that unlinks where the run opened: %v, want ErrDiverged", err)
	}
	if a0 := p.Thread(1).R[isa.A0]; int64(a0) != int64(isa.EIO) {
		t.Errorf("the unlink that the log does not hold returned %d, want EIO (%d)", int64(a0), isa.EIO)
	}
	if len(*seen) != asked {
		t.Errorf("the diverging replay reached the host: %q", (*seen)[asked:])
	}
}

// netProgram listens at the address in a0, a1, accepts two connections, and echoes what each
// sends, in a thread per connection, until the peer closes it; then it prints "done". A thread
// counts meanwhile, so that what the network brings comes at check points as well as when
// every thread waits.
func netProgram(addr string) string {
	data, load := addrData("addr", addr)
	return `.data
` + data + ` .align 8
tids:   .space 16
        .text
main:   la a0, busy
        li a1, 0
        li a2, 4096
        syscall thread_spawn
` + load + ` syscall listen
        mov s0, a0
        li s1, 0
.acc:   mov a0, s0
        syscall accept
        mov a1, a0
        la a0, echo
        li a2, 4096
        syscall thread_spawn
        la t0, tids
        shli t1, s1, 3
        add t0, t0, t1
        sd a0, 0(t0)
        inc s1
        li t0, 2
        blt s1, t0, .acc
        la t0, tids
        ld a0, 0(t0)
        syscall thread_join
        la t0, tids
        ld a0, 8(t0)
        syscall thread_join
        la a0, done
        syscall puts
        li a0, 0
        ret
busy:   li t0, 300000
.count: dec t0
        bnez t0, .count
        ret
echo:   mov s0, a0
        addi sp, sp, -32
.loop:  mov a0, s0
        mov a1, sp
        li a2, 32
        syscall read
        li t0, 1
        blt a0, t0, .end        # the end, or an error
        mov a2, a0
        mov a0, s0
        mov a1, sp
        syscall write
        j .loop
.end:   mov a0, s0
        syscall close
        addi sp, sp, 32
        ret
        .data
done:   .asciz "done\n"
`
}

// TestHostLogNet checks that a restored server replays what the network gave, at the same
// instructions: each replay goes through the states of the run, to the same end, and its
// peers see nothing more.
func TestHostLogNet(t *testing.T) {
	addrs := make(chan string, 4)
	m, out := loadSource(t, netProgram("127.0.0.1:0"), "", Options{VirtualClock: true, Timeout: 20 * time.Second,
		NetGrants: []NetGrant{{Addr: "127.0.0.1:0"}}, Listening: func(a string) { addrs <- a }})
	echoed := make(chan string, 2)
	go func() {
		addr := <-addrs
		for _, msg := range []string{"first", "second message"} {
			go func() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					echoed <- err.Error()
					return
				}
				defer c.Close()
				for _, part := range []string{msg[:3], msg[3:]} {
					c.Write([]byte(part))
					time.Sleep(5 * time.Millisecond)
				}
				c.(*net.TCPConn).CloseWrite()
				b, _ := io.ReadAll(c)
				echoed <- string(b)
			}()
		}
	}()
	states, snaps := stepThrough(t, m, 997)
	got := []string{<-echoed, <-echoed}
	slices.Sort(got)
	if want := []string{"first", "second message"}; !slices.Equal(got, want) {
		t.Fatalf("the clients got %q, want %q", got, want)
	}
	if out.String() != "done\n" {
		t.Fatalf("the server wrote %q", out.String())
	}
	for _, i := range []int{0, len(snaps) / 2, len(snaps) - 1} {
		out.Reset()
		if err := m.Restore(snaps[i]); err != nil {
			t.Fatal(err)
		}
		again, _ := stepThrough(t, m, 997)
		if diff := cmp.Diff(states[4*i:], again); diff != "" {
			t.Errorf("a replay from snapshot %d of %d went another way (-run +replay):\n%s", i, len(snaps), diff)
		}
		if want := "done\n"[snaps[i].Output[0]:]; out.String() != want {
			t.Errorf("a replay from snapshot %d wrote %q, want %q", i, out.String(), want)
		}
	}
	select {
	case a := <-addrs:
		t.Errorf("a replay listened again, at %s", a)
	default:
	}
}
