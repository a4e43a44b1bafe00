package vm

import (
	"errors"
	"math/rand/v2"
)

// A Policy chooses which thread runs next: RoundRobin, Random or Focus. Options.Sched chooses
// the first; SetPolicy changes it between Resumes. The choice is made by fields of each
// processor that the loop reads where it chooses anyway (at check points and switches), so
// that no policy costs the loop a call.
type Policy interface {
	apply(c *cpu) error
}

// RoundRobin runs the threads of a process in turn, a quantum each, and the processes in turn,
// procQuantum slices each while others wait. It is the default, and drops a Focus.
type RoundRobin struct{}

// Random preempts a thread at a random instruction within its quantum, drawn from Seed, to
// expose races in programs that do not synchronize. It drops a Focus.
type Random struct{ Seed uint64 }

// Focus runs Thread alone, as a debugger's scheduler locking does: at every check point it
// keeps the processor, and the other threads, of its process and of the others, hold still.
//
// When Thread blocks, the others run under the policy in place (round robin or random) until
// it can go on, since one of them may be what it waits for (a mutex's holder, a channel's
// sender); it takes the processor back at the next check point after it is woken, within one
// quantum. Focus{nil} ends the focus.
type Focus struct{ Thread *Thread }

func (RoundRobin) apply(c *cpu) error {
	c.rng, c.pcg, c.focus = nil, nil, nil
	return nil
}

func (r Random) apply(c *cpu) error {
	c.pcg = rand.NewPCG(r.Seed, 0x5eed+uint64(c.id))
	c.rng = rand.New(c.pcg)
	c.focus = nil
	return nil
}

func (f Focus) apply(c *cpu) error {
	if f.Thread != nil && (c.multi || f.Thread.Proc.Machine.kernel != c.kernel) {
		return errors.New("vm: a focus needs a thread of a machine of one processor")
	}
	c.focus = f.Thread
	return nil
}

// SetPolicy makes p the scheduling policy from now on.
func (m *Machine) SetPolicy(p Policy) error {
	for _, c := range m.cpus {
		if err := p.apply(c); err != nil {
			return err
		}
	}
	return nil
}
