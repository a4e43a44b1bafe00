package debugger

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// DefaultBudget is the host memory that the snapshots behind reverse execution may hold.
const DefaultBudget = 64 << 20

// Config is what a session debugs, and how.
type Config struct {
	Image *object.Image

	// Options are the run's options. The session replaces what a debugged run must have: one
	// processor, the virtual clock, the program's output written into the transcript, and
	// its input fed from the session (see Input).
	Options vm.Options

	// Budget bounds the host memory of the snapshots that reverse execution goes back through;
	// 0 means DefaultBudget. Old snapshots are thinned to stay within it: the whole run stays
	// reachable, only further apart.
	Budget uint64

	// Input gives the program a line of input when it reads and none is waiting: the line
	// the user types, or the next line of a batch script. io.EOF ends the input;
	// ErrInputInterrupted holds the program at its read and ends the command that ran it,
	// with nothing read (the next command that runs the program asks again); any other error
	// is the command's. With Stdin set it is not used.
	Input func() (line string, err error)

	// Stdin, if not nil, is all of the program's input, given up front (a file).
	Stdin []byte

	// Stdout and Stderr, if not nil, take the program's output in place of the transcript,
	// each once as the transcript would (see progOutput): an editor shows it apart.
	Stdout, Stderr io.Writer

	// Timeout, if not 0, pauses a command that runs the program once it has run for that much
	// wall time, as Pause does, in the same state a Ctrl-C would leave (TimedOut reports it);
	// a reverse command goes back to where it started. The time the user takes to type the
	// program's input does not count.
	Timeout time.Duration

	// Reload assembles the program again, for the reload command; nil refuses it.
	Reload func() (*object.Image, error)

	// Color colours what the session shows (see paint): for a terminal, unless NO_COLOR is
	// set.
	Color bool

	// Program names the program in a record (record save), and Save writes a file; nil
	// refuses the command.
	Program string
	Save    func(name string, b []byte) error

	// Close, if not nil, releases what the configuration holds on the host besides the
	// machine, such as the directories it grants. Relaunch calls it for the configuration it
	// leaves, once the machine of that one is closed, or for the one it was given, if that
	// one does not load.
	Close func()
}

// A Session debugs one program: a machine that it runs forwards and backwards, its
// breakpoints, and what it shows after each stop. Its commands (Exec) write to one
// transcript, with the program's output.
type Session struct {
	cfg        Config
	out        io.Writer // where the session writes: the transcript, or nowhere (see quiet)
	transcript *transcript
	img        *object.Image
	m          *vm.Machine
	outs       [2]*progOutput

	stop    vm.Stop    // the last stop
	cur     *vm.Thread // the thread shown: the one that stopped, or the one focused
	focused bool       // cur was chosen with the thread command
	lock    bool       // scheduler locking: step commands run only the focused thread
	ended   *vm.Stop   // the end of the run, when the machine is there
	lastEnd *vm.Stop   // the end of the run, once it has been reached
	frame   int        // the selected frame of cur's backtrace (see frames.go)
	listed  listing    // the lines list showed last

	bps      []*breakpoint
	nextBP   int
	displays []string
	switches bool          // trace switches
	tracer   *switchTracer // its observer, attached to the machine that has one

	// The timeline: snapshots by step, and the spans in which a thread ran alone.
	cps      []checkpoint
	interval uint64
	focus    []focusSpan

	furthest uint64 // the furthest step the run has come to

	last string // the last command, which an empty line repeats

	clock    *clock // the time limit of the command that runs (Config.Timeout)
	timedOut bool   // the last command was paused by it

	// For a record: the commands that ran, and the lines the program was given.
	history  []string
	typed    []string
	typedEnd bool
	// inputPauses: for each prompt for input that was interrupted, how many lines had been
	// typed before it.
	inputPauses []int
	// paused: the commands of history that a pause stopped, and at which step. A replay stops
	// each of them there (pauseAt, when pausing), where the recorded session's Ctrl-C or
	// --timeout did.
	paused  []PausedCommand
	pauseAt uint64
	pausing bool
	// wasPaused: the command that runs was stopped by a pause; undone: it was a reverse
	// command that a pause cut short, which went back to where it started.
	wasPaused, undone bool
	quit              bool

	// Commands at stops (script.go): the list being typed, the breakpoints that stopped the
	// last run, and those whose commands are still to run.
	defining   *definition
	hit        []*breakpoint
	queued     []*breakpoint
	inCommands bool
	moves      int  // runs of the machine, forward or to a step of the past: a command that moved it
	reloaded   bool // the program was assembled again: the history is of two programs
}

