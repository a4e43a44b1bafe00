package asm

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// formsOfShape checks the promise that forms rest on: lines of one shape parse alike. It parses
// each line that reaches the parser on its own, and fails t if two lines of one shape parse to
// different forms, or one parses and the other does not.
type formsOfShape struct {
	byShape map[string]formOutcome
}

type formOutcome struct {
	line string
	f    *form // nil if the line did not parse
}

func (c *formsOfShape) check(t *testing.T, line string) {
	t.Helper()
	if !utf8.ValidString(line) || strings.ContainsRune(line, 0) {
		return // refused before lexing (checkBytes)
	}
	toks := lexLineTokens(nil, line)
	for _, tok := range toks {
		switch tok.Type {
		case tokBad, tokBadString, tokParam:
			return // refused before parsing (checkTokens)
		}
	}
	var f *form
	if st, _, msg := parseTokens(toks); msg == "" {
		f = newForm(st)
	}
	key := string(shapeKey(nil, toks))
	seen, ok := c.byShape[key]
	if !ok {
		c.byShape[key] = formOutcome{line, f}
		return
	}
	if d := cmp.Diff(seen.f, f, cmp.AllowUnexported(form{}, formArg{}, formExpr{}, formBinary{}, formUnary{}, formPrimary{})); d != "" {
		t.Fatalf("%q and %q have the shape %q, but not the same form (-first +second):\n%s", seen.line, line, key, d)
	}
}

// TestFormsOfShape checks that the lines of corpusLines that have a shape in common parse to the
// same form, and that the shapes are far fewer than the lines. FuzzAssemble checks the lines it
// makes up.
func TestFormsOfShape(t *testing.T) {
	c := formsOfShape{byShape: map[string]formOutcome{}}
	lines := corpusLines(t)
	for _, line := range lines {
		c.check(t, line)
	}
	if len(c.byShape)*4 > len(lines) {
		t.Errorf("%d shapes for %d lines", len(c.byShape), len(lines))
	}
}

// TestFormCache checks that the forms an assembly keeps are bounded: a source of more shapes
// than maxFormTokens allows keeps no more than that, and assembles all the same.
func TestFormCache(t *testing.T) {
	const n = 3000
	var src bytes.Buffer
	var want []string
	src.WriteString("main:\n")
	// Each line a new shape: the bits of its number choose + or - for each of 16 operators.
	for i := range n {
		src.WriteString("\tli a0, 1")
		v := 1
		for bit := range 16 {
			if i>>bit&1 == 0 {
				src.WriteString(" + 1")
				v++
			} else {
				src.WriteString(" - 1")
				v--
			}
		}
		src.WriteString("\n")
		want = append(want, fmt.Sprintf("li a0, %d", v))
	}
	src.WriteString("\tret\n")
	want = append(want, "ret")
	a := newAssembler(nil)
	img, err := a.run("prog.s", bytes.NewReader(src.Bytes()), src.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// The shapes of the lines of li take 37 tokens each: more than the cache keeps.
	if a.forms.tokens > maxFormTokens || len(a.forms.byShape) == 0 || len(a.forms.byShape) >= n {
		t.Errorf("the cache holds %d shapes of %d tokens, want some, and at most %d tokens", len(a.forms.byShape), a.forms.tokens, maxFormTokens)
	}
	var got []string
	for _, w := range img.Text {
		got = append(got, formatInstr(w, 0))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
