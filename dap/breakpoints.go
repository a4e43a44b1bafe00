package dap

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/debugger"
)

// Breakpoints. The client sends the whole list of one kind at a time (those of a source file,
// the function breakpoints, the data breakpoints): the session's breakpoints for what the list
// keeps stay, with their hit counts, and the others are deleted. A breakpoint the list keeps at
// its place, with another condition, hit condition or log message, is changed rather than made
// again, so that it keeps its count. Each is made by the REPL's commands (break, watch,
// condition, condition -hitcount, condition -log), so that the debug console's info breakpoints
// lists them, a record holds them, and the ids the client sees are the REPL's numbers.
//
// A hit condition is N (>= N), >= N, > N, == N, != N, < N, <= N or % N (every Nth hit), and
// counts the hits of the run (see the debugger's hits.go): going back takes hits off the count,
// and a restart counts from the start again. A log message makes a log point: it prints the
// message in the debug console, with {EXPR} replaced by EXPR's value, and does not stop.

// A placed breakpoint is one the client asked for, and the session's breakpoint for it (id 0
// when it could not be made).
type placed struct {
	kind           string // a stop reason: "breakpoint", "function breakpoint", ...
	where          string // the location or the watched expression, as the session takes it
	cond, hit, log string
	n              int // a watchpoint's bytes
	id             int
	err            error
}

// at reports whether p and q are breakpoints at one place, which the session's breakpoint for p
// can be for q too.
func (p placed) at(q placed) bool { return p.kind == q.kind && p.where == q.where && p.n == q.n }

func (p placed) same(q placed) bool {
	return p.at(q) && p.cond == q.cond && p.hit == q.hit && p.log == q.log
}

// breakpoints are the placed breakpoints, by list: a source file's path, or a kind.
type breakpoints map[string][]placed

// reason is the stop reason of a stop at breakpoint id.
func (bs breakpoints) reason(id int) string {
	for _, list := range bs {
		for _, p := range list {
			if p.id == id {
				return p.kind
			}
		}
	}
	return "breakpoint" // made in the debug console
}

// set makes list the placed breakpoints of key: it keeps those the session has already, changed
// if need be, makes the others, and deletes what is no longer asked for.
func (sv *server) setBreakpoints(key string, want []placed) []placed {
	if sv.bps == nil {
		sv.bps = breakpoints{}
	}
	old := sv.bps[key]
	kept := make([]bool, len(old))
	for _, exact := range []bool{true, false} {
		for i := range want {
			if want[i].id > 0 || want[i].err != nil {
				continue
			}
			for j, o := range old {
				if kept[j] || o.id == 0 || exact && !o.same(want[i]) || !o.at(want[i]) {
					continue
				}
				kept[j] = true
				if !exact {
					o = sv.amend(o, want[i])
				}
				want[i] = o
				break
			}
		}
	}
	for j, o := range old {
		if !kept[j] && o.id > 0 {
			sv.remove(o.id)
		}
	}
	for i := range want {
		if want[i].id == 0 && want[i].err == nil {
			want[i].id, want[i].err = sv.place(want[i])
		}
	}
	sv.bps[key] = want
	return want
}

// remove deletes the session's breakpoint id, unless the debug console has.
func (sv *server) remove(id int) {
	if _, ok := sv.s.Breakpoint(id); ok {
		if err := sv.s.Delete(id); err != nil {
			sv.output("important", err.Error()+"\n")
		}
	}
}

// check refuses a hit condition or a log message that the session would refuse, before a
// breakpoint is made or changed for them.
func check(p placed) error {
	if err := debugger.CheckHitCondition(p.hit); err != nil {
		return err
	}
	if p.log != "" {
		return debugger.CheckLogMessage(p.log)
	}
	return nil
}

// place makes the session's breakpoint for p, and returns its id.
func (sv *server) place(p placed) (int, error) {
	if err := check(p); err != nil {
		return 0, err
	}
	var b debugger.Breakpoint
	var err error
	if p.kind == "data breakpoint" {
		b, err = sv.s.Watch(p.where, p.n)
	} else {
		b, err = sv.s.Break(p.where)
	}
	if err != nil {
		return 0, err
	}
	if err = sv.settle(b.ID, placed{}, p); err != nil {
		sv.s.Delete(b.ID)
		return 0, err
	}
	return b.ID, nil
}

