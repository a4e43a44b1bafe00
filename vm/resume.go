package vm

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spindle-vm/spindle/isa"
)

// A machine that stops and goes on. Resume runs the machine until something it was asked to
// stop for happens, and returns why; between Resumes the machine's whole state holds still, to
// be inspected and changed, and the next Resume goes on as if it had never stopped: a run in
// many Resumes executes the same instructions, switches at the same places and writes the same
// output as a run in one.
//
// How each stop is made, at no cost to a run that asks for none:
//   - At a step: execStep, the copy of the loop that can stop before any instruction, takes
//     over when the step is near (see setEdge); the check points, and so the switches, fall
//     where they would have.
//   - At a breakpoint: the instruction's word in the process's code is replaced by breakWord,
//     which the loop's default case, never taken otherwise, recognizes.
//   - At a switch: pick, which every switch goes through, asks execStep to stop before the
//     first instruction of the thread it picked (forceStop).
//   - At a syscall, or a return: execStep looks before each syscall and after each ret, and
//     exec does not.
//   - The last three need execStep throughout (cpu.stepping): exec would notice a switch made
//     in a syscall only at its next check point.
//   - At a watchpoint: execStep stops at its edge before every instruction (setEdge), and
//     edgeReached compares the watched bytes with what they were, as gdb's software
//     watchpoints do; a change made by a syscall is seen as well as one made by a store.
//   - At a trap: the loop returns the trap as it always has; Resume holds it until the next
//     Resume acts on it.

// StopKind says why Resume returned.
type StopKind uint8

const (
	// StopExited: the run is over, the first process having ended (Stop.ExitCode).
	StopExited StopKind = iota + 1
	// StopTrapped: a thread trapped (Stop.Trap). It is at the trapping instruction, which
	// changed nothing. The next Resume ends its process, as Run does, unless the thread's pc
	// was moved in between: then the thread goes on from there.
	StopTrapped
	// StopBreakpoint: a thread reached a breakpoint set with SetBreakpoint, before the
	// instruction there ran; or it executed ebreak, which traps as StopTrapped does
	// (Stop.Trap is set).
	StopBreakpoint
	// StopSteps: the steps asked for (Until.Steps or Until.ThreadSteps) are done.
	StopSteps
	// StopSwitch: a context switch (Until.Switch); Stop.Thread is the thread switched to,
	// before its next instruction.
	StopSwitch
	// StopSyscall: a thread is at a syscall that Until asked for, before it runs.
	StopSyscall
	// StopReturn: Until.Thread returned from the frame that Until.Return names.
	StopReturn
	// StopDeadlock: every thread is blocked for good; the run is over (Stop.Err).
	StopDeadlock
	// StopLimit: the run reached a limit of its Options; it is over (Stop.Err).
	StopLimit
	// StopInterrupted: Interrupt ended the run (Stop.Err), or Pause stopped it.
	StopInterrupted
	// StopWatchpoint: memory that Until.Watch names changed (Stop.Watch). Stop.Thread is the
	// thread that changed it, just past the instruction that did.
	StopWatchpoint
	// StopInput: a thread reads input that has not been fed (Options.FeedInput); it is at its
	// read, which it executes again when the Resume after FeedInput goes on.
	StopInput
)

func (k StopKind) String() string {
	if k < StopExited || k > StopInput {
		return fmt.Sprintf("stop %d", k)
	}
	return [...]string{"exited", "trapped", "breakpoint", "steps", "switch", "syscall", "return",
		"deadlock", "limit", "interrupted", "watchpoint", "input"}[k-1]
}

