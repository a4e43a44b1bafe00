package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

var debugCmd = &command{
	name:  "debug",
	args:  "[flags] FILE [ARGS...] [-- ARGS...]",
	short: "step through a program, forwards and backwards",
	long: `Debug opens a debugger on a program: FILE is assembly source or an object file, as for run.
The program stops before its first instruction; 'help' lists the commands. Runs are
deterministic: one processor, a clock that counts instructions, and with --sched random a seed
(drawn and shown when --seed is not given), so that reverse execution can go back anywhere.

When the program reads its input and none is waiting, the debugger says so and takes the next
line you type (in a script, the next line of the script) as the program's input; Ctrl-D ends
it. Ctrl-C at that prompt returns to the debugger's, with the program still at its read and
nothing read: the next command that runs the program asks again. With --stdin FILE, FILE is
all of the program's input.

Flags:
  --batch SCRIPT  run the commands of SCRIPT, without prompts or colour, and exit; commands
                  also come from the standard input when it is not a terminal
  --stdin FILE    the program's input
  --budget SIZE   host memory for the snapshots of reverse execution (default 64M); old
                  snapshots are thinned to stay within it
  --timeout D     pause a command that runs the program after wall time D, such as 10s or
                  500ms, as Ctrl-C would (default 0: none); a batch script ends there
  --replay REC    open the session that 'record save REC' wrote, at the state it was in: the
                  program, its arguments, the flags and the input come from the record
  --seed S, --sched rr|random, --quantum N, --max-steps N, --max-mem SIZE, --stack SIZE,
  --max-threads N, --max-procs N, --max-fds N
  --dir HOST[:GUEST][:ro|rw], --net ADDR
                  as for run; going back and forward again, the run takes what the files
                  and the network gave from a log, and does not touch them twice

Exit status: the program's, as for run, once it has ended; 0 if it has not; 121 when a command
of a batch script failed; 124 when --timeout paused a command of a batch script; 64 for a bad
command line; 65 and 66 as for run.
`,
}

// exitCommandFailed is the status of a batch session in which a command failed.
const exitCommandFailed = 121

func init() { debugCmd.run = runDebug }

