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
	// The one difference: stepping is true, which brings in the test of the budget before
	// every instruction.
	if !bytes.Contains(got, []byte("const stepping = true\n")) ||
		!bytes.Contains(got, []byte("ins := code[pc]\n\t\tif stepping && budget <= edge {\n\t\t\tgoto stop\n\t\t}\n")) {
		t.Error("execStep does not test its budget before each instruction")
	}
}
