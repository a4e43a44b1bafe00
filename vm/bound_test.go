package vm

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// TestThreadTableBounded spawns and joins 100,000 threads one after another, while one more
// thread stays alive all along: the thread table must stay small. It used to keep a slot for
// every thread ever made.
func TestThreadTableBounded(t *testing.T) {
	const src = `
main:   la a0, idle             # a thread that lives as long as main
        li a1, 0
        li a2, 64
        syscall thread_spawn
        mov s1, a0
        lk s0, 100000
.loop:  la a0, leaf
        li a1, 0
        li a2, 64
        syscall thread_spawn
        syscall thread_join
        addi s0, s0, -1
        bnez s0, .loop
        mov a0, s1
        syscall thread_join
        mov a0, s0
        ret
leaf:   ret
idle:   li t0, 0
.spin:  syscall yield
        addi t0, t0, 1
        li t1, 300000
        blt t0, t1, .spin
        ret
`
	img, err := asm.Assemble("table.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxMem: 1 << 20, StackSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run()
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("status %d, err %v", res.ExitCode, err)
	}
	p := m.Process()
	if n := cap(p.threads); n > 64 {
		t.Errorf("the thread table has room for %d threads after 100,002 were made; at most 3 lived at once", n)
	}
	if got := p.kmem.Load(); got != 0 {
		t.Errorf("%d bytes of kernel objects still charged after every thread was joined", got)
	}
}

// TestPipeChargeReturned makes and closes 20,000 pipes, at most one open at a time, under a
// memory limit that holds 15 of them: a pipe's charge must be given back when both its ends
// are closed.
func TestPipeChargeReturned(t *testing.T) {
	const src = `
main:   lk s0, 20000
.loop:  syscall pipe
        mov s1, a1
        syscall close
        mov a0, s1
        syscall close
        addi s0, s0, -1
        bnez s0, .loop
        li a0, 0
        ret
`
	img, err := asm.Assemble("pipes.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxMem: 1 << 20, StackSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Run(); err != nil || res.ExitCode != 0 {
		t.Fatalf("status %d, err %v; want 0", res.ExitCode, err)
	}
	if got := m.Process().kmem.Load(); got != 0 {
		t.Errorf("%d bytes of kernel objects still charged after every pipe was closed", got)
	}
}

// TestPipeDescriptorsFull checks that a pipe that cannot get its two descriptors traps before
// it charges anything or takes a descriptor.
func TestPipeDescriptorsFull(t *testing.T) {
	const maxFDs = 64
	src := "main:\n" + strings.Repeat("        syscall pipe\n", (maxFDs-3)/2) + "        syscall pipe\n        ret\n"
	img, err := asm.Assemble("full.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxFDs: maxFDs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run()
	var te *TrapError
	if !errors.As(err, &te) || te.Trap != isa.TrapSyscallArg || !strings.Contains(te.Detail, "a pipe needs two more, and the most is 64") {
		t.Fatalf("err = %v, want the pipe's descriptor trap", err)
	}
	if got, want := m.Process().kmem.Load(), uint64((maxFDs-3)/2*pipeSize); got != want {
		t.Errorf("%d bytes charged, want %d: the refused pipe must charge nothing", got, want)
	}
}

// TestSpawnArgsBounded spawns with an argv of 512 Ki pointers to one 4,000-byte string: the
// copy must stop at the new process's stack size, and the host must not copy gigabytes first.
func TestSpawnArgsBounded(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "child.s"), []byte("main: li a0, 0\n ret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const src = `
main:   lk s0, 524288           # pointers
        shli a0, s0, 3
        addi a0, a0, 8
        syscall sbrk            # the argv array
        mov s1, a0
        li a0, 4096
        syscall sbrk            # the string
        mov s2, a0
        li t0, 0
.fill:  add t1, s2, t0          # 3,999 'x' and a NUL
        li t2, 'x'
        sb t2, 0(t1)
        addi t0, t0, 1
        li t2, 3999
        blt t0, t2, .fill
        li t0, 0
.ptrs:  shli t1, t0, 3
        add t1, s1, t1
        sd s2, 0(t1)
        addi t0, t0, 1
        blt t0, s0, .ptrs
        la a0, name
        mov a1, s1
        li a2, 0
        li a3, 1
        syscall spawn
        ret
        .data
name:   .asciz "child.s"
`
	img, err := asm.Assemble(filepath.Join(dir, "argv.s"), []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(img, Options{MaxMem: 16 << 20, ProgramDir: dir, Assemble: assembleSource})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = m.Run()
	runtime.ReadMemStats(&after)
	var te *TrapError
	if !errors.As(err, &te) || !strings.Contains(te.Detail, "the arguments take more than") {
		t.Fatalf("err = %v, want the trap for arguments too large", err)
	}
	// The machine's own memory is reserved address space; what the Go heap gave out is the
	// copy of the arguments, which the stack's size (1 MiB) bounds.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("the run allocated %d MB on the host; the arguments may take at most 1 MB", got>>20)
	}
}
