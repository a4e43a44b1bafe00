package dap

import (
	"fmt"
	"strings"

	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/vm"
)

// Running the program: each request is the REPL's command, run by the session, and ends with
// the stopped event that says where it came to, or with the end of the run.
//
//	continue          continue            stepBack          reverse-next
//	next              next                  (instruction)   reverse-stepi
//	  (instruction)   stepi               reverseContinue   reverse-continue
//	stepIn            step                stepOut           finish
//	  (instruction)   stepi
//
// A step runs the thread it names, focused as the thread command focuses it: a step back goes
// back to that thread's previous line, across the context switches in between, however many
// instructions of other threads ran there. The others run during a step forward, unless the
// request asks for its thread alone (singleThread): then the REPL's scheduler locking holds
// them still.

func (sv *server) onRun(req dap.RequestMessage) {
	if sv.running.Load() {
		sv.fail(req, errNotStoppedNow, "%s: the program runs; pause it first", req.GetRequest().Command)
		return
	}
	var thread int
	var single bool
	var granularity dap.SteppingGranularity
	var line string
	var resp dap.Message
	switch r := req.(type) {
	case *dap.ContinueRequest:
		sv.running.Store(true) // before the client hears it runs, and may pause it
		sv.send(&dap.ContinueResponse{Response: response(r), Body: dap.ContinueResponseBody{AllThreadsContinued: true}})
		sv.run("", "continue")
		return
	case *dap.ReverseContinueRequest:
		sv.running.Store(true)
		sv.send(&dap.ReverseContinueResponse{Response: response(r)})
		sv.run("", "reverse-continue")
		return
	case *dap.NextRequest:
		thread, single, granularity, line = r.Arguments.ThreadId, r.Arguments.SingleThread, r.Arguments.Granularity, "next"
		resp = &dap.NextResponse{Response: response(r)}
	case *dap.StepInRequest:
		thread, single, granularity, line = r.Arguments.ThreadId, r.Arguments.SingleThread, r.Arguments.Granularity, "step"
		resp = &dap.StepInResponse{Response: response(r)}
	case *dap.StepOutRequest:
		thread, single, granularity, line = r.Arguments.ThreadId, r.Arguments.SingleThread, r.Arguments.Granularity, "finish"
		resp = &dap.StepOutResponse{Response: response(r)}
	case *dap.StepBackRequest:
		thread, single, granularity, line = r.Arguments.ThreadId, r.Arguments.SingleThread, r.Arguments.Granularity, "reverse-next"
		resp = &dap.StepBackResponse{Response: response(r)}
	}
	if granularity == "instruction" {
		switch line {
		case "next", "step":
			line = "stepi"
		case "reverse-next":
			line = "reverse-stepi"
		}
	}
	lines := []string{}
	t := sv.threads.thread(sv.s, thread)
	_, ended := sv.s.AtEnd()
	switch {
	case t == nil && ended && strings.HasPrefix(line, "reverse-"):
		// At the end every thread has exited: going back goes back in the one that ended the
		// run, as in the REPL.
	case t == nil:
		sv.fail(req, errFailed, "%s: no thread %d (threads lists them)", req.GetRequest().Command, thread)
		return
	case !sv.s.Focused(t):
		lines = append(lines, "thread "+debugger.ThreadName(t))
	}
	if single {
		lines = append(lines, "set scheduler-locking on", line, "set scheduler-locking off")
	} else {
		lines = append(lines, line)
	}
	sv.running.Store(true)
	sv.send(resp)
	sv.run("step", lines...)
}

// run runs command lines that move the program, then tells the client where it stopped (reason
// unless the stop has one of its own), or that the run ended. A command that fails is told in
// the debug console; the program stops where it came to, as in the REPL.
func (sv *server) run(reason string, lines ...string) {
	if sv.terminated {
		sv.running.Store(false)
		sv.output("important", "the session has ended: restart starts the program again\n")
		return
	}
	sv.running.Store(true)
	var err error
	for _, line := range lines {
		if err = sv.exec(line); err != nil {
			break
		}
	}
	sv.running.Store(false)
	if err != nil {
		sv.output("important", err.Error()+"\n")
	}
	sv.stopped(reason)
}

