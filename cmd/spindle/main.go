// Command spindle assembles, disassembles and runs Spindle programs.
//
// Usage:
//
//	spindle run [flags] FILE [-- ARGS...]   run a program (source or object file)
//	spindle debug [flags] FILE [-- ARGS...] step through a program, forwards and backwards
//	spindle dap [--listen ADDR]             serve an editor's debugger (Debug Adapter Protocol)
//	spindle asm [flags] FILE                assemble FILE into an object file
//	spindle disasm FILE                     print an object file as assembly
//	spindle version                         print the version
//	spindle help [COMMAND]                  explain a command
//
// Exit statuses: a program's own exit status passes through; otherwise see the constants below
// and README.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spindle-vm/spindle/internal/suggest"
	"github.com/spindle-vm/spindle/vm"
)

// Exit statuses of the spindle command itself. The first ones come from BSD's sysexits.h; a
// limit takes timeout(1)'s 124; a trap ends a process as a fatal signal does, and takes the
// shell's status for SIGABRT; an interrupt takes the shell's status for SIGINT or SIGTERM.
const (
	exitUsage     = 64  // EX_USAGE: the command line is wrong
	exitDataErr   = 65  // EX_DATAERR: assembly errors, or an invalid object file
	exitNoInput   = 66  // EX_NOINPUT: an input file cannot be read
	exitCantCreat = 73  // EX_CANTCREAT: an output cannot be written: a file, stdout or stderr
	exitSoftware  = 70  // EX_SOFTWARE: an internal error, a bug in Spindle
	exitLimit     = 124 // a limit was reached: steps, memory, threads or time
	exitDeadlock  = 125 // every thread is blocked and nothing can wake them
	exitTrap      = 134 // the program trapped (128 + SIGABRT)
	exitInterrupt = 130 // interrupted by Ctrl-C (128 + SIGINT)
	exitTerm      = 143 // stopped by SIGTERM (128 + SIGTERM)
)

// version is set at link time for releases; otherwise it comes from the build info.
var version = ""

type command struct {
	name, args, short, long string
	run                     func(args []string, stdio stdio) int
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

var commands []*command

func init() {
	commands = []*command{runCmd, debugCmd, dapCmd, asmCmd, disasmCmd, versionCmd, helpCmd}
}

func main() {
	os.Exit(run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

func run(args []string, io stdio) (status int) {
	// A panic anywhere, in the assembler, the object reader or the loader as much as in the
	// VM (whose Run turns its own into a *vm.InternalError), is reported as a bug, with the
	// input saved.
	defer func() {
		if r := recover(); r != nil {
			status = internalError(io, &vm.InternalError{Value: r, Stack: string(debug.Stack())}, args)
		}
	}()
	if testPanic != nil {
		testPanic()
	}
	out := &output{w: io.out, name: "the standard output"}
	errOut := &output{w: io.err, name: "the standard error"}
	io = stdio{io.in, out, errOut}
	defer func() { status = endOutputs(io, status, out, errOut) }()
	if len(args) == 0 {
		usage(io.err)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(io.out)
		return 0
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(args[1:], io)
		}
	}
	fmt.Fprintf(io.err, "spindle: unknown command %q%s\n", name, suggestCommand(name))
	fmt.Fprintln(io.err, "Run 'spindle help' for the list of commands.")
	return exitUsage
}

// usage is the command's synopsis: "spindle run [flags] FILE ...".
func (c *command) usage() string {
	return strings.TrimSpace("spindle " + c.name + " " + c.args)
}

// testPanic, when a test sets it, panics at the start of a command.
var testPanic func()

// internalError reports ie, a bug in Spindle, and saves the files that cmdline (the command's
// arguments, from the command's name on) names, with cmdline itself, so that the bug can be
// reproduced. It returns the exit status.
func internalError(io stdio, ie *vm.InternalError, cmdline []string) int {
	fmt.Fprintf(io.err, "spindle: %v\n", ie)
	if dir, err := saveCrashInput(cmdline); err == nil {
		fmt.Fprintf(io.err, "The command line and the files it names are saved in %s; please attach them to the report.\n", dir)
	}
	return exitSoftware
}

// saveCrashInput copies the files that cmdline names, each a regular file of at most 64 MiB,
// and cmdline itself, one argument a line, into a new directory, which it returns.
func saveCrashInput(cmdline []string) (string, error) {
	dir, err := os.MkdirTemp("", "spindle-crash-")
	if err != nil {
		return "", err
	}
	for _, arg := range cmdline {
		if fi, err := os.Stat(arg); err != nil || !fi.Mode().IsRegular() || fi.Size() > 64<<20 {
			continue
		}
		if b, err := os.ReadFile(arg); err == nil {
			os.WriteFile(filepath.Join(dir, filepath.Base(arg)), b, 0o644)
		}
	}
	return dir, os.WriteFile(filepath.Join(dir, "cmdline.txt"), []byte(strings.Join(cmdline, "\n")+"\n"), 0o644)
}

func suggestCommand(name string) string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	if best := suggest.Closest(name, names); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Spindle is a process virtual machine: a processor defined by its own instruction set,
an assembler for it, and an interpreter that runs programs as processes of green threads.

Usage:
  spindle <command> [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
Run 'spindle help <command>' for details. The manuals are in docs/.
`)
}

var versionCmd = &command{
	name:  "version",
	short: "print Spindle's version",
	long:  "Version prints Spindle's version, the object-file version it writes, and the Go version it\nwas built with.\n",
	run: func(args []string, io stdio) int {
		if len(args) > 0 {
			fmt.Fprintln(io.err, "spindle version: takes no arguments")
			return exitUsage
		}
		fmt.Fprintf(io.out, "spindle %s (object format %d, %s)\n", versionString(), objectVersion(), goVersion())
		return 0
	},
}

func versionString() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	rev := "devel"
	if ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = "devel-" + s.Value[:12]
			}
		}
	}
	return rev
}

func goVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.GoVersion
	}
	return "go"
}

var helpCmd = &command{
	name:  "help",
	args:  "[COMMAND]",
	short: "explain a command",
	long:  "Help explains a command, or lists the commands.\n",
	run: func(args []string, io stdio) int {
		if len(args) == 0 {
			usage(io.out)
			return 0
		}
		if len(args) > 1 {
			fmt.Fprintln(io.err, "spindle help: takes one command name")
			return exitUsage
		}
		for _, c := range commands {
			if c.name == args[0] {
				fmt.Fprintf(io.out, "usage: %s\n\n%s", c.usage(), c.long)
				return 0
			}
		}
		fmt.Fprintf(io.err, "spindle help: unknown command %q%s\n", args[0], suggestCommand(args[0]))
		return exitUsage
	},
}

// usageError reports a command-line error and returns the usage status. -h and --help are not
// errors: they print the command's help.
func usageError(io stdio, c *command, format string, a ...any) int {
	if len(a) == 1 && a[0] == flag.ErrHelp {
		fmt.Fprintf(io.out, "usage: %s\n\n%s", c.usage(), c.long)
		return 0
	}
	fmt.Fprintf(io.err, "spindle %s: %s\n", c.name, fmt.Sprintf(format, a...))
	fmt.Fprintf(io.err, "usage: %s\nRun 'spindle help %s' for details.\n", c.usage(), c.name)
	return exitUsage
}

// discard silences the flag package, which would print its errors before usageError does.
type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
