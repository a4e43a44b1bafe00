package vm

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm/internal/progen"
)

// dump describes the whole state of machine m, a line a fact, for comparing two states: every
// process, thread, queue, channel, futex, timer, pipe and descriptor, memory by its hash, the
// processor's counters, the clock, and how far input and output have gone.
func dump(m *Machine) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	ids := func(q queue) string {
		var b strings.Builder
		for t := q.head; t != nil; t = t.next {
			fmt.Fprintf(&b, " %d.%d", t.Proc.ID, t.ID)
		}
		return b.String()
	}
	c := m.cpus[0]
	add("cpu: steps %d switches %d handoffs %d slice %d skipped %d procSlices %d now %d", c.steps, c.switches, c.handoffs, c.sliceStart, c.skipped, c.procSlices, c.now())
	if c.cur != nil {
		add("cpu: on process %d", c.cur.ID)
	}
	for _, p := range c.ready.ps {
		add("cpu: ready %d", p.ID)
	}
	if c.paused != nil {
		add("cpu: paused %d.%d %v", c.paused.Proc.ID, c.paused.ID, c.stopKind)
	}
	if c.pcg != nil {
		b, _ := c.pcg.MarshalBinary()
		add("cpu: rng %x", b)
	}
	// (Not how many steps have been published: on one processor that is bookkeeping, which
	// a stop at a step may do early.)
	add("machine: lastPid %d zombies %d ready %d threads %d pipes %d", m.lastPid, m.zombies, m.readyCount.Load(), m.threadCount.Load(), m.pipes)
	add("input: consumed %d skip %v waiting%s", m.in.consumed(), m.in.skip, ids(m.in.waiters))
	m.flush()
	add("output: %d %d", m.written[0].n, m.written[1].n)
	pipes := map[*pipe]bool{}
	for _, p := range m.procs {
		h := fnv.New64a()
		h.Write(p.mem)
		add("process %d: state %d exited %v status %d parent %d waited %v killed %v", p.ID, p.state, p.exited, p.exitCode, p.parent, p.waited, p.killed.Load())
		add("  memory %d bytes, hash %x; brk %#x; kmem %d", len(p.mem), h.Sum64(), p.brk, p.kmem.Load())
		add("  live %d nextTid %d dropped %d timerSeq %d; runq%s", p.live, p.nextTid, p.dropped, p.timerSeq, ids(p.runq))
		for _, ch := range p.children {
			add("  child %d", ch.ID)
		}
		for _, w := range p.waiters {
			add("  waiter %d.%d", w.Proc.ID, w.ID)
		}
		for _, tm := range p.timers {
			add("  timer %d.%d at %d seq %d", tm.Proc.ID, tm.ID, tm.waitOn, tm.seq)
		}
		for i, ch := range p.chans {
			add("  chan %d: %v head %d n %d closed %v send%s recv%s", i+1, ch.buf, ch.head, ch.n, ch.closed, ids(ch.sendq), ids(ch.recvq))
		}
		for _, a := range slices.Sorted(maps.Keys(p.futex)) {
			add("  futex %#x:%s", a, ids(*p.futex[a]))
		}
		for _, size := range slices.Sorted(maps.Keys(p.freeStacks)) {
			add("  free stacks of %d: %v", size, p.freeStacks[size])
		}
		for i, fd := range p.fds {
			id := 0
			if fd.pipe != nil {
				id = fd.pipe.id
				pipes[fd.pipe] = true
			}
			add("  fd %d: kind %d pipe %d", i, fd.kind, id)
			if f := fd.file; f != nil {
				add("    file: refs %d listed %v next %d charged %d", f.refs, f.listed, f.next, f.charged)
			}
			if s := fd.sock; s != nil {
				add("    socket: refs %d closed %v accepting %v accepted %v reading %v rbuf %q rerr %v writing %v shut %v %v rq%s wq%s",
					s.refs, s.closed, s.accepting, s.accepted != nil, s.reading, s.rbuf, s.rerr, s.writing, s.rdShut, s.wrShut, ids(s.rq), ids(s.wq))
			}
		}
		for _, t := range p.threads {
			joiner := 0
			if t.joiner != nil {
				joiner = t.joiner.ID
			}
			add("  thread %d: %v pc %d regs %x", t.ID, t.State, t.PC, t.R)
			add("    wait %d on %d val %d recv %d value %d joiner %d dropped %v stack %#x-%#x steps %d switches %d",
				t.wait, t.waitOn, t.waitVal, t.thenRecv, t.value, joiner, t.dropped, t.StackLo, t.StackHi, t.Steps, t.Switches)
		}
	}
	for _, pp := range slices.SortedFunc(maps.Keys(pipes), func(a, b *pipe) int { return a.id - b.id }) {
		add("pipe %d: %q readers %d writers %d rq%s wq%s maker %d", pp.id, pp.buf, pp.readers, pp.writers, ids(pp.rq), ids(pp.wq), pp.maker.ID)
	}
	return d
}