// stopped tells the client that the program has stopped, and why: reason, unless the stop is
// one that says why (a breakpoint, a trap, a pause); or that the run has ended.
func (sv *server) stopped(reason string) {
	sv.refs.reset()
	sv.threadEvents(sv.s.Threads())
	st, ids := sv.s.Stopped()
	end, ended := sv.s.AtEnd()
	if ended {
		sv.threadEvents(nil) // a process that traps ends with its threads as they were
		sv.send(&dap.ExitedEvent{Event: event("exited"), Body: dap.ExitedEventBody{ExitCode: sv.status(end)}})
		if !sv.launch.StopAtEnd {
			sv.terminate()
			return
		}
	}
	body := dap.StoppedEventBody{Reason: reason, AllThreadsStopped: true, HitBreakpointIds: ids}
	if reason == "entry" {
		st = vm.Stop{} // nothing stopped it: it has not started
	}
	switch st.Kind {
	case vm.StopTrapped:
		body.Reason, body.Description, body.Text = "exception", "trap: "+st.Trap.Trap.String(), st.Trap.Report()
	case vm.StopBreakpoint:
		if st.Trap != nil {
			body.Reason, body.Description = "breakpoint", "ebreak"
		} else if len(ids) > 0 {
			body.Reason = sv.bps.reason(ids[0])
		}
	case vm.StopWatchpoint:
		if len(ids) > 0 {
			body.Reason = "data breakpoint"
			body.Text = fmt.Sprintf("data breakpoint: %d bytes at %#x changed", st.Watch.Len, st.Watch.Addr)
		}
	case vm.StopSyscall:
		body.Reason, body.Description = "breakpoint", "catchpoint: a syscall"
	case vm.StopSwitch:
		body.Reason, body.Description = "breakpoint", "a context switch"
	case vm.StopInterrupted, vm.StopInput:
		body.Reason = "pause"
	}
	if ended {
		body.Reason, body.Description = "end", fmt.Sprintf("the program ended (status %d)", sv.status(end))
		body.Text = "step back to go back into the run"
	}
	if body.Reason == "" {
		body.Reason = "step"
		if sv.s.Steps() == 0 {
			body.Reason = "entry" // a reverse command came back to the start
		}
	}
	if t := sv.s.Current(); t != nil {
		body.ThreadId = sv.threads.id(t)
	}
	sv.send(&dap.StoppedEvent{Event: event("stopped"), Body: body})
}

func (sv *server) status(end vm.Stop) int {
	if sv.cfg.Status != nil {
		return sv.cfg.Status(end)
	}
	return int(end.ExitCode)
}

// threadEvents tells the client of the threads that have started and exited since it was last
// told.
func (sv *server) threadEvents(alive []*vm.Thread) {
	started, exited := sv.threads.changes(alive)
	for _, id := range exited {
		sv.send(&dap.ThreadEvent{Event: event("thread"), Body: dap.ThreadEventBody{Reason: "exited", ThreadId: id}})
	}
	for _, id := range started {
		sv.send(&dap.ThreadEvent{Event: event("thread"), Body: dap.ThreadEventBody{Reason: "started", ThreadId: id}})
	}
}

// trap is the trap of the trap the program is stopped at, if it is at one.
func (sv *server) trap() (*vm.TrapError, bool) {
	st, _ := sv.s.Stopped()
	if st.Trap == nil || st.Kind != vm.StopTrapped && st.Kind != vm.StopBreakpoint {
		return nil, false
	}
	return st.Trap, true
}

func (sv *server) onExceptionInfo(req *dap.ExceptionInfoRequest) {
	trap, ok := sv.trap()
	if !ok {
		sv.fail(req, errFailed, "exceptionInfo: the program is not stopped at a trap")
		return
	}
	sv.send(&dap.ExceptionInfoResponse{Response: response(req), Body: dap.ExceptionInfoResponseBody{
		ExceptionId: trap.Trap.String(),
		Description: firstLine(trap.Error()),
		BreakMode:   "always",
		Details:     &dap.ExceptionDetails{Message: trap.Report(), TypeName: "trap"},
	}})
}
