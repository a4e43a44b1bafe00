package isa

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fieldSpec is what a format encodes, written out independently of Encode and Decode so that the
// tests check the code against a second statement of the layouts.
type fieldSpec struct {
	a, b, c bool   // which register fields the format uses
	imm     bool   // whether it has an immediate
	lo, hi  int64  // the immediate's range
	what    string // how Encode's errors name the immediate
	used    Instr  // the bits a word of this format may set
}

var formatSpecs = map[Format]fieldSpec{
	FmtN:       {used: 0x000000ff},
	FmtA:       {a: true, used: 0x00000fff},
	FmtAB:      {a: true, b: true, used: 0x0000ffff},
	FmtABC:     {a: true, b: true, c: true, used: 0x000fffff},
	FmtABI:     {a: true, b: true, imm: true, lo: -32768, hi: 32767, what: "immediate", used: 0xffffffff},
	FmtMem:     {a: true, b: true, imm: true, lo: -32768, hi: 32767, what: "immediate", used: 0xffffffff},
	FmtBranch:  {a: true, b: true, imm: true, lo: -32768, hi: 32767, what: "branch offset", used: 0xffffffff},
	FmtAI:      {a: true, imm: true, lo: -524288, hi: 524287, what: "immediate", used: 0xffffffff},
	FmtAK:      {a: true, imm: true, lo: 0, hi: 1048575, what: "constant index", used: 0xffffffff},
	FmtBranchZ: {a: true, imm: true, lo: -524288, hi: 524287, what: "branch offset", used: 0xffffffff},
	FmtJ:       {imm: true, lo: -8388608, hi: 8388607, what: "jump offset", used: 0xffffffff},
	FmtU24:     {imm: true, lo: 0, hi: 16777215, what: "immediate", used: 0xffffffff},
}

func TestFormatSpecsCoverEveryFormat(t *testing.T) {
	for f := Format(0); f < numFormats; f++ {
		if _, ok := formatSpecs[f]; !ok {
			t.Errorf("format %d (%q) has no spec in the tests", f, f.Syntax())
		}
	}
}

func TestTableIsComplete(t *testing.T) {
	if ILLEGAL != 0 {
		t.Errorf("ILLEGAL = %d, want 0 so that the all-zero word is illegal", ILLEGAL)
	}
	names := map[string]Opcode{}
	usedCats := map[Category]bool{}
	lower := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	for i, in := range Table {
		if in.Op != Opcode(i) {
			t.Errorf("Table[%d].Op = %d, want its index", i, uint8(in.Op))
		}
		if !lower.MatchString(in.Name) {
			t.Errorf("Table[%d].Name = %q, want a non-empty lower-case mnemonic", i, in.Name)
		}
		if prev, dup := names[in.Name]; dup {
			t.Errorf("Table[%d] and Table[%d] are both named %q", prev, i, in.Name)
		}
		names[in.Name] = Opcode(i)
		if in.Format >= numFormats {
			t.Errorf("%s: format %d is not a format", in.Name, in.Format)
		}
		if !slices.Contains(Categories, in.Category) {
			t.Errorf("%s: category %q is not in Categories", in.Name, in.Category)
		}
		usedCats[in.Category] = true
		if strings.TrimSpace(in.Doc) == "" {
			t.Errorf("%s: no doc", in.Name)
		}
	}
	for _, c := range Categories {
		if !usedCats[c] {
			t.Errorf("category %q has no instruction", c)
		}
	}
	if len(Categories) != len(usedCats) {
		t.Errorf("Categories has %d entries, the table uses %d categories", len(Categories), len(usedCats))
	}
}