type checkpoint struct {
	steps uint64
	snap  *vm.Snapshot
	edit  bool // the state was changed here (set): a run forward that comes here restores it
}

// A focusSpan is a stretch of the run in which thread (pid, tid) ran alone.
type focusSpan struct {
	from, to uint64
	pid, tid int
}

// withDefaults is c with its defaults for what it leaves at 0.
func (c Config) withDefaults() Config {
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	return c
}

// New loads the program of cfg and returns a session stopped before its first instruction,
// writing to out.
func New(cfg Config, out io.Writer) (*Session, error) {
	cfg = cfg.withDefaults()
	tr := &transcript{w: out}
	s := &Session{cfg: cfg, out: tr, transcript: tr, lock: true}
	if err := s.load(cfg.Image); err != nil {
		return nil, err
	}
	return s, nil
}

// load makes a new machine of img and takes its first snapshot.
func (s *Session) load(img *object.Image) error {
	opts := s.cfg.Options
	opts.CPUs, opts.VirtualClock, opts.Stdin, opts.FeedInput = 1, true, nil, true
	opts.EbreakGoesOn = true // an ebreak of the program stops it, and continue goes on after it
	opts.MaxSnapshotMem = s.cfg.Budget
	opts.Stats, opts.Trace = false, nil
	w := s.out
	if s.out == io.Writer(s.transcript) {
		w = programSide{s.transcript}
	}
	s.outs = [2]*progOutput{{w: s.cfg.programOutput(0, w)}, {w: s.cfg.programOutput(1, w)}}
	opts.Stdout, opts.Stderr = s.outs[0], s.outs[1]
	m, err := vm.Load(img, opts)
	if err != nil {
		return err
	}
	if s.cfg.Stdin != nil {
		if err := m.FeedInput(s.cfg.Stdin, true); err != nil {
			return err
		}
	}
	// Every step back starts from a snapshot, the first one at least: a budget that cannot
	// hold it leaves nothing to go back to.
	first, err := m.Snapshot()
	if errors.Is(err, vm.ErrSnapshotMem) {
		_, mem := m.Process().Memory()
		return fmt.Errorf("the snapshot budget (--budget), %d bytes, cannot hold the program's first snapshot: its memory alone takes %d bytes", s.cfg.Budget, len(mem))
	}
	if err != nil {
		return err
	}
	s.img, s.m = img, m
	if s.switches {
		s.tracer = &switchTracer{s: s, m: m}
		m.Attach(s.tracer)
	}
	// A new run: the end of one before (reload, Relaunch), and how far it went, are not its.
	s.stop, s.ended, s.lastEnd, s.furthest, s.focused = vm.Stop{}, nil, nil, 0, false
	s.cur = m.Process().Thread(1)
	s.selectFrame(0)
	s.cps, s.focus = []checkpoint{{steps: 0, snap: first}}, nil
	s.interval = 1 << 16
	return s.setBreakpoints()
}

// A transcript is what a session shows: what it says, and the program's output, on one writer.
// What the session says starts on a line of its own: after output that left its last line open
// (a number printed alone, a prompt waiting for its answer), a newline comes first.
type transcript struct {
	w    io.Writer
	open bool // the program's output left the last line open
}

// Write writes what the session says.
func (tr *transcript) Write(b []byte) (int, error) {
	if tr.open && len(b) > 0 {
		tr.open = false
		if _, err := tr.w.Write([]byte{'\n'}); err != nil {
			return 0, err
		}
	}
	return tr.w.Write(b)
}

// programSide writes the program's output into a transcript.
type programSide struct{ tr *transcript }

func (p programSide) Write(b []byte) (int, error) {
	if len(b) > 0 {
		p.tr.open = b[len(b)-1] != '\n'
	}
	return p.tr.w.Write(b)
}

// progOutput writes the program's output into the transcript, once: after a step back, the
// run writes again what it had written, and only what goes past the furthest point reached
// shows.
type progOutput struct {
	w         io.Writer
	pos, high uint64
	mute      bool // a step run to look ahead, which a Restore takes back: it shows nothing
}

func (o *progOutput) Write(b []byte) (int, error) {
	n := len(b)
	if o.mute {
		return n, nil
	}
	if skip := o.high - min(o.high, o.pos); skip > 0 {
		b = b[min(uint64(len(b)), skip):]
	}
	o.pos += uint64(n)
	o.high = max(o.high, o.pos)
	if len(b) > 0 {
		o.w.Write(b)
	}
	return n, nil
}

