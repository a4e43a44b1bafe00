//go:build linux

package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spindle-vm/spindle/dap"
	"github.com/spindle-vm/spindle/debugger"
)

// openFiles counts the files the test process has open.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// TestRelaunchReleasesGrants: an editor's restarts relaunch the program again and again, each
// time with the directories its configuration grants: those of the launch left behind are
// closed, and so are those of a launch that fails, however it fails.
func TestRelaunchReleasesGrants(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.s")
	if err := os.WriteFile(prog, []byte("main: li a0, 0\n  ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	args := dap.LaunchArgs{Program: prog, Dirs: []string{data + ":/data", dir + ":/src:ro"}}
	var l launcher
	defer l.close()
	cfg, err := l.launch(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, err := debugger.New(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Command("run"); err != nil {
		t.Fatal(err)
	}
	before := openFiles(t)
	for range 20 {
		cfg, err := l.launch(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Relaunch(cfg); err != nil {
			t.Fatal(err)
		}
		if err := s.Command("run"); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFiles(t); after > before {
		t.Errorf("20 relaunches left %d more files open", after-before)
	}

	// A relaunch that fails (its budget cannot hold the first snapshot), and launches that
	// fail after the grants are opened (no stdin file, a program that does not assemble).
	small := args
	small.Budget = "1"
	cfg, err = l.launch(small, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Relaunch(cfg); err == nil {
		t.Fatal("a relaunch with a budget of 1 byte did not fail")
	}
	noStdin := args
	noStdin.Stdin = filepath.Join(dir, "missing.txt")
	bad := args
	bad.Program = filepath.Join(dir, "bad.s")
	if err := os.WriteFile(bad.Program, []byte("main: frob\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range []dap.LaunchArgs{noStdin, bad} {
		if _, err := l.launch(a, io.Discard); err == nil {
			t.Fatalf("launch of %+v did not fail", a)
		}
	}
	if after := openFiles(t); after > before {
		t.Errorf("failed launches left %d more files open", after-before)
	}
	if err := s.Command("run"); err != nil {
		t.Errorf("after the failed relaunch, run: %v", err)
	}
}
