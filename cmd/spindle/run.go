package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

var runCmd = &command{
	name:  "run",
	args:  "[flags] FILE [ARGS...] [-- ARGS...]",
	short: "run a program",
	long: `Run runs a program: FILE is assembly source, assembled in memory, or an object file
written by 'spindle asm'. Flags may come before or after FILE; words after FILE are the
program's arguments (argv[1], ...), and everything after -- is, even if it starts with a dash.

Flags:
  --max-steps N   stop after N instructions (default 0: no limit)
  --max-mem SIZE  memory of each process: stacks, data, heap and the kernel's objects for it
                  (threads, channels, pipes), at most 64G (default 1G); SIZE may end in K, M
                  or G
  --stack SIZE    the main thread's stack: a multiple of 16 bytes, from 256 to 268431360
                  (256M less 4K, so that the null page stays unmapped) (default 1M)
  --timeout D     stop after wall time D, such as 10s or 500ms (default 0: none)
  --stats         print instructions executed, wall time, instructions per second and context
                  switches to stderr, and tables of the processes and of the threads (when
                  there are more than one)
  --quantum N     instructions a thread runs before the next runnable one takes its turn, from
                  1 to 100000000 (default 10000)
  --cpus N        virtual processors running processes in parallel, from 1 to 256 (default:
                  the host's cores, at most 256; 1 with --seed); the threads of a process
                  always share one processor
  --max-procs N   stop when a program would have more than N processes, counting the ended
                  ones not yet waited for (default 16)
  --max-threads N stop when a program would have more than N threads alive (default 0: no limit)
  --sched POLICY  rr (default): round robin; random: preempt at random instruction boundaries
                  drawn from --seed, to expose races (without --seed, it draws a seed and
                  prints it)
  --seed S        make the run reproducible: one processor, a clock that counts instructions
                  (one a nanosecond), and --sched random draws from S
  --trace-sched FILE   write every context switch to FILE; - or /dev/stdout for the standard
                       output, /dev/stderr for the standard error, between the program's own
                       output in the order things happened
  --trace-format F     text (default) or json, the Trace Event Format that Perfetto and
                  chrome://tracing show as a timeline (default json when FILE ends in .json)
  --source-dir DIR     look for the source files that an object file names in DIR, rather
                       than in the object's directory
  --dir HOST[:GUEST][:ro|rw]
                  grant the program the host directory HOST, which it sees at the absolute
                  path GUEST (default: / and HOST's last name, so ./site is /site), read-only
                  (ro, the default) or read-write (rw); repeatable. Without it the program
                  reaches no file. A relative path in the program is relative to the first
                  grant. HOST must not be a symbolic link (see docs/syscalls.md, Files)
  --max-fds N     descriptors each process may have open, from 1 to 1048576 (default 1024);
                  an open, listen, accept or connect past it fails with EMFILE
  --net HOST:PORT let the program listen at HOST:PORT, as it names it; port 0 lets the host
                  choose, such as 127.0.0.1:0 or :0 (every interface). For each socket it
                  listens at, spindle writes "spindle: listening on HOST:PORT" to stderr with
                  the port the host chose. Repeatable
  --net connect=HOST:PORT
                  let the program connect to HOST:PORT, as it names it; repeatable. Without a
                  --net the program reaches no network: listen and connect fail with EACCES
                  (see docs/syscalls.md, Network). A run with --net is not reproducible, even
                  with --seed
` + profileHelp + `
A report of a trap, a limit or a deadlock quotes the source line of each place it names. An
object file holds only its sources' names: a line is read only when a report needs
it, and only from a regular file of at most 4 MiB inside the object's directory (or DIR),
found by the name or else by its last element. A device, a named pipe, an absolute name, or a
name or symbolic link that leads out of the directory is never read.

Exit status: the program's own (the low 8 bits of exit's argument); 124 when a limit is reached;
125 on a deadlock; 134 when the program traps; 130 on Ctrl-C, 143 on SIGTERM; 65 when FILE does
not assemble or is not a valid object file; 66 when FILE, --source-dir or a --dir cannot be
read (or a --dir is a symbolic link); 73 when
the standard output, the standard error, the trace file or a profile cannot be written (a full
disk, say), with a message that names it; 64 for a bad command line; 70 for an internal error (a bug in
Spindle).
`,
}

