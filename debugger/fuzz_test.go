package debugger

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// FuzzDebugger drives a session with a random sequence of commands (step, stepi, next, finish,
// until, advance, continue and the reverse commands), forwards and backwards,
// with breakpoints and watchpoints coming and going, and after each command compares the
// session's machine with a plain run (vm.Load and Resume) to the same step of the machine:
// wherever the commands have taken the session, it must be in the state the run had there.
//
// The programs are those of programs/ and programs/threads, with smaller counts, under
// schedules drawn from the input. vm/internal/progen, which vm's fuzz targets generate
// programs with, is internal to vm and cannot be imported from here; and the programs of
// programs/ have what a debugger needs to be tried on: source lines, calls with frames, a
// recursion, syscalls that read and write, threads that race or block, a trap.
//
// Thread focus with scheduler locking makes a run that differs from a plain one by design,
// so the fuzz focuses threads only with scheduler-locking off, where a step of the focused
// thread lets the others run as they would. Input is given up front (Config.Stdin): a restored
// machine fed a line at a time does not read as it first did (see TestReverseFedInput).
func FuzzDebugger(f *testing.F) {
	f.Add(uint8(0), uint64(1), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add(uint8(1), uint64(2), []byte{10, 3, 5, 9, 1, 12, 9, 0, 200, 11, 14, 9, 7, 3})
	f.Add(uint8(2), uint64(3), []byte{16, 4, 17, 8, 1, 9, 9, 2, 0, 0, 6, 13, 9, 12, 8})
	f.Add(uint8(3), uint64(4), []byte{1, 1, 1, 9, 8, 7, 5, 6, 9})
	f.Add(uint8(4), uint64(5), []byte{2, 9, 0, 10, 18, 4, 9, 11, 12, 5})
	f.Add(uint8(5), uint64(6), []byte{15, 40, 4, 1, 13, 10, 6, 9, 9, 9, 0, 200, 10})
	f.Add(uint8(6), uint64(7), []byte{17, 2, 16, 1, 3, 0, 9, 3, 0, 4, 6, 9, 12, 8, 11})
	f.Fuzz(func(t *testing.T, which uint8, seed uint64, cmds []byte) {
		ps := fuzzPrograms(t)
		p := ps[int(which)%len(ps)]
		if seed%3 == 1 {
			p.opts.Quantum = 1 + int64(seed/3%97)
		} else if seed%3 == 2 {
			p.opts.Sched, p.opts.Seed, p.opts.Quantum = vm.SchedRandom, seed, 1+int64(seed/3%97)
		}
		var out bytes.Buffer
		s := p.newSession(t, &out)
		s.interval = 1 + seed%61
		plain := &plainMachine{p: p}
		next := func() int {
			if len(cmds) == 0 {
				return 0
			}
			b := cmds[0]
			cmds = cmds[1:]
			return int(b)
		}
		for n := 0; len(cmds) > 0 && n < 40; n++ {
			line := fuzzCommand(s, p, next)
			err := s.Exec(line)
			if s.quit {
				break
			}
			plain.check(t, s, fmt.Sprintf("command %d, %q (error: %v)", n, line, err))
		}
	})
}

// fuzzCommand makes a command line of the next bytes.
func fuzzCommand(s *Session, p program, next func() int) string {
	text := len(p.img.Text)
	switch c := next() % 26; c {
	case 0:
		return "step"
	case 1:
		return fmt.Sprintf("stepi %d", 1+next())
	case 2:
		return "next"
	case 3:
		return "finish"
	case 4:
		return "continue"
	case 5:
		return fmt.Sprintf("reverse-stepi %d", 1+next())
	case 6:
		return "reverse-step"
	case 7:
		return "reverse-next"
	case 8:
		return "reverse-finish"
	case 9:
		return "reverse-continue"
	case 10:
		return fmt.Sprintf("break *%#x", isa.CodeAddr((next()<<8|next())%text))
	case 11:
		return fmt.Sprintf("tbreak *%#x", isa.CodeAddr((next()<<8|next())%text))
	case 12:
		return fmt.Sprintf("delete %d", 1+next()%8)
	case 13:
		return fmt.Sprintf("watch $sp%+d", 8*(next()%8-2))
	case 14:
		return fmt.Sprintf("watch %s", p.watch)
	case 15:
		return "set scheduler-locking off"
	case 16:
		if s.lock {
			return "set scheduler-locking off"
		}
		return fmt.Sprintf("thread %d", 1+next()%5)
	case 17:
		return fmt.Sprintf("continue %d", 1+next()%4)
	case 18:
		return "until"
	case 19:
		return fmt.Sprintf("advance *%#x", isa.CodeAddr((next()<<8|next())%text))
	case 21:
		// They change no state: the run after them must be the plain run.
		return []string{"frame 1", "up 2", "down", "info locals", "list", "list -", "info line", "info frame"}[next()%8]
	case 22:
		op := []string{"==", ">=", "%", "<", "!="}[next()%5]
		return fmt.Sprintf("condition -hitcount %d %s %d", 1+next()%8, op, 1+next()%5)
	case 23:
		return fmt.Sprintf(`condition -log %d "at {pc}, t0 {t0}"`, 1+next()%8)
	case 24:
		return fmt.Sprintf("enable %d", 1+next()%8)
	case 25:
		// They change no state either, and thread apply gives the focus back.
		return []string{"thread apply all bt", "info registers a0 sp pc", "thread apply 1 info registers t0"}[next()%3]
	default:
		return fmt.Sprintf("disable %d", 1+next()%8)
	}
}

var fuzzProgs struct {
	once sync.Once
	ps   []program
}

// fuzzPrograms returns the fuzz's programs, assembled once: those of the tests, with fib
// reading other numbers, and every program with a label to watch.
func fuzzPrograms(t *testing.T) []program {
	fuzzProgs.once.Do(func() {
		var ps []program
		for _, p := range programs(t) {
			if p.lines != nil {
				continue
			}
			p.watch = "$sp"
			switch p.name {
			case "race":
				p.watch = "counter"
			case "producer_consumer":
				p.watch = "count"
			}
			ps = append(ps, p)
		}
		for _, n := range []string{"5", "9", "x"} {
			p := ps[0]
			p.stdin = []byte(n + "\n")
			ps = append(ps, p)
		}
		fuzzProgs.ps = ps
	})
	return fuzzProgs.ps
}

// A plainMachine is a plain run of a program, which goes forward to the step of a session's
// machine, and starts over to go back.
type plainMachine struct {
	p     program
	m     *vm.Machine
	feed  func()
	ended bool
}

func (pm *plainMachine) check(t *testing.T, s *Session, what string) {
	t.Helper()
	k := s.m.Steps()
	if pm.m == nil || pm.m.Steps() > k || pm.ended {
		pm.m, pm.feed = pm.p.loadPlain(t)
		pm.ended = false
	}
	for !pm.ended && (s.ended != nil || pm.m.Steps() < k) {
		u := vm.Until{}
		if s.ended == nil {
			u.Steps = k - pm.m.Steps()
		}
		st, err := pm.m.Resume(u)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case st.Ended:
			pm.ended = true
		case st.Kind == vm.StopInput:
			pm.feed()
		}
	}
	if pm.ended != (s.ended != nil) {
		t.Fatalf("%s: the session is at step %d, ended %v; the plain run at step %d, ended %v",
			what, k, s.ended != nil, pm.m.Steps(), pm.ended)
	}
	if diff := cmp.Diff(stateOf(pm.m), stateOf(s.m)); diff != "" {
		t.Fatalf("%s: at step %d the state is not the plain run's (-plain +session):\n%s", what, k, diff)
	}
}
