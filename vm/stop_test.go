package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/asm"
)

// Programs whose threads block at least once a slice, so that their budget never runs out in
// one go: each stop must reach them all the same (docs/threads.md, Stops).
var blockingPrograms = map[string]string{
	// One thread that sleeps 0 ms at every turn of its loop.
	"sleep0": `
main:   li a0, 'x'
        syscall putc
.loop:  li a0, 0
        syscall sleep
        jmp .loop
`,
	// Two processes passing a byte back and forth through two pipes.
	"pipes": `
main:   li a0, 'x'
        syscall putc
        syscall pipe
        mov s0, a0
        mov s1, a1
        syscall pipe
        mov s2, a0
        mov s3, a1
        la a0, echo
        li a1, 0
        mov a2, s0
        mov a3, s3
        syscall start
        addi sp, sp, -8
.loop:  mov a0, s1
        mov a1, sp
        li a2, 1
        syscall write
        mov a0, s2
        mov a1, sp
        li a2, 1
        syscall read
        jmp .loop
echo:   addi sp, sp, -8
.loop:  li a0, 0
        mov a1, sp
        li a2, 1
        syscall read
        li a0, 1
        mov a1, sp
        li a2, 1
        syscall write
        jmp .loop
`,
	// A loop of start and wait.
	"startwait": `
main:   li a0, 'x'
        syscall putc
.loop:  la a0, child
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        syscall wait
        jmp .loop
child:  li a0, 0
        ret
`,
	// Two threads that hand the processor to each other through a channel at every turn.
	"channel": `
main:   li a0, 'x'
        syscall putc
        li a0, 0
        syscall chan_make
        mov s0, a0
        la a0, peer
        mov a1, s0
        li a2, 4096
        syscall thread_spawn
.loop:  mov a0, s0
        li a1, 1
        syscall chan_send
        jmp .loop
peer:   mov s0, a0
.loop:  mov a0, s0
        syscall chan_recv
        jmp .loop
`,
}

// TestStopsReachBlockingPrograms stops each blocking program by time-out, by interrupt and by
// step limit, on one processor and on two: each run must end with the stop's error, with the
// output written before it. Before the budget was carried from one thread and one process to
// the next, none of these runs ended.
func TestStopsReachBlockingPrograms(t *testing.T) {
	stops := []struct {
		name  string
		opts  Options
		after func(*Machine)
		check func(error) bool
	}{
		{"timeout", Options{Timeout: 100 * time.Millisecond}, nil,
			func(err error) bool { var e *LimitError; return errors.As(err, &e) && e.Limit == LimitTime }},
		{"interrupt", Options{}, func(m *Machine) { time.Sleep(100 * time.Millisecond); m.Interrupt() },
			func(err error) bool { var e *InterruptError; return errors.As(err, &e) }},
		{"steps", Options{MaxSteps: 20_000}, nil,
			func(err error) bool { var e *LimitError; return errors.As(err, &e) && e.Limit == LimitSteps }},
	}
	for name, src := range blockingPrograms {
		img, err := asm.Assemble(name+".s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, stop := range stops {
			for _, cpus := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/%s/cpus=%d", name, stop.name, cpus), func(t *testing.T) {
					var out bytes.Buffer
					opts := stop.opts
					opts.CPUs, opts.Stdout, opts.Stdin, opts.MaxMem, opts.StackSize = cpus, &out, blockingReader{}, 1<<20, 64<<10
					m, err := Load(img, opts)
					if err != nil {
						t.Fatal(err)
					}
					if stop.after != nil {
						go stop.after(m)
					}
					o := runWatched(t, m, time.Second, func() string { return src })
					if !stop.check(o.err) {
						t.Fatalf("Run returned %v (%T), want the %s stop", o.err, o.err, stop.name)
					}
					if out.String() != "x" {
						t.Errorf("output %q, want %q", out.String(), "x")
					}
				})
			}
		}
	}
}