// Until says what Resume stops for. The zero value stops only at a trap and at the end of the
// run. Breakpoints are the machine's, not Until's (SetBreakpoint): they stop every Resume.
type Until struct {
	Steps uint64 // stop once the whole machine has executed this many more instructions; 0 for no such stop

	// Thread is the thread that ThreadSteps and Return are about.
	Thread      *Thread
	ThreadSteps uint64 // stop once Thread has executed this many more instructions; 0 for no such stop
	// Return, if not 0, stops after a ret of Thread that pops its return address from Return
	// or above: for "finish", the address of the current frame's return address; for "next"
	// over a call, the address the call pushes it to (sp-8).
	Return uint64

	Switch      bool          // stop at the next context switch
	Syscalls    []isa.Syscall // stop before any of these syscalls runs
	AllSyscalls bool          // stop before every syscall

	// Watch stops when memory in one of these ranges changes, by an instruction or a syscall.
	// Watchpoints are looked at before every instruction: a run with them is several times as
	// slow as one without.
	Watch []Watch
}

// A Watch names Len bytes of memory at Addr in process Proc.
type Watch struct {
	Proc *Process
	Addr uint64
	Len  int
}

// A WatchHit is a watched range that changed, with its bytes before and after.
type WatchHit struct {
	Watch
	Old, New []byte
}

// watching is a watchpoint and the bytes it last saw.
type watching struct {
	Watch
	seen []byte
}

// watchHit reports whether a watched range has changed since it was last looked at, and keeps
// the first that has in c.hit.
func (c *cpu) watchHit() bool {
	for i := range c.watches {
		w := &c.watches[i]
		now := w.bytes()
		if now != nil && !bytes.Equal(now, w.seen) {
			c.hit = &WatchHit{Watch: w.Watch, Old: w.seen, New: bytes.Clone(now)}
			w.seen = c.hit.New
			return true
		}
	}
	return false
}

// bytes returns the memory w watches, or nil if it is not inside its process's memory (any
// more).
func (w *Watch) bytes() []byte {
	p := w.Proc
	if w.Len <= 0 || !p.inMem(w.Addr, uint64(w.Len)) {
		return nil
	}
	off := w.Addr - p.memBase
	return p.mem[off : off+uint64(w.Len)]
}

// A Stop says why Resume returned.
type Stop struct {
	Kind StopKind

	// Ended says the run is over: nothing can Resume it. Err is then what Run returns: nil
	// when the first process ended, whatever its status, or a *TrapError, *LimitError,
	// *DeadlockError or *InterruptError.
	Ended    bool
	Err      error
	ExitCode int64 // the first process's exit status, when it exited

	// Thread is the thread that stopped, before the instruction at PC, or at the instruction
	// that trapped; nil when no thread stopped. It goes on first when the run does, but after
	// a StopReturn, when a check point right after the ret gave the processor to another.
	Thread  *Thread
	PC      uint64
	Syscall isa.Syscall // the syscall of a StopSyscall or a StopInput
	Watch   *WatchHit   // the change of a StopWatchpoint
	Trap    *TrapError  // the trap of a StopTrapped, or of a StopBreakpoint at an ebreak
	Steps   uint64      // instructions the machine has executed
}

