// Package dap is Spindle's Debug Adapter Protocol server: the face of the debugger that
// editors talk to (VS Code, nvim-dap, Emacs dap-mode), beside the REPL of spindle debug. Both
// drive one debugger.Session, so that an editor's session is the REPL's, with its reverse
// execution, its threads and its context switches: a step in the editor is the REPL's next, a
// step back its reverse-next, a breakpoint its break, and the debug console takes its commands.
//
// The protocol (https://microsoft.github.io/debug-adapter-protocol/) is JSON messages with a
// Content-Length header, as github.com/google/go-dap reads and writes them. Serve speaks it
// over one connection: spindle dap gives it the standard input and output, or a TCP
// connection with --listen.
//
// The session holds still between requests. One goroutine reads the requests and answers
// pause at once, since it must reach a program that runs; another carries out every other
// request in turn, and is the only one that touches the session.
package dap

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/vm"
)

// A Config is what a server needs from the command that runs it.
type Config struct {
	// Launch makes the configuration of a debugging session from a launch request's arguments:
	// it loads the program and checks the run's flags, as spindle debug does. What it has to
	// say besides (a seed it drew) it writes to console, the debug console.
	Launch func(args LaunchArgs, console io.Writer) (debugger.Config, error)

	// Status is the exit status of a run that ended, as the spindle command gives it: the
	// program's, or the command's for a trap, a limit or a deadlock.
	Status func(end vm.Stop) int

	// Log, if not nil, receives every message read and written, for whoever debugs an editor's
	// configuration.
	Log io.Writer
}

// Error ids of the error responses: a client may tell them apart, and a person reads the
// message.
const (
	errBadRequest    = 1 // the request is malformed: not JSON, a field missing or of a wrong type
	errUnknown       = 2 // no such command, or one this server does not support
	errOrder         = 3 // a request before initialize, or one that needs a launched program before launch
	errFailed        = 4 // the request is well formed and cannot be done: the session's error
	errLaunchFailed  = 5 // the program does not load, or the launch's flags are wrong
	errNotStoppedNow = 6 // a request that needs the program stopped came while it runs
	// errQuiet: a request the client makes by itself, not the user, failed: a frame or
	// variables of a stop before, asked for as the program goes on, or an expression of the
	// Watch pane or a hover that does not evaluate here. Its message is not shown the user as
	// an error: the client shows it in place, or not at all.
	errQuiet = 7
)

// Serve speaks the protocol over conn until the client disconnects or conn ends, and closes
// conn. Its error is that of reading or writing conn, if the client did not disconnect.
func Serve(conn io.ReadWriteCloser, cfg Config) error {
	sv := &server{cfg: cfg, conn: conn, reqs: make(chan dap.Message, 64)}
	sv.threads = newThreadIDs()
	readErr := make(chan error, 1)
	go func() { readErr <- sv.read() }()
	for m := range sv.reqs {
		sv.handle(m)
		if sv.disconnected {
			break
		}
	}
	conn.Close()
	if sv.disconnected {
		// The reader may be blocked on a connection that Close does not end, such as the
		// standard input: it ends with the process.
		return sv.writeErr()
	}
	if err := <-readErr; !errors.Is(err, io.EOF) {
		return err
	}
	return sv.writeErr()
}

// A server is one client's connection and the session it debugs.
type server struct {
	cfg  Config
	conn io.ReadWriteCloser
	reqs chan dap.Message // to the goroutine that handles them

	sendMu  sync.Mutex
	seq     int
	sendErr error

	// The state of the protocol; the session (s) is there once launched.
	initialized  bool
	configured   bool // configurationDone came: the program may run
	terminated   bool // the terminated event was sent
	disconnected bool
	running      atomic.Bool // a command runs the program: pause reaches it
	session      atomic.Pointer[debugger.Session]
	s            *debugger.Session
	launch       LaunchArgs
	seed         uint64 // the run's seed, which a restart keeps unless it gives one
	console      *consoleWriter

	threads *threadIDs
	refs    refs        // the frames and scopes handed out since the last stop
	bps     breakpoints // what the client asked for, and the session's breakpoints for it
}

// read reads the client's messages and hands the requests on, but for pause, which it carries
// out at once. It returns at the end of the connection, or at an error that loses the framing.
func (sv *server) read() error {
	defer close(sv.reqs)
	r := bufio.NewReader(sv.conn)
	for {
		content, err := dap.ReadBaseMessage(r)
		if err != nil {
			sv.stopRun() // the client has gone: the program must not run on for no one
			return err
		}
		sv.log("<-", content)
		m, err := dap.DecodeProtocolMessage(content)
		if err != nil {
			sv.refuse(content, err)
			continue
		}
		switch m := m.(type) {
		case *dap.PauseRequest:
			sv.pause(m)
			continue
		case *dap.DisconnectRequest, *dap.TerminateRequest:
			sv.stopRun() // so that the handler comes to it
		}
		if _, ok := m.(dap.RequestMessage); !ok {
			sv.sendError(0, "", errBadRequest, "the client sends requests only: a %T is not one", m)
			continue
		}
		sv.reqs <- m
	}
}

