package object_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

func disListing(t *testing.T, img *object.Image) string {
	t.Helper()
	var b strings.Builder
	if err := object.Disassemble(&b, img); err != nil {
		t.Fatalf("Disassemble: %v", err)
	}
	return b.String()
}

func TestDisassembleGolden(t *testing.T) {
	want := `# 9 instructions, 2 constants, 17 bytes of data, 24 bytes of bss
.entry main

.text
main:
        .loc "main.s" 3
        lk      a0, msg                 # 0x00400000  00000006
        .loc "main.s" 4
        li      a1, 7                   # 0x00400004  00007105
main.loop:
        .loc "main.s" 6
        addi    a1, a1, -1              # 0x00400008  ffff111a
        .loc "main.s" 7
        bnez    a1, main.loop           # 0x0040000c  fffff13a
        .loc "main.s" 8
        lk      t0, 0x123456789         # 0x00400010  00001606
        sd      t0, 8(sp)               # 0x00400014  0008f62e
        .loc "main.s" 9
        call    helper                  # 0x00400018  0000023d
        .loc "main.s" 10
        syscall exit                    # 0x0040001c  00000140
helper:
        .loc "lib.s" 2
        ret                             # 0x00400020  0000003f
text_end:

.data
msg:
        .asciz "Hello, world\n"         # 0x10000000
bytes:
        .byte 0x01, 0x02, 0xff          # 0x1000000e

.bss
buf:
        .space 24                       # 0x10000011
buf.end:
`
	if diff := cmp.Diff(want, disListing(t, object.ObjSample(t))); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
}

// TestDisassembleInstr shows one instruction of every format, with and without an image.
func TestDisassembleInstr(t *testing.T) {
	img := object.ObjSample(t)
	img.Consts = append(img.Consts, 1<<64-1, isa.CodeAddr(8))
	pc := isa.CodeAddr(4)
	for _, tc := range []struct {
		op      isa.Opcode
		o       isa.Operands
		want    string
		wantNil string // without an image, if different
	}{
		{isa.NOP, isa.Operands{}, "nop", ""},
		{isa.ILLEGAL, isa.Operands{}, "illegal", ""},
		{isa.PUSH, isa.Operands{A: isa.FP}, "push fp", ""},
		{isa.JR, isa.Operands{A: isa.T3}, "jr t3", ""},
		{isa.MOV, isa.Operands{A: isa.S0, B: isa.SP}, "mov s0, sp", ""},
		{isa.SLTU, isa.Operands{A: 0, B: 5, C: 15}, "sltu a0, a5, sp", ""},
		{isa.XORI, isa.Operands{A: 6, B: 7, Imm: -32768}, "xori t0, t1, -32768", ""},
		{isa.LBU, isa.Operands{A: 1, B: 14, Imm: -8}, "lbu a1, -8(fp)", ""},
		{isa.SW, isa.Operands{A: 2, B: 15, Imm: 0}, "sw a2, 0(sp)", ""},
		{isa.LI, isa.Operands{A: 3, Imm: isa.MinImm20}, "li a3, -524288", ""},
		{isa.LK, isa.Operands{A: 4, Imm: 0}, "lk a4, msg", "lk a4, K[0]"},
		{isa.LK, isa.Operands{A: 4, Imm: 1}, "lk a4, 0x123456789", "lk a4, K[1]"},
		{isa.LK, isa.Operands{A: 4, Imm: 2}, "lk a4, -1", "lk a4, K[2]"},
		{isa.LK, isa.Operands{A: 4, Imm: 3}, "lk a4, helper", "lk a4, K[3]"},
		{isa.LK, isa.Operands{A: 4, Imm: 4}, ".word 0x00004406", "lk a4, K[4]"},
		{isa.BEQ, isa.Operands{A: 1, B: 2, Imm: -2}, "beq a1, a2, main.loop", "beq a1, a2, 0x00400008"},
		{isa.BGEU, isa.Operands{A: 1, B: 2, Imm: 1}, "bgeu a1, a2, 0x00400014", "bgeu a1, a2, 0x00400014"},
		{isa.BLT, isa.Operands{A: 1, B: 2, Imm: 5}, ".word 0x00052135", "blt a1, a2, 0x00400024"},
		{isa.BEQZ, isa.Operands{A: 9, Imm: -4}, "beqz t3, main", "beqz t3, 0x00400000"},
		{isa.BNEZ, isa.Operands{A: 9, Imm: -5}, ".word 0xffffb93a", "bnez t3, 0x003ffffc"},
		{isa.JMP, isa.Operands{Imm: 0}, "jmp 0x00400010", ""},
		{isa.CALL, isa.Operands{Imm: 4}, "call helper", "call 0x00400020"},
		{isa.CALL, isa.Operands{Imm: isa.MinImm24}, ".word 0x8000003d", ".word 0x8000003d"},
		{isa.ENTER, isa.Operands{Imm: 48}, "enter 48", ""},
		{isa.SYSCALL, isa.Operands{Imm: int64(isa.SysWrite)}, "syscall write", ""},
		{isa.SYSCALL, isa.Operands{Imm: isa.MaxUimm24}, "syscall 16777215", ""},
	} {
		w := object.ObjMust(t, tc.op, tc.o)
		if got := object.DisassembleInstr(w, pc, img); got != tc.want {
			t.Errorf("%08x with image: got %q, want %q", uint32(w), got, tc.want)
		}
		wantNil := tc.wantNil
		if wantNil == "" {
			wantNil = tc.want
		}
		if got := object.DisassembleInstr(w, pc, nil); got != wantNil {
			t.Errorf("%08x without image: got %q, want %q", uint32(w), got, wantNil)
		}
	}
	for _, w := range []isa.Instr{0xff, isa.Instr(isa.NumOpcodes), isa.Instr(isa.RET) | 1<<8, isa.Instr(isa.ADD) | 1<<31} {
		want := fmt.Sprintf(".word %#08x", uint32(w))
		if got := object.DisassembleInstr(w, pc, img); got != want {
			t.Errorf("%08x: got %q, want %q", uint32(w), got, want)
		}
	}
}

