package object

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spindle-vm/spindle/isa"
)

// objMust encodes one instruction for hand-built test images.
func objMust(t testing.TB, op isa.Opcode, o isa.Operands) isa.Instr {
	t.Helper()
	w, err := isa.Encode(op, o)
	if err != nil {
		t.Fatalf("encode %s %+v: %v", op, o, err)
	}
	return w
}

// objSample is a small program that uses every section of an image:
//
//	main:       lk    a0, msg         (K[0])
//	            li    a1, 7
//	main.loop:  addi  a1, a1, -1
//	            bnez  a1, main.loop
//	            lk    t0, 0x123456789 (K[1])
//	            sd    t0, 8(sp)
//	            call  helper
//	            syscall exit
//	helper:     ret                    (from lib.s)
func objSample(t testing.TB) *Image {
	return &Image{
		Text: []isa.Instr{
			objMust(t, isa.LK, isa.Operands{A: isa.A0, Imm: 0}),
			objMust(t, isa.LI, isa.Operands{A: isa.A1, Imm: 7}),
			objMust(t, isa.ADDI, isa.Operands{A: isa.A1, B: isa.A1, Imm: -1}),
			objMust(t, isa.BNEZ, isa.Operands{A: isa.A1, Imm: -1}),
			objMust(t, isa.LK, isa.Operands{A: isa.T0, Imm: 1}),
			objMust(t, isa.SD, isa.Operands{A: isa.T0, B: isa.SP, Imm: 8}),
			objMust(t, isa.CALL, isa.Operands{Imm: 2}),
			objMust(t, isa.SYSCALL, isa.Operands{Imm: int64(isa.SysExit)}),
			objMust(t, isa.RET, isa.Operands{}),
		},
		Consts: []uint64{isa.DataBase, 0x123456789},
		Data:   []byte("Hello, world\n\x00\x01\x02\xff"),
		BSS:    24,
		Entry:  isa.CodeAddr(0),
		Symbols: []Symbol{
			{"main", isa.CodeAddr(0)},
			{"main.loop", isa.CodeAddr(2)},
			{"helper", isa.CodeAddr(8)},
			{"text_end", isa.CodeAddr(9)},
			{"msg", isa.DataBase},
			{"bytes", isa.DataBase + 14},
			{"buf", isa.DataBase + 17},
			{"buf.end", isa.DataBase + 17 + 24},
		},
		Files: []string{"main.s", "lib.s"},
		Lines: []Line{{0, 3}, {0, 4}, {0, 6}, {0, 7}, {0, 8}, {0, 8}, {0, 9}, {0, 10}, {1, 2}},
	}
}

// objSamples are images that every round trip is checked on.
func objSamples(t testing.TB) map[string]*Image {
	return map[string]*Image{
		"sample": objSample(t),
		"empty":  {Entry: isa.TextBase},
		"bss only": {
			BSS: 1 << 20, Entry: isa.TextBase,
			Symbols: []Symbol{{"heap", isa.DataBase}},
		},
		"one instruction": {
			Text:  []isa.Instr{objMust(t, isa.HALT, isa.Operands{})},
			Entry: isa.TextBase,
			Files: []string{"ünïcode dir/prog.s"},
			Lines: []Line{{0, 1 << 31}},
		},
		"label past text": {
			Text:    []isa.Instr{objMust(t, isa.JMP, isa.Operands{Imm: 0})},
			Entry:   isa.TextBase,
			Symbols: []Symbol{{"end", isa.CodeAddr(1)}, {"start", isa.DataBase}},
			Files:   []string{""},
			Lines:   []Line{{0, 0}},
		},
	}
}

func objMarshal(t testing.TB, img *Image) []byte {
	t.Helper()
	b, err := img.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	return b
}

// objRaw encodes img without validating it, to build invalid files.
func objRaw(t testing.TB, img *Image) []byte {
	t.Helper()
	b, err := objEncode(img)
	if err != nil {
		t.Fatalf("objEncode: %v", err)
	}
	return b
}

var objCmpOpts = cmp.Options{cmpopts.EquateEmpty()}

