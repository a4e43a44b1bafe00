package dap

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
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

	c.cont(1)
	expect(c, stopped("breakpoint", 1, 2))
	c.step("next", map[string]any{"threadId": 1})
	expect(c, stopped("step", 1))
	top := c.stepTo("next", map[string]any{"threadId": 1}, "fib.s:24") // after enter and push
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
	c.stepTo("stepOut", map[string]any{"threadId": 1}, "fib.s:38") // just after the call
	if got := c.evaluate("a0", 0); got != "5" {
		t.Errorf("evaluate a0 = %q; want 5 (fib(5))", got)
	}
	if got := c.evaluate("p/x a0 + 1", 0); got != "a0 + 1 = 0x6" {
		t.Errorf("evaluate p/x a0 + 1 = %q", got)
	}
	c.stepTo("stepBack", map[string]any{"threadId": 1}, "fib.s:37") // the call
	if got := c.evaluate("info breakpoints", 0); got != "No breakpoints, watchpoints or catchpoints." {
		t.Errorf("info breakpoints in the debug console: %q", got)
	}

	c.cont(1)
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

// TestRaceSession is the race of docs/debugger.md in an editor: a conditional breakpoint on the
// store that loses updates, two steps back in its thread, the second across the context switch
// that let the other thread run between its load and its store, then a data breakpoint on the
// counter, forward and back.
func TestRaceSession(t *testing.T) {
	c := newClient(t)
	race := program(t, "threads/race.s")
	c.start(map[string]any{"program": race, "seed": 1, "sched": "random"})
	src := &dap.Source{Name: "race.s", Path: race}

	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": race},
		"breakpoints": []map[string]any{{"line": 44, "condition": "*counter + 1 != t2"}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: src, Line: 44, InstructionReference: "0x400010"},
	}}})
	seq = c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(seq, "configurationDone")})
	expect(c, threadEvent("started", 2))
	expect(c, threadEvent("started", 3))
	expect(c, stopped("breakpoint", 2, 1))
	seq = c.send("threads", nil)
	expect(c, &dap.ThreadsResponse{Response: ok(seq, "threads"), Body: dap.ThreadsResponseBody{Threads: []dap.Thread{
		{Id: 1, Name: "1.1"}, {Id: 2, Name: "1.2"}, {Id: 3, Name: "1.3"},
	}}})
	for expr, want := range map[string]string{"*counter": "1087 (0x43f)", "t2": "515 (0x203)", "frame": "[step 5464]"} {
		if got := firstLine(c.evaluate(expr, 0)); got != want {
			t.Errorf("at the lost update, %s = %q; want %q", expr, got, want)
		}
	}

	c.stepTo("stepBack", map[string]any{"threadId": 2}, "race.s:42")        // the add
	top := c.stepTo("stepBack", map[string]any{"threadId": 2}, "race.s:40") // the load, across the context switch
	ctx := c.variables(c.scopes(top.Id)["Thread context"])
	if got := ctx["step of the run"].Value; got != "2593" {
		t.Errorf("two steps back, across the switch: at step %s; want 2593", got)
	}
	if got := ctx["switched in"].Value; got != "1 time" {
		t.Errorf("thread 1.2 switched in %q; want 1 time", got)
	}
	if got := c.evaluate("*counter", 0); got != "514 (0x202)" {
		t.Errorf("at the load, *counter = %q; want 514", got)
	}

	seq = c.send("dataBreakpointInfo", map[string]any{"name": "counter"})
	expect(c, &dap.DataBreakpointInfoResponse{Response: ok(seq, "dataBreakpointInfo"), Body: dap.DataBreakpointInfoResponseBody{
		DataId: "counter 8", Description: "the 8 bytes at 0x10000000 (counter)", AccessTypes: []dap.DataBreakpointAccessType{"write"}}})
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": "counter 8", "accessType": "write"}}})
	expect(c, &dap.SetDataBreakpointsResponse{Response: ok(seq, "setDataBreakpoints"), Body: dap.SetDataBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 2, Verified: true},
	}}})
	c.cont(2)
	want := stopped("data breakpoint", 3, 2)
	want.Body.Text = "data breakpoint: 8 bytes at 0x10000000 changed"
	expect(c, want)
	if got := firstLine(c.evaluate("frame", 0)); got != "[step 2599]" {
		t.Errorf("the next write: %s; want [step 2599], thread 1.3's store", got)
	}
	c.step("reverseContinue", map[string]any{"threadId": 2})
	want = stopped("data breakpoint", 2, 2)
	want.Body.Text = "data breakpoint: 8 bytes at 0x10000000 changed"
	expect(c, want)
	if got := firstLine(c.evaluate("frame", 0)); got != "[step 2591]" {
		t.Errorf("the write before: %s; want [step 2591], thread 1.2's own store before its load", got)
	}
	c.disconnect()
}