// FuzzSnapshot runs a generated program to step k and takes a snapshot, runs n more steps to
// a state X with output O, restores the snapshot and runs the n steps again: the state must be
// the snapshot's right after the Restore, and X and O again after the n steps. A plain run to
// step k+n must reach X too.
func FuzzSnapshot(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 16 {
		b := make([]byte, 32+i*16)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		f.Add(b, uint16(1+i*7), uint16(1+i*13), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, k16, n16 uint16, mode uint8) {
		k, n := 1+uint64(k16), 1+uint64(n16) // Steps: 0 would not stop at a step
		p := progen.Generate(data, progen.Options{Threads: mode&1 != 0})
		opts := Options{MaxSteps: p.MaxSteps, StackSize: 4096, MaxMem: 1 << 16, Args: []string{"prog", "arg"}, VirtualClock: true}
		switch mode >> 1 % 3 {
		case 1:
			opts.Quantum = 1 + int64(mode%13)
		case 2:
			opts.Sched, opts.Seed, opts.Quantum = SchedRandom, k, 1+int64(mode%29)
		}
		load := func() (*Machine, *bytes.Buffer) {
			var out bytes.Buffer
			o := opts
			o.Stdin, o.Stdout, o.Stderr = bytes.NewReader(p.Stdin), &out, &out
			m, err := Load(p.Image, o)
			if err != nil {
				t.Skip(err)
			}
			return m, &out
		}
		m, out := load()
		if st := resume(t, m, Until{Steps: k}); st.Ended {
			return
		}
		snap, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		atSnap := dump(m)
		stX := resume(t, m, Until{Steps: n})
		if stX.Ended {
			return // a dump after the end says little: memory is given back
		}
		x, o := dump(m), out.String()[snap.Output[0]+snap.Output[1]:] // both streams go to out
		before := out.Len()
		// A second snapshot holds only the pages written since the first: restored after the
		// run below has changed memory again, it must give X back.
		snapX, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}

		if err := m.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(atSnap, dump(m)); diff != "" {
			t.Fatalf("after Restore, the state is not the snapshot's (-snapshot +restored):\n%s", diff)
		}
		stY := resume(t, m, Until{Steps: n})
		if diff := cmp.Diff(x, dump(m)); diff != "" || stY.Kind != stX.Kind {
			t.Fatalf("after Restore and %d steps, %v; the first time %v (-first +again):\n%s", n, stY.Kind, stX.Kind, diff)
		}
		if again := out.String()[before:]; again != o {
			t.Fatalf("after Restore, the output is %q; the first time %q", again, o)
		}
		if st := resume(t, m, Until{Steps: n}); !st.Ended {
			if err := m.Restore(snapX); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(x, dump(m)); diff != "" {
				t.Fatalf("the second snapshot restored is not X (-X +restored):\n%s", diff)
			}
		}

		m2, _ := load()
		if st := resume(t, m2, Until{Steps: k + n}); st.Ended {
			t.Fatalf("a plain run ended before step %d: %+v", k+n, st)
		}
		if diff := cmp.Diff(x, dump(m2)); diff != "" {
			t.Fatalf("a plain run to step %d differs (-with snapshot +plain):\n%s", k+n, diff)
		}
	})
}

