package vm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// pipelineSrc starts a child at an entry of the same program with its stdin on a pipe, writes
// the numbers 1 to 5 into the pipe, and waits: the child prints each number times 10 and
// exits with their sum as its status, which the parent prints.
const pipelineSrc = `
main:   syscall pipe
        mov s0, a0
        mov s1, a1
        la a0, child
        li a1, 0
        mov a2, s0
        li a3, 1
        syscall start
        mov s2, a0
        mov a0, s0
        syscall close
        li s3, 1
.loop:  la t0, buf
        addi t1, s3, '0'
        sb t1, 0(t0)
        li t1, 10
        sb t1, 1(t0)
        mov a0, s1
        mov a1, t0
        li a2, 2
        syscall write
        addi s3, s3, 1
        li t0, 6
        blt s3, t0, .loop
        mov a0, s1
        syscall close
        mov a0, s2
        syscall wait
        syscall print_int
        li a0, 0
        ret
child:  li s0, 0
.next:  syscall read_int
        beqz a1, .end
        add s0, s0, a0
        muli a0, a0, 10
        syscall print_int
        jmp .next
.end:   mov a0, s0
        syscall exit
        .data
buf:    .space 8
`

// spinSrc starts two children that each spin for a while and exit with their number; the
// parent waits for both. On two processors they run at the same time.
const spinSrc = `
main:   la a0, child
        li a1, 3
        li a2, 0
        li a3, 1
        syscall start
        mov s0, a0
        la a0, child
        li a1, 4
        li a2, 0
        li a3, 1
        syscall start
        mov s1, a0
        mov a0, s0
        syscall wait
        syscall print_int
        mov a0, s1
        syscall wait
        syscall print_int
        li a0, 0
        ret
child:  mov s0, a0
        lk t0, 200000
        li t1, 0
.loop:  addi t1, t1, 1
        blt t1, t0, .loop
        mov a0, s0
        syscall exit
`

