package vm

import (
	"bytes"
	"strconv"

	"github.com/spindle-vm/spindle/isa"
)

// A process's descriptors name what it reads and writes: the host's standard streams, which
// every process shares, the ends of pipes, and host files (hostfiles.go). A child process starts with copies of two of
// its parent's descriptors as its 0 and 1, and the parent's 2. Sockets, listening or connected,
// are net.go's.
type descKind uint8

const (
	descClosed descKind = iota
	descStdin
	descStdout
	descStderr
	descPipeRead
	descPipeWrite
	descFile
	descSocket
)

type desc struct {
	kind descKind
	pipe *pipe
	file *hostFile
	sock *socket
}

// pipeSize is how many bytes a pipe holds before a writer blocks.
const pipeSize = 64 << 10

// A pipe is a bounded byte queue between processes (or threads). Its ends are counted across
// every process that holds them: a reader sees end of file once no write end is open, and a
// writer gets -1 once no read end is.
type pipe struct {
	id               int
	maker            *Process // charged for the pipe until both its ends are closed
	buf              []byte   // what has been written and not yet read
	readers, writers int
	rq, wq           queue // threads blocked reading, writing
}

// open adds a reference to d's pipe end.
func (d desc) open() {
	switch d.kind {
	case descPipeRead:
		d.pipe.readers++
	case descPipeWrite:
		d.pipe.writers++
	case descFile:
		d.file.refs++
	case descSocket:
		d.sock.refs++
	}
}

// fd returns descriptor n of p, or a closed one.
func (p *Process) fd(n uint64) desc {
	if n < uint64(len(p.fds)) {
		return p.fds[n]
	}
	return desc{}
}

// closeFd closes descriptor n of p. Closing a pipe's last write end wakes its readers, who
// then see end of file; closing its last read end wakes its writers, who then see -1.
func (c *cpu) closeFd(p *Process, n uint64) bool {
	d := p.fd(n)
	if d.kind == descClosed {
		return false
	}
	p.fds[n] = desc{}
	switch d.kind {
	case descPipeRead:
		if d.pipe.readers--; d.pipe.readers == 0 {
			c.wakeAll(&d.pipe.wq)
		}
	case descPipeWrite:
		if d.pipe.writers--; d.pipe.writers == 0 {
			c.wakeAll(&d.pipe.rq)
		}
	case descFile:
		if d.file.refs--; d.file.refs == 0 {
			d.file.release()
		}
	case descSocket:
		c.closeSocket(d.sock)
	}
	if pp := d.pipe; pp != nil && pp.readers == 0 && pp.writers == 0 {
		// Nobody can reach the pipe any more: its maker may have another.
		pp.maker.uncharge(pipeSize)
		pp.buf = nil
	}
	return true
}

// openFds counts p's open descriptors.
func (p *Process) openFds() int {
	n := 0
	for _, d := range p.fds {
		if d.kind != descClosed {
			n++
		}
	}
	return n
}

// newFd gives d the lowest free descriptor number of p.
func (p *Process) newFd(d desc) (uint64, bool) {
	for i, e := range p.fds {
		if e.kind == descClosed {
			p.fds[i] = d
			return uint64(i), true
		}
	}
	if len(p.fds) >= p.Machine.opts.MaxFDs {
		return 0, false
	}
	p.fds = append(p.fds, d)
	return uint64(len(p.fds) - 1), true
}

// makePipe creates a pipe and gives t's process descriptors for its two ends, in a0 (read)
// and a1 (write).
func (c *cpu) makePipe(t *Thread) error {
	p := t.Proc
	if max := c.opts.MaxFDs; p.openFds()+2 > max {
		return c.badArg(t, "pipe: the process has %d descriptors open; a pipe needs two more, and the most is %d", p.openFds(), max)
	}
	if !p.charge(pipeSize) {
		return c.memLimit(t, "pipe: a pipe's buffer would pass the process's memory limit")
	}
	c.pipes++
	pp := &pipe{id: c.pipes, maker: p, readers: 1, writers: 1}
	rfd, _ := p.newFd(desc{kind: descPipeRead, pipe: pp})
	wfd, _ := p.newFd(desc{kind: descPipeWrite, pipe: pp})
	t.R[isa.A0], t.R[isa.A1] = rfd, wfd
	return nil
}

