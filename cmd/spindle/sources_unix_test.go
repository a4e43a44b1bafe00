//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSourceLineSkipsNamedPipe checks that a named pipe in the object's directory is not read,
// and does not hold up the report, whether or not the host has mkfifo(1) for the scripts.
func TestSourceLineSkipsNamedPipe(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.s"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prog.s"), []byte("main: li a0, 1\n  ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &sourceDir{dir: dir}
	defer s.close()
	done := make(chan [2]string, 1)
	go func() { done <- [2]string{s.line("pipe.s", 1), s.line("../x/prog.s", 2)} }()
	select {
	case got := <-done:
		if want := [2]string{"(no source file pipe.s in " + dir + "; see --source-dir)", "  ret"}; got != want {
			t.Errorf("lines %q; want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("looking for a line in a named pipe blocked")
	}
}