func init() { runCmd.run = runRun }

func runRun(args []string, io stdio) (status int) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(discard{})
	rf := addRunFlags(fs)
	seed, sched := rf.seed, rf.sched
	timeout := fs.Duration("timeout", 0, "")
	stats := fs.Bool("stats", false, "")
	cpus := fs.Int("cpus", 0, "")
	traceFile := fs.String("trace-sched", "", "")
	traceFormat := fs.String("trace-format", "", "")
	sourceDirFlag := fs.String("source-dir", "", "")
	profile := addProfileFlags(fs)
	fs.Usage = func() {}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(io, runCmd, "%v", flagError(err))
	}
	if len(pos) == 0 {
		return usageError(io, runCmd, "no program file given")
	}
	opts := rf.options()
	opts.Stdin, opts.Stdout, opts.Stderr, opts.Args = io.in, io.out, io.err, pos
	opts.Timeout, opts.CPUs, opts.Stats = *timeout, *cpus, *stats
	if msg := rf.check(); msg != "" {
		return usageError(io, runCmd, "%s", msg)
	}
	if *timeout < 0 {
		return usageError(io, runCmd, "--timeout must be 0 (none) or more")
	}
	drawn := false
	if *sched == "random" && *seed == "" && *cpus <= 1 {
		// Without a seed, each run draws its own, as runs on a real machine interleave
		// differently each time, and says which (once the command line is known to be good),
		// so that a run that shows a race can be repeated: it is then a run with that seed. With
		// several processors a run cannot be repeated, so the seed drawn is not offered.
		*seed, drawn = strconv.FormatUint(rand.Uint64()%1_000_000, 10), true
	} else if *sched == "random" && *seed == "" {
		opts.Seed = rand.Uint64()
	}
	if *seed != "" {
		s, err := strconv.ParseUint(*seed, 0, 64)
		if err != nil {
			return usageError(io, runCmd, "invalid --seed %q: want an unsigned integer", *seed)
		}
		// A seed asks for a run that is the same every time: the clock counts instructions,
		// and one processor runs everything.
		opts.Seed, opts.VirtualClock = s, true
		if *cpus > 1 {
			return usageError(io, runCmd, "--seed makes a run reproducible on one processor; it cannot have --cpus %d", *cpus)
		}
		opts.CPUs = 1
	}
	switch {
	case *cpus < 0 || *cpus == 0 && isSet(fs, "cpus") || *cpus > vm.MaxCPUs:
		return usageError(io, runCmd, "--cpus must be from 1 to %d", vm.MaxCPUs)
	}
	if msg := rf.checkCounts(fs); msg != "" {
		return usageError(io, runCmd, "%s", msg)
	}
	if opts.CPUs == 0 {
		opts.CPUs = min(runtime.NumCPU(), vm.MaxCPUs)
	}
	switch *sched {
	case "rr":
	case "random":
		opts.Sched = vm.SchedRandom
	default:
		return usageError(io, runCmd, "invalid --sched %q: want rr or random", *sched)
	}
	switch *traceFormat {
	case "", "text":
	case "json":
		opts.TraceFormat = vm.TraceJSON
	default:
		return usageError(io, runCmd, "invalid --trace-format %q: want text or json", *traceFormat)
	}
	if drawn {
		fmt.Fprintf(io.err, "spindle: --sched random drew --seed %s; give it to repeat this run\n", *seed)
	}
	srcs := &sourceDir{dir: filepath.Dir(pos[0])}
	if *sourceDirFlag != "" {
		// Checked before the run, though read only when a report needs a line, so that a
		// mistyped name is told at once; Stat, because opening a named pipe would block.
		if fi, err := os.Stat(*sourceDirFlag); err != nil || !fi.IsDir() {
			var pe *os.PathError
			if err == nil {
				err = errors.New("not a directory")
			} else if errors.As(err, &pe) {
				err = pe.Err
			}
			fmt.Fprintf(io.err, "spindle: --source-dir %s: %v\n", *sourceDirFlag, err)
			return exitNoInput
		}
		srcs.dir = *sourceDirFlag
	}
	defer srcs.close()
	closeGrants, code := rf.grant(io, runCmd, &opts)
	if closeGrants == nil {
		return code
	}
	defer closeGrants()
	// The profiles cover the whole run, the assembly of a source included.
	endProfiles, code := profile.start(io)
	if endProfiles == nil {
		return code
	}
	defer func() { status = endProfiles(status) }()
	path := pos[0]
	img, code := loadProgram(path, io)
	if img == nil {
		return code
	}
	// The spawn service may load program files from the main program's directory, and only there.
	opts.ProgramDir = filepath.Dir(path)
	opts.SourceLine = srcs.line
	opts.Assemble = assembleSpawned
	opts.ProcessTrapped = func(pid int, trap *vm.TrapError) {
		fmt.Fprintf(io.err, "spindle: process %d: %s", pid, trap.Report())
	}
	if *traceFile != "" {
		if *traceFormat == "" && strings.HasSuffix(*traceFile, ".json") {
			opts.TraceFormat = vm.TraceJSON
		}
		switch *traceFile {
		case "-", "/dev/stdout":
			// The streams themselves, not a new open of them, which would start at their
			// beginning and write over what the program writes to them.
			opts.Trace = io.out
		case "/dev/stderr":
			opts.Trace = io.err
		default:
			f, err := os.Create(*traceFile)
			if err != nil {
				fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
				return exitCantCreat
			}
			trace := &output{w: f, name: "the trace file " + *traceFile}
			defer func() {
				if err := f.Close(); err != nil && trace.failed() == nil {
					trace.err = &writeError{stream: trace.name, err: err}
				}
				status = endOutputs(io, status, trace)
			}()
			opts.Trace = trace
		}
	}
	m, err := vm.Load(img, opts)
	if err != nil {
		var le *vm.LimitError
		if errors.As(err, &le) {
			fmt.Fprintf(io.err, "spindle: %s: %s\n", path, limitReport(le))
			return exitLimit
		}
		fmt.Fprintf(io.err, "spindle: %s: %v\n", path, err)
		return exitDataErr
	}

	// Ctrl-C, SIGTERM and --timeout ask the loop to stop at its next check point, which
	// flushes the output. The one wait a processor cannot cut short is a write that the host
	// does not take (standard output to a pipe that nobody reads): after a grace period the
	// command exits anyway, with the status of the stop.
	const grace = 2 * time.Second
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var timedOut <-chan time.Time
	if opts.Timeout > 0 && opts.Timeout <= math.MaxInt64-grace {
		t := time.NewTimer(opts.Timeout + grace)
		defer t.Stop()
		timedOut = t.C
	}
	var got os.Signal
	sigDone := make(chan struct{})
	defer close(sigDone)
	go func() {
		select {
		case got = <-sigs:
			m.Interrupt()
			time.Sleep(grace)
			os.Exit(signalStatus(got))
		case <-timedOut:
			// The message goes to stderr, which may be the very pipe that holds the run up: it
			// is given a moment, and the command exits whether it went or not.
			written := make(chan struct{})
			go func() {
				fmt.Fprintf(io.err, "spindle: time limit exceeded: the run took longer than %v (--timeout), and did not stop within %v: its output cannot be written\n", opts.Timeout, grace)
				close(written)
			}()
			select {
			case <-written:
			case <-time.After(100 * time.Millisecond):
			}
			os.Exit(exitLimit)
		case <-sigDone:
		}
	}()

	res, err := m.Run()
	if *stats {
		printStats(io, res, opts.VirtualClock)
	}
	if err == nil {
		return int(res.ExitCode & 0xff)
	}
	if status, ok := tellWriteError(io, err); ok {
		return status
	}
	var (
		trap *vm.TrapError
		lim  *vm.LimitError
		intr *vm.InterruptError
		ie   *vm.InternalError
		dl   *vm.DeadlockError
	)
	switch {
	case errors.As(err, &trap):
		fmt.Fprintf(io.err, "spindle: %s", trap.Report())
		return exitTrap
	case errors.As(err, &lim):
		fmt.Fprintf(io.err, "spindle: %s\n", limitReport(lim))
		return exitLimit
	case errors.As(err, &intr):
		msg := intr.Error()
		if got == syscall.SIGTERM {
			// The VM knows only that it was interrupted; the command knows by what.
			msg = strings.Replace(msg, "interrupted", "terminated by SIGTERM", 1)
		}
		fmt.Fprintf(io.err, "spindle: %s\n", msg)
		return signalStatus(got)
	case errors.As(err, &dl):
		fmt.Fprintf(io.err, "spindle: %v\n", dl)
		return exitDeadlock
	case errors.As(err, &ie):
		return internalError(io, ie, append([]string{"run"}, args...))
	}
	fmt.Fprintf(io.err, "spindle: %v\n", err)
	return exitSoftware
}