// checkpoint takes a snapshot where the machine is, thinning old ones when the budget is
// spent. The run goes on without one if even then there is no room.
func (s *Session) checkpoint() {
	now := s.m.Steps()
	if n := len(s.cps); n > 0 && s.cps[n-1].steps == now {
		return
	}
	for {
		snap, err := s.m.Snapshot()
		if err == nil {
			s.cps = append(s.cps, checkpoint{steps: now, snap: snap})
			return
		}
		if !errors.Is(err, vm.ErrSnapshotMem) || !s.thin() {
			return
		}
	}
}

// thin releases every other snapshot but the first and the last, so that what is left spans
// the whole run at twice the distance, and checkpoints are taken twice as far apart from now
// on. It reports whether it released any.
func (s *Session) thin() bool {
	if len(s.cps) < 3 {
		return false
	}
	kept := s.cps[:1]
	for i := 1; i < len(s.cps)-1; i++ {
		if i%2 == 1 && !s.cps[i].edit {
			s.cps[i].snap.Release()
			continue
		}
		kept = append(kept, s.cps[i])
	}
	s.cps = append(kept, s.cps[len(s.cps)-1])
	s.interval *= 2
	return true
}

// ErrInputInterrupted is what Config.Input returns when the user interrupts the prompt for
// the program's input (Ctrl-C): the command that was running ends there, and the program
// waits at its read, as gdb returns to its prompt.
var ErrInputInterrupted = errors.New("debugger: the prompt for the program's input was interrupted")

// errEnded is the error of a command that runs the program forward after it ended.
var errEnded = errors.New("the program is not running: it has ended (reverse commands go back; run starts it again)")

// resume runs the machine forward until u's stop, taking checkpoints on the way, feeding the
// program input when it asks, and going past breakpoints whose conditions do not hold.
func (s *Session) resume(u vm.Until) (vm.Stop, error) {
	if s.ended != nil {
		return vm.Stop{}, errEnded
	}
	s.selectFrame(0)
	s.hit = nil
	s.moves++
	s.setBreakpoints()
	for {
		now := s.m.Steps()
		next := s.cps[len(s.cps)-1].steps + s.interval
		edit, isEdit := s.nextEdit(now)
		if isEdit && (next <= now || edit.steps < next) {
			next = edit.steps
		}
		chunk := u
		if next > now && (u.Steps == 0 || u.Steps > next-now) {
			chunk.Steps = next - now // to the next checkpoint
		}
		var threadBefore uint64
		if u.Thread != nil {
			threadBefore = u.Thread.Steps
		}
		if s.pausing && s.pauseAt <= now {
			// A replay, at the step where the recorded command was paused.
			s.pausing = false
			st := vm.Stop{Kind: vm.StopInterrupted, Thread: s.cur, Steps: now}
			if s.cur != nil {
				st.PC = s.cur.PCAddr()
			}
			return st, nil
		}
		if s.pausing && (chunk.Steps == 0 || chunk.Steps > s.pauseAt-now) {
			chunk.Steps = s.pauseAt - now
		}
		st, err := s.m.Resume(chunk)
		if err != nil {
			return st, err
		}
		s.furthest = max(s.furthest, st.Steps)
		if isEdit && !st.Ended && s.m.Steps() == edit.steps {
			// The run comes to where the user changed the state: it goes on from the change.
			if err := s.m.Restore(edit.snap); err != nil {
				return st, err
			}
			s.outs[0].pos, s.outs[1].pos = s.m.Output()
		}
		done := false // the steps asked for are done
		if u.Steps > 0 {
			u.Steps -= min(u.Steps, st.Steps-now)
			done = u.Steps == 0
		}
		if u.ThreadSteps > 0 {
			u.ThreadSteps -= min(u.ThreadSteps, u.Thread.Steps-threadBefore)
			done = done || u.ThreadSteps == 0 || u.Thread.State == vm.Exited // it takes no more
		}
		switch {
		case st.Ended:
			s.ended, s.lastEnd = &st, &st
			return st, nil
		case st.Kind == vm.StopSteps && !done:
			s.checkpoint() // a checkpoint, not a stop asked for
			if hit, ok, err := s.cameTo(st.Steps); err != nil || ok {
				return hit, err
			}
			continue
		case st.Kind == vm.StopSteps || st.Kind == vm.StopReturn:
			// The steps asked for are done, or the frame has returned, where a thread may be
			// at a breakpoint: the run comes to it here, as a step onto a breakpoint does in
			// gdb. The next run goes past it, so its hit is counted, and its log point
			// printed, here or never.
			if hit, ok, err := s.cameTo(st.Steps); err != nil || ok {
				return hit, err
			}
		case st.Kind == vm.StopInput:
			if err := s.feed(); err == ErrInputInterrupted {
				return st, nil // the command ends at the read (see showStop)
			} else if err != nil {
				return st, err
			}
			continue
		case st.Kind == vm.StopBreakpoint && st.Trap == nil || st.Kind == vm.StopWatchpoint ||
			st.Kind == vm.StopSyscall || st.Kind == vm.StopSwitch:
			if !s.breakHit(st) {
				continue
			}
		}
		return st, nil
	}
}

