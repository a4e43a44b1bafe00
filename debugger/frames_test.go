package debugger

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/isa"
)

// atBottom starts a session on programs/frames.s summing 1..3, stopped at the deepest call:
// frames 0 to 3 are sum(0) to sum(3), frame 4 is main.
func atBottom(t *testing.T) *Session {
	t.Helper()
	p := program{name: "frames", img: assembleFile(t, "frames.s"), opts: testOptions(), stdin: []byte("3\n")}
	s := p.newSession(t, &bytes.Buffer{})
	exec(t, s, "break sum.bottom")
	exec(t, s, "run")
	return s
}

func evalOK(t *testing.T, s *Session, expr string) uint64 {
	t.Helper()
	v, err := s.eval(expr, s.cur)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestFrameRegisters: with frame N selected, pc, sp and fp and their aliases are frame N's,
// as backtrace finds them, and the other registers are the thread's.
func TestFrameRegisters(t *testing.T) {
	s := atBottom(t)
	frames := s.m.Backtrace(s.cur, 10)
	if len(frames) != 5 {
		t.Fatalf("%d frames at sum.bottom, want 5", len(frames))
	}
	a0 := s.cur.R[isa.A0]
	for n, f := range frames {
		exec(t, s, "frame "+string(rune('0'+n)))
		for expr, want := range map[string]uint64{
			"pc": f.PC, "$pc": f.PC, "sp": f.SP, "$sp": f.SP, "r15": f.SP, "fp": f.FP, "$fp": f.FP, "r14": f.FP,
			"a0": a0, "sp - fp": f.SP - f.FP,
		} {
			if got := evalOK(t, s, expr); got != want {
				t.Errorf("frame %d: %s = %#x, want %#x", n, expr, got, want)
			}
		}
		if n >= 1 && n <= 3 {
			// sum(n) keeps its n at -8(fp).
			if got := evalOK(t, s, "*(fp - 8)"); got != uint64(n) {
				t.Errorf("frame %d: *(fp - 8) = %d, want its n, %d", n, got, n)
			}
		}
	}
	if frames[1].SP == s.cur.R[isa.SP] || frames[1].PC == s.cur.PCAddr() {
		t.Fatal("frame 1's sp and pc are the thread's: the test tells nothing")
	}

	// A set of pc, sp or fp in frame 1 is refused and changes nothing; one of another
	// register sets the thread's.
	exec(t, s, "frame 1")
	sp := s.cur.R[isa.SP]
	for _, lhs := range []string{"sp", "$fp", "r15", "pc"} {
		err := s.Exec("set " + lhs + " = 8")
		if err == nil || !strings.Contains(err.Error(), "frame 1 is selected") {
			t.Errorf("set %s = 8 in frame 1: error %v, want a refusal", lhs, err)
		}
	}
	exec(t, s, "set a1 = 77")
	if s.cur.R[isa.SP] != sp || s.cur.R[isa.A1] != 77 || s.frame != 1 {
		t.Errorf("after the sets in frame 1: sp %#x (was %#x), a1 %d, frame %d", s.cur.R[isa.SP], sp, s.cur.R[isa.A1], s.frame)
	}
}

// TestFrameResets: every run forward or back, and a change of thread, select frame 0 again,
// even a run that comes back to the same step.
func TestFrameResets(t *testing.T) {
	s := atBottom(t)
	for _, cmd := range []string{"stepi", "reverse-stepi", "run", "thread 1", "reset"} {
		exec(t, s, "frame 2")
		if got := evalOK(t, s, "pc"); got == s.cur.PCAddr() {
			t.Fatalf("before %s: frame 2's pc is the thread's", cmd)
		}
		exec(t, s, cmd)
		if s.frame != 0 {
			t.Errorf("after %s: frame %d is selected, want 0", cmd, s.frame)
		}
		if got, want := evalOK(t, s, "pc"), s.cur.PCAddr(); got != want {
			t.Errorf("after %s: pc = %#x, want the thread's, %#x", cmd, got, want)
		}
		if cmd == "reset" {
			break
		}
		exec(t, s, "run")
	}
}

// TestLocals: the words of each frame from 8(fp) down to sp, as docs/isa.md lays them out.
func TestLocals(t *testing.T) {
	s := atBottom(t)
	frames := s.m.Backtrace(s.cur, 10)
	word := func(addr uint64) uint64 {
		var b [8]byte
		if err := s.cur.Proc.ReadMemory(addr, b[:]); err != nil {
			t.Fatal(err)
		}
		return binary.LittleEndian.Uint64(b[:])
	}
	retSum, _ := s.cur.Proc.Lookup("sum")
	retSum += 20 // after the call sum in sum
	for n, f := range frames[:4] {
		exec(t, s, "frame "+string(rune('0'+n)))
		got, err := s.Locals()
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		want := []Local{
			{Off: 8, Addr: f.FP + 8, Value: retSum, What: "return address"},
			{Off: 0, Addr: f.FP, Value: frames[n+1].FP, What: "saved fp"},
			{Off: -8, Addr: f.FP - 8, Value: word(f.FP - 8)},
		}
		if n == 3 {
			want[0].Value = frames[4].PC + isa.InstrSize // into main
		}
		if n > 0 && want[2].Value != uint64(n) {
			t.Errorf("frame %d: -8(fp) holds %d, want its n", n, want[2].Value)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("frame %d: Locals (-want +got):\n%s", n, diff)
		}
	}
	// main's frame: the loader's fp (0), its return address (the exit stub), and s0 and s1,
	// pushed after enter, down to sp.
	exec(t, s, "frame 4")
	got, err := s.Locals()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[1].Value != 0 || got[3].Addr != frames[4].SP || got[3].Off != -16 {
		t.Errorf("main's locals: %+v", got)
	}

	// fib at its first instruction has not run enter: its fp is main's, which is 0; one call
	// deeper, it is fib's caller's.
	fib := program{name: "fib", img: assembleFile(t, "fib.s"), opts: testOptions(), stdin: []byte("5\n")}
	s = fib.newSession(t, &bytes.Buffer{})
	if _, err := s.Locals(); err == nil || !strings.Contains(err.Error(), "its fp is 0") {
		t.Errorf("main of fib.s at its start: error %v, want fp 0", err)
	}
	exec(t, s, "break fib")
	exec(t, s, "run")
	exec(t, s, "continue")
	if _, err := s.Locals(); err == nil || !strings.Contains(err.Error(), "keeps no frame here") {
		t.Errorf("fib at its first instruction, called by fib: error %v, want no frame of its own", err)
	}
	exec(t, s, "up")
	main, _ := s.cur.Proc.Lookup("main")
	if l, err := s.Locals(); err != nil || len(l) != 4 || l[0].Value != main+12 {
		t.Errorf("fib(5)'s frame: %+v, %v; want the return address into main+12, the saved fp, and s0 and s1 pushed", l, err)
	}
}