// runFlags are the flags that run and debug share: the limits and the scheduling.
type runFlags struct {
	maxSteps, maxMem, stack      *uint64
	quantum                      *int64
	maxThreads, maxProcs, maxFDs *int
	seed, sched                  *string
	dirs, nets                   *dirList
}

func addRunFlags(fs *flag.FlagSet) runFlags {
	dirs, nets := new(dirList), new(dirList)
	fs.Var(dirs, "dir", "")
	fs.Var(nets, "net", "")
	return runFlags{
		maxSteps:   fs.Uint64("max-steps", 0, ""),
		maxMem:     sizeFlag(fs, "max-mem", vm.DefaultMaxMem),
		stack:      sizeFlag(fs, "stack", vm.DefaultStackSize),
		quantum:    fs.Int64("quantum", vm.DefaultQuantum, ""),
		maxThreads: fs.Int("max-threads", 0, ""),
		maxProcs:   fs.Int("max-procs", 0, ""),
		seed:       fs.String("seed", "", ""),
		sched:      fs.String("sched", "rr", ""),
		maxFDs:     fs.Int("max-fds", vm.DefaultMaxFDs, ""),
		dirs:       dirs,
		nets:       nets,
	}
}

// check returns what is wrong with the quantum, the memory and the stack, or "".
func (f runFlags) check() string {
	switch {
	case *f.quantum <= 0 || *f.quantum > vm.MaxQuantum:
		return fmt.Sprintf("--quantum must be from 1 to %d", vm.MaxQuantum)
	case *f.maxMem == 0 || *f.maxMem > vm.MaxMemLimit:
		return "--max-mem must be from 1 byte to 64G"
	case *f.stack < vm.MinStackSize:
		return fmt.Sprintf("--stack must be at least %d bytes", vm.MinStackSize)
	case *f.stack%16 != 0:
		return fmt.Sprintf("--stack must be a multiple of 16 bytes, such as %d", *f.stack&^15+16)
	case *f.stack > vm.MaxStackSize:
		return fmt.Sprintf("--stack must be at most %d bytes (256M less 4K), so that the stack, which ends at %#x, leaves the null page unmapped", vm.MaxStackSize, isa.DataBase)
	}
	return ""
}

