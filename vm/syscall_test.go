package vm

import (
	"testing"

	"github.com/spindle-vm/spindle/isa"
)

// TestServices checks the kernel's table of services against isa.Syscalls, which documents
// them and from which the assembler takes their names: each service there has a handler, and
// the table has no entry for a number that is not a service.
func TestServices(t *testing.T) {
	documented := map[isa.Syscall]bool{}
	for _, s := range isa.Syscalls {
		documented[s.Num] = true
		if s.Num >= isa.Syscall(len(services)) || services[s.Num].run == nil {
			t.Errorf("syscall %s (%d) has no handler in services", s.Name, s.Num)
		}
	}
	for n, s := range services {
		if (s.run != nil || s.shared) && !documented[isa.Syscall(n)] {
			t.Errorf("services[%d] has an entry, but isa.Syscalls has no service %d", n, n)
		}
	}
}
