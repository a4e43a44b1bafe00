package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// Frames: the selected frame of the current thread's backtrace, which frame, up and down
// choose, and what is read in it.
//
// Frame 0 is where the thread is. Selecting another changes what the thread does in nothing: it
// changes what pc, sp and fp mean in expressions (the frame's values, as backtrace finds them),
// what info frame and info locals describe, and where list centres. Every run of the machine,
// forward or back, and every change of the current thread selects frame 0 again, as gdb does
// at a stop: a frame of the stack as it was says nothing of the stack as it is.

// selectFrame selects frame n of the current thread; the next list centres on it.
func (s *Session) selectFrame(n int) {
	s.frame = n
	s.listed = listing{}
}

// stack returns the current thread, for a command that reads its stack.
func (s *Session) stack() (*vm.Thread, error) {
	if s.ended != nil {
		return nil, errors.New("no stack: the program has ended (reverse commands go back; run starts it again)")
	}
	return s.thread()
}

// selected returns the current thread and its frames from the selected one outwards, at most
// n of them (n >= 1). A frame that is no longer on the stack (a set changed it under it)
// selects frame 0 again.
func (s *Session) selected(n int) (*vm.Thread, []vm.Frame, error) {
	t, err := s.stack()
	if err != nil {
		return nil, nil, err
	}
	frames := s.m.Backtrace(t, s.frame+n)
	if s.frame >= len(frames) {
		s.selectFrame(0)
	}
	return t, frames[s.frame:], nil
}

// frameOf returns the frame in which expressions read thread t: the selected frame of the
// current thread, and frame 0 of any other.
func (s *Session) frameOf(t *vm.Thread) vm.Frame {
	if t == s.cur && s.frame > 0 {
		if _, fr, err := s.selected(1); err == nil {
			return fr[0]
		}
	}
	return s.m.Backtrace(t, 1)[0]
}

// frameReg returns the selected frame's value of register name, pc, sp or fp, when t is the
// current thread and a frame other than 0 is selected; ok is false for any other register,
// thread or frame, which reads the thread's registers.
func (s *Session) frameReg(t *vm.Thread, name string) (v uint64, ok bool) {
	r, isReg := isa.ParseReg(name)
	if t == nil || t != s.cur || s.frame == 0 || name != "pc" && !(isReg && (r == isa.SP || r == isa.FP)) {
		return 0, false
	}
	f := s.frameOf(t)
	switch {
	case s.frame == 0: // the frame was no longer on the stack
		return 0, false
	case name == "pc":
		return f.PC, true
	case r == isa.SP:
		return f.SP, true
	}
	return f.FP, true
}

// setInFrame refuses a set of register name, pc, sp or fp, while a frame other than 0 is
// selected: there it names the frame's value, which is not a register of the thread, and
// setting the thread's instead would not change what print shows.
func (s *Session) setInFrame(name string) error {
	if _, ok := s.frameReg(s.cur, name); !ok {
		return nil
	}
	return fmt.Errorf("set %s: frame %d is selected, where %s is the frame's and not a register of the thread; "+
		"frame 0 selects the thread's (or set a saved word with set *ADDR = EXPR: info locals shows where they are)", name, s.frame, name)
}

// framePC returns the selected frame's pc: where the current thread is, in frame 0, and a
// caller's call in another.
func (s *Session) framePC() uint64 {
	if pc, ok := s.frameReg(s.cur, "pc"); ok {
		return pc
	}
	return s.cur.PCAddr()
}

// maxFrames bounds a frame number: more than any stack holds, and far from overflowing.
const maxFrames = 1 << 20

// frameNumber reads a frame number: 0 or more.
func frameNumber(arg string) (int, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a frame number: want 0 or more (backtrace numbers the frames)", arg)
	}
	return n, nil
}

