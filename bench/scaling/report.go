package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// markdown writes the tables, with links to the plots in the directory img ("" for none).
func (r *results) markdown(img string) string {
	var b strings.Builder
	b.WriteString(r.header + "\n\n")
	figure := func(file, alt string) {
		if img != "" {
			fmt.Fprintf(&b, "\n![%s](%s)\n", alt, img+"/"+file)
		}
	}

	b.WriteString("### Run time against N\n\n")
	b.WriteString("`echo N | spindle run programs/bench/W.s`, the whole command: start-up, assembly, run. ")
	b.WriteString("The time a unit of work is the median time divided by the units; at small N the start-up dominates it.\n\n")
	b.WriteString("| workload | N | units of work | median s | ns a unit | peak MB |\n|---|--:|--:|--:|--:|--:|\n")
	for _, row := range r.runtime {
		units := row.w.work(row.n)
		fmt.Fprintf(&b, "| %s | %s | %s %ss | %.3f | %.1f | %.1f |\n", row.w.name, count(float64(row.n)), count(units),
			row.w.unit, row.seconds, row.seconds*1e9/units, mb(row.peakKB))
	}
	figure("runtime.png", "Run time against N, log-log, one line a workload")

	b.WriteString("\n### Memory against live threads\n\n")
	b.WriteString("`echo N | spindle run programs/bench/spawn.s`: all N threads are alive, each parked on the channel, before main wakes them. ")
	b.WriteString("Bytes a thread is the peak beyond the run with no threads, divided by N: its 64-byte stack, its `Thread` and the scheduler's share.\n\n")
	b.WriteString("| live threads | peak MB | bytes a thread |\n|--:|--:|--:|\n")
	var base int64
	for _, row := range r.threads {
		per := "-" // below 10,000 threads, the host's noise is larger than the threads
		switch {
		case row.n == 0:
			base = row.peakKB
		case row.n >= 10_000:
			per = fmt.Sprintf("%.0f", float64(row.peakKB-base)*1024/float64(row.n))
		}
		fmt.Fprintf(&b, "| %s | %.1f | %s |\n", count(float64(row.n)), mb(row.peakKB), per)
	}
	figure("threads.png", "Peak memory against live threads, log-log")

	b.WriteString("\n### The assembler against lines\n\n")
	b.WriteString("`spindle asm -o /dev/null FILE` on a generated source of ordinary code (bench/scaling/gen.go: functions of a label and seven instructions, loads, stores, a branch and a call). ")
	b.WriteString("A size the assembler refuses is shown with its message; it is measured again, and fills in, when the limit is lifted.\n\n")
	b.WriteString("Lines a second and bytes a line count what a source costs beyond the first row's, a source of three lines: the command's start-up and its own memory.\n\n")
	b.WriteString("| lines | bytes | median s | lines a second | peak MB | bytes a line |\n|--:|--:|--:|--:|--:|--:|\n")
	first := r.asm[0].result
	for i, row := range r.asm {
		size := fmt.Sprintf("| %s | %s |", count(float64(row.lines)), count(float64(row.bytes)))
		switch {
		case row.refused != "":
			fmt.Fprintf(&b, "%s refused: %s | | | |\n", size, row.refused)
		case i == 0:
			fmt.Fprintf(&b, "%s %.3f | - | %.1f | - |\n", size, row.seconds, mb(row.peakKB))
		default:
			lines := float64(row.lines - r.asm[0].lines)
			fmt.Fprintf(&b, "%s %.3f | %s | %.1f | %.0f |\n", size, row.seconds, count(lines/(row.seconds-first.seconds)),
				mb(row.peakKB), float64(row.peakKB-first.peakKB)*1024/lines)
		}
	}
	figure("asm.png", "Assembler time against lines, log-log")

	b.WriteString("\n### parallel_sum with --cpus 1 and 2\n\n")
	b.WriteString("`echo N | spindle run --cpus C programs/processes/parallel_sum.s`: two worker processes sum half of 0 .. N-1 each. ")
	b.WriteString("Processes run in parallel, one a virtual processor; on one they take turns.\n\n")
	b.WriteString("| N | --cpus 1 s | --cpus 2 s | speed-up |\n|--:|--:|--:|--:|\n")
	for _, row := range r.sum {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.2f |\n", count(float64(row.n)), row.cpu1.seconds, row.cpu2.seconds, row.cpu1.seconds/row.cpu2.seconds)
	}
	figure("parallel_sum.png", "parallel_sum's time against N with one and two processors")
	return b.String()
}

// count writes n as 1,234,567, or with an exponent past 10^9.
func count(n float64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.3g", n)
	}
	s := fmt.Sprintf("%.0f", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// plot writes the four plots as PNG files in dir.
func (r *results) plot(dir string) error {
	// Run time against units of work, one line a workload.
	var lines []any
	for i := 0; i < len(r.runtime); {
		w := r.runtime[i].w
		var xys plotter.XYs
		for ; i < len(r.runtime) && r.runtime[i].w.name == w.name; i++ {
			row := r.runtime[i]
			xys = append(xys, plotter.XY{X: w.work(row.n), Y: row.seconds})
		}
		lines = append(lines, w.name+" ("+w.unit+"s)", xys)
	}
	if err := save(dir, "runtime.png", "Run time against N", "units of work (calls, iterations, numbers, round trips, threads)", "seconds", lines); err != nil {
		return err
	}

	var threads plotter.XYs
	for _, row := range r.threads {
		if row.n > 0 {
			threads = append(threads, plotter.XY{X: float64(row.n), Y: mb(row.peakKB)})
		}
	}
	if err := save(dir, "threads.png", "Peak memory against live threads", "live threads", "peak MB", []any{"spawn.s", threads}); err != nil {
		return err
	}

	var asm plotter.XYs
	for _, row := range r.asm {
		if row.refused == "" {
			asm = append(asm, plotter.XY{X: float64(row.lines), Y: row.seconds})
		}
	}
	if err := save(dir, "asm.png", "The assembler: time against lines", "lines", "seconds", []any{"spindle asm", asm}); err != nil {
		return err
	}

	var one, two plotter.XYs
	for _, row := range r.sum {
		one = append(one, plotter.XY{X: float64(row.n), Y: row.cpu1.seconds})
		two = append(two, plotter.XY{X: float64(row.n), Y: row.cpu2.seconds})
	}
	return save(dir, "parallel_sum.png", "parallel_sum", "N", "seconds", []any{"--cpus 1", one, "--cpus 2", two})
}

// save makes a log-log plot of the named lines, plotutil's (name, XYs) pairs, and writes it.
func save(dir, file, title, x, y string, lines []any) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false // bottom right, which rising lines leave empty
	for i := 1; i < len(lines); i += 2 {
		if len(lines[i].(plotter.XYs)) == 0 {
			return fmt.Errorf("%s: %s has no points to plot", file, lines[i-1])
		}
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return err
	}
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		if ax.Min >= ax.Max { // one point: a log axis cannot be padded around it by subtraction
			ax.Min, ax.Max = ax.Min/2, ax.Max*2
		}
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, filepath.Join(dir, file))
}
