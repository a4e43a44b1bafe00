package debugger

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/vm"
)

// Hit counts. A hit of a breakpoint is a time the run reaches it with its condition holding,
// in any thread, ignored ones included, as gdb counts them. A breakpoint has two counts of them:
//
//   - hits, which info breakpoints says it has "already hit": every hit the session has seen
//     going forward, as gdb counts them. It only grows.
//   - the hits of the run, by which a hit condition (condition -hitcount, an editor's hit
//     count) decides. The number of a hit is its place in the run, counted from where the hit
//     condition was given, or from the start once the program starts again (run, reset,
//     reload). The run is the same every time, so going back takes the hits gone back over
//     off the count, and going forward over them again counts them once: a hit condition such
//     as == 5 is one place of the run, where continue stops going forward and reverse-continue
//     going back.
//
// The hits of the run are the steps at which forward runs came to the breakpoint: a run from
// the point it counts from comes to every one of them in turn, and a run of the same stretch
// again finds them already there. Before that point the breakpoint has no count, and its hit
// condition does not hold there. Only a breakpoint with a hit condition keeps them, 16 bytes a
// hit: the others have no use for them.

// A hitAt is a hit of the run: its step, and the thread that came to the breakpoint (two
// threads may come to one breakpoint at one step, one after the other without an instruction
// in between).
type hitAt struct {
	steps    uint64
	pid, tid int32
}

func hitOf(st vm.Stop) hitAt {
	h := hitAt{steps: st.Steps}
	if st.Thread != nil {
		h.pid, h.tid = int32(st.Thread.Proc.ID), int32(st.Thread.ID)
	}
	return h
}

// record notes the hit of the run at stop st, if the run had not come to it before, and returns
// its number: 1 for the first hit counted, and 0 for one before the point b counts from.
func (b *breakpoint) record(st vm.Stop) int {
	h := hitOf(st)
	i, found := b.find(h)
	if !found {
		b.runHits = append(b.runHits, hitAt{})
		copy(b.runHits[i+1:], b.runHits[i:])
		b.runHits[i] = h
	}
	return b.numberAt(i)
}

// number returns the number of the hit at stop st, if the run has counted it.
func (b *breakpoint) number(st vm.Stop) (int, bool) {
	i, found := b.find(hitOf(st))
	if !found {
		return 0, false
	}
	n := b.numberAt(i)
	return n, n > 0
}

// find returns where hit h is in the hits of the run, or where it goes: after the others at its
// step, which the run came to before it.
func (b *breakpoint) find(h hitAt) (int, bool) {
	end := sort.Search(len(b.runHits), func(i int) bool { return b.runHits[i].steps > h.steps })
	for i := end - 1; i >= 0 && b.runHits[i].steps == h.steps; i-- {
		if b.runHits[i].pid == h.pid && b.runHits[i].tid == h.tid {
			return i, true
		}
	}
	return end, false
}

// first returns the index of the first hit of the run that b counts: the first at or after
// step from, or after the hit the program was stopped at when the hit condition was given.
func (b *breakpoint) first() int {
	lo := sort.Search(len(b.runHits), func(j int) bool { return b.runHits[j].steps >= b.from })
	if b.given.pid != 0 {
		for j := lo; j < len(b.runHits) && b.runHits[j].steps == b.from; j++ {
			if b.runHits[j] == b.given {
				return j + 1
			}
		}
	}
	return lo
}

// numberAt is the number of the hit at index i of the hits of the run.
func (b *breakpoint) numberAt(i int) int {
	return max(0, i-b.first()+1)
}

// runCount returns how many hits the run has made up to step k, from the point b counts from.
func (b *breakpoint) runCount(k uint64) int {
	hi := sort.Search(len(b.runHits), func(j int) bool { return b.runHits[j].steps > k })
	return max(0, hi-b.first())
}

// recount makes every breakpoint count the hits of the run from the start: the program starts
// again. A new program (reload) has a new run, with none of the old one's hits.
func (s *Session) recount(newRun bool) {
	for _, b := range s.bps {
		b.from, b.given = 0, hitAt{}
		if newRun {
			b.runHits = nil
		}
	}
}

// forgetHits drops the hits of the run after step now, which a change of the past takes away.
func (s *Session) forgetHits(now uint64) {
	for _, b := range s.bps {
		i := sort.Search(len(b.runHits), func(j int) bool { return b.runHits[j].steps > now })
		b.runHits = b.runHits[:i]
	}
}

