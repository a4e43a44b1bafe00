package main

import (
	"bytes"
	"os"
	"testing"
)

func TestLoopStepIsFresh(t *testing.T) {
	src, err := os.ReadFile("../../loop.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../loop_step.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("vm/loop_step.go is stale; run go generate ./vm")
	}
	// execStep: stepping and marking are true, which bring in the test of the budget before
	// every instruction and the marks of the pages stores write. execMark: marking only.
	step, mark, ok := bytes.Cut(got, []byte("func (c *cpu) execMark("))
	if !ok || !bytes.Contains(step, []byte("func (c *cpu) execStep(")) {
		t.Fatal("loop_step.go does not have execStep, then execMark")
	}
	if !bytes.Contains(step, []byte("const stepping = true\n")) || !bytes.Contains(step, []byte("const marking = true\n")) ||
		!bytes.Contains(step, []byte("ins := fetch(code, pc)\n\t\tif stepping && budget <= edge {\n\t\t\tgoto stop\n\t\t}\n")) {
		t.Error("execStep does not test its budget before each instruction, or does not mark pages")
	}
	if !bytes.Contains(mark, []byte("const stepping = false\n")) || !bytes.Contains(mark, []byte("const marking = true\n")) ||
		!bytes.Contains(mark, []byte("if marking {\n\t\t\t\tp.wrote(off, 8)\n")) {
		t.Error("execMark does not mark the pages that stores write, or tests its budget")
	}
}
