package vm

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Snapshots. A Snapshot holds the whole state of a machine between Resumes, and Restore puts
// the machine back in it, so that the run goes on from there as it did the first time: the
// same instructions, switches, input and output. That is what a debugger's step back rests on.
//
// Every kernel object (process, thread, channel, pipe, host file, socket) is restored in place,
// into the object it was copied from, so that the pointers between them (a thread's process, the
// links of a queue, a descriptor's pipe) need no translation: a snapshot is a value copy of each object,
// with the slices and maps in it copied too. Objects made after the snapshot are simply no
// longer referred to after a Restore; a process made after it gives its memory back.
//
// Memory is kept by pages. A page that has not been written since the machine's last snapshot
// is shared with it, so a snapshot copies and holds only the pages written in between (see
// Size). Each process has a flag a page, set by every write to memory after its first
// snapshot: a store (once a machine has been snapshotted, execMark runs it where exec would,
// and it and execStep mark the pages stores write), a syscall, a move of the break and
// WriteMemory.
//
// Input is kept in a log from the first snapshot on, so that a restored machine reads what it
// read before again without asking the host; so is what files and the network gave, in the
// host log (hostlog.go). Output cannot be taken back: a snapshot records
// how much had been written (Output), for the caller to show where it had reached.

// Output returns how many bytes the program has written to stdout and stderr, all of it
// flushed: after a Restore, counted as of the snapshot's state.
func (m *Machine) Output() (stdout, stderr uint64) {
	m.flush()
	return m.written[0].n, m.written[1].n
}

// PageSize is the size of the pages in which a snapshot keeps memory.
const PageSize = 4096

// A Snapshot is the state of a machine at one instant, taken by Machine.Snapshot.
type Snapshot struct {
	m      *Machine
	Steps  uint64    // instructions executed when it was taken
	Output [2]uint64 // bytes written to stdout and stderr by then

	procs       []procSnapshot
	table       []*Process // the process table
	lastPid     int
	zombies     int
	readyCount  int64
	threadCount int64
	published   uint64
	pipeCount   int
	pipes       map[*pipe]pipe
	files       map[*hostFile]hostFile
	sockets     map[*socket]socket
	hostPos     int // entries of the host log taken (see hostlog.go)
	inflight    int // network operations in flight
	cpu         cpuSnapshot
	inPos       uint64 // bytes of input read
	inAt        uint64 // bytes of input taken from the host (see input.at)
	inEOF       bool
	inSkip      bool
	inWaiters   queue
	size        uint64 // bytes it copied
	objects     uint64 // of size, the kernel's objects
	pagesCopied int
	pagesTotal  int
	released    bool
}

// A page is a page of memory that one snapshot copied and later ones may share.
type page struct {
	b    []byte
	refs int // snapshots not released that hold it
}

// hold counts one more snapshot that holds pg.
func (m *Machine) hold(pg *page) {
	if pg.refs++; pg.refs == 1 {
		m.snapMem += uint64(len(pg.b))
	}
}

type procSnapshot struct {
	p        *Process
	core     procCore // without mem and release
	kmem     uint64
	hasInbox bool
	killed   bool
	memLen   int
	pages    []*page  // memory by page: the last one may be short
	threads  []Thread // the values of core.threads, in order
	chans    []channel
	futex    map[uint64]queue
}

type cpuSnapshot struct {
	steps, switches, handoffs, unpublished uint64
	sliceStart, skipped                    int64
	procSlices                             int
	rng                                    []byte
	cur                                    *Process
	ready                                  []*Process
	paused, stopThread                     *Thread
	stopKind                               StopKind
	trapped                                *TrapError
	started                                bool
	polls                                  uint64
	recheck                                bool
}

// Size returns the bytes of host memory the snapshot copied when it was taken: the pages
// written since the snapshot before, and the kernel's objects. The rest of its memory it
// shares with earlier snapshots.
func (s *Snapshot) Size() uint64 { return s.size }