// Resume runs the machine until one of the things u asks for happens, a thread traps or
// reaches a breakpoint, or the run ends, and says which. It returns an error only for a call it
// cannot carry out: a run that is over, or, on several processors, a stop that only one
// processor can make.
//
// A machine with several processors runs to its end in one Resume: u must be the zero Until,
// and no breakpoint may be set. The debugger runs one.
func (m *Machine) Resume(u Until) (_ Stop, err error) {
	if m.ended {
		return Stop{}, errors.New("vm: the run is over")
	}
	defer func() {
		if err == nil {
			err = m.hlog.diverged
		}
	}()
	if !m.begun {
		m.begin()
	}
	if len(m.cpus) > 1 {
		if !u.isZero() || len(m.breaks) > 0 {
			return Stop{}, errors.New("vm: a machine of several processors can only run to its end")
		}
		m.runAll()
		return m.over(), nil
	}
	for _, w := range u.Watch {
		if w.Proc == nil || w.Proc.Machine != m || w.bytes() == nil {
			return Stop{}, fmt.Errorf("vm: a watchpoint of %d bytes at %#x is not inside the memory of a process of the machine", w.Len, w.Addr)
		}
	}
	c := m.cpus[0]
	if te := c.trapped; te != nil {
		// Act on the trap the last Resume stopped at, unless its thread was moved on.
		c.trapped = nil
		if t := c.paused; t != nil && isa.CodeAddr(t.PC) == te.PC {
			p := c.cur
			c.paused, c.cur = nil, nil
			c.afterSlice(p, te)
		}
	}
	var st Stop
	t := c.paused
	if t == nil && m.steps() == 0 {
		t = m.proc.thread(1) // before the first instruction, the main thread is there
	}
	if t != nil && !c.done.Load() {
		// A thread that stopped at a breakpoint or a syscall goes past it: what stops it is
		// coming to one, not being there.
		if orig, ok := m.breaks[t.PC]; ok && t.Proc.code[t.PC] == breakWord {
			i, before := t.PC, t.Steps
			t.Proc.code[i] = orig
			st = m.resume(c, Until{Steps: 1, Switch: u.Switch, Watch: u.Watch, Thread: u.Thread, Return: u.Return})
			t.Proc.code[i] = breakWord
			if st.Kind != StopSteps {
				return st, nil
			}
			if u.Steps > 0 {
				if u.Steps--; u.Steps == 0 {
					return st, nil
				}
			}
			if u.Thread == t && u.ThreadSteps > 0 && t.Steps > before {
				if u.ThreadSteps--; u.ThreadSteps == 0 {
					return st, nil
				}
			}
		} else if c.stopKind == StopSyscall && t.Proc.code[t.PC].Op() == isa.SYSCALL {
			c.skipSyscall = t
		}
	}
	if u.Thread != nil && u.ThreadSteps > 0 {
		goal := u.Thread.Steps + u.ThreadSteps
		for {
			v := u
			v.Steps = goal - u.Thread.Steps
			if u.Steps > 0 {
				v.Steps = min(v.Steps, u.Steps)
			}
			v.Switch = true // a thread's exit is a switch: it takes no more steps after it
			before := m.steps()
			st = m.resume(c, v)
			if st.Kind == StopSwitch && !u.Switch {
				st.Kind = StopSteps // a switch asked for only to see an exit: a step stop
			}
			if st.Kind != StopSteps || u.Thread.Steps >= goal || u.Thread.State == Exited {
				return st, nil // its steps are done, or it has ended and takes no more
			}
			if u.Steps > 0 {
				if u.Steps -= st.Steps - before; u.Steps == 0 {
					return st, nil
				}
			}
		}
	}
	return m.resume(c, u), nil
}

// resume runs processor c, alone on the machine, until a stop of u's.
func (m *Machine) resume(c *cpu, u Until) Stop {
	if u.Steps > 0 {
		c.target = c.steps + u.Steps
	}
	c.catchSwitch = u.Switch
	if u.Thread != nil && u.Return != 0 {
		c.returnOf, c.returnSP = u.Thread, u.Return
	}
	if u.AllSyscalls || len(u.Syscalls) > 0 {
		var set [128]bool
		for i := range set {
			set[i] = u.AllSyscalls
		}
		for _, n := range u.Syscalls {
			set[n&127] = true
		}
		c.syscalls = &set
	}
	c.watches = nil
	for _, w := range u.Watch {
		c.watches = append(c.watches, watching{w, bytes.Clone(w.bytes())})
	}
	c.stepping = c.returnOf != nil || c.syscalls != nil || c.catchSwitch
	m.runAll()
	if l := &m.hlog; l.pos == len(l.entries) {
		l.frontier = max(l.frontier, c.polls) // the furthest the run has been with the host
	}
	c.target, c.catchSwitch, c.returnOf, c.syscalls, c.stepping, c.skipSyscall = 0, false, nil, nil, false, nil
	c.watches, c.lastThread = nil, nil
	hit, ebreak := c.hit, c.ebreakHit
	c.hit, c.ebreakHit = nil, nil
	if c.done.Load() {
		return m.over()
	}
	m.flush()
	st := Stop{Kind: c.stopKind, Thread: c.stopThread, Trap: c.trapped, Watch: hit, Steps: m.steps()}
	c.stopThread = nil
	if st.Thread == nil {
		st.Thread = c.paused // a trap
	}
	if t := st.Thread; t != nil {
		st.PC = isa.CodeAddr(t.PC)
		if st.Kind == StopSyscall || st.Kind == StopInput {
			st.Syscall = isa.Syscall(t.Proc.code[t.PC].Uimm24())
		}
	}
	if ebreak != nil {
		st.Trap = ebreak // the ebreak executed: st.PC is the instruction after it
	}
	if st.Trap != nil && st.Trap.Trap == isa.TrapBreakpoint {
		st.Kind = StopBreakpoint
	}
	return st
}

