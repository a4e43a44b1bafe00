package dap

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// Threads, frames and variables. The protocol names a thread by a number: the green thread
// process.thread gets one the first time the client is told of it, and keeps it, so that a
// thread made again by a step back (a Restore makes its Thread anew) is the same thread. Frames
// and scopes get numbers at each stop, good until the program runs again.

// A threadKey is a thread as the session knows it: process and thread id.
type threadKey struct{ pid, tid int }

func keyOf(t *vm.Thread) threadKey { return threadKey{t.Proc.ID, t.ID} }

type threadIDs struct {
	ids   map[threadKey]int
	keys  []threadKey // by id - 1
	alive []int       // the ids of the threads the client was last told of, as alive
}

func newThreadIDs() *threadIDs { return &threadIDs{ids: map[threadKey]int{}} }

// id returns thread t's number.
func (ti *threadIDs) id(t *vm.Thread) int {
	k := keyOf(t)
	if id, ok := ti.ids[k]; ok {
		return id
	}
	ti.keys = append(ti.keys, k)
	ti.ids[k] = len(ti.keys)
	return len(ti.keys)
}

// thread returns the live thread numbered id, or nil.
func (ti *threadIDs) thread(s *debugger.Session, id int) *vm.Thread {
	if id <= 0 || id > len(ti.keys) {
		return nil
	}
	k := ti.keys[id-1]
	return s.Thread(k.pid, k.tid)
}

// changes returns the numbers of the threads that started and exited since the last call,
// given the threads alive now.
func (ti *threadIDs) changes(now []*vm.Thread) (started, exited []int) {
	var alive []int
	for _, t := range now {
		id := ti.id(t)
		alive = append(alive, id)
		if !slices.Contains(ti.alive, id) {
			started = append(started, id)
		}
	}
	for _, id := range ti.alive {
		if !slices.Contains(alive, id) {
			exited = append(exited, id)
		}
	}
	ti.alive = alive
	return started, exited
}

// The kinds of variablesReference.
type scope uint8

const (
	scopeRegisters scope = iota + 1
	scopeLocals
	scopeContext
)

// A frameRef is a frame the client was given: a thread's frame n.
type frameRef struct {
	thread threadKey
	n      int
}

type varRef struct {
	frameRef
	scope scope
}

// refs are the numbers handed out for frames, scopes and sources. A frame's or a scope's is
// good until the program runs again, and is never given again, so that one the client kept
// from before is refused rather than taken for another.
type refs struct {
	frames               []frameRef
	vars                 []varRef
	framesGone, varsGone int      // the numbers given before the last reset
	sources              []string // never reset: a source stays
}

func (r *refs) reset() {
	r.framesGone += len(r.frames)
	r.varsGone += len(r.vars)
	r.frames, r.vars = r.frames[:0], r.vars[:0]
}

func (r *refs) addFrame(f frameRef) int {
	r.frames = append(r.frames, f)
	return r.framesGone + len(r.frames)
}

func (r *refs) addVar(v varRef) int {
	r.vars = append(r.vars, v)
	return r.varsGone + len(r.vars)
}

func (r *refs) frame(id int) (frameRef, bool) {
	if i := id - r.framesGone - 1; i >= 0 && i < len(r.frames) {
		return r.frames[i], true
	}
	return frameRef{}, false
}

func (r *refs) variables(id int) (varRef, bool) {
	if i := id - r.varsGone - 1; i >= 0 && i < len(r.vars) {
		return r.vars[i], true
	}
	return varRef{}, false
}

func (r *refs) addSource(file string) int {
	if i := slices.Index(r.sources, file); i >= 0 {
		return i + 1
	}
	r.sources = append(r.sources, file)
	return len(r.sources)
}

func (r *refs) source(id int) string {
	if id <= 0 || id > len(r.sources) {
		return ""
	}
	return r.sources[id-1]
}

