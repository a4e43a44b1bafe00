package vm

import (
	"encoding/binary"

	"github.com/spindle-vm/spindle/isa"
)

// trace prints every instruction as it runs. It is a constant so that the compiler deletes the
// tracing code from the loop when it is false.
const trace = false

var le = binary.LittleEndian

// exec runs thread t until its process exits, traps or is stopped. It returns nil when the
// process exited.
//
// This is the hot loop; everything in it is there for speed. pc, the code and memory slices and
// the budget live in locals; r points at the thread's registers, so a context switch only
// changes where it points. Each case ends with pc++ or a jump, then continue; the cases that are
// check points goto check, where the budget is tested, and faults goto fail, which stores pc
// back. The slow paths (syscalls, traps, the check point's work) are calls out of line.
func (m *Machine) exec(t *Thread) error {
	p := t.Proc
	code := p.code
	consts := p.consts
	mem := p.mem
	memBase := p.memBase
	stackLo := t.StackLo
	r := &t.R
	pc := t.PC

	budget := m.slice()
	start := budget
	var fault error

	for {
		ins := code[pc]
		budget--
		if trace {
			m.traceInstr(t, pc, ins)
		}
		switch ins.Op() {
		case isa.ILLEGAL:
			fault = m.trap(t, pc, isa.TrapIllegal, "")
			goto fail
		case isa.NOP:
			pc++
		case isa.HALT:
			p.exit(0)
			goto fail
		case isa.EBREAK:
			fault = m.trap(t, pc, isa.TrapBreakpoint, "")
			goto fail

		case isa.MOV:
			r[ins.A()] = r[ins.B()]
			pc++
		case isa.LI:
			r[ins.A()] = uint64(ins.Imm20())
			pc++
		case isa.LK:
			r[ins.A()] = consts[ins.Uimm20()]
			pc++

		case isa.ADD:
			r[ins.A()] = r[ins.B()] + r[ins.C()]
			pc++
		case isa.SUB:
			r[ins.A()] = r[ins.B()] - r[ins.C()]
			pc++
		case isa.MUL:
			r[ins.A()] = r[ins.B()] * r[ins.C()]
			pc++
		case isa.DIV:
			d := int64(r[ins.C()])
			if d == 0 {
				fault = m.trap(t, pc, isa.TrapDivZero, "")
				goto fail
			}
			// Go defines MinInt64 / -1 as MinInt64, which is the wrapping result we want.
			r[ins.A()] = uint64(int64(r[ins.B()]) / d)
			pc++
		case isa.DIVU:
			d := r[ins.C()]
			if d == 0 {
				fault = m.trap(t, pc, isa.TrapDivZero, "")
				goto fail
			}
			r[ins.A()] = r[ins.B()] / d
			pc++
		case isa.REM:
			d := int64(r[ins.C()])
			if d == 0 {
				fault = m.trap(t, pc, isa.TrapDivZero, "")
				goto fail
			}
			r[ins.A()] = uint64(int64(r[ins.B()]) % d)
			pc++
		case isa.REMU:
			d := r[ins.C()]
			if d == 0 {
				fault = m.trap(t, pc, isa.TrapDivZero, "")
				goto fail
			}
			r[ins.A()] = r[ins.B()] % d
			pc++
		case isa.AND:
			r[ins.A()] = r[ins.B()] & r[ins.C()]
			pc++
		case isa.OR:
			r[ins.A()] = r[ins.B()] | r[ins.C()]
			pc++
		case isa.XOR:
			r[ins.A()] = r[ins.B()] ^ r[ins.C()]
			pc++
		case isa.SHL:
			r[ins.A()] = r[ins.B()] << (r[ins.C()] & 63)
			pc++
		case isa.SHR:
			r[ins.A()] = r[ins.B()] >> (r[ins.C()] & 63)
			pc++
		case isa.SAR:
			r[ins.A()] = uint64(int64(r[ins.B()]) >> (r[ins.C()] & 63))
			pc++
		case isa.SLT:
			r[ins.A()] = flag(int64(r[ins.B()]) < int64(r[ins.C()]))
			pc++
		case isa.SLTU:
			r[ins.A()] = flag(r[ins.B()] < r[ins.C()])
			pc++
		case isa.SEQ:
			r[ins.A()] = flag(r[ins.B()] == r[ins.C()])
			pc++
		case isa.SNE:
			r[ins.A()] = flag(r[ins.B()] != r[ins.C()])
			pc++
		case isa.NOT:
			r[ins.A()] = ^r[ins.B()]
			pc++
		case isa.NEG:
			r[ins.A()] = -r[ins.B()]
			pc++

		case isa.ADDI:
			r[ins.A()] = r[ins.B()] + uint64(ins.Imm16())
			pc++
		case isa.MULI:
			r[ins.A()] = r[ins.B()] * uint64(ins.Imm16())
			pc++
		case isa.ANDI:
			r[ins.A()] = r[ins.B()] & uint64(ins.Imm16())
			pc++
		case isa.ORI:
			r[ins.A()] = r[ins.B()] | uint64(ins.Imm16())
			pc++
		case isa.XORI:
			r[ins.A()] = r[ins.B()] ^ uint64(ins.Imm16())
			pc++
		case isa.SHLI:
			r[ins.A()] = r[ins.B()] << (ins.Imm16() & 63)
			pc++
		case isa.SHRI:
			r[ins.A()] = r[ins.B()] >> (ins.Imm16() & 63)
			pc++
		case isa.SARI:
			r[ins.A()] = uint64(int64(r[ins.B()]) >> (ins.Imm16() & 63))
			pc++
		case isa.SLTI:
			r[ins.A()] = flag(int64(r[ins.B()]) < ins.Imm16())
			pc++
		case isa.SLTIU:
			r[ins.A()] = flag(r[ins.B()] < uint64(ins.Imm16()))
			pc++

		// Loads and stores: off wraps to a huge number for an address below memBase, so one
		// unsigned comparison checks both ends. len(mem) is at least the stack, never below 8.
		case isa.LB:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off >= uint64(len(mem)) {
				fault = m.memTrap(t, pc, off+memBase, 1)
				goto fail
			}
			r[ins.A()] = uint64(int8(mem[off]))
			pc++
		case isa.LBU:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off >= uint64(len(mem)) {
				fault = m.memTrap(t, pc, off+memBase, 1)
				goto fail
			}
			r[ins.A()] = uint64(mem[off])
			pc++
		case isa.LH:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-2 {
				fault = m.memTrap(t, pc, off+memBase, 2)
				goto fail
			}
			r[ins.A()] = uint64(int16(le.Uint16(mem[off:])))
			pc++
		case isa.LHU:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-2 {
				fault = m.memTrap(t, pc, off+memBase, 2)
				goto fail
			}
			r[ins.A()] = uint64(le.Uint16(mem[off:]))
			pc++
		case isa.LW:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-4 {
				fault = m.memTrap(t, pc, off+memBase, 4)
				goto fail
			}
			r[ins.A()] = uint64(int32(le.Uint32(mem[off:])))
			pc++
		case isa.LWU:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-4 {
				fault = m.memTrap(t, pc, off+memBase, 4)
				goto fail
			}
			r[ins.A()] = uint64(le.Uint32(mem[off:]))
			pc++
		case isa.LD:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-8 {
				fault = m.memTrap(t, pc, off+memBase, 8)
				goto fail
			}
			r[ins.A()] = le.Uint64(mem[off:])
			pc++
		case isa.SB:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off >= uint64(len(mem)) {
				fault = m.memTrap(t, pc, off+memBase, 1)
				goto fail
			}
			mem[off] = byte(r[ins.A()])
			pc++
		case isa.SH:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-2 {
				fault = m.memTrap(t, pc, off+memBase, 2)
				goto fail
			}
			le.PutUint16(mem[off:], uint16(r[ins.A()]))
			pc++
		case isa.SW:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-4 {
				fault = m.memTrap(t, pc, off+memBase, 4)
				goto fail
			}
			le.PutUint32(mem[off:], uint32(r[ins.A()]))
			pc++
		case isa.SD:
			off := r[ins.B()] + uint64(ins.Imm16()) - memBase
			if off > uint64(len(mem))-8 {
				fault = m.memTrap(t, pc, off+memBase, 8)
				goto fail
			}
			le.PutUint64(mem[off:], r[ins.A()])
			pc++

		// The stack: sp below stackLo is an overflow; the same comparison on off as for loads
		// catches an sp that points outside memory altogether.
		case isa.PUSH:
			sp := r[isa.SP] - 8
			off := sp - memBase
			if sp < stackLo || off > uint64(len(mem))-8 {
				fault = m.stackTrap(t, pc, sp)
				goto fail
			}
			le.PutUint64(mem[off:], r[ins.A()])
			r[isa.SP] = sp
			pc++
		case isa.POP:
			sp := r[isa.SP]
			off := sp - memBase
			if off > uint64(len(mem))-8 {
				fault = m.memTrap(t, pc, sp, 8)
				goto fail
			}
			r[isa.SP] = sp + 8
			r[ins.A()] = le.Uint64(mem[off:])
			pc++
		case isa.ENTER:
			sp := r[isa.SP] - 8
			off := sp - memBase
			if sp < stackLo || off > uint64(len(mem))-8 {
				fault = m.stackTrap(t, pc, sp)
				goto fail
			}
			le.PutUint64(mem[off:], r[isa.FP])
			r[isa.FP] = sp
			nsp := sp - uint64(ins.Uimm24())
			if nsp < stackLo || nsp > sp {
				fault = m.stackTrap(t, pc, nsp)
				goto fail
			}
			r[isa.SP] = nsp
			pc++
		case isa.LEAVE:
			fp := r[isa.FP]
			off := fp - memBase
			if off > uint64(len(mem))-8 {
				fault = m.memTrap(t, pc, fp, 8)
				goto fail
			}
			r[isa.FP] = le.Uint64(mem[off:])
			r[isa.SP] = fp + 8
			pc++

		case isa.BEQ:
			if r[ins.A()] == r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BNE:
			if r[ins.A()] != r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BLT:
			if int64(r[ins.A()]) < int64(r[ins.B()]) {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BGE:
			if int64(r[ins.A()]) >= int64(r[ins.B()]) {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BLTU:
			if r[ins.A()] < r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BGEU:
			if r[ins.A()] >= r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
		case isa.BEQZ:
			if r[ins.A()] == 0 {
				pc += int(ins.Imm20())
				goto check
			}
			pc++
		case isa.BNEZ:
			if r[ins.A()] != 0 {
				pc += int(ins.Imm20())
				goto check
			}
			pc++
		case isa.JMP:
			pc += int(ins.Imm24())
			goto check
		case isa.JR:
			d := r[ins.A()] - isa.TextBase
			if d&3 != 0 || d>>2 >= uint64(len(code)) {
				fault = m.jumpTrap(t, pc, r[ins.A()])
				goto fail
			}
			pc = int(d >> 2)
			goto check
		case isa.CALL:
			sp := r[isa.SP] - 8
			off := sp - memBase
			if sp < stackLo || off > uint64(len(mem))-8 {
				fault = m.stackTrap(t, pc, sp)
				goto fail
			}
			le.PutUint64(mem[off:], isa.TextBase+isa.InstrSize*uint64(pc+1))
			r[isa.SP] = sp
			pc += int(ins.Imm24())
			goto check
		case isa.CALLR:
			d := r[ins.A()] - isa.TextBase
			if d&3 != 0 || d>>2 >= uint64(len(code)) {
				fault = m.jumpTrap(t, pc, r[ins.A()])
				goto fail
			}
			sp := r[isa.SP] - 8
			off := sp - memBase
			if sp < stackLo || off > uint64(len(mem))-8 {
				fault = m.stackTrap(t, pc, sp)
				goto fail
			}
			le.PutUint64(mem[off:], isa.TextBase+isa.InstrSize*uint64(pc+1))
			r[isa.SP] = sp
			pc = int(d >> 2)
			goto check
		case isa.RET:
			sp := r[isa.SP]
			off := sp - memBase
			if off > uint64(len(mem))-8 {
				fault = m.memTrap(t, pc, sp, 8)
				goto fail
			}
			a := le.Uint64(mem[off:])
			d := a - isa.TextBase
			if d&3 != 0 || d>>2 >= uint64(len(code)) {
				fault = m.jumpTrap(t, pc, a)
				goto fail
			}
			r[isa.SP] = sp + 8
			pc = int(d >> 2)
			goto check

		case isa.SYSCALL:
			t.PC = pc
			if fault = m.syscall(t, isa.Syscall(ins.Uimm24())); fault != nil || p.exited {
				goto fail
			}
			mem = p.mem // the heap may have grown
			pc++
			goto check

		default:
			fault = m.trap(t, pc, isa.TrapIllegal, "")
			goto fail
		}
		continue

	check:
		if budget > 0 {
			continue
		}
		t.PC = pc
		if fault = m.checkpoint(start - budget); fault != nil {
			// The step is not retired twice: checkpoint counted it.
			start = budget
			goto fail
		}
		budget = m.slice()
		start = budget
	}

fail:
	t.PC = pc
	m.steps += uint64(start - budget)
	return fault
}

// flag turns a comparison into 1 or 0; the compiler makes it a SETcc.
func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// slice returns the budget of the next run of the loop: a quantum, or what is left of the step
// limit if that is less.
func (m *Machine) slice() int64 {
	q := m.opts.Quantum
	if m.opts.MaxSteps > 0 {
		if left := m.opts.MaxSteps - min(m.steps, m.opts.MaxSteps); left < uint64(q) {
			q = int64(left)
		}
	}
	return q
}

// checkpoint is the slow path of a check point: it retires the steps of the slice that ended and
// decides whether the run goes on.
func (m *Machine) checkpoint(used int64) error {
	m.steps += uint64(used)
	if m.interrupt.Load() {
		if why, _ := m.why.Load().(string); why == "timeout" {
			return &LimitError{Limit: "time", Value: uint64(m.opts.Timeout), Steps: m.steps}
		}
		return &InterruptError{Steps: m.steps}
	}
	if m.opts.MaxSteps > 0 && m.steps >= m.opts.MaxSteps {
		return &LimitError{Limit: "steps", Value: m.opts.MaxSteps, Steps: m.steps}
	}
	return nil
}