// refuse answers a message that does not decode: with the seq and command it has, if any.
func (sv *server) refuse(content []byte, err error) {
	var head struct {
		Seq     int    `json:"seq"`
		Type    string `json:"type"`
		Command string `json:"command"`
	}
	json.Unmarshal(content, &head) // what is of the wrong type stays zero
	var field *dap.DecodeProtocolMessageFieldError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		sv.sendError(0, "", errBadRequest, "the message is not JSON: %v", err)
	case errors.As(err, &field) && field.FieldName == "command":
		sv.sendError(head.Seq, head.Command, errUnknown, "unknown command %q", head.Command)
	case errors.As(err, &field):
		sv.sendError(head.Seq, head.Command, errBadRequest, "%s %q is not one that a client sends", field.FieldName, field.FieldValue)
	case errors.As(err, &typ):
		sv.sendError(head.Seq, head.Command, errBadRequest, "%s: %s is a JSON %s; want %s", head.Command, fieldName(typ), typ.Value, typ.Type)
	default:
		sv.sendError(head.Seq, head.Command, errBadRequest, "%s: %v", head.Command, err)
	}
}

func fieldName(e *json.UnmarshalTypeError) string {
	if e.Field != "" {
		return e.Field
	}
	return "the message"
}

// pause answers a pause request: the command that runs the program stops at its next check
// point, and the handler that ran it says where (a stopped event with reason pause). A pause
// while nothing runs has nothing to stop.
func (sv *server) pause(req *dap.PauseRequest) {
	sv.stopRun()
	sv.send(&dap.PauseResponse{Response: response(req)})
}

// stopRun pauses the command that runs the program, if one does. A command takes back a pause
// that came before it started (Session.Exec, as the REPL's Ctrl-C between commands), and the
// handler may be just about to start one: so the pause is asked again, every millisecond, until
// the handler's commands are over.
func (sv *server) stopRun() {
	s := sv.session.Load()
	if s == nil || !sv.running.Load() {
		return
	}
	s.Pause()
	go func() {
		for sv.running.Load() {
			time.Sleep(time.Millisecond)
			s.Pause()
		}
	}()
}

// send writes a message to the client, with the next seq. After a write fails, it writes no
// more: the client is gone.
func (sv *server) send(m dap.Message) {
	sv.sendMu.Lock()
	defer sv.sendMu.Unlock()
	if sv.sendErr != nil {
		return
	}
	sv.seq++
	switch m := m.(type) {
	case dap.ResponseMessage:
		m.GetResponse().Seq = sv.seq
	case dap.EventMessage:
		m.GetEvent().Seq = sv.seq
	}
	b, err := json.Marshal(m)
	if err == nil {
		sv.log("->", b)
		err = dap.WriteBaseMessage(sv.conn, b)
	}
	sv.sendErr = err
}

func (sv *server) writeErr() error {
	sv.sendMu.Lock()
	defer sv.sendMu.Unlock()
	if sv.disconnected {
		return nil
	}
	return sv.sendErr
}

func (sv *server) log(dir string, b []byte) {
	if sv.cfg.Log != nil {
		fmt.Fprintf(sv.cfg.Log, "%s %s\n", dir, b)
	}
}

// response starts the response to req.
func response(req dap.RequestMessage) dap.Response {
	r := req.GetRequest()
	return dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, RequestSeq: r.Seq, Command: r.Command, Success: true}
}

func event(name string) dap.Event {
	return dap.Event{ProtocolMessage: dap.ProtocolMessage{Type: "event"}, Event: name}
}

// sendError answers request seq, of command, with an error.
func (sv *server) sendError(seq int, command string, id int, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	sv.send(&dap.ErrorResponse{
		Response: dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, RequestSeq: seq, Command: command, Message: msg},
		Body:     dap.ErrorResponseBody{Error: &dap.ErrorMessage{Id: id, Format: msg, ShowUser: id == errLaunchFailed || id == errFailed}},
	})
}

// fail answers req with an error.
func (sv *server) fail(req dap.RequestMessage, id int, format string, a ...any) {
	r := req.GetRequest()
	sv.sendError(r.Seq, r.Command, id, format, a...)
}

// output sends text to the client's debug console, or as the program's output (category
// stdout or stderr).
func (sv *server) output(category, text string) {
	if text == "" {
		return
	}
	sv.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{Category: category, Output: text}})
}

// programOutput is the program's stdout or stderr, sent as output events.
type programOutput struct {
	sv       *server
	category string
}

func (w programOutput) Write(b []byte) (int, error) {
	w.sv.output(w.category, string(b))
	return len(b), nil
}

// A consoleWriter takes what the session says: to the debug console, or, while a command
// typed there runs, into the result of its evaluate request, up to maxConsoleResult bytes.
// Past that, what was gathered and what follows go to the debug console as they come
// (spilled): a command that runs over a log point a million times must not hold its lines
// until it ends.
type consoleWriter struct {
	sv      *server
	capture *[]byte
	spilled bool
}

// maxConsoleResult bounds the result of a command typed in the debug console.
const maxConsoleResult = 64 << 10

func (w *consoleWriter) Write(b []byte) (int, error) {
	switch {
	case w.capture == nil || w.spilled:
	case len(*w.capture)+len(b) <= maxConsoleResult:
		*w.capture = append(*w.capture, b...)
		return len(b), nil
	default:
		w.sv.output("console", string(*w.capture))
		*w.capture, w.spilled = nil, true
	}
	w.sv.output("console", string(b))
	return len(b), nil
}
