package vm

import (
	"fmt"

	"github.com/spindle-vm/spindle/isa"
)

// A channel carries 64-bit values between the threads of a process, as Go's channels do: an
// unbuffered one hands each value from a sender to a receiver directly; a buffered one holds up
// to its capacity. Threads that cannot go on wait in its queues, in the order they came.
type channel struct {
	buf    []uint64 // a ring of cap(buf) values, n of them held from head on
	head   int
	n      int
	closed bool
	sendq  queue // blocked senders; each one's value is in its waitVal
	recvq  queue // blocked receivers
}

// chanCost is what a channel's kernel state is charged against its process's memory limit,
// besides 8 bytes for each value it can buffer.
const chanCost = 128

// MaxChanCap is the largest capacity chan_make accepts.
const MaxChanCap = 1 << 20

func (c *cpu) chanMake(t *Thread, capacity uint64) (uint64, error) {
	p := t.Proc
	if capacity > MaxChanCap {
		return 0, c.badArg(t, "chan_make: capacity %d; the most is %d", int64(capacity), MaxChanCap)
	}
	if !p.charge(chanCost + 8*capacity) {
		return 0, c.memLimit(t, fmt.Sprintf("chan_make: channel %d would pass the process's memory limit", len(p.chans)+1))
	}
	p.chans = append(p.chans, &channel{buf: make([]uint64, capacity)})
	return uint64(len(p.chans)), nil
}

// channel returns the channel with handle h, or a trap.
func (c *cpu) channel(t *Thread, name string, h uint64) (*channel, error) {
	p := t.Proc
	if h == 0 || h > uint64(len(p.chans)) {
		return nil, c.badArg(t, "%s: %d is not a channel", name, h)
	}
	return p.chans[h-1], nil
}

// chanSend sends v on channel h for t. It reports whether t must block.
func (c *cpu) chanSend(t *Thread, h, v uint64) (bool, error) {
	ch, err := c.channel(t, "chan_send", h)
	if err != nil {
		return false, err
	}
	if ch.closed {
		t.R[isa.A0] = ^uint64(0)
		return false, nil
	}
	if !c.send(t, ch, h, v) {
		return true, nil
	}
	t.R[isa.A0] = 0
	return false, nil
}

// chanSendRecv sends v on channel sh, then receives from channel rh, for t: one call where two
// would do, as the call of L4's IPC is a send and a receive in one system call. It reports
// whether t must block. A thread blocked in the send goes on to the receive when a receiver
// takes its value, without running in between.
func (c *cpu) chanSendRecv(t *Thread, sh, v, rh uint64) (bool, error) {
	sch, err := c.channel(t, "chan_sendrecv", sh)
	if err != nil {
		return false, err
	}
	rch, err := c.channel(t, "chan_sendrecv", rh)
	if err != nil {
		return false, err
	}
	if sch.closed {
		t.R[isa.A0], t.R[isa.A1] = ^uint64(0), ^uint64(0)
		return false, nil
	}
	if !c.send(t, sch, sh, v) {
		t.thenRecv = rh
		return true, nil
	}
	return !c.receive(t, rch, rh), nil
}

// handoff is chan_sendrecv's fast path, the direct switch of L4's IPC: when a receiver waits
// on channel sh, nothing can be received from channel rh yet, and no other thread of t's process
// is runnable, t blocks in rh's receive and the receiver runs next, without going through the
// run queue. The outcome is the general path's: the receiver gets v and would be the only thread
// on the run queue, so it is the one picked. It returns the thread to run, or nil when the fast
// path does not apply, or when observers are attached: they are told of the wake-up, the block
// and the switch, which only the general path makes.
func (c *cpu) handoff(t *Thread, sh, v, rh uint64) *Thread {
	p := t.Proc
	if p.runq.n != 0 || c.observed() || c.catchSwitch || sh-1 >= uint64(len(p.chans)) || rh-1 >= uint64(len(p.chans)) {
		return nil // (a handle of 0 wraps around)
	}
	sch, rch := p.chans[sh-1], p.chans[rh-1]
	if sch.recvq.n == 0 || rch.n > 0 || rch.sendq.n > 0 || rch.closed {
		return nil
	}
	rcv := sch.recvq.pop()
	rcv.R[isa.A0], rcv.R[isa.A1] = v, 1
	rcv.wait = waitNone
	t.State, t.wait, t.waitOn = Blocked, waitRecv, rh
	rch.recvq.push(t)
	rcv.State = Running
	rcv.Switches++
	c.switches++
	c.handoffs++
	return rcv
}

// chanRecv receives from channel h for t. It reports whether t must block.
func (c *cpu) chanRecv(t *Thread, h uint64) (bool, error) {
	ch, err := c.channel(t, "chan_recv", h)
	if err != nil {
		return false, err
	}
	return !c.receive(t, ch, h), nil
}

