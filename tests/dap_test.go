package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-dap"
)

// The DAP server as an editor runs it: the real binary, over its standard input and output,
// and over TCP with --listen. (dap/server_test.go drives whole sessions in process.)

// dapConn is an editor's end of a connection to spindle dap.
type dapConn struct {
	t       *testing.T
	w       io.Writer
	r       *bufio.Reader
	seq     int
	out     string // the program's output, from output events
	console string // what the session says, from output events
}

func (c *dapConn) send(command string, args any) {
	c.t.Helper()
	c.seq++
	b, _ := json.Marshal(map[string]any{"seq": c.seq, "type": "request", "command": command, "arguments": args})
	if err := dap.WriteBaseMessage(c.w, b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads messages up to the next that is not an output event, and checks that it is of
// the type of want.
func next[T dap.Message](c *dapConn, want T) T {
	c.t.Helper()
	for {
		m, err := dap.ReadProtocolMessage(c.r)
		if err != nil {
			c.t.Fatalf("reading from spindle dap: %v", err)
		}
		if o, ok := m.(*dap.OutputEvent); ok {
			switch o.Body.Category {
			case "stdout":
				c.out += o.Body.Output
			case "console":
				c.console += o.Body.Output
			}
			continue
		}
		got, ok := m.(T)
		if !ok {
			b, _ := json.Marshal(m)
			c.t.Fatalf("got %T %s; want a %T", m, b, want)
		}
		return got
	}
}

// session runs hello.s to its end through c, after a launch whose flag is refused.
func (c *dapConn) session(dir string) {
	c.t.Helper()
	c.runSession(map[string]any{"program": "hello.s", "cwd": dir, "quantum": 0}, `launch configuration: "quantum" must be from 1 to 100000000`,
		map[string]any{"program": "hello.s", "cwd": dir, "seed": 3, "maxMem": "16M"}, "Hello, world!\n")
}

// runSession initializes the server, sends the launch refused, which must fail with wantErr,
// then launch, and runs its program to its end: it must exit with status 0, having written
// wantOut. Then it disconnects.
func (c *dapConn) runSession(refused map[string]any, wantErr string, launch map[string]any, wantOut string) {
	c.t.Helper()
	c.send("initialize", map[string]any{"adapterID": "spindle"})
	next(c, &dap.InitializeResponse{})
	c.send("launch", refused)
	if e := next(c, &dap.ErrorResponse{}); e.Message != wantErr {
		c.t.Errorf("launch %v: %q; want %q", refused, e.Message, wantErr)
	}
	launchAndRun(c, launch)
	if e := next(c, &dap.ExitedEvent{}); e.Body.ExitCode != 0 {
		c.t.Errorf("exit code %d; want 0", e.Body.ExitCode)
	}
	next(c, &dap.TerminatedEvent{})
	if c.out != wantOut {
		c.t.Errorf("the program's output: %q; want %q", c.out, wantOut)
	}
	c.send("disconnect", nil)
	next(c, &dap.DisconnectResponse{})
}

// hello returns a directory that holds programs/hello.s.
func hello(t *testing.T) string {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "programs", "hello.s"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "hello.s"), b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDAPStdio(t *testing.T) {
	dir := hello(t)
	withStdioDAP(t, func(c *dapConn) { c.session(dir) })
}

// launchAndRun launches the program that args configure and ends the configuration, which runs
// it, reading the responses and the thread events that come with them.
func launchAndRun(c *dapConn, args map[string]any) {
	c.send("launch", args)
	next(c, &dap.LaunchResponse{})
	next(c, &dap.ThreadEvent{})
	next(c, &dap.InitializedEvent{})
	c.send("configurationDone", nil)
	next(c, &dap.ConfigurationDoneResponse{})
	next(c, &dap.ThreadEvent{})
}

// withStdioDAP runs spindle dap over its standard input and output, runs session on the
// connection, and checks that spindle dap then ends, with nothing on stderr.
func withStdioDAP(t *testing.T, session func(c *dapConn)) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "spindle"), "dap")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	session(&dapConn{t: t, w: in, r: bufio.NewReader(out)})
	if err := waitFor(cmd, 10*time.Second); err != nil || stderr.Len() > 0 {
		t.Errorf("spindle dap: %v; stderr:\n%s", err, stderr.String())
	}
}

