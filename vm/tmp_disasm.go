package vm

import (
	"fmt"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

func disasmInstr(w isa.Instr, pc uint64, img *asm.Image) string {
	op, o, err := isa.Decode(w)
	if err != nil {
		return fmt.Sprintf(".word %#08x", uint32(w))
	}
	return fmt.Sprintf("%s %+v", op, o)
}