// write writes b to descriptor fd for t. It returns whether t must block; a blocked writer
// retries the whole syscall when it is woken. A write to a pipe may be partial, unless whole is
// set: then it waits for room for all of b.
func (c *cpu) write(t *Thread, fd uint64, b []byte, whole bool) bool {
	p := t.Proc
	r := &t.R
	switch d := p.fd(fd); d.kind {
	case descStdout, descStderr:
		w := c.stdout
		if d.kind == descStderr {
			// Flush stdout first, so that the two streams keep their order on a terminal.
			c.stdout.Flush()
			w = c.stderr
		}
		_, err := w.Write(b)
		if w == c.stderr && err == nil {
			err = w.Flush()
		}
		if err != nil {
			// The host did not take it (a full disk): the program is told as for a closed
			// descriptor, at this write or, buffered, the next.
			r[isa.A0] = ^uint64(0)
			return false
		}
	case descPipeWrite:
		pp := d.pipe
		if pp.readers == 0 {
			r[isa.A0] = ^uint64(0)
			return false
		}
		room := pipeSize - len(pp.buf)
		if room == 0 || whole && room < len(b) {
			c.restart(t, waitWrite, fd)
			pp.wq.push(t)
			return true
		}
		n := min(room, len(b))
		pp.buf = append(pp.buf, b[:n]...)
		c.wakeAll(&pp.rq)
		r[isa.A0] = uint64(n)
		return false
	case descFile:
		n, err := fileWrite(d.file, b)
		result(t, n, err)
		return false
	case descSocket:
		return c.sockWrite(t, fd, d.sock, b, whole)
	default:
		r[isa.A0] = ^uint64(0)
		return false
	}
	r[isa.A0] = uint64(len(b))
	return false
}

// read reads into b from descriptor fd for t. It returns whether t must block; a blocked
// reader retries the whole syscall when it is woken.
func (c *cpu) read(t *Thread, fd uint64, b []byte) bool {
	p := t.Proc
	r := &t.R
	switch d := p.fd(fd); d.kind {
	case descStdin:
		n, blocked := c.readInput(t, b)
		if blocked {
			return true
		}
		r[isa.A0] = uint64(n)
	case descPipeRead:
		pp := d.pipe
		if len(pp.buf) == 0 {
			if pp.writers == 0 || len(b) == 0 {
				r[isa.A0] = 0
				return false
			}
			c.restart(t, waitRead, fd)
			pp.rq.push(t)
			return true
		}
		n := copy(b, pp.buf)
		pp.buf = pp.buf[:copy(pp.buf, pp.buf[n:])]
		c.wakeAll(&pp.wq)
		r[isa.A0] = uint64(n)
	case descFile:
		n, err := fileRead(d.file, b)
		result(t, n, err)
	case descSocket:
		return c.sockRead(t, fd, d.sock, b)
	default:
		r[isa.A0] = ^uint64(0)
	}
	return false
}

// readInt reads a line from descriptor 0 of t's process and parses it as a decimal integer,
// into a0 (a1 = 1), or sets a0 = a1 = 0 at end of input or for a line that is not a number.
func (c *cpu) readInt(t *Thread) bool {
	p := t.Proc
	r := &t.R
	var v int64
	var ok bool
	switch d := p.fd(0); d.kind {
	case descStdin:
		line, got, blocked := c.readInputLine(t)
		if blocked {
			return true
		}
		if got {
			v, ok = parseInt(line)
		}
	case descPipeRead:
		pp := d.pipe
		i := bytes.IndexByte(pp.buf, '\n')
		if i < 0 && pp.writers > 0 && len(pp.buf) < pipeSize {
			c.restart(t, waitRead, 0)
			pp.rq.push(t)
			return true
		}
		line := pp.buf
		if i >= 0 {
			line = pp.buf[:i+1]
		}
		v, ok = parseInt(line)
		pp.buf = pp.buf[:copy(pp.buf, pp.buf[len(line):])]
		c.wakeAll(&pp.wq)
	}
	r[isa.A0], r[isa.A1] = uint64(v), flag(ok)
	return false
}

func parseInt(line []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// restart blocks t in a syscall that it will run again from the start when it is woken, as a
// read of an empty pipe does once there is something to read.
func (c *cpu) restart(t *Thread, kind waitKind, on uint64) {
	c.unexecute(t)
	c.block(t, kind, on)
}

// unexecute puts t back before the syscall it is in, to execute it again.
func (c *cpu) unexecute(t *Thread) {
	t.PC--
	// The syscall will be executed again; it counts as one instruction. (The counts are
	// unsigned, and published takes the difference modulo 2^64, which subtracts.)
	c.steps--
	t.Steps--
}

// wakeAll wakes every thread in q, whatever process it belongs to.
func (c *cpu) wakeAll(q *queue) {
	for w := q.pop(); w != nil; w = q.pop() {
		c.wakeAny(w)
	}
}
