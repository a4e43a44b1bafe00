package vscode

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// TestGrammarIsGenerated fails when the grammar file is not what isa.Table makes now: a new
// instruction, register or syscall wants go generate.
func TestGrammarIsGenerated(t *testing.T) {
	want, err := Grammar()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("syntaxes/spindle.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("syntaxes/spindle.tmLanguage.json is stale: run go generate ./editors/vscode")
	}
}

// TestAssemblerTakesTheWords checks the lists of grammar.go against the assembler: it knows
// every pseudo-instruction and directive listed, and every instruction of isa.Table.
func TestAssemblerTakesTheWords(t *testing.T) {
	for _, name := range Mnemonics() {
		_, err := asm.Assemble("x.s", []byte("main: "+name+"\n"), nil)
		if err != nil && strings.Contains(err.Error(), "unknown instruction") {
			t.Errorf("the grammar highlights %s, which the assembler does not know: %v", name, err)
		}
	}
	for _, name := range Directives {
		_, err := asm.Assemble("x.s", []byte(name+"\n"), nil)
		if err != nil && strings.Contains(err.Error(), "unknown directive") {
			t.Errorf("the grammar highlights %s, which the assembler does not know: %v", name, err)
		}
	}
	_, err := asm.Assemble("x.s", []byte("main: frob\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "unknown instruction") {
		t.Errorf("an unknown mnemonic is not refused as one (%v): the test above tests nothing", err)
	}
}

// TestDocumentedWords checks that the grammar highlights every directive and
// pseudo-instruction that docs/assembly.md documents, which the assembler's lists do not
// export.
func TestDocumentedWords(t *testing.T) {
	doc, err := os.ReadFile("../../docs/assembly.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	directives := section(t, text, "## Directives")
	for _, m := range regexp.MustCompile("(?m)^### .*$").FindAllString(directives, -1) {
		for _, d := range regexp.MustCompile("`(\\.[a-z]+)").FindAllStringSubmatch(m, -1) {
			if !slices.Contains(Directives, d[1]) {
				t.Errorf("docs/assembly.md documents the directive %s, which grammar.go's Directives lacks", d[1])
			}
		}
	}
	pseudos := section(t, text, "## Pseudo-instructions")
	for _, row := range regexp.MustCompile("(?m)^\\| `([a-z]+)[ `]").FindAllStringSubmatch(pseudos, -1) {
		if _, ok := isa.Lookup(row[1]); !ok && !slices.Contains(Pseudos, row[1]) {
			t.Errorf("docs/assembly.md documents the pseudo-instruction %s, which grammar.go's Pseudos lacks", row[1])
		}
	}
}

// section returns the text of the section of the markdown text that starts with heading.
func section(t *testing.T, text, heading string) string {
	t.Helper()
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("docs/assembly.md has no section %q", heading)
	}
	rest := text[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
