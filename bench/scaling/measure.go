package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A job is one command to measure: the spindle command's arguments and the standard input.
type job struct {
	args  []string
	stdin string
}

func (j job) String() string {
	s := "spindle " + strings.Join(j.args, " ")
	if j.stdin != "" {
		s = "echo " + strings.TrimSpace(j.stdin) + " | " + s
	}
	return s
}

// A result is what the runs of a job measured: medians, and what it printed.
type result struct {
	seconds float64 // median wall time
	peakKB  int64   // median of the maximum resident set, in KiB
	out     string  // the standard output, the same in every run
	refused string  // the first line of the assembler's refusal (status 65); nothing else is set
}

// A measurer runs the spindle command and measures it.
type measurer struct {
	spindle, root, tmp string
	runs               int
	log                io.Writer
	done               map[string]result // by job.String(): a job shared by two tables runs once
}

// measure runs each job m.runs times, the runs interleaved (every job once, then every job
// again), and returns their results. A job that the assembler refuses is run once. A job that
// fails otherwise, or prints something different in two runs, is an error: its numbers would
// not mean what the tables say.
func (m *measurer) measure(jobs []job) ([]result, error) {
	if m.done == nil {
		m.done = map[string]result{}
	}
	type acc struct {
		secs []float64
		kb   []int64
		out  string
		ref  string
	}
	accs := make([]*acc, len(jobs))
	for i := range jobs {
		accs[i] = new(acc)
	}
	for r := range m.runs {
		for i, j := range jobs {
			a := accs[i]
			if _, ok := m.done[j.String()]; ok || a.ref != "" {
				continue
			}
			fmt.Fprintf(m.log, "run %d/%d: %s\n", r+1, m.runs, j)
			secs, kb, out, refused, err := m.once(j)
			if err != nil {
				return nil, err
			}
			switch {
			case refused != "":
				a.ref = refused
			case r > 0 && out != a.out:
				return nil, fmt.Errorf("%s printed %q, and %q in an earlier run", j, out, a.out)
			default:
				a.out = out
				a.secs, a.kb = append(a.secs, secs), append(a.kb, kb)
			}
		}
	}
	res := make([]result, len(jobs))
	for i, j := range jobs {
		if prev, ok := m.done[j.String()]; ok {
			res[i] = prev
			continue
		}
		a := accs[i]
		if a.ref != "" {
			res[i] = result{refused: a.ref}
		} else {
			res[i] = result{seconds: median(a.secs), peakKB: median(a.kb), out: a.out}
		}
		m.done[j.String()] = res[i]
	}
	return res, nil
}

// once runs j and returns its wall time, its maximum resident set and its output; or, when it
// exits with the assembler's status (65), the first line of its message.
//
// The resident set comes from GNU time (Debian's package time), which forks the command. Go
// starts a command with vfork, whose child shares this process's memory until it execs, and
// Linux carries the high-water mark of that memory over the exec into the child's ru_maxrss:
// read through Go's own wait, a small run's peak would be this program's.
func (m *measurer) once(j job) (secs float64, peakKB int64, out, refused string, err error) {
	rss := filepath.Join(m.tmp, "maxrss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", rss, m.spindle}, j.args...)...)
	cmd.Dir = m.root
	cmd.Stdin = strings.NewReader(j.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	secs = time.Since(start).Seconds()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 65 {
		first, _, _ := strings.Cut(stderr.String(), "\n")
		return 0, 0, "", refusal(first), nil
	}
	if err != nil {
		return 0, 0, "", "", fmt.Errorf("%s: %v\n%s", j, err, stderr.Bytes())
	}
	if peakKB, err = readMaxRSS(rss); err != nil {
		return 0, 0, "", "", fmt.Errorf("%s: %v", j, err)
	}
	return secs, peakKB, stdout.String(), "", nil
}

// readMaxRSS reads what time -f %M wrote: the command's maximum resident set in KiB, on the last
// line.
func readMaxRSS(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strconv.ParseInt(lines[len(lines)-1], 10, 64)
}

// refusal is the message of the assembler's first error without its file:line:col.
func refusal(line string) string {
	if _, msg, ok := strings.Cut(line, ": "); ok {
		return msg
	}
	return line
}