// checkCounts returns what is wrong with the counts of threads and processes, or "".
func (f runFlags) checkCounts(fs *flag.FlagSet) string {
	switch {
	case *f.maxThreads < 0:
		return "--max-threads must be 0 (no limit) or more"
	case *f.maxProcs < 0 || *f.maxProcs == 0 && isSet(fs, "max-procs"):
		return "--max-procs must be at least 1"
	case *f.maxFDs < 1 || *f.maxFDs > vm.MaxFDsLimit:
		return fmt.Sprintf("--max-fds must be from 1 to %d", vm.MaxFDsLimit)
	}
	return ""
}

// options returns the VM's options that the flags set.
func (f runFlags) options() vm.Options {
	return vm.Options{MaxSteps: *f.maxSteps, MaxMem: *f.maxMem, StackSize: *f.stack, Quantum: *f.quantum,
		MaxThreads: *f.maxThreads, MaxProcs: *f.maxProcs, MaxFDs: *f.maxFDs}
}

// limitFlags are the flags that set the VM's limits.
var limitFlags = map[vm.Limit]string{
	vm.LimitSteps: "--max-steps", vm.LimitMemory: "--max-mem", vm.LimitTime: "--timeout",
	vm.LimitThreads: "--max-threads", vm.LimitProcesses: "--max-procs",
}

