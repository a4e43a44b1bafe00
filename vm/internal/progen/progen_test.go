package progen_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
)

func inputs(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var in [][]byte
	for range n {
		b := make([]byte, rng.IntN(600))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		in = append(in, b)
	}
	return append(in, nil, []byte{0xff})
}

// Every program loads, and the same bytes make the same program.
func TestGenerate(t *testing.T) {
	for _, b := range inputs(250) {
		for _, opts := range []progen.Options{{}, {Threads: true}} {
			p := progen.Generate(b, opts)
			if diff := cmp.Diff(p, progen.Generate(b, opts)); diff != "" {
				t.Fatalf("%q: two programs from the same bytes (-first +second):\n%s", b, diff)
			}
			if _, err := vm.Load(p.Image, vm.Options{StackSize: 4096, MaxMem: 1 << 16}); err != nil {
				t.Fatalf("%q %+v: %v", b, opts, err)
			}
		}
	}
}

// A threaded program ends well within its budget, by exit, halt, or the ebreak it may end
// with, and never traps otherwise.
func TestThreadedEnds(t *testing.T) {
	for _, b := range inputs(150) {
		p := progen.Generate(b, progen.Options{Threads: true})
		res, err := vm.Run(p.Image, vm.Options{StackSize: 4096, MaxMem: 1 << 16, MaxSteps: p.MaxSteps})
		var te *vm.TrapError
		switch {
		case err == nil:
		case errors.As(err, &te) && te.Trap == isa.TrapBreakpoint:
		default:
			t.Fatalf("%q: %v", b, err)
		}
		if res.Steps > p.MaxSteps/8 {
			t.Errorf("%q: %d steps, near the budget of %d", b, res.Steps, p.MaxSteps)
		}
	}
}
