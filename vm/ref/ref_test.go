package ref

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// load builds the state the loader would: a 4 KiB stack below the data, argc = 0, the argv
// array (just its 0) at the top of the stack, and below it the address of the exit word after
// the text, as main's return address.
func load(t *testing.T, src string) Machine {
	t.Helper()
	img, err := asm.Assemble("t.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	const stack = 4096
	base := uint64(isa.DataBase - stack)
	heap := (uint64(len(img.Data)) + img.BSS + 15) &^ 15
	m := Machine{
		Text: img.Text, Consts: img.Consts, Base: base, Mem: make([]byte, stack+heap),
		PC: img.Entry, StackLo: base, StackHi: isa.DataBase, MaxMem: 1 << 16, MaxSteps: 10000,
	}
	copy(m.Mem[stack:], img.Data)
	argv := uint64(isa.DataBase - 16)
	m.Regs[isa.SP] = argv - 8
	m.Regs[isa.A1] = argv
	exit := isa.CodeAddr(len(img.Text) + 1)
	for i := range 8 {
		m.Mem[argv-8-base+uint64(i)] = byte(exit >> (8 * i))
	}
	return m
}

// summary is what the tests below check of a Result.
type summary struct {
	Stop     Stop
	ExitCode int64
	Trap     isa.Trap
	PC       uint64
	Out      string
	Steps    uint64
	A0, A1   uint64
	FP, SP   uint64
}

func run(t *testing.T, m Machine) summary {
	t.Helper()
	res, err := Run(m)
	if err != nil {
		t.Fatal(err)
	}
	return summary{res.Stop, res.ExitCode, res.Trap, res.PC, string(res.Stdout) + string(res.Stderr),
		res.Steps, res.Regs[isa.A0], res.Regs[isa.A1], res.Regs[isa.FP], res.Regs[isa.SP]}
}

// at is the address of instruction i.
func at(i int) uint64 { return isa.CodeAddr(i) }

func TestRun(t *testing.T) {
	const (
		minInt = 1 << 63
		argv   = isa.DataBase - 16 // a1 at the start
		sp     = argv - 8          // sp at the start
	)
	tests := []struct {
		name, src string
		want      summary
	}{
		{"division rounds toward zero", "li a0, -7\n li t0, 2\n div a1, a0, t0\n rem a0, a0, t0\n halt",
			summary{Stop: Exited, Steps: 5, A0: ^uint64(0), A1: ^uint64(2), SP: sp}},
		{"the most negative number divided by -1 wraps", "lk a0, 1<<63\n li t0, -1\n div a1, a0, t0\n rem a0, a0, t0\n halt",
			summary{Stop: Exited, Steps: 5, A0: 0, A1: minInt, SP: sp}},
		{"a zero divisor traps", "li a0, 1\n li t0, 0\n remu a0, a0, t0",
			summary{Stop: Trapped, Trap: isa.TrapDivZero, PC: at(2), Steps: 3, A0: 1, A1: argv, SP: sp}},
		{"shifts use the count's low 6 bits", "li a0, -2\n li t0, 65\n sar a1, a0, t0\n shri a0, a0, 127\n halt",
			summary{Stop: Exited, Steps: 5, A0: 1, A1: ^uint64(0), SP: sp}},
		{"loads extend by sign or by zero", ".data\nx: .byte 0x80\n.text\nmain: la t0, x\n lb a0, 0(t0)\n lbu a1, 0(t0)\n halt",
			summary{Stop: Exited, Steps: 4, A0: ^uint64(0x7f), A1: 0x80, SP: sp}},
		{"a load past the break traps", ".data\nx: .byte 1\n.text\nmain: la t0, x\n ld a0, 9(t0)\n halt",
			summary{Stop: Trapped, Trap: isa.TrapMemory, PC: at(1), Steps: 2, A1: argv, SP: sp}},
		{"main returns to the exit after the text", "li a0, 42\n ret",
			summary{Stop: Exited, ExitCode: 42, Steps: 3, A0: 42, A1: argv, SP: sp + 8}},
		{"running past the text traps", "nop",
			summary{Stop: Trapped, Trap: isa.TrapIllegal, PC: at(1), Steps: 2, A1: argv, SP: sp}},
		{"jr reaches the thread_exit after the text, which ends the only thread with 0", "li a0, 5\n lk t0, 0x400000 + 4*5\n jr t0",
			summary{Stop: Exited, Steps: 4, A0: 5, A1: argv, SP: sp}},
		{"jr to the middle of a word traps", "lk t0, 0x400002\n jr t0",
			summary{Stop: Trapped, Trap: isa.TrapBadJump, PC: at(1), Steps: 2, A1: argv, SP: sp}},
		{"enter too big for the stack traps and changes nothing", "li fp, 7\n enter 4096",
			summary{Stop: Trapped, Trap: isa.TrapStackOverflow, PC: at(1), Steps: 2, A1: argv, FP: 7, SP: sp}},
		{"recursion overflows the stack", "main: call main",
			summary{Stop: Trapped, Trap: isa.TrapStackOverflow, PC: at(0), Steps: 510, A1: argv, SP: isa.DataBase - 4096}},
		{"cas swaps only on a match", ".data\nx: .quad 5\n.text\nmain: la t0, x\n li a0, 5\n li t1, 9\n cas a0, t0, t1\n ld a1, 0(t0)\n halt",
			summary{Stop: Exited, Steps: 6, A0: 5, A1: 9, SP: sp}},
		{"loop counts up to its limit", "main: li a0, 0\n li a1, 4\n.l: addi a2, a2, 1\n loop a0, a1, .l\n mov a1, a2\n halt",
			summary{Stop: Exited, Steps: 12, A0: 4, A1: 4, SP: sp}},
		{"push sp pushes the old sp, pop sp loads sp", "push sp\n li t0, 3\n push t0\n pop sp\n halt",
			summary{Stop: Exited, Steps: 5, A1: argv, SP: 3}},
		{"print services keep a0 and a1", "li a0, -12\n li a1, 3\n syscall print_int\n li a0, 10\n syscall putc\n halt",
			summary{Stop: Exited, Out: "-12\n", Steps: 6, A0: 10, A1: 3, SP: sp}},
		{"write to a descriptor that is not open returns -1", ".data\nx: .ascii \"hi\"\n.text\nmain: li a0, 7\n la a1, x\n li a2, 2\n syscall write\n halt",
			summary{Stop: Exited, Steps: 5, A0: ^uint64(0), A1: isa.DataBase, SP: sp}},
		{"a service that does not exist traps", "syscall 19",
			summary{Stop: Trapped, Trap: isa.TrapBadSyscall, PC: at(0), Steps: 1, A1: argv, SP: sp}},
		{"sbrk past the limit stops the run", "lk a0, 1<<20\n syscall sbrk",
			summary{Stop: MemLimit, PC: at(1), Steps: 2, A0: 1 << 20, A1: argv, SP: sp}},
		// The run stops before the instruction that would pass the limit: after 10000 steps,
		// 3333 passes and one nop, the second nop is next.
		{"the step limit stops the run at the limit exactly", "main: nop\n nop\n jmp main",
			summary{Stop: StepLimit, PC: at(1), Steps: 10000, A1: argv, SP: sp}},
		{"the step limit stops the run at a jmp", "main: nop\n jmp main",
			summary{Stop: StepLimit, PC: at(0), Steps: 10000, A1: argv, SP: sp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, run(t, load(t, tt.src))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestInput(t *testing.T) {
	m := load(t, ".bss\nbuf: .space 8\n.text\nmain: syscall read_int\n mov s0, a0\n syscall read_int\n"+
		" li a0, 0\n la a1, buf\n li a2, 8\n syscall read\n mov a1, s0\n halt")
	m.Input = []byte(" 17 \nx\nrest")
	want := summary{Stop: Exited, Steps: 9, A0: 4, A1: 17, SP: isa.DataBase - 24}
	if diff := cmp.Diff(want, run(t, m)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestUnsupported(t *testing.T) {
	if _, err := Run(load(t, "syscall thread_spawn")); err == nil {
		t.Error("thread_spawn: no error; the reference models one thread only")
	}
}