// onThreads lists the green threads that have not exited, named process.thread. At the end of
// a run that the session stays at (stopAtEnd), every thread has exited: the one that ended it
// stands for them.
func (sv *server) onThreads(req *dap.ThreadsRequest) {
	threads := []dap.Thread{}
	if sv.s != nil {
		for _, t := range sv.s.Threads() {
			threads = append(threads, dap.Thread{Id: sv.threads.id(t), Name: debugger.ThreadName(t)})
		}
		if t := sv.s.Current(); len(threads) == 0 && t != nil {
			threads = append(threads, dap.Thread{Id: sv.threads.id(t), Name: debugger.ThreadName(t) + " (exited)"})
		}
	}
	sv.send(&dap.ThreadsResponse{Response: response(req), Body: dap.ThreadsResponseBody{Threads: threads}})
}

// maxFrames bounds a backtrace sent to the client.
const maxFrames = 1000

func (sv *server) onStackTrace(req *dap.StackTraceRequest) {
	a := req.Arguments
	t := sv.threads.thread(sv.s, a.ThreadId)
	if t == nil {
		if _, ended := sv.s.AtEnd(); ended {
			sv.send(&dap.StackTraceResponse{Response: response(req), Body: dap.StackTraceResponseBody{StackFrames: []dap.StackFrame{}}})
			return
		}
		sv.fail(req, errFailed, "stackTrace: no thread %d (threads lists them)", a.ThreadId)
		return
	}
	if a.StartFrame < 0 || a.Levels < 0 {
		sv.fail(req, errBadRequest, "stackTrace: startFrame and levels are 0 or more")
		return
	}
	frames := sv.s.Backtrace(t, maxFrames)
	end := len(frames)
	if a.Levels > 0 {
		end = min(end, a.StartFrame+a.Levels)
	}
	body := dap.StackTraceResponseBody{StackFrames: []dap.StackFrame{}, TotalFrames: len(frames)}
	for n := a.StartFrame; n < end; n++ {
		f := frames[n]
		name := f.Func
		if name == "" {
			name = fmt.Sprintf("%#x", f.PC)
		}
		body.StackFrames = append(body.StackFrames, dap.StackFrame{
			Id:                          sv.refs.addFrame(frameRef{keyOf(t), n}),
			Name:                        name,
			Source:                      sv.source(f.Where.File),
			Line:                        f.Where.Line,
			Column:                      1,
			InstructionPointerReference: fmt.Sprintf("%#x", f.PC),
		})
	}
	sv.send(&dap.StackTraceResponse{Response: response(req), Body: body})
}

func (sv *server) onScopes(req *dap.ScopesRequest) {
	f, ok := sv.refs.frame(req.Arguments.FrameId)
	if !ok {
		sv.fail(req, errQuiet, "scopes: no frame %d: frames are good until the program runs again", req.Arguments.FrameId)
		return
	}
	scopes := []dap.Scope{
		{Name: "Registers", PresentationHint: "registers", VariablesReference: sv.refs.addVar(varRef{f, scopeRegisters}), NamedVariables: isa.NumRegs + 1},
		{Name: "Locals", PresentationHint: "locals", VariablesReference: sv.refs.addVar(varRef{f, scopeLocals})},
		{Name: "Thread context", VariablesReference: sv.refs.addVar(varRef{f, scopeContext})},
	}
	sv.send(&dap.ScopesResponse{Response: response(req), Body: dap.ScopesResponseBody{Scopes: scopes}})
}

// selectFrame selects frame f in the session, for what reads it.
func (sv *server) selectFrame(f frameRef) error {
	t := sv.s.Thread(f.thread.pid, f.thread.tid)
	if t == nil {
		return fmt.Errorf("thread %d.%d has exited", f.thread.pid, f.thread.tid)
	}
	return sv.s.Select(t, f.n)
}

// hexDec writes a value in hex and in signed decimal.
func hexDec(v uint64) string { return fmt.Sprintf("%#x (%d)", v, int64(v)) }