// trapProgram loads through a null pointer at line 7.
const trapProgram = `        .data
buf:    .quad   7
        .text
main:   la      t0, buf
        ld      a0, 0(t0)
        li      t1, 0
        ld      a1, 0(t1)       # a null pointer: the load traps
        ret
`

// TestTrapSession stops at a label and at an instruction, reads and writes memory and a
// register, disassembles, and comes to a trap, shown as an exception; it steps back from the
// trap, runs to the end, and restarts.
func TestTrapSession(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "trap.s", trapProgram)
	c.start(map[string]any{"program": prog, "stopOnEntry": true})
	src := &dap.Source{Name: "trap.s", Path: prog}

	seq := c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main"}, {"name": "nosuch"}}})
	expect(c, &dap.SetFunctionBreakpointsResponse{Response: ok(seq, "setFunctionBreakpoints"), Body: dap.SetFunctionBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: src, Line: 4, InstructionReference: "0x400000"},
		{Verified: false, Message: `in "nosuch": no register or label is named nosuch`},
	}}})
	seq = c.send("setInstructionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"instructionReference": "0x400004", "offset": 4}}})
	expect(c, &dap.SetInstructionBreakpointsResponse{Response: ok(seq, "setInstructionBreakpoints"), Body: dap.SetInstructionBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 2, Verified: true, Source: src, Line: 6, InstructionReference: "0x400008"},
	}}})
	seq = c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(seq, "configurationDone")})
	expect(c, stopped("entry", 1))
	c.cont(1)
	expect(c, stopped("instruction breakpoint", 1, 2))

	seq = c.send("readMemory", map[string]any{"memoryReference": "0x10000000", "count": 8})
	expect(c, &dap.ReadMemoryResponse{Response: ok(seq, "readMemory"), Body: dap.ReadMemoryResponseBody{
		Address: "0x10000000", Data: base64.StdEncoding.EncodeToString([]byte{7, 0, 0, 0, 0, 0, 0, 0})}})
	seq = c.send("readMemory", map[string]any{"memoryReference": "0x1000", "offset": 16, "count": 4})
	expect(c, &dap.ReadMemoryResponse{Response: ok(seq, "readMemory"), Body: dap.ReadMemoryResponseBody{Address: "0x1010", UnreadableBytes: 4}})
	seq = c.send("writeMemory", map[string]any{"memoryReference": "0x10000000", "data": base64.StdEncoding.EncodeToString([]byte{9, 1})})
	expect(c, &dap.WriteMemoryResponse{Response: ok(seq, "writeMemory"), Body: dap.WriteMemoryResponseBody{BytesWritten: 2}})
	if got := c.evaluate("*buf", 0); got != "265 (0x109)" {
		t.Errorf("after writeMemory, *buf = %q; want 265: 9 and 1, the other bytes as they were", got)
	}
	seq = c.send("disassemble", map[string]any{"memoryReference": "0x400008", "instructionOffset": -3, "instructionCount": 6, "resolveSymbols": true})
	expect(c, &dap.DisassembleResponse{Response: ok(seq, "disassemble"), Body: dap.DisassembleResponseBody{Instructions: []dap.DisassembledInstruction{
		{Address: "0x3ffffc", Instruction: "??"},
		{Address: "0x400000", InstructionBytes: "00000606", Instruction: "lk t0, buf", Symbol: "main", Location: src, Line: 4},
		{Address: "0x400004", InstructionBytes: "0000602a", Instruction: "ld a0, 0(t0)", Symbol: "main+4", Line: 5},
		{Address: "0x400008", InstructionBytes: "00000705", Instruction: "li t1, 0", Symbol: "main+8", Line: 6},
		{Address: "0x40000c", InstructionBytes: "0000712a", Instruction: "ld a1, 0(t1)", Symbol: "main+12", Line: 7},
		{Address: "0x400010", InstructionBytes: "0000003f", Instruction: "ret", Symbol: "main+16", Line: 8},
	}}})
	regs := c.scopes(c.frameID(1))["Registers"]
	seq = c.send("setVariable", map[string]any{"variablesReference": regs, "name": "a0", "value": "6 * 7"})
	expect(c, &dap.SetVariableResponse{Response: ok(seq, "setVariable"), Body: dap.SetVariableResponseBody{Value: "0x2a (42)"}})

	c.cont(1)
	st := expect(c, stopped("exception", 1), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Text" || p.Last().String() == ".Description"
	}, cmp.Ignore()))
	seq = c.send("exceptionInfo", map[string]any{"threadId": 1})
	info := expect(c, &dap.ExceptionInfoResponse{Response: ok(seq, "exceptionInfo"), Body: dap.ExceptionInfoResponseBody{ExceptionId: "", Description: "", BreakMode: "always", Details: &dap.ExceptionDetails{TypeName: "trap"}}},
		cmp.FilterPath(func(p cmp.Path) bool {
			return p.Last().String() == ".ExceptionId" || p.Last().String() == ".Description" || p.Last().String() == ".Message"
		}, cmp.Ignore()))
	if st.Body.Text != info.Body.Details.Message || !strings.Contains(st.Body.Text, "registers:") {
		t.Errorf("the stop's text is not the trap's report:\n%s\nexceptionInfo:\n%s", st.Body.Text, info.Body.Details.Message)
	}
	// The stop's description is short, since editors show it as the thread's state (VS Code in
	// capitals, cut off); its text and exceptionInfo say all.
	const what = "trap: memory access out of bounds: null pointer: 8-byte access at 0x0; memory is 0xff00000 to 0x10000010"
	if st.Body.Description != "trap: memory access out of bounds" || info.Body.Description != what || info.Body.ExceptionId != "memory access out of bounds" {
		t.Errorf("the trap is described as %q, exceptionInfo %q and %q; want %q", st.Body.Description, info.Body.ExceptionId, info.Body.Description, what)
	}

	c.stepTo("stepBack", map[string]any{"threadId": 1, "granularity": "instruction"}, "trap.s:6") // a step back from the trap
	c.cont(1)
	expect(c, stopped("exception", 1), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Text" || p.Last().String() == ".Description"
	}, cmp.Ignore()))
	c.cont(1)
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 134}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})

	seq = c.send("restart", nil)
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, threadEvent("started", 1))
	expect(c, stopped("entry", 1))
	c.disconnect()
}