func runSource(t *testing.T, src string, opts Options) (string, error) {
	t.Helper()
	img, err := asm.Assemble("test.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts.Stdout, opts.Stderr = &out, &out
	_, err = Run(img, opts)
	return out.String(), err
}

func TestProcesses(t *testing.T) {
	for _, cpus := range []int{1, 2} {
		out, err := runSource(t, pipelineSrc, Options{CPUs: cpus})
		if err != nil || out != "102030405015" {
			t.Errorf("pipeline on %d processors: output %q, err %v; want \"102030405015\"", cpus, out, err)
		}
		out, err = runSource(t, spinSrc, Options{CPUs: cpus})
		if err != nil || out != "34" {
			t.Errorf("spinners on %d processors: output %q, err %v; want \"34\"", cpus, out, err)
		}
	}
}

func TestProcessDeadlock(t *testing.T) {
	// The parent waits for a child that reads a pipe nobody writes to but the parent, which
	// still holds the write end: both block for good.
	src := `
main:   syscall pipe
        mov a2, a0
        li a3, 1
        la a0, child
        syscall start
        syscall wait
        ret
child:  syscall read_int
        ret
`
	for _, cpus := range []int{1, 2} {
		_, err := runSource(t, src, Options{CPUs: cpus})
		var de *DeadlockError
		if !errors.As(err, &de) {
			t.Fatalf("%d processors: err = %v, want a deadlock", cpus, err)
		}
		if msg := de.Error(); !strings.Contains(msg, "thread 1.1 is blocked in wait for process 2") || !strings.Contains(msg, "read from descriptor 0") {
			t.Errorf("%d processors: report %q does not say what each thread waits for", cpus, msg)
		}
		// The cause: the parent's write end, still open.
		if msg := de.Error(); !strings.Contains(msg, "read from descriptor 0 (a pipe whose write end is open in process 1 as descriptor 4)") {
			t.Errorf("%d processors: report %q does not say who holds the pipe's write end", cpus, msg)
		}
	}
}

// gateReader blocks every read until open is closed, like a terminal nobody has typed at yet.
type gateReader struct {
	open chan struct{}
	r    io.Reader
}

func (g gateReader) Read(b []byte) (int, error) {
	<-g.open
	return g.r.Read(b)
}

// signalWriter closes open when what it is given contains want.
type signalWriter struct {
	want string
	open chan struct{}
	once sync.Once
	mu   sync.Mutex
	got  strings.Builder
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got.Write(b)
	if strings.Contains(w.got.String(), w.want) {
		w.once.Do(func() { close(w.open) })
	}
	return len(b), nil
}

// TestInputParksOnlyTheReader: while one thread waits for input that has not come, another
// runs, and only once it has said so does the input arrive.
func TestInputParksOnlyTheReader(t *testing.T) {
	src := `
main:   la a0, reader
        li a2, 256
        syscall thread_spawn
        mov s0, a0
        li s1, 0
.spin:  syscall yield           # the reader is parked; this thread goes on
        addi s1, s1, 1
        li t0, 1000
        blt s1, t0, .spin
        li a0, 2
        la a1, msg
        li a2, 5
        syscall write           # "done\n" to stderr, which lets the input through
        mov a0, s0
        syscall thread_join
        syscall print_int
        li a0, 0
        ret
reader: syscall read_int
        ret
        .data
msg:    .ascii "done\n"
`
	img, err := asm.Assemble("test.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	var out bytes.Buffer
	errw := &signalWriter{want: "done\n", open: open}
	done := make(chan error, 1)
	go func() {
		_, err := Run(img, Options{Stdin: gateReader{open, strings.NewReader("42\n")}, Stdout: &out, Stderr: errw})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || out.String() != "42" {
			t.Errorf("output %q, err %v; want \"42\"", out.String(), err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run hung: the read blocked every thread, not only the reader")
	}
}

// TestChanSendRecv: a send and a receive in one call, through every path: to a waiting
// receiver, into a buffer, blocked in the send and then carried on to the receive, and with
// the send channel closed.
func TestChanSendRecv(t *testing.T) {
	// main makes an unbuffered channel c and a buffered one b; the echo thread receives x on c
	// and replies x*10 on b, twice. main's first sendrecv blocks in its send (echo has not run
	// yet), then goes on to its receive; the second finds echo waiting. Then main closes c and
	// tries once more: -1, -1.
	src := chanSendRecvSource
	for _, opts := range []Options{{}, {Quantum: 1}, {Sched: SchedRandom, Seed: 7, VirtualClock: true}} {
		out, err := runSource(t, src, opts)
		if err != nil || out != "3040-1-1" {
			t.Errorf("%+v: output %q, err %v; want \"3040-1-1\"", opts, out, err)
		}
	}
}

const chanSendRecvSource = `
main:   li a0, 0
        syscall chan_make
        mov s0, a0
        li a0, 1
        syscall chan_make
        mov s1, a0
        la t0, chans            # the echo thread has registers of its own: it finds the
        sd s0, 0(t0)            # channels in memory
        sd s1, 8(t0)
        la a0, echo
        li a1, 0
        li a2, 256
        syscall thread_spawn
        mov a0, s0
        li a1, 3
        mov a2, s1
        syscall chan_sendrecv
        syscall print_int
        mov a0, s0
        li a1, 4
        mov a2, s1
        syscall chan_sendrecv
        syscall print_int
        mov a0, s0
        syscall chan_close
        mov a0, s0
        li a1, 5
        mov a2, s1
        syscall chan_sendrecv
        syscall print_int
        mov a0, a1
        syscall print_int
        li a0, 0
        ret
echo:   la t0, chans
        ld s0, 0(t0)
        ld s1, 8(t0)
        li s2, 2
.next:  mov a0, s0
        syscall chan_recv
        muli a1, a0, 10
        mov a0, s1
        syscall chan_send
        addi s2, s2, -1
        bnez s2, .next
        ret
        .data
chans:  .quad 0, 0
`

// TestHandoff checks chan_sendrecv's fast path against the general one, which the statistics
// take: the same output, steps and switches, on programs/bench/pingpong.s (where every switch is
// a hand-off) and on a program where a receiver is not always waiting.
func TestHandoff(t *testing.T) {
	pingpong, err := os.ReadFile("../programs/bench/pingpong.s")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src, stdin string
		handoffs         bool
	}{
		{"pingpong", string(pingpong), "1000", true},
		{"echo", chanSendRecvSource, "", false},
	} {
		img, err := asm.Assemble(tc.name+".s", []byte(tc.src), nil)
		if err != nil {
			t.Fatal(err)
		}
		var outs [2]string
		var res [2]Result
		var handoffs [2]uint64
		for i, stats := range []bool{false, true} {
			var out bytes.Buffer
			m, err := Load(img, Options{Stdin: strings.NewReader(tc.stdin), Stdout: &out, Stderr: &out, Stats: stats})
			if err != nil {
				t.Fatal(err)
			}
			if res[i], err = m.Run(); err != nil {
				t.Fatalf("%s, stats %v: %v", tc.name, stats, err)
			}
			outs[i], handoffs[i] = out.String(), m.cpus[0].handoffs
		}
		if outs[0] != outs[1] || res[0].Steps != res[1].Steps || res[0].Switches != res[1].Switches {
			t.Errorf("%s: with the hand-off: %q, %d steps, %d switches; without: %q, %d steps, %d switches",
				tc.name, outs[0], res[0].Steps, res[0].Switches, outs[1], res[1].Steps, res[1].Switches)
		}
		if handoffs[1] != 0 || tc.handoffs && handoffs[0] < res[0].Switches*9/10 {
			// Nearly every switch of pingpong is a hand-off: all but those of its start and end.
			t.Errorf("%s: %d hand-offs, %d with statistics on, of %d switches", tc.name, handoffs[0], handoffs[1], res[0].Switches)
		}
	}
}

// TestMemoryAfterRun checks what Machine.Process().Memory() shows once a run is over: the first
// process's memory as the program left it, whether it returned or exited; and that a child's is
// given back, whether it ended or was still running when the run stopped.
func TestMemoryAfterRun(t *testing.T) {
	for _, end := range []string{"ret", "syscall exit", "jmp main"} {
		src := `
main:   la t0, x
        li t1, 4242
        sd t1, 0(t0)
        la a0, child
        li a1, 0
        li a2, 0
        syscall start
        li a0, 0
        ` + end + `
child:  jmp child
        .data
x:      .quad 0
`
		img, err := asm.Assemble("mem.s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(img, Options{MaxSteps: 10000, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Run()
		base, mem := m.Process().Memory()
		if off := isa.DataBase - base; off+8 > uint64(len(mem)) || binary.LittleEndian.Uint64(mem[off:]) != 4242 {
			t.Errorf("%s (%v): the first process's memory after the run: base %#x, %d bytes, without x = 4242", end, err, base, len(mem))
		}
		for _, p := range m.procs[1:] {
			if _, mem := p.Memory(); mem != nil || p.release != nil {
				t.Errorf("%s: process %d still has %d bytes of memory after the run", end, p.ID, len(mem))
			}
		}
	}
}

// TestZombies checks that an ended process keeps its place in the process table until it is
// waited for, or its parent ends: a program that never waits runs into --max-procs, one that
// waits does not, and neither does one whose children leave their own children behind.
func TestZombies(t *testing.T) {
	const forget = `
main:   li s0, 100
.next:  la a0, child
        li a1, 0
        li a2, 0
        syscall start
        mov s1, a0
        li a0, 1000
        syscall sleep           # the child ends meanwhile
        WAIT
        addi s0, s0, -1
        bnez s0, .next
        li a0, 0
        ret
child:  li a0, 7
        ret
`
	for _, tc := range []struct{ name, wait, want string }{
		{"never waits", "", "processes limit exceeded: start would make 5 processes, counting 3 that have ended but are not waited for yet (zombies); the limit is 4"},
		{"waits", "mov a0, s1\n        syscall wait", ""},
	} {
		out, err := runSource(t, strings.Replace(forget, "WAIT", tc.wait, 1), Options{MaxProcs: 4, VirtualClock: true})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: output %q, error %v; want %q", tc.name, out, err, tc.want)
		}
	}

	// Each child starts a grandchild that ends, and ends itself without waiting for it; main
	// waits for each child. The grandchildren are reaped with their parents.
	const orphans = `
main:   li s0, 50
.next:  la a0, child
        li a1, 0
        li a2, 0
        syscall start
        syscall wait
        addi s0, s0, -1
        bnez s0, .next
        li a0, 0
        ret
child:  la a0, grand
        li a1, 0
        li a2, 0
        syscall start
        li a0, 1000
        syscall sleep
        li a0, 0
        ret
grand:  li a0, 0
        ret
`
	if out, err := runSource(t, orphans, Options{MaxProcs: 3, VirtualClock: true}); err != nil {
		t.Errorf("orphans: output %q, error %v", out, err)
	}
}

// TestStartSharesCode checks that a process started from the program's own image shares its
// text with the first process instead of copying it.
func TestStartSharesCode(t *testing.T) {
	img, err := asm.Assemble("share.s", []byte("main: la a0, child\n li a1, 0\n li a2, 0\n syscall start\n child: jmp child\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxSteps: 1000, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(); err == nil {
		t.Fatal("the run ended; want the step limit")
	}
	if len(m.procs) != 2 || m.procs[1] == nil || len(m.procs[1].code) == 0 || &m.procs[1].code[0] != &m.procs[0].code[0] {
		t.Errorf("the child does not share the first process's code")
	}
}

// TestSpawnFailureReleasesMemory checks that a spawn whose arguments do not fit in the new
// process's stack gives back the memory reserved for it.
func TestSpawnFailureReleasesMemory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "t.s"), []byte("main: ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
        .data
name:   .asciz "t.s"
big:    .space 4000, 'A'
        .byte 0
        .align 8
argv:   .space 2408             # 300 pointers and a 0
        .text
main:   la t0, argv
        la t1, big
        li t2, 300
.fill:  sd t1, 0(t0)
        addi t0, t0, 8
        addi t2, t2, -1
        bnez t2, .fill
        la a0, name
        la a1, argv
        li a2, 0
        li a3, 1
        syscall spawn           # 1.2 MB of arguments do not fit in a 1 MiB stack: it traps
        ret
`
	img, err := asm.Assemble("big.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{ProgramDir: dir, Assemble: assembleSource, MaxMem: 64 << 20, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run()
	var te *TrapError
	if !errors.As(err, &te) {
		t.Fatalf("run: %v; want the spawn to trap", err)
	}
	if m.reserved != 1 {
		t.Errorf("%d reservations left after the run; want 1, the first process's", m.reserved)
	}
}

// TestSyscallMisuse runs each invalid argument that the Misuse column of docs/syscalls.md
// lists, and checks that it traps with "bad syscall argument" at the syscall, in the first
// process. Every service with a Misuse text must have a case here, and only those.
func TestSyscallMisuse(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "child.s"), []byte("main: li a0, 0\n ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// start3 starts a child at label c3 with a1 = 0 and descriptors 0 and 1.
	const start3 = "la a0, c3\n li a1, 0\n li a2, 0\n li a3, 1\n syscall start\n"
	tests := []struct {
		name, service string
		src           string
		detail        string // a part of the trap's detail
	}{
		{"write outside memory", "write", "main: li a0, 1\n li a1, 0\n li a2, 4\n syscall write\n ret",
			"write: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"read outside memory", "read", "main: li a0, 0\n li a1, 0\n li a2, 4\n syscall read\n ret",
			"read: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"puts outside memory", "puts", "main: li a0, 0\n syscall puts\n ret",
			"puts: address 0x0 is not inside memory"},
		{"puts without a NUL", "puts", ".data\ns: .space 4096, 'x'\n .byte 0\n .text\nmain: la a0, s\n syscall puts\n ret",
			"puts: no NUL within 4096 bytes"},
		{"thread_spawn of data", "thread_spawn", ".data\nd: .quad 0\n .text\nmain: la a0, d\n li a1, 0\n li a2, 256\n syscall thread_spawn\n ret",
			"thread_spawn: entry 0x10000000 is not the address of an instruction"},
		{"thread_spawn with a small stack", "thread_spawn", "main: la a0, main\n li a1, 0\n li a2, 63\n syscall thread_spawn\n ret",
			"thread_spawn: a stack of 63 bytes"},
		{"thread_join of itself", "thread_join", "main: syscall gettid\n syscall thread_join\n ret",
			"thread_join: a thread cannot join itself"},
		{"thread_join of no thread", "thread_join", "main: li a0, 7\n syscall thread_join\n ret",
			"thread_join: there is no thread 7 to join"},
		{"thread_join twice", "thread_join", "main: la a0, w\n li a1, 0\n li a2, 256\n syscall thread_spawn\n mov s0, a0\n syscall thread_join\n mov a0, s0\n syscall thread_join\n ret\nw: ret",
			"thread_join: there is no thread 2 to join"},
		{"thread_join by two threads", "thread_join", `
main:   la a0, sleeper
        li a1, 0
        li a2, 256
        syscall thread_spawn    # thread 2
        mov s0, a0
        la a0, joiner
        mov a1, s0
        li a2, 256
        syscall thread_spawn    # thread 3 joins thread 2
        syscall yield
        mov a0, s0
        syscall thread_join     # and so thread 1 cannot
        ret
sleeper: li a0, 100
        syscall sleep
        ret
joiner: syscall thread_join
        ret`, "thread_join: thread 2 is already joined by thread 3"},
		{"spawn with a closed descriptor", "spawn", ".data\nn: .asciz \"child.s\"\n .text\nmain: la a0, n\n li a1, 0\n li a2, 5\n li a3, 1\n syscall spawn\n ret",
			"spawn: descriptor 5 is not open"},
		{"spawn of a missing file", "spawn", ".data\nn: .asciz \"none.s\"\n .text\nmain: la a0, n\n li a1, 0\n li a2, 0\n li a3, 1\n syscall spawn\n ret",
			`spawn: "none.s": no such file`},
		{"spawn from outside the directory", "spawn", ".data\nn: .asciz \"../child.s\"\n .text\nmain: la a0, n\n li a1, 0\n li a2, 0\n li a3, 1\n syscall spawn\n ret",
			"a program must be named by a path inside the main program's directory"},
		{"spawn with argv outside memory", "spawn", ".data\nn: .asciz \"child.s\"\n .text\nmain: la a0, n\n li a1, 8\n li a2, 0\n li a3, 1\n syscall spawn\n ret",
			"spawn: argv at 0x8 runs out of memory"},
		{"start of data", "start", ".data\nd: .quad 0\n .text\nmain: la a0, d\n li a1, 0\n li a2, 0\n li a3, 1\n syscall start\n ret",
			"start: entry 0x10000000 is not the address of an instruction"},
		{"start with a closed descriptor", "start", "main: la a0, main\n li a1, 0\n li a2, 0\n li a3, 9\n syscall start\n ret",
			"start: descriptor 9 is not open"},
		{"wait for itself", "wait", "main: syscall getpid\n syscall wait\n ret",
			"wait: process 1 is not a child of process 1"},
		{"wait for no process", "wait", "main: li a0, 9\n syscall wait\n ret",
			"wait: process 9 is not a child of process 1"},
		{"wait for a grandchild", "wait", `
main:   la a0, child
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start           # process 2 starts process 3
        li a0, 10
        syscall sleep
        li a0, 3
        syscall wait
        ret
child:  ` + start3 + `
        syscall wait
        ret
c3:     li a0, 1000
        syscall sleep
        ret`, "wait: process 3 is not a child of process 1"},
		{"wait twice", "wait", "main: " + start3 + " mov s0, a0\n syscall wait\n mov a0, s0\n syscall wait\n ret\nc3: ret",
			"wait: process 2 is not a child of process 1 that can be waited for"},
		{"wait by two threads", "wait", "main: " + start3 + ` mov s0, a0
        la a0, waiter
        mov a1, s0
        li a2, 256
        syscall thread_spawn    # thread 2 waits for process 2
        syscall yield
        mov a0, s0
        syscall wait            # and so thread 1 cannot
        ret
waiter: syscall wait
        ret
c3:     li a0, 100
        syscall sleep
        ret`, "wait: process 2 is not a child of process 1 that can be waited for"},
		{"kill of itself", "kill", "main: syscall getpid\n syscall kill\n ret",
			"kill: a process cannot kill itself"},
		{"pipe past the descriptors", "pipe", "main: syscall pipe\n jmp main",
			"a pipe needs two more, and the most is 1024"},
		{"open of a path outside memory", "open", "main: li a0, 0\n li a1, 4\n li a2, 1\n syscall open\n ret",
			"open: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"open with bad flags of a path outside memory", "open", "main: li a0, 0\n li a1, 4\n li a2, 0\n syscall open\n ret",
			"open: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"pread outside memory", "pread", "main: li a0, 0\n li a1, 0\n li a2, 4\n li a3, 0\n syscall pread\n ret",
			"pread: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"pwrite outside memory", "pwrite", "main: li a0, 1\n li a1, 0\n li a2, 4\n li a3, 0\n syscall pwrite\n ret",
			"pwrite: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"stat of a path outside memory", "stat", "main: li a0, 0\n li a1, 1\n mov a2, sp\n syscall stat\n ret",
			"stat: the buffer of 1 bytes at 0x0 is not inside memory"},
		{"stat into a buffer outside memory", "stat", ".data\np: .ascii \"/\"\n .text\nmain: la a0, p\n li a1, 1\n li a2, 0\n syscall stat\n ret",
			"stat: the buffer of 32 bytes at 0x0 is not inside memory"},
		{"fstat outside memory", "fstat", "main: li a0, 0\n li a1, 0\n syscall fstat\n ret",
			"fstat: the buffer of 32 bytes at 0x0 is not inside memory"},
		{"readdir outside memory", "readdir", "main: li a0, 0\n li a1, 0\n li a2, 4\n syscall readdir\n ret",
			"readdir: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"mkdir of a path outside memory", "mkdir", "main: li a0, 0\n li a1, 4\n syscall mkdir\n ret",
			"mkdir: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"unlink of a path outside memory", "unlink", "main: li a0, 0\n li a1, 4\n syscall unlink\n ret",
			"unlink: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"rename of a new path outside memory", "rename", ".data\np: .ascii \"/a\"\n .text\nmain: la a0, p\n li a1, 2\n li a2, 0\n li a3, 4\n syscall rename\n ret",
			"rename: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"listen at an address outside memory", "listen", "main: li a0, 0\n li a1, 4\n syscall listen\n ret",
			"listen: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"connect to an address outside memory", "connect", "main: li a0, 0\n li a1, 4\n li a2, 0\n syscall connect\n ret",
			"connect: the buffer of 4 bytes at 0x0 is not inside memory"},
		{"chan_make too large", "chan_make", "main: li a0, 1048577\n syscall chan_make\n ret",
			"chan_make: capacity 1048577; the most is 1048576"},
		{"chan_make negative", "chan_make", "main: li a0, -1\n syscall chan_make\n ret",
			"chan_make: capacity -1"},
		{"chan_send on no channel", "chan_send", "main: li a0, 0\n li a1, 5\n syscall chan_send\n ret",
			"chan_send: 0 is not a channel"},
		{"chan_recv on no channel", "chan_recv", "main: li a0, 0\n syscall chan_make\n li a0, 2\n syscall chan_recv\n ret",
			"chan_recv: 2 is not a channel"},
		{"chan_close of no channel", "chan_close", "main: li a0, 1\n syscall chan_close\n ret",
			"chan_close: 1 is not a channel"},
		{"chan_close twice", "chan_close", "main: li a0, 0\n syscall chan_make\n mov s0, a0\n syscall chan_close\n mov a0, s0\n syscall chan_close\n ret",
			"chan_close: channel 1 is already closed"},
		{"chan_sendrecv on no channel", "chan_sendrecv", "main: li a0, 0\n syscall chan_make\n li a1, 5\n li a2, 2\n syscall chan_sendrecv\n ret",
			"chan_sendrecv: 2 is not a channel"},
		{"futex_wait outside memory", "futex_wait", "main: li a0, 0\n li a1, 0\n syscall futex_wait\n ret",
			"futex_wait: address 0x0 is not inside memory"},
	}
	cased := map[string]bool{}
	for _, tt := range tests {
		cased[tt.service] = true
		t.Run(tt.name, func(t *testing.T) {
			img, err := asm.Assemble("misuse.s", []byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = Run(img, Options{ProgramDir: dir, Assemble: assembleSource, VirtualClock: true, Stdout: &out, Stderr: &out})
			var te *TrapError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a trap; output %q", err, out.String())
			}
			if te.Trap != isa.TrapSyscallArg || te.Proc != 1 || te.Instr != "syscall "+tt.service || !strings.Contains(te.Detail, tt.detail) {
				t.Errorf("got %q in process %d at %q; want %q, with a detail that has %q, at syscall %s in process 1",
					te.Error(), te.Proc, te.Instr, isa.TrapSyscallArg, tt.detail, tt.service)
			}
		})
	}
	for _, s := range isa.Syscalls {
		if (s.Misuse != "") != cased[s.Name] {
			t.Errorf("%s: Misuse %q in package isa, and cases here: %v; want both or neither", s.Name, s.Misuse, cased[s.Name])
		}
	}
	// The numbers the table states.
	for _, c := range []struct {
		s    isa.Syscall
		want string
	}{
		{isa.SysPipe, itoa(DefaultMaxFDs) + " descriptors"},
		{isa.SysChanMake, itoa(MaxChanCap)},
		{isa.SysThreadSpawn, itoa(MinThreadStack) + " bytes"},
		{isa.SysSpawn, itoa(maxProgramFile>>20) + " MiB"},
	} {
		if info, _ := c.s.Info(); !strings.Contains(info.Misuse, c.want) {
			t.Errorf("%s: Misuse %q does not say %q", info.Name, info.Misuse, c.want)
		}
	}
}

// TestChildStart checks what docs/syscalls.md says a process made by start begins with: a0 =
// the argument, a1 = an argv array of one string, the caller's argument 0, and every other
// register but sp 0; the data as the image has it; descriptors 0, 1 and 2 and no others. A ret from its entry ends it with status
// a0, and wait gets the whole 64-bit status.
func TestChildStart(t *testing.T) {
	src := `
main:   la t0, g
        li t1, 99
        sd t1, 0(t0)            # the child does not see this
        syscall pipe            # descriptors 3 and 4, which the child does not get
        li t3, 5
        li s3, 6                # nor these values
        la a0, child
        li a1, 77
        li a2, 0
        li a3, 1
        syscall start
        syscall wait
        syscall print_int
        li a0, 0
        ret
child:  or a2, a2, a3
        or a2, a2, a4
        or a2, a2, a5
        or a2, a2, t0
        or a2, a2, t1
        or a2, a2, t2
        or a2, a2, t3
        or a2, a2, s0
        or a2, a2, s1
        or a2, a2, s2
        or a2, a2, s3
        or a2, a2, fp
        mov s2, a2              # 0: every register but a0, a1 and sp starts as 0
        mov s0, a0
        mov s1, a1
        li a0, 4
        la a1, g
        li a2, 1
        syscall write
        syscall print_int       # -1: descriptor 4 is not open
        li a0, 3
        syscall close
        syscall print_int       # -1: nor is 3
        li a0, 2
        la a1, g
        li a2, 0
        syscall write
        syscall print_int       # 0: 2 is
        li a0, ' '
        syscall putc
        mov a0, s0
        syscall print_int       # the argument
        li a0, ' '
        syscall putc
        syscall argc
        syscall print_int
        li a0, ' '
        syscall putc
        ld a0, 0(s1)
        syscall puts            # argv[0]
        li a0, ' '
        syscall putc
        ld a0, 8(s1)
        syscall print_int       # the array's end
        li a0, ' '
        syscall putc
        la t0, g
        ld a0, 0(t0)
        syscall print_int       # the data as the image has it
        li a0, ' '
        syscall putc
        mov a0, s2
        syscall print_int
        li a0, ' '
        syscall putc
        li a0, 1000
        ret
        .data
g:      .quad 11
`
	img, err := asm.Assemble("start.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = Run(img, Options{Args: []string{"prog", "x", "y"}, Stdout: &out, Stderr: &out})
	if want := "-1-10 77 1 prog 0 11 0 1000"; err != nil || out.String() != want {
		t.Errorf("output %q, err %v; want %q", out.String(), err, want)
	}
}

// TestChildSpawn checks spawn's arguments and kill's reach, as docs/syscalls.md states them:
// an argv array replaces argument 0 too, and 0 or an empty array gives the file's name alone;
// kill ends any process but the caller's, a sibling included, and returns -1 for one that has
// ended, whose status wait still gets.
func TestChildSpawn(t *testing.T) {
	dir := t.TempDir()
	child := `
main:   mov s0, a0
        mov s1, a1
        syscall print_int       # argc
.next:  beqz s0, .end
        li a0, ' '
        syscall putc
        ld a0, 0(s1)
        syscall puts
        addi s1, s1, 8
        addi s0, s0, -1
        jmp .next
.end:   li a0, '|'
        syscall putc
        li a0, -3
        syscall exit
`
	if err := os.WriteFile(filepath.Join(dir, "child.s"), []byte(child), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `
        .data
name:   .asciz "child.s"
x:      .asciz "first"
y:      .asciz "second"
two:    .quad 0, 0, 0
none:   .quad 0
        .text
main:   la t0, two
        la t1, x
        sd t1, 0(t0)
        la t1, y
        sd t1, 8(t0)
        li a0, 0
        call run
        la a0, two
        call run
        la a0, none
        call run
        syscall print_int       # the whole status
        li a0, '|'
        syscall putc
        la a0, spin
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        mov s0, a0
        la a0, killer
        mov a1, s0
        li a2, 0
        li a3, 1
        syscall start           # kills its sibling
        syscall wait
        syscall print_int       # 0, from kill
        li a0, ' '
        syscall putc
        mov a0, s0
        syscall wait
        syscall print_int       # 137
        li a0, '|'
        syscall putc
        la a0, short
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        mov s0, a0
        li a0, 10
        syscall sleep           # it ends meanwhile
        mov a0, s0
        syscall kill
        syscall print_int       # -1
        li a0, ' '
        syscall putc
        mov a0, s0
        syscall wait
        syscall print_int       # 4
        li a0, 0
        ret
spin:   jmp spin
killer: syscall kill
        ret
short:  li a0, 4
        ret
# run(a0 = argv) spawns child.s with that argv and waits for it.
run:    mov a1, a0
        la a0, name
        li a2, 0
        li a3, 1
        syscall spawn
        syscall wait
        ret
`
	img, err := asm.Assemble("spawn.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// One processor: the child that main kills must have ended by the time main's sleep does.
	_, err = Run(img, Options{ProgramDir: dir, Assemble: assembleSource, CPUs: 1, VirtualClock: true, Stdout: &out, Stderr: &out})
	if want := "1 child.s|2 first second|1 child.s|-3|0 137|-1 4"; err != nil || out.String() != want {
		t.Errorf("output %q, err %v; want %q", out.String(), err, want)
	}
}

// TestDescriptorRows checks claims of docs/syscalls.md's rows on descriptors and on the main
// thread: read of 0 bytes returns 0 without reading; pipe takes the lowest free descriptors;
// print_int, putc and puts write to descriptor 1 whatever it is, here a pipe.
func TestDescriptorRows(t *testing.T) {
	src := `
main:   li a0, 0
        la a1, buf
        li a2, 0
        syscall read
        syscall print_int       # 0, though input waits
        li a0, 0
        la a1, buf
        li a2, 2
        syscall read
        mov a2, a0
        li a0, 1
        la a1, buf
        syscall write           # "hi"
        li a0, 0
        syscall close
        syscall pipe
        mov s0, a0
        mov s1, a1
        syscall print_int       # 0: the read end takes the free 0
        mov a0, s1
        syscall print_int       # 3
        la a0, child
        li a1, 0
        li a2, 2
        mov a3, s1
        syscall start           # its 1 is the write end
        syscall wait            # first, so that the pipe holds all the child printed
        mov a0, s1
        syscall close
        mov a0, s0
        la a1, buf
        li a2, 16
        syscall read
        mov a2, a0
        li a0, 1
        la a1, buf
        syscall write           # what the child printed
        li a0, 0
        ret
child:  li a0, 42
        syscall print_int
        li a0, '!'
        syscall putc
        la a0, s
        syscall puts
        li a0, 0
        ret
        .data
s:      .asciz "ok"
buf:    .space 16
`
	img, err := asm.Assemble("fds.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = Run(img, Options{Stdin: strings.NewReader("hi"), Stdout: &out, Stderr: &out})
	if want := "0hi0342!ok"; err != nil || out.String() != want {
		t.Errorf("output %q, err %v; want %q", out.String(), err, want)
	}
}

// TestMainThreadEnd checks the thread_exit row of docs/syscalls.md: thread_exit in the main
// thread ends only that thread, and the process ends, with status 0, when its last thread does;
// ret from the entry point ends the process at once, its other threads with it.
func TestMainThreadEnd(t *testing.T) {
	const worker = `
w:      li a0, 'w'
        syscall putc
        li a0, 10
        syscall sleep
        li a0, 'x'
        syscall putc
        li a0, 3
        ret
`
	for _, tt := range []struct {
		end, want string
		status    int64
	}{
		{"li a0, 5\n syscall thread_exit", "wx", 0},
		{"li a0, 5\n ret", "w", 5},
	} {
		src := "main: la a0, w\n li a1, 0\n li a2, 256\n syscall thread_spawn\n syscall yield\n " + tt.end + "\n" + worker
		img, err := asm.Assemble("end.s", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res, err := Run(img, Options{Stdout: &out, Stderr: &out})
		if err != nil || out.String() != tt.want || res.ExitCode != tt.status {
			t.Errorf("%q: output %q, status %d, err %v; want %q, status %d", tt.end, out.String(), res.ExitCode, err, tt.want, tt.status)
		}
	}
}

// TestIds checks the rows of gettid, getpid, chan_make and thread_spawn in docs/syscalls.md:
// ids and handles count up from 1 and are not reused, thread ids in each process, and a new
// thread starts with every register but a0 and sp 0.
func TestIds(t *testing.T) {
	src := `
main:   la a0, c
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        syscall wait
        la a0, c
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        syscall print_int       # 3: process 2, waited for, is gone, but its id is not reused
        syscall wait
        li a0, 0
        syscall chan_make
        syscall print_int
        li a0, 0
        syscall chan_make
        syscall print_int
        li a0, ' '
        syscall putc
        li t0, 5
        li s0, 6
        la a0, w
        li a1, 7
        li a2, 100
        syscall thread_spawn
        syscall thread_join
        syscall print_int
        li a0, 0
        ret
c:      syscall gettid
        syscall print_int
        syscall getpid
        syscall print_int
        li a0, ' '
        syscall putc
        li a0, 0
        ret
w:      or a1, a1, a2
        or a1, a1, a3
        or a1, a1, a4
        or a1, a1, a5
        or a1, a1, t0
        or a1, a1, t1
        or a1, a1, t2
        or a1, a1, t3
        or a1, a1, s0
        or a1, a1, s1
        or a1, a1, s2
        or a1, a1, s3
        or a1, a1, fp
        add a0, a0, a1          # 7, the argument, if the others are 0
        ret
`
	out, err := runSource(t, src, Options{})
	if want := "12 313 12 7"; err != nil || out != want {
		t.Errorf("output %q, err %v; want %q", out, err, want)
	}
}

// TestProcessTrapped checks where the trap of a child process goes: to Options.ProcessTrapped
// when it is set, else to Stderr; the run goes on, and the parent's wait gets 134.
func TestProcessTrapped(t *testing.T) {
	const src = `
main:   la a0, child
        li a1, 0
        li a2, 0
        li a3, 1
        syscall start
        syscall wait
        syscall print_int
        li a0, 0
        ret
child:  li a0, 1
        li a1, 0
        div a0, a0, a1
        ret
`
	out, err := runSource(t, src, Options{})
	if err != nil || !strings.HasPrefix(out, "process 2: trap: division by zero\n") || !strings.HasSuffix(out, "134") {
		t.Errorf("without ProcessTrapped: output %q, err %v; want the report on stderr, then 134", out, err)
	}
	var got []string
	out, err = runSource(t, src, Options{ProcessTrapped: func(pid int, te *TrapError) {
		got = append(got, fmt.Sprintf("%d %v %s", pid, te.Trap, te.Instr))
	}})
	if err != nil || out != "134" || len(got) != 1 || got[0] != "2 division by zero div a0, a0, a1" {
		t.Errorf("with ProcessTrapped: output %q, err %v, reports %q; want 134 and one report of process 2", out, err, got)
	}
}

// assembleSource is Options.Assemble as the spindle command gives it: the assembler, reading
// includes through the VM.
func assembleSource(name string, src io.Reader, readFile func(string) ([]byte, error)) (*object.Image, error) {
	return asm.AssembleReader(name, src, &asm.Options{ReadFile: readFile})
}
