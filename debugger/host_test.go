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

// listenSrc listens at addr and waits in accept, where no client ever comes.
func listenSrc(addr string) string {
	return fmt.Sprintf(`
        .data
addr:   .ascii %q
        .text
main:   la a0, addr
        li a1, %d
        syscall listen
        syscall accept
        li a0, 0
        ret
`, addr, len(addr))
}

// hostSession opens a session of src with cfg, its options on top of testOptions'.
func hostSession(t *testing.T, src string, cfg Config) (*Session, *bytes.Buffer) {
	t.Helper()
	opts := testOptions()
	opts.Grants, opts.NetGrants = cfg.Options.Grants, cfg.Options.NetGrants
	cfg.Image, cfg.Options = assembleText(t, "h.s", src), opts
	var out bytes.Buffer
	s, err := New(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	return s, &out
}

// atCheckpoint opens a session of src(n), with a breakpoint at op, for the n at which a continue's
// stretch ends at a check point with the thread at the breakpoint, and the session looks one step
// ahead there (comesTo): src(n) runs a loop of two steps a turn n times before op.
func atCheckpoint(t *testing.T, src func(n int) string, cfg Config) (*Session, *bytes.Buffer) {
	t.Helper()
	s, _ := hostSession(t, src(1000), cfg)
	exec(t, s, "break op")
	exec(t, s, "continue")
	s, out := hostSession(t, src(1000+int(uint64(1<<16)-s.m.Steps())/2), cfg)
	exec(t, s, "break op")
	return s, out
}

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
	s, _ := hostSession(t, listenSrc("127.0.0.1:0"), Config{Options: vm.Options{NetGrants: []vm.NetGrant{{Addr: "127.0.0.1:0"}}}, Timeout: 300 * time.Millisecond})
	if err := execWithin(t, s, "continue", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := execWithin(t, s, "reverse-continue", 5*time.Second); err != nil {
		t.Error(err)
	}
}

// mkdirSrc counts n down, then makes the directory /g/d at op.
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

// grantTmp grants a temporary directory as /g, and returns its host path.
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
	dir, grants := grantTmp(t)
	s, out := atCheckpoint(t, mkdirSrc, Config{Options: vm.Options{Grants: grants}})
	exec(t, s, "continue")
	if _, err := os.Stat(filepath.Join(dir, "d")); err == nil {
		t.Errorf("at the breakpoint before the mkdir, step %d, the directory is made", s.m.Steps())
	}
	out.Reset()
	if err := s.Exec("set $a1 = 3"); err != nil {
		t.Errorf("set at the furthest point the session has shown was refused: %v\n%s", err, out.String())
	}
}

// acceptSrc listens at 127.0.0.1:0, counts n down, then accepts at op.
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
	s, _ := atCheckpoint(t, acceptSrc, Config{Options: vm.Options{NetGrants: []vm.NetGrant{{Addr: "127.0.0.1:0"}}}})
	if err := execWithin(t, s, "continue", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if s.stop.Kind != vm.StopBreakpoint {
		t.Errorf("continue stopped with %v at step %d, want the breakpoint before the accept", s.stop.Kind, s.m.Steps())
	}
}

// TestDivergeMessage checks that, after a thread ran alone over a mkdir, running all threads in
// the past is refused in the words of what was asked: all threads.
func TestDivergeMessage(t *testing.T) {
	_, grants := grantTmp(t)
	s, _ := hostSession(t, mkdirSrc(3), Config{Options: vm.Options{Grants: grants}})
	for _, line := range []string{"set scheduler-locking on", "thread 1", "stepi 14", "reverse-stepi 10", "set scheduler-locking off"} {
		exec(t, s, line)
	}
	err := s.Exec("stepi")
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
	src := listenSrc(addr)
	reload := func() (*object.Image, error) { return assembleText(t, "h.s", src), nil }
	s, out := hostSession(t, src, Config{Options: vm.Options{NetGrants: []vm.NetGrant{{Addr: addr}}}, Reload: reload})
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