func TestObjectRoundTrip(t *testing.T) {
	for name, img := range objSamples(t) {
		t.Run(name, func(t *testing.T) {
			b := objMarshal(t, img)
			if !IsObject(b) {
				t.Errorf("IsObject(marshalled image) = false")
			}
			got, err := UnmarshalImage(b)
			if err != nil {
				t.Fatalf("UnmarshalImage: %v", err)
			}
			if diff := cmp.Diff(img, got, objCmpOpts); diff != "" {
				t.Errorf("image changed in a round trip (-want +got):\n%s", diff)
			}
			if again := objMarshal(t, got); !bytes.Equal(again, b) {
				t.Errorf("re-marshalled bytes differ:\n%x\n%x", b, again)
			}
		})
	}
}

func TestObjectDropsSources(t *testing.T) {
	img := objSample(t)
	img.Sources = map[string][]byte{"main.s": []byte("main: halt\n")}
	got, err := UnmarshalImage(objMarshal(t, img))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sources != nil {
		t.Errorf("Sources = %v, want nil: object files do not store sources", got.Sources)
	}
}

// TestObjectLayout pins the byte layout that docs/object.md describes, on the smallest image
// with one element in every section.
func TestObjectLayout(t *testing.T) {
	img := &Image{
		Text:    []isa.Instr{0x00000002},
		Consts:  []uint64{0x1122334455667788},
		Data:    []byte{0xab},
		BSS:     3,
		Entry:   isa.TextBase,
		Symbols: []Symbol{{"m", isa.TextBase}},
		Files:   []string{"f"},
		Lines:   []Line{{0, 5}},
	}
	want := []byte{
		0x7f, 'S', 'P', 'O', // magic
		1, 0, 0, 0, // version
		1, 0, 0, 0, 0x02, 0, 0, 0, // text
		1, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // consts
		1, 0, 0, 0, 0xab, // data
		3, 0, 0, 0, 0, 0, 0, 0, // bss
		0, 0, 0x40, 0, 0, 0, 0, 0, // entry
		1, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'm', // symbols
		1, 0, 0, 0, 1, 0, 0, 0, 'f', // files
		1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, // lines
	}
	if diff := cmp.Diff(want, objMarshal(t, img)); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}

