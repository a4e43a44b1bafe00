package vm

import (
	"sync"
	"time"
)

// The statistics of Options.Stats are kept within a bound, whatever a program does: the first
// MaxStatsThreads threads are listed one by one, and the first MaxStatsProcs processes. Every
// other thread is added into its process's row when its Thread is freed (joined, or its process
// ended) or when the run ends, and every other process into one row for the rest.
const (
	MaxStatsThreads = 1000
	MaxStatsProcs   = 1000
)

// stats is the observer of Options.Stats. Its methods lock it: threads are made and joined by
// services that run without the kernel lock, on several processors at once.
type stats struct {
	m       *Machine // whose Result it fills at the end
	mu      sync.Mutex
	listed  []*Thread   // the first MaxStatsThreads threads, kept to the end of the run
	threads uint64      // threads made
	procs   []ProcStats // the first MaxStatsProcs processes, by id - 1
	rest    ProcStats   // the processes after those, added up; its ID is 0
}

// Observe keeps the statistics of e. A thread's time blocked is its own, kept by the
// processor that runs it: only that one blocks and wakes it.
func (s *stats) Observe(e Event) {
	switch e.Kind {
	case EventBlock:
		e.Thread.blockedAt = int64(e.Clock)
	case EventWake:
		e.Thread.BlockedNs += int64(e.Clock) - e.Thread.blockedAt
	case EventThreadStart:
		s.newThread(e.Thread)
	case EventProcessStart:
		s.newProcess(e.Proc)
	case EventThreadFreed:
		s.free(e.Thread)
	case EventProcessEnd:
		s.ended(e.Proc, e.Status)
	case EventEnd:
		if e.CPU == 0 { // the end comes once for each processor
			s.result(&s.m.result, s.m.procs)
		}
	}
}

// newThread counts thread t, which its process has just made.
func (s *stats) newThread(t *Thread) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.threads++
	if len(s.listed) < MaxStatsThreads {
		t.listed = true
		s.listed = append(s.listed, t)
	}
}

// newProcess counts process p, which has just been made; its first thread is counted next.
func (s *stats) newProcess(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.procs) < MaxStatsProcs {
		s.procs = append(s.procs, ProcStats{ID: p.ID})
	}
}

// row returns the row that process id's statistics go into.
func (s *stats) row(id int) *ProcStats {
	if id <= len(s.procs) {
		return &s.procs[id-1]
	}
	return &s.rest
}

// add adds thread t's statistics into its process's row.
func (s *stats) add(t *Thread) {
	ps := s.row(t.Proc.ID)
	ps.Threads++
	ps.Steps += t.Steps
	ps.Switches += t.Switches
	ps.Blocked += time.Duration(t.BlockedNs)
}

// free is called when a Thread that has ended is about to be forgotten: unless it is listed,
// its statistics go into its process's row now.
func (s *stats) free(t *Thread) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.freeLocked(t)
}

func (s *stats) freeLocked(t *Thread) {
	if !t.listed {
		s.add(t)
	}
}

// ended records that process p has ended with status.
func (s *stats) ended(p *Process, status int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.row(p.ID); ps != &s.rest {
		ps.Ended, ps.Status = true, status
	}
}

// result fills res's statistics at the end of the run; procs is the process table.
func (s *stats) result(res *Result, procs []*Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res.ThreadsMade = s.threads
	for _, t := range s.listed {
		ts := ThreadStats{Proc: t.Proc.ID, ID: t.ID, State: t.State, Steps: t.Steps, Switches: t.Switches, Blocked: time.Duration(t.BlockedNs)}
		if t.State == Blocked {
			ts.BlockedOn = t.waitString()
		}
		res.Threads = append(res.Threads, ts)
		s.add(t)
	}
	for _, p := range procs {
		for _, t := range p.threads {
			if !t.dropped {
				s.freeLocked(t)
			}
		}
	}
	res.Procs = s.procs
	if s.rest.Threads > 0 {
		res.Procs = append(res.Procs, s.rest)
	}
}
