package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/spindle-vm/spindle/isa"
)

// The network. A program listens, accepts and connects only at the addresses the person running
// it granted (Options.NetGrants), and reads and writes its connections through the read, write
// and close services, as it does pipes.
//
// What waits on the network waits off the loop, as a read of the host's input does (input.go):
// accept, connect, and a read or a write that the host has not finished each run on a goroutine
// of their own, in Go's net package, so that Go's network poller does the waiting, and only the
// thread that asked is parked. The goroutine posts its completion to the kernel's network and
// sets a flag that the processors read at their check points, as they read the input pump's;
// a processor with nothing to run waits for a completion (or a timer, an interrupt, input)
// instead of spinning. The completion is applied by a processor, under the kernel lock, and
// wakes the threads it was for: a read or an accept restarts its syscall, which then finds the
// bytes or the connection; a connect or a write finds its result in a0. An operation starts
// only when touch says the host may be dealt with: in a replay of the host log (hostlog.go)
// none starts, its completion comes from the log, and its buffer is left alone, since a
// goroutine started before the Restore may still be using it.
//
// At most one read and one write are in flight for each connection, and one accept for each
// listening socket, so a connection holds at most connBuf bytes read from the host and not yet
// by the program, and connBuf bytes being written; both are charged to the process's memory
// limit when the connection is made.

// connBuf is the most a connection holds in each direction: what one host read takes, and what
// one write gives the host.
const connBuf = 16 << 10

// The memory a socket is charged: the kernel's object and the host's; a listening socket's
// accept in flight, on a goroutine; and a connection's two buffers and its read and write in
// flight, each on a goroutine. goroutineSize is what a goroutine that waits in Go's network
// poller takes: its stack, which starts at 2 KiB and grows in the calls of a read, and its
// record.
const (
	sockSize      = 512
	goroutineSize = 4 << 10
	listenSize    = sockSize + goroutineSize
	connSize      = sockSize + 2*connBuf + 2*goroutineSize
)

// maxSockTimeout is the longest timeout sockopt takes, in milliseconds: about 35 years, as for
// sleep.
const maxSockTimeout = 1 << 40

// A NetGrant lets the program listen at an address, or connect to one. The program must name
// the address exactly as the grant does: a grant of 127.0.0.1:0 lets it listen at 127.0.0.1:0,
// a port the host chooses, and not at localhost:0 or 127.0.0.1:8080.
type NetGrant struct {
	Addr    string // HOST:PORT
	Connect bool   // a grant to connect to Addr; otherwise to listen at it
}

// A Network is the host's network as the services use it: TCP only, and nothing that the grants
// have not checked reaches it. HostNetwork is Go's net package; a browser's playground can give
// a network in memory.
type Network interface {
	Listen(addr string) (Listener, error)
	// Dial connects to addr, giving up when ctx is done.
	Dial(ctx context.Context, addr string) (Conn, error)
}

// A Listener is a listening socket of a Network.
type Listener interface {
	Accept() (Conn, error)
	SetDeadline(t time.Time) error // of Accept
	Addr() net.Addr
	Close() error
}

