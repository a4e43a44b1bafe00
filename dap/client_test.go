package dap

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// The tests drive whole sessions through an in-process client over net.Pipe, as delve's
// service/dap tests do: the client writes requests as an editor would, and each test states the
// responses and events it must read back, compared field by field with go-cmp (all but seq,
// which counts the server's messages).

// A client is the editor's side of a connection to a server that Serve runs.
type client struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	seq    int
	served chan error
	// The output events read so far, by category: the program's and the session's words.
	output map[string]string
}

// testLaunch makes a session's configuration from a launch request, as the spindle command
// does, with the flags the tests use: seed and sched; reload assembles the program again.
func testLaunch(args LaunchArgs, console io.Writer) (debugger.Config, error) {
	img, err := asm.AssembleFile(args.Program)
	if err != nil {
		return debugger.Config{}, err
	}
	opts := vm.Options{Args: append([]string{args.Program}, args.Args...)}
	if args.Seed != "" {
		if opts.Seed, err = strconv.ParseUint(string(args.Seed), 0, 64); err != nil {
			return debugger.Config{}, err
		}
	}
	if args.Sched == "random" {
		opts.Sched = vm.SchedRandom
	}
	cfg := debugger.Config{Image: img, Options: opts, Program: args.Program}
	cfg.Reload = func() (*object.Image, error) { return asm.AssembleFile(args.Program) }
	if args.Stdin != "" {
		if cfg.Stdin, err = os.ReadFile(args.Stdin); err != nil {
			return debugger.Config{}, err
		}
	}
	return cfg, nil
}

func testStatus(end vm.Stop) int {
	if end.Err != nil {
		return 134
	}
	return int(end.ExitCode)
}

// newClient starts a server and returns a client connected to it.
func newClient(t *testing.T) *client {
	t.Helper()
	near, far := net.Pipe()
	c := &client{t: t, conn: near, r: bufio.NewReader(near), served: make(chan error, 1), output: map[string]string{}}
	go func() { c.served <- Serve(far, Config{Launch: testLaunch, Status: testStatus}) }()
	t.Cleanup(func() { near.Close() })
	return c
}

// send sends a request of command with arguments (any JSON value, or nil for none), and
// returns its seq.
func (c *client) send(command string, arguments any) int {
	c.t.Helper()
	c.seq++
	msg := map[string]any{"seq": c.seq, "type": "request", "command": command}
	if arguments != nil {
		msg["arguments"] = arguments
	}
	b, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
	return c.seq
}

// sendRaw sends b as the content of a message, whatever it is.
func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := dap.WriteBaseMessage(c.conn, b); err != nil {
		c.t.Fatalf("writing to the server: %v", err)
	}
}

// next reads the next message that is not an output event; the output events are kept.
func (c *client) next() dap.Message {
	c.t.Helper()
	for {
		c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		m, err := dap.ReadProtocolMessage(c.r)
		if err != nil {
			c.t.Fatalf("reading from the server: %v", err)
		}
		if o, ok := m.(*dap.OutputEvent); ok {
			c.output[o.Body.Category] += o.Body.Output
			continue
		}
		return m
	}
}

// expect reads the next message that is not an output event, which must be want, but for its
// seq (and the fields that ignore lists).
func expect[T dap.Message](c *client, want T, ignore ...cmp.Option) T {
	c.t.Helper()
	m := c.next()
	got, ok := m.(T)
	if !ok {
		c.t.Fatalf("got %s; want a %T", describe(m), want)
	}
	opts := append([]cmp.Option{cmpopts.IgnoreFields(dap.ProtocolMessage{}, "Seq"), cmpopts.EquateEmpty()}, ignore...)
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		c.t.Fatalf("%T differs (-want +got):\n%s", want, diff)
	}
	return got
}

// describe shows a message in a failure.
func describe(m dap.Message) string {
	b, _ := json.Marshal(m)
	return fmt.Sprintf("%T %s", m, b)
}

// ok is the successful response to request seq of command.
func ok(seq int, command string) dap.Response {
	return dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, RequestSeq: seq, Command: command, Success: true}
}

// errorResponse is the error response to request seq, with the error's id and message.
func errorResponse(seq int, command string, id int, msg string) *dap.ErrorResponse {
	return &dap.ErrorResponse{
		Response: dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, RequestSeq: seq, Command: command, Message: msg},
		Body:     dap.ErrorResponseBody{Error: &dap.ErrorMessage{Id: id, Format: msg, ShowUser: id == errLaunchFailed || id == errFailed}},
	}
}

