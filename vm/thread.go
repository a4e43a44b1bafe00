package vm

import (
	"fmt"
	"slices"

	"github.com/spindle-vm/spindle/isa"
)

// ThreadState is where a thread is in its life.
type ThreadState uint8

// The states. A thread is Runnable in its process's run queue, Running on the processor,
// Blocked in some wait queue, and Exited once it has ended but has not yet been joined.
const (
	Runnable ThreadState = iota
	Running
	Blocked
	Exited
)

func (s ThreadState) String() string {
	return [...]string{"runnable", "running", "blocked", "exited"}[s]
}

// waitKind says what a blocked thread waits for; waitOn says which one.
type waitKind uint8

const (
	waitNone    waitKind = iota
	waitJoin             // waitOn = the thread id
	waitSend             // waitOn = the channel handle; waitVal = the value
	waitRecv             // waitOn = the channel handle
	waitFutex            // waitOn = the address
	waitSleep            // waitOn = the deadline, in clock nanoseconds
	waitRead             // waitOn = the descriptor
	waitWrite            // waitOn = the descriptor
	waitProc             // waitOn = the process id
	waitAccept           // waitOn = the listening socket's descriptor
	waitConnect          // waitOn = 0
	waitSending          // waitOn = the connection's descriptor: its write is in flight
)

// A thread's whole context, besides its stack, is this struct: the processor context, where its
// stack is, its state and what it waits for. Everything is a number or a pointer to a kernel
// object, so that a context switch is a change of pointer and a snapshot is a copy.
type Thread struct {
	Context
	ID      int
	Proc    *Process
	StackLo uint64 // the lowest address its stack may use: sp below it is a stack overflow
	StackHi uint64 // one past the highest address of its stack

	State   ThreadState
	wait    waitKind
	listed  bool // its statistics are listed one by one (see stats)
	dropped bool // it has ended and been joined: only its place in the thread table is left (see drop)
	waitOn  uint64
	waitVal uint64
	next    *Thread // the next thread in the queue this one is in: run queue or wait queue

	thenRecv uint64 // chan_sendrecv: the channel to receive from once the send is through

	value  uint64  // the value it ended with
	joiner *Thread // the thread blocked joining this one

	// Statistics, for --stats.
	Steps     uint64 // instructions executed
	Switches  uint64 // times it was switched in
	BlockedNs int64  // clock time spent blocked
	blockedAt int64
}

// queue is a FIFO of threads, linked through Thread.next: a run queue or a wait queue. It
// allocates nothing, which matters when a million threads wait at once.
type queue struct {
	head, tail *Thread
	n          int
}

func (q *queue) push(t *Thread) {
	t.next = nil
	if q.tail == nil {
		q.head = t
	} else {
		q.tail.next = t
	}
	q.tail = t
	q.n++
}

func (q *queue) pop() *Thread {
	t := q.head
	if t == nil {
		return nil
	}
	q.head = t.next
	if q.head == nil {
		q.tail = nil
	}
	t.next = nil
	q.n--
	return t
}

// remove takes t out of q, if it is there, and reports whether it was.
func (q *queue) remove(t *Thread) bool {
	var prev *Thread
	for e := q.head; e != nil; prev, e = e, e.next {
		if e != t {
			continue
		}
		if prev == nil {
			q.head = e.next
		} else {
			prev.next = e.next
		}
		if q.tail == e {
			q.tail = prev
		}
		e.next = nil
		q.n--
		return true
	}
	return false
}

// threadCost is what a thread's kernel state is charged against its process's memory limit,
// besides its stack: its Thread struct, rounded up to the allocator's size class (256), and its
// entry in the process's thread table. TestIdleThreadSize checks it against the real cost.
const threadCost = 256 + 16

// MinThreadStack is the smallest stack thread_spawn accepts: room for the return address that
// ends the thread and a few words.
const MinThreadStack = 64

