package vm

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/spindle-vm/spindle/asm"
)

// TestIdleThreadSize measures what an idle thread costs the host beyond its stack: its struct,
// its entry in the thread table, its place in a wait queue. The target is 512 bytes; the
// kernel charges threadCost for it against the process's memory limit, so threadCost must
// not be less than the real cost either.
func TestIdleThreadSize(t *testing.T) {
	if sz := unsafe.Sizeof(Thread{}); sz > threadCost {
		t.Errorf("a Thread is %d bytes, more than the threadCost of %d charged for it", sz, threadCost)
	}
	// main spawns n threads with 64-byte stacks; each blocks receiving from one channel. Then
	// main blocks too, on a futex nobody wakes: the machine deadlocks with n+1 threads parked,
	// and the heap then holds them all.
	const n = 100_000
	src := `
main:   li a0, 0
        syscall chan_make
        mov s0, a0
        lk s1, ` + itoa(n) + `
.spawn: la a0, worker
        mov a1, s0
        li a2, 64
        syscall thread_spawn
        addi s1, s1, -1
        bnez s1, .spawn
        la a0, word
        li a1, 0
        syscall futex_wait
worker: syscall chan_recv
        ret
        .data
word:   .quad 0
`
	img, err := asm.Assemble("idle.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := Load(img, Options{VirtualClock: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run()
	if err == nil || !strings.Contains(err.Error(), "deadlock") {
		t.Fatalf("err = %v, want the deadlock that leaves every thread parked", err)
	}
	err = nil // the report is not part of the threads' cost
	runtime.GC()
	runtime.ReadMemStats(&after)
	_, mem := m.Process().Memory()
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perThread := (heap - int64(cap(mem))) / n
	t.Logf("%d idle threads: %d bytes of heap, %d of them VM memory (the stacks); %d bytes a thread beyond its stack",
		n, heap, cap(mem), perThread)
	if perThread > 512 {
		t.Errorf("an idle thread costs %d bytes beyond its stack; the target is at most 512", perThread)
	}
	runtime.KeepAlive(m)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// TestStatsBounded checks that --stats keeps a bounded table however many threads a program
// makes, and that the threads it does not list are still counted in their process's row.
func TestStatsBounded(t *testing.T) {
	const n = 3 * MaxStatsThreads
	src := `
main:   li s0, ` + itoa(n) + `
.next:  la a0, worker
        li a1, 0
        li a2, 256
        syscall thread_spawn
        syscall thread_join
        addi s0, s0, -1
        bnez s0, .next
        li a0, 0
        ret
worker: li a0, 1
        ret
`
	img, err := asm.Assemble("stats.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(img, Options{Stats: true, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Threads) != MaxStatsThreads || res.ThreadsMade != n+1 {
		t.Errorf("%d threads listed of %d made; want %d of %d", len(res.Threads), res.ThreadsMade, MaxStatsThreads, n+1)
	}
	if len(res.Procs) != 1 || res.Procs[0].Threads != n+1 || res.Procs[0].Steps != res.Steps || res.Procs[0].Switches != res.Switches || !res.Procs[0].Ended {
		t.Errorf("process rows %+v; want one, of %d threads, %d steps, %d switches, ended", res.Procs, n+1, res.Steps, res.Switches)
	}
}

// TestStatsTwoProcessors runs, on two processors with statistics on, a process that makes and
// joins threads past the listed ones while another starts and waits for processes. The
// statistics are kept by services that run without the kernel lock (thread_spawn, thread_join)
// and under it (start): every thread must be counted, and under the race detector nothing may
// race.
func TestStatsTwoProcessors(t *testing.T) {
	src := `
main:   la a0, churn
        li a1, 0
        li a2, 0
        syscall start
        mov s3, a0
        li s0, 400
.again: la a0, short
        li a1, 0
        li a2, 0
        syscall start
        syscall wait
        addi s0, s0, -1
        bnez s0, .again
        mov a0, s3
        syscall wait
        li a0, 0
        ret
churn:  li s0, 1100
.next:  la a0, worker
        li a1, 0
        li a2, 256
        syscall thread_spawn
        syscall thread_join
        addi s0, s0, -1
        bnez s0, .next
        li a0, 0
        ret
short:  li a0, 0
        ret
worker: li a0, 1
        ret
`
	img, err := asm.Assemble("stats2.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(img, Options{CPUs: 2, Stats: true, Quantum: MaxQuantum, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	var threads int
	for _, p := range res.Procs {
		threads += p.Threads
	}
	if want := uint64(1 + 1 + 1100 + 400); res.ThreadsMade != want || uint64(threads) != want {
		t.Errorf("%d threads made, %d in the process rows; want %d in both", res.ThreadsMade, threads, want)
	}
}