func (sv *server) onVariables(req *dap.VariablesRequest) {
	ref, ok := sv.refs.variables(req.Arguments.VariablesReference)
	if !ok {
		sv.fail(req, errQuiet, "variables: no variables %d: they are good until the program runs again", req.Arguments.VariablesReference)
		return
	}
	vars, err := sv.variables(ref)
	if err != nil {
		sv.fail(req, errFailed, "variables: %v", err)
		return
	}
	sv.send(&dap.VariablesResponse{Response: response(req), Body: dap.VariablesResponseBody{Variables: vars}})
}

// variables returns the variables of a scope.
func (sv *server) variables(ref varRef) ([]dap.Variable, error) {
	if err := sv.selectFrame(ref.frameRef); err != nil {
		return nil, err
	}
	vars := []dap.Variable{}
	switch ref.scope {
	case scopeRegisters:
		regs, err := sv.s.Registers()
		if err != nil {
			return nil, err
		}
		for _, r := range regs {
			v := dap.Variable{Name: r.Name, Value: hexDec(r.Value), EvaluateName: r.Name, MemoryReference: fmt.Sprintf("%#x", r.Value)}
			if r.Name == "pc" {
				v.Value = sv.s.Describe(r.Value)
			}
			vars = append(vars, v)
		}
	case scopeLocals:
		locals, err := sv.s.Locals()
		if err != nil {
			// Why there are none is worth saying: the frame has not run enter, say.
			return append(vars, dap.Variable{Name: "(none)", Value: err.Error()}), nil
		}
		for _, l := range locals {
			v := dap.Variable{Name: localName(l), Value: hexDec(l.Value), Type: l.What,
				EvaluateName: fmt.Sprintf("*(fp%+d)", l.Off), MemoryReference: fmt.Sprintf("%#x", l.Addr)}
			if l.What == "return address" {
				v.Value = sv.s.Describe(l.Value)
			}
			vars = append(vars, v)
		}
	case scopeContext:
		t := sv.s.Current()
		ctx := sv.s.Context(t)
		state := strings.ToLower(ctx.State.String())
		switch {
		case ctx.Processor == t:
			state += ": on the processor, which holds its registers"
		case ctx.Processor != nil:
			state += fmt.Sprintf(": off the processor, which runs thread %s; its registers are saved in the thread", debugger.ThreadName(ctx.Processor))
		default:
			state += ": off the processor, as every thread is; its registers are saved in the thread"
		}
		vars = append(vars,
			dap.Variable{Name: "thread", Value: debugger.ThreadName(t)},
			dap.Variable{Name: "state", Value: state})
		if ctx.State == vm.Blocked {
			vars = append(vars, dap.Variable{Name: "waits", Value: ctx.Waits})
		}
		vars = append(vars,
			dap.Variable{Name: "at", Value: sv.s.Describe(ctx.PC)},
			dap.Variable{Name: "steps", Value: strconv.FormatUint(ctx.Steps, 10)},
			dap.Variable{Name: "switched in", Value: times(ctx.Switches)},
			dap.Variable{Name: "stack", Value: fmt.Sprintf("%#x to %#x (%d bytes)", ctx.StackLo, ctx.StackHi, ctx.StackHi-ctx.StackLo), MemoryReference: fmt.Sprintf("%#x", ctx.StackLo)},
			dap.Variable{Name: "step of the run", Value: strconv.FormatUint(sv.s.Steps(), 10)},
		)
	}
	return vars, nil
}

// localName names a word of a frame by its offset from fp, as info locals does: -8(fp).
func localName(l debugger.Local) string { return fmt.Sprintf("%d(fp)", l.Off) }

