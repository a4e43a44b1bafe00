// Package tests holds the end-to-end tests of the spindle command: Go script tests in
// testdata/*.txtar, each of which runs the real binary and states its exact stdout, stderr and
// exit status. A new behaviour is one new file. UPDATE_GOLDEN=1 rewrites what a failing cmp
// compares with (see TestScripts).
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var binDir string

// TestMain builds the spindle command once, so that the scripts run the binary a user runs:
// real exit statuses, real signals, real files.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spindle-tests")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	exe := "spindle"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, exe), "../cmd/spindle")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building spindle:", err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestScripts(t *testing.T) {
	touchSources("..")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("PROGRAMS", filepath.Join(root, "programs"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sleep":    cmdSleep,
			"status":   cmdStatus,
			"truncate": cmdTruncate,
			"poke":     cmdPoke,
			"genfile":  cmdGenfile,
		},
		RequireExplicitExec: true,
		// UPDATE_GOLDEN=1 go test ./tests/ -run TestScripts/NAME rewrites the files that a
		// failing cmp compares with, in the txtar: read the diff before committing it.
		UpdateScripts: os.Getenv("UPDATE_GOLDEN") != "",
	})
}

// status N COMMAND ARGS...: run COMMAND as exec does and check that it exits with status N.
// The exit statuses are part of the command's interface, so the scripts state them exactly.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N COMMAND ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// sleep DURATION: wait, so that a command in the background gets going before a signal.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// truncate FILE N: cut FILE to its first N bytes.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), int64(n)))
}

// poke FILE OFFSET BYTE...: overwrite bytes of FILE at OFFSET (decimal; bytes in hex), to build
// malformed object files from valid ones. A negative offset counts from the end.
func cmdPoke(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: poke FILE OFFSET BYTE...")
	}
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	ts.Check(err)
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	if off < 0 {
		off += len(b)
	}
	for i, s := range args[2:] {
		v, err := strconv.ParseUint(s, 16, 8)
		ts.Check(err)
		if off+i >= len(b) {
			ts.Fatalf("poke: offset %d is past the end of %s (%d bytes)", off+i, args[0], len(b))
		}
		b[off+i] = byte(v)
	}
	ts.Check(os.WriteFile(path, b, 0o644))
}

// genfile FILE SIZE PATTERN: write FILE of SIZE bytes (decimal, or with a K or M suffix for
// powers of 1024), PATTERN repeated and cut at SIZE. PATTERN takes Go's escapes, such as \n and
// \x00, so that hostile inputs too large for a script (a 100 MB line) are made when the test
// runs.
func cmdGenfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: genfile FILE SIZE PATTERN")
	}
	mult := int64(1)
	num := args[1]
	switch {
	case strings.HasSuffix(num, "K"):
		mult, num = 1<<10, strings.TrimSuffix(num, "K")
	case strings.HasSuffix(num, "M"):
		mult, num = 1<<20, strings.TrimSuffix(num, "M")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	ts.Check(err)
	pattern, err := strconv.Unquote(`"` + args[2] + `"`)
	ts.Check(err)
	if pattern == "" {
		ts.Fatalf("genfile: empty pattern")
	}
	size := int(n * mult)
	b := bytes.Repeat([]byte(pattern), size/len(pattern)+1)[:size]
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// touchSources opens every file that goes into the binary or that the scripts run. The go
// command caches a test's result and invalidates it when a file a test opened changes; the
// build in TestMain runs in another process, which it cannot see, so without this a change to
// the VM would leave a stale "ok (cached)". It must run inside a test: opens are only
// recorded from m.Run on.
func touchSources(root string) {
	for _, dir := range []string{"cmd", "isa", "object", "asm", "vm", "debugger", "dap", "programs"} {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if f, err := os.Open(path); err == nil {
					f.Close()
				}
			}
			return nil
		})
	}
}