func TestDAPListen(t *testing.T) {
	dir := hello(t)
	cmd := exec.Command(filepath.Join(binDir, "spindle"), "dap", "--listen", "127.0.0.1:0")
	errs, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(errs).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "spindle dap: listening on ")
	if err != nil || !ok {
		cmd.Process.Kill()
		t.Fatalf("spindle dap --listen says %q, %v", line, err)
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	(&dapConn{t: t, w: conn, r: bufio.NewReader(conn)}).session(dir)
	if err := waitFor(cmd, 10*time.Second); err != nil {
		t.Errorf("spindle dap --listen: %v", err)
	}
}

// waitFor waits for cmd to exit, and kills it if it takes longer than d.
func waitFor(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		return fmt.Errorf("still running after %v", d)
	}
}

// TestDAPGrants launches programs/files/wc.s with a "dirs" grant relative to "cwd", as spindle
// debug --dir would take it: the program counts the granted file; and a grant of a directory
// that does not exist is refused with what --dir says of it.
func TestDAPGrants(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "a.txt"), []byte("one two\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wc, err := filepath.Abs(filepath.Join("..", "programs", "files", "wc.s"))
	if err != nil {
		t.Fatal(err)
	}
	launch := func(grant string) map[string]any {
		return map[string]any{"program": wc, "cwd": dir, "args": []string{"/d/a.txt"}, "dirs": []string{grant}}
	}
	nowhere := filepath.Join(dir, "nowhere")
	withStdioDAP(t, func(c *dapConn) {
		c.runSession(launch("nowhere:/d"), "launch configuration: --dir "+nowhere+":/d: "+nowhere+": no such file or directory",
			launch("data:/d"), "2 3 14 /d/a.txt\n")
	})
}

// TestDAPRestart restarts with the launch configuration the restart request gives, as the
// command reads it: the same program with another stdin file, a flag that is refused, and
// another program. A random schedule keeps the seed that the launch drew.
func TestDAPRestart(t *testing.T) {
	dir := hello(t)
	b, err := os.ReadFile(filepath.Join("..", "programs", "echo.s"))
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"echo.s": string(b), "a.txt": "first\n", "b.txt": "second\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	withStdioDAP(t, func(c *dapConn) {
		c.send("initialize", map[string]any{"adapterID": "spindle"})
		next(c, &dap.InitializeResponse{})
		launchAndRun(c, map[string]any{"program": "echo.s", "cwd": dir, "stdin": "a.txt", "sched": "random"})
		next(c, &dap.ExitedEvent{})
		next(c, &dap.TerminatedEvent{})

		restart := func(args map[string]any, wantOut string) {
			t.Helper()
			c.out = ""
			c.send("restart", map[string]any{"arguments": args})
			next(c, &dap.RestartResponse{})
			next(c, &dap.ExitedEvent{})
			next(c, &dap.TerminatedEvent{})
			if c.out != wantOut {
				t.Errorf("restart with %v: the program's output %q; want %q", args, c.out, wantOut)
			}
		}
		restart(map[string]any{"program": "echo.s", "cwd": dir, "stdin": "b.txt", "sched": "random"}, "second\n")
		c.send("restart", map[string]any{"arguments": map[string]any{"program": "hello.s", "cwd": dir, "quantum": 0}})
		const refused = `restart: launch configuration: "quantum" must be from 1 to 100000000; the session goes on as it was`
		if e := next(c, &dap.ErrorResponse{}); e.Message != refused {
			t.Errorf("restart with a flag refused: %q; want %q", e.Message, refused)
		}
		restart(map[string]any{"program": "hello.s", "cwd": dir}, "Hello, world!\n")
		if n := strings.Count(c.console, "the run's seed is"); n != 1 {
			t.Errorf("the debug console tells of %d seeds drawn; want 1, at launch: a restart keeps it\n%s", n, c.console)
		}
		c.send("disconnect", nil)
		next(c, &dap.DisconnectResponse{})
	})
}
