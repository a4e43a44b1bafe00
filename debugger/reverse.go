package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// Reverse execution. The run is deterministic, so a state in the past is the state a run from
// an earlier snapshot reaches after as many steps: going back is a Restore and a run forward,
// with the focus spans of the timeline applied as they were. Time is the machine's step count.
// Going back a thread's instruction finds, by seeks, the last step before the one in which it
// executed its last instruction; going back to a breakpoint runs each stretch between
// snapshots again, from the last, and takes the last stop in it.

// errStart is what a reverse command that comes to the start of the run returns: it stops
// there, as gdb stops at the end of its history, and says so (see Session.run); it is not a
// failure.
var errStart = errors.New("no more history: this is the start of the program")

// A threadStart is errStart at the start of a thread that is not the start of the program: the
// thread has executed nothing yet, though others have. It says who made the thread, and at
// which step.
type threadStart struct {
	id, by threadID
	at     uint64 // the step before the one that made it: going back one step comes there
	known  bool   // by and at were found
}

func (e *threadStart) Error() string {
	msg := fmt.Sprintf("no more history: this is the start of thread %d.%d", e.id.pid, e.id.tid)
	if e.known {
		msg += fmt.Sprintf(" (made by thread %d.%d at step %d)", e.by.pid, e.by.tid, e.at)
	}
	return msg
}

func (e *threadStart) Is(target error) bool { return target == errStart }

// startOf returns the threadStart of thread id, which has executed nothing at the machine's
// step, or errStart if it is there from the start of the run. It finds the step that made the
// thread by seeks, and comes back where it was.
func (s *Session) startOf(id threadID) error {
	now, stop, cur, focused := s.m.Steps(), s.stop, s.cur, s.focused
	exists := func(k uint64) (bool, error) {
		if err := s.seek(k); err != nil {
			return false, err
		}
		return s.find(id) != nil, nil
	}
	back := func(err error) error {
		if e := s.seek(now); e != nil {
			return e
		}
		s.stop, s.focused = stop, focused
		if cur != nil {
			s.cur = s.find(idOf(cur))
		}
		if stop.Thread != nil {
			s.stop.Thread = s.find(idOf(stop.Thread))
		}
		return err
	}
	if now == 0 {
		return errStart
	}
	if ok, err := exists(0); err != nil {
		return back(err) // not the start: an error of the seek
	} else if ok {
		return back(errStart)
	}
	// exists(lo) is false and exists(hi) true: the thread is made by the instruction after lo.
	lo, hi := uint64(0), now
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return back(err)
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	e := &threadStart{id: id, at: lo}
	by, err := s.ranAfter(lo)
	if err != nil {
		return back(err)
	}
	if by != nil {
		e.by, e.known = idOf(by), true
	}
	return back(e)
}

// stepsOf returns how many instructions each thread of the machine has executed.
func (s *Session) stepsOf() map[threadID]uint64 {
	steps := map[threadID]uint64{}
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			steps[idOf(t)] = t.Steps
		}
	}
	return steps
}

// ranAfter puts the machine at step k and returns the thread that executes the instruction
// after it, the one that takes the machine to step k+1: the thread whose count of
// instructions that instruction raises, or one that it ends and takes away.
func (s *Session) ranAfter(k uint64) (*vm.Thread, error) {
	if s.m.Steps() != k+1 {
		if err := s.seek(k + 1); err != nil {
			return nil, err
		}
	}
	then := s.stepsOf()
	if err := s.seek(k); err != nil {
		return nil, err
	}
	var gone *vm.Thread
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			n, ok := then[idOf(t)]
			switch {
			case ok && n > t.Steps:
				return t, nil
			case !ok && t.State != vm.Exited && gone == nil:
				gone = t
			}
		}
	}
	return gone, nil
}

// backStep goes back to step k of the machine, with no thread focused: the thread shown is the
// one that executes the instruction after k, the last one gone back over, as stepi shows the
// thread that ran.
func (s *Session) backStep(k uint64) error {
	t, err := s.ranAfter(k)
	if err != nil {
		return err
	}
	if t != nil {
		s.cur = t
	}
	return nil
}