// over is the Stop of a run that is over.
func (m *Machine) over() Stop {
	err := m.end()
	st := Stop{Kind: StopExited, Ended: true, Err: err, Steps: m.result.Steps}
	var te *TrapError
	var le *LimitError
	var de *DeadlockError
	var ie *InterruptError
	switch {
	case err == nil:
		st.ExitCode = m.result.ExitCode
	case errors.As(err, &te):
		st.Kind, st.Trap = StopTrapped, te
	case errors.As(err, &le):
		st.Kind = StopLimit
	case errors.As(err, &de):
		st.Kind = StopDeadlock
	case errors.As(err, &ie):
		st.Kind = StopInterrupted
	default:
		st.Kind = StopExited // an internal error, or output that could not be written
	}
	return st
}

// Steps returns the instructions the machine has executed, between Resumes: the run's clock, by
// which a debugger says where it is, and to which a Restore sets it back.
func (m *Machine) Steps() uint64 { return m.steps() }

// steps returns the instructions the machine has executed.
func (m *Machine) steps() uint64 {
	var n uint64
	for _, c := range m.cpus {
		n += c.steps
	}
	return n
}

func (u *Until) isZero() bool {
	return u.Steps == 0 && u.Thread == nil && u.ThreadSteps == 0 && u.Return == 0 && !u.Switch &&
		len(u.Syscalls) == 0 && !u.AllSyscalls && len(u.Watch) == 0
}

// breakWord is the word a breakpoint puts in place of an instruction. Its opcode is none of
// isa's, so the loop's default case, which traps an illegal instruction otherwise, finds it;
// no image can hold it, since the loader refuses an unknown opcode.
const breakWord = isa.Instr(0xff)

// SetBreakpoint makes every Resume stop when a thread of the machine's program comes to the
// instruction at addr, before it runs. It applies to every process that runs the program's
// code (those that start makes), not to programs that spawn loads.
func (m *Machine) SetBreakpoint(addr uint64) error {
	p := m.proc
	i, ok := isa.CodeIndex(addr, p.textN)
	if !ok {
		return fmt.Errorf("%#08x is not the address of an instruction (%s)", addr, isa.TextSpan(p.textN))
	}
	if len(m.cpus) > 1 {
		return errors.New("vm: breakpoints need a machine of one processor")
	}
	if _, ok := m.breaks[i]; ok {
		return nil
	}
	if m.breaks == nil {
		m.breaks = map[int]isa.Instr{}
	}
	m.breaks[i] = p.code[i]
	p.code[i] = breakWord
	return nil
}

// ClearBreakpoint removes the breakpoint at addr, if there is one.
func (m *Machine) ClearBreakpoint(addr uint64) {
	i, ok := isa.CodeIndex(addr, m.proc.textN)
	if orig, set := m.breaks[i]; ok && set {
		m.proc.code[i] = orig
		delete(m.breaks, i)
	}
}

// Breakpoints returns the addresses of the breakpoints set, in no order.
func (m *Machine) Breakpoints() []uint64 {
	var addrs []uint64
	for i := range m.breaks {
		addrs = append(addrs, isa.CodeAddr(i))
	}
	return addrs
}

// instr returns p's instruction at index pc, as the program has it: a breakpoint's word is not
// part of it.
func (p *Process) instr(pc int) isa.Instr {
	w := p.code[pc]
	if w == breakWord {
		if orig, ok := p.Machine.breaks[pc]; ok {
			return orig
		}
	}
	return w
}