func (s *Session) cmdFrame(arg string) error {
	if arg == "" {
		if s.ended != nil {
			s.showEnd(*s.ended)
			return nil
		}
		t, fr, err := s.selected(1)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "[step %d]\n", s.m.Steps())
		if s.frame == 0 {
			s.showWhere(t)
		} else {
			s.showFrame(t, s.frame, fr[0])
		}
		return nil
	}
	n, err := frameNumber(arg)
	if err != nil {
		return err
	}
	return s.moveFrame(n, func(outer int) error {
		t, _ := s.stack()
		if outer == 0 {
			return fmt.Errorf("no frame %d: thread %s has only frame 0 (backtrace lists its frames)", n, threadName(t))
		}
		return fmt.Errorf("no frame %d: thread %s has frames 0 to %d (backtrace lists them)", n, threadName(t), outer)
	})
}

func (s *Session) cmdUp(arg string) error {
	n, err := count(arg)
	if err != nil {
		return err
	}
	return s.moveFrame(s.frame+min(n, maxFrames), func(outer int) error {
		if outer > s.frame {
			return nil // as in gdb, up N goes as far up as there are frames
		}
		fr := s.m.Backtrace(s.cur, outer+1)
		return fmt.Errorf("up: frame %d, %s, is the outermost: the backtrace finds no caller of it", outer, frameName(fr[outer]))
	})
}

func (s *Session) cmdDown(arg string) error {
	n, err := count(arg)
	if err != nil {
		return err
	}
	if s.frame == 0 {
		if _, err := s.stack(); err != nil {
			return err
		}
		return errors.New("down: frame 0, where the thread is, is selected: it is the innermost, and no frame is below it")
	}
	return s.moveFrame(max(0, s.frame-n), nil)
}

// moveFrame selects frame n of the current thread, and shows it. If the stack has no frame
// n, short says what to do: called with the outermost frame's number, it returns the
// command's error, or nil to select that frame.
func (s *Session) moveFrame(n int, short func(outer int) error) error {
	t, err := s.stack()
	if err != nil {
		return err
	}
	n = min(max(n, 0), maxFrames)
	frames := s.m.Backtrace(t, n+1)
	if n >= len(frames) {
		outer := len(frames) - 1
		if short != nil {
			if err := short(outer); err != nil {
				return err
			}
		}
		n = outer // the stack is shorter than asked (or than it was, after a set): its end
	}
	s.selectFrame(n)
	s.showFrame(t, n, frames[n])
	return nil
}

// frameLine is frame n of thread t's line of a backtrace: its number, then its address named
// as every stop names one, by the nearest label (fib.base, or fib+28) and the source line.
func (s *Session) frameLine(t *vm.Thread, n int, f vm.Frame) string {
	return fmt.Sprintf("#%d  %s", n, s.symbolize(t, f.PC))
}

// showFrame shows frame n as frame, up and down do: its line of the backtrace, then its
// source line.
func (s *Session) showFrame(t *vm.Thread, n int, f vm.Frame) {
	fmt.Fprintln(s.out, s.paint(whereColor, s.frameLine(t, n, f)))
	s.showLine(f.Where)
}

// ownsFrame reports whether frame fr[0] has a frame of its own at its fp, as enter makes one,
// given its caller fr[1] if the backtrace found one. A function that has not run enter yet,
// has run leave, or never makes a frame (a leaf) has its caller's fp; the backtrace found its
// caller from the return address at sp, which leaves fp as it was. The loader starts a thread
// with fp = 0, which is no frame.
func ownsFrame(fr []vm.Frame) bool {
	if fr[0].FP == 0 {
		return false
	}
	return len(fr) < 2 || fr[1].FP != fr[0].FP || fr[1].SP != fr[0].SP+8
}

// A Local is one word of a frame, at an offset from its fp, as docs/isa.md lays the frame
// out: the return address at 8(fp), the caller's fp at 0(fp), and the words the function
// reserved and pushed, from -8(fp) down to sp.
type Local struct {
	Off   int64  // from fp
	Addr  uint64 // fp + Off
	Value uint64
	What  string // "return address", "saved fp", or "" for a word of the frame's own
}

