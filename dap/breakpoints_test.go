package dap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-dap"
)

// storeProgram counts to 10 in t0, and stores each count in counter: the store at line 7 is
// reached for the kth time with t0 = k, main.loop (line 6) with t0 = k-1.
const storeProgram = `        .data
counter: .quad  0
        .text
main:   la      t1, counter
        li      t0, 0
.loop:  addi    t0, t0, 1
        sd      t0, 0(t1)
        li      t2, 10
        blt     t0, t2, .loop
        li      a0, 0
        ret
`

// TestHitConditions stops at the hits that the hit conditions of a line, a function and a data
// breakpoint accept: every 4th, the 9th, the 10th. A hit is its place in the run: a step back
// and a continue come to the same hit again, not to a hit after it; a hit condition changed
// keeps the breakpoint and its count; a restart counts from the start again.
func TestHitConditions(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "store.s", storeProgram)
	c.start(map[string]any{"program": prog})
	src := &dap.Source{Name: "store.s", Path: prog}

	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": 7, "hitCondition": "% 4"}}})
	line7 := dap.Breakpoint{Id: 1, Verified: true, Source: src, Line: 7, InstructionReference: "0x40000c"}
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{line7}}})
	seq = c.send("setFunctionBreakpoints", map[string]any{"breakpoints": []map[string]any{{"name": "main.loop", "hitCondition": "== 9"}}})
	expect(c, &dap.SetFunctionBreakpointsResponse{Response: ok(seq, "setFunctionBreakpoints"), Body: dap.SetFunctionBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 2, Verified: true, Source: src, Line: 6, InstructionReference: "0x400008"},
	}}})
	seq = c.send("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": "counter 8", "accessType": "write", "hitCondition": "10"}}})
	expect(c, &dap.SetDataBreakpointsResponse{Response: ok(seq, "setDataBreakpoints"), Body: dap.SetDataBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{{Id: 3, Verified: true}}}})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})

	// at checks where the program stopped, by t0.
	at := func(what, want string) {
		t.Helper()
		if got := c.evaluate("t0", 0); got != want {
			t.Errorf("%s: t0 = %s; want %s", what, got, want)
		}
	}
	expect(c, stopped("breakpoint", 1, 1))
	at("% 4", "4")
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	at("% 4, on", "8")
	c.stepTo("stepBack", map[string]any{"threadId": 1}, "store.s:6")
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	at("a step back, and on again: the same hit", "8")
	c.step("reverseContinue", map[string]any{"threadId": 1})
	expect(c, stopped("breakpoint", 1, 1))
	at("reverseContinue: hit 4, the one before", "4")
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	at("on again", "8")

	c.cont(1)
	expect(c, stopped("function breakpoint", 1, 2))
	at("== 9 of main.loop", "8")
	c.cont(1)
	want := stopped("data breakpoint", 1, 3)
	want.Body.Text = "data breakpoint: 8 bytes at 0x10000000 changed"
	expect(c, want)
	if got := c.evaluate("*counter", 0); got != "10 (0xa)" {
		t.Errorf("the 10th write of counter: *counter = %s; want 10", got)
	}

	// The hit condition changed: the same breakpoint, which counts on.
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": 7, "hitCondition": "<= 2"}}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{line7}}})
	c.step("reverseContinue", map[string]any{"threadId": 1})
	want = stopped("function breakpoint", 1, 2)
	expect(c, want)
	c.step("reverseContinue", map[string]any{"threadId": 1})
	expect(c, stopped("breakpoint", 1, 1))
	at("reverseContinue to <= 2", "2")
	if got := c.evaluate("info breakpoints", 0); !strings.Contains(got, "\tonly at the hits of the run numbered <= 2 (2 up to here)\n") {
		t.Errorf("info breakpoints in the debug console:\n%s", got)
	}

	seq = c.send("restart", nil)
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, stopped("breakpoint", 1, 1))
	at("restart: from the start again", "1")
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 1))
	at("restart, on", "2")
	c.cont(1)
	expect(c, stopped("function breakpoint", 1, 2))
	c.disconnect()
}

// TestLogPoints: log points print their messages in the debug console and do not stop, with
// their conditions and hit conditions; an expression that cannot be evaluated says why in the
// message. A log message changed keeps the breakpoint; none makes it stop again.
func TestLogPoints(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "store.s", storeProgram)
	c.start(map[string]any{"program": prog, "stopOnEntry": true})
	src := &dap.Source{Name: "store.s", Path: prog}

	seq := c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{
		{"line": 7, "logMessage": `store #{t0}: counter {*counter} -> {t0}, {{sp}} = {sp}`, "condition": "t0 > 5", "hitCondition": "% 2"},
		{"line": 10, "logMessage": `done: {a0 +} {*0} {nosuch}`},
	}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: src, Line: 7, InstructionReference: "0x40000c"},
		{Id: 2, Verified: true, Source: src, Line: 10, InstructionReference: "0x400018"},
	}}})
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, stopped("entry", 1))
	sp := c.evaluate("sp", 0)
	c.output = map[string]string{}
	c.cont(1)
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	const memory = "0xff00000 to 0x10000010"
	wantLog := []string{
		"store #7: counter 6 -> 7, {sp} = " + sp,
		"store #9: counter 8 -> 9, {sp} = " + sp,
		`done: <in "a0 +": an operand is missing at the end> <in "*0": 8-byte read at 0x0: not inside the memory of process 1, which is ` + memory + `> <in "nosuch": no register or label is named nosuch>`,
	}
	if diff := cmp.Diff(wantLog, logLines(c.output["console"])); diff != "" {
		t.Errorf("the log points' messages in the debug console (-want +got):\n%s\nall of it:\n%s", diff, c.output["console"])
	}

	// The message changed, then none: the breakpoint stays, and stops.
	seq = c.send("restart", nil)
	expect(c, &dap.RestartResponse{Response: ok(seq, "restart")})
	expect(c, threadEvent("started", 1))
	expect(c, stopped("entry", 1))
	seq = c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog}, "breakpoints": []map[string]any{
		{"line": 7, "logMessage": "t0 {t0}", "condition": "t0 > 8"}, {"line": 10},
	}})
	expect(c, &dap.SetBreakpointsResponse{Response: ok(seq, "setBreakpoints"), Body: dap.SetBreakpointsResponseBody{Breakpoints: []dap.Breakpoint{
		{Id: 1, Verified: true, Source: src, Line: 7, InstructionReference: "0x40000c"},
		{Id: 2, Verified: true, Source: src, Line: 10, InstructionReference: "0x400018"},
	}}})
	c.output = map[string]string{}
	c.cont(1)
	expect(c, stopped("breakpoint", 1, 2))
	if diff := cmp.Diff([]string{"t0 9", "t0 10 (0xa)"}, logLines(c.output["console"])); diff != "" {
		t.Errorf("the changed message (-want +got):\n%s", diff)
	}
	c.disconnect()
}

// logLines are the lines of the debug console that log points printed: those that do not say
// where the program is, or that it stops.
func logLines(console string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(console, "\n"), "\n") {
		if strings.HasPrefix(l, "store") || strings.HasPrefix(l, "done") || strings.HasPrefix(l, "t0 ") {
			lines = append(lines, l)
		}
	}
	return lines
}
