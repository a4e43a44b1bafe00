package vm

import (
	"runtime"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/object"
)

// Micro-benchmarks: one mechanism of the machine each, a loop around the fewest instructions
// that exercise it, beside the same loop in Go (see bench_test.go for how to read a pair). Each
// program reads N and prints one number, which its native twin must return.

// A micro is a micro-benchmark's program, with its Go twin and its N.
type micro struct {
	name string
	src  string
	workload
}

var micros = []micro{
	{
		// Dispatch: a chain of plain register arithmetic, xorshift64, with nothing else in the
		// loop: 8 instructions an iteration (7 and the loop), the unit. The native side runs
		// the same 7 operations, which the hardware overlaps as it can.
		name: "dispatch",
		src: `
main:   syscall read_int
        mov s0, a0
        li t0, 1                # x, the xorshift state
        li t2, 0                # the sum of the states
        li t3, 0                # i
        bge t3, s0, .done
.loop:  shli t1, t0, 13
        xor t0, t0, t1
        shri t1, t0, 7
        xor t0, t0, t1
        shli t1, t0, 17
        xor t0, t0, t1
        add t2, t2, t0
        loop t3, s0, .loop
.done:  mov a0, t2
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret
`,
		workload: workload{2_000_000, instrs(8), "instr", func(n int64) int64 {
			x, sum := uint64(1), uint64(0)
			for range n {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				sum += x
			}
			return int64(sum)
		}},
	},
	{
		// Calls: a call of a leaf that adds one and returns. The unit is a call and its return.
		name: "call",
		src: `
inc:    addi a0, a0, 1
        ret

main:   syscall read_int
        mov s0, a0
        li a0, 0
        li t3, 0
        bge t3, s0, .done
.loop:  call inc                # a leaf: a0 is the only register it touches
        loop t3, s0, .loop
.done:  syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret
`,
		workload: workload{2_000_000, count, "call", func(n int64) int64 {
			var x int64
			for range n {
				x = incNative(x)
			}
			return x
		}},
	},
	{
		// Memory: a pass over an array of 512 quads (4 KiB) adds its index to each; a load, an
		// add and a store, with the pointer's step and the loop. The unit is an element.
		name: "memory",
		src: `
        .equ LEN, 512
        .bss
arr:    .space LEN*8

        .text
main:   syscall read_int
        mov s0, a0              # passes
        la s1, arr
        li t3, 0
        bge t3, s0, .sum
.pass:  mov t0, s1              # p = &arr[0]
        li t1, 0                # i
        li a4, LEN
.elem:  ld t2, 0(t0)
        add t2, t2, t1
        sd t2, 0(t0)
        addi t0, t0, 8
        loop t1, a4, .elem
        loop t3, s0, .pass
.sum:   li a0, 0                # the sum of the elements
        mov t0, s1
        li t1, 0
        li a4, LEN
.add:   ld t2, 0(t0)
        add a0, a0, t2
        addi t0, t0, 8
        loop t1, a4, .add
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret
`,
		workload: workload{4_000, func(n int64) float64 { return float64(n) * 512 }, "element", func(n int64) int64 {
			var a [512]int64
			for range n {
				for i := range a {
					a[i] += int64(i)
				}
			}
			var s int64
			for _, v := range a {
				s += v
			}
			return s
		}},
	},
	{
		// Context switches: two threads yield to each other N times each. The unit is a
		// switch, two an iteration. The native side is two goroutines calling runtime.Gosched
		// on one processor (GOMAXPROCS 1), where each call switches to the other.
		name: "switch",
		src: `
main:   syscall read_int
        mov s0, a0
        la a0, other
        mov a1, s0
        li a2, 256
        syscall thread_spawn
        mov s1, a0              # its id, to join
        li t3, 0
        bge t3, s0, .join
.loop:  syscall yield
        loop t3, s0, .loop
.join:  mov a0, s1
        syscall thread_join     # the other's count
        add a0, a0, t3
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret

# other(n) yields n times and returns n.
other:  mov s0, a0
        li t3, 0
        bge t3, s0, .done
.loop:  syscall yield
        loop t3, s0, .loop
.done:  mov a0, t3
        ret
`,
		workload: workload{1_000_000, func(n int64) float64 { return 2 * float64(n) }, "switch", func(n int64) int64 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			done := make(chan int64)
			go func() {
				var i int64
				for ; i < n; i++ {
					runtime.Gosched()
				}
				done <- i
			}()
			var i int64
			for ; i < n; i++ {
				runtime.Gosched()
			}
			return i + <-done
		}},
	},
	{
		// Spawns: make a thread, let it run to its end, join it; one at a time. The unit is a
		// thread. The native side starts a goroutine and waits for its value on a channel.
		name: "spawn",
		src: `
main:   syscall read_int
        mov s0, a0
        li s1, 0                # the sum of the threads' values
        li s2, 0                # i
        bge s2, s0, .done
.loop:  la a0, worker
        mov a1, s2
        li a2, 64
        syscall thread_spawn
        syscall thread_join     # a0 is its id; it returns i + 1
        add s1, s1, a0
        loop s2, s0, .loop
.done:  mov a0, s1
        syscall print_int
        li a0, '\n'
        syscall putc
        li a0, 0
        ret

worker: addi a0, a0, 1
        ret
`,
		workload: workload{200_000, count, "thread", func(n int64) int64 {
			var s int64
			done := make(chan int64)
			for i := range n {
				go func() { done <- i + 1 }()
				s += <-done
			}
			return s
		}},
	},
}

// instrs returns the units of a program that runs k instructions an iteration.
func instrs(k int) func(int64) float64 {
	return func(n int64) float64 { return float64(k) * float64(n) }
}

//go:noinline
func incNative(x int64) int64 { return x + 1 }

func microImage(tb testing.TB, m micro) *object.Image {
	tb.Helper()
	img, err := asm.Assemble(m.name+".s", []byte(m.src), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

func benchMicro(b *testing.B, name string, native bool) {
	for _, m := range micros {
		if m.name != name {
			continue
		}
		if native {
			benchNative(b, m.workload)
		} else {
			benchSpindle(b, microImage(b, m), m.workload)
		}
		return
	}
	b.Fatalf("no micro-benchmark %s", name)
}

func BenchmarkDispatch(b *testing.B)       { benchMicro(b, "dispatch", false) }
func BenchmarkDispatchNative(b *testing.B) { benchMicro(b, "dispatch", true) }
func BenchmarkCall(b *testing.B)           { benchMicro(b, "call", false) }
func BenchmarkCallNative(b *testing.B)     { benchMicro(b, "call", true) }
func BenchmarkMemory(b *testing.B)         { benchMicro(b, "memory", false) }
func BenchmarkMemoryNative(b *testing.B)   { benchMicro(b, "memory", true) }
func BenchmarkSwitch(b *testing.B)         { benchMicro(b, "switch", false) }
func BenchmarkSwitchNative(b *testing.B)   { benchMicro(b, "switch", true) }
func BenchmarkSpawnOne(b *testing.B)       { benchMicro(b, "spawn", false) }
func BenchmarkSpawnOneNative(b *testing.B) { benchMicro(b, "spawn", true) }
