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
		return 0, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("chan_make: capacity %d; the most is %d", int64(capacity), MaxChanCap))
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
		return nil, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("%s: %d is not a channel", name, h))
	}
	return p.chans[h-1], nil
}

// chanSend sends v on channel h for t. It reports whether t must block.
func (c *cpu) chanSend(t *Thread, h, v uint64) (bool, error) {
	ch, err := c.channel(t, "chan_send", h)
	if err != nil {
		return false, err
	}
	r := &t.R
	switch {
	case ch.closed:
		r[isa.A0] = ^uint64(0)
	case ch.recvq.n > 0:
		rcv := ch.recvq.pop()
		rcv.R[isa.A0], rcv.R[isa.A1] = v, 1
		c.wake(rcv)
		r[isa.A0] = 0
	case ch.n < len(ch.buf):
		ch.buf[(ch.head+ch.n)%len(ch.buf)] = v
		ch.n++
		r[isa.A0] = 0
	default:
		t.waitVal = v
		c.block(t, waitSend, h)
		ch.sendq.push(t)
		return true, nil
	}
	return false, nil
}

// chanRecv receives from channel h for t. It reports whether t must block.
func (c *cpu) chanRecv(t *Thread, h uint64) (bool, error) {
	ch, err := c.channel(t, "chan_recv", h)
	if err != nil {
		return false, err
	}
	r := &t.R
	switch {
	case ch.n > 0:
		r[isa.A0], r[isa.A1] = ch.buf[ch.head], 1
		ch.head = (ch.head + 1) % len(ch.buf)
		ch.n--
		if s := ch.sendq.pop(); s != nil {
			// A sender was waiting for room: its value takes the place just freed.
			ch.buf[(ch.head+ch.n)%len(ch.buf)] = s.waitVal
			ch.n++
			s.R[isa.A0] = 0
			c.wake(s)
		}
	case ch.sendq.n > 0:
		s := ch.sendq.pop()
		r[isa.A0], r[isa.A1] = s.waitVal, 1
		s.R[isa.A0] = 0
		c.wake(s)
	case ch.closed:
		r[isa.A0], r[isa.A1] = 0, 0
	default:
		c.block(t, waitRecv, h)
		ch.recvq.push(t)
		return true, nil
	}
	return false, nil
}

func (c *cpu) chanClose(t *Thread, h uint64) error {
	ch, err := c.channel(t, "chan_close", h)
	if err != nil {
		return err
	}
	if ch.closed {
		return c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("chan_close: channel %d is already closed", h))
	}
	ch.closed = true
	for rcv := ch.recvq.pop(); rcv != nil; rcv = ch.recvq.pop() {
		rcv.R[isa.A0], rcv.R[isa.A1] = 0, 0
		c.wake(rcv)
	}
	for s := ch.sendq.pop(); s != nil; s = ch.sendq.pop() {
		s.R[isa.A0] = ^uint64(0)
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
		return false, c.trap(t, t.PC-1, isa.TrapSyscallArg, fmt.Sprintf("futex_wait: address %#x is not inside memory", addr))
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