// frameID returns the id of thread's innermost frame.
func (c *client) frameID(thread int) int {
	c.t.Helper()
	f, _ := c.stackTop(thread)
	return f.Id
}

// TestMalformedInput sends what a client should not: requests out of order, bytes that are not
// JSON, unknown commands, fields of the wrong type or missing, references that do not exist.
// Each gets an error response that says what is wrong, and the server goes on: the session
// after them works.
func TestMalformedInput(t *testing.T) {
	c := newClient(t)
	seq := c.send("threads", nil)
	expect(c, errorResponse(seq, "threads", errOrder, "threads before initialize: initialize comes first"))
	c.sendRaw([]byte(`{"seq": 2, "type": "request", "command": `))
	expect(c, errorResponse(0, "", errBadRequest, "the message is not JSON: unexpected end of JSON input"))
	c.seq++
	seq = c.send("frobnicate", map[string]any{})
	expect(c, errorResponse(seq, "frobnicate", errUnknown, `unknown command "frobnicate"`))
	c.seq++
	c.sendRaw([]byte(fmt.Sprintf(`{"seq": %d, "type": "event", "event": "stopped", "body": {"reason": "step"}}`, c.seq)))
	expect(c, errorResponse(0, "", errBadRequest, "the client sends requests only: a *dap.StoppedEvent is not one"))
	c.seq++
	c.sendRaw([]byte(fmt.Sprintf(`{"seq": %d, "type": "telegram"}`, c.seq)))
	expect(c, errorResponse(c.seq, "", errBadRequest, `type "telegram" is not one that a client sends`))

	seq = c.send("initialize", map[string]any{"adapterID": "spindle"})
	expect(c, &dap.InitializeResponse{Response: ok(seq, "initialize"), Body: capabilities})
	seq = c.send("initialize", map[string]any{"adapterID": "spindle"})
	expect(c, errorResponse(seq, "initialize", errOrder, "initialize came twice"))
	seq = c.send("stackTrace", map[string]any{"threadId": 1})
	expect(c, errorResponse(seq, "stackTrace", errOrder, "stackTrace before launch: there is no program yet"))
	seq = c.send("launch", map[string]any{"program": 5})
	expect(c, errorResponse(seq, "launch", errBadRequest, "launch: json: cannot unmarshal number into Go struct field LaunchArgs.program of type string"))
	seq = c.send("launch", map[string]any{"stopOnEntry": true})
	expect(c, errorResponse(seq, "launch", errBadRequest, `launch: no program: set "program" to the assembly source or object file to debug`))
	seq = c.send("launch", map[string]any{"program": "/nonexistent/prog.s"})
	expect(c, errorResponse(seq, "launch", errLaunchFailed, "open /nonexistent/prog.s: no such file or directory"))
	bad := writeFile(t, "bad.s", "main: frob a0\n")
	seq = c.send("launch", map[string]any{"program": bad})
	r := c.next()
	if e, ok := r.(*dap.ErrorResponse); !ok || e.RequestSeq != seq || !strings.Contains(e.Message, "bad.s:1:7: unknown instruction 'frob'") {
		t.Errorf("launch of a program that does not assemble: %s", describe(r))
	}

	prog := writeFile(t, "trap.s", trapProgram)
	c.send("launch", map[string]any{"program": prog, "stopOnEntry": true})
	expect(c, &dap.LaunchResponse{Response: ok(c.seq, "launch")})
	expect(c, threadEvent("started", 1))
	expect(c, &dap.InitializedEvent{Event: ev("initialized")})
	seq = c.send("launch", map[string]any{"program": prog})
	expect(c, errorResponse(seq, "launch", errOrder, "launch came twice: one session debugs one program"))
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": "line 4"})
	expect(c, errorResponse(seq, "setBreakpoints", errBadRequest, "setBreakpoints: arguments.breakpoints is a JSON string; want []dap.SourceBreakpoint"))
	seq = c.send("setBreakpoints", map[string]any{"breakpoints": []map[string]any{{"line": 4}}})
	expect(c, errorResponse(seq, "setBreakpoints", errBadRequest, "setBreakpoints: the source has no path"))
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": 0}, {"line": 4, "hitCondition": "%2x"}, {"line": 5, "condition": "a0 +"},
			{"line": 6, "hitCondition": "% 0"}, {"line": 7, "logMessage": "a0 is {a0"}, {"line": 8, "logMessage": "a0 is a0}"}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Message: "line 0: lines start at 1"},
		{Message: `hit condition "%2x": want N, >= N, > N, == N, != N, < N, <= N or % N, with N a count of hits (N alone is >= N; % N stops at every Nth hit)`},
		{Message: `in "a0 +": an operand is missing at the end`},
		{Message: `hit condition "% 0": % 0 divides by zero: % N stops at every Nth hit, N from 1`},
		{Message: `log message "a0 is {a0": the { at 7 has no }: {EXPR} is the value of EXPR, and {{ a brace`},
		{Message: `log message "a0 is a0}": the } at 9 closes no {: }} is a brace`},
	}}})
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main", "hitCondition": "== 0"}}})
	expect(c, &dap.SetFunctionBreakpointsResponse{Response: ok(seq, "setFunctionBreakpoints"), Body: dap.SetFunctionBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Message: `hit condition "== 0" never holds: the first hit is hit 1`},
	}}})
	seq = c.send("setInstructionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"instructionReference": "0x400004", "hitCondition": "< 1"}}})
	expect(c, &dap.SetInstructionBreakpointsResponse{Response: ok(seq, "setInstructionBreakpoints"), Body: dap.SetInstructionBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Message: `hit condition "< 1" never holds: the first hit is hit 1`},
	}}})
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": "buf"}, {"dataId": "buf 8", "accessType": "read"}, {"dataId": "buf 8", "hitCondition": ">= x"}}})
	expect(c, &dap.SetDataBreakpointsResponse{Response: ok(seq, "setDataBreakpoints"), Body: dap.SetDataBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Message: `dataId "buf": want an address and a count of bytes, as dataBreakpointInfo gives it`},
		{Message: "access type read: a data breakpoint stops at a write that changes the bytes"},
		{Message: `hit condition ">= x": want N, >= N, > N, == N, != N, < N, <= N or % N, with N a count of hits (N alone is >= N; % N stops at every Nth hit)`},
	}}})
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"stopOnEntry": true}})
	expect(c, errorResponse(seq, "restart", errBadRequest, `restart: arguments: no program: set "program" to the assembly source or object file to debug`))
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": prog, "args": "one"}})
	expect(c, errorResponse(seq, "restart", errBadRequest, "restart: arguments: json: cannot unmarshal string into Go struct field LaunchArgs.args of type []string"))
	seq = c.send("restart", map[string]any{"arguments": map[string]any{"program": "/nonexistent/prog.s"}})
	expect(c, errorResponse(seq, "restart", errLaunchFailed, "restart: open /nonexistent/prog.s: no such file or directory; the session goes on as it was"))
	seq = c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(seq, "configurationDone")})
	expect(c, stopped("entry", 1))

	seq = c.send("stackTrace", map[string]any{"threadId": 7})
	expect(c, errorResponse(seq, "stackTrace", errFailed, "stackTrace: no thread 7 (threads lists them)"))
	seq = c.send("variables", map[string]any{"variablesReference": 99})
	expect(c, errorResponse(seq, "variables", errQuiet, "variables: no variables 99: they are good until the program runs again"))
	seq = c.send("scopes", map[string]any{"frameId": 99}) // as VS Code asks, for a stop before
	expect(c, errorResponse(seq, "scopes", errQuiet, "scopes: no frame 99: frames are good until the program runs again"))
	seq = c.send("scopes", map[string]any{"frameId": "one"})
	expect(c, errorResponse(seq, "scopes", errBadRequest, "scopes: arguments.frameId is a JSON string; want int"))
	seq = c.send("evaluate", map[string]any{"expression": "a0 + )", "context": "watch"})
	expect(c, errorResponse(seq, "evaluate", errQuiet, `in "a0 + )": unexpected ")"`)) // the Watch pane shows it, not a pop-up
	seq = c.send("evaluate", map[string]any{"expression": "a0 + )", "context": "repl"})
	expect(c, errorResponse(seq, "evaluate", errFailed, `in "a0 + )": unexpected ")"`))
	seq = c.send("evaluate", map[string]any{"expression": "frame 9", "context": "repl"})
	expect(c, errorResponse(seq, "evaluate", errFailed, "no frame 9: thread 1.1 has only frame 0 (backtrace lists its frames)"))
	seq = c.send("next", map[string]any{"threadId": 42})
	expect(c, errorResponse(seq, "next", errFailed, "next: no thread 42 (threads lists them)"))
	seq = c.send("readMemory", map[string]any{"memoryReference": "buf", "count": 8})
	expect(c, errorResponse(seq, "readMemory", errBadRequest, `readMemory: memory reference "buf": want an address, such as 0x10000000`))
	seq = c.send("disassemble", map[string]any{"memoryReference": "0x400000", "instructionCount": 1 << 30})
	expect(c, errorResponse(seq, "disassemble", errBadRequest, "disassemble: instructionCount 1073741824: want 0 to 16384"))
	seq = c.send("writeMemory", map[string]any{"memoryReference": "0x10000000", "data": "not base64!"})
	expect(c, errorResponse(seq, "writeMemory", errBadRequest, "writeMemory: data is up to 1048576 bytes in base64"))
	seq = c.send("exceptionInfo", map[string]any{"threadId": 1})
	expect(c, errorResponse(seq, "exceptionInfo", errFailed, "exceptionInfo: the program is not stopped at a trap"))
	seq = c.send("attach", map[string]any{})
	expect(c, errorResponse(seq, "attach", errUnknown, "attach: spindle dap launches its program (launch); it cannot attach to a run"))
	seq = c.send("goto", map[string]any{"threadId": 1, "targetId": 1})
	expect(c, errorResponse(seq, "goto", errUnknown, "goto is not supported by spindle dap"))

	// After all that, the session works.
	seq = c.send("threads", nil)
	expect(c, &dap.ThreadsResponse{Response: ok(seq, "threads"), Body: dap.ThreadsResponseBody{Threads: []dap.Thread{{Id: 1, Name: "1.1"}}}})
	c.stepTo("next", map[string]any{"threadId": 1}, "trap.s:5")
	c.disconnect()
}