// spawn creates a thread of p that starts at code address entry with a0 = arg, on a stack of
// size bytes taken from the heap. Returning from entry ends the thread with a0 as its value.
func (c *cpu) spawn(t *Thread, entry, arg, size uint64) (*Thread, error) {
	p := t.Proc
	pc, ok := isa.CodeIndex(entry, p.textN)
	if !ok {
		return nil, c.badArg(t, "thread_spawn: entry %#x is not the address of an instruction", entry)
	}
	if size < MinThreadStack || size > p.maxMem {
		return nil, c.badArg(t, "thread_spawn: a stack of %d bytes; it must be %d to %d", int64(size), MinThreadStack, p.maxMem)
	}
	if c.opts.MaxThreads > 0 && c.threadCount.Load() >= int64(c.opts.MaxThreads) {
		return nil, c.limit(t, LimitThreads, uint64(c.opts.MaxThreads), fmt.Sprintf("thread_spawn would make %d threads", c.threadCount.Load()+1))
	}
	size = alignUp(size, 16)
	if !p.charge(threadCost) {
		return nil, c.memLimit(t, fmt.Sprintf("thread_spawn: thread %d's kernel state would pass the process's memory limit", p.nextTid+1))
	}
	lo, err := p.allocStack(size)
	if err != nil {
		return nil, c.memLimit(t, err.Error())
	}
	p.nextTid++
	n := &Thread{ID: p.nextTid, Proc: p, StackLo: lo, StackHi: lo + size}
	n.PC = pc
	n.R[isa.A0] = arg
	n.R[isa.SP] = lo + size - 8
	p.store64(lo+size-8, isa.CodeAddr(p.textN+sentinelThreadExit))
	p.threads = append(p.threads, n)
	if c.observed() {
		c.observeThread(EventThreadStart, n)
	}
	p.live++
	c.threadCount.Add(1)
	c.makeRunnable(n)
	return n, nil
}

// allocStack takes size bytes for a thread's stack: a stack freed by an ended thread, if one of
// that size is free, else fresh memory at the break. The program's break then starts above
// it, so that brk can never hand a live stack back.
func (p *Process) allocStack(size uint64) (uint64, error) {
	if free := p.freeStacks[size]; len(free) > 0 {
		lo := free[len(free)-1]
		p.freeStacks[size] = free[:len(free)-1]
		return lo, nil
	}
	lo := p.brk
	if lo+size-p.memBase > p.room() {
		return 0, fmt.Errorf("thread_spawn: a stack of %d bytes would grow memory to %d bytes", size, lo+size-p.memBase)
	}
	p.setBrk(lo + size)
	p.heapLo = p.brk
	return lo, nil
}

// exitThread ends thread t with value v. The thread that joins it gets v; until then it stays,
// as a zombie, so that its value is kept. Its stack is free at once.
func (c *cpu) exitThread(t *Thread, v uint64) {
	p := t.Proc
	t.State = Exited
	t.value = v
	p.live--
	c.threadCount.Add(-1)
	if t.ID != 1 {
		size := t.StackHi - t.StackLo
		if p.freeStacks == nil {
			p.freeStacks = make(map[uint64][]uint64)
		}
		p.freeStacks[size] = append(p.freeStacks[size], t.StackLo)
	}
	if j := t.joiner; j != nil {
		j.R[isa.A0] = v
		c.drop(t)
		c.wake(j)
	}
	if p.live == 0 {
		p.exit(0)
	}
}

// join makes t wait for thread tid and returns whether it must block.
func (c *cpu) join(t *Thread, tid uint64) (bool, error) {
	p := t.Proc
	if tid == uint64(t.ID) {
		return false, c.badArg(t, "thread_join: a thread cannot join itself")
	}
	target := p.thread(tid)
	if target == nil {
		return false, c.badArg(t, "thread_join: there is no thread %d to join (never started, or already joined)", tid)
	}
	if target.State == Exited {
		t.R[isa.A0] = target.value
		c.drop(target)
		return false, nil
	}
	if target.joiner != nil {
		return false, c.badArg(t, "thread_join: thread %d is already joined by thread %d", tid, target.joiner.ID)
	}
	target.joiner = t
	c.block(t, waitJoin, tid)
	return true, nil
}

// drop forgets a thread that has ended and been joined: its kernel state is no longer charged.
// Its place in the thread table goes when the dropped threads are half of the table, so that
// the table holds at most twice the threads not yet joined, however many a program makes and
// joins (a table that only grew took 8 bytes for every thread ever made). Its capacity stays
// at the most it ever held, threads that were all charged while they lived.
func (c *cpu) drop(t *Thread) {
	if c.observed() {
		c.observeThread(EventThreadFreed, t)
	}
	p := t.Proc
	t.dropped = true
	p.uncharge(threadCost)
	if p.dropped++; p.dropped > len(p.threads)/2 {
		p.threads = slices.DeleteFunc(p.threads, func(t *Thread) bool { return t.dropped })
		p.dropped = 0
	}
}

// thread returns thread tid of p, or nil if there is none or it has been joined. The table is
// in the order threads were made, which is the order of their ids, and a binary search finds
// it. The search is written out: slices.BinarySearchFunc compares through a call of a function
// value at each step, and the lookups of thread_join took 6.8% of the CPU samples of
// programs/bench/spawn.s with 10^6 threads, where they take 3.7% now (perf, cpu-clock). What is
// left is mostly the cache misses of reading the ids of threads far apart.
func (p *Process) thread(tid uint64) *Thread {
	ts := p.threads
	lo, hi := 0, len(ts)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if uint64(ts[h].ID) < tid {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo == len(ts) || uint64(ts[lo].ID) != tid || ts[lo].dropped {
		return nil
	}
	return ts[lo]
}
