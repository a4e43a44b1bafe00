//go:build unix

package tests

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignals sends the real signals to the real binary: each stops the run with the shell's
// status for it, and the output written before it is flushed.
func TestSignals(t *testing.T) {
	// A program that spins, and one that blocks at every turn of its loop (sleep 0), which no
	// signal used to reach: it exited after the grace, with no report and its output lost.
	loops := map[string]string{
		"spin":  ".loop:  jmp .loop\n",
		"sleep": ".loop:  li a0, 0\n        syscall sleep\n        jmp .loop\n",
	}
	for name, loop := range loops {
		prog := filepath.Join(t.TempDir(), name+".s")
		src := "        .data\nmsg:    .ascii \"spinning\\n\"\n        .text\nmain:   li a0, 1\n        la a1, msg\n        li a2, 9\n        syscall write\n" + loop
		if err := os.WriteFile(prog, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { testSignals(t, prog) })
	}
}

func testSignals(t *testing.T, prog string) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(filepath.Join(binDir, "spindle"), "run", prog)
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The program writes its line and spins. The VM buffers output, so the line can
			// only arrive early if something flushed it; it arrives when the signal stops the
			// run. Signal once the VM surely has its handler: when the process has run a while
			// (its first output cannot be awaited, it is held in the buffer).
			waitRunning(t, cmd.Process.Pid)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			stdout, _ := io.ReadAll(out)
			err = cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != tc.want {
				t.Fatalf("exit: %v, want status %d; stderr:\n%s", err, tc.want, stderr.String())
			}
			if string(stdout) != "spinning\n" {
				t.Errorf("stdout %q, want %q", stdout, "spinning\n")
			}
			want := map[syscall.Signal]string{syscall.SIGINT: "spindle: interrupted after ", syscall.SIGTERM: "spindle: terminated by SIGTERM after "}[tc.sig]
			if !strings.HasPrefix(stderr.String(), want) {
				t.Errorf("stderr %q, want the interrupt report", stderr.String())
			}
		})
	}
}

// waitRunning waits until process pid has used 100ms of CPU time: by then a spindle run has long
// installed its signal handlers and is spinning in the interpreter loop. It reads Linux's
// /proc; elsewhere it waits a second.
func waitRunning(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			time.Sleep(time.Second)
			return
		}
		// Fields after the command name, which is in parentheses: state is field 3, utime 14,
		// stime 15 (1-based), counted in clock ticks of 10ms.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		utime, _ := strconv.Atoi(f[11])
		stime, _ := strconv.Atoi(f[12])
		if utime+stime >= 10 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the program did not start running within 30s")
}

// TestSignalWhileOutputBlocks sends SIGINT to a run on two processors whose standard output is
// a pipe nobody reads, so that a processor is stuck writing to it: the signal must still end
// the run, after the grace of 2 s at most, rather than wait for the pipe.
func TestSignalWhileOutputBlocks(t *testing.T) {
	cmd, out := startFlood(t, nil, "--cpus", "2")
	// The handshake: output comes only once the run has begun, after the command has set up
	// its signal handlers. One byte read, nobody reads more: the pipe fills, and the run blocks
	// in a write, at once or soon; the signal must end it either way.
	if _, err := out.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Errorf("exit: %v, want status 130", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the run did not end 10 s after SIGINT while its output was blocked")
	}
}

// TestTimeoutWhileOutputBlocks runs a program whose standard output is a pipe that nobody
// reads, on one processor, under --timeout: the processor is stuck in the write and cannot
// reach a check point, so the command must exit with 124 after its grace, as it does for a
// signal. It used to wait for the pipe for ever.
func TestTimeoutWhileOutputBlocks(t *testing.T) {
	t.Run("stdout", func(t *testing.T) { testTimeoutWhileOutputBlocks(t, false) })
	// With stderr on the same pipe, the grace's own message cannot be written either: the
	// command must exit all the same, where it once hung in that write, deaf to signals.
	t.Run("stdout and stderr", func(t *testing.T) { testTimeoutWhileOutputBlocks(t, true) })
}

func testTimeoutWhileOutputBlocks(t *testing.T, both bool) {
	var stderr strings.Builder
	var cmd *exec.Cmd
	if both {
		cmd, _ = startFlood(t, nil, "--cpus", "1", "--timeout", "200ms")
	} else {
		cmd, _ = startFlood(t, &stderr, "--cpus", "1", "--timeout", "200ms")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 124 {
			t.Errorf("exit: %v, want status 124", err)
		}
		if !both && !strings.Contains(stderr.String(), "time limit exceeded") {
			t.Errorf("stderr %q, want the time limit's report", stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the run did not end 20 s after its time-out of 200ms while its output was blocked")
	}
}

// startFlood starts spindle run with flags on a program that writes without end to its standard
// output, a pipe that nobody reads: the pipe fills at once, and the run then blocks in a write.
// A nil stderr puts the standard error on the same pipe. It returns the pipe's read end too.
func startFlood(t *testing.T, stderr io.Writer, flags ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	prog := filepath.Join(t.TempDir(), "flood.s")
	if err := os.WriteFile(prog, []byte("main: li a0, 120\n syscall putc\n jmp main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command(filepath.Join(binDir, "spindle"), append(append([]string{"run"}, flags...), prog)...)
	cmd.Stdout, cmd.Stderr = w, stderr
	if stderr == nil {
		cmd.Stderr = w // both streams on the pipe nobody reads
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return cmd, r
}