// A Conn is a connection of a Network. Its methods may be called from several goroutines at
// once, as a net.Conn's may: a read and a write are in flight together.
type Conn interface {
	io.ReadWriteCloser
	CloseRead() error
	CloseWrite() error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// HostNetwork returns the Network of Go's net package, over TCP.
func HostNetwork() Network { return hostNetwork{} }

type hostNetwork struct{}

func (hostNetwork) Listen(addr string) (Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return hostListener{l.(*net.TCPListener)}, nil
}

func (hostNetwork) Dial(ctx context.Context, addr string) (Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

type hostListener struct{ *net.TCPListener }

func (l hostListener) Accept() (Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err // not a nil *TCPConn in a Conn, which is not nil
	}
	return c, nil
}

// checkNetGrants checks the network grants of opts.
func checkNetGrants(grants []NetGrant) error {
	for _, g := range grants {
		host, port, err := net.SplitHostPort(g.Addr)
		if err != nil {
			return fmt.Errorf("a network grant of %q: %v", g.Addr, err)
		}
		if g.Connect && (host == "" || port == "0") {
			return fmt.Errorf("a grant to connect to %q needs a host and a port other than 0", g.Addr)
		}
	}
	return nil
}

// A network is the kernel's side of the host's network: the grants, and the completions that
// goroutines post.
type network struct {
	host      Network
	grants    []NetGrant
	listening func(addr string)
	ctx       context.Context // cancelled when the run ends, for connects in flight
	cancel    context.CancelFunc

	mu     sync.Mutex
	done   []completion // posted, not yet applied
	closed bool         // the run is over: a late connection is closed at once
	note   chan struct{}

	inflight int // operations on goroutines, not yet applied; under the kernel lock
}

func newNetwork(opts *Options) *network {
	n := &network{host: opts.Network, grants: opts.NetGrants, listening: opts.Listening, note: make(chan struct{}, 1)}
	if n.host == nil {
		n.host = HostNetwork()
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n
}

// granted reports whether a grant lets the program listen at addr, or connect to it.
func (n *network) granted(addr string, connect bool) bool {
	for _, g := range n.grants {
		if g.Connect == connect && g.Addr == addr {
			return true
		}
	}
	return false
}

// A socket is a listening socket or a connection, which one or more descriptors have open: a
// child process given one as its 0 or 1 shares it.
type socket struct {
	listener Listener
	conn     Conn
	refs     int
	opener   *Process // charged for it until its last descriptor is closed
	charged  uint64
	closed   bool

	recvTimeout, sendTimeout time.Duration // 0: none

	rq, wq queue // threads waiting to read (or to accept), to write

	// A listening socket: the accept in flight, and the connection it got, or its error,
	// until a thread takes it.
	accepting bool
	accepted  *socket
	acceptErr error

	// A connection's reading side: the host's read in flight goes into rstore; what it read
	// and the program has not is rbuf, a part of rstore.
	reading  bool
	rstore   []byte
	rbuf     []byte
	rerr     error // the end of reading: io.EOF, or the host's error; it stays
	rtimeout bool  // the last read timed out: the next reader gets ETIMEDOUT
	rdShut   bool

	// Its writing side: the write in flight, of wstore's bytes, for writer.
	writing bool
	writer  *Thread
	quiet   bool // the writer is a print service, which returns nothing: a0 stays
	wstore  []byte
	werr    error // the host's error: the connection is broken, and it stays
	wrShut  bool
}

// release closes s on the host and gives its charge back.
func (k *kernel) release(s *socket) {
	if s.closed {
		return
	}
	s.closed = true
	if k.touch("close") {
		if s.listener != nil {
			s.listener.Close()
		}
		if s.conn != nil {
			s.conn.Close() // a read or write in flight returns, and posts its completion
		}
		if s.accepted != nil {
			s.accepted.conn.Close()
		}
	}
	s.accepted = nil
	s.opener.uncharge(s.charged)
	s.charged, s.rbuf = 0, nil
}

// closeSocket closes s once its last descriptor is, and wakes its waiters, which find their
// descriptor closed.
func (c *cpu) closeSocket(s *socket) {
	if s.refs--; s.refs > 0 {
		return
	}
	c.release(s)
	c.wakeAll(&s.rq)
	c.wakeAll(&s.wq)
}

// reopen undoes closeSockets' end of the network, for a run that goes on after a Restore.
func (n *network) reopen() {
	n.mu.Lock()
	n.closed = false
	n.mu.Unlock()
	n.ctx, n.cancel = context.WithCancel(context.Background())
}

// closeSockets closes what processes still hold when the run is over, and turns away what
// goroutines still bring.
func (k *kernel) closeSockets() {
	for _, p := range k.procs {
		for i, d := range p.fds {
			if d.kind == descSocket {
				k.release(d.sock)
				p.fds[i] = desc{}
			}
		}
	}
	n := k.net
	n.cancel()
	n.mu.Lock()
	n.closed = true
	for _, d := range n.done {
		if d.conn != nil {
			d.conn.Close()
		}
	}
	n.done = nil
	n.mu.Unlock()
}

// An operation that a goroutine finished.
type netOp uint8

const (
	opAccept netOp = iota
	opRead
	opWrite
	opConnect
)

type completion struct {
	op   netOp
	s    *socket // accept, read and write's
	t    *Thread // connect's
	n    int
	data []byte // what a read read
	conn Conn
	err  error
}

// post gives the kernel a completion, from the goroutine that did the work, and wakes a
// processor that waits for one.
func (k *kernel) post(d completion) {
	n := k.net
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		if d.conn != nil {
			d.conn.Close()
		}
		return
	}
	n.done = append(n.done, d)
	k.hostEvents.Or(hostNetDone) // done is not empty
	n.mu.Unlock()
	select {
	case n.note <- struct{}{}:
	default:
	}
	if k.multi {
		// As the input pump does: under the lock, so that no idle processor misses it
		// between its look at the completions and its wait.
		k.mu.Lock()
		k.work.Broadcast()
		k.mu.Unlock()
	}
}

// pollNet applies the completions posted, and reports whether there were any: in a replay of
// the host log, the ones it holds for this poll (see hostlog.go). The caller holds the kernel
// lock.
func (c *cpu) pollNet() bool {
	n := c.net
	if c.replaying() {
		applied := false
		for l := &c.hlog; l.pos < len(l.entries) && l.entries[l.pos].what == "done" && l.entries[l.pos].poll == c.polls; {
			e, _ := c.logged("done")
			n.inflight--
			c.complete(e.done)
			applied = true
		}
		return applied
	}
	if c.hostEvents.Load()&hostNetDone == 0 {
		return false
	}
	n.mu.Lock()
	done := n.done
	n.done = nil
	c.hostEvents.And(^hostNetDone)
	n.mu.Unlock()
	for _, d := range done {
		n.inflight--
		if e, _ := c.logged("done"); e != nil {
			e.poll, e.done = c.polls, d
			e.done.data = bytes.Clone(d.data) // the socket reads into the same buffer again
		}
		c.complete(d)
	}
	return len(done) > 0
}

// current returns thread t as the machine has it now: after a Restore, a thread made since the
// snapshot was made again, as another object.
func (c *cpu) current(t *Thread) *Thread {
	if p := c.process(uint64(t.Proc.ID)); p != nil {
		if u := p.thread(uint64(t.ID)); u != nil {
			return u
		}
	}
	return t
}

// complete applies one completion and wakes the threads it was for.
func (c *cpu) complete(d completion) {
	s := d.s
	switch d.op {
	case opAccept:
		s.accepting = false
		if s.closed {
			c.closeConn(d.conn)
			return
		}
		if d.conn != nil {
			// Charged, and given its opener, when a thread takes it.
			s.accepted = c.made(socket{conn: d.conn})
		}
		s.acceptErr = d.err
		c.wakeAll(&s.rq)
	case opRead:
		s.reading = false
		if !s.closed && !s.rdShut {
			s.rbuf = d.data
			switch {
			case d.err == nil:
			case d.n == 0 && timedOut(d.err):
				s.rtimeout = true
			case !timedOut(d.err):
				s.rerr = d.err
			}
		}
		c.wakeAll(&s.rq)
	case opWrite:
		t := s.writer
		s.writing, s.writer = false, nil
		if d.err != nil && !timedOut(d.err) {
			s.werr = d.err
		}
		if !s.quiet {
			if d.n > 0 || d.err == nil {
				t.R[isa.A0] = uint64(d.n)
			} else {
				t.R[isa.A0] = uint64(s.errno(d.err))
			}
		}
		s.quiet = false
		c.wakeAny(t)
		c.wakeAll(&s.wq)
	case opConnect:
		t := c.current(d.t)
		p := t.Proc
		switch {
		case t.State == Exited:
			c.closeConn(d.conn)
			return
		case d.err != nil:
			p.uncharge(connSize)
			t.R[isa.A0] = uint64(netErrno(d.err))
		default:
			s := c.made(socket{conn: d.conn, refs: 1, opener: p, charged: connSize})
			fd, ok := p.newFd(desc{kind: descSocket, sock: s})
			if !ok {
				c.release(s)
				fd = errCode(isa.EMFILE)
			}
			t.R[isa.A0] = fd
		}
		c.wakeAny(t)
	}
}

// closeConn closes a connection that came for nothing: its socket was closed, or its thread
// has exited.
func (k *kernel) closeConn(conn Conn) {
	if conn != nil && k.touch("close") {
		conn.Close()
	}
}

// errno is the error code of a host error of s: once the program has shut s down, the host's
// complaint about it is EPIPE.
func (s *socket) errno(err error) isa.Errno {
	if s.closed || s.wrShut {
		return isa.EPIPE
	}
	return netErrno(err)
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

// netErrno turns a host error of the network into the program's error code.
func netErrno(err error) isa.Errno {
	if timedOut(err) {
		return isa.ETIMEDOUT
	}
	for _, e := range []struct {
		host syscall.Errno
		code isa.Errno
	}{
		{syscall.ECONNREFUSED, isa.ECONNREFUSED}, {syscall.ECONNRESET, isa.ECONNRESET},
		{syscall.EPIPE, isa.EPIPE}, {syscall.EADDRINUSE, isa.EADDRINUSE},
		{syscall.EADDRNOTAVAIL, isa.EADDRNOTAVAIL}, {syscall.ENETUNREACH, isa.ENETUNREACH},
		{syscall.EHOSTUNREACH, isa.EHOSTUNREACH}, {syscall.ECONNABORTED, isa.ECONNABORTED},
		{syscall.ETIMEDOUT, isa.ETIMEDOUT}, {syscall.EACCES, isa.EACCES}, {syscall.EPERM, isa.EACCES},
		{syscall.EMFILE, isa.EMFILE}, {syscall.ENFILE, isa.EMFILE},
	} {
		if errors.Is(err, e.host) {
			return e.code
		}
	}
	var dns *net.DNSError
	var ae *net.AddrError
	switch {
	case errors.As(err, &dns):
		return isa.EHOSTUNREACH
	case errors.As(err, &ae):
		return isa.EINVAL
	case errors.Is(err, net.ErrClosed):
		return isa.EBADF
	}
	return isa.EIO
}

// deadline sets a deadline d from now, or none.
func deadline(set func(time.Time) error, d time.Duration) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	set(t)
}

// errCode is e as a0 holds it.
func errCode(e isa.Errno) uint64 { return uint64(e) }

// socketOf returns the socket that descriptor fd of t's process has open, or the error code.
func socketOf(t *Thread, fd uint64) (*socket, isa.Errno) {
	switch d := t.Proc.fd(fd); d.kind {
	case descSocket:
		return d.sock, 0
	case descClosed:
		return nil, isa.EBADF
	}
	return nil, isa.ENOTSOCK
}

// addr reads the address of n bytes at addr for listen or connect.
func (c *cpu) addr(t *Thread, service string, addr, n uint64) (string, isa.Errno, error) {
	if n > isa.MaxAddr {
		return "", isa.EINVAL, nil
	}
	b, err := c.buffer(t, service, addr, n)
	switch {
	case err != nil:
		return "", 0, err
	case n == 0, bytes.IndexByte(b, 0) >= 0:
		return "", isa.EINVAL, nil
	}
	return string(b), 0, nil
}

func (c *cpu) sysListen(t *Thread) (*Thread, error) {
	p, r := t.Proc, &t.R
	addr, e, err := c.addr(t, "listen", r[isa.A0], r[isa.A1])
	switch {
	case err != nil:
		return nil, err
	case e != 0:
		return fail(t, e)
	case !c.net.granted(addr, false):
		return fail(t, isa.EACCES)
	case p.openFds() >= c.opts.MaxFDs:
		return fail(t, isa.EMFILE)
	case !p.charge(listenSize):
		return fail(t, isa.ENOMEM)
	}
	live := !c.replaying()
	l, err := hostCall(c.kernel, "listen", func() (Listener, error) { return c.net.host.Listen(addr) })
	if err != nil {
		p.uncharge(listenSize)
		return fail(t, netErrno(err))
	}
	s := c.made(socket{listener: l, refs: 1, opener: p, charged: listenSize})
	fd, _ := p.newFd(desc{kind: descSocket, sock: s})
	if c.net.listening != nil && live {
		c.net.listening(l.Addr().String()) // said once: not again in a replay
	}
	r[isa.A0] = fd
	return t, nil
}

func (c *cpu) sysAccept(t *Thread) (*Thread, error) {
	p, fd := t.Proc, t.R[isa.A0]
	s, e := socketOf(t, fd)
	switch {
	case e != 0:
		return fail(t, e)
	case s.listener == nil:
		return fail(t, isa.EINVAL)
	case s.accepted != nil:
		// The connection waits in the socket until there is room for it, as in the host's
		// queue of connections not yet accepted.
		if p.openFds() >= c.opts.MaxFDs {
			return fail(t, isa.EMFILE)
		}
		if !p.charge(connSize) {
			return fail(t, isa.ENOMEM)
		}
		ns := s.accepted
		s.accepted = nil
		ns.refs, ns.opener, ns.charged = 1, p, connSize
		t.R[isa.A0], _ = p.newFd(desc{kind: descSocket, sock: ns})
		return t, nil
	case s.acceptErr != nil:
		err := s.acceptErr
		s.acceptErr = nil
		return fail(t, netErrno(err))
	}
	if !s.accepting {
		s.accepting = true
		c.net.inflight++
		if c.touch("accept") {
			l, d := s.listener, s.recvTimeout
			go func() {
				deadline(l.SetDeadline, d)
				conn, err := l.Accept()
				c.post(completion{op: opAccept, s: s, conn: conn, err: err})
			}()
		}
	}
	c.restart(t, waitAccept, fd)
	s.rq.push(t)
	return c.after(t, true, nil)
}

func (c *cpu) sysConnect(t *Thread) (*Thread, error) {
	p, r := t.Proc, &t.R
	addr, e, err := c.addr(t, "connect", r[isa.A0], r[isa.A1])
	switch {
	case err != nil:
		return nil, err
	case e != 0:
		return fail(t, e)
	case !c.net.granted(addr, true):
		return fail(t, isa.EACCES)
	case r[isa.A2] > maxSockTimeout:
		return fail(t, isa.EINVAL)
	case p.openFds() >= c.opts.MaxFDs:
		return fail(t, isa.EMFILE)
	case !p.charge(connSize): // given back if the connect fails (see complete)
		return fail(t, isa.ENOMEM)
	}
	c.net.inflight++
	if c.touch("connect") {
		host, ctx, timeout := c.net.host, c.net.ctx, time.Duration(r[isa.A2])*time.Millisecond
		go func() {
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			conn, err := host.Dial(ctx, addr)
			c.post(completion{op: opConnect, t: t, conn: conn, err: err})
		}()
	}
	c.block(t, waitConnect, 0)
	return c.after(t, true, nil)
}

// sockRead reads into b from connection s, descriptor fd, for t. It returns whether t must
// block; a blocked reader retries the whole syscall when it is woken.
func (c *cpu) sockRead(t *Thread, fd uint64, s *socket, b []byte) bool {
	r := &t.R
	switch {
	case s.listener != nil:
		r[isa.A0] = errCode(isa.ENOTCONN)
	case len(b) == 0, s.rdShut:
		r[isa.A0] = 0
	case len(s.rbuf) > 0:
		n := copy(b, s.rbuf)
		s.rbuf = s.rbuf[n:]
		r[isa.A0] = uint64(n)
	case s.rtimeout:
		s.rtimeout = false
		r[isa.A0] = errCode(isa.ETIMEDOUT)
	case s.rerr == io.EOF:
		r[isa.A0] = 0
	case s.rerr != nil:
		r[isa.A0] = uint64(netErrno(s.rerr))
	default:
		if !s.reading {
			s.reading = true
			c.net.inflight++
			if c.touch("recv") {
				if s.rstore == nil {
					s.rstore = make([]byte, connBuf)
				}
				conn, buf, d := s.conn, s.rstore, s.recvTimeout
				go func() {
					deadline(conn.SetReadDeadline, d)
					n, err := conn.Read(buf)
					c.post(completion{op: opRead, s: s, n: n, data: buf[:max(n, 0)], err: err})
				}()
			}
		}
		c.restart(t, waitRead, fd)
		s.rq.push(t)
		return true
	}
	return false
}

// sockWrite writes b, or its first connBuf bytes, to connection s, descriptor fd, for t, which
// waits, parked, until the host has taken them; a0 is then how many it took, or an error code.
// With whole (a print service) b is short, it is written whole, and a0 is left alone.
func (c *cpu) sockWrite(t *Thread, fd uint64, s *socket, b []byte, whole bool) bool {
	r := &t.R
	switch {
	case s.listener != nil:
		r[isa.A0] = errCode(isa.ENOTCONN)
	case s.wrShut:
		r[isa.A0] = errCode(isa.EPIPE)
	case s.werr != nil:
		r[isa.A0] = uint64(s.errno(s.werr))
	case s.writing:
		c.restart(t, waitWrite, fd)
		s.wq.push(t)
		return true
	case len(b) == 0:
		r[isa.A0] = 0
	default:
		n := min(len(b), connBuf)
		s.writing, s.writer, s.quiet = true, t, whole
		c.net.inflight++
		if c.touch("send") {
			// Not in a replay: a write still in flight since before the Restore may be
			// sending from the store (see hostlog.go).
			if s.wstore == nil {
				s.wstore = make([]byte, connBuf)
			}
			copy(s.wstore, b[:n])
			conn, buf, d := s.conn, s.wstore[:n], s.sendTimeout
			go func() {
				deadline(conn.SetWriteDeadline, d)
				n, err := conn.Write(buf)
				c.post(completion{op: opWrite, s: s, n: n, err: err})
			}()
		}
		c.block(t, waitSending, fd)
		return true
	}
	return false
}

func (c *cpu) sysShutdown(t *Thread) (*Thread, error) {
	s, e := socketOf(t, t.R[isa.A0])
	how := t.R[isa.A1]
	switch {
	case e != 0:
		return fail(t, e)
	case s.listener != nil:
		return fail(t, isa.ENOTCONN)
	case how > isa.ShutBoth:
		return fail(t, isa.EINVAL)
	}
	if how != isa.ShutWrite && !s.rdShut {
		s.rdShut, s.rbuf = true, nil
		if c.touch("shutdown") {
			s.conn.CloseRead() // a read in flight returns
		}
		c.wakeAll(&s.rq)
	}
	if how != isa.ShutRead && !s.wrShut {
		s.wrShut = true
		if c.touch("shutdown") {
			s.conn.CloseWrite()
		}
	}
	t.R[isa.A0] = 0
	return t, nil
}

func (c *cpu) sysSockopt(t *Thread) (*Thread, error) {
	r := &t.R
	s, e := socketOf(t, r[isa.A0])
	switch {
	case e != 0:
		return fail(t, e)
	case r[isa.A2] > maxSockTimeout:
		return fail(t, isa.EINVAL)
	}
	d := time.Duration(r[isa.A2]) * time.Millisecond
	switch r[isa.A1] {
	case isa.SockRecvTimeout:
		s.recvTimeout = d
	case isa.SockSendTimeout:
		s.sendTimeout = d
	default:
		return fail(t, isa.EINVAL)
	}
	r[isa.A0] = 0
	return t, nil
}
