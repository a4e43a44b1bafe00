package debugger

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

type bpKind uint8

const (
	bpCode    bpKind = iota // break, tbreak
	bpWatch                 // watch
	bpSyscall               // catch syscall
	bpTrap                  // catch trap
	bpSwitch                // break switch
)

// A breakpoint is anything that stops a run where the user asked: a code breakpoint, a
// watchpoint or a catchpoint.
type breakpoint struct {
	id      int
	kind    bpKind
	spec    string // as the user gave it: a location, an expression, a syscall's name
	enabled bool
	temp    bool // tbreak: deleted when hit
	// lost: the program of a restart has no place for it (its addr or watch is of the one
	// before), and it is disabled; revive: it was enabled then, and a restart whose program
	// has its place enables it again.
	lost, revive bool
	cond         string // break ... if COND
	ignore       int    // hits to go past before it stops
	hits         int    // the hits the session has seen (see hits.go)

	hitCond hitCondition // condition -hitcount: at which hits of the run it stops
	runHits []hitAt      // the hits of the run, by step, while it has a hit condition
	from    uint64       // the step the hits of the run are counted from
	given   hitAt        // the hit at step from that the program was stopped at, not counted; pid 0 if none
	log     *logMessage  // condition -log: what it prints, rather than stop

	addr       uint64 // bpCode: the instruction
	file       string // bpCode at file:line: kept across reload
	line       int
	watch      vm.Watch    // bpWatch
	syscall    isa.Syscall // bpSyscall
	anySyscall bool
	thread     *threadID // bpCode: break ... thread N stops only that thread
	commands   []string  // commands N ... end: run when it stops the program
	silent     bool      // and it stops without a word
	toThread   *threadID // bpSwitch: stop only at a switch to this thread; nil for any
}

// counted reports whether the run comes to b: whether the machine stops where b is, so that
// its hits are seen. An enabled breakpoint is; so is a disabled one with a hit condition, whose
// hits go on being counted, since their numbers are places in the run (see hits.go): it is
// set in the machine, and its hits are recorded, but it neither stops nor prints.
func (b *breakpoint) counted() bool {
	return b.enabled || b.hitCond.set() && !b.lost
}

func (b *breakpoint) what() string {
	switch b.kind {
	case bpWatch:
		return "watchpoint"
	case bpSyscall, bpTrap:
		return "catchpoint"
	}
	return "breakpoint"
}

// title names a breakpoint in what the session says of it: "Breakpoint", or "Temporary
// breakpoint" for a tbreak.
func (b *breakpoint) title() string {
	if b.temp {
		return "Temporary breakpoint"
	}
	return "Breakpoint"
}

// location resolves a location to a code address: a label, label+offset, an address,
// FILE:LINE, a LINE of the current file, or *EXPR. file and line are set for a line.
func (s *Session) location(spec string) (addr uint64, file string, line int, err error) {
	t := s.cur
	p := s.m.Process()
	if t != nil {
		p = t.Proc
	}
	img := p.Image()
	if strings.HasPrefix(spec, "*") {
		addr, err = s.eval(spec[1:], t)
		return addr, "", 0, err
	}
	if i := strings.LastIndexByte(spec, ':'); i > 0 || isNumber(spec) {
		name, num := "", spec
		if i > 0 {
			name, num = spec[:i], spec[i+1:]
		} else if name = s.defaultFile(s.where(t).File); name == "" {
			return 0, "", 0, fmt.Errorf("%s: no current source file: say FILE:%s", spec, num)
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return 0, "", 0, fmt.Errorf("%s: a line number is a positive integer", spec)
		}
		f, ok := s.sourceFile(name)
		if !ok {
			return 0, "", 0, fmt.Errorf("no source file %q in the program (its files: %s)", name, strings.Join(img.Files, ", "))
		}
		best, ok := firstCode(img, f, n)
		if !ok {
			return 0, "", 0, fmt.Errorf("%s:%d and the lines after it have no code", f, n)
		}
		return isa.CodeAddr(best), f, n, nil
	}
	addr, err = s.eval(spec, t)
	return addr, "", 0, err
}

// defaultFile is the file that a LINE without FILE: is of: file, the current one, or where
// there is none (the program has ended, or the thread is in the loader's stub) the file of the
// program's entry point, as gdb defaults to main's.
func (s *Session) defaultFile(file string) string {
	if file != "" {
		return file
	}
	file, _, _ = sourceOf(s.img, s.img.Entry)
	return file
}