// cameTo is what a run that stops where it was asked to, at step now, comes to: a breakpoint
// that the thread to run next is at, which stops the run (ok) unless its conditions do not
// hold or it is a log point. (A Resume would go past it without a stop.)
func (s *Session) cameTo(now uint64) (hit vm.Stop, ok bool, err error) {
	t, pc, err := s.comesTo(s.codeBreakpoints())
	if err != nil {
		return vm.Stop{}, false, err
	}
	hit = vm.Stop{Kind: vm.StopBreakpoint, Thread: t, PC: pc, Steps: now}
	if t != nil && s.breakHit(hit) {
		return hit, true, nil
	}
	return vm.Stop{}, false, nil
}

// nextEdit returns the first checkpoint after step now at which the user changed the state.
func (s *Session) nextEdit(now uint64) (checkpoint, bool) {
	for _, c := range s.cps {
		if c.edit && c.steps > now {
			return c, true
		}
	}
	return checkpoint{}, false
}

// codeBreakpoints returns the addresses of the code breakpoints that the run comes to: the
// enabled ones, and those that count their hits while disabled.
func (s *Session) codeBreakpoints() []uint64 {
	var addrs []uint64
	for _, b := range s.bps {
		if b.counted() && b.kind == bpCode {
			addrs = append(addrs, b.addr)
		}
	}
	return addrs
}

// comesTo returns the thread that executes the next instruction, and its address, if it is
// the thread on the processor and the address is one of addrs. A Resume goes past a
// breakpoint that the thread on the processor is at, since being at one is not coming to it;
// but a run cut into stretches (at checkpoints, or where a focus ends) comes to a breakpoint
// at the end of a stretch, and must stop there. Only the next step tells whether that thread
// executes it or a switch comes first: comesTo runs it, and restores the machine.
func (s *Session) comesTo(addrs []uint64) (*vm.Thread, uint64, error) {
	type was struct {
		steps uint64
		pc    uint64
	}
	before := map[*vm.Thread]was{}
	at := false
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			before[t] = was{t.Steps, t.PCAddr()}
			at = at || t.State == vm.Running && slices.Contains(addrs, t.PCAddr())
		}
	}
	if !at {
		return nil, 0, nil
	}
	snap, err := s.m.Snapshot()
	if err != nil {
		return nil, 0, nil // no room to look ahead: the breakpoint is missed
	}
	defer snap.Release()
	// Without its breakpoint, a thread at a syscall stops before it (AllSyscalls, below).
	var cleared []uint64
	for _, a := range s.m.Breakpoints() {
		if slices.Contains(addrs, a) {
			s.m.ClearBreakpoint(a)
			cleared = append(cleared, a)
		}
	}
	defer func() {
		for _, a := range cleared {
			s.m.SetBreakpoint(a)
		}
	}()
	s.outs[0].mute, s.outs[1].mute = true, true
	// (It stops before a syscall, which it need not run to know that its thread is next: a
	// syscall may deal with the host, which a look-ahead must not.)
	st, err := s.m.Resume(vm.Until{Steps: 1, AllSyscalls: true})
	s.outs[0].mute, s.outs[1].mute = false, false
	if err != nil {
		return nil, 0, err
	}
	var next *vm.Thread
	var pc uint64
	if st.Kind == vm.StopInput || st.Kind == vm.StopSyscall {
		next, pc = st.Thread, st.PC // it executes its syscall next (a read, once fed)
	}
	for t, w := range before {
		if t.Steps > w.steps {
			next, pc = t, w.pc
		}
	}
	if err := s.m.Restore(snap); err != nil {
		return nil, 0, err
	}
	if st.Kind == vm.StopInterrupted {
		s.m.Pause() // for the Resume that follows, which the restore must not run past it
	}
	if next == nil || next.State != vm.Running || !slices.Contains(addrs, pc) {
		return nil, 0, nil
	}
	return next, pc, nil
}

