package asm

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txtar with what the assembler produces")

// The golden tests: each testdata/*.txtar holds a program, prog.s (and the files it includes),
// and what assembling it must give, one section per part of the image: text, consts, data, bss,
// symbols, entry, files; or errors, the exact text of the error list. The instructions are
// decoded and printed by this file's own formatter, so that a test of the assembler does not
// rest on the disassembler.

// goldenSections are the sections a golden file may expect, in the order they are written.
var goldenSections = []string{"text", "consts", "data", "bss", "symbols", "entry", "files", "errors"}

func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := assembleArchive(ar)
			if _, failed := got["errors"]; failed && !hasSection(ar, "errors") {
				t.Fatalf("assembly failed:\n%s", got["errors"])
			}
			expected := 0
			for i, f := range ar.Files {
				want, ok := got[f.Name]
				if !isGoldenSection(f.Name) {
					continue
				}
				expected++
				if !ok {
					t.Errorf("section %s expected, but assembly succeeded", f.Name)
					continue
				}
				if *update {
					ar.Files[i].Data = []byte(want)
					continue
				}
				if d := cmp.Diff(strings.Split(string(f.Data), "\n"), strings.Split(want, "\n")); d != "" {
					t.Errorf("section %s (-want +got):\n%s", f.Name, d)
				}
			}
			if expected == 0 {
				t.Fatal("the golden file expects nothing")
			}
			if *update {
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func isGoldenSection(name string) bool {
	for _, s := range goldenSections {
		if s == name {
			return true
		}
	}
	return false
}

func hasSection(ar *txtar.Archive, name string) bool {
	for _, f := range ar.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// archiveFiles returns the source files of a golden archive, and a ReadFile that reads them.
func archiveFiles(ar *txtar.Archive) (map[string][]byte, *Options) {
	files := map[string][]byte{}
	for _, f := range ar.Files {
		if !isGoldenSection(f.Name) {
			files[f.Name] = f.Data
		}
	}
	return files, &Options{ReadFile: mapReader(files)}
}

// mapReader reads files from memory, as .include needs them.
func mapReader(files map[string][]byte) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

// assembleArchive assembles prog.s of a golden archive and returns its sections.
func assembleArchive(ar *txtar.Archive) map[string]string {
	files, opts := archiveFiles(ar)
	img, err := Assemble("prog.s", files["prog.s"], opts)
	if err != nil {
		return map[string]string{"errors": err.Error() + "\n"}
	}
	return dumpImage(img)
}

// dumpImage prints each part of an image in the golden files' format.
func dumpImage(img *object.Image) map[string]string {
	out := map[string]string{}
	var b strings.Builder
	for i, w := range img.Text {
		pc := isa.CodeAddr(i)
		pos := "?"
		if i < len(img.Lines) && int(img.Lines[i].File) < len(img.Files) {
			pos = fmt.Sprintf("%s:%d", img.Files[img.Lines[i].File], img.Lines[i].Line)
		}
		fmt.Fprintf(&b, "%#08x  %-28s %s\n", pc, formatInstr(w, pc), pos)
	}
	out["text"] = b.String()
	b.Reset()
	for i, k := range img.Consts {
		fmt.Fprintf(&b, "K%d = %#x\n", i, k)
	}
	out["consts"] = b.String()
	b.Reset()
	for off := 0; off < len(img.Data); off += 16 {
		row := img.Data[off:min(off+16, len(img.Data))]
		hex := make([]string, len(row))
		for i, c := range row {
			hex[i] = fmt.Sprintf("%02x", c)
		}
		fmt.Fprintf(&b, "%#08x  %s\n", isa.DataBase+uint64(off), strings.Join(hex, " "))
	}
	out["data"] = b.String()
	out["bss"] = fmt.Sprintf("%d\n", img.BSS)
	b.Reset()
	for _, s := range img.Symbols {
		fmt.Fprintf(&b, "%#08x  %s\n", s.Addr, s.Name)
	}
	out["symbols"] = b.String()
	out["entry"] = fmt.Sprintf("%#08x\n", img.Entry)
	b.Reset()
	for _, f := range img.Files {
		fmt.Fprintf(&b, "%s\n", f)
	}
	out["files"] = b.String()
	return out
}

// formatInstr prints a decoded instruction: registers by alias, branch offsets with the address
// they reach, constants by pool index.
func formatInstr(w isa.Instr, pc uint64) string {
	op, o, err := isa.Decode(w)
	if err != nil {
		return fmt.Sprintf(".word %#08x", uint32(w))
	}
	in := isa.Table[op]
	a, b, c := isa.RegName(o.A), isa.RegName(o.B), isa.RegName(o.C)
	target := fmt.Sprintf("%+d [%#08x]", o.Imm, int64(pc)+4*o.Imm)
	var ops string
	switch in.Format {
	case isa.FmtA:
		ops = a
	case isa.FmtAB:
		ops = a + ", " + b
	case isa.FmtABC:
		ops = a + ", " + b + ", " + c
	case isa.FmtABI:
		ops = fmt.Sprintf("%s, %s, %d", a, b, o.Imm)
	case isa.FmtMem:
		ops = fmt.Sprintf("%s, %d(%s)", a, o.Imm, b)
	case isa.FmtBranch:
		ops = a + ", " + b + ", " + target
	case isa.FmtAI:
		ops = fmt.Sprintf("%s, %d", a, o.Imm)
	case isa.FmtAK:
		ops = fmt.Sprintf("%s, K%d", a, o.Imm)
	case isa.FmtBranchZ:
		ops = a + ", " + target
	case isa.FmtJ:
		ops = target
	case isa.FmtU24:
		ops = fmt.Sprint(o.Imm)
	}
	if ops == "" {
		return in.Name
	}
	return in.Name + " " + ops
}

// assemble assembles a program that must be correct.
func assemble(t *testing.T, src string) *object.Image {
	t.Helper()
	img, err := Assemble("prog.s", []byte(src), nil)
	if err != nil {
		t.Fatalf("assembly failed:\n%v", err)
	}
	return img
}

// textOf returns the instructions of an image as formatInstr prints them.
func textOf(img *object.Image) []string {
	var out []string
	for i, w := range img.Text {
		out = append(out, formatInstr(w, isa.CodeAddr(i)))
	}
	return out
}

func TestExpressions(t *testing.T) {
	tests := []struct {
		expr string
		want int64
	}{
		{"1 + 2 * 3", 7},
		{"(1 + 2) * 3", 9},
		{"10 - 4 - 3", 3},
		{"100 / 10 / 5", 2},
		{"-7 / 2", -3},
		{"-7 % 3", -1},
		{"1 << 4 + 1", 32},
		{"1 | 2 ^ 3 & 5", 3},
		{"6 & 3 | 8", 10},
		{"-1 >> 60", -1},
		{"0x8000000000000000 >> 63", -1},
		{"~0", -1},
		{"- -5", 5},
		{"+5", 5},
		{"~0x0f & 0xff", 0xf0},
		{"0b1010_1010", 0xaa},
		{"0o777", 511},
		{"0xdead_BEEF", 0xdeadbeef},
		{"1_000_000", 1000000},
		{"'a'", 97},
		{"'\\n'", 10},
		{"'\\x41' + 1", 66},
		{"'\\''", 39},
		{"'é'", 233},
		{"0xffffffffffffffff", -1},
		{"0x7fffffffffffffff + 1", -1 << 63},
		{"-0x7fffffffffffffff - 1", -1 << 63},
		{"(-0x7fffffffffffffff - 1) / -1", -1 << 63},
		{"3 * (2 + (1 + (4 - 1)))", 18},
		{"SIZE * 2", 128},
		{"end - start", 12},
		{". - start", 16},
		{"start", isa.DataBase},
	}
	for _, tc := range tests {
		src := fmt.Sprintf(".equ SIZE, 64\n.data\nstart: .word 1, 2, 3\nend: .space 4\n.quad %s\n", tc.expr)
		img, err := Assemble("prog.s", []byte(src), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		got := int64(0)
		for i := 7; i >= 0; i-- {
			got = got<<8 | int64(img.Data[16+i])
		}
		if got != tc.want {
			t.Errorf("%s = %d, want %d", tc.expr, got, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "0", want: 0},
		{in: "007", want: 7},
		{in: "0X1f", want: 31},
		{in: "0B11", want: 3},
		{in: "18446744073709551615", want: -1},
		{in: "18446744073709551616", err: "number '18446744073709551616' does not fit in 64 bits"},
		{in: "0x", err: "invalid number '0x'"},
		{in: "0x1g", err: "invalid hexadecimal number '0x1g'"},
		{in: "12abc", err: "invalid decimal number '12abc'"},
		{in: "0b102", err: "invalid binary number '0b102'"},
		{in: "0o8", err: "invalid octal number '0o8'"},
	}
	for _, tc := range tests {
		v, msg := parseNumber(tc.in)
		if d := cmp.Diff(tc.err, msg); d != "" {
			t.Errorf("parseNumber(%q) error (-want +got):\n%s", tc.in, d)
		}
		if msg == "" && v != tc.want {
			t.Errorf("parseNumber(%q) = %d, want %d", tc.in, v, tc.want)
		}
	}
}

func TestStrings(t *testing.T) {
	img := assemble(t, `.data
.ascii "a\tb\n", "\x00\xff\\\"'"
.asciz "é"
.string ""
.ascii "#;"   # a comment; not part of the string
`)
	want := []byte("a\tb\n\x00\xff\\\"'é\x00\x00#;")
	if d := cmp.Diff(want, img.Data); d != "" {
		t.Errorf("data (-want +got):\n%s", d)
	}
}

func TestConstantPool(t *testing.T) {
	img := assemble(t, `main:
	li a0, 0x100000      # one past the 20-bit range: the pool
	lk a1, 7             # lk always uses the pool
	li a2, 0x100000      # the same constant again: the same entry
	la a3, msg
	li a4, -524288       # the most negative 20-bit value: li
	li a5, -524289
	lk t0, 7
	halt
.data
msg: .byte 1
`)
	if d := cmp.Diff([]uint64{0x100000, 7, isa.DataBase, 0xfffffffffff7ffff}, img.Consts); d != "" {
		t.Errorf("consts (-want +got):\n%s", d)
	}
	want := []string{"lk a0, K0", "lk a1, K1", "lk a2, K0", "lk a3, K2", "li a4, -524288", "lk a5, K3", "lk t0, K1", "halt"}
	if d := cmp.Diff(want, textOf(img)); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
}

func TestCaseInsensitive(t *testing.T) {
	img := assemble(t, "Main:\n\tADD A0, R1, Sp\n\tLi T0, 5\n\tSYSCALL Exit\n\t.TEXT\n")
	want := []string{"add a0, a1, sp", "li t0, 5", "syscall 1"}
	if d := cmp.Diff(want, textOf(img)); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	// Labels are not: Main is not main, so the entry is the first instruction by default.
	if d := cmp.Diff([]object.Symbol{{Name: "Main", Addr: isa.TextBase}}, img.Symbols); d != "" {
		t.Errorf("symbols (-want +got):\n%s", d)
	}
}

func TestEntry(t *testing.T) {
	tests := []struct {
		name, src string
		want      uint64
	}{
		{"first instruction", "start: nop\nhalt\n", isa.TextBase},
		{"main", "nop\nmain: halt\n", isa.TextBase + 4},
		{"entry over main", ".entry go\nmain: nop\ngo: halt\n", isa.TextBase + 4},
		{"entry by address", ".entry 0x00400008\nnop\nnop\nhalt\n", isa.TextBase + 8},
		{"empty text", ".data\n.byte 1\n", isa.TextBase},
		{"empty text named", ".entry 0x00400000\n", isa.TextBase},
	}
	for _, tc := range tests {
		img, err := Assemble("prog.s", []byte(tc.src), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if img.Entry != tc.want {
			t.Errorf("%s: entry %#x, want %#x", tc.name, img.Entry, tc.want)
		}
	}
}

func TestLinesAndFiles(t *testing.T) {
	files := map[string][]byte{
		"src/main.s":  []byte("main:\n\t.include \"lib/a.s\"\n\tcall f\n\tpush a0, a1\n"),
		"src/lib/a.s": []byte("\tnop\n\t.include \"b.s\"\nf:\tret\n"),
		"src/lib/b.s": []byte("\n\n\thalt\n"),
	}
	img, err := Assemble("src/main.s", files["src/main.s"], &Options{ReadFile: mapReader(files)})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"src/lib/a.s", "src/lib/b.s", "src/main.s"}, img.Files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	wantLines := []object.Line{{File: 0, Line: 1}, {File: 1, Line: 3}, {File: 0, Line: 3}, {File: 2, Line: 3}, {File: 2, Line: 4}, {File: 2, Line: 4}}
	if d := cmp.Diff(wantLines, img.Lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	var names []string
	for name := range img.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	if d := cmp.Diff([]string{"src/lib/a.s", "src/lib/b.s", "src/main.s"}, names); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	if !bytes.Equal(img.Sources["src/lib/b.s"], files["src/lib/b.s"]) {
		t.Errorf("source of b.s is %q", img.Sources["src/lib/b.s"])
	}
}

func TestAssembleFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "inc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("prog.s", ".include \"inc/consts.s\"\nmain: li a0, ANSWER\n\tsyscall exit\n")
	write("inc/consts.s", ".equ ANSWER, 42\n")
	img, err := AssembleFile(filepath.Join(dir, "prog.s"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"li a0, 42", "syscall 1"}, textOf(img)); d != "" {
		t.Errorf("text (-want +got):\n%s", d)
	}
	if _, err := AssembleFile(filepath.Join(dir, "missing.s")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want an error that is fs.ErrNotExist", err)
	}
}

// TestListingReassembles checks the promise between the assembler and the disassembler: the
// listing of any image assembled from the golden programs, or from the example programs,
// assembles back to the same image.
func TestListingReassembles(t *testing.T) {
	var images []*object.Image
	var names []string
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files, opts := archiveFiles(ar)
		if img, err := Assemble("prog.s", files["prog.s"], opts); err == nil {
			images, names = append(images, img), append(names, path)
		}
	}
	programs, _ := filepath.Glob("../programs/*.s")
	more, _ := filepath.Glob("../programs/*/*.s")
	for _, path := range append(programs, more...) {
		img, err := AssembleFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		images, names = append(images, img), append(names, path)
	}
	if len(images) < len(paths) {
		t.Fatalf("only %d programs to list", len(images))
	}
	for i, img := range images {
		path := names[i]
		var listing bytes.Buffer
		if err := object.Disassemble(&listing, img); err != nil {
			t.Fatal(err)
		}
		again, err := Assemble("listing.s", listing.Bytes(), nil)
		if err != nil {
			t.Errorf("%s: the listing does not assemble:\n%v\n%s", path, err, listing.Bytes())
			continue
		}
		img.Sources, again.Sources = nil, nil
		if d := cmp.Diff(img, again); d != "" {
			t.Errorf("%s: the listing assembles to another image (-want +got):\n%s", path, d)
		}
	}
}

func BenchmarkAssemble(b *testing.B) {
	var src strings.Builder
	src.WriteString("main:\n")
	for i := range 1000 {
		fmt.Fprintf(&src, "l%d:\tadd a0, a1, a2   # comment\n\tlw t0, %d(sp)\n\tbeq a0, a1, l%d\n\tli a0, %d * 4 + (3 << 2)\n", i, i%100, i, i*1000)
	}
	b.SetBytes(int64(src.Len()))
	for b.Loop() {
		if _, err := Assemble("bench.s", []byte(src.String()), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDocExamples assembles every ```asm block of docs/assembly.md, so that the manual's
// examples stay correct as the assembler changes.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/assembly.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	lines := strings.Split(string(doc), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```asm" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
		}
		blocks++
		src := strings.Join(lines[start:i], "\n") + "\n"
		name := fmt.Sprintf("assembly.md:%d", start)
		if _, err := Assemble(name, []byte(src), nil); err != nil {
			t.Errorf("the example at line %d does not assemble:\n%v", start, err)
		}
	}
	if blocks < 10 {
		t.Errorf("found %d examples, want at least 10", blocks)
	}
}

// TestConcurrentAssembly checks that assemblies share no state: the VM assembles the programs
// that processes spawn while others run.
func TestConcurrentAssembly(t *testing.T) {
	src := []byte(".macro m r\n\tinc \\r\n.endm\nmain:\tm a0\n\tli a1, 0x123456789\n\tsyscall exit\n")
	want := textOf(assemble(t, string(src)))
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			img, err := Assemble("prog.s", src, nil)
			if err == nil {
				if d := cmp.Diff(want, textOf(img)); d != "" {
					err = fmt.Errorf("text (-want +got):\n%s", d)
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
