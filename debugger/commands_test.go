package debugger

import (
	"bytes"
	"testing"
)

// TestPauseBetweenCommands: a Ctrl-C that comes while no command runs the program does not
// pause the next command's run.
func TestPauseBetweenCommands(t *testing.T) {
	img := assembleText(t, "spin.s", "main: li t0, 0\n.loop: inc t0\n j .loop\n")
	s, err := New(Config{Image: img, Options: testOptions()}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, "print t0")
	s.Pause()
	exec(t, s, "stepi 1000")
	if got := s.m.Steps(); got != 1000 {
		t.Fatalf("stepi 1000 came to step %d: the pause from before it stopped it", got)
	}
}
