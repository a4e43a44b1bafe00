package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
)

// The host log. A debugger steps a program back by restoring a snapshot and running it forward
// again (snapshot.go). A program that uses files or the network could not be run again: its
// files have changed since, and its peers have moved on. So from the machine's first snapshot
// on, every dealing of the kernel with the host is kept in the host log, in the order it
// happened: a file opened, read, written, renamed or closed, with what the host answered and
// the bytes it gave; a socket listening; a network operation started on its goroutine, and its
// completion. A restored machine replays the log: until it is back where the run was furthest,
// it takes what the host gave from the log and gives the host nothing, so that the files and
// the peers see each thing once, and the program sees what it saw, at the same instructions.
// Past the end of the log the run is live again. (rr records and replays a process in the same
// way: the recording holds what came from outside, and a replay never asks.)
//
// A network operation completes on its goroutine whenever the host is done, and its completion
// is applied at the next poll: a check point, or a wait of an idle processor (net.go). The log
// keeps the number of that poll, which the processor counts (cpu.polls) whether or not
// anything was there, and a replay applies the completion at the same poll, between the same
// two instructions. Completions that came in while the machine replayed wait until it is past
// the last poll the run made live (hostLog.frontier), as they did then.
//
// A replay that asks the host for something other than what the log holds next has left the
// logged run, as a change of the program's past would make it: the call fails with EIO, and
// Resume with ErrDiverged. Machine.Diverge is how a debugger asks first.

// ErrDiverged is the error of a Resume whose run asked the host, in a replay of the host log,
// for something other than what the log holds: the run went another way than the one logged.
var ErrDiverged = errors.New("vm: the run went another way than the one the host log holds: files and the network cannot be taken back")

// ErrHostAhead is Diverge's refusal: the run used files or the network after this point.
var ErrHostAhead = errors.New("vm: the program used files or the network after this point, which cannot be taken back; its past cannot be changed here")

type hostLog struct {
	on       bool // the machine has been snapshotted: dealings with the host are logged
	entries  []hostEntry
	pos      int    // the next entry a replay takes; len(entries) when the run is live
	cur      int    // with on, the entry of the dealing logged or replayed last, or -1 (see made)
	frontier uint64 // the last poll the run made live (see cpu.polls)
	diverged error
}

// A hostEntry is one dealing with the host.
type hostEntry struct {
	what string     // the call, such as "open" or "read", or "done" for a network completion
	poll uint64     // a completion's: the poll that applied it
	data []byte     // what a read gave
	val  any        // what the call returned: a File, an fs.FileInfo, a count, a Listener
	err  error      // and its error
	done completion // a completion
	sock *socket    // the socket the dealing made, the same in every replay (see made)
}

// logged returns the entry of the next dealing with the host, what. In a replay it is the one
// the log holds, and live is false: the host must not be asked. Live, it is a new entry for the
// caller to fill with what the host answers, or nil when nothing is logged yet.
func (k *kernel) logged(what string) (e *hostEntry, live bool) {
	l := &k.hlog
	if !l.on {
		return nil, true // (and nothing written: processors may call this at once)
	}
	l.cur = -1
	if l.pos < len(l.entries) {
		e := &l.entries[l.pos]
		if e.what != what {
			return &hostEntry{what: what, err: l.diverge(what)}, false
		}
		l.cur = l.pos
		if l.pos++; l.pos == len(l.entries) {
			k.hostEvents.And(^hostReplay)
		}
		return e, false
	}
	l.entries = append(l.entries, hostEntry{what: what})
	l.cur = l.pos
	l.pos++
	return &l.entries[l.cur], true
}

// diverge notes that a replay asked the host for what, where the log holds another dealing
// next, and returns the error that the run then ends with.
func (l *hostLog) diverge(what string) error {
	if l.diverged == nil {
		l.diverged = fmt.Errorf("%w (the program asked for %s where the log holds %s)", ErrDiverged, what, l.entries[l.pos].what)
	}
	return l.diverged
}

// touch reports whether the host must be dealt with now, for what, whose result is not used:
// not in a replay, which did it the first time.
func (k *kernel) touch(what string) bool {
	_, live := k.logged(what)
	return live
}

// hostCall runs f, a call of the host, and logs what it returned; in a replay it returns what
// the log holds instead.
func hostCall[T any](k *kernel, what string, f func() (T, error)) (T, error) {
	e, live := k.logged(what)
	if !live {
		v, _ := e.val.(T)
		return v, e.err
	}
	v, err := f()
	if e != nil {
		e.val, e.err = v, err
	}
	return v, err
}

// readCall runs f, a read of the host into b, and logs the bytes it read; in a replay it puts
// them in b again instead.
func readCall(k *kernel, what string, b []byte, f func() (int, error)) (int, error) {
	e, live := k.logged(what)
	if !live {
		return copy(b, e.data), e.err
	}
	n, err := f()
	if e != nil {
		e.data, e.err = bytes.Clone(b[:max(n, 0)]), err
	}
	return n, err
}