// TestSnapshotPrograms takes snapshots of programs with threads, processes, pipes, channels,
// sleeps and input at random steps, then restores each, in a random order, and compares the
// state with the one it was taken in; from the first, the run must end as it did.
func TestSnapshotPrograms(t *testing.T) {
	for _, tt := range []struct {
		file, stdin string
		opts        Options
	}{
		{"threads/race.s", "", Options{Sched: SchedRandom, Seed: 1, Quantum: 100}},
		{"threads/producer_consumer.s", "", Options{Quantum: 50}},
		{"threads/philosophers_fixed.s", "", Options{Sched: SchedRandom, Seed: 3, Quantum: 30}},
		{"threads/sleepers.s", "", Options{}},
		{"processes/pipeline.s", "", Options{Quantum: 40}},
		{"processes/parallel_sum.s", "", Options{Quantum: 70}},
		{"sort.s", "5 3 9 1 7 2\n", Options{}},
		{"fib.s", "18", Options{}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			tt.opts.VirtualClock = true
			m, _ := loadFile(t, tt.file, tt.stdin, tt.opts)
			total := finish(t, m).Steps
			m, out := loadFile(t, tt.file, tt.stdin, tt.opts)
			rng := rand.New(rand.NewPCG(1, 2))
			var snaps []*Snapshot
			var states [][]string
			var outs []int
			for {
				st := resume(t, m, Until{Steps: 1 + rng.Uint64N(total/10)}) // about 20 snapshots
				if st.Ended {
					if st.Err != nil {
						t.Fatal(st.Err)
					}
					break
				}
				s, err := m.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				snaps, states, outs = append(snaps, s), append(states, dump(m)), append(outs, out.Len())
			}
			if len(snaps) < 3 {
				t.Fatalf("only %d snapshots", len(snaps))
			}
			want := out.String()[outs[0]:]
			for _, i := range rng.Perm(len(snaps)) {
				if err := m.Restore(snaps[i]); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(states[i], dump(m)); diff != "" {
					t.Fatalf("snapshot %d (-taken +restored):\n%s", i, diff)
				}
				if o, e := m.Output(); o+e != uint64(outs[i]) {
					t.Errorf("snapshot %d says %d bytes were written; %d were", i, o+e, outs[i])
				}
			}
			if err := m.Restore(snaps[0]); err != nil {
				t.Fatal(err)
			}
			mark := out.Len()
			if st := finish(t, m); st.Err != nil || out.String()[mark:] != want {
				t.Errorf("%+v; output from the first snapshot %q, want %q", st, out.String()[mark:], want)
			}
			// The last snapshot holds only the pages written since the one before.
			if copied, total := snaps[len(snaps)-1].Pages(); copied >= total {
				t.Errorf("the last snapshot copied %d of %d pages", copied, total)
			}
		})
	}
}

func TestSnapshotRefusals(t *testing.T) {
	for _, opts := range []Options{{}, {VirtualClock: true, Stats: true}, {CPUs: 2}} {
		m, _ := loadFile(t, "hello.s", "", opts)
		if _, err := m.Snapshot(); err == nil {
			t.Errorf("a snapshot with %+v", opts)
		}
	}
	m, _ := loadFile(t, "hello.s", "", Options{VirtualClock: true})
	s, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := loadFile(t, "hello.s", "", Options{VirtualClock: true})
	if err := other.Restore(s); err == nil {
		t.Error("a snapshot restored into another machine")
	}
	finish(t, m)
	if _, err := m.Snapshot(); err == nil {
		t.Error("a snapshot after the end")
	}
}

// tenPages is a program with 1 MiB of memory that writes 10 pages of it each round, and
// stops at round when a breakpoint is set there.
const tenPages = `
        .bss
buf:    .space  1048576
        .text
main:   li      s1, 0
round:  inc     s1
        la      t1, buf
        li      t2, 4096
        li      t0, 10
.page:  sd      s1, 0(t1)
        add     t1, t1, t2
        dec     t0
        bnez    t0, .page
        j       round
`

