package vm

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// The kernel's process layer: the process table, and the services that make, wait for and kill
// processes.

// procState is where a process is in its life.
type procState uint8

const (
	procReady   procState = iota // in the ready queue
	procRunning                  // on a processor
	procBlocked                  // every thread blocked; off every queue until one is woken
	procExited
)

// Exit statuses of processes that did not exit by themselves, as a shell reports a process
// killed by a signal: 128 + SIGABRT for a trap, 128 + SIGKILL for kill.
const (
	statusTrapped = 134
	statusKilled  = 137
)

// endProcess ends p with status: its threads are gone, its descriptors closed, and the threads
// waiting for it are woken.
func (c *cpu) endProcess(p *Process, status int64) {
	if p.state == procExited {
		return
	}
	p.state = procExited
	p.exited = true
	p.exitCode = status
	if c.observed() {
		c.observeProcess(EventProcessEnd, p, status)
	}
	for i := range p.fds {
		c.closeFd(p, uint64(i))
	}
	for _, t := range p.threads {
		if t.State != Exited {
			t.State = Exited
			c.threadCount.Add(-1)
		}
	}
	for _, w := range p.waiters {
		w.R[isa.A0] = uint64(status)
		c.wakeAny(w)
	}
	p.waiters = nil
	// Nothing of the process is needed any more but its status, for wait, and the first
	// process's memory, for Machine.Process().Memory(). (No loop runs it: endProcess is only
	// called for a process off every processor.)
	p.chans, p.futex, p.runq, p.timers = nil, nil, queue{}, nil
	if p == c.proc {
		// The first process is the program the run was asked for: its end is the run's,
		// however it comes (exit, its last thread's end, a kill).
		c.finish(nil)
		return
	}
	p.freeMemory()
	if c.observed() {
		for _, t := range p.threads {
			if !t.dropped {
				c.observeThread(EventThreadFreed, t)
			}
		}
	}
	p.threads, p.freeStacks, p.fds, p.code, p.consts, p.args, p.argv, p.inbox = nil, nil, nil, nil, nil, nil, nil, nil
	c.zombies++
	// Its ended children can no longer be waited for, and nor can its living ones once they
	// end: nothing of them is kept.
	for _, ch := range p.children {
		ch.parent = 0
		if ch.state == procExited {
			c.reap(ch)
		}
	}
	p.children = nil
	if p.waited || p.parent == 0 {
		c.reap(p) // its status has gone to the thread that waited, or nobody can wait for it
	}
}

// reap takes ended process p out of the process table, once its exit status has gone to the
// thread that waited for it, or nobody can wait for it any more. Until then it is a zombie, as
// in Unix: it keeps its place in the table, and counts against --max-procs, so that a program
// that never waits for its children cannot fill the host's memory with their remains.
func (c *cpu) reap(p *Process) {
	if i, ok := c.tableIndex(uint64(p.ID)); ok {
		c.procs = slices.Delete(c.procs, i, i+1)
	}
	c.zombies--
	if parent := c.process(uint64(p.parent)); parent != nil {
		parent.children = slices.DeleteFunc(parent.children, func(q *Process) bool { return q == p })
	}
}

// startProcess makes a process of img that starts at entry with the given arguments, with
// descriptors 0 and 1 copied from the parent's in and out, and 2 from the parent's 2.
func (c *cpu) startProcess(t *Thread, service string, img *object.Image, entry int, args []string, in, out uint64) (*Process, error) {
	parent := t.Proc
	if c.opts.MaxProcs > 0 && len(c.procs) >= c.opts.MaxProcs {
		why := fmt.Sprintf("%s would make %d processes", service, len(c.procs)+1)
		if c.zombies > 0 {
			why += fmt.Sprintf(", counting %d that have ended but are not waited for yet (zombies)", c.zombies)
		}
		return nil, c.limit(t, LimitProcesses, uint64(c.opts.MaxProcs), why)
	}
	for _, fd := range [...]uint64{in, out} {
		if parent.fd(fd).kind == descClosed {
			return nil, c.badArg(t, "%s: descriptor %d is not open", service, fd)
		}
	}
	p, err := newProcess(parent.Machine, img, entry, args)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			le.Where = c.where(t, t.PC-1)
			return nil, le
		}
		return nil, c.badArg(t, "%s: %v", service, err)
	}
	if c.observed() {
		c.processStarted(p)
	}
	p.parent = parent.ID
	parent.children = append(parent.children, p)
	p.lastCPU = c.id
	p.fds = []desc{parent.fd(in), parent.fd(out), parent.fd(2)}
	for _, d := range p.fds {
		d.open()
	}
	c.makeReady(p)
	return p, nil
}

// process returns process pid, or nil.
func (c *cpu) process(pid uint64) *Process {
	if i, ok := c.tableIndex(pid); ok {
		return c.procs[i]
	}
	return nil
}

// tableIndex returns the index of process pid in the process table, and whether it is there.
// The table is short (--max-procs) and sorted by id.
func (c *cpu) tableIndex(pid uint64) (int, bool) {
	if pid == 0 || pid > uint64(c.lastPid) {
		return 0, false
	}
	return slices.BinarySearchFunc(c.procs, int(pid), func(p *Process, id int) int { return cmp.Compare(p.ID, id) })
}

// waitProcess makes t wait for its child pid to end. It reports whether t must block.
func (c *cpu) waitProcess(t *Thread, pid uint64) (bool, error) {
	child := c.process(pid)
	if child == nil || child.parent != t.Proc.ID || child.waited {
		return false, c.badArg(t, "wait: process %d is not a child of process %d that can be waited for", pid, t.Proc.ID)
	}
	if child.state == procExited {
		child.waited = true
		c.reap(child) // its status is read: nothing of it is left
		t.R[isa.A0] = uint64(child.exitCode)
		return false, nil
	}
	child.waited = true
	child.waiters = append(child.waiters, t)
	c.block(t, waitProc, pid)
	return true, nil
}

// kill ends process pid, which must not be the caller's own.
func (c *cpu) kill(t *Thread, pid uint64) error {
	p := c.process(pid)
	switch {
	case p == nil || p.state == procExited:
		t.R[isa.A0] = ^uint64(0)
	case p == t.Proc:
		return c.badArg(t, "kill: a process cannot kill itself; use exit")
	default:
		if p.state == procReady {
			for _, o := range c.cpus {
				if o.ready.remove(p) {
					c.readyCount.Add(-1)
				}
			}
		}
		if p.state == procRunning {
			// Its processor ends it at its next check point: only that processor may touch
			// the process while it runs.
			p.killed.Store(true)
		} else {
			c.endProcess(p, statusKilled)
		}
		t.R[isa.A0] = 0
	}
	return nil
}
