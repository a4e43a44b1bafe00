package vm_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/vm"
	"github.com/spindle-vm/spindle/vm/internal/progen"
	"github.com/spindle-vm/spindle/vm/ref"
)

func TestTmpStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	counts := map[string]int{}
	var steps, instrs uint64
	n := 3000
	start := time.Now()
	for i := 0; i < n; i++ {
		b := make([]byte, 20+rng.IntN(400))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		p := progen.Generate(b, progen.Options{})
		instrs += uint64(len(p.Image.Text))
		r, _ := runVM(t, p.Image, p.Stdin, vm.Options{MaxSteps: p.MaxSteps}, nil)
		k := r.out.Stop.String()
		if r.out.Stop == ref.Trapped {
			k += ": " + r.out.Trap.String()
		}
		counts[k]++
		steps += r.out.Steps
		differential(t, p.Image, p.Stdin, p.MaxSteps)
	}
	t.Logf("%v per exec; avg steps %d, avg instrs %d", time.Since(start)/time.Duration(n), steps/uint64(n), instrs/uint64(n))
	t.Log(counts)
}
