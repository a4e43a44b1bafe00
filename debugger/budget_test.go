package debugger

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/vm"
)

// The snapshot budget, filled: a long run that writes to many pages between any two
// checkpoints, under a budget that holds only a few of them, must thin its checkpoints to stay
// within the budget and still reach every step of the run.

// pagesSrc writes a word to each of 64 pages (256 KiB), ROUNDS times over: every checkpoint
// copies all of them, a quarter of budgetTest, whatever the distance between checkpoints. The
// word differs from round to round and from page to page, so that a page restored from the
// wrong snapshot changes the state.
const pagesSrc = `
        .bss
buf:    .space  64 * 4096

        .text
main:   li      s0, ROUNDS
.round: la      t0, buf
        li      t1, 64              # pages
.page:  add     t2, s0, t1
        sd      t2, 0(t0)
        addi    t0, t0, 4096
        addi    t1, t1, -1
        bnez    t1, .page
        addi    s0, s0, -1
        bnez    s0, .round
        li      a0, 0
        ret
`

// budgetTest is the budget the session on pagesSrc runs with: about seven of its checkpoints.
const budgetTest = 2 << 20

// pagesProgram is pagesSrc with its rounds, each of 324 steps.
func pagesProgram(t testing.TB, rounds int) program {
	opts := testOptions()
	opts.MaxMem = 1 << 20
	src := strings.Replace(pagesSrc, "ROUNDS", strconv.Itoa(rounds), 1)
	return program{name: "pages", img: assembleText(t, "pages.s", src), opts: opts}
}

// budgetSession is a session on p with a budget of budget bytes.
func budgetSession(t testing.TB, p program, budget uint64, out *bytes.Buffer) *Session {
	t.Helper()
	s, err := New(Config{Image: p.img, Options: p.opts, Budget: budget}, out)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// statesAt runs p alone to each of the steps in at, in increasing order, and returns the
// states there.
func (p program) statesAt(t *testing.T, at []uint64) map[uint64]state {
	t.Helper()
	m, _ := p.loadPlain(t)
	states := map[uint64]state{}
	for _, k := range at {
		if now := m.Steps(); k > now {
			st, err := m.Resume(vm.Until{Steps: k - now})
			if err != nil {
				t.Fatal(err)
			}
			if st.Ended {
				t.Fatalf("the plain run ended at step %d, before step %d", st.Steps, k)
			}
		}
		states[k] = stateOf(m)
	}
	return states
}

func TestBudgetFilled(t *testing.T) {
	p := pagesProgram(t, 12_000)
	var out bytes.Buffer
	s := budgetSession(t, p, budgetTest, &out)

	// To the end, in steps shorter than the distance between checkpoints, so that no two
	// checkpoints are taken in one command: what the snapshots hold is read after each.
	taken, peak, thinned := len(s.cps), s.m.SnapshotMem(), 0
	for s.ended == nil {
		last, interval := s.cps[len(s.cps)-1].steps, s.interval
		exec(t, s, "stepi 10000")
		if s.cps[len(s.cps)-1].steps != last {
			taken++
		}
		if s.interval > interval {
			thinned++
		}
		if mem := s.m.SnapshotMem(); mem > budgetTest {
			t.Fatalf("at step %d the snapshots hold %d bytes, past the budget of %d", s.m.Steps(), mem, budgetTest)
		} else {
			peak = max(peak, mem)
		}
	}
	end := s.m.Steps()
	t.Logf("%d steps: %d checkpoints taken, %d kept, thinned %d times, at most %d bytes held", end, taken, len(s.cps), thinned, peak)
	if thinned < 3 || len(s.cps) >= taken {
		t.Fatalf("the checkpoints were thinned %d times (%d taken, %d kept); want at least 3", thinned, taken, len(s.cps))
	}
	if peak < budgetTest*3/4 {
		t.Fatalf("the snapshots held at most %d bytes: the run did not fill the budget of %d", peak, budgetTest)
	}
	if s.cps[0].steps != 0 {
		t.Fatalf("the first checkpoint is at step %d, not at the start", s.cps[0].steps)
	}

	// Back from the end, to points across the whole run: the first and last steps, both sides
	// of a kept checkpoint, and between checkpoints that were released.
	mid := s.cps[len(s.cps)/2].steps
	targets := []uint64{0, 1, 65535, 65536, 65537, mid - 1, mid, mid + 1, end / 3, end / 2, end * 2 / 3, end - 100_000, end - 2, end - 1}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	want := p.statesAt(t, targets)
	r := &run{end: stateOf(s.m)}
	for i := len(targets) - 1; i >= 0; i-- {
		k := targets[i]
		line := fmt.Sprintf("reverse-stepi %d", s.m.Steps()-k)
		if s.m.Steps()-k == 1 {
			line = "reverse-stepi"
		}
		exec(t, s, line)
		if got := s.m.Steps(); got != k {
			t.Fatalf("%s went to step %d, not %d", line, got, k)
		}
		if diff := cmp.Diff(want[k], stateOf(s.m)); diff != "" {
			t.Fatalf("%s: at step %d the state is not the forward run's (-want +got):\n%s", line, k, diff)
		}
		if mem := s.m.SnapshotMem(); mem > budgetTest {
			t.Fatalf("%s: the snapshots hold %d bytes, past the budget of %d", line, mem, budgetTest)
		}
	}
	// At the start, a step back stays there and says so: no failure.
	exec(t, s, "reverse-stepi")
	if s.m.Steps() != 0 {
		t.Fatalf("reverse-stepi at the start went to step %d", s.m.Steps())
	}

	// And forward again, over the same ground, to the same end.
	exec(t, s, "continue")
	if s.ended == nil {
		t.Fatalf("continue from the start stopped at step %d, not at the end", s.m.Steps())
	}
	r.check(t, s, "continue from the start")
}

// TestBudgetTooSmall: a budget that cannot hold the first snapshot is refused when the session
// starts, where it left a session with nothing to go back to, which failed at its first step.
func TestBudgetTooSmall(t *testing.T) {
	p := pagesProgram(t, 1)
	_, err := New(Config{Image: p.img, Options: p.opts, Budget: 64 << 10}, new(bytes.Buffer))
	if err == nil || !strings.Contains(err.Error(), "cannot hold the program's first snapshot") {
		t.Fatalf("a budget of 64 KiB for a program of 256 KiB: got %v", err)
	}
}
