package vm

import (
	"bytes"
	"errors"
	"io"
	"slices"
)

// The host's standard input, shared by every process whose descriptor 0 it is.
//
// Reading the host blocks for as long as the host likes, and a blocking syscall must park only
// the thread that called it. So the read runs off the loop, on a goroutine (the pump), and the
// thread waits, parked, for its result; the processor runs the other threads meanwhile and
// picks the result up at its next check point or when it goes idle. A run that must be the same
// every time (a virtual clock) waits for the pump instead: when input arrives must not change
// the interleaving.

// inChunk is how much the pump reads at a time.
const inChunk = 64 << 10

// MaxInputLine is the longest line read_int accepts; a longer one is consumed and refused, so
// that no input can make the VM hold more than this while it looks for a newline.
const MaxInputLine = 4096

type input struct {
	r       io.Reader
	buf     []byte // read from the host, not yet by the program
	eof     bool   // the host has no more
	async   bool
	results chan inResult // the pump's reads
	waiters queue         // threads parked until input arrives
	skip    bool          // discarding the rest of a line too long for read_int
	fed     bool          // it comes from FeedInput (Options.FeedInput), not from r

	// From the first snapshot on, what the host gave is kept: log holds it from byte
	// logStart of the input on, in the chunks it came in (ends: where each ended), and ended
	// says that the end of the input came after it. received counts all the bytes the host
	// gave; at is how many of them the run has taken, which a Restore sets back. Until at is
	// at received again, fill takes the next chunk from the log, not from the host, so that
	// a restored machine reads what it read before, in the same pieces (see Restore).
	logging  bool
	log      []byte
	logStart uint64
	ends     []uint64
	ended    bool
	received uint64
	at       uint64
}

type inResult struct {
	data []byte
	err  error
}

func newInput(r io.Reader, async, fed bool) *input {
	return &input{r: r, async: async, fed: fed, results: make(chan inResult, 1)}
}

// FeedInput gives the program b as input, after what it has been given and not read yet; end
// ends the input after it, and the program reads end of file once it has read the rest. It
// applies to a machine loaded with Options.FeedInput, between Resumes, typically after a
// StopInput.
func (m *Machine) FeedInput(b []byte, end bool) error {
	in := m.in
	switch {
	case !in.fed:
		return errors.New("vm: the machine reads its input from Options.Stdin, not from FeedInput")
	case in.eof && (len(b) > 0 || !end):
		return errors.New("vm: the input has ended")
	}
	if len(b) > 0 {
		m.cpus[0].gotInput(b, nil)
	}
	if end {
		in.eof, in.ended = true, true
	}
	return nil
}

// fill makes more input available, or reports that t must wait for it. It returns true when
// the caller should look at buf and eof again.
func (c *cpu) fill(t *Thread) bool {
	in := c.in
	if in.eof {
		return true
	}
	c.stdout.Flush() // a prompt must show before the program waits for its answer
	if in.at < in.received {
		// After a Restore: the next chunk the host gave, from the log.
		i, _ := slices.BinarySearch(in.ends, in.at+1)
		end := in.ends[i]
		in.buf = append(in.buf, in.log[in.at-in.logStart:end-in.logStart]...)
		in.at = end
		return true
	}
	if in.ended {
		in.eof = true
		return true
	}
	if in.fed {
		// No host to ask: Resume stops before the read, for the caller to feed the input
		// (see after).
		c.unexecute(t)
		c.wantsInput = t
		return false
	}
	if c.hostEvents.Load()&hostReading == 0 {
		c.hostEvents.Or(hostReading)
		go func() {
			b := make([]byte, inChunk)
			n, err := in.r.Read(b)
			in.results <- inResult{b[:n], err}
			if c.multi {
				// Wake the processors waiting idle; one of them takes the result.
				c.mu.Lock()
				c.work.Broadcast()
				c.mu.Unlock()
			}
		}()
	}
	if !in.async {
		// The processor waits for the read, so that when input comes cannot change the run;
		// but the read is the pump's all the same, so that a stop from outside (a time-out,
		// Ctrl-C) is not kept waiting by a host that never answers. Then t waits as it would
		// on the real clock, and the run ends at the next check point.
		select {
		case r := <-in.results:
			c.hostEvents.And(^hostReading)
			c.gotInput(r.data, r.err)
			return true
		case <-c.stopped:
		case <-c.pauses:
			c.pauses <- struct{}{} // for unpause, which takes it
		}
	}
	c.restart(t, waitRead, 0)
	in.waiters.push(t)
	return false
}