// TestStepLimitWithBlocking checks that the step limit stays exact on one processor when the
// threads block at every turn.
func TestStepLimitWithBlocking(t *testing.T) {
	for name, src := range blockingPrograms {
		for _, limit := range []uint64{1, 17, 10_000, 123_457} {
			img, err := asm.Assemble(name+".s", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Load(img, Options{MaxSteps: limit, Quantum: 1000, MaxMem: 1 << 20, StackSize: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			o := runWatched(t, m, time.Second, func() string { return src })
			var e *LimitError
			if !errors.As(o.err, &e) || e.Limit != LimitSteps || o.res.Steps != limit {
				t.Errorf("%s, limit %d: %d steps, err %v; want exactly the limit", name, limit, o.res.Steps, o.err)
			}
		}
	}
}

// TestKillReachesBlockingChild kills a child that sleeps 0 ms in a loop; on one processor the
// parent must also get its turns while the child loops (fairness), to kill it at all.
func TestKillReachesBlockingChild(t *testing.T) {
	const src = `
main:   la a0, child
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        mov s0, a0
        li t0, 100000
.spin:  addi t0, t0, -1
        bnez t0, .spin
        mov a0, s0
        syscall kill
        mov a0, s0
        syscall wait
        ret                     # the child's status is ours
child:  li a0, 0
        syscall sleep
        jmp child
`
	for _, cpus := range []int{1, 2} {
		img, err := asm.Assemble("kill.s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(img, Options{CPUs: cpus, Timeout: time.Minute, MaxMem: 1 << 20, StackSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		o := runWatched(t, m, time.Minute, func() string { return src })
		if o.err != nil || o.res.ExitCode != statusKilled {
			t.Errorf("on %d processors: status %d, err %v; want %d, the killed child's", cpus, o.res.ExitCode, o.err, statusKilled)
		}
	}
}

// TestVirtualClockInputStops checks that a run on the virtual clock, which waits for each read
// of its input, still stops at its time limit when the input never comes.
func TestVirtualClockInputStops(t *testing.T) {
	img, err := asm.Assemble("read.s", []byte("main: syscall read_int\n jmp main\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{VirtualClock: true, Stdin: blockingReader{}, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o := runWatched(t, m, time.Second, func() string { return "read_int in a loop" })
	var e *LimitError
	if !errors.As(o.err, &e) || e.Limit != LimitTime {
		t.Fatalf("Run returned %v, want the time limit", o.err)
	}
	if !strings.Contains(e.Error(), "read_int") {
		t.Errorf("the report %q does not say where the thread waits", e.Error())
	}
}

// blockingReader is an input that never comes.
type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

var _ io.Reader = blockingReader{}

// TestTimeoutOnSeveralProcessors stops programs on two processors with a short quantum and a
// short time-out, many times over. Under the race detector (go test -race, as CI runs it) it
// found the end of the run read by one processor while another wrote it.
func TestTimeoutOnSeveralProcessors(t *testing.T) {
	for name, src := range blockingPrograms {
		img, err := asm.Assemble(name+".s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			m, err := Load(img, Options{CPUs: 2, Quantum: 1 + int64(i%10), Timeout: time.Duration(1+i%5) * time.Millisecond, MaxMem: 1 << 20, StackSize: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			o := runWatched(t, m, time.Second, func() string { return src })
			var e *LimitError
			if !errors.As(o.err, &e) || e.Limit != LimitTime {
				t.Fatalf("%s: Run returned %v, want the time limit", name, o.err)
			}
		}
	}
}

// TestStopReportsEveryThread stops a run of three threads, one spinning, one blocked and one
// ready, and checks that the report says where each of them was.
func TestStopReportsEveryThread(t *testing.T) {
	const src = `
main:   li a0, 0
        syscall chan_make
        mov s0, a0
        la a0, waiter
        mov a1, s0
        li a2, 4096
        syscall thread_spawn
        la a0, spinner
        li a1, 0
        li a2, 4096
        syscall thread_spawn
.loop:  syscall yield
        jmp .loop
waiter: syscall chan_recv
        ret
spinner:
        jmp spinner
`
	img, err := asm.Assemble("three.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxSteps: 100_000, Quantum: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != LimitSteps {
		t.Fatalf("Run returned %v, want the step limit", err)
	}
	got := map[int]string{le.Thread: "stopped"}
	for _, o := range le.Threads {
		got[o.Thread] = fmt.Sprintf("%v %s line %d", o.State, o.Waits, o.Line)
	}
	want := map[int]string{
		3: "stopped", // the spinner has the processor when the limit comes: it yields to nobody
		1: "runnable  line 14",
		2: "blocked chan_recv on channel 1 line 15",
	}
	if le.Thread == 1 {
		want = map[int]string{1: "stopped", 2: want[2], 3: "runnable  line 18"}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the report's threads: %v, want %v\n%v", got, want, err)
	}
	if !strings.Contains(err.Error(), "thread 1.2 is blocked in chan_recv on channel 1") {
		t.Errorf("the report does not say where thread 2 waits:\n%v", err)
	}
}