// median is the middle of vs, or the mean of the two middle ones.
func median[T int64 | float64](vs []T) T {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// The tables' sizes. -quick takes the first of each, and the first two live-thread counts and
// sources.
var (
	workloads = []workload{
		{"fib", []int64{20, 23, 26, 29, 32, 35}, "call", fibCalls},
		{"loop", []int64{1e5, 1e6, 1e7, 1e8}, "iteration", nil},
		{"sieve", []int64{1e4, 1e5, 1e6, 1e7}, "number", nil},
		{"pingpong", []int64{1e4, 1e5, 1e6, 1e7}, "round trip", nil},
		{"spawn", []int64{1e3, 1e4, 1e5, 1e6}, "thread", nil},
	}
	liveThreads = []int64{0, 1e2, 1e3, 1e4, 1e5, 3e5, 1e6}
	asmLines    = []int{3, 1e3, 1e4, 3e4, 6e4, 1e5, 3e5, 1e6} // 3: the base, the command itself
	sumSizes    = []int64{1e7, 1e8, 4e8}
)

// A workload is a program of programs/bench and the N it runs at.
type workload struct {
	name  string
	sizes []int64
	unit  string
	units func(n int64) float64 // units of work for N; nil for N
}

func fibCalls(n int64) float64 {
	a, b := int64(0), int64(1) // fib(0), fib(1)
	for range n + 1 {
		a, b = b, a+b
	}
	return float64(2*a - 1) // fib(n) makes 2*fib(n+1) - 1 calls
}

func (w workload) work(n int64) float64 {
	if w.units == nil {
		return float64(n)
	}
	return w.units(n)
}

// The rows of the tables.
type (
	runRow struct {
		w workload
		n int64
		result
	}
	threadRow struct {
		n int64
		result
	}
	asmRow struct {
		lines, bytes int
		result
	}
	sumRow struct {
		n          int64
		cpu1, cpu2 result
	}
)

// results are every table.
type results struct {
	header  string
	runtime []runRow
	threads []threadRow
	asm     []asmRow
	sum     []sumRow
}

// firsts returns s, or with quick its first k elements.
func firsts[T any](s []T, quick bool, k int) []T {
	if quick {
		return s[:k]
	}
	return s
}

func input(n int64) string { return strconv.FormatInt(n, 10) + "\n" }

// measureAll measures every table, each as one batch of interleaved runs.
func measureAll(m *measurer, quick bool) (*results, error) {
	res := new(results)
	var jobs []job
	var into []*result
	batch := func() error {
		rs, err := m.measure(jobs)
		for i := range rs {
			*into[i] = rs[i]
		}
		jobs, into = nil, nil
		return err
	}
	spindle := func(to *result, n int64, args ...string) {
		jobs, into = append(jobs, job{args, input(n)}), append(into, to)
	}

	for _, w := range workloads {
		for _, n := range firsts(w.sizes, quick, 1) {
			res.runtime = append(res.runtime, runRow{w: w, n: n})
		}
	}
	for i := range res.runtime {
		row := &res.runtime[i]
		spindle(&row.result, row.n, "run", "programs/bench/"+row.w.name+".s")
	}
	if err := batch(); err != nil {
		return nil, err
	}

	for _, n := range firsts(liveThreads, quick, 2) { // none, for the base, and some
		res.threads = append(res.threads, threadRow{n: n})
	}
	for i := range res.threads {
		spindle(&res.threads[i].result, res.threads[i].n, "run", "programs/bench/spawn.s")
	}
	if err := batch(); err != nil {
		return nil, err
	}

	for _, lines := range firsts(asmLines, quick, 2) {
		res.asm = append(res.asm, asmRow{lines: lines})
	}
	for i := range res.asm {
		row := &res.asm[i]
		src := asmSource(row.lines)
		path := filepath.Join(m.tmp, fmt.Sprintf("lines%d.s", row.lines))
		if err := os.WriteFile(path, src, 0o644); err != nil {
			return nil, err
		}
		row.bytes = len(src)
		jobs, into = append(jobs, job{args: []string{"asm", "-o", os.DevNull, path}}), append(into, &row.result)
	}
	if err := batch(); err != nil {
		return nil, err
	}

	for _, n := range firsts(sumSizes, quick, 1) {
		res.sum = append(res.sum, sumRow{n: n})
	}
	for i := range res.sum {
		row := &res.sum[i]
		spindle(&row.cpu1, row.n, "run", "--cpus", "1", "programs/processes/parallel_sum.s")
		spindle(&row.cpu2, row.n, "run", "--cpus", "2", "programs/processes/parallel_sum.s")
	}
	return res, batch()
}
