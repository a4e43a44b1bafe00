package vm

import (
	"fmt"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// MaxText is the most instructions an image may have: isa.MaxText, as in an object file.
const MaxText = isa.MaxText

// validate checks what the loop relies on and cannot afford to check as it runs: that every
// word decodes, that every pc-relative target lies inside the text, that every lk names a
// constant, and that the entry point is an instruction. Jumps through registers are checked
// when they happen, since their targets are only known then.
func validate(img *object.Image) error {
	if img == nil {
		return &LoadError{Msg: "no image"}
	}
	n := len(img.Text)
	if n == 0 {
		return &LoadError{Msg: "the program has no instructions"}
	}
	if n > MaxText {
		return &LoadError{Msg: fmt.Sprintf("the program has %d instructions; the limit is %d", n, MaxText)}
	}
	if _, ok := isa.CodeIndex(img.Entry, n); !ok {
		return &LoadError{Msg: fmt.Sprintf("entry point %#08x is not the address of an instruction (%s)", img.Entry, isa.TextSpan(n))}
	}
	for i, w := range img.Text {
		// Every word must be an instruction, as in an object file; the all-zero word is one,
		// illegal, which traps when it runs.
		op, o, err := isa.Decode(w)
		if err != nil {
			return &LoadError{Msg: fmt.Sprintf("instruction at %#08x: %v", isa.CodeAddr(i), err)}
		}
		in := isa.Table[op]
		switch {
		case in.Format.IsBranch():
			if t := int64(i) + o.Imm; t < 0 || t >= int64(n) {
				return &LoadError{Msg: fmt.Sprintf("instruction at %#08x: %s to %#08x, outside the text (%s)",
					isa.CodeAddr(i), in.Name, isa.TextBase+isa.InstrSize*t, isa.TextSpan(n))}
			}
		case op == isa.LK:
			if o.Imm >= int64(len(img.Consts)) {
				return &LoadError{Msg: fmt.Sprintf("instruction at %#08x: lk names constant %d, but the pool has %d",
					isa.CodeAddr(i), o.Imm, len(img.Consts))}
			}
		}
	}
	return nil
}