// Release gives back what the snapshot holds, for Options.MaxSnapshotMem: its pages that no
// other snapshot holds, and its copy of the kernel's objects. It cannot be restored after.
func (s *Snapshot) Release() {
	if s.released {
		return
	}
	s.released = true
	m := s.m
	for _, ps := range s.procs {
		for _, pg := range ps.pages {
			if pg.refs--; pg.refs == 0 {
				m.snapMem -= uint64(len(pg.b))
			}
		}
	}
	m.snapMem -= s.objects
}

// SnapshotMem returns the bytes of host memory that the machine's snapshots hold together,
// those released apart, as Options.MaxSnapshotMem counts them.
func (m *Machine) SnapshotMem() uint64 { return m.snapMem }

// ErrSnapshotMem is the error of a Snapshot that would take the snapshots past
// Options.MaxSnapshotMem: release some (Snapshot.Release), and take it again.
var ErrSnapshotMem = errors.New("vm: the snapshots would hold more memory than their limit")

// Pages returns how many pages of memory the snapshot copied, and how many the processes had:
// the rest are shared with the snapshot before.
func (s *Snapshot) Pages() (copied, total int) { return s.pagesCopied, s.pagesTotal }

// snapshotable says why m's state cannot be snapshotted, or nil.
func (m *Machine) snapshotable() error {
	switch {
	case len(m.cpus) > 1:
		return errors.New("vm: snapshots need a machine of one processor")
	case !m.virtual:
		return errors.New("vm: snapshots need the virtual clock")
	case m.opts.Stats || m.opts.Trace != nil:
		// Their observers keep counts and write what cannot be taken back. Observers an
		// embedder attached are no part of the state (see Attach).
		return errors.New("vm: snapshots need a run without statistics or a trace")
	}
	return nil
}