// loopProgram counts in t0 for ever.
const loopProgram = `main:   li      t0, 0
.loop:  addi    t0, t0, 1
        j       .loop
`

// TestHitConditionAndPause stops at the fifth hit of a breakpoint and at each one after, and
// pauses a program that runs for ever.
func TestHitConditionAndPause(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "loop.s", loopProgram)
	c.start(map[string]any{"program": prog})
	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{{"line": 2, "hitCondition": "5"}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: &dap.Source{Name: "loop.s", Path: prog}, Line: 2, InstructionReference: "0x400004"},
	}}})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, stopped("breakpoint", 1, 1))
	if got := c.evaluate("t0", 0); got != "4" {
		t.Errorf("at the fifth hit, t0 = %q; want 4", got)
	}
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	if got := c.evaluate("t0", 0); got != "5" {
		t.Errorf("at the sixth hit, t0 = %q; want 5", got)
	}
	// The same breakpoint asked for again is kept, with its count.
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{{"line": 2, "hitCondition": "5"}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: &dap.Source{Name: "loop.s", Path: prog}, Line: 2, InstructionReference: "0x400004"},
	}}})
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []any{}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints")})

	c.cont(1)
	seq = c.send("pause", map[string]any{"threadId": 1})
	expect(c, &dap.PauseResponse{Response: ok(seq, "pause")})
	expect(c, stopped("pause", 1))
	if !strings.Contains(c.output["console"], "Paused.") {
		t.Errorf("the debug console does not say the program paused:\n%s", c.output["console"])
	}
	c.disconnect()
}