// A hitCondition says at which of its hits a breakpoint stops, by the number of the hit in the
// run: the forms that editors send (VS Code's hit count, delve's hitCondition).
type hitCondition struct {
	op string // >=, >, ==, !=, <, <= or %; "" for none
	n  int
}

// hitForms is what a hit condition may be, for the errors.
const hitForms = "want N, >= N, > N, == N, != N, < N, <= N or % N, with N a count of hits (N alone is >= N; % N stops at every Nth hit)"

// parseHitCondition reads a hit condition: "" is none.
func parseHitCondition(text string) (hitCondition, error) {
	h := strings.TrimSpace(text)
	if h == "" {
		return hitCondition{}, nil
	}
	op, num := ">=", h
	for _, o := range []string{">=", "<=", "==", "!=", ">", "<", "%"} {
		if rest, ok := strings.CutPrefix(h, o); ok {
			op, num = o, strings.TrimSpace(rest)
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 1<<30 || strings.HasPrefix(num, "+") {
		return hitCondition{}, fmt.Errorf("hit condition %q: %s", text, hitForms)
	}
	switch {
	case op == "%" && n == 0:
		return hitCondition{}, fmt.Errorf("hit condition %q: %% 0 divides by zero: %% N stops at every Nth hit, N from 1", text)
	case (op == "==" || op == "<=") && n == 0, op == "<" && n <= 1:
		return hitCondition{}, fmt.Errorf("hit condition %q never holds: the first hit is hit 1", text)
	}
	return hitCondition{op, n}, nil
}

func (h hitCondition) set() bool { return h.op != "" }

// holds reports whether the condition holds at hit number n.
func (h hitCondition) holds(n int) bool {
	switch h.op {
	case ">=":
		return n >= h.n
	case ">":
		return n > h.n
	case "==":
		return n == h.n
	case "!=":
		return n != h.n
	case "<":
		return n < h.n
	case "<=":
		return n <= h.n
	case "%":
		return n%h.n == 0
	}
	return true
}

func (h hitCondition) String() string { return fmt.Sprintf("%s %d", h.op, h.n) }

// describe says at which hits the condition holds, as info breakpoints shows it.
func (h hitCondition) describe() string {
	if h.op == "%" {
		return fmt.Sprintf("at the hits of the run numbered a multiple of %d", h.n)
	}
	return fmt.Sprintf("at the hits of the run numbered %s", h)
}

// CheckHitCondition reports whether text is a hit condition that condition -hitcount takes,
// and if not, why.
func CheckHitCondition(text string) error {
	_, err := parseHitCondition(text)
	return err
}

// stopsAt reports whether breakpoint b is one that stop st stops at: enabled, not a log point,
// with its condition holding there and its hit condition holding for the hit's number in the
// run. (Its ignore count is of the crossings to come, forward: not of this one.)
func (s *Session) stopsAt(b *breakpoint, st vm.Stop) bool {
	if !b.enabled || b.log != nil || !b.matches(st) || !s.holds(b, st.Thread) {
		return false
	}
	if b.hitCond.set() {
		n, ok := b.number(st)
		return ok && b.hitCond.holds(n)
	}
	return true
}

// conditionHits is condition -hitcount N [HITCOND]: breakpoint N stops only at the hits whose
// number in the run HITCOND accepts; none removes it.
func (s *Session) conditionHits(arg string) error {
	id, text, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if id == "" {
		return errors.New("condition -hitcount: N [HITCOND], such as condition -hitcount 1 >= 5 or condition -hitcount 1 % 2")
	}
	bs, err := s.ids(id)
	if err != nil {
		return err
	}
	h, err := parseHitCondition(text)
	if err != nil {
		return err
	}
	b := bs[0]
	if !b.hitCond.set() || !h.set() {
		// It counts from here: a hit condition changed keeps the count. Stopped where the
		// run came to b, that hit is behind: the run forward goes past it, and a run
		// forward over it again must not count it either.
		b.runHits, b.from, b.given = nil, s.m.Steps(), hitAt{}
		if st := s.stop; stoppedBy(st) && st.Steps == b.from && st.Thread != nil && b.matches(st) &&
			s.holds(b, st.Thread) {
			b.given = hitOf(st)
			b.runHits = []hitAt{b.given}
		}
	}
	b.hitCond = h
	return nil
}
