package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spindle-vm/spindle/isa"
)

func renderAll(t *testing.T) (root string, files map[string][]byte) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err = moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := render(root)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	files = map[string][]byte{}
	for _, f := range out {
		files[f.Path] = f.Data
	}
	return root, files
}

// TestDocsUpToDate fails when a table in package isa changed but the manuals were not
// regenerated.
func TestDocsUpToDate(t *testing.T) {
	root, files := renderAll(t)
	if _, ok := files["docs/isa.md"]; !ok {
		t.Errorf("render made no docs/isa.md")
	}
	if _, ok := files["docs/syscalls.md"]; !ok {
		t.Errorf("render made no docs/syscalls.md")
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("%s is missing; run go generate ./...: %v", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go generate ./...\n%s", path, firstDifference(got, want))
		}
	}
}

// firstDifference shows the first line where the file on disk and the generated text part.
func firstDifference(disk, generated []byte) string {
	a := strings.Split(string(disk), "\n")
	b := strings.Split(string(generated), "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y || i >= len(a) || i >= len(b) {
			return fmt.Sprintf("first difference at line %d:\n  on disk:   %q\n  generated: %q", i+1, x, y)
		}
	}
	return "the files differ"
}

func TestFirstDifference(t *testing.T) {
	got := firstDifference([]byte("a\nb\nc\n"), []byte("a\nB\nc\n"))
	want := "first difference at line 2:\n  on disk:   \"b\"\n  generated: \"B\""
	if got != want {
		t.Errorf("firstDifference = %q, want %q", got, want)
	}
	got = firstDifference([]byte("a\n"), []byte("a\nb\n"))
	want = "first difference at line 2:\n  on disk:   \"\"\n  generated: \"b\""
	if got != want {
		t.Errorf("firstDifference = %q, want %q", got, want)
	}
}

type instrRow struct {
	Name     string
	Op       int
	Hex      string
	Operands string
}

// The instruction tables must list every opcode exactly once, with its number and operands.
func TestEveryInstructionDocumented(t *testing.T) {
	_, files := renderAll(t)
	doc := string(files["docs/isa.md"])
	row := regexp.MustCompile("^\\| `([a-z0-9]+)` +\\| +([0-9]+) \\| +(0x[0-9a-f]{2}) \\| (`[^`]*`)? *\\|")
	var got []instrRow
	for _, line := range strings.Split(doc, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		got = append(got, instrRow{m[1], n, m[3], strings.Trim(m[4], "`")})
	}
	var want []instrRow
	for _, cat := range isa.Categories {
		for _, in := range isa.Table {
			if in.Category == cat {
				want = append(want, instrRow{in.Name, int(in.Op), fmt.Sprintf("0x%02x", uint8(in.Op)), in.Format.Syntax()})
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instruction rows of docs/isa.md mismatch (-want +got):\n%s", diff)
	}
}

func TestEverySyscallAndTrapDocumented(t *testing.T) {
	_, files := renderAll(t)
	doc := string(files["docs/syscalls.md"])
	for _, s := range isa.Syscalls {
		prefix := fmt.Sprintf("| %s | `%s`", strconv.Itoa(int(s.Num)), s.Name)
		found := false
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(strings.Join(strings.Fields(line), " "), prefix) {
				found = true
			}
		}
		if !found {
			t.Errorf("docs/syscalls.md has no row %q", prefix)
		}
	}
	for _, want := range []string{`"bad syscall"`, `"bad syscall argument"`, "`syscall write`", "`syscall 2`"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/syscalls.md does not mention %s", want)
		}
	}
	isaDoc := string(files["docs/isa.md"])
	for _, tr := range isa.Traps {
		prefix := fmt.Sprintf("| %d | %s |", tr.Trap, tr.Name)
		if !strings.Contains(strings.Join(strings.Fields(isaDoc), " "), prefix) {
			t.Errorf("docs/isa.md has no trap row %q", prefix)
		}
	}
}

