//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The echo server of programs/net, run by the real binary and hit by real clients: Go's net
// package and nc. A golden script cannot drive a client, so these are Go tests.

// server is a spindle run of a program that listens, and the address it listens at.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr bytes.Buffer // what came after the listening line
	done   chan struct{}
}

// startServer runs spindle with args and waits, up to 10 s, for the line that says where the
// program listens. The run is stopped when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	return startServerOut(t, nil, args...)
}

// startServerOut is startServer with the standard output going to stdout.
func startServerOut(t *testing.T, stdout io.Writer, args ...string) *server {
	t.Helper()
	s := &server{t: t, cmd: exec.Command(filepath.Join(binDir, "spindle"), args...), done: make(chan struct{})}
	s.cmd.Stdout = stdout
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan string, 1)
	go func() {
		defer close(s.done)
		r := bufio.NewReader(pipe)
		for {
			line, err := r.ReadString('\n')
			if a, ok := strings.CutPrefix(line, "spindle: listening on "); ok && s.addr == "" {
				addrs <- strings.TrimSpace(a)
			} else {
				s.mu.Lock()
				s.stderr.WriteString(line)
				s.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
	select {
	case s.addr = <-addrs:
	case <-s.done:
		s.cmd.Wait()
		t.Fatalf("spindle %s ended without listening: %s", strings.Join(args, " "), s.errors())
	case <-time.After(10 * time.Second):
		t.Fatalf("spindle %s did not say where it listens within 10 s: %s", strings.Join(args, " "), s.errors())
	}
	return s
}

func (s *server) errors() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// checkQuiet fails the test if the program wrote anything to stderr after the listening line.
func (s *server) checkQuiet() {
	s.t.Helper()
	if e := s.errors(); e != "" {
		s.t.Errorf("stderr: %s", e)
	}
}

// hangUp connects to addr, writes sent, and closes the connection without reading: with reset,
// abruptly (a reset, not an orderly end), as a client that crashes does.
func hangUp(t *testing.T, addr string, sent []byte, reset bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(sent)
	if reset {
		c.(*net.TCPConn).SetLinger(0)
	}
	c.Close()
}

// garbage is n bytes of every value in turn, control characters, invalid UTF-8 and NULs among
// them.
func garbage(n int) []byte {
	b := make([]byte, 0, n)
	for i := range n {
		b = append(b, byte(i*7))
	}
	return b
}

// stall opens n connections to addr that stall: the odd ones send part and no more, the even
// ones nothing. They are closed when the test ends.
func stall(t *testing.T, addr string, n int, part string) []net.Conn {
	t.Helper()
	var stalled []net.Conn
	t.Cleanup(func() {
		for _, c := range stalled {
			c.Close()
		}
	})
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 1 {
			io.WriteString(c, part)
		}
		stalled = append(stalled, c)
	}
	return stalled
}

// echoServer runs programs/net/echo_server.s at a port the host chooses.
func echoServer(t *testing.T, flags ...string) *server {
	args := append([]string{"run", "--net", "127.0.0.1:0"}, flags...)
	return startServer(t, append(args, "../programs/net/echo_server.s", "127.0.0.1:0")...)
}

// echo sends msg to the server at addr on a connection of its own, while it reads the answer,
// then shuts its side and reads to the end: the answer must be msg, exactly.
func echo(addr string, msg []byte) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if err := <-werr; err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("sent %d bytes, got %d back, which differ from them", len(msg), len(got))
	}
	return nil
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestEchoServerClients has several clients at once, each with a payload of its own, large
// ones included, and each must get exactly its own bytes back.
func TestEchoServerClients(t *testing.T) {
	for _, cpus := range []string{"1", "2"} {
		t.Run("cpus "+cpus, func(t *testing.T) {
			s := echoServer(t, "--cpus", cpus)
			sizes := []int{0, 1, 5, 4096, 4097, 100_000, 1 << 20, 3 << 20}
			var wg sync.WaitGroup
			errs := make(chan error, len(sizes))
			for _, n := range sizes {
				msg := random(t, n)
				wg.Go(func() {
					if err := echo(s.addr, msg); err != nil {
						errs <- fmt.Errorf("%d bytes: %v", n, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			s.checkQuiet()
		})
	}
}

// TestEchoServerTurns has clients that each take turns with the server, a line at a time,
// all at once: each must read its own lines, in order.
func TestEchoServerTurns(t *testing.T) {
	s := echoServer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			r := bufio.NewReader(c)
			for j := range 10 {
				want := fmt.Sprintf("client %d, line %d\n", i, j)
				if _, err := io.WriteString(c, want); err != nil {
					errs <- err
					return
				}
				got, err := r.ReadString('\n')
				if err != nil || got != want {
					errs <- fmt.Errorf("client %d read %q, %v; want %q", i, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEchoServerNc is the echo server as a person tries it, with nc.
func TestEchoServerNc(t *testing.T) {
	nc, err := exec.LookPath("nc")
	if err != nil {
		t.Skip("nc is not installed (Debian's netcat-openbsd has it)")
	}
	s := echoServer(t)
	host, port, _ := net.SplitHostPort(s.addr)
	for _, msg := range [][]byte{[]byte("hello, world\n"), random(t, 300_000)} {
		cmd := exec.Command(nc, "-N", "-w", "10", host, port) // -N: shut down the socket at the end of the input
		cmd.Stdin = bytes.NewReader(msg)
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("nc: %v", err)
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("nc sent %d bytes and got %d back, which differ from them", len(msg), len(got))
		}
	}
}

// TestEchoServerFaults checks that clients that misbehave do not stop the server from serving
// another client, which is then echoed in full.
func TestEchoServerFaults(t *testing.T) {
	s := echoServer(t)
	ok := func(after string) {
		t.Helper()
		if err := echo(s.addr, random(t, 200_000)); err != nil {
			t.Fatalf("after %s, a client: %v", after, err)
		}
	}

	// A client that goes away mid-message, without reading what was echoed: it closes with
	// bytes unread, so the server's write fails (a reset), and its thread must end alone.
	for range 5 {
		hangUp(t, s.addr, random(t, 100_000), true)
	}
	ok("clients that disconnected mid-message")

	// Garbage: every byte value, control characters, invalid UTF-8, NULs. The server echoes
	// bytes, and these are bytes.
	if err := echo(s.addr, garbage(256*8)); err != nil {
		t.Errorf("garbage: %v", err)
	}
	ok("garbage")

	// 500 connections that stall: some send nothing, some half a line. Each holds a thread
	// parked in read; the next client is served all the same, and the server does not spin.
	stalled := stall(t, s.addr, 500, "half a li")
	ok("500 connections that stall")
	// Every stalled connection is accepted, its thread waiting in read: the half lines came
	// back, and the server then uses next to no CPU.
	buf := make([]byte, 9)
	for i := 1; i < len(stalled); i += 2 {
		stalled[i].SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(stalled[i], buf); err != nil || string(buf) != "half a li" {
			t.Fatalf("stalled connection %d read %q, %v", i, buf, err)
		}
	}
	before := cpuTicks(t, s.cmd.Process.Pid)
	time.Sleep(time.Second)
	if used := cpuTicks(t, s.cmd.Process.Pid) - before; used > 20 {
		t.Errorf("with every thread waiting on the network, the server used %d ms of CPU in 1 s", used*10)
	}
	s.checkQuiet()
}

// TestEchoServerLimits runs the server with room for few connections: a client past the
// limit waits, or is refused, and the server goes on serving the others once they leave.
func TestEchoServerLimits(t *testing.T) {
	// Descriptors 0, 1 and 2, the listener, and two connections.
	s := echoServer(t, "--max-fds", "6")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if err := roundTrip(c, "held\n"); err != nil {
			t.Fatal(err)
		}
	}
	// A third waits in accept's queue; the server says accept failed, and goes on.
	third, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.errors(), "echo_server.s: accept failed; going on") {
		if time.Now().After(deadline) {
			t.Fatalf("no word of the failed accept within 10 s; stderr: %q", s.errors())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range held {
		c.Close()
	}
	if err := roundTrip(third, "served at last\n"); err != nil {
		t.Errorf("the third client, once the others left: %v", err)
	}
}

// roundTrip writes line on c and reads it back.
func roundTrip(c net.Conn, line string) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line); err != nil {
		return err
	}
	got := make([]byte, len(line))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != line {
		return fmt.Errorf("read %q, want %q", got, line)
	}
	return nil
}

// cpuTicks is the CPU time that process pid has used, in clock ticks (10 ms), from /proc.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime is field 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

// TestEchoServerTrace checks that --trace-sched shows the lesson: threads parked on accept
// and on read, and woken.
func TestEchoServerTrace(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace.txt")
	s := echoServer(t, "--cpus", "1", "--trace-sched", trace)
	if err := echo(s.addr, []byte("traced\n")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"switch 1.1 -> 1.2 (blocked: accept on descriptor 3)",
		"wake 1.1 (accept on descriptor 3)",
		"(blocked: read from descriptor 4)",
		"wake 1.3 (read from descriptor 4)",
	}
	// The trace is flushed at the end of the run.
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end within 10 s of Ctrl-C")
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("the trace has no %q:\n%s", w, b)
		}
	}
}
