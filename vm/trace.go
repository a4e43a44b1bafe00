package vm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// TraceFormat selects how Options.Trace is written.
type TraceFormat uint8

const (
	// TraceText writes one line per event, for reading in a terminal and for golden tests:
	//
	//	step 30 t=30ns cpu0 switch 1.1 -> 1.2 (blocked: thread_join of thread 2)
	//	step 39 t=39ns cpu0 wake 1.1 (thread_join of thread 2)
	TraceText TraceFormat = iota
	// TraceJSON writes the Trace Event Format that Perfetto and chrome://tracing show as a
	// timeline: a track per thread, and one per virtual processor showing which thread ran.
	TraceJSON
)

// A tracer is the observer of Options.Trace. It records every context switch, with the step
// count, the clock, the processor, the thread switched out, the thread switched in and why.
type tracer struct {
	mu     sync.Mutex // processors trace from their own goroutines
	w      *bufio.Writer
	format TraceFormat
	events int
	lines  bool // write each event out whole as it comes: the stream is shared (see Load)

	// The thread on each processor and since when.
	cur   []*Thread
	since []int64

	named map[[2]int]bool // the JSON tracks named so far: {pid, 0} for a process, {pid, tid} for a thread
}

// newTracer makes a tracer that writes to w. When w is one of the program's own streams, stream
// is that stream's buffer: on one processor the tracer writes through it, so that the trace's
// lines and the program's output come in the order they happened; with several, the program
// writes under the kernel lock and the tracer under its own, so the tracer writes each event out
// whole as it comes instead.
func newTracer(w io.Writer, f TraceFormat, cpus int, stream *bufio.Writer) *tracer {
	bw := stream
	if bw == nil || cpus > 1 {
		bw = bufio.NewWriter(w)
	}
	tr := &tracer{w: bw, format: f, lines: stream != nil && cpus > 1, cur: make([]*Thread, cpus), since: make([]int64, cpus), named: map[[2]int]bool{}}
	if f == TraceJSON {
		tr.w.WriteString(`{"displayTimeUnit":"ns","traceEvents":[`)
		tr.meta("process_name", 0, 0, "processors")
		for i := range cpus {
			tr.meta("thread_name", 0, i, fmt.Sprintf("cpu%d", i))
		}
	}
	return tr
}

func threadName(t *Thread) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%d.%d", t.Proc.ID, t.ID)
}

// Observe writes the switches, the wake-ups and the end of the run.
func (tr *tracer) Observe(e Event) {
	switch e.Kind {
	case EventSwitch, EventWake:
		tr.event(e)
	case EventEnd:
		tr.end(e)
	}
}

// event records a switch: e.Thread stopped running and e.To started, for e.Reason. Either may
// be nil: the first when the processor was idle, the second when nothing can run. Or it
// records a wake-up of e.Thread.
func (tr *tracer) event(e Event) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	now, from, to := int64(e.Clock), e.Thread, e.To
	wakeup := e.Kind == EventWake
	reason := e.Why()
	if tr.format == TraceText {
		if wakeup {
			fmt.Fprintf(tr.w, "step %d t=%dns cpu%d wake %s (%s)\n", e.Steps, now, e.CPU, threadName(from), reason)
		} else {
			fmt.Fprintf(tr.w, "step %d t=%dns cpu%d switch %s -> %s (%s)\n", e.Steps, now, e.CPU, threadName(from), threadName(to), reason)
		}
	} else if wakeup {
		tr.name(from)
		tr.instant(from, now, "woken: "+reason)
	} else if cur := tr.cur[e.CPU]; cur != nil && now >= tr.since[e.CPU] {
		tr.slice(cur, e.CPU, tr.since[e.CPU], now, reason)
	}
	if !wakeup {
		tr.cur[e.CPU], tr.since[e.CPU] = to, now
		if to != nil && tr.format == TraceJSON {
			tr.name(to)
		}
	}
	if tr.lines {
		tr.w.Flush()
	}
}

// name gives t's track, and its process's, a name in the JSON trace the first time t appears:
// "process 2", "thread 2.1".
func (tr *tracer) name(t *Thread) {
	pid := t.Proc.ID
	if !tr.named[[2]int{pid, 0}] {
		tr.named[[2]int{pid, 0}] = true
		tr.meta("process_name", pid, 0, fmt.Sprintf("process %d", pid))
	}
	if !tr.named[[2]int{pid, t.ID}] {
		tr.named[[2]int{pid, t.ID}] = true
		tr.meta("thread_name", pid, t.ID, "thread "+threadName(t))
	}
}

func (tr *tracer) meta(name string, pid, tid int, value string) {
	if tr.events > 0 {
		tr.w.WriteByte(',')
	}
	tr.events++
	v, _ := json.Marshal(value)
	fmt.Fprintf(tr.w, `{"name":%q,"ph":"M","pid":%d,"tid":%d,"args":{"name":%s}}`, name, pid, tid, v)
}

// slice writes that t ran on processor cpu from start to end (nanoseconds), and why it stopped: once on
// the thread's own track and once on the processor's.
func (tr *tracer) slice(t *Thread, cpu int, start, end int64, why string) {
	w, _ := json.Marshal(why)
	for _, track := range [][2]int{{t.Proc.ID, t.ID}, {0, cpu}} {
		tr.w.WriteByte(',')
		tr.events++
		fmt.Fprintf(tr.w, `{"name":"thread %s","ph":"X","pid":%d,"tid":%d,"ts":%.3f,"dur":%.3f,"args":{"until":%s}}`,
			threadName(t), track[0], track[1], float64(start)/1e3, float64(end-start)/1e3, w)
	}
}

func (tr *tracer) instant(t *Thread, at int64, what string) {
	w, _ := json.Marshal(what)
	tr.w.WriteByte(',')
	tr.events++
	fmt.Fprintf(tr.w, `{"name":%s,"ph":"i","s":"t","pid":%d,"tid":%d,"ts":%.3f}`, w, t.Proc.ID, t.ID, float64(at)/1e3)
}

// end ends e.CPU's part of the trace: the thread still on the processor gets its last slice.
func (tr *tracer) end(e Event) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	why := "exit"
	if e.Err != nil {
		why = "stopped"
	}
	cur := tr.cur[e.CPU]
	if tr.format == TraceText {
		fmt.Fprintf(tr.w, "step %d t=%dns cpu%d end %s (%s)\n", e.Steps, int64(e.Clock), e.CPU, threadName(cur), why)
	} else if cur != nil {
		tr.slice(cur, e.CPU, tr.since[e.CPU], int64(e.Clock), why)
	}
}

// Flush ends the trace, after the end of every processor's part, and writes it out.
func (tr *tracer) Flush() error {
	if tr.format == TraceJSON {
		tr.w.WriteString("]}\n")
	}
	return tr.w.Flush()
}