// firstCode returns the index of the first instruction of line n of file in img, or of the
// first line after it that has code.
func firstCode(img *object.Image, file string, n int) (int, bool) {
	best := -1
	for i, l := range img.Lines {
		if img.Files[l.File] == file && int(l.Line) >= n && (best < 0 || l.Line < img.Lines[best].Line) {
			best = i
		}
	}
	return best, best >= 0
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// sourceFile finds the program's source file by its name or its last element.
func (s *Session) sourceFile(name string) (string, bool) {
	files := s.m.Process().Image().Files
	for _, f := range files {
		if f == name {
			return f, true
		}
	}
	for _, f := range files {
		if filepath.Base(f) == filepath.Base(name) {
			return f, true
		}
	}
	return "", false
}

// setBreakpoints makes the machine's breakpoints those of the enabled code breakpoints.
func (s *Session) setBreakpoints() error {
	want := map[uint64]bool{}
	for _, b := range s.bps {
		if b.kind == bpCode && b.counted() {
			want[b.addr] = true
		}
	}
	for _, a := range s.m.Breakpoints() {
		if !want[a] {
			s.m.ClearBreakpoint(a)
		}
	}
	for a := range want {
		if err := s.m.SetBreakpoint(a); err != nil {
			return err
		}
	}
	return nil
}

// until returns what a run forward stops for, besides what the command asks: the
// watchpoints, the syscalls caught and the switches broken at.
func (s *Session) until(u vm.Until) vm.Until {
	for _, b := range s.bps {
		if !b.counted() {
			continue
		}
		switch b.kind {
		case bpWatch:
			u.Watch = append(u.Watch, b.watch)
		case bpSyscall:
			if b.anySyscall {
				u.AllSyscalls = true
			} else {
				u.Syscalls = append(u.Syscalls, b.syscall)
			}
		case bpSwitch:
			u.Switch = true
		}
	}
	return u
}

// breakHit decides whether a stop at a breakpoint, a watchpoint, a syscall or a switch is one
// the user's breakpoints ask for: their conditions hold, their ignore counts are spent and their
// hit conditions hold. It counts the hits, prints the messages of the log points reached
// (which do not stop), deletes a tbreak hit, and says which stopped the run.
func (s *Session) breakHit(st vm.Stop) bool {
	var hit, logged []*breakpoint
	for _, b := range s.bps {
		if !b.counted() || !b.matches(st) {
			continue
		}
		if !b.enabled {
			// Disabled, with a hit condition: the hit is a place of the run, and is
			// recorded, but it is not one the session has seen (already hit), and it
			// neither stops, nor prints, nor spends an ignore count.
			if s.holds(b, st.Thread) {
				b.record(st)
			}
			continue
		}
		if b.cond != "" {
			v, err := s.eval(b.cond, st.Thread)
			if err != nil {
				fmt.Fprintf(s.out, "[the condition of %s %d cannot be evaluated: %v; it stops]\n", b.what(), b.id, err)
			} else if v == 0 {
				continue
			}
		}
		b.hits++ // a crossing ignored is a hit too, as gdb counts them
		n := 0
		if b.hitCond.set() {
			n = b.record(st)
		}
		if b.ignore > 0 {
			b.ignore--
			continue
		}
		if b.hitCond.set() && (n == 0 || !b.hitCond.holds(n)) {
			continue
		}
		if b.log != nil {
			logged = append(logged, b)
			continue
		}
		hit = append(hit, b)
	}
	if len(hit) > 0 {
		s.hit = hit
	}
	for _, b := range logged {
		s.logHit(b, st)
		if b.temp {
			s.deleteBreakpoint(b.id)
		}
	}
	for _, b := range hit {
		// advance and until's own breakpoint (no id), and a silent one, stop without a word.
		if b.id > 0 && !b.silent {
			s.announce(b, st)
		}
		if b.temp {
			s.deleteBreakpoint(b.id)
		}
	}
	return len(hit) > 0
}

func (b *breakpoint) matches(st vm.Stop) bool {
	switch b.kind {
	case bpCode:
		return st.Kind == vm.StopBreakpoint && st.Trap == nil && st.PC == b.addr &&
			(b.thread == nil || st.Thread != nil && idOf(st.Thread) == *b.thread)
	case bpWatch:
		return st.Kind == vm.StopWatchpoint && st.Watch != nil && st.Watch.Addr == b.watch.Addr && st.Watch.Len == b.watch.Len
	case bpSyscall:
		return st.Kind == vm.StopSyscall && (b.anySyscall || st.Syscall == b.syscall)
	case bpSwitch:
		return st.Kind == vm.StopSwitch && (b.toThread == nil || st.Thread != nil && idOf(st.Thread) == *b.toThread)
	}
	return false
}

// announce says which breakpoint stopped the run.
func (s *Session) announce(b *breakpoint, st vm.Stop) {
	switch b.kind {
	case bpWatch:
		w := st.Watch
		fmt.Fprintf(s.out, "%s\nOld value = %s\nNew value = %s\n", s.paint(stopColor, fmt.Sprintf("Watchpoint %d: %s", b.id, b.spec)), hexBytes(w.Old), hexBytes(w.New))
	case bpSyscall:
		fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("Catchpoint %d (syscall %s)", b.id, sysName(st.Syscall))))
	case bpSwitch:
		fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("%s %d (switch to thread %s)", b.title(), b.id, threadName(st.Thread))))
	default:
		fmt.Fprintln(s.out, s.paint(stopColor, fmt.Sprintf("%s %d, %s", b.title(), b.id, s.symbolize(st.Thread, st.PC))))
	}
}

// hexBytes shows a watched value: as a little-endian integer when it is 1, 2, 4 or 8 bytes,
// and as bytes otherwise.
func hexBytes(b []byte) string {
	switch len(b) {
	case 1, 2, 4, 8:
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return fmt.Sprintf("%d (%#x)", int64(v), v)
	}
	return fmt.Sprintf("% x", b)
}

func (s *Session) deleteBreakpoint(id int) bool {
	for i, b := range s.bps {
		if b.id == id {
			s.bps = append(s.bps[:i], s.bps[i+1:]...)
			s.setBreakpoints()
			return true
		}
	}
	return false
}

func (s *Session) breakpoint(id int) *breakpoint {
	for _, b := range s.bps {
		if b.id == id {
			return b
		}
	}
	return nil
}

func (s *Session) addBreakpoint(b *breakpoint) *breakpoint {
	s.nextBP++
	b.id, b.enabled = s.nextBP, true
	s.bps = append(s.bps, b)
	s.setBreakpoints()
	return b
}
