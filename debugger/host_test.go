package debugger

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// listenSrc listens at 127.0.0.1:0 and waits in accept, where no client ever comes.
const listenSrc = `
        .data
addr:   .ascii "127.0.0.1:0"
        .text
main:   la a0, addr
        li a1, 11
        syscall listen
        syscall accept
        li a0, 0
        ret
`

// execWithin runs line in s, and fails the test if it has not returned after d.
func execWithin(t *testing.T, s *Session, line string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Exec(line) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still running after %v", line, d)
		return nil
	}
}

// TestReverseFromIdlePause checks that a reverse-continue from a continue that waited idle in
// accept until a pause goes back without waiting for the network again.
func TestReverseFromIdlePause(t *testing.T) {
	img := assembleText(t, "l.s", listenSrc)
	opts := testOptions()
	opts.NetGrants = []vm.NetGrant{{Addr: "127.0.0.1:0"}}
	var out bytes.Buffer
	s, err := New(Config{Image: img, Options: opts, Timeout: 300 * time.Millisecond}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := execWithin(t, s, "continue", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	fmt.Println(out.String())
	out.Reset()
	err = execWithin(t, s, "reverse-continue", 5*time.Second)
	fmt.Println(out.String(), err)
}

func mkdirSrc(n int) string {
	return fmt.Sprintf(`
        .data
d:      .ascii "/g/d"
        .text
main:   nop
        li t0, %d
.l:     dec t0
        bnez t0, .l
        la a0, d
        li a1, 4
op:     syscall mkdir
        syscall print_int
        li a0, 0
        ret
`, n)
}

func grantTmp(t *testing.T) (string, []vm.Grant) {
	dir := t.TempDir()
	root, err := vm.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, []vm.Grant{{Guest: "/g", Dir: vm.RootDir(root)}}
}

// TestLookaheadRunsNoSyscall checks that a continue whose stretch ends at a checkpoint where the
// thread is at a breakpoint on a mkdir, and which looks one step ahead (comesTo), does not make
// the directory: the look-ahead stops before a syscall, and leaves nothing in the host log
// ahead of the stop, where set is allowed.
func TestLookaheadRunsNoSyscall(t *testing.T) {
	session := func(n int) (*Session, string, *bytes.Buffer) {
		dir, grants := grantTmp(t)
		opts := testOptions()
		opts.Grants = grants
		var out bytes.Buffer
		s, err := New(Config{Image: assembleText(t, "m.s", mkdirSrc(n)), Options: opts}, &out)
		if err != nil {
			t.Fatal(err)
		}
		exec(t, s, "break op")
		return s, dir, &out
	}
	s, _, _ := session(1000)
	exec(t, s, "continue")
	s0 := s.m.Steps()
	n := 1000 + int(uint64(1<<16)-s0)/2
	s, dir, out := session(n)
	exec(t, s, "continue")
	_, err := os.Stat(filepath.Join(dir, "d"))
	t.Logf("at the breakpoint, step %d (interval %d); HostAhead %v; the directory made: %v", s.m.Steps(), s.interval, s.m.HostAhead(), err == nil)
	out.Reset()
	err = s.Exec("set $a1 = 3")
	t.Logf("set: %v\n%s", err, out.String())
	if err != nil {
		t.Errorf("set at the furthest point the session has shown was refused")
	}
}

func acceptSrc(n int) string {
	return fmt.Sprintf(`
        .data
addr:   .ascii "127.0.0.1:0"
        .text
main:   la a0, addr
        li a1, 11
        syscall listen
        mov s0, a0
        li t0, %d
.l:     dec t0
        bnez t0, .l
        mov a0, s0
op:     syscall accept
        li a0, 0
        ret
`, n)
}

// TestLookaheadDoesNotWaitOnAccept checks the same over an accept: the look-ahead does not wait
// for a client, and continue stops at the breakpoint before it.
func TestLookaheadDoesNotWaitOnAccept(t *testing.T) {
	session := func(n int) *Session {
		opts := testOptions()
		opts.NetGrants = []vm.NetGrant{{Addr: "127.0.0.1:0"}}
		s, err := New(Config{Image: assembleText(t, "a.s", acceptSrc(n)), Options: opts}, new(bytes.Buffer))
		if err != nil {
			t.Fatal(err)
		}
		exec(t, s, "break op")
		return s
	}
	s := session(1000)
	exec(t, s, "continue")
	s0 := s.m.Steps()
	n := 1000 + int(uint64(1<<16)-s0)/2
	s = session(n)
	if err := execWithin(t, s, "continue", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped at step %d", s.m.Steps())
}

// TestDivergeMessage: after a thread ran alone over a mkdir, going back and running
// all threads is refused, in the words of what was asked: all threads.
func TestDivergeMessage(t *testing.T) {
	_, grants := grantTmp(t)
	opts := testOptions()
	opts.Grants = grants
	var out bytes.Buffer
	s, err := New(Config{Image: assembleText(t, "m.s", mkdirSrc(3)), Options: opts}, &out)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "set scheduler-locking on")
	exec(t, s, "thread 1")
	exec(t, s, "stepi 14")
	exec(t, s, "reverse-stepi 10")
	exec(t, s, "set scheduler-locking off")
	out.Reset()
	err = s.Exec("stepi")
	if want := "all threads, where the run had a thread alone: the program used files or the network after this point"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("stepi with all threads where the run had thread 1 alone over a mkdir: %v; want %q...", err, want)
	}
}

// TestReloadClosesTheHost checks that reload gives back what the old program held of the host:
// a server stopped before its accept, reloaded, listens again at the same port.
func TestReloadClosesTheHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src := strings.Replace(listenSrc, `"127.0.0.1:0"`, fmt.Sprintf("%q", addr), 1)
	src = strings.Replace(src, "li a1, 11", fmt.Sprintf("li a1, %d", len(addr)), 1)
	img := assembleText(t, "l.s", src)
	opts := testOptions()
	opts.NetGrants = []vm.NetGrant{{Addr: addr}}
	var out bytes.Buffer
	s, err := New(Config{Image: img, Options: opts, Reload: func() (*object.Image, error) { return img, nil }}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"catch syscall accept", "continue", "reload", "continue"} {
		exec(t, s, line)
	}
	st := s.stop
	if st.Kind != vm.StopSyscall || st.Syscall != isa.SysAccept {
		t.Fatalf("after the reload, continue stopped with %v (syscall %v), want the catchpoint at accept:\n%s", st.Kind, st.Syscall, out.String())
	}
	if fd := int64(st.Thread.R[isa.A0]); fd < 0 {
		t.Errorf("after the reload, listen returned %d: the old program still held the port", fd)
	}
}