func ev(name string) dap.Event {
	return dap.Event{ProtocolMessage: dap.ProtocolMessage{Type: "event"}, Event: name}
}

// stopped is a stopped event.
func stopped(reason string, thread int, hit ...int) *dap.StoppedEvent {
	return &dap.StoppedEvent{Event: ev("stopped"), Body: dap.StoppedEventBody{Reason: reason, ThreadId: thread, AllThreadsStopped: true, HitBreakpointIds: hit}}
}

func threadEvent(reason string, id int) *dap.ThreadEvent {
	return &dap.ThreadEvent{Event: ev("thread"), Body: dap.ThreadEventBody{Reason: reason, ThreadId: id}}
}

// program copies a program of programs/ into a directory of the test, with the files it
// includes, and returns its path there.
func program(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("..", "programs"))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(path, ".s") {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// writeFile writes a file of the test, and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start initializes the server and launches args.Program; it reads the responses and events up
// to the initialized event, which come in the order the protocol has them.
func (c *client) start(args map[string]any) {
	c.t.Helper()
	seq := c.send("initialize", map[string]any{"adapterID": "spindle", "linesStartAt1": true, "columnsStartAt1": true})
	expect(c, &dap.InitializeResponse{Response: ok(seq, "initialize"), Body: capabilities})
	seq = c.send("launch", args)
	expect(c, &dap.LaunchResponse{Response: ok(seq, "launch")})
	expect(c, threadEvent("started", 1))
	expect(c, &dap.InitializedEvent{Event: ev("initialized")})
}

// disconnect ends the session, and checks that the server returns.
func (c *client) disconnect() {
	c.t.Helper()
	seq := c.send("disconnect", nil)
	expect(c, &dap.DisconnectResponse{Response: ok(seq, "disconnect")})
	select {
	case err := <-c.served:
		if err != nil {
			c.t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		c.t.Fatal("Serve did not return after disconnect")
	}
}

// stackTop returns the innermost frame of thread id: its source file's base name and line.
func (c *client) stackTop(thread int) (dap.StackFrame, string) {
	c.t.Helper()
	c.send("stackTrace", map[string]any{"threadId": thread, "levels": 1})
	r := c.next()
	st, ok := r.(*dap.StackTraceResponse)
	if !ok || len(st.Body.StackFrames) == 0 {
		c.t.Fatalf("stackTrace: %s", describe(r))
	}
	f := st.Body.StackFrames[0]
	return f, fmt.Sprintf("%s:%d", f.Source.Name, f.Line)
}

// evaluate evaluates expr in the debug console, in frame (0 for none), and returns the result.
func (c *client) evaluate(expr string, frame int) string {
	c.t.Helper()
	args := map[string]any{"expression": expr, "context": "repl"}
	if frame != 0 {
		args["frameId"] = frame
	}
	c.send("evaluate", args)
	r := c.next()
	e, ok := r.(*dap.EvaluateResponse)
	if !ok {
		c.t.Fatalf("evaluate %q: %s", expr, describe(r))
	}
	return e.Body.Result
}

// cont continues the program in thread, and reads the response.
func (c *client) cont(thread int) {
	c.t.Helper()
	seq := c.send("continue", map[string]any{"threadId": thread})
	expect(c, &dap.ContinueResponse{Response: ok(seq, "continue"), Body: dap.ContinueResponseBody{AllThreadsContinued: true}})
}

// step sends a request that runs the program and whose response has no body (next, stepIn,
// stepOut, stepBack, reverseContinue), and reads the response.
func (c *client) step(command string, args map[string]any) {
	c.t.Helper()
	seq := c.send(command, args)
	r := ok(seq, command)
	want := map[string]dap.Message{
		"next": &dap.NextResponse{Response: r}, "stepIn": &dap.StepInResponse{Response: r},
		"stepOut": &dap.StepOutResponse{Response: r}, "stepBack": &dap.StepBackResponse{Response: r},
		"reverseContinue": &dap.ReverseContinueResponse{Response: r},
	}[command]
	expect(c, want)
}

// stepTo runs a step request (see step) whose args name a thread, which must stop there with
// reason step, at want (file:line); it returns the thread's innermost frame.
func (c *client) stepTo(command string, args map[string]any, want string) dap.StackFrame {
	c.t.Helper()
	c.step(command, args)
	thread := args["threadId"].(int)
	expect(c, stopped("step", thread))
	top, at := c.stackTop(thread)
	if at != want {
		c.t.Errorf("after %s: at %s; want %s", command, at, want)
	}
	return top
}