func TestIsObject(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{nil, false},
		{[]byte("\x7fSP"), false},
		{[]byte("\x7fSPO"), true},
		{[]byte("\x7fSPOanything"), true},
		{[]byte("main: halt\n"), false},
		{[]byte("\x7fELF"), false},
	} {
		if got := IsObject(tc.b); got != tc.want {
			t.Errorf("IsObject(%q) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

// objWantError checks that err is an *ObjectError whose message contains want.
func objWantError(t *testing.T, err error, want string) *ObjectError {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error containing %q", want)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v is a %T, want *ObjectError", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	return oe
}

func TestObjectTruncated(t *testing.T) {
	for name, img := range objSamples(t) {
		b := objMarshal(t, img)
		for n := range len(b) {
			got, err := UnmarshalImage(b[:n])
			if err == nil {
				t.Fatalf("%s: accepted the first %d of %d bytes: %+v", name, n, len(b), got)
			}
			var oe *ObjectError
			if !errors.As(err, &oe) || oe.Offset > n {
				t.Fatalf("%s: truncated to %d bytes: error %v has no offset within the file", name, n, err)
			}
		}
	}
}

func TestObjectBitFlips(t *testing.T) {
	b := objMarshal(t, objSample(t))
	rejected := 0
	for bit := range 8 * len(b) {
		c := bytes.Clone(b)
		c[bit/8] ^= 1 << (bit % 8)
		img, err := UnmarshalImage(c)
		if err != nil {
			rejected++
			continue
		}
		again, err := img.MarshalBinary()
		if err != nil {
			t.Fatalf("bit %d: accepted, but the image does not marshal: %v", bit, err)
		}
		if !bytes.Equal(again, c) {
			t.Fatalf("bit %d: accepted, but marshals to different bytes", bit)
		}
	}
	// Most flips hit a count, a name or an instruction field and must be caught.
	if rejected < 8*len(b)/2 {
		t.Errorf("only %d of %d bit flips rejected", rejected, 8*len(b))
	}
}

// objPatch32 returns a copy of b with the u32 at off replaced.
func objPatch32(b []byte, off int, v uint32) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

func TestObjectHugeCounts(t *testing.T) {
	img := &Image{
		Text:    []isa.Instr{0x00000002},
		Consts:  []uint64{1},
		Data:    []byte{1},
		Entry:   isa.TextBase,
		Symbols: []Symbol{{"m", isa.TextBase}},
		Files:   []string{"f"},
		Lines:   []Line{{0, 5}},
	}
	b := objMarshal(t, img)
	// Offsets of the counts in this image's file; TestObjectLayout pins them.
	for _, tc := range []struct {
		field string
		off   int
		want  string
		limit string // the message for a count over the format's limit, if it has one
	}{
		{"text", 8, "text section declares %d instructions (%d bytes), but only", "text section declares %d instructions, more than the limit of 16777216"},
		{"consts", 16, "constant pool declares %d constants (%d bytes), but only", ""},
		{"data", 28, "data section declares %d bytes, but only", "data section declares %d bytes, more than the limit of 1073741824"},
		{"symbols", 49, "symbol table declares %d symbols (at least %d bytes), but only", ""},
		{"files", 66, "file table declares %d names (at least %d bytes), but only", ""},
		{"lines", 75, "line table declares %d entries (%d bytes), but only", ""},
	} {
		for _, n := range []uint32{1 << 20, 1<<32 - 1} {
			t.Run(fmt.Sprintf("%s=%d", tc.field, n), func(t *testing.T) {
				c := objPatch32(b, tc.off, n)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				_, err := UnmarshalImage(c)
				runtime.ReadMemStats(&after)
				size := map[string]uint64{"text": 4, "consts": 8, "data": 1, "symbols": 13, "files": 4, "lines": 8}[tc.field]
				want := tc.want
				if n > 1<<30 && tc.limit != "" {
					want = tc.limit
				}
				if strings.Count(want, "%d") == 2 {
					want = fmt.Sprintf(want, n, uint64(n)*size)
				} else {
					want = fmt.Sprintf(want, n)
				}
				oe := objWantError(t, err, want)
				if oe.Offset != tc.off {
					t.Errorf("offset %d, want %d", oe.Offset, tc.off)
				}
				if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
					t.Errorf("rejecting a %d-byte file allocated %d bytes", len(c), got)
				}
			})
		}
	}
}

// TestObjectBriefExample checks the whole message of the most common damage: a count that the
// file cannot hold.
func TestObjectBriefExample(t *testing.T) {
	b := objMarshal(t, &Image{Entry: isa.TextBase})
	b = objPatch32(b, 8, 1000000)
	_, err := UnmarshalImage(b)
	want := fmt.Sprintf("object file: byte 8: text section declares 1000000 instructions (4000000 bytes), but only %d bytes remain", len(b)-12)
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
}

// objReject is one rejection class: an image (or bytes) that the loader must refuse.
type objReject struct {
	name  string
	edit  func(img *Image)                   // applied to objSample before encoding, if not nil
	bytes func(b []byte) []byte              // applied to the encoded bytes, if not nil
	want  string                             // part of the error message
	check func(t *testing.T, e *ObjectError) // optional
}

func TestObjectRejects(t *testing.T) {
	sample := objSample(t)
	textOff := 12 // first instruction word
	for _, tc := range []objReject{
		// Header.
		{name: "empty file", bytes: func([]byte) []byte { return nil }, want: "0 bytes are too few for the 4-byte magic"},
		{name: "bad magic", bytes: func(b []byte) []byte { b[1] = 's'; return b }, want: "not an object file: it starts with 7f 73 50 4f"},
		{name: "source text", bytes: func([]byte) []byte { return []byte("main: halt\n") }, want: "not an object file"},
		{name: "version 0", bytes: func(b []byte) []byte { return objPatch32(b, 4, 0) }, want: "version 0 is not supported; this build reads version 1 only"},
		{name: "version 2", bytes: func(b []byte) []byte { return objPatch32(b, 4, 2) }, want: "version 2 is not supported; this build reads version 1 only",
			check: func(t *testing.T, e *ObjectError) {
				if e.Offset != 4 {
					t.Errorf("offset %d, want 4", e.Offset)
				}
			}},
		{name: "trailing bytes", bytes: func(b []byte) []byte { return append(b, 0, 0, 0) }, want: "3 unexpected bytes after the line table"},

		// Instructions.
		{name: "reserved bits", edit: func(img *Image) { img.Text[8] |= 1 << 20 }, want: "text word 8 at 0x00400020 (0010003f): ret: reserved bits set in 0x0010003f",
			check: func(t *testing.T, e *ObjectError) {
				if e.Offset != textOff+4*8 {
					t.Errorf("offset %d, want %d", e.Offset, textOff+4*8)
				}
			}},
		{name: "reserved bits of ABC", edit: func(img *Image) {
			img.Text[1] = objMust(t, isa.ADD, isa.Operands{A: 1, B: 2, C: 3}) | 1<<31
		}, want: "add: reserved bits set"},
		{name: "undefined opcode", edit: func(img *Image) { img.Text[0] = 0xff }, want: "text word 0 at 0x00400000 (000000ff): undefined opcode 255"},
		{name: "first undefined opcode", edit: func(img *Image) { img.Text[0] = isa.Instr(isa.NumOpcodes) }, want: fmt.Sprintf("undefined opcode %d", isa.NumOpcodes)},
		{name: "branch before text", edit: func(img *Image) { img.Text[3] = objMust(t, isa.BNEZ, isa.Operands{A: 1, Imm: -4}) },
			want: "text word 3 at 0x0040000c (ffffc13a): bnez: target -4 instructions lands outside the text of 9 instructions"},
		{name: "branch past text", edit: func(img *Image) { img.Text[6] = objMust(t, isa.CALL, isa.Operands{Imm: 3}) }, want: "call: target +3 instructions lands outside"},
		{name: "jump to the end", edit: func(img *Image) { img.Text[8] = objMust(t, isa.JMP, isa.Operands{Imm: 1}) }, want: "jmp: target +1 instructions lands outside"},
		{name: "lk index", edit: func(img *Image) { img.Text[4] = objMust(t, isa.LK, isa.Operands{A: 1, Imm: 2}) },
			want: "text word 4 at 0x00400010 (lk): constant index 2, but the pool holds 2 constants"},
		{name: "text limit", bytes: func(b []byte) []byte { return objPatch32(b, 8, objMaxText+1) }, want: fmt.Sprintf("text section declares %d instructions, more than the limit of %d", objMaxText+1, objMaxText)},

		// Data.
		{name: "bss too big", edit: func(img *Image) { img.BSS = 1<<30 + 1; img.Symbols = img.Symbols[:4] }, want: "bss size 1073741825 exceeds the limit of 1073741824 bytes"},
		{name: "data limit", bytes: func(b []byte) []byte {
			img := &Image{Entry: isa.TextBase}
			return objPatch32(objRaw(t, img), 16, objMaxData+1)
		}, want: "data section declares 1073741825 bytes, more than the limit of 1073741824"},
		{name: "bss huge", edit: func(img *Image) { img.BSS = 1<<64 - 1; img.Symbols = img.Symbols[:4] }, want: "bss size 18446744073709551615 exceeds"},

		// Entry.
		{name: "entry unaligned", edit: func(img *Image) { img.Entry = isa.TextBase + 2 }, want: "entry point 0x00400002 is not the address of an instruction (the text holds 9, at 0x00400000 to 0x00400020)"},
		{name: "entry at end", edit: func(img *Image) { img.Entry = isa.CodeAddr(9) }, want: "entry point 0x00400024 is not the address of an instruction"},
		{name: "entry in data", edit: func(img *Image) { img.Entry = isa.DataBase }, want: "entry point 0x10000000 is not"},
		{name: "entry zero", edit: func(img *Image) { img.Entry = 0 }, want: "entry point 0x00000000 is not"},
		{name: "entry of empty text", edit: func(img *Image) { *img = Image{Entry: isa.TextBase + 4} }, want: "the text is empty, so the entry must be 0x00400000"},

		// Symbols.
		{name: "symbol name empty", edit: func(img *Image) { img.Symbols[0].Name = "" }, want: `symbol 0: name "" is not a label`},
		{name: "symbol name digit", edit: func(img *Image) { img.Symbols[0].Name = "1main" }, want: `symbol 0: name "1main" is not a label`},
		{name: "symbol name two dots", edit: func(img *Image) { img.Symbols[1].Name = "main.loop.x" }, want: `name "main.loop.x" is not a label`},
		{name: "symbol name leading dot", edit: func(img *Image) { img.Symbols[1].Name = ".loop" }, want: `name ".loop" is not a label`},
		{name: "symbol name trailing dot", edit: func(img *Image) { img.Symbols[1].Name = "main." }, want: `name "main." is not a label`},
		{name: "symbol name space", edit: func(img *Image) { img.Symbols[0].Name = "ma in" }, want: `name "ma in" is not a label`},
		{name: "symbol name a register", edit: func(img *Image) { img.Symbols[0].Name = "a0" }, want: `symbol 0: name "a0" is not a label: a label is an identifier ([A-Za-z_][A-Za-z0-9_]*) other than a register's name`},
		{name: "symbol scope a register", edit: func(img *Image) { img.Symbols[1].Name = "sp.loop" }, want: `name "sp.loop" is not a label`},
		{name: "symbol name not UTF-8", edit: func(img *Image) { img.Symbols[0].Name = "m\xff" }, want: `name "m\xff" is not a label`},
		{name: "symbol name too long", edit: func(img *Image) { img.Symbols[0].Name = strings.Repeat("m", objMaxName+1) },
			want: "symbol 0 name is 4097 bytes long, more than the limit of 4096"},
		{name: "symbol name past the end", bytes: func(b []byte) []byte {
			img := &Image{Entry: isa.TextBase, Symbols: []Symbol{{"abc", isa.DataBase}}}
			c := objRaw(t, img)
			c = c[:len(c)-8-2] // cut into the name; the files and lines counts go too
			return c
		}, want: "symbol 0 name declares 3 bytes, but only 1 remain"},
		{name: "symbol duplicate", edit: func(img *Image) { img.Symbols[2].Name = "main" }, want: `symbol 2: name "main" is already the name of symbol 0`},
		{name: "symbols unsorted by address", edit: func(img *Image) {
			img.Symbols[1], img.Symbols[2] = img.Symbols[2], img.Symbols[1]
		}, want: `symbol 2 "main.loop" at 0x00400008 comes after symbol 1 "helper" at 0x00400020: symbols must be sorted by address, then name`},
		{name: "symbols unsorted by name", edit: func(img *Image) {
			img.Symbols = []Symbol{{"b", isa.TextBase}, {"a", isa.TextBase}}
		}, want: `symbol 1 "a" at 0x00400000 comes after symbol 0 "b"`},
		{name: "symbol unaligned in text", edit: func(img *Image) { img.Symbols[1].Addr = isa.TextBase + 6 },
			want: `symbol 1 "main.loop": address 0x00400006 is neither an instruction boundary in the text (0x00400000 to 0x00400024) nor in the data and bss (0x10000000 to 0x10000029)`},
		{name: "symbol past text", edit: func(img *Image) { img.Symbols[3].Addr = isa.CodeAddr(10) }, want: `symbol 3 "text_end": address 0x00400028 is neither`},
		{name: "symbol below text", edit: func(img *Image) { img.Symbols = []Symbol{{"zero", 0}} }, want: `symbol 0 "zero": address 0x00000000 is neither`},
		{name: "symbol between sections", edit: func(img *Image) { img.Symbols = []Symbol{{"gap", isa.DataBase - 8}} }, want: `address 0x0ffffff8 is neither`},
		{name: "symbol past bss", edit: func(img *Image) { img.Symbols[7].Addr++ }, want: `symbol 7 "buf.end": address 0x1000002a is neither`},

		// Files and lines.
		{name: "file duplicate", edit: func(img *Image) { img.Files[1] = "main.s" }, want: `file 1: name "main.s" is already the name of file 0`},
		{name: "file not UTF-8", edit: func(img *Image) { img.Files[1] = "lib\xc3.s" }, want: `file 1: name "lib\xc3.s" is not valid UTF-8`},
		{name: "file name too long", edit: func(img *Image) { img.Files[1] = strings.Repeat("x", objMaxName+1) }, want: "file 1 name is 4097 bytes long"},
		{name: "lines missing", edit: func(img *Image) { img.Lines = img.Lines[:8] }, want: "line table has 8 entries, but the text has 9 instructions"},
		{name: "lines extra", edit: func(img *Image) { img.Lines = append(img.Lines, Line{}) }, want: "line table has 10 entries, but the text has 9"},
		{name: "lines without text", edit: func(img *Image) { *img = Image{Entry: isa.TextBase, Files: []string{"a"}, Lines: []Line{{0, 1}}} },
			want: "line table has 1 entries, but the text has 0 instructions"},
		{name: "line file index", edit: func(img *Image) { img.Lines[8].File = 2 },
			want: "line entry 8 (instruction at 0x00400020): file index 2, but the file table holds 2 names"},
		{name: "line file index without files", edit: func(img *Image) { img.Files = nil },
			want: "line entry 0 (instruction at 0x00400000): file index 0, but the file table holds 0 names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := objSample(t)
			if tc.edit != nil {
				tc.edit(img)
			}
			b := objRaw(t, img)
			if tc.bytes != nil {
				b = tc.bytes(b)
			}
			_, err := UnmarshalImage(b)
			e := objWantError(t, err, tc.want)
			if e.Offset < 0 || e.Offset > len(b) {
				t.Errorf("offset %d outside the file of %d bytes", e.Offset, len(b))
			}
			if tc.check != nil {
				tc.check(t, e)
			}
			if tc.bytes == nil {
				// What the loader refuses, the writer refuses to write.
				if _, err := img.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "cannot store image") {
					t.Errorf("MarshalBinary: error %v, want it to refuse the image", err)
				}
			}
		})
	}
	if diff := cmp.Diff(objSample(t), sample, objCmpOpts); diff != "" {
		t.Errorf("objSample is not deterministic:\n%s", diff)
	}
}