// Locals returns the words of the selected frame of the current thread, from 8(fp) down to
// sp, as info locals shows them. A frame that has no frame of its own (see ownsFrame) has no
// words, and the error says why; so has a frame whose fp or sp is not inside its thread's
// stack, where a set has put it.
func (s *Session) Locals() ([]Local, error) {
	t, fr, err := s.selected(2)
	if err != nil {
		return nil, err
	}
	f := fr[0]
	switch {
	case f.FP == 0:
		return nil, fmt.Errorf("%s keeps no frame: its fp is 0, as the loader starts a thread", frameName(f))
	case !ownsFrame(fr):
		return nil, fmt.Errorf("%s keeps no frame here (it has not run enter, has run leave, or is a leaf): fp %#x is its caller's, and its return address is at sp, %#x", frameName(f), f.FP, f.SP)
	case f.SP > f.FP || f.FP < t.StackLo || f.FP+16 > t.StackHi || f.SP < t.StackLo:
		return nil, fmt.Errorf("%s's frame is not inside the stack of thread %s (%#x to %#x): fp %#x, sp %#x", frameName(f), threadName(t), t.StackLo, t.StackHi, f.FP, f.SP)
	}
	var locals []Local
	for addr := f.FP + 8; addr >= f.SP; addr -= 8 {
		l := Local{Off: int64(addr - f.FP), Addr: addr}
		var b [8]byte
		if err := t.Proc.ReadMemory(l.Addr, b[:]); err != nil {
			return nil, err
		}
		l.Value = binary.LittleEndian.Uint64(b[:])
		switch l.Off {
		case 8:
			l.What = "return address"
		case 0:
			l.What = "saved fp"
		}
		locals = append(locals, l)
	}
	return locals, nil
}

func (s *Session) infoLocals() error {
	locals, err := s.Locals()
	if err != nil {
		return err
	}
	t, fr, _ := s.selected(1)
	fmt.Fprintf(s.out, "frame %d, %s, of thread %s: fp %#x, sp %#x\n", s.frame, frameName(fr[0]), threadName(t), fr[0].FP, fr[0].SP)
	for _, l := range locals {
		line := fmt.Sprintf("%8s  %#x  %-14s %#18x %20d", fmt.Sprintf("%d(fp)", l.Off), l.Addr, l.What, l.Value, int64(l.Value))
		if name := s.symbolName(t, l.Value) + s.sourcePos(t, l.Value); l.Off == 8 && name != "" {
			line += " " + name
		}
		fmt.Fprintln(s.out, line)
	}
	return nil
}

// infoFrame describes the selected frame: where it is, its sp and fp, its caller, and where
// its fp and return address are saved.
func (s *Session) infoFrame() error {
	t, fr, err := s.selected(2)
	if err != nil {
		return err
	}
	f, level := fr[0], ""
	if s.frame > 0 {
		level = fmt.Sprintf(" %d", s.frame)
	}
	fmt.Fprintf(s.out, "frame%s of %s in thread %s: pc %s, sp %#x, fp %#x\n", level, frameName(f), threadName(t), s.symbolize(t, f.PC), f.SP, f.FP)
	if len(fr) > 1 {
		fmt.Fprintf(s.out, "called from %s\n", s.symbolize(t, fr[1].PC))
	}
	if s.frame > 0 {
		fmt.Fprintf(s.out, "caller of frame %d, %s\n", s.frame-1, frameName(s.m.Backtrace(t, s.frame)[s.frame-1]))
	}
	if f.FP != 0 && !ownsFrame(fr) {
		fmt.Fprintf(s.out, "no frame of its own here: fp is its caller's, and the return address is at sp\n")
	} else if f.FP != 0 {
		fmt.Fprintf(s.out, "saved fp at %#x (0(fp)), return address at %#x (8(fp)); info locals shows the frame's words\n", f.FP, f.FP+8)
	}
	return nil
}