// send puts v on channel ch (handle h) for t: into the hands of a waiting receiver, or into the
// buffer. It reports whether it could; if not, t is blocked in ch's send queue.
func (c *cpu) send(t *Thread, ch *channel, h, v uint64) bool {
	switch {
	case ch.recvq.n > 0:
		rcv := ch.recvq.pop()
		rcv.R[isa.A0], rcv.R[isa.A1] = v, 1
		c.wake(rcv)
	case ch.n < len(ch.buf):
		ch.buf[(ch.head+ch.n)%len(ch.buf)] = v
		ch.n++
	default:
		t.waitVal = v
		c.block(t, waitSend, h)
		ch.sendq.push(t)
		return false
	}
	return true
}

// receive takes a value from channel ch (handle h) into w's a0, with a1 = 1, or a1 = 0 once
// ch is closed and empty. It reports whether it could; if not, w is blocked in ch's receive
// queue. w is the running thread, or a blocked sender of chan_sendrecv whose send just went
// through; such a sender is woken when its receive completes, and left blocked otherwise.
func (c *cpu) receive(w *Thread, ch *channel, h uint64) bool {
	r := &w.R
	switch {
	case ch.n > 0:
		r[isa.A0], r[isa.A1] = ch.buf[ch.head], 1
		ch.head = (ch.head + 1) % len(ch.buf)
		ch.n--
		if s := ch.sendq.pop(); s != nil {
			// A sender was waiting for room: its value takes the place just freed.
			ch.buf[(ch.head+ch.n)%len(ch.buf)] = s.waitVal
			ch.n++
			c.sent(s)
		}
	case ch.sendq.n > 0:
		s := ch.sendq.pop()
		r[isa.A0], r[isa.A1] = s.waitVal, 1
		c.sent(s)
	case ch.closed:
		r[isa.A0], r[isa.A1] = 0, 0
	default:
		if w.State != Blocked {
			c.block(w, waitRecv, h)
		} else {
			w.wait, w.waitOn = waitRecv, h
		}
		ch.recvq.push(w)
		return false
	}
	if w.State == Blocked {
		c.wake(w)
	}
	return true
}

// sent finishes the send of a blocked sender whose value a receiver has taken: it wakes it, or
// moves it on to the receive of its chan_sendrecv. A chain of such senders, each one's receive
// taking the next one's value, is followed in a loop, not by recursion.
func (c *cpu) sent(s *Thread) {
	c.senders = append(c.senders, s)
	if len(c.senders) > 1 {
		return // an outer call is draining the list
	}
	for len(c.senders) > 0 {
		s := c.senders[len(c.senders)-1]
		c.senders = c.senders[:len(c.senders)-1]
		if h := s.thenRecv; h != 0 {
			s.thenRecv = 0
			c.receive(s, s.Proc.chans[h-1], h)
			continue
		}
		s.R[isa.A0] = 0
		c.wake(s)
	}
}

func (c *cpu) chanClose(t *Thread, h uint64) error {
	ch, err := c.channel(t, "chan_close", h)
	if err != nil {
		return err
	}
	if ch.closed {
		return c.badArg(t, "chan_close: channel %d is already closed", h)
	}
	ch.closed = true
	for rcv := ch.recvq.pop(); rcv != nil; rcv = ch.recvq.pop() {
		rcv.R[isa.A0], rcv.R[isa.A1] = 0, 0
		c.wake(rcv)
	}
	for s := ch.sendq.pop(); s != nil; s = ch.sendq.pop() {
		s.R[isa.A0] = ^uint64(0)
		if s.thenRecv != 0 {
			// chan_sendrecv: the send failed, so there is no receive.
			s.thenRecv = 0
			s.R[isa.A1] = ^uint64(0)
		}
		c.wake(s)
	}
	return nil
}

// futexWait parks t on addr if the 64 bits there still equal expected. It reports whether t
// must block. The check and the park are one step: no thread runs between them, so no wake-up
// can be lost.
func (c *cpu) futexWait(t *Thread, addr, expected uint64) (bool, error) {
	p := t.Proc
	if !p.inMem(addr, 8) {
		return false, c.badArg(t, "futex_wait: address %#x is not inside memory", addr)
	}
	if le.Uint64(p.mem[addr-p.memBase:]) != expected {
		t.R[isa.A0] = 1
		return false, nil
	}
	if p.futex == nil {
		p.futex = make(map[uint64]*queue)
	}
	q := p.futex[addr]
	if q == nil {
		q = &queue{}
		p.futex[addr] = q
	}
	t.R[isa.A0] = 0
	c.block(t, waitFutex, addr)
	q.push(t)
	return true, nil
}

// futexWake wakes up to n threads parked on addr and returns how many it woke.
func (c *cpu) futexWake(t *Thread, addr, n uint64) uint64 {
	p := t.Proc
	q := p.futex[addr]
	var woken uint64
	for q != nil && woken < n {
		w := q.pop()
		if w == nil {
			break
		}
		c.wake(w)
		woken++
	}
	if q != nil && q.n == 0 {
		delete(p.futex, addr)
	}
	return woken
}