func TestMarshalNil(t *testing.T) {
	var img *Image
	if _, err := img.MarshalBinary(); err == nil {
		t.Error("MarshalBinary of a nil image succeeded")
	}
}

// FuzzUnmarshalImage checks that the loader never panics, and that whatever it accepts is in
// the one canonical encoding: it marshals back to the same bytes. What it accepts also lists
// without a raw .word.
func FuzzUnmarshalImage(f *testing.F) {
	for _, img := range objSamples(f) {
		b := objMarshal(f, img)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := UnmarshalImage(b)
		if err != nil {
			var oe *ObjectError
			if !errors.As(err, &oe) {
				t.Fatalf("error %v is a %T, want *ObjectError", err, err)
			}
			return
		}
		again, err := img.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted image does not marshal: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted image marshals to different bytes:\n in %x\nout %x", b, again)
		}
		// Every instruction of a valid image has a mnemonic form: .word is for damage only.
		var listing strings.Builder
		if err := Disassemble(&listing, img); err != nil {
			t.Fatalf("Disassemble: %v", err)
		}
		if strings.Contains(listing.String(), ".word") {
			t.Fatalf("listing of a valid image has a .word:\n%s", listing.String())
		}
	})
}

// TestUnmarshalSharesData checks that reading an object file does not copy its data section,
// which may be 1 GiB: the image's Data is the file's own bytes.
func TestUnmarshalSharesData(t *testing.T) {
	img := &Image{Text: []isa.Instr{objMust(t, isa.HALT, isa.Operands{})}, Entry: isa.TextBase, Data: make([]byte, 16<<20),
		Files: []string{""}, Lines: []Line{{0, 0}}}
	b := objMarshal(t, img)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := UnmarshalImage(b)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := after.TotalAlloc - before.TotalAlloc; allocs > 1<<20 {
		t.Errorf("UnmarshalImage allocated %d bytes for an object with 16 MiB of data; it must not copy the data", allocs)
	}
	start, at := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&got.Data[0]))
	if len(got.Data) != 16<<20 || at < start || at >= start+uintptr(len(b)) {
		t.Errorf("the image's data is not the file's bytes")
	}
}