// amend changes the session's breakpoint of o, at the place p asks for, to p's condition, hit
// condition and log message; if one is refused, the breakpoint is deleted, and p is not made.
func (sv *server) amend(o, p placed) placed {
	err := check(p)
	if err == nil {
		err = sv.settle(o.id, o, p)
	}
	if err != nil {
		sv.remove(o.id)
		p.id, p.err = 0, err
		return p
	}
	p.id = o.id
	return p
}

// settle gives breakpoint id what p has and o has not: its condition, hit condition and log
// message.
func (sv *server) settle(id int, o, p placed) error {
	if p.cond != o.cond {
		if err := sv.s.Condition(id, p.cond); err != nil {
			return err
		}
	}
	if p.hit != o.hit {
		if err := sv.s.HitCondition(id, p.hit); err != nil {
			return err
		}
	}
	if p.log != o.log {
		return sv.s.Log(id, p.log)
	}
	return nil
}

// breakpoint is what the client is told of a placed breakpoint.
func (sv *server) breakpoint(p placed) dap.Breakpoint {
	if p.err != nil || p.id == 0 {
		msg := "not made"
		if p.err != nil {
			msg = p.err.Error()
		}
		return dap.Breakpoint{Verified: false, Message: msg}
	}
	b, ok := sv.s.Breakpoint(p.id)
	switch {
	case !ok:
		return dap.Breakpoint{Verified: false, Message: fmt.Sprintf("breakpoint %d was deleted in the debug console", p.id)}
	case b.Lost:
		return dap.Breakpoint{Id: b.ID, Verified: false, Message: fmt.Sprintf("breakpoint %d is not in the program (the debug console says why); a restart whose program has it enables it again", b.ID)}
	case !b.Enabled:
		return dap.Breakpoint{Id: b.ID, Verified: false, Message: fmt.Sprintf("breakpoint %d is disabled (the debug console says why; enable %d enables it)", b.ID, b.ID)}
	}
	bp := dap.Breakpoint{Id: b.ID, Verified: true}
	if p.kind != "data breakpoint" {
		bp.Source, bp.Line = sv.source(b.File), b.Line
		bp.InstructionReference = fmt.Sprintf("%#x", b.Addr)
	}
	return bp
}

func (sv *server) breakpointList(list []placed) []dap.Breakpoint {
	out := make([]dap.Breakpoint, len(list))
	for i, p := range list {
		out[i] = sv.breakpoint(p)
	}
	return out
}

func (sv *server) onSetBreakpoints(req *dap.SetBreakpointsRequest) {
	a := req.Arguments
	path := a.Source.Path
	if path == "" {
		sv.fail(req, errBadRequest, "setBreakpoints: the source has no path")
		return
	}
	want := make([]placed, len(a.Breakpoints))
	for i, b := range a.Breakpoints {
		want[i] = placed{kind: "breakpoint", where: fmt.Sprintf("%s:%d", path, b.Line), cond: b.Condition, hit: b.HitCondition, log: b.LogMessage}
		if b.Line <= 0 {
			want[i].err = fmt.Errorf("line %d: lines start at 1", b.Line)
		}
	}
	list := sv.setBreakpoints("source "+path, want)
	sv.send(&dap.SetBreakpointsResponse{Response: response(req), Body: dap.SetBreakpointsResponseBody{Breakpoints: sv.breakpointList(list)}})
}

func (sv *server) onSetFunctionBreakpoints(req *dap.SetFunctionBreakpointsRequest) {
	want := make([]placed, len(req.Arguments.Breakpoints))
	for i, b := range req.Arguments.Breakpoints {
		want[i] = placed{kind: "function breakpoint", where: strings.TrimSpace(b.Name), cond: b.Condition, hit: b.HitCondition}
		if want[i].where == "" {
			want[i].err = fmt.Errorf("a function breakpoint names a label")
		}
	}
	list := sv.setBreakpoints("functions", want)
	sv.send(&dap.SetFunctionBreakpointsResponse{Response: response(req), Body: dap.SetFunctionBreakpointsResponseBody{Breakpoints: sv.breakpointList(list)}})
}