func TestLookup(t *testing.T) {
	for _, in := range Table {
		op, ok := Lookup(in.Name)
		if !ok || op != in.Op {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", in.Name, uint8(op), ok, uint8(in.Op))
		}
		if got := in.Op.String(); got != in.Name {
			t.Errorf("Opcode(%d).String() = %q, want %q", uint8(in.Op), got, in.Name)
		}
		got, ok := in.Op.Info()
		if !ok {
			t.Errorf("Opcode(%d).Info() not ok", uint8(in.Op))
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("Opcode(%d).Info() mismatch (-want +got):\n%s", uint8(in.Op), diff)
		}
	}
	for _, name := range []string{"", "ADD", "Add", "nosuch", " add", "add "} {
		if op, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %d, true; want not found", name, uint8(op))
		}
	}
	for _, op := range []Opcode{NumOpcodes, 200, 255} {
		if in, ok := op.Info(); ok {
			t.Errorf("Opcode(%d).Info() = %+v, true; want not ok", uint8(op), in)
		}
		if got, want := op.String(), fmt.Sprintf("op%d", uint8(op)); got != want {
			t.Errorf("Opcode(%d).String() = %q, want %q", uint8(op), got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	syntax := map[Format]string{
		FmtN: "", FmtA: "rA", FmtAB: "rA, rB", FmtABC: "rA, rB, rC", FmtABI: "rA, rB, imm16",
		FmtMem: "rA, imm16(rB)", FmtBranch: "rA, rB, target", FmtAI: "rA, imm20",
		FmtAK: "rA, constant", FmtBranchZ: "rA, target", FmtJ: "target", FmtU24: "uimm24",
	}
	for f := Format(0); f < numFormats; f++ {
		if got := f.Syntax(); got != syntax[f] {
			t.Errorf("Format(%d).Syntax() = %q, want %q", f, got, syntax[f])
		}
		wantBranch := f == FmtBranch || f == FmtBranchZ || f == FmtJ
		if got := f.IsBranch(); got != wantBranch {
			t.Errorf("Format(%d).IsBranch() = %v, want %v", f, got, wantBranch)
		}
	}
	if got := numFormats.Syntax(); got != "?" {
		t.Errorf("undefined format's Syntax() = %q, want \"?\"", got)
	}
}

// Hand-assembled words: a second, independent statement of the encoding.
func TestEncodeKnownWords(t *testing.T) {
	tests := []struct {
		op   Opcode
		o    Operands
		want Instr
	}{
		{NOP, Operands{}, 0x00000001},
		{MOV, Operands{A: 1, B: 2}, 0x00002104},
		{ADD, Operands{A: 1, B: 2, C: 3}, 0x00032107},
		{SLTU, Operands{A: 15, B: 14, C: 13}, 0x000def15},
		{ADDI, Operands{A: 15, B: 15, Imm: -8}, 0xfff8ff1a},
		{LD, Operands{A: 0, B: 15, Imm: 16}, 0x0010f02a},
		{BEQ, Operands{A: 1, B: 2, Imm: -1}, 0xffff2133},
		{LI, Operands{A: 4, Imm: 0x12345}, 0x12345405},
		{LI, Operands{A: 4, Imm: -1}, 0xfffff405},
		{LK, Operands{A: 6, Imm: 0xfffff}, 0xfffff606},
		{BNEZ, Operands{A: 3, Imm: -2}, 0xffffe33a},
		{JMP, Operands{Imm: -1}, 0xffffff3b},
		{CALL, Operands{Imm: 5}, 0x0000053d},
		{ENTER, Operands{Imm: 0xabcdef}, 0xabcdef31},
		{SYSCALL, Operands{Imm: int64(SysWrite)}, 0x00000240},
		{JR, Operands{A: 9}, 0x0000093c},
	}
	for _, tt := range tests {
		got, err := Encode(tt.op, tt.o)
		if err != nil {
			t.Errorf("Encode(%s, %+v): %v", tt.op, tt.o, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Encode(%s, %+v) = %#010x, want %#010x", tt.op, tt.o, uint32(got), uint32(tt.want))
		}
		op, o, err := Decode(tt.want)
		if err != nil {
			t.Errorf("Decode(%#010x): %v", uint32(tt.want), err)
			continue
		}
		if op != tt.op {
			t.Errorf("Decode(%#010x) opcode = %s, want %s", uint32(tt.want), op, tt.op)
		}
		if diff := cmp.Diff(tt.o, o); diff != "" {
			t.Errorf("Decode(%#010x) operands mismatch (-want +got):\n%s", uint32(tt.want), diff)
		}
	}
}

// boundaryImms are the interesting immediates of the range [lo, hi].
func boundaryImms(lo, hi int64) []int64 {
	var out []int64
	for _, v := range []int64{lo, lo + 1, -2, -1, 0, 1, 2, hi - 1, hi} {
		if v >= lo && v <= hi && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// operandSets lists every combination of all registers and the boundary immediates for a format,
// with the fields a format does not use left zero.
func operandSets(s fieldSpec) []Operands {
	regs := func(used bool) []int {
		if !used {
			return []int{0}
		}
		return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	}
	imms := []int64{0}
	if s.imm {
		imms = boundaryImms(s.lo, s.hi)
	}
	var out []Operands
	for _, a := range regs(s.a) {
		for _, b := range regs(s.b) {
			for _, c := range regs(s.c) {
				for _, imm := range imms {
					out = append(out, Operands{A: a, B: b, C: c, Imm: imm})
				}
			}
		}
	}
	return out
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, in := range Table {
		s := formatSpecs[in.Format]
		for _, o := range operandSets(s) {
			w, err := Encode(in.Op, o)
			if err != nil {
				t.Errorf("Encode(%s, %+v): %v", in.Name, o, err)
				continue
			}
			if w&^s.used != 0 {
				t.Errorf("Encode(%s, %+v) = %#010x sets bits outside %#010x", in.Name, o, uint32(w), uint32(s.used))
			}
			op, got, err := Decode(w)
			if err != nil {
				t.Errorf("Decode(Encode(%s, %+v) = %#010x): %v", in.Name, o, uint32(w), err)
				continue
			}
			if op != in.Op {
				t.Errorf("Decode(%#010x) opcode = %s, want %s", uint32(w), op, in.Name)
			}
			if diff := cmp.Diff(o, got); diff != "" {
				t.Errorf("%s: Decode(Encode(%+v)) mismatch (-want +got):\n%s", in.Name, o, diff)
			}
		}
	}
}

// Every word Decode accepts must encode back to itself; sample words with every field pattern.
func TestDecodeEncodeRoundTrip(t *testing.T) {
	for _, in := range Table {
		s := formatSpecs[in.Format]
		for _, rest := range []Instr{0, 0xffffffff, 0x80000000, 0x7fffff00, 0x12345600, 0xa5a5a500, 0x00000f00} {
			w := Instr(in.Op) | rest&s.used&^0xff
			op, o, err := Decode(w)
			if err != nil {
				t.Errorf("Decode(%#010x) (%s): %v", uint32(w), in.Name, err)
				continue
			}
			back, err := Encode(op, o)
			if err != nil {
				t.Errorf("Encode(Decode(%#010x)) (%s): %v", uint32(w), in.Name, err)
				continue
			}
			if back != w {
				t.Errorf("Encode(Decode(%#010x)) = %#010x (%s)", uint32(w), uint32(back), in.Name)
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, in := range Table {
		s := formatSpecs[in.Format]
		type errCase struct {
			o    Operands
			want string
		}
		var cases []errCase
		// Registers are checked whether or not the format uses them.
		for _, r := range []int{-1, 16, 100, math.MinInt} {
			reg := fmt.Sprintf("%s: register r%d out of range", in.Name, r)
			cases = append(cases,
				errCase{Operands{A: r}, reg},
				errCase{Operands{B: r}, reg},
				errCase{Operands{C: r}, reg})
		}
		if s.imm {
			for _, v := range []int64{s.lo - 1, s.hi + 1, math.MinInt64, math.MaxInt64} {
				cases = append(cases, errCase{Operands{Imm: v},
					fmt.Sprintf("%s: %s %d out of range [%d, %d]", in.Name, s.what, v, s.lo, s.hi)})
			}
		}
		for _, c := range cases {
			w, err := Encode(in.Op, c.o)
			if err == nil {
				t.Errorf("Encode(%s, %+v) = %#010x, want error %q", in.Name, c.o, uint32(w), c.want)
				continue
			}
			if err.Error() != c.want {
				t.Errorf("Encode(%s, %+v) error = %q, want %q", in.Name, c.o, err, c.want)
			}
		}
	}
	// A few messages spelled out in full, so that a wrong range in formatSpecs cannot hide.
	exact := []struct {
		op   Opcode
		o    Operands
		want string
	}{
		{ADD, Operands{C: 16}, "add: register r16 out of range"},
		{ADDI, Operands{Imm: 32768}, "addi: immediate 32768 out of range [-32768, 32767]"},
		{SD, Operands{Imm: -32769}, "sd: immediate -32769 out of range [-32768, 32767]"},
		{BLT, Operands{Imm: 40000}, "blt: branch offset 40000 out of range [-32768, 32767]"},
		{LI, Operands{Imm: 524288}, "li: immediate 524288 out of range [-524288, 524287]"},
		{LK, Operands{Imm: -1}, "lk: constant index -1 out of range [0, 1048575]"},
		{BEQZ, Operands{Imm: -524289}, "beqz: branch offset -524289 out of range [-524288, 524287]"},
		{CALL, Operands{Imm: 8388608}, "call: jump offset 8388608 out of range [-8388608, 8388607]"},
		{SYSCALL, Operands{Imm: 16777216}, "syscall: immediate 16777216 out of range [0, 16777215]"},
		{ENTER, Operands{Imm: -8}, "enter: immediate -8 out of range [0, 16777215]"},
		{NumOpcodes, Operands{}, fmt.Sprintf("undefined opcode %d", NumOpcodes)},
		{255, Operands{}, "undefined opcode 255"},
	}
	for _, tt := range exact {
		_, err := Encode(tt.op, tt.o)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Encode(%d, %+v) error = %v, want %q", uint8(tt.op), tt.o, err, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for op := int(NumOpcodes); op <= 255; op++ {
		for _, rest := range []Instr{0, 0xffffff00} {
			w := Instr(op) | rest
			_, _, err := Decode(w)
			want := fmt.Sprintf("undefined opcode %d", op)
			if err == nil || err.Error() != want {
				t.Errorf("Decode(%#010x) error = %v, want %q", uint32(w), err, want)
			}
		}
	}
	for _, in := range Table {
		s := formatSpecs[in.Format]
		for bit := 8; bit < 32; bit++ {
			if s.used&(1<<bit) != 0 {
				continue
			}
			w := Instr(in.Op) | 1<<bit
			_, _, err := Decode(w)
			want := fmt.Sprintf("%s: reserved bits set in 0x%08x", in.Name, uint32(w))
			if err == nil || err.Error() != want {
				t.Errorf("Decode(%#010x) error = %v, want %q", uint32(w), err, want)
			}
		}
	}
	exact := []struct {
		w    Instr
		want string
	}{
		{0x00000101, "nop: reserved bits set in 0x00000101"},
		{0xfff0_0007, "add: reserved bits set in 0xfff00007"},
		{0x0001_2304, "mov: reserved bits set in 0x00012304"},
		{0x8000_0f3c, "jr: reserved bits set in 0x80000f3c"},
		{Instr(NumOpcodes), fmt.Sprintf("undefined opcode %d", NumOpcodes)},
	}
	for _, tt := range exact {
		_, _, err := Decode(tt.w)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%#010x) error = %v, want %q", uint32(tt.w), err, tt.want)
		}
	}
	op, o, err := Decode(0)
	if err != nil || op != ILLEGAL || o != (Operands{}) {
		t.Errorf("Decode(0) = %s, %+v, %v; want illegal with no operands", op, o, err)
	}
}

type fields struct {
	Op                  Opcode
	A, B, C             int
	Imm16, Imm20, Imm24 int64
	Uimm20, Uimm24      uint32
}

func fieldsOf(w Instr) fields {
	return fields{w.Op(), w.A(), w.B(), w.C(), w.Imm16(), w.Imm20(), w.Imm24(), w.Uimm20(), w.Uimm24()}
}

func TestAccessors(t *testing.T) {
	tests := []struct {
		w    Instr
		want fields
	}{
		{0x00000000, fields{}},
		{0xfedcba98, fields{Op: 0x98, A: 0xa, B: 0xb, C: 0xc,
			Imm16: -0x0124, Imm20: -0x01235, Imm24: -0x012346, Uimm20: 0xfedcb, Uimm24: 0xfedcba}},
		{0x7ffff123, fields{Op: 0x23, A: 1, B: 0xf, C: 0xf,
			Imm16: 0x7fff, Imm20: 0x7ffff, Imm24: 0x7ffff1, Uimm20: 0x7ffff, Uimm24: 0x7ffff1}},
		{0x80000000, fields{
			Imm16: -32768, Imm20: -524288, Imm24: -8388608, Uimm20: 0x80000, Uimm24: 0x800000}},
		{0xffffffff, fields{Op: 0xff, A: 15, B: 15, C: 15,
			Imm16: -1, Imm20: -1, Imm24: -1, Uimm20: 0xfffff, Uimm24: 0xffffff}},
		{0x00054321, fields{Op: 0x21, A: 3, B: 4, C: 5,
			Imm16: 5, Imm20: 0x54, Imm24: 0x543, Uimm20: 0x54, Uimm24: 0x543}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, fieldsOf(tt.w)); diff != "" {
			t.Errorf("fields of %#010x mismatch (-want +got):\n%s", uint32(tt.w), diff)
		}
	}
}

func TestImmediateRanges(t *testing.T) {
	got := []int64{MinImm16, MaxImm16, MinImm20, MaxImm20, MaxUimm20, MinImm24, MaxImm24, MaxUimm24}
	want := []int64{-32768, 32767, -524288, 524287, 1048575, -8388608, 8388607, 16777215}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("immediate ranges mismatch (-want +got):\n%s", diff)
	}
}

func TestRegisters(t *testing.T) {
	aliases := []string{"a0", "a1", "a2", "a3", "a4", "a5", "t0", "t1", "t2", "t3", "s0", "s1", "s2", "s3", "fp", "sp"}
	savers := []string{"caller", "caller", "caller", "caller", "caller", "caller", "caller", "caller",
		"caller", "caller", "callee", "callee", "callee", "callee", "callee", "callee"}
	var gotAliases, gotSavers []string
	for i, r := range Regs {
		if r.Num != i {
			t.Errorf("Regs[%d].Num = %d", i, r.Num)
		}
		if r.Role == "" {
			t.Errorf("Regs[%d] (%s) has no role", i, r.Alias)
		}
		gotAliases = append(gotAliases, r.Alias)
		gotSavers = append(gotSavers, r.Saver)
	}
	if diff := cmp.Diff(aliases, gotAliases); diff != "" {
		t.Errorf("aliases mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(savers, gotSavers); diff != "" {
		t.Errorf("savers mismatch (-want +got):\n%s", diff)
	}
	named := []int{A0, A1, A2, A3, A4, A5, T0, T1, T2, T3, S0, S1, S2, S3, FP, SP}
	for i, n := range named {
		if n != i {
			t.Errorf("register constant %s = %d, want %d", aliases[i], n, i)
		}
	}
	for i, a := range aliases {
		if got := RegName(i); got != a {
			t.Errorf("RegName(%d) = %q, want %q", i, got, a)
		}
	}
	for _, n := range []int{-1, 16, 99} {
		if got, want := RegName(n), fmt.Sprintf("r%d", n); got != want {
			t.Errorf("RegName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseReg(t *testing.T) {
	type result struct {
		N  int
		OK bool
	}
	good := map[string]int{}
	for i := range NumRegs {
		good[fmt.Sprintf("r%d", i)] = i
		good[fmt.Sprintf("R%d", i)] = i
		good[Regs[i].Alias] = i
		good[strings.ToUpper(Regs[i].Alias)] = i
	}
	good["Sp"] = SP
	good["fP"] = FP
	for s, n := range good {
		got, ok := ParseReg(s)
		if diff := cmp.Diff(result{n, true}, result{got, ok}); diff != "" {
			t.Errorf("ParseReg(%q) mismatch (-want +got):\n%s", s, diff)
		}
	}
	bad := []string{"", "r", "R", "x", "r16", "r01", "r00", "r001", "r-1", "r+1", "r-0", "r+0",
		"r 1", " r1", "r1 ", "rr1", "r1a", "r0x1", "r１", "a6", "t4", "s4", "zero", "ra", "pc",
		"sp0", " sp", "fp ", "r99", "r100", "r1_0", "\x00"}
	for _, s := range bad {
		if n, ok := ParseReg(s); ok {
			t.Errorf("ParseReg(%q) = %d, true; want not a register", s, n)
		}
	}
}

func TestMemoryMap(t *testing.T) {
	if TextBase != 0x00400000 || DataBase != 0x10000000 || InstrSize != 4 {
		t.Errorf("TextBase, DataBase, InstrSize = %#x, %#x, %d; want 0x400000, 0x10000000, 4", TextBase, DataBase, InstrSize)
	}
	// A text as long as a jump's whole reach must still end below the data addresses, so that
	// a code address is never a data address.
	if end := CodeAddr(MaxUimm24 + 1); end > DataBase {
		t.Errorf("CodeAddr(%d) = %#x overlaps data at %#x", MaxUimm24+1, end, DataBase)
	}
	for _, i := range []int{0, 1, 2, 1000, MaxUimm24} {
		a := CodeAddr(i)
		if a != uint64(0x400000+4*i) {
			t.Errorf("CodeAddr(%d) = %#x", i, a)
		}
		if got, ok := CodeIndex(a, i+1); !ok || got != i {
			t.Errorf("CodeIndex(CodeAddr(%d), %d) = %d, %v", i, i+1, got, ok)
		}
		if _, ok := CodeIndex(a, i); ok {
			t.Errorf("CodeIndex(CodeAddr(%d), %d) ok; want past the end", i, i)
		}
	}
}

func TestCodeIndex(t *testing.T) {
	type result struct {
		I  int
		OK bool
	}
	tests := []struct {
		a    uint64
		n    int
		want result
	}{
		{0x400000, 1, result{0, true}},
		{0x400000, 0, result{}},
		{0x400000, -1, result{}},
		{0x400000, math.MinInt, result{}},
		{0x400004, math.MaxInt, result{1, true}},
		{0x400024, 10, result{9, true}},
		{0x400028, 10, result{}},
		{0x400001, 10, result{}},
		{0x400002, 10, result{}},
		{0x400003, 10, result{}},
		{0x3ffffc, 10, result{}},
		{0, 10, result{}},
		{0x10000000, 10, result{}},
		{math.MaxUint64, math.MaxInt, result{}},
		{0x400000 + 4<<40, 1 << 40, result{}},
		{0x400000 + 4<<40, 1<<40 + 1, result{1 << 40, true}},
	}
	for _, tt := range tests {
		i, ok := CodeIndex(tt.a, tt.n)
		if diff := cmp.Diff(tt.want, result{i, ok}); diff != "" {
			t.Errorf("CodeIndex(%#x, %d) mismatch (-want +got):\n%s", tt.a, tt.n, diff)
		}
	}
}

func TestSyscalls(t *testing.T) {
	ident := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	nums := map[Syscall]string{}
	names := map[string]Syscall{}
	for i, s := range Syscalls {
		if s.Num == 0 || s.Num > MaxUimm24 {
			t.Errorf("%s: number %d does not fit the syscall instruction's 1..%d", s.Name, s.Num, MaxUimm24)
		}
		if i > 0 && s.Num <= Syscalls[i-1].Num {
			t.Errorf("%s: number %d is not above the previous entry's %d", s.Name, s.Num, Syscalls[i-1].Num)
		}
		if prev, dup := nums[s.Num]; dup {
			t.Errorf("%s and %s both have number %d", prev, s.Name, s.Num)
		}
		nums[s.Num] = s.Name
		if !ident.MatchString(s.Name) {
			t.Errorf("syscall %d: name %q is not a lower-case identifier", s.Num, s.Name)
		}
		if _, isReg := ParseReg(s.Name); isReg {
			t.Errorf("syscall %d: name %q is also a register name", s.Num, s.Name)
		}
		if prev, dup := names[s.Name]; dup {
			t.Errorf("syscalls %d and %d are both named %q", prev, s.Num, s.Name)
		}
		names[s.Name] = s.Num
		if s.Args == "" || s.Ret == "" || s.Doc == "" {
			t.Errorf("%s: arguments, results and doc must all be written: %+v", s.Name, s)
		}
		byName, ok := LookupSyscall(s.Name)
		if !ok {
			t.Errorf("LookupSyscall(%q) not found", s.Name)
		}
		if diff := cmp.Diff(s, byName); diff != "" {
			t.Errorf("LookupSyscall(%q) mismatch (-want +got):\n%s", s.Name, diff)
		}
		byNum, ok := s.Num.Info()
		if !ok {
			t.Errorf("Syscall(%d).Info() not found", s.Num)
		}
		if diff := cmp.Diff(s, byNum); diff != "" {
			t.Errorf("Syscall(%d).Info() mismatch (-want +got):\n%s", s.Num, diff)
		}
	}
	// The numbers are compiled into programs: they must never change.
	stable := map[string]Syscall{"exit": 1, "write": 2, "read": 3, "print_int": 4, "read_int": 5,
		"brk": 6, "sbrk": 7, "argc": 8, "argv": 9, "putc": 10, "puts": 11}
	for name, n := range stable {
		if names[name] != n {
			t.Errorf("syscall %q has number %d, want the stable %d", name, names[name], n)
		}
	}
	for _, n := range []Syscall{0, 12, 1000, MaxUimm24} {
		if s, ok := n.Info(); ok && nums[n] == "" {
			t.Errorf("Syscall(%d).Info() = %+v, true; want not found", n, s)
		}
	}
	for _, name := range []string{"", "Write", "WRITE", "nosuch", "2"} {
		if s, ok := LookupSyscall(name); ok {
			t.Errorf("LookupSyscall(%q) = %+v, true; want not found", name, s)
		}
	}
}

func TestTraps(t *testing.T) {
	names := map[string]Trap{}
	for i, tr := range Traps {
		if tr.Trap != Trap(i) {
			t.Errorf("Traps[%d].Trap = %d", i, tr.Trap)
		}
		if tr.Name == "" || tr.Doc == "" {
			t.Errorf("trap %d has no name or doc: %+v", i, tr)
		}
		if prev, dup := names[tr.Name]; dup {
			t.Errorf("traps %d and %d are both named %q", prev, i, tr.Name)
		}
		names[tr.Name] = Trap(i)
		if got := tr.Trap.String(); got != tr.Name {
			t.Errorf("Trap(%d).String() = %q, want %q", i, got, tr.Name)
		}
	}
	if got := NumTraps.String(); got != fmt.Sprintf("trap %d", NumTraps) {
		t.Errorf("NumTraps.String() = %q", got)
	}
	if got := Trap(255).String(); got != "trap 255" {
		t.Errorf("Trap(255).String() = %q, want \"trap 255\"", got)
	}
	// Other packages and docs/syscalls.md refer to these by name.
	for tr, want := range map[Trap]string{TrapBadSyscall: "bad syscall", TrapSyscallArg: "bad syscall argument",
		TrapDivZero: "division by zero", TrapIllegal: "illegal instruction"} {
		if got := tr.String(); got != want {
			t.Errorf("Trap(%d).String() = %q, want %q", tr, got, want)
		}
	}
}
