package debugger

import (
	"strconv"

	"github.com/spindle-vm/spindle/vm"
)

// CommandName returns the name of the command that word runs, as Exec reads it: a name, an
// alias, or a prefix of one name that no other has; "" if it runs none.
func CommandName(word string) string {
	c, err := lookup(word)
	if err != nil {
		return ""
	}
	return c.name
}

// ThreadIDs returns the ids of the threads that have not exited, as thread, backtrace and info
// registers read them, for completion: the TIDs of the current process, then the PID.TIDs of
// every process.
func (s *Session) ThreadIDs() []string {
	pid := 1
	if s.cur != nil {
		pid = s.cur.Proc.ID
	}
	var local, all []string
	for _, p := range s.m.Processes() {
		for _, t := range p.Threads() {
			if t.State == vm.Exited {
				continue
			}
			if p.ID == pid {
				local = append(local, strconv.Itoa(t.ID))
			}
			all = append(all, threadName(t))
		}
	}
	return append(local, all...)
}