func (sv *server) onSetInstructionBreakpoints(req *dap.SetInstructionBreakpointsRequest) {
	want := make([]placed, len(req.Arguments.Breakpoints))
	for i, b := range req.Arguments.Breakpoints {
		want[i] = placed{kind: "instruction breakpoint", cond: b.Condition, hit: b.HitCondition}
		addr, err := address(b.InstructionReference, b.Offset)
		want[i].where, want[i].err = fmt.Sprintf("*%#x", addr), err
	}
	list := sv.setBreakpoints("instructions", want)
	sv.send(&dap.SetInstructionBreakpointsResponse{Response: response(req), Body: dap.SetInstructionBreakpointsResponseBody{Breakpoints: sv.breakpointList(list)}})
}

// Data breakpoints are the REPL's watchpoints: they stop the program when the bytes watched
// change, just after the instruction that changed them. A dataId is what watch takes: the
// expression of the address, and the count of bytes.

func (sv *server) onDataBreakpointInfo(req *dap.DataBreakpointInfoRequest) {
	a := req.Arguments
	body := dap.DataBreakpointInfoResponseBody{DataId: nil}
	var expr string
	switch ref, ok := sv.refs.variables(a.VariablesReference); {
	case a.VariablesReference == 0:
		if a.FrameId != 0 {
			if f, ok := sv.refs.frame(a.FrameId); ok {
				sv.selectFrame(f)
			}
		}
		expr = strings.TrimSpace(a.Name)
	case !ok:
		sv.fail(req, errFailed, "dataBreakpointInfo: no variables %d: they are good until the program runs again", a.VariablesReference)
		return
	case ref.scope == scopeLocals:
		if err := sv.selectFrame(ref.frameRef); err != nil {
			sv.fail(req, errFailed, "dataBreakpointInfo: %v", err)
			return
		}
		locals, _ := sv.s.Locals()
		for _, l := range locals {
			if localName(l) == a.Name {
				expr = fmt.Sprintf("%#x", l.Addr)
			}
		}
	}
	if expr == "" {
		body.Description = fmt.Sprintf("%s is not memory: a data breakpoint watches the bytes at an address (a word of a frame, or a label such as counter)", a.Name)
		sv.send(&dap.DataBreakpointInfoResponse{Response: response(req), Body: body})
		return
	}
	addr, err := sv.s.Eval(expr)
	if err != nil {
		body.Description = err.Error()
		sv.send(&dap.DataBreakpointInfoResponse{Response: response(req), Body: body})
		return
	}
	body.DataId = expr + " 8"
	body.Description = fmt.Sprintf("the 8 bytes at %#x (%s)", addr, expr)
	body.AccessTypes = []dap.DataBreakpointAccessType{"write"}
	sv.send(&dap.DataBreakpointInfoResponse{Response: response(req), Body: body})
}

func (sv *server) onSetDataBreakpoints(req *dap.SetDataBreakpointsRequest) {
	want := make([]placed, len(req.Arguments.Breakpoints))
	for i, b := range req.Arguments.Breakpoints {
		want[i] = placed{kind: "data breakpoint", cond: b.Condition, hit: b.HitCondition}
		expr, n, err := dataID(b.DataId)
		want[i].where, want[i].n, want[i].err = expr, n, err
		if b.AccessType != "" && b.AccessType != "write" {
			want[i].err = fmt.Errorf("access type %s: a data breakpoint stops at a write that changes the bytes", b.AccessType)
		}
	}
	list := sv.setBreakpoints("data", want)
	sv.send(&dap.SetDataBreakpointsResponse{Response: response(req), Body: dap.SetDataBreakpointsResponseBody{Breakpoints: sv.breakpointList(list)}})
}

// dataID reads a dataId: the expression of an address, and a count of bytes.
func dataID(id string) (string, int, error) {
	i := strings.LastIndexByte(id, ' ')
	if i < 0 {
		return "", 0, fmt.Errorf("dataId %q: want an address and a count of bytes, as dataBreakpointInfo gives it", id)
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("dataId %q: want an address and a count of bytes, as dataBreakpointInfo gives it", id)
	}
	return strings.TrimSpace(id[:i]), n, nil
}
