package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/spindle-vm/spindle/dap"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/vm"
)

var dapCmd = &command{
	name:  "dap",
	args:  "[--listen ADDR] [--log FILE]",
	short: "serve an editor's debugger (Debug Adapter Protocol)",
	long: `Dap is the debugger of spindle debug for editors: a Debug Adapter Protocol server that VS Code
(editors/vscode), nvim-dap and Emacs dap-mode start, and talk to over its standard input and
output. docs/editors.md says how to set each one up.

The editor's launch configuration names the program and the flags of spindle debug:

  program       the assembly source or object file to debug (required)
  args          its arguments
  stdin         a file whose contents are all of the program's input (without it, none)
  cwd           what relative paths are relative to (default: the server's directory)
  stopOnEntry   stop before the first instruction
  stopAtEnd     stay at the end of the run, to step back into it, rather than end the session
  seed, sched, quantum, maxSteps, maxMem, stack, maxThreads, maxProcs, maxFds, budget,
  timeout       as --seed, --sched, ... of spindle debug
  dirs, net     lists of the grants of --dir (HOST relative to cwd) and --net

Every request is the REPL's: a step is next, a step back reverse-next, a breakpoint break, and
the debug console runs the REPL's commands (info threads, ctx, record save FILE, ...) and
evaluates its expressions. Breakpoints take conditions, hit counts (5, >= 5, == 5, % 5, ...)
and log messages ("counter is {*counter}"), as condition, condition -hitcount and condition
-log give them in the REPL; a restart starts the program again as the launch configuration has
it then.

Flags:
  --listen ADDR   serve one client over TCP at ADDR (such as 127.0.0.1:4711, or :0 for a port
                  the host chooses, which is written to the standard error), not over the
                  standard input and output
  --log FILE      write every message read and written to FILE

Exit status: 0 once the client has disconnected; 74 when the connection fails; 73 when the
--log file cannot be created; 64 for a bad command line.
`,
}

// exitIOErr is EX_IOERR of sysexits.h: the connection to the editor failed.
const exitIOErr = 74

func init() { dapCmd.run = runDAP }

func runDAP(args []string, io stdio) int {
	fs := flag.NewFlagSet("dap", flag.ContinueOnError)
	fs.SetOutput(discard{})
	listen := fs.String("listen", "", "")
	logFile := fs.String("log", "", "")
	if err := fs.Parse(args); err != nil {
		return usageError(io, dapCmd, "%v", flagError(err))
	}
	if fs.NArg() > 0 {
		return usageError(io, dapCmd, "takes no program: the editor's launch configuration names it (%q)", fs.Arg(0))
	}
	var l launcher
	defer l.close()
	cfg := dap.Config{Launch: l.launch, Status: stopStatus}
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
			return exitCantCreat
		}
		defer f.Close()
		cfg.Log = &lockedWriter{w: f}
	}
	conn := connection(stdioConn{io.in, io.out})
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return usageError(io, dapCmd, "--listen %s: %v", *listen, err)
		}
		fmt.Fprintf(io.err, "spindle dap: listening on %s\n", ln.Addr())
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			fmt.Fprintf(io.err, "spindle dap: %v\n", err)
			return exitIOErr
		}
		conn = c
	}
	if err := dap.Serve(conn, cfg); err != nil {
		if status, ok := tellWriteError(io, err); ok {
			return status
		}
		fmt.Fprintf(io.err, "spindle dap: %v\n", err)
		return exitIOErr
	}
	return 0
}

// connection is the connection to the editor.
type connection = io.ReadWriteCloser

// stdioConn is the standard input and output as the connection to the editor.
type stdioConn struct {
	r io.Reader
	w io.Writer
}

func (c stdioConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c stdioConn) Write(b []byte) (int, error) { return c.w.Write(b) }
func (c stdioConn) Close() error                { return nil }

// lockedWriter is a log that both of the server's goroutines write.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// A launcher makes the session of a launch request, and closes what it opened for it (the
// directories granted, the sources read) when the session leaves it for another launch, a
// restart's (debugger.Config.Close), or at the end. A launch that fails closes what it opened
// at once: an editor's restarts must not keep a directory open for each.
type launcher struct {
	open map[int]func() // what closes each launch's, by launch
	next int
}

func (l *launcher) close() {
	for id, close := range l.open {
		delete(l.open, id)
		close()
	}
}

// launch makes a session's configuration from a launch request: its fields are the flags of
// spindle debug, read by the same flag set and checked by the same checks, and its words are
// theirs, with the field's name for the flag's.
func (l *launcher) launch(args dap.LaunchArgs, console io.Writer) (_ debugger.Config, err error) {
	var closers []func()
	release := func() {
		for _, close := range closers {
			close()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	fs := flag.NewFlagSet("dap", flag.ContinueOnError)
	fs.SetOutput(discard{})
	rf := addRunFlags(fs)
	budget := sizeFlag(fs, "budget", debugger.DefaultBudget)
	timeout := fs.Duration("timeout", 0, "")
	if err := fs.Parse(args.Flags()); err != nil {
		return debugger.Config{}, launchError("%v", flagError(err))
	}
	opts, msg := debugOptions(fs, rf, append([]string{args.Program}, args.Args...), *timeout)
	if msg != "" {
		return debugger.Config{}, launchError("%s", msg)
	}
	if *rf.seed == "" && opts.Sched == vm.SchedRandom {
		fmt.Fprintf(console, "spindle: the run's seed is %d; set \"seed\": %d to debug the same run again\n", opts.Seed, opts.Seed)
	}
	var errs bytes.Buffer
	io := stdio{strings.NewReader(""), console, &errs}
	closeGrants, _ := rf.grant(io, dapCmd, &opts)
	if closeGrants == nil {
		// (Said as --dir says it, and the field's entry is in it.)
		msg, _, _ := strings.Cut(errs.String(), "\n")
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "spindle dap: "), "spindle: ")
		return debugger.Config{}, errors.New("launch configuration: " + msg)
	}
	closers = append(closers, closeGrants)
	opts.Listening = listening(console) // in the Debug Console, not with the errors
	cfg, srcs, code := debugConfig(args.Program, opts, *budget, *timeout, io)
	if srcs != nil {
		closers = append(closers, srcs.close)
	}
	if code != 0 {
		return debugger.Config{}, errors.New(strings.TrimSpace(strings.TrimPrefix(errs.String(), "spindle: ")))
	}
	if args.Stdin != "" {
		b, err := os.ReadFile(args.Stdin)
		if err != nil {
			return debugger.Config{}, fmt.Errorf("stdin: %v", cleanPathError(err))
		}
		cfg.Stdin = b
	}
	if l.open == nil {
		l.open = map[int]func(){}
	}
	l.next++
	id := l.next
	l.open[id] = release
	cfg.Close = func() {
		if close, ok := l.open[id]; ok {
			delete(l.open, id)
			close()
		}
	}
	return cfg, nil
}

// launchError words the error of a launch configuration's flag by its field: maxMem, not
// --max-mem.
func launchError(format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	for _, f := range []string{"seed", "sched", "quantum", "max-steps", "max-mem", "stack", "max-threads", "max-procs", "max-fds", "budget", "timeout"} {
		field := f
		for i := strings.IndexByte(field, '-'); i >= 0; i = strings.IndexByte(field, '-') {
			field = field[:i] + strings.ToUpper(field[i+1:i+2]) + field[i+2:]
		}
		msg = strings.ReplaceAll(msg, "--"+f, "\""+field+"\"")
	}
	return errors.New("launch configuration: " + msg)
}