// TestStopAtEnd stays at the end of the run, and steps back into it.
func TestStopAtEnd(t *testing.T) {
	c := newClient(t)
	fib := program(t, "fib.s")
	c.start(map[string]any{"program": fib, "stdin": writeFile(t, "one.txt", "1\n"), "stopAtEnd": true})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	end := stopped("end", 1)
	end.Body.Description, end.Body.Text = "the program ended (status 0)", "step back to go back into the run"
	expect(c, end)
	seq := c.send("threads", nil)
	expect(c, &dap.ThreadsResponse{Response: ok(seq, "threads"), Body: dap.ThreadsResponseBody{Threads: []dap.Thread{{Id: 1, Name: "1.1 (exited)"}}}})
	c.step("stepBack", map[string]any{"threadId": 1})
	expect(c, threadEvent("started", 1))
	expect(c, stopped("step", 1))
	if _, at := c.stackTop(1); at != "fib.s:42" {
		t.Errorf("a step back from the end: at %s; want fib.s:42, main's ret", at)
	}
	c.disconnect()
}

// TestSourceWithoutFile shows a source that is no longer on disk from the text the image
// holds, by a sourceReference.
func TestSourceWithoutFile(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "trap.s", trapProgram)
	c.start(map[string]any{"program": prog, "stopOnEntry": true})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, stopped("entry", 1))
	if err := os.Remove(prog); err != nil {
		t.Fatal(err)
	}
	top, _ := c.stackTop(1)
	if diff := cmp.Diff(&dap.Source{Name: "trap.s", SourceReference: 1}, top.Source); diff != "" {
		t.Errorf("the source of a file that is gone (-want +got):\n%s", diff)
	}
	seq := c.send("source", map[string]any{"sourceReference": 1, "source": map[string]any{"sourceReference": 1}})
	expect(c, &dap.SourceResponse{Response: ok(seq, "source"), Body: dap.SourceResponseBody{Content: trapProgram, MimeType: "text/x-spindle"}})
	seq = c.send("source", map[string]any{"sourceReference": 2})
	expect(c, errorResponse(seq, "source", errFailed, "source: no source 2: the sources without a path are those the stack traces named"))
	c.disconnect()
}