// limitReport words the report of a limit for the command line: the VM's, with the flag that
// sets the limit at the end of its first line.
func limitReport(le *vm.LimitError) string {
	first, rest, more := strings.Cut(le.Error(), "\n")
	s := fmt.Sprintf("%s (%s)", first, limitFlags[le.Limit])
	if more {
		s += "\n" + rest
	}
	return s
}

// isSet reports whether the command line gave flag name.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// flagError rewrites the flag package's messages, which name a flag with one dash, to name it
// as run's help writes it, with two, and one about a bad value, "invalid value "5" for flag
// -timeout: parse error", to say what the flag wants.
func flagError(err error) error {
	var value, name string
	msg := err.Error()
	for _, prefix := range []string{"flag needs an argument: -", "flag provided but not defined: -"} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			return errors.New(prefix + "-" + rest)
		}
	}
	if strings.HasPrefix(msg, "invalid boolean value") { // "... for -stats: parse error"
		msg = strings.Replace(strings.Replace(msg, "invalid boolean value", "invalid value", 1), " for -", " for flag -", 1)
	}
	if _, serr := fmt.Sscanf(msg, "invalid value %q for flag -%s", &value, &name); serr != nil {
		return err
	}
	name = strings.TrimSuffix(name, ":")
	want := map[string]string{
		"timeout": "a duration such as 10s or 500ms", "max-steps": "a count of instructions, 0 for no limit",
		"quantum": "a count of instructions", "cpus": "a count of processors", "max-threads": "a count, 0 for no limit",
		"max-procs": "a count", "stats": "true or false", "max-fds": "a count of descriptors",
	}[name]
	if want == "" {
		return errors.New(strings.Replace(msg, "for flag -", "for --", 1))
	}
	return fmt.Errorf("invalid value %q for --%s: want %s", value, name, want)
}

func signalStatus(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitTerm
	}
	return exitInterrupt
}

func printStats(io stdio, res vm.Result, virtual bool) {
	secs := res.Duration.Seconds()
	ips := 0.0
	if secs > 0 {
		ips = float64(res.Steps) / secs
	}
	fmt.Fprintf(io.err, "instructions  %d\nwall time     %v\n", res.Steps, res.Duration.Round(time.Microsecond))
	if virtual {
		// Sleeps and blocked times are in virtual time: say how much of it passed.
		fmt.Fprintf(io.err, "virtual time  %v (one instruction a nanosecond, idle time skipped; --seed)\n", res.Clock)
	}
	fmt.Fprintf(io.err, "instr/second  %s\nswitches      %d\nthreads       %d\n", si(ips), res.Switches, res.ThreadsMade)
	if len(res.Procs) > 1 {
		fmt.Fprintf(io.err, "%-8s %-9s %8s %14s %10s %14s\n", "process", "status", "threads", "instructions", "switches", "blocked")
		for _, p := range res.Procs {
			id, status := strconv.Itoa(p.ID), "running"
			switch {
			case p.ID == 0:
				id, status = "rest", "" // the processes after the first vm.MaxStatsProcs
			case p.Ended:
				status = fmt.Sprintf("exit %d", p.Status)
			}
			fmt.Fprintf(io.err, "%-8s %-9s %8d %14d %10d %14v\n", id, status, p.Threads, p.Steps, p.Switches, p.Blocked)
		}
	}
	if res.ThreadsMade < 2 {
		return
	}
	// A table of the threads; a program with thousands shows the first ones.
	const most = 20
	fmt.Fprintf(io.err, "%-8s %-9s %14s %10s %14s  %s\n", "thread", "state", "instructions", "switches", "blocked", "waits for")
	for i, t := range res.Threads {
		if i == most {
			fmt.Fprintf(io.err, "... and %d more threads\n", res.ThreadsMade-most)
			break
		}
		row := fmt.Sprintf("%-8s %-9s %14d %10d %14v  %s", fmt.Sprintf("%d.%d", t.Proc, t.ID), t.State, t.Steps, t.Switches, t.Blocked, t.BlockedOn)
		fmt.Fprintln(io.err, strings.TrimRight(row, " "))
	}
}