// TestDisassembleEveryOpcode checks that the disassembler knows every opcode of the table and
// writes its mnemonic from there.
func TestDisassembleEveryOpcode(t *testing.T) {
	img := &object.Image{Text: make([]isa.Instr, 3), Consts: []uint64{5}, Entry: isa.TextBase}
	for _, in := range isa.Table {
		o := isa.Operands{A: 1, B: 2, C: 3, Imm: 1} // Encode ignores the fields a format lacks
		if in.Format == isa.FmtAK {
			o.Imm = 0
		}
		w, err := isa.Encode(in.Op, o)
		if err != nil {
			// Formats with fewer fields refuse none of these operands; a failure is a new format.
			t.Fatalf("%s: %v", in.Name, err)
		}
		got := object.DisassembleInstr(w, isa.TextBase, img)
		if mn, _, _ := strings.Cut(got, " "); mn != in.Name {
			t.Errorf("%s (format %q): got %q", in.Name, in.Format.Syntax(), got)
		}
	}
}

// TestDisassembleData checks how data bytes are cut into .ascii, .asciz and .byte lines.
func TestDisassembleData(t *testing.T) {
	long := strings.Repeat("abcdefgh", 9) // 72 bytes: two .ascii lines
	for _, tc := range []struct {
		name string
		data string
		want []string
	}{
		{"short bytes", "ab", []string{`.byte 0x61, 0x62`}},
		{"one char string", "a\x00", []string{`.byte 0x61, 0x00`}},
		{"two char string", "\r\n\x00", []string{`.asciz "\r\n"`}},
		{"empty string", "\x00", []string{`.byte 0x00`}},
		{"escapes", "say \"hi\"\\\t\r\n", []string{`.ascii "say \"hi\"\\\t\r\n"`}},
		{"comment characters", "# ; '", []string{`.ascii "# ; '"`}},
		{"utf-8", "héllo, 世界\x00", []string{`.asciz "héllo, 世界"`}},
		{"invalid utf-8", "\xc3(\xff\xfe", []string{`.byte 0xc3, 0x28, 0xff, 0xfe`}},
		{"replacement character", "\uFFFD\uFFFD\uFFFD", []string{`.ascii "` + "\uFFFD\uFFFD\uFFFD" + `"`}},
		{"one wide character", "\xef\xbe\xad\xde", []string{`.byte 0xef, 0xbe, 0xad, 0xde`}},
		{"control bytes", "\x01\x02\x7fabc\x1b", []string{`.byte 0x01, 0x02, 0x7f`, `.ascii "abc"`, `.byte 0x1b`}},
		{"quad", "\x2a\x00\x00\x00\x00\x00\x00\x00", []string{`.byte 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00`}},
		{"seventeen zeros", strings.Repeat("\x00", 17), []string{
			`.byte 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00`,
			`.byte 0x00`}},
		{"long string", long + "\x00", []string{`.ascii "` + long[:64] + `"`, `.asciz "` + long[64:] + `"`}},
		{"long utf-8", strings.Repeat("a", 63) + "é", []string{`.ascii "` + strings.Repeat("a", 63) + `"`, `.byte 0xc3, 0xa9`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := &object.Image{Entry: isa.TextBase, Data: []byte(tc.data), Symbols: []object.Symbol{{"d", isa.DataBase}}}
			var got []string
			inData := false
			for _, line := range strings.Split(disListing(t, img), "\n") {
				if line == ".data" {
					inData = true
					continue
				}
				if inData && strings.HasPrefix(line, object.DisIndent) {
					stmt := line[:strings.LastIndex(line, " # 0x")]
					got = append(got, strings.TrimSpace(stmt))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("data lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDisassembleLabels checks where labels go: at their address, between data runs, at the
// boundary of data and bss, and past the end of the text.
func TestDisassembleLabels(t *testing.T) {
	img := &object.Image{
		Text: []isa.Instr{
			object.ObjMust(t, isa.JMP, isa.Operands{Imm: 0}),
			object.ObjMust(t, isa.CALL, isa.Operands{Imm: -1}),
		},
		Entry: isa.TextBase,
		Data:  []byte("abcdef"),
		BSS:   16,
		Symbols: []object.Symbol{
			{"f", isa.TextBase},
			{"f.here", isa.TextBase},
			{"f.end", isa.CodeAddr(2)},
			{"x", isa.DataBase},
			{"y", isa.DataBase + 2},
			{"z", isa.DataBase + 6},
			{"z.mid", isa.DataBase + 14},
			{"z.end", isa.DataBase + 22},
		},
		Files: []string{"l.s"},
		Lines: []object.Line{{0, 1}, {0, 1}},
	}
	// A branch goes to the local label, a call to the function, .entry to the function.
	want := `# 2 instructions, 0 constants, 6 bytes of data, 16 bytes of bss
.entry f

.text
f:
f.here:
        .loc "l.s" 1
        jmp     f.here                  # 0x00400000  0000003b
        call    f                       # 0x00400004  ffffff3d
f.end:

.data
x:
        .byte 0x61, 0x62                # 0x10000000
y:
        .ascii "cdef"                   # 0x10000002

.bss
z:
        .space 8                        # 0x10000006
z.mid:
        .space 8                        # 0x1000000e
z.end:
`
	if diff := cmp.Diff(want, disListing(t, img)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}

	// Without bss, a label at the end of the data stays in .data.
	img = &object.Image{Entry: isa.TextBase, Data: []byte{1}, Symbols: []object.Symbol{{"end", isa.DataBase + 1}}}
	want = `# 0 instructions, 0 constants, 1 byte of data, 0 bytes of bss
# entry 0x00400000: no instructions

.data
        .byte 0x01                      # 0x10000000
end:
`
	if diff := cmp.Diff(want, disListing(t, img)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
}

// TestDisassembleDamaged lists images that the loader would refuse: the listing must still be
// written, with the damage visible and no panic.
func TestDisassembleDamaged(t *testing.T) {
	img := &object.Image{
		Text: []isa.Instr{
			0xffffffff,
			object.ObjMust(t, isa.LK, isa.Operands{Imm: 9}),
			object.ObjMust(t, isa.JMP, isa.Operands{Imm: 100}),
			object.ObjMust(t, isa.HALT, isa.Operands{}),
		},
		Entry: 0,
		Symbols: []object.Symbol{
			{"zzz", isa.DataBase + 100},
			{"bad name", isa.TextBase},
			{"odd", isa.TextBase + 2},
			{"b", isa.TextBase}, // out of order
		},
		Files: []string{"x.s"},
		Lines: []object.Line{{7, 2}, {0, 0}}, // a bad file index, and too short
	}
	want := `# 4 instructions, 0 constants, 0 bytes of data, 0 bytes of bss
# symbol "bad name" at 0x00400000 cannot be written as a label
# symbol "odd" at 0x00400002 cannot be written as a label
# symbol "zzz" at 0x10000064 cannot be written as a label
.entry 0x00000000

.text
b:
        .word   0xffffffff              # 0x00400000  ffffffff
        .loc "x.s" 0
        .word   0x00009006              # 0x00400004  00009006
        .word   0x0000643b              # 0x00400008  0000643b
        halt                            # 0x0040000c  00000002
`
	if diff := cmp.Diff(want, disListing(t, img)); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	if got, want := disListing(t, nil), "# no image\n"; got != want {
		t.Errorf("nil image: got %q, want %q", got, want)
	}
}

func TestDisassembleNumbers(t *testing.T) {
	for _, tc := range []struct {
		k    uint64
		want string
	}{
		{0, "0"},
		{42, "42"},
		{1 << 32, "4294967296"},
		{1<<32 + 1, "0x100000001"},
		{0xdeadbeefcafe, "0xdeadbeefcafe"},
		{1<<63 - 1, "0x7fffffffffffffff"},
		{1<<64 - 1, "-1"},
		{-(1 << 32) & (1<<64 - 1), "-4294967296"},
		{-(1<<32 + 1) & (1<<64 - 1), "0xfffffffeffffffff"},
		{1 << 63, "0x8000000000000000"},
		{0xdeadbeefcafebabe, "0xdeadbeefcafebabe"},
	} {
		if got := object.DisNumber(tc.k); got != tc.want {
			t.Errorf("object.DisNumber(%#x) = %q, want %q", tc.k, got, tc.want)
		}
	}
}

func TestDisassembleQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"prog.s", `"prog.s"`},
		{`dir "x"\y.s`, `"dir \"x\"\\y.s"`},
		{"a\x00b\x01\x7f", `"a\0b\x01\x7f"`},
		{"ünï €", `"ünï €"`},
		{"\xff", `"\xff"`},
	} {
		if got := object.DisQuote(tc.in); got != tc.want {
			t.Errorf("object.DisQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

type disFailWriter struct{ n int }

func (w *disFailWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 10 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestDisassembleWriteError(t *testing.T) {
	err := object.Disassemble(&disFailWriter{}, object.ObjSample(t))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v, want the writer's", err)
	}
}

// TestDisassembleSampleReassembles checks the round trip from the other end, on an image built
// by hand whose constants and files are in order of first use, as the assembler orders them.
func TestDisassembleSampleReassembles(t *testing.T) {
	img := object.ObjSample(t)
	listing := disListing(t, img)
	again, err := asm.Assemble("sample.s", []byte(listing), nil)
	if err != nil {
		t.Fatalf("assemble the listing: %v\nlisting:\n%s", err, listing)
	}
	if diff := cmp.Diff(img, again, object.ObjCmpOpts, cmpopts.IgnoreFields(object.Image{}, "Sources")); diff != "" {
		t.Errorf("the listing assembles to another image (-want +got):\n%s", diff)
	}
}

// disRoundTripSources returns the programs that the round trip is checked on: every .s file
// under programs/ and testdata/roundtrip/ (files only meant for .include end in .inc).
func disRoundTripSources(t *testing.T) []string {
	var files []string
	for _, root := range []string{filepath.Join("..", "programs"), filepath.Join("..", "asm", "testdata", "roundtrip")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == root {
					return fs.SkipDir
				}
				return err
			}
			if !d.IsDir() && filepath.Ext(path) == ".s" {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestDisassembleRoundTrip checks the listing's promise: assemble, marshal, disassemble,
// assemble the listing, marshal again, and the bytes are the same.
func TestDisassembleRoundTrip(t *testing.T) {
	files := disRoundTripSources(t)
	if len(files) < 5 {
		t.Fatalf("found only %d sources: %v", len(files), files)
	}
	for _, path := range files {
		t.Run(filepath.ToSlash(path), func(t *testing.T) {
			img, err := asm.AssembleFile(path)
			if err != nil {
				t.Fatalf("assemble: %v", err)
			}
			obj := object.ObjMarshal(t, img)
			listing := disListing(t, img)

			again, err := asm.Assemble(path+".listing.s", []byte(listing), nil)
			if err != nil {
				t.Fatalf("assemble the listing: %v\nlisting:\n%s", err, listing)
			}
			if diff := cmp.Diff(img, again, object.ObjCmpOpts, cmpopts.IgnoreFields(object.Image{}, "Sources")); diff != "" {
				t.Errorf("the listing assembles to another image (-want +got):\n%s\nlisting:\n%s", diff, listing)
			}
			if !bytes.Equal(object.ObjMarshal(t, again), obj) {
				t.Errorf("the listing assembles to other object bytes")
			}

			// The listing of the loaded object file is the same as the assembler's.
			loaded, err := object.UnmarshalImage(obj)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if diff := cmp.Diff(listing, disListing(t, loaded)); diff != "" {
				t.Errorf("listing of the object file differs (-assembled +loaded):\n%s", diff)
			}
		})
	}
}