// thread ids, to find a thread again after a restore, which may have made it anew.
type threadID struct{ pid, tid int }

func idOf(t *vm.Thread) threadID { return threadID{t.Proc.ID, t.ID} }

func (s *Session) find(id threadID) *vm.Thread {
	if p := s.process(id.pid); p != nil {
		if t := p.Thread(id.tid); t != nil {
			return t
		}
	}
	return nil
}

// backThread returns the thread that reverse commands go back in: the current one, even when
// it has ended (at the end of the run every thread has), since going back brings it to life.
func (s *Session) backThread() (*vm.Thread, error) {
	if now := s.m.Steps(); s.ended != nil && !s.focused && now > 0 {
		// The thread shown last may not be the one that ended the run, and may even have
		// been joined since: going back from the end goes back in the thread that executed
		// the last instruction.
		if err := s.seek(now - 1); err != nil {
			return nil, err
		}
		last := s.stop.Thread
		if err := s.seek(now); err != nil {
			return nil, err
		}
		if last != nil {
			s.cur = last
		}
		// A run that ended with a trap comes back to it held, at the same count of steps: one
		// step back from the end is the step before the trapping instruction, not the step
		// before that (see backOne).
		s.stop.Kind = vm.StopSteps
	}
	if s.cur == nil {
		return nil, errors.New("no current thread")
	}
	return s.cur, nil
}

// seekKeep seeks to target and keeps the current thread, found again.
func (s *Session) seekKeep(target uint64, id threadID, focused bool) error {
	if err := s.seek(target); err != nil {
		return err
	}
	if t := s.find(id); t != nil && t.State != vm.Exited {
		s.cur, s.focused = t, focused
	}
	return nil
}

// stepsAt returns how many instructions thread id had executed after k steps of the machine.
func (s *Session) stepsAt(k uint64, id threadID) (uint64, error) {
	if err := s.seek(k); err != nil {
		return 0, err
	}
	if t := s.find(id); t != nil {
		return t.Steps, nil
	}
	return 0, nil
}

// back1 goes back one instruction: thread id's when inThread is set, else the machine's.
func (s *Session) back1(id threadID, inThread bool) error {
	now := s.m.Steps()
	if st := s.stop; st.Kind == vm.StopTrapped && !st.Ended && st.Steps == now && now > 0 {
		// Held at a trap, the machine counts the trapping instruction among its steps, though
		// it changed nothing: the state is the one of the step before, and going back one
		// instruction goes back from there.
		if err := s.seekKeep(now-1, id, s.focused); err != nil {
			return err
		}
		now--
	}
	if now == 0 {
		return errStart
	}
	if !inThread {
		return s.backStep(now - 1)
	}
	return s.backInThread(id)
}