func runDebug(args []string, io stdio) int {
	fs := flag.NewFlagSet("debug", flag.ContinueOnError)
	fs.SetOutput(discard{})
	rf := addRunFlags(fs)
	batch := fs.String("batch", "", "")
	stdinFile := fs.String("stdin", "", "")
	budget := sizeFlag(fs, "budget", debugger.DefaultBudget)
	replay := fs.String("replay", "", "")
	timeout := fs.Duration("timeout", 0, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(io, debugCmd, "%v", flagError(err))
	}
	var rec *debugger.Record
	if *replay != "" {
		if len(pos) > 0 {
			return usageError(io, debugCmd, "--replay takes the program, its arguments and its flags from the record: give no FILE")
		}
		f, err := os.Open(*replay)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
			return exitNoInput
		}
		rec, err = debugger.ReadRecord(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %s: %v\n", *replay, err)
			return exitDataErr
		}
		pos = append([]string{rec.Program}, rec.Args[min(1, len(rec.Args)):]...)
	}
	if len(pos) == 0 {
		return usageError(io, debugCmd, "no program file given")
	}
	opts, msg := debugOptions(fs, rf, pos, *timeout)
	if msg != "" {
		return usageError(io, debugCmd, "%s", msg)
	}
	closeGrants, code := rf.grant(io, debugCmd, &opts)
	if closeGrants == nil {
		return code
	}
	defer closeGrants()
	if *rf.seed == "" && opts.Sched == vm.SchedRandom {
		fmt.Fprintf(io.err, "spindle: the run's seed is %d; give --seed %d to debug the same run again\n", opts.Seed, opts.Seed)
	}
	if rec != nil {
		opts = rec.Options(opts)
		if rec.Budget > 0 {
			*budget = rec.Budget
		}
	}
	path := pos[0]
	cfg, srcs, code := debugConfig(path, opts, *budget, *timeout, io)
	if code != 0 {
		return code
	}
	defer srcs.close()
	if *stdinFile != "" {
		b, err := os.ReadFile(*stdinFile)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
			return exitNoInput
		}
		cfg.Stdin = b
	}
	if rec != nil && rec.Stdin != nil {
		cfg.Stdin = rec.Stdin
	}

	var lines lineSource
	f, isFile := io.in.(*os.File)
	switch {
	case *batch != "":
		script, err := os.Open(*batch)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
			return exitNoInput
		}
		defer script.Close()
		lines = &scriptLines{sc: bufio.NewScanner(script)}
	case isFile && readline.IsTerminal(int(f.Fd())):
		rl, err := newTerminal(f, io)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", err)
			return exitSoftware
		}
		defer rl.Close()
		lines = rl
		// Colour on a terminal, unless NO_COLOR says otherwise (https://no-color.org).
		cfg.Color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	default:
		lines = &scriptLines{sc: bufio.NewScanner(io.in)}
	}
	cfg.Input = lines.input
	s, err := debugger.New(cfg, io.out)
	if err != nil {
		fmt.Fprintf(io.err, "spindle: %s: %v\n", path, err)
		return exitDataErr
	}
	if t, ok := lines.(*terminal); ok {
		t.complete(s)
	}
	failed := false
	if rec != nil {
		// The record is checked and replayed before anything is shown: a record that does not
		// fit the program prints only its error.
		if err := s.Replay(rec); err != nil {
			fmt.Fprintf(io.err, "spindle: %s: %v\n", *replay, err)
			return exitDataErr
		}
		fmt.Fprintf(io.out, "%s: replayed the %d commands of %s (seed %d); help lists the commands.\n", path, len(rec.Commands), *replay, opts.Seed)
		s.ShowFrame()
	} else {
		s.Banner(path)
	}
	for !s.Quit() {
		if t, ok := lines.(*terminal); ok && t.listing != s.Defining() {
			// The lines of a commands list get gdb's prompt for them. (Only a change is set:
			// readline redraws the line at each SetPrompt.)
			t.listing = s.Defining()
			prompt := "(spindle) "
			if t.listing {
				prompt = "> "
			}
			t.rl.SetPrompt(prompt)
		}
		line, ok := lines.command()
		if !ok {
			break
		}
		if err := execInterruptible(s, line); err != nil {
			if cfg.Color {
				fmt.Fprintf(io.err, "\x1b[31m%v\x1b[0m\n", err) // a failed command, in red
			} else {
				fmt.Fprintf(io.err, "%v\n", err)
			}
			failed = true
		}
		if _, ok := lines.(*scriptLines); ok && s.TimedOut() {
			// The rest of the script was written for the state the command was to reach.
			fmt.Fprintf(io.err, "spindle: time limit exceeded: %q ran longer than %v (--timeout); the rest of the script is not run\n", strings.TrimSpace(line), *timeout)
			return exitLimit
		}
	}
	if s.Defining() {
		// A commands list that the script left open is lost: a failed command.
		fmt.Fprintln(io.err, "commands: the script ended before the end of the list; the list is not kept")
		failed = true
	}
	if failed {
		if _, ok := lines.(*scriptLines); ok {
			return exitCommandFailed
		}
	}
	return endStatus(s)
}

// debugOptions checks the flags of a debugging session, given its program and arguments pos,
// and returns the run's options, or what is wrong with them. Without --seed it draws a seed,
// which only the random schedule uses. The grants of --dir and --net are the caller's (runFlags.grant).
func debugOptions(fs *flag.FlagSet, rf runFlags, pos []string, timeout time.Duration) (vm.Options, string) {
	if msg := rf.check(); msg != "" {
		return vm.Options{}, msg
	}
	if msg := rf.checkCounts(fs); msg != "" {
		return vm.Options{}, msg
	}
	if timeout < 0 {
		return vm.Options{}, "--timeout must be 0 (none) or more"
	}
	opts := rf.options()
	opts.Args = pos
	switch *rf.sched {
	case "rr":
	case "random":
		opts.Sched = vm.SchedRandom
	default:
		return vm.Options{}, fmt.Sprintf("invalid --sched %q: want rr or random", *rf.sched)
	}
	if *rf.seed == "" {
		opts.Seed = rand.Uint64() % 1_000_000
	} else if seed, err := strconv.ParseUint(*rf.seed, 0, 64); err != nil {
		return vm.Options{}, fmt.Sprintf("invalid --seed %q: want an unsigned integer", *rf.seed)
	} else {
		opts.Seed = seed
	}
	return opts, ""
}

