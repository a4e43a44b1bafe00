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

// TestFormCache checks that only the first line of each shape is parsed, and charged to the
// budget of MaxShapeTokens.
func TestFormCache(t *testing.T) {
	src, _ := programSource(2000)
	a := newAssembler(nil)
	if _, err := a.run("prog.s", bytes.NewReader(src), src); err != nil {
		t.Fatal(err)
	}
	want := 0
	for shape := range a.forms.byShape {
		want += len(shape)
	}
	if a.shapeTokens != want || want == 0 || want > 1000 {
		t.Errorf("%d tokens parsed, want %d: those of the %d shapes, a few hundred", a.shapeTokens, want, len(a.forms.byShape))
	}
}

// shapesSource makes n lines of li, each of a new shape: the bits of its number choose + or -
// for each of 16 operators. Each has 37 tokens.
func shapesSource(n int) (src []byte, values []int) {
	var b bytes.Buffer
	b.WriteString("main:\n")
	for i := range n {
		b.WriteString("\tli a0, 1")
		v := 1
		for bit := range 16 {
			if i>>bit&1 == 0 {
				b.WriteString(" + 1")
				v++
			} else {
				b.WriteString(" - 1")
				v--
			}
		}
		b.WriteString("\n")
		values = append(values, v)
	}
	b.WriteString("\tret\n")
	return b.Bytes(), values
}

// TestShapes checks that lines of many shapes assemble as they are written.
func TestShapes(t *testing.T) {
	src, values := shapesSource(300)
	img, err := Assemble("prog.s", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, v := range values {
		want = append(want, fmt.Sprintf("li a0, %d", v))
	}
	want = append(want, "ret")
	for _, w := range img.Text {
		got = append(got, formatInstr(w, 0))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestShapeTokenLimit checks that a source of a new shape on every line is refused where it
// passes MaxShapeTokens, and costs no more than its tokens allow.
func TestShapeTokenLimit(t *testing.T) {
	// main: is 3 tokens, each line of li 37: the 28,340th passes the limit.
	src, _ := shapesSource(30000)
	c := assembleCost(t, src, nil)
	checkCost(t, c)
	want := fmt.Sprintf("source has more than %d tokens in lines unlike every line before them", MaxShapeTokens)
	if len(c.errs) != 1 || !strings.HasPrefix(c.errs[0].Msg, want) || c.errs[0].Pos.Line != 28341 {
		t.Errorf("got %d errors, the first %q; want one at line 28341: %q", len(c.errs), firstMsg(c.errs), want)
	}
}
