package dap

import (
	"strings"
	"testing"

	"github.com/google/go-dap"
)

// TestConsoleCommandWithManyLogLines: a command typed in the debug console that runs over a
// log point in a loop, which prints a line at each of 10,000 hits, does not gather them all
// into its result: past a bound, what the command says goes to the debug console as it comes.
func TestConsoleCommandWithManyLogLines(t *testing.T) {
	c := newClient(t)
	prog := writeFile(t, "store.s", strings.Replace(storeProgram, "li      t2, 10", "li      t2, 10000", 1))
	c.start(map[string]any{"program": prog, "stopOnEntry": true})
	c.send("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []map[string]any{{"line": 7, "logMessage": "t0 = {t0}"}}})
	if r, isSet := c.next().(*dap.SetBreakpointsResponse); !isSet || !r.Success {
		t.Fatalf("setBreakpoints: %s", describe(r))
	}
	c.send("configurationDone", nil)
	expect(c, &dap.ConfigurationDoneResponse{Response: ok(c.seq, "configurationDone")})
	expect(c, stopped("entry", 1))

	c.send("evaluate", map[string]any{"expression": "continue", "context": "repl"})
	r := c.next()
	e, isEval := r.(*dap.EvaluateResponse)
	if !isEval {
		t.Fatalf("evaluate continue: %s", describe(r))
	}
	if len(e.Body.Result) > maxConsoleResult {
		t.Errorf("the result of continue is %d bytes; want at most %d", len(e.Body.Result), maxConsoleResult)
	}
	expect(c, threadEvent("exited", 1))
	expect(c, &dap.ExitedEvent{Event: ev("exited"), Body: dap.ExitedEventBody{ExitCode: 0}})
	expect(c, &dap.TerminatedEvent{Event: ev("terminated")})
	all := c.output["console"] + e.Body.Result
	for _, want := range []string{"t0 = 1\n", "t0 = 5000 (0x1388)\n", "t0 = 10000 (0x2710)\n"} {
		if !strings.Contains(all, want) {
			t.Errorf("neither the debug console nor the result has %q", want)
		}
	}
	if n := strings.Count(all, "t0 = "); n != 10000 {
		t.Errorf("%d log lines; want 10000", n)
	}
	c.disconnect()
}