func (sv *server) onSetVariable(req *dap.SetVariableRequest) {
	a := req.Arguments
	ref, ok := sv.refs.variables(a.VariablesReference)
	if !ok {
		sv.fail(req, errFailed, "setVariable: no variables %d: they are good until the program runs again", a.VariablesReference)
		return
	}
	if err := sv.selectFrame(ref.frameRef); err != nil {
		sv.fail(req, errFailed, "setVariable: %v", err)
		return
	}
	var lhs string
	switch ref.scope {
	case scopeRegisters:
		lhs = a.Name
	case scopeLocals:
		locals, _ := sv.s.Locals()
		i := slices.IndexFunc(locals, func(l debugger.Local) bool { return localName(l) == a.Name })
		if i < 0 {
			sv.fail(req, errFailed, "setVariable: the frame has no word %s", a.Name)
			return
		}
		lhs = fmt.Sprintf("*%#x", locals[i].Addr)
	default:
		sv.fail(req, errFailed, "setVariable: the thread context is what the thread does: set its registers instead")
		return
	}
	if err := sv.exec(fmt.Sprintf("set %s = %s", lhs, a.Value)); err != nil {
		sv.fail(req, errFailed, "setVariable: %v", err)
		return
	}
	v, err := sv.s.Eval(strings.TrimPrefix(lhs, "$"))
	if err != nil {
		sv.fail(req, errFailed, "setVariable: %v", err)
		return
	}
	sv.send(&dap.SetVariableResponse{Response: response(req), Body: dap.SetVariableResponseBody{Value: hexDec(v)}})
}

// onEvaluate evaluates an expression, as print does; in the debug console (context repl), a
// line that starts with a command of the REPL runs it, and its result is what it says.
func (sv *server) onEvaluate(req *dap.EvaluateRequest) {
	a := req.Arguments
	if a.FrameId != 0 {
		f, ok := sv.refs.frame(a.FrameId)
		if !ok {
			sv.fail(req, errQuiet, "evaluate: no frame %d: frames are good until the program runs again", a.FrameId)
			return
		}
		if err := sv.selectFrame(f); err != nil {
			sv.fail(req, errFailed, "evaluate: %v", err)
			return
		}
	}
	expr := strings.TrimSpace(a.Expression)
	word, _, _ := strings.Cut(expr, " ")
	if i := strings.IndexByte(word, '/'); i > 0 {
		word = word[:i] // p/x, x/4xg
	}
	if a.Context == "repl" && (debugger.CommandName(word) != "" || sv.s.Defining()) {
		sv.command(req, expr)
		return
	}
	v, err := sv.s.Eval(expr)
	if err != nil {
		id := errFailed
		if a.Context == "watch" || a.Context == "hover" {
			id = errQuiet // shown in the Watch pane, or no hover
		}
		sv.fail(req, id, "%v", err)
		return
	}
	sv.send(&dap.EvaluateResponse{Response: response(req), Body: dap.EvaluateResponseBody{
		Result: debugger.FormatValue(v), MemoryReference: fmt.Sprintf("%#x", v)}})
}

// command runs a command typed in the debug console. What it says is the result; if it moved
// the program, the client is told where it stopped, as after a step.
func (sv *server) command(req *dap.EvaluateRequest, line string) {
	var said []byte
	sv.console.capture, sv.console.spilled = &said, false
	moves := sv.s.Moves()
	sv.running.Store(true)
	err := sv.s.Exec(line)
	sv.running.Store(false)
	sv.console.capture = nil
	text := strings.TrimSuffix(string(said), "\n")
	if sv.console.spilled {
		text = "(what it said is in the debug console above)"
	}
	if err != nil {
		sv.output("console", string(said))
		sv.fail(req, errFailed, "%v", err)
	} else {
		sv.send(&dap.EvaluateResponse{Response: response(req), Body: dap.EvaluateResponseBody{Result: text}})
	}
	if sv.s.Moves() != moves {
		sv.stopped("step")
	}
	if sv.s.Quit() {
		sv.terminate()
	}
}

// times says a count of times: "1 time", "3 times".
func times(n uint64) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}
