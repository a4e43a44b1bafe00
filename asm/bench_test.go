package asm

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// programSource generates a program of exactly n lines (n >= 40) of the kind a person or a
// compiler writes: functions with global and local labels, instructions of every format, pseudo-
// instructions, constants that need the pool, comments on lines of their own and after code,
// blank lines, and now and then a .data block of .equ, .align, .word, .byte and .asciz. No two
// lines of code are the same, so that no cache of parsed lines makes it cheaper than a real
// program. It returns the source and the number of instructions it assembles to.
func programSource(n int) ([]byte, int) {
	var b bytes.Buffer
	b.Grow(n * 24)
	lines, instrs := 0, 0
	emit := func(code int, format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
		lines++
		instrs += code
	}
	emit(0, "# generated: %d lines", n)
	emit(0, "\t.text")
	emit(1, "main:\tcall f0")
	emit(1, "\tsyscall exit")
	for i := 0; ; i++ {
		// A function is 22 lines; with a .data block, 31. The last lines are filled with
		// comments, and the last function must fit before them.
		if lines+31+1 > n {
			break
		}
		emit(0, "")
		emit(0, "# f%d: sums the words of d%d, %d times", i, i, i%7+1)
		emit(0, "f%d:", i)
		emit(2, "\tpush\ts0, s1\t\t# f%d saves them", i)
		emit(1, "\tli\tt0, %d", i)
		emit(1, "\taddi\tsp, sp, -%d", 8*(i%4000+2))
		emit(1, "\tla\ta2, d%d", i)
		emit(1, "\tlw\ta0, %d(a2)", 4*(i%8000))
		emit(1, ".Lloop%d:\tadd\ta0, a0, t0\t\t# accumulate", i)
		emit(1, "\tsw\ta0, %d(sp)", 8*(i%4000))
		emit(1, "\tsubi\tt0, t0, %d", i%30000+1)
		emit(1, "\tbgt\tt0, a%d, .Lloop%d", i%6, i)
		emit(1, "\tli\ta1, 0x%x", 0x100000000+uint64(i)*977)
		emit(1, "\tandi\ta1, a1, %d << 2 | 3", i%8000)
		emit(1, "\tbeq\ta0, a1, .Ldone%d", i)
		emit(1, "\tcall\tf%d\t\t# from f%d", max(i-1, 0), i)
		emit(1, ".Ldone%d:\tmov\ta0, a1", i)
		emit(1, "\tmul\ta0, a0, s%d\t\t# %d", i%4, i)
		emit(1, "\txori\ta0, a0, %d", i%30000)
		emit(1, "\taddi\tsp, sp, %d", 8*(i%4000+2))
		emit(2, "\tpop\ts1, s0\t\t# f%d restores them", i)
		emit(1, "\tret\t\t\t# to f%d's caller", i)
		emit(0, "\t.data")
		emit(0, "\t.align\t%d", 4<<(i%2))
		emit(0, "d%d:\t.word\t%d, %d", i, i, i*3+1)
		emit(0, "\t.text")
		if i%4 == 3 {
			emit(0, "\t.data")
			emit(0, "\t.equ\tSIZE%d, %d * 8", i, i%50+1)
			emit(0, "b%d:\t.byte\t%d, %d, 'x'", i, i%256, (i+1)%256)
			emit(0, "\t.align\t8")
			emit(0, "tab%d:\t.quad\tSIZE%d + b%d", i, i, i)
			emit(0, "msg%d:\t.asciz\t\"function %d\\n\"", i, i)
			emit(0, "\t.space\tSIZE%d", i)
			emit(0, "\t.text")
			emit(0, "# end of f%d", i)
		}
	}
	for lines < n {
		emit(0, "# padding line %d", lines)
	}
	return b.Bytes(), instrs
}

// peakHeap samples the bytes of live and unswept heap objects while it runs, which is what an
// assembly costs the host at its worst, garbage not yet collected included.
type peakHeap struct {
	stop chan struct{}
	done sync.WaitGroup
	base uint64
	peak uint64
}

func heapObjectBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// startPeakHeap collects the garbage, then samples the heap every 200 µs until stop.
func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{stop: make(chan struct{}), base: heapObjectBytes()}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			p.peak = max(p.peak, heapObjectBytes())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// end stops the sampling and returns the peak, above what the heap held at the start.
func (p *peakHeap) end() uint64 {
	close(p.stop)
	p.done.Wait()
	p.peak = max(p.peak, heapObjectBytes())
	return p.peak - min(p.base, p.peak)
}

// BenchmarkAssembleLines assembles generated programs (programSource) of 10,000, 100,000 and
// 1,000,000 lines, and reports lines a second and the peak heap an assembly takes, in bytes a
// line. The last shows that a source of a million lines is accepted.
func BenchmarkAssembleLines(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			src, instrs := programSource(n)
			if got := bytes.Count(src, []byte("\n")); got != n {
				b.Fatalf("generated %d lines, want %d", got, n)
			}
			b.SetBytes(int64(len(src)))
			var peak uint64
			for b.Loop() {
				b.StopTimer()
				p := startPeakHeap()
				b.StartTimer()
				img, err := Assemble("bench.s", src, nil)
				b.StopTimer()
				peak = max(peak, p.end())
				if err != nil {
					b.Fatalf("%.2000s", err)
				}
				if len(img.Text) != instrs {
					b.Fatalf("%d instructions, want %d", len(img.Text), instrs)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(peak)/float64(n), "peakB/line")
		})
	}
}

// TestProgramSource checks that a generated program assembles, with the instructions it counts
// and a symbol for every label, and that no two of its lines of code are the same, but for the
// directives that switch sections and align.
func TestProgramSource(t *testing.T) {
	src, instrs := programSource(2000)
	img, err := Assemble("gen.s", src, nil)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if len(img.Text) != instrs {
		t.Errorf("%d instructions, want %d", len(img.Text), instrs)
	}
	src, _ = programSource(100_000)
	seen := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 0, len(f) <= 2 && isDirective(f[0]), f[0] == "#" && f[1] == "padding":
			continue
		}
		if seen[line] {
			t.Errorf("line %q appears twice", line)
		}
		seen[line] = true
	}
}