// debugConfig loads the program at path and makes the configuration of a session that debugs
// it with opts. A program that does not load has been reported on io.err, with the status.
// The sourceDir is the caller's to close.
func debugConfig(path string, opts vm.Options, budget uint64, timeout time.Duration, io stdio) (debugger.Config, *sourceDir, int) {
	img, code := loadProgram(path, io)
	if img == nil {
		return debugger.Config{}, nil, code
	}
	opts.ProgramDir = filepath.Dir(path)
	opts.Assemble = assembleSpawned
	srcs := &sourceDir{dir: filepath.Dir(path)}
	opts.SourceLine = srcs.line

	cfg := debugger.Config{Image: img, Options: opts, Budget: budget, Program: path, Timeout: timeout}
	cfg.Save = func(name string, b []byte) error { return os.WriteFile(name, b, 0o644) }
	cfg.Reload = func() (*object.Image, error) {
		img, code := loadProgram(path, io)
		if img == nil {
			return nil, fmt.Errorf("reload: %s did not load (status %d)", path, code)
		}
		return img, nil
	}
	return cfg, srcs, 0
}

// execInterruptible runs a command; Ctrl-C meanwhile pauses the program.
func execInterruptible(s *debugger.Session, line string) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			s.Pause()
		case <-done:
		}
	}()
	err := s.Exec(line)
	signal.Stop(sigs)
	close(done)
	return err
}

// endStatus is the session's exit status: the program's, if it has ended.
func endStatus(s *debugger.Session) int {
	st, ok := s.Ended()
	if !ok {
		return 0
	}
	return stopStatus(st)
}

// stopStatus is the exit status of a run that ended as st says, as spindle run gives it.
func stopStatus(st vm.Stop) int {
	var te *vm.TrapError
	var le *vm.LimitError
	var de *vm.DeadlockError
	switch {
	case st.Err == nil:
		return int(st.ExitCode & 0xff)
	case errors.As(st.Err, &te):
		return exitTrap
	case errors.As(st.Err, &le):
		return exitLimit
	case errors.As(st.Err, &de):
		return exitDeadlock
	}
	return exitSoftware
}

// A lineSource gives the session its commands, and the program its input (see
// debugger.Config.Input).
type lineSource interface {
	command() (string, bool)
	input() (string, error)
}

// scriptLines reads commands, and the program's input, from a script or a pipe.
// An empty line of a script does nothing, as in a gdb command file: it does not repeat the last
// command, as Enter does at the prompt. As the program's input, it is an empty line.
type scriptLines struct{ sc *bufio.Scanner }

func (l *scriptLines) command() (string, bool) {
	for l.sc.Scan() {
		if line := l.sc.Text(); strings.TrimSpace(line) != "" {
			return line, true
		}
	}
	return "", false
}

func (l *scriptLines) input() (string, error) {
	if !l.sc.Scan() {
		return "", io.EOF
	}
	return l.sc.Text(), nil
}

// terminal reads commands with readline: history, completion, Enter to repeat.
type terminal struct {
	rl      *readline.Instance
	listing bool // the prompt is "> ", for the lines of a commands list
}

func newTerminal(in *os.File, io stdio) (*terminal, error) {
	history := ""
	if dir, err := os.UserHomeDir(); err == nil {
		history = filepath.Join(dir, ".spindle_history")
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "(spindle) ",
		HistoryFile:     history,
		InterruptPrompt: "^C",
		EOFPrompt:       "quit",
		Stdin:           in,
		Stdout:          io.out,
		Stderr:          io.err,
	})
	if err != nil {
		return nil, err
	}
	return &terminal{rl: rl}, nil
}

func (t *terminal) Close() error { return t.rl.Close() }

func (t *terminal) command() (string, bool) {
	for {
		line, err := t.rl.Readline()
		switch {
		case err == readline.ErrInterrupt:
			continue // Ctrl-C at the prompt: a new prompt
		case err != nil:
			return "", false // Ctrl-D
		}
		return line, true
	}
}

// input reads a line of the program's input. It is no command: it stays out of the history,
// where Up would bring it back at the debugger's prompt, and ~/.spindle_history. Ctrl-C
// returns to the debugger's prompt with the program held at its read, as gdb does; it does not
// end the input: only Ctrl-D does, as the debugger's message says, since a program that reads
// the end of its input often ends too.
func (t *terminal) input() (string, error) {
	t.rl.SetPrompt("input> ")
	defer t.rl.SetPrompt("(spindle) ")
	t.rl.HistoryDisable()
	defer t.rl.HistoryEnable()
	line, err := t.rl.Readline()
	switch {
	case err == readline.ErrInterrupt:
		return "", debugger.ErrInputInterrupted
	case err != nil:
		return "", io.EOF
	}
	return line, nil
}

// complete makes Tab complete commands and their arguments (see complete.go).
func (t *terminal) complete(s *debugger.Session) {
	t.rl.Config.AutoComplete = completer{s}
}