// made returns a new socket of value v, made by the dealing with the host logged or replayed
// last: in a replay, the same object as the first time, for the goroutines that the first time
// started hold it, and post their completions for it.
func (k *kernel) made(v socket) *socket {
	l := &k.hlog
	if !l.on || l.cur < 0 {
		s := new(socket)
		*s = v
		return s
	}
	e := &l.entries[l.cur]
	if e.sock == nil {
		e.sock = new(socket)
	}
	*e.sock = v
	return e.sock
}

// holdsHost reports whether a process has a host file or a socket open.
func (k *kernel) holdsHost() bool {
	for _, p := range k.procs {
		for _, d := range p.fds {
			if d.kind == descFile || d.kind == descSocket {
				return true
			}
		}
	}
	return false
}

// replaying reports whether the processor is behind where the run was furthest with the host:
// entries of the log are ahead, or polls that the run made live.
func (c *cpu) replaying() bool {
	return c.hlog.pos < len(c.hlog.entries) || c.polls < c.hlog.frontier
}

// Diverge tells the machine that its run goes another way from here than the one it made
// before it was restored (a change of its registers or memory, a thread run alone where it was
// not): what the host log holds after now is dropped. It refuses with ErrHostAhead when the
// program used files or the network after now: they cannot be taken back.
func (m *Machine) Diverge() error {
	if m.HostAhead() {
		return ErrHostAhead
	}
	m.hlog.frontier = m.cpus[0].polls
	return nil
}

// Close gives back what the machine holds of the host: the files and sockets its processes
// have open, those that only its host log still holds, and the network's operations in
// flight. A debugger closes the machine it replaces (reload); a run that goes on after finds
// them closed.
func (m *Machine) Close() {
	m.closeHost()
	for _, e := range m.hlog.entries {
		switch v := e.val.(type) {
		case logFile:
			v.f.Close() // the host's file, not through the log
		case Listener:
			if v != nil {
				v.Close()
			}
		}
		if e.done.conn != nil {
			e.done.conn.Close()
		}
	}
}

// closeHost closes the host files and sockets that processes hold, as the machine's own doing,
// not the program's: the host log does not keep it. (logFile.Close would, but for on.)
func (k *kernel) closeHost() {
	on := k.hlog.on
	k.hlog.on = false
	k.closeHostFiles()
	k.closeSockets()
	k.hlog.on = on
}

// HostAhead reports whether the program used files or the network after the machine's state,
// which was restored: the run from here replays what they gave, and cannot go another way.
func (m *Machine) HostAhead() bool { return m.hlog.pos < len(m.hlog.entries) }

// logDir is a granted Dir whose calls go through the host log.
type logDir struct {
	d Dir
	k *kernel
}

func (d logDir) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	return hostCall(d.k, "open", func() (File, error) {
		f, err := d.d.OpenFile(name, flag, perm)
		if err != nil {
			return nil, err // not a nil File in a File, which is not nil
		}
		return logFile{f, d.k}, nil
	})
}

func (d logDir) Stat(name string) (fs.FileInfo, error) {
	return hostCall(d.k, "stat", func() (fs.FileInfo, error) { return d.d.Stat(name) })
}

func (d logDir) Mkdir(name string, perm fs.FileMode) error {
	return errCall(d.k, "mkdir", func() error { return d.d.Mkdir(name, perm) })
}

func (d logDir) Remove(name string) error {
	return errCall(d.k, "unlink", func() error { return d.d.Remove(name) })
}

func (d logDir) Rename(oldname, newname string) error {
	return errCall(d.k, "rename", func() error { return d.d.Rename(oldname, newname) })
}

// errCall is hostCall for a call that returns only an error.
func errCall(k *kernel, what string, f func() error) error {
	_, err := hostCall(k, what, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// logFile is a File of a logDir, whose calls go through the host log.
type logFile struct {
	f File
	k *kernel
}

func (f logFile) Read(b []byte) (int, error) {
	return readCall(f.k, "read", b, func() (int, error) { return f.f.Read(b) })
}

func (f logFile) ReadAt(b []byte, off int64) (int, error) {
	return readCall(f.k, "pread", b, func() (int, error) { return f.f.ReadAt(b, off) })
}

func (f logFile) Write(b []byte) (int, error) {
	return hostCall(f.k, "write", func() (int, error) { return f.f.Write(b) })
}

func (f logFile) WriteAt(b []byte, off int64) (int, error) {
	return hostCall(f.k, "pwrite", func() (int, error) { return f.f.WriteAt(b, off) })
}

func (f logFile) Seek(off int64, whence int) (int64, error) {
	return hostCall(f.k, "seek", func() (int64, error) { return f.f.Seek(off, whence) })
}

func (f logFile) Stat() (fs.FileInfo, error) {
	return hostCall(f.k, "fstat", f.f.Stat)
}

func (f logFile) Readdirnames(n int) ([]string, error) {
	return hostCall(f.k, "readdir", func() ([]string, error) { return f.f.Readdirnames(n) })
}

func (f logFile) Sync() error  { return errCall(f.k, "fsync", f.f.Sync) }
func (f logFile) Close() error { return errCall(f.k, "close", f.f.Close) }
