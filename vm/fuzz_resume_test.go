package vm_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
)

// FuzzResume runs a generated program with Run, and again with Resume in random chunks under
// random stop conditions (steps of the machine and of a thread, breakpoints set and cleared,
// switches, syscalls, returns, watchpoints), resuming after every stop until the run is over. Stopping must
// change nothing: the output, the end, the steps and the switches are the same. Each stop is
// checked against what was asked for.
func FuzzResume(f *testing.F) {
	for i, b := range randomSeeds(24) {
		f.Add(b, uint64(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, mode uint8) {
		p := progen.Generate(data, progen.Options{Threads: mode&1 != 0})
		opts := vm.Options{MaxSteps: p.MaxSteps, StackSize: fuzzStack, MaxMem: fuzzMaxMem, Args: fuzzArgs, VirtualClock: true}
		switch mode >> 1 % 3 {
		case 1:
			opts.Quantum = 1 + int64(mode%13)
		case 2:
			opts.Sched, opts.Seed, opts.Quantum = vm.SchedRandom, seed, 1+int64(mode%29)
		}
		run := func() (*vm.Machine, *bytes.Buffer) {
			var out bytes.Buffer
			o := opts
			o.Stdin, o.Stdout, o.Stderr = bytes.NewReader(p.Stdin), &out, &out
			m, err := vm.Load(p.Image, o)
			if err != nil {
				t.Skip(err) // a program too large for the fuzz limits
			}
			return m, &out
		}
		m, want := run()
		wantRes, wantErr := m.Run()

		m, got := run()
		rng := rand.New(rand.NewPCG(seed, uint64(mode)))
		text := uint64(len(p.Image.Text))
		var stops int
		var st vm.Stop
		for {
			if stops++; stops > 100_000 {
				t.Fatal("more than 100,000 stops")
			}
			// Breakpoints come and go at random instructions.
			if rng.IntN(4) == 0 {
				addr := isa.CodeAddr(rng.IntN(int(text)))
				if rng.IntN(2) == 0 {
					if err := m.SetBreakpoint(addr); err != nil {
						t.Fatal(err)
					}
				} else {
					m.ClearBreakpoint(addr)
				}
			}
			var u vm.Until
			if rng.IntN(2) == 0 {
				u.Steps = 1 + uint64(rng.IntN(300))
			}
			u.Switch = rng.IntN(5) == 0
			u.AllSyscalls = rng.IntN(6) == 0
			if rng.IntN(8) == 0 {
				u.Syscalls = []isa.Syscall{isa.Syscall(rng.IntN(40))}
			}
			var th *vm.Thread
			if st.Thread != nil && st.Thread.State != vm.Exited {
				th = st.Thread
			}
			if th != nil && rng.IntN(3) == 0 {
				u.Thread = th
				u.ThreadSteps = 1 + uint64(rng.IntN(50))
			}
			if th != nil && rng.IntN(5) == 0 {
				u.Thread = th
				u.Return = th.R[isa.SP] - 8*uint64(rng.IntN(3))
			}
			if procs := m.Processes(); len(procs) > 0 && rng.IntN(6) == 0 {
				// Watch some bytes of the main thread's stack or of the data.
				w := vm.Watch{Proc: procs[0], Addr: isa.DataBase - 256 + uint64(rng.IntN(256+len(p.Image.Data))), Len: 1 + rng.IntN(16)}
				if w.Proc.ReadMemory(w.Addr, make([]byte, w.Len)) == nil {
					u.Watch = []vm.Watch{w}
				}
			}
			var threadBefore uint64
			if u.Thread != nil {
				threadBefore = u.Thread.Steps
			}
			before := st.Steps
			var err error
			st, err = m.Resume(u)
			if err != nil {
				t.Fatal(err)
			}
			if st.Ended {
				break
			}
			if why := checkStop(m, u, st, before, threadBefore); why != "" {
				t.Fatalf("Resume(%+v) after %d steps: %s\nstop: %+v\n%s", u, before, why, st, listing(p.Image, p.Stdin))
			}
		}
		gotRes, gotErr := m.Run()
		_ = gotRes
		if fmt.Sprint(st.Err) != fmt.Sprint(wantErr) || got.String() != want.String() || st.Steps != wantRes.Steps {
			t.Fatalf("in one run: %v, %d steps, %q\nin %d Resumes: %v, %d steps, %q\n%s",
				wantErr, wantRes.Steps, want, stops, st.Err, st.Steps, got, listing(p.Image, p.Stdin))
		}
		if gotErr == nil {
			t.Fatal("Run after the Resumes ran")
		}
	})
}

// checkStop says what is wrong with stop st of Resume(u), made after before steps of the
// machine and threadBefore of u.Thread, or "".
func checkStop(m *vm.Machine, u vm.Until, st vm.Stop, before, threadBefore uint64) string {
	t := st.Thread
	if t == nil {
		return "no thread"
	}
	if st.PC != isa.CodeAddr(t.PC) {
		return fmt.Sprintf("pc %#x, but the thread's is %#x", st.PC, isa.CodeAddr(t.PC))
	}
	switch st.Kind {
	case vm.StopSteps:
		machine := u.Steps > 0 && st.Steps-before == u.Steps
		thread := u.ThreadSteps > 0 && u.Thread.Steps-threadBefore == u.ThreadSteps
		exited := u.ThreadSteps > 0 && u.Thread.State == vm.Exited // it takes no more steps
		if !machine && !thread && !exited {
			return fmt.Sprintf("%d steps, %d of the thread", st.Steps-before, u.Thread.Steps-threadBefore)
		}
	case vm.StopBreakpoint:
		if st.Trap != nil {
			break // ebreak
		}
		for _, a := range m.Breakpoints() {
			if a == st.PC {
				return ""
			}
		}
		return "no breakpoint there"
	case vm.StopSwitch:
		if !u.Switch || t.State != vm.Running {
			return "a switch not asked for"
		}
	case vm.StopSyscall:
		asked := u.AllSyscalls || len(u.Syscalls) > 0 && u.Syscalls[0] == st.Syscall
		if !asked {
			return "a syscall not asked for"
		}
	case vm.StopReturn:
		if u.Return == 0 || t != u.Thread {
			return "a return not asked for"
		}
	case vm.StopWatchpoint:
		if len(u.Watch) == 0 || st.Watch == nil {
			return "a watchpoint not asked for"
		}
		w := st.Watch
		now := make([]byte, w.Len)
		if err := w.Proc.ReadMemory(w.Addr, now); err != nil || bytes.Equal(w.Old, w.New) || !bytes.Equal(now, w.New) {
			return fmt.Sprintf("the watched bytes went from %x to %x, and are %x (%v)", w.Old, w.New, now, err)
		}
	case vm.StopTrapped:
		if st.Trap == nil {
			return "a trap without its report"
		}
	default:
		return "an unexpected kind of stop"
	}
	return ""
}