// backInThread goes back to just before thread id's last instruction, however many
// instructions of other threads ran since: to the last step k before now at which it had
// executed one fewer. The machine is past its first step (back1 says so).
func (s *Session) backInThread(id threadID) error {
	now := s.m.Steps()
	t := s.find(id)
	if t == nil {
		return errStart
	}
	if t.Steps == 0 {
		return s.startOf(id)
	}
	n := t.Steps
	// k: the last step with steps(k) < n; steps(hi) = n. Look back at twice the distance each
	// time, then halve.
	hi, d := now, uint64(1)
	lo := uint64(0)
	for {
		k := hi - min(d, hi)
		c, err := s.stepsAt(k, id)
		if err != nil {
			return err
		}
		if c < n {
			lo = k
			break
		}
		hi = k
		if k == 0 {
			return errStart
		}
		d *= 2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		c, err := s.stepsAt(mid, id)
		if err != nil {
			return err
		}
		if c < n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.seekKeep(lo, id, s.focused)
}

func (s *Session) cmdReverseStepi(arg string) error {
	n, t, err := countThread(arg, s.backThread)
	if err != nil {
		return err
	}
	id := idOf(t)
	for i := 0; i < n; i++ {
		if err := s.back1(id, s.focused); err != nil {
			return err
		}
		if now := s.m.Steps(); !s.focused && i+1 < n && now > 0 {
			// Not focused, a step back is a step of the machine: the rest go in one seek.
			if err := s.backStep(now - min(now, uint64(n-i-1))); err != nil {
				return err
			}
			if uint64(n-i-1) > now {
				return errStart
			}
			break
		}
	}
	s.showBack()
	return nil
}

// showBack shows where a reverse command came to, and how far the output had gone there.
func (s *Session) showBack() {
	out, errOut := s.m.Output()
	if out+errOut < s.outs[0].high+s.outs[1].high {
		fmt.Fprintf(s.out, "[back at step %d; the program had written %d of the %d bytes of output shown]\n",
			s.m.Steps(), out+errOut, s.outs[0].high+s.outs[1].high)
	} else {
		fmt.Fprintf(s.out, "[back at step %d]\n", s.m.Steps())
	}
	if s.cur != nil {
		s.showWhere(s.cur)
		s.showDisplays()
	}
}

// lineBack goes back to the start of the previous source line thread id executed; over
// skips the calls it made there.
func (s *Session) lineBack(id threadID, over bool) error {
	var sp0 uint64 // the sp before the step back: a step back over a ret has a greater one
	if t := s.find(id); t != nil {
		sp0 = t.R[isa.SP]
	}
	// A line is the thread's, focused or not: the first step back is its last instruction, not
	// the last instruction of the machine, which another thread may have executed.
	if err := s.back1(id, true); err != nil {
		return err
	}
	t := s.find(id)
	if t == nil {
		return errStart
	}
	if over && sp0 != 0 {
		if err := s.outOfCallee(id, sp0); err != nil {
			return err
		}
	}
	t = s.find(id)
	line, sp := s.line(t), t.R[isa.SP]
	for {
		pos := s.m.Steps()
		if t.Steps == 0 {
			return nil // the line is the thread's first
		}
		if err := s.back1(id, true); errors.Is(err, errStart) {
			return nil
		} else if err != nil {
			return err
		}
		if over {
			if err := s.outOfCallee(id, sp); err != nil {
				return err
			}
		}
		if t = s.find(id); t == nil || s.line(t) != line || t.R[isa.SP] != sp && s.instrIsRet(t) {
			return s.seekKeep(pos, id, s.focused)
		}
	}
}

func (s *Session) instrIsRet(t *vm.Thread) bool { return s.instr(t).Op() == isa.RET }

// outOfCallee: if thread id has gone back into a function it called (it is at a ret, below
// sp), it goes on back to the call.
func (s *Session) outOfCallee(id threadID, sp uint64) error {
	t := s.find(id)
	if t == nil || !s.instrIsRet(t) || t.R[isa.SP] >= sp {
		return nil
	}
	var ra [8]byte
	if err := t.Proc.ReadMemory(t.R[isa.SP], ra[:]); err != nil {
		return nil
	}
	return s.backToCall(id, binary.LittleEndian.Uint64(ra[:])-isa.InstrSize, t.R[isa.SP]+8)
}

// backToCall goes back to the last step before now at which thread id was at the call at
// address call with sp as given.
func (s *Session) backToCall(id threadID, call, sp uint64) error {
	k, _, ok, err := s.lastStop([]uint64{call}, false, func(st vm.Stop) bool {
		return st.Thread != nil && idOf(st.Thread) == id && st.Thread.R[isa.SP] == sp
	})
	if err != nil {
		return err
	}
	if !ok {
		return errStart
	}
	return s.seekKeep(k, id, s.focused)
}

func (s *Session) reverseLines(arg string, over bool) error {
	n, t, err := countThread(arg, s.backThread)
	if err != nil {
		return err
	}
	id := idOf(t)
	for range n {
		if err := s.lineBack(id, over); err != nil {
			return err
		}
	}
	s.showBack()
	return nil
}

func (s *Session) cmdReverseStep(arg string) error { return s.reverseLines(arg, false) }
func (s *Session) cmdReverseNext(arg string) error { return s.reverseLines(arg, true) }

func (s *Session) cmdReverseFinish(arg string) error {
	t, err := s.backThread()
	if err != nil {
		return err
	}
	// Back to the call of the selected frame, as finish finishes it.
	fr := s.m.Backtrace(t, s.frame+2)
	fr = fr[min(s.frame, len(fr)-1):]
	if len(fr) < 2 {
		return s.outermost("reverse-finish", t, fr[0])
	}
	if err := s.backToCall(idOf(t), fr[1].PC, fr[1].SP); err != nil {
		return err
	}
	s.showBack()
	return nil
}

func (s *Session) cmdReverseContinue(arg string) error {
	addrs := s.codeBreakpoints()
	var id threadID
	if s.cur != nil {
		id = idOf(s.cur)
	}
	k, st, ok, err := s.lastStop(addrs, true, func(st vm.Stop) bool {
		if st.Kind == vm.StopTrapped || st.Kind == vm.StopBreakpoint && st.Trap != nil {
			return true // a trap, or an ebreak of the program
		}
		for _, b := range s.bps {
			if s.stopsAt(b, st) {
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	if !ok {
		if err := s.toStart(); err != nil {
			return err
		}
		fmt.Fprintln(s.out, "[no breakpoint, watchpoint, catchpoint or trap before: back at the start]")
		s.showWhere(s.cur)
		return nil
	}
	if err := s.seekKeep(k, id, s.focused); err != nil {
		return err
	}
	if st.Kind == vm.StopBreakpoint && st.Trap == nil {
		if err := s.arrive(st); err != nil {
			return err
		}
	}
	if st.Kind != vm.StopTrapped {
		// The stop is the session's last, as if the run had come to it forward (continue N
		// counts from it); its thread is of the machine as it is now.
		st.Thread = s.find(idOf(st.Thread))
		s.stop = st
	}
	switch st.Kind {
	case vm.StopTrapped:
		fmt.Fprintf(s.out, "[back at the trap of thread %s]\n", threadName(st.Thread))
	case vm.StopBreakpoint:
		if st.Trap != nil {
			s.showEbreak(st)
			break
		}
		s.announceAll(st)
	default:
		s.announceAll(st)
	}
	switch t := s.find(idOf(st.Thread)); {
	case t == nil || t == s.cur:
	case s.focused:
		s.switchTo(t)
	default:
		s.cur = t
	}
	s.showBack()
	return nil
}

// arrive puts the machine where a forward run stops at breakpoint stop st, at st's step: st's
// thread switched in and at the breakpoint, before its instruction. A seek to that step stops
// before the switch, with the thread that ran before on the processor; a run forward from
// there would come to the breakpoint a second time, and stop at it again.
func (s *Session) arrive(st vm.Stop) error {
	t := s.find(idOf(st.Thread))
	if t == nil || t.State == vm.Running {
		return nil
	}
	now := s.m.Steps()
	if err := s.applyFocus(now); err != nil {
		return err
	}
	s.outs[0].mute, s.outs[1].mute = true, true
	got, err := s.m.Resume(vm.Until{Steps: 1})
	s.outs[0].mute, s.outs[1].mute = false, false
	if err := errors.Join(err, s.m.SetPolicy(vm.Focus{})); err != nil {
		return err
	}
	if got.Kind == vm.StopBreakpoint && got.Thread == t && s.m.Steps() == now {
		return nil
	}
	return s.seek(now) // the run went another way than the forward one: back to the step
}

// sameStop reports whether stops a and b are one stop: at one step, of one kind, of one thread,
// at one place (they may come from two runs of the same stretch, with threads of each).
func sameStop(a, b vm.Stop) bool {
	if a.Kind != b.Kind || a.Steps != b.Steps || a.PC != b.PC || a.Syscall != b.Syscall ||
		a.Thread == nil || b.Thread == nil || idOf(a.Thread) != idOf(b.Thread) {
		return false
	}
	return a.Watch == nil || b.Watch != nil && a.Watch.Addr == b.Watch.Addr
}

// announceAll says which breakpoints stop st is one of.
func (s *Session) announceAll(st vm.Stop) {
	for _, b := range s.bps {
		if b.id > 0 && s.stopsAt(b, st) {
			s.announce(b, st)
		}
	}
}

// holds reports whether breakpoint b's condition, if it has one, holds in thread t. One that
// cannot be evaluated there holds, as it does where breakHit says so.
func (s *Session) holds(b *breakpoint, t *vm.Thread) bool {
	if b.cond == "" {
		return true
	}
	v, err := s.eval(b.cond, t)
	return err != nil || v != 0
}

// lastStop runs the stretches of the run before now again, the last first, with breakpoints at
// addrs (and, with user, the session's watchpoints, catchpoints and switch breakpoints), and
// returns the last stop before now that want accepts: its step, and the stop.
func (s *Session) lastStop(addrs []uint64, user bool, want func(vm.Stop) bool) (uint64, vm.Stop, bool, error) {
	now := s.m.Steps()
	defer s.setBreakpoints()
	// Several stops can come at one step (a watchpoint, then a catchpoint on the syscall after
	// the store): at one of them, those the run came to before it at this step are before it.
	here := s.stop
	sameStep := user && here.Steps == now && here.Thread != nil && !here.Ended &&
		(here.Kind == vm.StopWatchpoint || here.Kind == vm.StopSyscall || here.Kind == vm.StopSwitch ||
			here.Kind == vm.StopBreakpoint && here.Trap == nil)
	for i := len(s.cps) - 1; i >= 0; i-- {
		from := s.cps[i].steps
		if from >= now {
			continue
		}
		to := now
		if i+1 < len(s.cps) {
			to = min(to, s.cps[i+1].steps)
		}
		if err := s.seek(from); err != nil {
			return 0, vm.Stop{}, false, err
		}
		for _, a := range s.m.Breakpoints() {
			s.m.ClearBreakpoint(a)
		}
		for _, a := range addrs {
			s.m.SetBreakpoint(a)
		}
		var found vm.Stop
		var at uint64
		ok := false
		end := to
		if sameStep && to == now {
			end = now + 1 // through the stops at this step, in the order the run came to them
		}
		for cur, look := from, true; cur < end; cur = s.m.Steps() {
			if err := s.applyFocus(cur); err != nil {
				return 0, vm.Stop{}, false, err
			}
			if look {
				// The stretch starts, or a focus ended, where a thread may be at a breakpoint
				// that the Resume would go past.
				t, pc, err := s.comesTo(addrs)
				if err != nil {
					return 0, vm.Stop{}, false, err
				}
				if st := (vm.Stop{Kind: vm.StopBreakpoint, Thread: t, PC: pc, Steps: cur}); t != nil && cur < now && want(st) {
					found, at, ok = st, cur, true
				}
			}
			u := vm.Until{Steps: end - cur}
			if fe := s.focusEnd(cur); fe > cur && fe < end {
				u.Steps = fe - cur
			}
			if user {
				u = s.until(u)
			}
			st, err := s.m.Resume(u)
			if err != nil {
				return 0, vm.Stop{}, false, err
			}
			if st.Kind == vm.StopInterrupted {
				return 0, vm.Stop{}, false, errPaused
			}
			if st.Ended {
				break
			}
			look = st.Kind == vm.StopSteps
			if sameStep && sameStop(st, here) {
				break // where the scan began: what comes after it is not before it
			}
			if st.Kind != vm.StopSteps && (st.Steps < now || sameStep && st.Steps == now) && want(st) {
				found, at, ok = st, st.Steps, true
			}
			if st.Kind == vm.StopSteps && s.m.Steps() == end {
				break
			}
		}
		if ok {
			return at, found, true, nil
		}
	}
	return 0, vm.Stop{}, false, nil
}