// Snapshot returns the machine's state, between Resumes: a one-processor run with the virtual
// clock, without statistics or a trace. Its output is flushed first.
func (m *Machine) Snapshot() (*Snapshot, error) {
	if err := m.snapshotable(); err != nil {
		return nil, err
	}
	if m.ended {
		return nil, errors.New("vm: the run is over")
	}
	m.flush()
	c := m.cpus[0]
	m.in.startLog()
	m.hlog.on = true
	s := &Snapshot{
		m:           m,
		Steps:       c.steps,
		Output:      [2]uint64{m.written[0].n, m.written[1].n},
		table:       slices.Clone(m.procs),
		lastPid:     m.lastPid,
		zombies:     m.zombies,
		readyCount:  m.readyCount.Load(),
		threadCount: m.threadCount.Load(),
		published:   m.published.Load(),
		pipeCount:   m.pipes,
		pipes:       map[*pipe]pipe{},
		files:       map[*hostFile]hostFile{},
		sockets:     map[*socket]socket{},
		hostPos:     m.hlog.pos,
		inflight:    m.net.inflight,
		inPos:       m.in.consumed(),
		inAt:        m.in.at,
		inEOF:       m.in.eof,
		inSkip:      m.in.skip,
		inWaiters:   m.in.waiters,
	}
	s.cpu = cpuSnapshot{
		steps: c.steps, switches: c.switches, handoffs: c.handoffs, unpublished: c.unpublished,
		sliceStart: c.sliceStart, skipped: c.skipped, procSlices: c.procSlices,
		cur: c.cur, ready: slices.Clone(c.ready.ps), paused: c.paused, stopThread: c.stopThread,
		stopKind: c.stopKind, trapped: c.trapped, started: c.started, polls: c.polls, recheck: c.recheck,
	}
	if c.pcg != nil {
		s.cpu.rng, _ = c.pcg.MarshalBinary()
	}
	last := map[*Process]*procSnapshot{}
	if m.lastSnapshot != nil {
		for i := range m.lastSnapshot.procs {
			last[m.lastSnapshot.procs[i].p] = &m.lastSnapshot.procs[i]
		}
	}
	const objectSize = 256 // roughly, what a kernel object's copy takes
	for _, p := range m.procs {
		ps := procSnapshot{p: p, core: p.procCore.clone(), kmem: p.kmem.Load(), hasInbox: p.hasInbox.Load(), killed: p.killed.Load(), memLen: len(p.mem)}
		for _, t := range p.threads {
			ps.threads = append(ps.threads, *t)
		}
		for _, ch := range p.chans {
			v := *ch
			v.buf = slices.Clone(ch.buf)
			ps.chans = append(ps.chans, v)
		}
		if p.futex != nil {
			ps.futex = make(map[uint64]queue, len(p.futex))
			for a, q := range p.futex {
				ps.futex[a] = *q
			}
		}
		for _, d := range p.fds {
			switch {
			case d.pipe != nil:
				if _, ok := s.pipes[d.pipe]; !ok {
					v := *d.pipe
					v.buf = slices.Clone(d.pipe.buf)
					s.pipes[d.pipe] = v
					s.objects += uint64(len(v.buf)) + objectSize
				}
			case d.file != nil:
				if _, ok := s.files[d.file]; !ok {
					s.files[d.file] = *d.file
					s.objects += objectSize
				}
			case d.sock != nil:
				s.objects += s.keepSocket(d.sock)
				if a := d.sock.accepted; a != nil {
					s.objects += s.keepSocket(a)
				}
			}
		}
		// A page is shared with the last snapshot if it was in it, whole, and has not been
		// written since; p.dirty is meaningful only if p was in it.
		var prev []*page
		if l := last[p]; l != nil {
			prev = l.pages
		}
		for off := 0; off < len(p.mem); off += PageSize {
			b := p.mem[off:min(off+PageSize, len(p.mem))]
			i := off / PageSize
			if i < len(prev) && len(prev[i].b) == len(b) && i < len(p.dirty) && !p.dirty[i] {
				m.hold(prev[i])
				ps.pages = append(ps.pages, prev[i])
				continue
			}
			pg := &page{b: slices.Clone(b)}
			m.hold(pg)
			ps.pages = append(ps.pages, pg)
			s.pagesCopied++
			s.size += uint64(len(b))
		}
		s.pagesTotal += len(ps.pages)
		s.objects += objectSize * uint64(1+len(ps.threads)+len(ps.chans)+len(ps.futex))
		s.procs = append(s.procs, ps)
	}
	s.size += s.objects
	m.snapMem += s.objects
	if max := m.opts.MaxSnapshotMem; max > 0 && m.snapMem > max {
		held := m.snapMem - s.size
		s.Release()
		return nil, fmt.Errorf("%w: this one would copy %d bytes, to the %d they hold; the limit is %d", ErrSnapshotMem, s.size, held, max)
	}
	m.lastSnapshot = s
	for _, p := range m.procs {
		p.trackPages()
	}
	c.tracking = true
	return s, nil
}

// keepSocket keeps the state of socket so in s, and returns the bytes it copied.
func (s *Snapshot) keepSocket(so *socket) uint64 {
	if _, ok := s.sockets[so]; ok {
		return 0
	}
	v := *so
	v.rbuf = slices.Clone(so.rbuf) // the host's next read goes into the same store
	s.sockets[so] = v
	return uint64(len(v.rbuf)) + sockSize
}

// clone copies a process's core with the slices and maps in it, but not its memory.
func (pc procCore) clone() procCore {
	c := pc
	c.mem, c.release = nil, nil
	c.threads = slices.Clone(pc.threads)
	c.chans = slices.Clone(pc.chans)
	c.timers = slices.Clone(pc.timers)
	c.children = slices.Clone(pc.children)
	c.waiters = slices.Clone(pc.waiters)
	c.fds = slices.Clone(pc.fds)
	c.inbox = slices.Clone(pc.inbox)
	c.futex = nil // kept by value in procSnapshot
	if pc.freeStacks != nil {
		c.freeStacks = make(map[uint64][]uint64, len(pc.freeStacks))
		for k, v := range pc.freeStacks {
			c.freeStacks[k] = slices.Clone(v)
		}
	}
	return c
}