// TestLoadRefusesHugeFiles checks that a file larger than an object file may be is refused by
// its size, before any of it is read.
func TestLoadRefusesHugeFiles(t *testing.T) {
	never := readerFunc(func([]byte) (int, error) { t.Fatal("the file was read"); return 0, nil })
	_, err := Load("huge.spo", io.MultiReader(strings.NewReader(objMagic), never), 3<<30, nil)
	var oe *ObjectError
	if !errors.As(err, &oe) || !strings.Contains(oe.Msg, "more than the most an object file may have") {
		t.Fatalf("Load of a 3 GiB object file: %v, want an ObjectError for its size", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// TestLoadSource checks that Load hands a source to the assembler it is given, and refuses it
// without one.
func TestLoadSource(t *testing.T) {
	want := &Image{Entry: isa.TextBase}
	img, err := Load("prog.s", strings.NewReader("main: ret\n"), 10, func(name string, r io.Reader) (*Image, error) {
		if b, _ := io.ReadAll(r); name != "prog.s" || string(b) != "main: ret\n" {
			t.Errorf("the assembler got %q, %q", name, b)
		}
		return want, nil
	})
	if err != nil || img != want {
		t.Errorf("Load of a source: %v, %v", img, err)
	}
	if _, err := Load("prog.s", strings.NewReader("main: ret\n"), 10, nil); err == nil {
		t.Error("Load of a source without an assembler succeeded")
	}
}
