package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAsmSource(t *testing.T) {
	for _, lines := range []int{3, 10, 11, 1000, 65_537} {
		src := asmSource(lines)
		if got := bytes.Count(src, []byte("\n")); got != lines {
			t.Errorf("asmSource(%d) has %d lines", lines, got)
		}
		if !bytes.Equal(src, asmSource(lines)) {
			t.Errorf("asmSource(%d) differs from one call to the next", lines)
		}
	}
}

func TestSpliceSection(t *testing.T) {
	doc := "# Title\n\n" + beginMarker + "\nold table\n" + endMarker + "\nafter\n"
	got, err := spliceSection(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\n" + beginMarker + "\nnew table\n" + endMarker + "\nafter\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := spliceSection("# no markers\n", "x"); err == nil {
		t.Error("a document without the markers was accepted")
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 1 2 = %v", m)
	}
	if m := median([]int64{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of 4 1 3 2 = %v, want 2 (the mean of 2 and 3, in integers)", m)
	}
}

func TestFibCalls(t *testing.T) {
	// fib(25) makes 242,785 calls (vm/bench_test.go); fib(1) one.
	if got := fibCalls(25); got != 242_785 {
		t.Errorf("fibCalls(25) = %v", got)
	}
	if got := fibCalls(1); got != 1 {
		t.Errorf("fibCalls(1) = %v", got)
	}
}

// TestQuick builds spindle and measures the smallest size of every table once: each program
// prints what it should, the generated source assembles, and the tables and plots are written.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs spindle")
	}
	tmp := t.TempDir()
	spindle := filepath.Join(tmp, "spindle")
	build := exec.Command("go", "build", "-o", spindle, "./cmd/spindle")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building spindle: %v\n%s", err, out)
	}
	m := &measurer{spindle: spindle, root: "../..", tmp: tmp, runs: 1, log: io.Discard}
	res, err := measureAll(m, true)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{
		"fib": "6765\n", "loop": "282060600\n", "sieve": "1229\n", "pingpong": "10000\n", "spawn": "501500\n",
	}
	if len(res.runtime) != len(workloads) {
		t.Fatalf("%d rows of run time, want %d", len(res.runtime), len(workloads))
	}
	for _, row := range res.runtime {
		if row.out != outs[row.w.name] || row.seconds <= 0 || row.peakKB <= 0 {
			t.Errorf("%s %d: printed %q in %v s, peak %d KiB; want %q", row.w.name, row.n, row.out, row.seconds, row.peakKB, outs[row.w.name])
		}
	}
	if len(res.threads) != 2 || res.threads[0].out != "0\n" || res.threads[1].out != "5150\n" {
		t.Errorf("live threads: %+v, want runs of spawn.s with no threads and with 100", res.threads)
	}
	if len(res.asm) != 2 || res.asm[0].refused != "" || res.asm[1].refused != "" || res.asm[1].seconds <= 0 {
		t.Errorf("assembler: %+v, want %d and %d lines assembled", res.asm, asmLines[0], asmLines[1])
	}
	if len(res.sum) != 1 || res.sum[0].cpu1.out != "49999995000000\n" || res.sum[0].cpu2.out != "49999995000000\n" {
		t.Errorf("parallel_sum: %+v", res.sum)
	}

	// A source past the assembler's limit of lines is measured as refused, with its message.
	big := filepath.Join(tmp, "big.s")
	if err := os.WriteFile(big, asmSource(1_000_000), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := m.measure([]job{{args: []string{"asm", "-o", os.DevNull, big}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].refused == "" && rs[0].seconds <= 0 {
		t.Errorf("1,000,000 lines: %+v, want a time or a refusal", rs[0])
	}

	img := filepath.Join(tmp, "img")
	if err := os.Mkdir(img, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := res.plot(img); err != nil {
		t.Fatal(err)
	}
	md := res.markdown("performance")
	for _, file := range []string{"runtime.png", "threads.png", "asm.png", "parallel_sum.png"} {
		b, err := os.ReadFile(filepath.Join(img, file))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s: not a PNG file (%v)", file, err)
		}
		if !strings.Contains(md, "(performance/"+file+")") {
			t.Errorf("the tables do not link %s", file)
		}
	}
	for _, heading := range []string{"### Run time against N", "### Memory against live threads", "### The assembler against lines", "### parallel_sum"} {
		if !strings.Contains(md, heading) {
			t.Errorf("the tables have no %q", heading)
		}
	}
}
