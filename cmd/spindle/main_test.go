package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPanicIsReported checks that a panic in any command, here before the assembler runs, is
// reported as a bug with status 70, and that the command line and the files it names are saved.
func TestPanicIsReported(t *testing.T) {
	src := filepath.Join(t.TempDir(), "prog.s")
	if err := os.WriteFile(src, []byte("main: ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testPanic = func() { panic("boom") }
	defer func() { testPanic = nil }()
	var out, errOut bytes.Buffer
	status := run([]string{"asm", "-o", "/nonexistent/x.spo", src}, stdio{strings.NewReader(""), &out, &errOut})
	if status != exitSoftware {
		t.Errorf("status %d; want %d", status, exitSoftware)
	}
	msg := errOut.String()
	m := regexp.MustCompile(`saved in (\S+); please`).FindStringSubmatch(msg)
	if !strings.HasPrefix(msg, "spindle: internal error: boom\n") || m == nil {
		t.Fatalf("stderr:\n%s", msg)
	}
	defer os.RemoveAll(m[1])
	cmdline, err := os.ReadFile(filepath.Join(m[1], "cmdline.txt"))
	if err != nil || string(cmdline) != "asm\n-o\n/nonexistent/x.spo\n"+src+"\n" {
		t.Errorf("cmdline.txt: %q, %v", cmdline, err)
	}
	if saved, err := os.ReadFile(filepath.Join(m[1], "prog.s")); err != nil || string(saved) != "main: ret\n" {
		t.Errorf("prog.s saved as %q, %v", saved, err)
	}
}
