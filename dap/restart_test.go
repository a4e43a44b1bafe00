package dap

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-dap"
)

// argsProgram prints argc, then each argument on its own line (argv[0] is the program's path).
const argsProgram = `main:   mov     s0, a0
        mov     s1, a1
        syscall print_int
        li      a0, '\n'
        syscall putc
        li      s2, 0
.next:  bge     s2, s0, .done
        shli    t0, s2, 3
        add     t0, t0, s1
        ld      a0, 0(t0)
        syscall puts
        li      a0, '\n'
        syscall putc
        addi    s2, s2, 1
        jmp     .next
.done:  li      a0, 0
        ret
`

// TestRestartWithArguments restarts with the launch configuration that the restart request
// gives: other arguments and stopOnEntry, then another program with a stdin file, then the same
// with the file's contents changed. A breakpoint that the new program does not have is told
// unverified; a configuration that does not launch leaves the session as it was.
func TestRestartWithArguments(t *testing.T) {
	c := newClient(t)
	args := writeFile(t, "args.s", argsProgram)
	c.start(map[string]any{"program": args, "args": []string{"one"}})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": args}, "breakpoints": []map[string]any{{"line": 16}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: &dap.Source{Name: "args.s", Path: args}, Line: 16, InstructionReference: "0x40003c"},
	}}})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, stopped("breakpoint", 1, 1))
	if want := "2\n" + args + "\none\n"; c.output["stdout"] != want {
		t.Errorf("the program's output: %q; want %q", c.output["stdout"], want)
	}

	c.output = map[string]string{}
	seq = c.send("restart", map[string]any{"arguments": map[string]any{
		"type": "spindle", "request": "launch", "name": "args", "program": args, "args": []string{"two", "three"}, "stopOnEntry": true}})
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, stopped("entry", 1))
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	if want := "3\n" + args + "\ntwo\nthree\n"; c.output["stdout"] != want {
		t.Errorf("restarted with other arguments, the program's output: %q; want %q", c.output["stdout"], want)
	}

	// Another program, whose input is a file: the breakpoint in args.s is not in it.
	echo := program(t, "echo.s")
	stdin := writeFile(t, "in.txt", "hello\n")
	c.output = map[string]string{}
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": echo, "stdin": stdin}})
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, &dap.BreakpointEvent{Event: ev("breakpoint"), Body: dap.BreakpointEventBody{Reason: "changed", Breakpoint: dap.Breakpoint{
		Id: 1, Message: "breakpoint 1 is not in the program (the debug console says why); a restart whose program has it enables it again"}}})
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	if c.output["stdout"] != "hello\n" {
		t.Errorf("restarted with echo.s and a stdin file, the program's output: %q; want hello", c.output["stdout"])
	}
	if !strings.Contains(c.output["console"], "breakpoint 1 ("+args+":16) is disabled: no source file") {
		t.Errorf("the debug console does not say why breakpoint 1 is disabled:\n%s", c.output["console"])
	}

	// The same configuration, the file changed: it is read again.
	if err := os.WriteFile(stdin, []byte("bye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.output = map[string]string{}
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": echo, "stdin": stdin}})
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	if c.output["stdout"] != "bye\n" {
		t.Errorf("restarted after the stdin file changed, the program's output: %q; want bye", c.output["stdout"])
	}

	// A program that does not load: the session goes on with echo.s, as a restart without a
	// configuration shows.
	bad := writeFile(t, "bad.s", "main: frob a0\n")
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": bad}})
	r := c.next()
	if e, ok := r.(*dap.ErrorResponse); !ok || e.RequestSeq != seq || e.Body.Error.Id != errLaunchFailed ||
		!strings.HasPrefix(e.Message, "restart: "+bad+":1:7: unknown instruction 'frob'") || !strings.HasSuffix(e.Message, "; the session goes on as it was") {
		t.Errorf("restart with a program that does not assemble: %s", describe(r))
	}
	c.output = map[string]string{}
	seq = c.send("restart", nil)
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	if c.output["stdout"] != "bye\n" {
		t.Errorf("restarted without a configuration after a refused one, the program's output: %q; want bye, echo.s's", c.output["stdout"])
	}

	// args.s again: breakpoint 1 is in it, and stops it again.
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": args}})
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, &dap.BreakpointEvent{Event: ev("breakpoint"), Body: dap.BreakpointEventBody{Reason: "changed", Breakpoint: dap.Breakpoint{
		Id: 1, Verified: true, Source: &dap.Source{Name: "args.s", Path: args}, Line: 16, InstructionReference: "0x40003c"}}})
	expect(c, threadEvent("started", 1))
	expect(c, stopped("breakpoint", 1, 1))
	c.disconnect()
}
