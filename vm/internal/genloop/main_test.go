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
	// The one difference: the budget is tested before every instruction.
	if !bytes.Contains(got, []byte("ins := code[pc]\n\t\tif budget <= 0 {\n\t\t\tgoto check\n\t\t}\n")) {
		t.Error("execStep does not test its budget before each instruction")
	}
}