// TestCapabilities states what initialize tells the client the server does, as the client reads
// it: a capability added or dropped changes what an editor shows (log points, step back, ...).
func TestCapabilities(t *testing.T) {
	c := newClient(t)
	c.send("initialize", map[string]any{"adapterID": "spindle"})
	r, ok := c.next().(*dap.InitializeResponse)
	if !ok {
		t.Fatal("initialize did not answer with an InitializeResponse")
	}
	got, err := json.MarshalIndent(r.Body, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const want = `{
  "supportsConfigurationDoneRequest": true,
  "supportsFunctionBreakpoints": true,
  "supportsConditionalBreakpoints": true,
  "supportsHitConditionalBreakpoints": true,
  "supportsEvaluateForHovers": true,
  "supportsStepBack": true,
  "supportsSetVariable": true,
  "supportsRestartRequest": true,
  "supportsExceptionInfoRequest": true,
  "supportsLogPoints": true,
  "supportsTerminateRequest": true,
  "supportsDataBreakpoints": true,
  "supportsReadMemoryRequest": true,
  "supportsWriteMemoryRequest": true,
  "supportsDisassembleRequest": true,
  "supportsSteppingGranularity": true,
  "supportsInstructionBreakpoints": true
}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("the capabilities (-want +got):\n%s", diff)
	}
	c.disconnect()
}