// Restore puts the machine back in the state of s, a snapshot of its own, even after the run
// ended: the next Resume goes on from there. The breakpoints stay as they are now. What the program had written by then is
// s.Output: output cannot be taken back.
func (m *Machine) Restore(s *Snapshot) error {
	if s.m != m {
		return errors.New("vm: a snapshot of another machine")
	}
	if s.released {
		return errors.New("vm: a snapshot that was released")
	}
	if err := m.snapshotable(); err != nil {
		return err
	}
	m.flush()
	c := m.cpus[0]
	if m.ended {
		// The run goes on again: what ended it is undone, the network's end included.
		m.ended, m.result, m.err = false, Result{}, nil
		m.net.reopen()
		c.done.Store(false)
		m.interrupt.Store(false)
		m.why.Store(int32(stopNone))
		select {
		case <-m.stopped:
			m.stopped, m.stopOnce = make(chan struct{}), sync.Once{}
		default:
		}
	}
	kept := map[*Process]bool{}
	for _, ps := range s.procs {
		kept[ps.p] = true
	}
	for _, p := range m.procs {
		if !kept[p] && p != m.proc {
			p.freeMemory() // made after the snapshot
		}
	}
	for i := range s.procs {
		ps := &s.procs[i]
		p := ps.p
		mem, release := p.mem, p.release
		p.procCore = ps.core.clone()
		p.futex = nil
		if ps.futex != nil {
			p.futex = make(map[uint64]*queue, len(ps.futex))
			for a, q := range ps.futex {
				p.futex[a] = &q
			}
		}
		p.kmem.Store(ps.kmem)
		p.hasInbox.Store(ps.hasInbox)
		p.killed.Store(ps.killed)
		for j, t := range p.threads {
			*t = ps.threads[j]
		}
		for j, ch := range p.chans {
			*ch = ps.chans[j]
			ch.buf = slices.Clone(ps.chans[j].buf)
		}
		if mem == nil || cap(mem) < ps.memLen {
			// Its memory was given back when it ended: it is made again.
			if release != nil {
				release()
				m.reserved--
			}
			var err error
			if mem, release, err = reserve(uint64(ps.memLen), p.maxMem); err != nil {
				return err
			}
			if release != nil {
				m.reserved++
			}
		}
		if len(mem) > ps.memLen {
			clear(mem[ps.memLen:]) // past the break, memory reads as zeros when it grows (see setBrk)
		}
		p.mem, p.release = mem[:ps.memLen], release
		for j, pg := range ps.pages {
			copy(p.mem[j*PageSize:], pg.b)
		}
		p.trackPages()
	}
	for pp, v := range s.pipes {
		*pp = v
		pp.buf = slices.Clone(v.buf)
	}
	for f, v := range s.files {
		*f = v
	}
	for so, v := range s.sockets {
		*so = v
		so.rbuf = slices.Clone(v.rbuf)
	}
	m.hlog.pos, m.hlog.diverged, m.net.inflight = s.hostPos, nil, s.inflight
	if m.HostAhead() {
		m.hostEvents.Or(hostReplay) // a completion may be due at any check point
	} else {
		m.hostEvents.And(^hostReplay) // a Restore before may have set it
	}
	m.procs = slices.Clone(s.table)
	m.lastPid, m.zombies, m.pipes = s.lastPid, s.zombies, s.pipeCount
	m.readyCount.Store(s.readyCount)
	m.threadCount.Store(s.threadCount)
	m.published.Store(s.published)
	cs := &s.cpu
	c.steps, c.switches, c.handoffs, c.unpublished = cs.steps, cs.switches, cs.handoffs, cs.unpublished
	c.sliceStart, c.skipped, c.procSlices = cs.sliceStart, cs.skipped, cs.procSlices
	c.cur, c.ready.ps, c.paused, c.stopThread = cs.cur, slices.Clone(cs.ready), cs.paused, cs.stopThread
	c.stopKind, c.trapped, c.started, c.polls, c.recheck = cs.stopKind, cs.trapped, cs.started, cs.polls, cs.recheck
	if c.pcg != nil {
		if err := c.pcg.UnmarshalBinary(cs.rng); err != nil {
			return err
		}
	}
	m.written[0].n, m.written[1].n = s.Output[0], s.Output[1]
	m.in.rewind(s.inPos, s.inAt, s.inEOF)
	m.in.skip, m.in.waiters = s.inSkip, s.inWaiters
	m.lastSnapshot = s
	return nil
}
