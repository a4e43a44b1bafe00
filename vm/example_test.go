package vm_test

import (
	"fmt"
	"os"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// A program stepped one instruction at a time, as a debugger's stepi does: after each step,
// the thread's next instruction, with its source line, and the registers the program uses
// (a1 holds argv when the program starts, as the calling convention has it).
func ExampleMachine_Resume() {
	const src = `
main:   li   a0, 6          # the sum of 1 to a0 ...
        li   a1, 0
.loop:  add  a1, a1, a0
        dec  a0
        bnez a0, .loop
        mov  a0, a1         # ... is the exit status
        ret
`
	img, err := asm.Assemble("sum.s", []byte(src), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := vm.Load(img, vm.Options{Stdout: os.Stdout, VirtualClock: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 5 {
		st, err := m.Resume(vm.Until{Steps: 1})
		if err != nil || st.Ended {
			break
		}
		t := st.Thread
		w := m.ThreadInfo(t).Where
		fmt.Printf("%s  %-9s %-18s a0=%d a1=%d\n", st.Kind, fmt.Sprintf("%s:%d", w.File, w.Line), w.Instr, t.R[isa.A0], t.R[isa.A1])
	}

	// A breakpoint at the ret, and the run goes on to it.
	ret := isa.CodeAddr(len(img.Text) - 1)
	if err := m.SetBreakpoint(ret); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := m.Resume(vm.Until{})
	fmt.Printf("%s at %#x after %d steps: a0=%d\n", st.Kind, st.PC, st.Steps, st.Thread.R[isa.A0])

	// To the end.
	m.ClearBreakpoint(ret)
	st, _ = m.Resume(vm.Until{})
	fmt.Printf("%s with status %d\n", st.Kind, st.ExitCode)

	// Output:
	// steps  sum.s:3   li a1, 0           a0=6 a1=268435448
	// steps  sum.s:4   add a1, a1, a0     a0=6 a1=0
	// steps  sum.s:5   addi a0, a0, -1    a0=6 a1=6
	// steps  sum.s:6   bnez a0, main.loop a0=5 a1=6
	// steps  sum.s:4   add a1, a1, a0     a0=5 a1=6
	// breakpoint at 0x400018 after 21 steps: a0=21
	// exited with status 21
}