// loadTenPages loads tenPages, runs it to its first round and takes a snapshot there.
func loadTenPages(t testing.TB, opts Options) (*Machine, *Snapshot) {
	img, err := asm.Assemble("ten.s", []byte(tenPages), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.VirtualClock = true
	m, err := Load(img, opts)
	if err != nil {
		t.Fatal(err)
	}
	round, _ := m.proc.Lookup("round")
	if err := m.SetBreakpoint(round); err != nil {
		t.Fatal(err)
	}
	if st, err := m.Resume(Until{}); err != nil || st.Kind != StopBreakpoint {
		t.Fatalf("%+v, %v", st, err)
	}
	s, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestSnapshotPages checks that a snapshot copies the pages written since the one before, and
// no others, and what snapshots hold together: counted, given back, and capped.
func TestSnapshotPages(t *testing.T) {
	m, first := loadTenPages(t, Options{})
	copied, total := first.Pages()
	if copied != total || total < 256 { // the stack, and 1 MiB of data
		t.Fatalf("the first snapshot copied %d of %d pages, want all of them", copied, total)
	}
	held := m.SnapshotMem()
	if held < uint64(total)*PageSize || held != first.Size() {
		t.Fatalf("the snapshots hold %d bytes, the first snapshot's size is %d", held, first.Size())
	}
	var snaps []*Snapshot
	var states [][]string
	for range 5 {
		resume(t, m, Until{})
		s, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if copied, total := s.Pages(); copied != 10 || total != first.pagesTotal {
			t.Fatalf("a snapshot after a round copied %d of %d pages, want the 10 written", copied, total)
		}
		snaps, states = append(snaps, s), append(states, dump(m))
	}
	for i, s := range snaps {
		if err := m.Restore(s); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(states[i], dump(m)); diff != "" {
			t.Fatalf("snapshot %d (-taken +restored):\n%s", i, diff)
		}
	}
	// The snapshots share the pages not written between them: the five after the first hold
	// 10 pages each, and their objects.
	var sizes uint64
	for _, s := range snaps {
		sizes += s.Size()
	}
	if got := m.SnapshotMem(); got != held+sizes || sizes < 50*PageSize || sizes > 60*PageSize {
		t.Errorf("the snapshots hold %d bytes; the first %d, the others %d", got, held, sizes)
	}
	// Released, a snapshot gives back what no other holds, and cannot be restored.
	first.Release()
	if got, want := m.SnapshotMem(), sizes+uint64(total-10)*PageSize; got != want {
		t.Errorf("after the first is released, the snapshots hold %d bytes; want %d", got, want)
	}
	if err := m.Restore(first); err == nil {
		t.Error("a released snapshot restored")
	}
	for _, s := range snaps {
		s.Release()
	}
	if got := m.SnapshotMem(); got != 0 {
		t.Errorf("all released, the snapshots hold %d bytes", got)
	}

	// Capped: a snapshot past the limit fails and changes nothing; the next, once there is
	// room, holds the pages written since the last that succeeded.
	m, first = loadTenPages(t, Options{MaxSnapshotMem: 4 << 20})
	resume(t, m, Until{})
	if _, err := m.Snapshot(); err != nil {
		t.Fatal(err)
	}
	resume(t, m, Until{})
	m.opts.MaxSnapshotMem = m.SnapshotMem() + 5*PageSize
	if _, err := m.Snapshot(); !errors.Is(err, ErrSnapshotMem) {
		t.Fatalf("%v, want ErrSnapshotMem", err)
	}
	first.Release()
	state := dump(m)
	s, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	resume(t, m, Until{})
	if err := m.Restore(s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(state, dump(m)); diff != "" {
		t.Fatalf("after a refused snapshot (-taken +restored):\n%s", diff)
	}
}

// BenchmarkSnapshot measures a snapshot of a program with 2 MiB of memory (its stack and 1 MiB
// of data) that writes 10 pages between snapshots, each released after the next is taken. An
// op is a round of the program and a snapshot; ns/snapshot is the snapshot's part.
func BenchmarkSnapshot(b *testing.B) {
	m, last := loadTenPages(b, Options{})
	var copied uint64
	var took time.Duration
	for b.Loop() {
		if _, err := m.Resume(Until{}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		s, err := m.Snapshot()
		took += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		last.Release()
		last = s
		copied += s.Size()
	}
	b.ReportMetric(float64(took.Nanoseconds())/float64(b.N), "ns/snapshot")
	b.ReportMetric(float64(copied)/float64(b.N), "bytes/snapshot")
	b.ReportMetric(float64(m.SnapshotMem()), "bytes-held")
}

// TestSnapshotInputChunks restores a machine fed its input a line at a time: the run after the
// Restore reads the lines as they came, one a read, and reaches the end of the input where the
// first run did.
func TestSnapshotInputChunks(t *testing.T) {
	m, out := loadFileFed(t, "echo.s")
	if st := resume(t, m, Until{}); st.Kind != StopInput {
		t.Fatalf("%+v, want a stop at the read", st)
	}
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var reads []uint64 // the steps at which each read returned
	for _, line := range []string{"one\n", "two two\n", "three\n"} {
		m.FeedInput([]byte(line), false)
		st := resume(t, m, Until{})
		reads = append(reads, st.Steps)
	}
	m.FeedInput(nil, true)
	end := finish(t, m)
	if err := m.Restore(snap); err != nil {
		t.Fatal(err)
	}
	// Stopped before every read: the first is the one the snapshot was taken at, and each
	// after it comes where the first run came to the next read and found no line.
	var got []uint64
	for range len(reads) + 1 {
		st := resume(t, m, Until{Syscalls: []isa.Syscall{isa.SysRead}})
		if st.Kind != StopSyscall {
			t.Fatalf("%+v, want a stop at a read", st)
		}
		got = append(got, st.Steps)
	}
	if diff := cmp.Diff(reads, got[1:]); diff != "" {
		t.Errorf("the steps of the reads after the Restore (-first run +restored):\n%s", diff)
	}
	again := finish(t, m)
	if again.Steps != end.Steps || again.ExitCode != end.ExitCode || !strings.HasPrefix(out.String(), "one\ntwo two\nthree\n") {
		t.Errorf("after the Restore: %+v, output %q; the first time %+v", again, out.String(), end)
	}
}