// pollInput takes the pump's result, if there is one, and wakes the threads waiting for it.
// It reports whether there was one. The caller holds the kernel lock.
func (c *cpu) pollInput() bool {
	select {
	case r := <-c.in.results:
		c.deliver(r)
		return true
	default:
		return false
	}
}

// deliver hands the pump's result to the threads waiting for input. The caller holds the kernel
// lock.
func (c *cpu) deliver(r inResult) {
	c.hostEvents.And(^hostReading)
	c.gotInput(r.data, r.err)
	c.wakeAll(&c.in.waiters)
}

func (c *cpu) gotInput(b []byte, err error) {
	in := c.in
	in.buf = append(in.buf, b...)
	in.received += uint64(len(b))
	in.at = in.received
	if in.logging && len(b) > 0 {
		in.log = append(in.log, b...)
		in.ends = append(in.ends, in.received)
	}
	if err != nil || len(b) == 0 {
		// An error reading the host ends the input as end of file does.
		in.eof, in.ended = true, true
	}
}

// readInput copies input into b for t, or parks t until there is some. n = 0 is end of file.
func (c *cpu) readInput(t *Thread, b []byte) (n int, blocked bool) {
	in := c.in
	for len(in.buf) == 0 && !in.eof && len(b) > 0 {
		if !c.fill(t) {
			return 0, true
		}
	}
	n = copy(b, in.buf)
	in.buf = in.buf[n:]
	return n, false
}

// readInputLine returns the next line of input for t, with its newline if it has one, or parks
// t until there is a whole line. At end of file the rest is the last line; ok is false when
// there is nothing left, or the line was longer than MaxInputLine.
func (c *cpu) readInputLine(t *Thread) (line []byte, ok, blocked bool) {
	in := c.in
	for {
		if i := bytes.IndexByte(in.buf, '\n'); i >= 0 {
			line, in.buf = in.buf[:i+1], in.buf[i+1:]
			if in.skip || len(line) > MaxInputLine {
				// The end of a line too long to hold: it is refused.
				in.skip = false
				return nil, false, false
			}
			return line, true, false
		}
		if len(in.buf) > MaxInputLine || in.skip {
			in.skip = true
			in.buf = in.buf[:0]
		}
		if in.eof {
			line, in.buf = in.buf, nil
			if in.skip {
				in.skip = false
				return nil, false, false
			}
			return line, len(line) > 0, false
		}
		if !c.fill(t) {
			return nil, false, true
		}
	}
}

// consumed returns how many bytes of the input the program has read.
func (in *input) consumed() uint64 { return in.at - uint64(len(in.buf)) }

// startLog begins the log of the input, from what the program has not read yet on.
func (in *input) startLog() {
	if !in.logging {
		in.logging = true
		in.logStart = in.consumed()
		in.log = slices.Clone(in.buf)
		if len(in.buf) > 0 {
			in.ends = []uint64{in.at}
		}
	}
}

// rewind puts the input back as it was when the run had read pos bytes of it, had taken at
// from the host, and had or had not come to its end: the log holds the rest.
func (in *input) rewind(pos, at uint64, eof bool) {
	in.buf = slices.Clone(in.log[pos-in.logStart : at-in.logStart])
	in.at, in.eof = at, eof
}

// counter counts the bytes written through it: a program's output, for a snapshot's record
// of how much had been written.
type counter struct {
	w io.Writer
	n uint64
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += uint64(n)
	return n, err
}

// Flush flushes the writer counted, if it buffers (a *bufio.Writer, say): output is flushed
// to where the caller of the VM asked, as it was when the VM wrote into that buffer itself.
func (c *counter) Flush() error {
	if f, ok := c.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