// si writes v with three significant digits and an SI prefix: 1.23M, 456k.
func si(v float64) string {
	for _, p := range []struct {
		div  float64
		name string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= p.div {
			return fmt.Sprintf("%.3g%s", v/p.div, p.name)
		}
	}
	return fmt.Sprintf("%.3g", v)
}

// loadProgram reads path as an object file or as assembly source (object.Load, the loader that
// spawn uses too). On failure it reports to stderr and returns a nil image and the exit status.
func loadProgram(path string, io stdio) (*object.Image, int) {
	f, br, err := openProgram(path)
	if err != nil {
		fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
		return nil, exitNoInput
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	img, err := object.Load(path, br, size, assembleMain)
	var (
		oe   *object.ObjectError
		list asm.ErrorList
	)
	switch {
	case err == nil:
		return img, 0
	case errors.As(err, &list):
		fmt.Fprintln(io.err, strings.TrimRight(err.Error(), "\n"))
		return nil, exitDataErr
	case errors.As(err, &oe):
		fmt.Fprintf(io.err, "spindle: %s: %v\n", path, err)
		return nil, exitDataErr
	}
	fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
	return nil, exitNoInput
}

// assembleMain assembles the main program's source, which may include any file the user can
// read, as a compiler's does.
func assembleMain(name string, r io.Reader) (*object.Image, error) {
	return asm.AssembleReader(name, r, nil)
}

// assembleSpawned assembles the source of a program that spawn loads: its includes come through
// the VM, from the program's directory only.
func assembleSpawned(name string, r io.Reader, readFile func(string) ([]byte, error)) (*object.Image, error) {
	return asm.AssembleReader(name, r, &asm.Options{ReadFile: readFile})
}

// openProgram opens a program file and reads its first bytes, so that a file that cannot be
// read, such as a directory, fails here. A source is then read as it is assembled, which stops
// at the assembler's limits: a file of any size costs little to refuse.
func openProgram(path string) (*os.File, *bufio.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	if _, err := br.Peek(1); err != nil && err != io.EOF {
		f.Close()
		return nil, nil, err
	}
	return f, br, nil
}

func cleanPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// parseInterspersed parses flags that may come before or after the positional arguments. Every
// word after a "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return append(pos, tail...), nil
}

type sizeValue struct{ v *uint64 }

func sizeFlag(fs *flag.FlagSet, name string, def uint64) *uint64 {
	v := new(uint64)
	*v = def
	fs.Var(sizeValue{v}, name, "")
	return v
}

func (s sizeValue) String() string {
	if s.v == nil {
		return "0"
	}
	return strconv.FormatUint(*s.v, 10)
}

func (s sizeValue) Set(text string) error {
	v, err := parseSize(text)
	if err != nil {
		return err
	}
	*s.v = v
	return nil
}

// parseSize reads a byte count such as 4096, 64K, 16M or 1G (powers of 1024; a trailing B or
// iB is allowed).
func parseSize(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q: want a byte count such as 4096, 64K, 16M or 1G", s)
	}
	return v * mult, nil
}
