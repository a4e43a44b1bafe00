//go:build linux

package tests

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a test reads while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestDebugServer debugs the echo server with a real client: it stops where the server writes
// the client's line back, steps back over the read that brought the line, and goes back to the
// start and forward to the same stop again. Forward again, the run takes what the network gave
// from its log: the server listens once, the client's line is read once, and the client gets
// its echo once, when the debugger goes past the write for the first time.
func TestDebugServer(t *testing.T) {
	script := filepath.Join(t.TempDir(), "cmds.txt")
	cmds := `catch syscall write
continue
print $a2
x/s $a1
reverse-stepi 4
info registers a0
reverse-continue
continue
print $a2
info threads
delete
stepi
quit
`
	if err := os.WriteFile(script, []byte(cmds), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s := startServerOut(t, &out, "debug", "--seed", "1", "--net", "127.0.0.1:0", "--batch", script,
		"../programs/net/echo_server.s", "127.0.0.1:0")
	c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c) // to the end: the session quits, and the connection closes
	if err != nil {
		t.Fatalf("the client read %q, then %v; the session: %s", got, err, out.String())
	}
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the session did not end: %s", out.String())
	}
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("spindle debug: %v; stderr: %s", err, s.errors())
	}
	if string(got) != "hello\n" {
		t.Errorf("the client got %q, want the echo once", got)
	}
	transcript := out.String()
	for _, want := range []string{
		"$a2 = 6\n",
		`"hello\n"`,
		"a0                  0x6                    6\n", // the read's count, after it
		"back at the start",
		"  1.1    blocked (accept on descriptor 3)",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the session does not show %q:\n%s", want, transcript)
		}
	}
	if n := strings.Count(transcript, "Catchpoint 1 (syscall write)\nthread 1.3  0x400060 <serve.write+12>"); n != 2 {
		t.Errorf("the session stopped %d times before the write back, want 2 (forward, and forward again):\n%s", n, transcript)
	}
	if e := s.errors(); e != "" {
		t.Errorf("stderr after the listening line (a replay must not listen again): %s", e)
	}
}
