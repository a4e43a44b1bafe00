// Package vscode makes the TextMate grammar of Spindle assembly that the VS Code extension in
// this directory highlights .s files with (syntaxes/spindle.tmLanguage.json). Its words come
// from the instruction set: the mnemonics of isa.Table, the registers of isa.Regs and the
// syscalls of isa.Syscalls, so that a new instruction is highlighted once go generate has run;
// a test fails while the file is stale. The pseudo-instructions and the directives are the
// assembler's, listed here and checked against it and against docs/assembly.md.
package vscode

//go:generate go run gen.go

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spindle-vm/spindle/isa"
)

// Pseudos are the mnemonics that the assembler takes and isa.Table does not have.
var Pseudos = []string{"b", "bgt", "bgtu", "ble", "bleu", "dec", "inc", "j", "la", "subi"}

// Directives are the assembler's directives.
var Directives = []string{
	".align", ".ascii", ".asciz", ".bss", ".byte", ".data", ".endm", ".entry", ".equ", ".global",
	".globl", ".half", ".include", ".loc", ".macro", ".quad", ".set", ".space", ".string", ".text",
	".word", ".zero",
}

// Mnemonics returns the instructions' and the pseudo-instructions' mnemonics.
func Mnemonics() []string {
	var names []string
	for _, in := range isa.Table {
		if in.Op != isa.ILLEGAL && in.Name != "" {
			names = append(names, in.Name)
		}
	}
	return append(names, Pseudos...)
}

// Registers returns the registers' names: r0 to r15, and their aliases.
func Registers() []string {
	var names []string
	for r := range isa.NumRegs {
		names = append(names, fmt.Sprintf("r%d", r), isa.Regs[r].Alias)
	}
	return names
}

// Syscalls returns the syscalls' names.
func Syscalls() []string {
	var names []string
	for _, s := range isa.Syscalls {
		names = append(names, s.Name)
	}
	return names
}

// words is a regular expression that matches one of names: the longest first, so that "beqz"
// is not read as "beq".
func words(names []string) string {
	sorted := slices.Clone(names)
	slices.SortFunc(sorted, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	quoted := make([]string, len(sorted))
	for i, n := range sorted {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return "(?:" + strings.Join(quoted, "|") + ")"
}

// A pattern is one rule of the grammar, as TextMate writes it.
type pattern struct {
	Name     string             `json:"name,omitempty"`
	Match    string             `json:"match,omitempty"`
	Begin    string             `json:"begin,omitempty"`
	End      string             `json:"end,omitempty"`
	Captures map[string]capture `json:"captures,omitempty"`
	Patterns []pattern          `json:"patterns,omitempty"`
}

type capture struct {
	Name string `json:"name"`
}

type grammar struct {
	Schema    string    `json:"$schema"`
	Comment   string    `json:"comment"`
	Name      string    `json:"name"`
	ScopeName string    `json:"scopeName"`
	FileTypes []string  `json:"fileTypes"`
	Patterns  []pattern `json:"patterns"`
}

// escape is an escape of a string or a character: \n \t \r \0 \\ \" \' \xHH.
const escape = `\\(?:x[0-9A-Fa-f]{2}|[ntr0\\"'])`

// Grammar returns the grammar, as syntaxes/spindle.tmLanguage.json holds it.
func Grammar() ([]byte, error) {
	g := grammar{
		Schema:    "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
		Comment:   "Generated from isa.Table by go generate in editors/vscode (grammar.go): do not edit.",
		Name:      "Spindle assembly",
		ScopeName: "source.spindle",
		FileTypes: []string{"s"},
		Patterns: []pattern{
			{Name: "comment.line.spindle", Match: `[#;].*$`},
			{Name: "string.quoted.double.spindle", Begin: `"`, End: `"`, Patterns: []pattern{
				{Name: "constant.character.escape.spindle", Match: escape},
			}},
			{Name: "constant.character.spindle", Match: `'(?:` + escape + `|[^'\\])'`},
			{Match: `(?<![\w.])([A-Za-z_.][\w.]*)\s*(:)`, Captures: map[string]capture{
				"1": {"entity.name.function.label.spindle"}, "2": {"punctuation.separator.label.spindle"},
			}},
			{Name: "keyword.control.directive.spindle", Match: `(?i)(?<![\w.])` + words(Directives) + `\b`},
			{Match: `(?i)\b(syscall)\s+(` + words(Syscalls()) + `)\b`, Captures: map[string]capture{
				"1": {"keyword.other.instruction.spindle"}, "2": {"support.function.syscall.spindle"},
			}},
			{Name: "keyword.other.instruction.spindle", Match: `(?i)(?<![\w.])` + words(Mnemonics()) + `\b(?![.:])`},
			{Name: "variable.language.register.spindle", Match: `(?i)(?<![\w.])` + words(Registers()) + `\b(?![.:])`},
			{Name: "constant.numeric.spindle", Match: `(?<![\w.])(?:0[xX][0-9A-Fa-f_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)\b`},
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