// The formats table is read off the decoder; check it against layouts written out by hand.
func TestProbeLayout(t *testing.T) {
	want := map[isa.Format]layout{
		isa.FmtN:       {Layout: "ABC", Mnemonic: "illegal"},
		isa.FmtA:       {Regs: "A", Layout: "ABC", Mnemonic: "push"},
		isa.FmtAB:      {Regs: "AB", Layout: "ABC", Mnemonic: "mov"},
		isa.FmtABC:     {Regs: "ABC", Layout: "ABC", Mnemonic: "add"},
		isa.FmtABI:     {Regs: "AB", Imm: "sImm16", Lo: -32768, Hi: 32767, Layout: "ABI", Mnemonic: "addi"},
		isa.FmtMem:     {Regs: "AB", Imm: "sImm16", Lo: -32768, Hi: 32767, Layout: "ABI", Mnemonic: "lb"},
		isa.FmtBranch:  {Regs: "AB", Imm: "sImm16", Lo: -32768, Hi: 32767, Layout: "ABI", Mnemonic: "beq"},
		isa.FmtAI:      {Regs: "A", Imm: "sImm20", Lo: -524288, Hi: 524287, Layout: "AI", Mnemonic: "li"},
		isa.FmtAK:      {Regs: "A", Imm: "uImm20", Lo: 0, Hi: 1048575, Layout: "AI", Mnemonic: "lk"},
		isa.FmtBranchZ: {Regs: "A", Imm: "sImm20", Lo: -524288, Hi: 524287, Layout: "AI", Mnemonic: "beqz"},
		isa.FmtJ:       {Imm: "sImm24", Lo: -8388608, Hi: 8388607, Layout: "J", Mnemonic: "jmp"},
		isa.FmtU24:     {Imm: "uImm24", Lo: 0, Hi: 16777215, Layout: "J", Mnemonic: "enter"},
	}
	got := map[isa.Format]layout{}
	for _, f := range formats() {
		l, used, err := probeLayout(f)
		if err != nil {
			t.Fatalf("probeLayout(%q): %v", f.Syntax(), err)
		}
		if used {
			got[f] = l
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layouts mismatch (-want +got):\n%s", diff)
	}
}

func TestLayoutDiagram(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.go")
	src := "// Package x.\n//\n// # Other\n//\n//\tnot this\n//\n// # Instruction words\n//\n// Text.\n//\n//\t+--+\n//\t|op|\n//\n// After.\npackage x\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := layoutDiagram(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "+--+\n|op|"; got != want {
		t.Errorf("layoutDiagram = %q, want %q", got, want)
	}
	if err := os.WriteFile(path, []byte("// Package x has no diagram.\npackage x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := layoutDiagram(path); err == nil || !strings.Contains(err.Error(), "no indented layout diagram") {
		t.Errorf("layoutDiagram without a diagram: error = %v, want one that says so", err)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"R[A] := R[B] | R[C]", `R[A] := R[B] \| R[C]`},
		{"R[A] := R[B] * R[C]", "R[A] := R[B] * R[C]"},
		{"pc := pc + 4*sImm16", `pc := pc + 4\*sImm16`},
		{"R[B] << 3 and R[B] < R[C] and a <= b", "R[B] << 3 and R[B] < R[C] and a <= b"},
		{"<b>bold</b>", `\<b>bold\</b>`},
		{"print_int", "print_int"},
		{"_x_", `\_x_`},
		{"a `b` c \\ d", "a \\`b\\` c \\\\ d"},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	got := table("lr", []string{"Name", "N"}, [][]string{{"a", "1"}, {"long name", "100"}})
	want := "| Name      |   N |\n| --------- | --: |\n| a         |   1 |\n| long name | 100 |\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
}

func TestRegList(t *testing.T) {
	got := []string{
		regList(func(r isa.RegInfo) bool { return r.Saver == "caller" }),
		regList(func(r isa.RegInfo) bool { return r.Saver == "callee" }),
		regList(func(r isa.RegInfo) bool { return r.Num == isa.A1 || r.Num == isa.A3 || r.Num == isa.A4 }),
	}
	want := []string{"a0-a5, t0-t3", "s0-s3, fp, sp", "a1, a3-a4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("regList mismatch (-want +got):\n%s", diff)
	}
}

func TestModuleRoot(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := moduleRoot(deep)
	if err != nil || got != dir {
		t.Errorf("moduleRoot(%q) = %q, %v; want %q", deep, got, err, dir)
	}
}
