package dap

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-dap"
)

// TestFibSession walks programs/fib.s as a VS Code user would: breakpoints by line (one on a
// comment, which moves to the next line with code, and one past the end, refused), a stop,
// the stack, registers and locals, steps over and out, a step back, the debug console, and
// the end of the run.
func TestFibSession(t *testing.T) {
	c := newClient(t)
	fib := program(t, "fib.s")
	c.start(map[string]any{"program": fib, "stdin": writeFile(t, "five.txt", "5\n")})
	src := &dap.Source{Name: "fib.s", Path: fib}

	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fib},
		"breakpoints": []map[string]any{{"line": 19}, {"line": 21}, {"line": 200}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: src, Line: 19, InstructionReference: "0x400000"},
		{Id: 2, Verified: true, Source: src, Line: 22, InstructionReference: "0x400008"},
		{Verified: false, Message: fib + ":200 and the lines after it have no code"},
	}}})
	seq = c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(seq, "configurationDone")})
	expect(c, stopped("breakpoint", 1, 1))

	seq = c.send("stackTrace", map[string]any{"threadId": 1})
	expect(c, &dap.StackTraceResponse{Response: ok(seq, "stackTrace"), Body: dap.StackTraceResponseBody{TotalFrames: 2, StackFrames: []dap.StackFrame{
		{Id: 1, Name: "fib", Source: src, Line: 19, Column: 1, InstructionPointerReference: "0x400000"},
		{Id: 2, Name: "main", Source: src, Line: 37, Column: 1, InstructionPointerReference: "0x400048"},
	}}})
	seq = c.send("scopes", map[string]any{"frameId": 1})
	expect(c, &dap.ScopesResponse{Response: ok(seq, "scopes"), Body: dap.ScopesResponseBody{Scopes: []dap.Scope{
		{Name: "Registers", PresentationHint: "registers", VariablesReference: 1, NamedVariables: 17},
		{Name: "Locals", PresentationHint: "locals", VariablesReference: 2},
		{Name: "Thread context", VariablesReference: 3},
	}}})
	regs := c.variables(1)
	wantRegs := map[string]dap.Variable{
		"a0": {Name: "a0", Value: "0x5 (5)", EvaluateName: "a0", MemoryReference: "0x5"},
		"t0": {Name: "t0", Value: "0x0 (0)", EvaluateName: "t0", MemoryReference: "0x0"},
		"pc": {Name: "pc", Value: "0x400000 <fib> at " + fib + ":19", EvaluateName: "pc", MemoryReference: "0x400000"},
	}
	for name, want := range wantRegs {
		if diff := cmp.Diff(want, regs[name]); diff != "" {
			t.Errorf("register %s (-want +got):\n%s", name, diff)
		}
	}
	if len(regs) != 17 {
		t.Errorf("%d registers; want 17, pc included", len(regs))
	}
	// fib has not run enter yet: its fp is main's, 0 as the loader starts a thread.
	if diff := cmp.Diff(map[string]dap.Variable{"(none)": {Name: "(none)", Value: "fib keeps no frame: its fp is 0, as the loader starts a thread"}}, c.variables(2)); diff != "" {
		t.Errorf("locals before enter (-want +got):\n%s", diff)
	}
	ctx := c.variables(3)
	for name, want := range map[string]string{"thread": "1.1", "state": "running: on the processor, which holds its registers", "at": "0x400000 <fib> at " + fib + ":19"} {
		if ctx[name].Value != want {
			t.Errorf("thread context %s = %q; want %q", name, ctx[name].Value, want)
		}
	}

	seq = c.send("continue", map[string]any{"threadId": 1})
	expect(c, &dap.ContinueResponse{Response: ok(seq, "continue"), Body: dap.ContinueResponseBody{AllThreadsContinued: true}})
	expect(c, stopped("breakpoint", 1, 2))
	seq = c.send("next", map[string]any{"threadId": 1})
	expect(c, &dap.NextResponse{Response: ok(seq, "next")})
	expect(c, stopped("step", 1))
	seq = c.send("next", map[string]any{"threadId": 1})
	expect(c, &dap.NextResponse{Response: ok(seq, "next")})
	expect(c, stopped("step", 1))
	top, at := c.stackTop(1)
	if at != "fib.s:24" {
		t.Errorf("after enter and push: at %s; want fib.s:24", at)
	}
	locals := c.variables(c.scopes(top.Id)["Locals"])
	for _, want := range []dap.Variable{
		{Name: "8(fp)", Value: "0x40004c <main+12> at " + fib + ":38", Type: "return address", EvaluateName: "*(fp+8)"},
		{Name: "0(fp)", Value: "0x0 (0)", Type: "saved fp", EvaluateName: "*(fp+0)"},
		{Name: "-8(fp)", Value: "0x0 (0)", EvaluateName: "*(fp-8)"},
		{Name: "-16(fp)", Value: "0x0 (0)", EvaluateName: "*(fp-16)"},
	} {
		if diff := cmp.Diff(want, locals[want.Name], cmpIgnoreMemory); diff != "" {
			t.Errorf("local %s (-want +got):\n%s", want.Name, diff)
		}
	}

	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": fib}, "breakpoints": []any{}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints")})
	seq = c.send("stepOut", map[string]any{"threadId": 1})
	expect(c, &dap.StepOutResponse{Response: ok(seq, "stepOut")})
	expect(c, stopped("step", 1))
	if _, at := c.stackTop(1); at != "fib.s:38" {
		t.Errorf("after stepOut: at %s; want fib.s:38, after the call", at)
	}
	if got := c.evaluate("a0", 0); got != "5" {
		t.Errorf("evaluate a0 = %q; want 5 (fib(5))", got)
	}
	if got := c.evaluate("p/x a0 + 1", 0); got != "a0 + 1 = 0x6" {
		t.Errorf("evaluate p/x a0 + 1 = %q", got)
	}
	seq = c.send("stepBack", map[string]any{"threadId": 1})
	expect(c, &dap.StepBackResponse{Response: ok(seq, "stepBack")})
	expect(c, stopped("step", 1))
	if _, at := c.stackTop(1); at != "fib.s:37" {
		t.Errorf("after stepBack: at %s; want fib.s:37, the call", at)
	}
	if got := c.evaluate("info breakpoints", 0); got != "No breakpoints, watchpoints or catchpoints." {
		t.Errorf("info breakpoints in the debug console: %q", got)
	}

	seq = c.send("continue", map[string]any{"threadId": 1})
	expect(c, &dap.ContinueResponse{Response: ok(seq, "continue"), Body: dap.ContinueResponseBody{AllThreadsContinued: true}})
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	if c.output["stdout"] != "5\n" {
		t.Errorf("the program's output: %q; want 5", c.output["stdout"])
	}
	if !strings.Contains(c.output["console"], "[the program exited with status 0 after") {
		t.Errorf("the debug console does not say the program exited:\n%s", c.output["console"])
	}
	c.disconnect()
}

var cmpIgnoreMemory = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".MemoryReference" }, cmp.Ignore())

// scopes returns the variablesReference of each scope of frame id, by name.
func (c *client) scopes(frame int) map[string]int {
	c.t.Helper()
	c.send("scopes", map[string]any{"frameId": frame})
	r := c.next()
	sc, ok := r.(*dap.ScopesResponse)
	if !ok {
		c.t.Fatalf("scopes %d: %s", frame, describe(r))
	}
	refs := map[string]int{}
	for _, s := range sc.Body.Scopes {
		refs[s.Name] = s.VariablesReference
	}
	return refs
}

// variables returns the variables of reference ref, by name.
func (c *client) variables(ref int) map[string]dap.Variable {
	c.t.Helper()
	c.send("variables", map[string]any{"variablesReference": ref})
	r := c.next()
	v, ok := r.(*dap.VariablesResponse)
	if !ok {
		c.t.Fatalf("variables %d: %s", ref, describe(r))
	}
	vars := map[string]dap.Variable{}
	for _, x := range v.Body.Variables {
		vars[x.Name] = x
	}
	return vars
}

var _ = base64.StdEncoding
var _ = fmt.Sprint