// feed asks for a line of the program's input, and gives it.
func (s *Session) feed() error {
	if s.cfg.Input == nil {
		return s.m.FeedInput(nil, true)
	}
	fmt.Fprintln(s.out, "[the program reads its input, and none is waiting: type a line, or end it with Ctrl-D]")
	again := s.clock.hold()
	line, err := s.cfg.Input()
	again()
	switch {
	case errors.Is(err, ErrInputInterrupted):
		// Not input: a record keeps where it came, for a replay to stop there too.
		s.inputPauses = append(s.inputPauses, len(s.typed))
		return ErrInputInterrupted
	case err == io.EOF:
		s.typedEnd = true
		return s.m.FeedInput(nil, true)
	case err != nil:
		return err
	}
	s.typed = append(s.typed, line)
	return s.m.FeedInput([]byte(line+"\n"), false)
}

// seek puts the machine where it was after target steps, which it has run past: from the
// last snapshot at or before it, it runs forward again, with no breakpoint.
func (s *Session) seek(target uint64) error {
	s.moves++
	i, _ := slices.BinarySearchFunc(s.cps, target+1, func(c checkpoint, t uint64) int {
		switch {
		case c.steps < t:
			return -1
		case c.steps > t:
			return 1
		}
		return 0
	})
	if i == 0 {
		return fmt.Errorf("step %d is before the start", target)
	}
	cp := s.cps[i-1]
	s.selectFrame(0)
	if err := s.m.Restore(cp.snap); err != nil {
		return err
	}
	s.outs[0].pos, s.outs[1].pos = cp.snap.Output[0], cp.snap.Output[1] // before the run again writes
	s.ended = nil
	for _, a := range s.m.Breakpoints() {
		s.m.ClearBreakpoint(a)
	}
	defer s.setBreakpoints()
	var st vm.Stop
	for now := cp.steps; now < target; now = s.m.Steps() {
		if err := s.applyFocus(now); err != nil {
			return err
		}
		u := vm.Until{Steps: target - now}
		if end := s.focusEnd(now); end > now && end < target {
			u.Steps = end - now
		}
		var err error
		if st, err = s.m.Resume(u); err != nil {
			return err
		}
		if st.Kind == vm.StopInterrupted {
			s.m.SetPolicy(vm.Focus{})
			return errPaused
		}
		if st.Ended {
			s.ended = &st
			break
		}
	}
	if err := s.m.SetPolicy(vm.Focus{}); err != nil {
		return err
	}
	out, errOut := s.m.Output()
	s.outs[0].pos, s.outs[1].pos = out, errOut
	if st.Thread != nil {
		s.stop = st
	} else {
		s.stop = vm.Stop{Kind: vm.StopSteps, Steps: target, Thread: s.cur}
	}
	if !s.focused || s.cur == nil || s.cur.State == vm.Exited {
		s.cur = s.stop.Thread
	}
	return nil
}

// applyFocus sets the policy the run had at step now: a thread alone, or all of them.
func (s *Session) applyFocus(now uint64) error {
	for _, f := range s.focus {
		if f.from <= now && now < f.to {
			if p := s.process(f.pid); p != nil {
				if t := p.Thread(f.tid); t != nil {
					return s.m.SetPolicy(vm.Focus{Thread: t})
				}
			}
		}
	}
	return s.m.SetPolicy(vm.Focus{})
}

// focusEnd returns the next step after now at which the policy changes, or 0.
func (s *Session) focusEnd(now uint64) uint64 {
	var next uint64
	for _, f := range s.focus {
		for _, b := range []uint64{f.from, f.to} {
			if b > now && (next == 0 || b < next) {
				next = b
			}
		}
	}
	return next
}

// dropFuture forgets the run after now: a change of the state in the past makes a new one.
func (s *Session) dropFuture() {
	now := s.m.Steps()
	s.forgetHits(now)
	kept := s.cps[:0]
	for _, c := range s.cps {
		if c.steps < now {
			kept = append(kept, c)
		} else {
			c.snap.Release()
		}
	}
	s.cps = kept
	defer func() {
		if n := len(s.cps); n > 0 && s.cps[n-1].steps == now {
			s.cps[n-1].edit = true
		}
	}()
	spans := s.focus[:0]
	for _, f := range s.focus {
		if f.from < now {
			f.to = min(f.to, now)
			spans = append(spans, f)
		}
	}
	s.focus = spans
	s.ended, s.lastEnd = nil, nil
	for _, o := range s.outs {
		o.high = o.pos
	}
	s.furthest = now
	s.checkpoint()
}

func (s *Session) process(pid int) *vm.Process {
	for _, p := range s.m.Processes() {
		if p.ID == pid {
			return p
		}
	}
	return nil
}
