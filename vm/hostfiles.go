package vm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/spindle-vm/spindle/isa"
)

// Host files. A program reaches the host's files only through the directories it was granted
// (Options.Grants), by the paths it sees them at, in the manner of WASI's preopened
// directories: "/www/index.html" is index.html in the directory granted as /www, and a relative
// path is relative to the first grant. A Dir (dir.go) confines each name to its directory, so a
// `..` above it or a symbolic link out is refused; the kernel adds what a Dir cannot know: which
// grant a path is under, and which grants are read-only.
//
// The services run in the loop, as a syscall that does not wait: a regular file's read waits on
// nothing but the disk. Anything else, such as a named pipe, whose open would wait for a writer,
// is refused before it is opened.

// DefaultMaxFDs is how many descriptors a process may have open when Options.MaxFDs is 0.
const DefaultMaxFDs = 1024

// MaxFDsLimit is the most that Options.MaxFDs may be.
const MaxFDsLimit = 1 << 20

// hostFileSize is what an open host file is charged against its opener's memory limit: the
// kernel's object and the host's.
const hostFileSize = 512

// readdirBatch is how many names readdir takes from the host at a time, each batch charged
// before the next is read.
const readdirBatch = 256

// A hostFile is a file or directory that one or more descriptors have open: a child process
// given one as its 0 or 1 shares it, offset included, as after a Unix fork.
type hostFile struct {
	f       File
	flags   isa.OpenFlag
	dir     bool
	refs    int
	opener  *Process // charged for it until its last descriptor is closed
	charged uint64
	names   []string // readdir's names, read at its first call, in byte order
	listed  bool
	next    int // the next name readdir gives
}

// release closes f on the host and gives its charge back.
func (f *hostFile) release() {
	if f.f != nil {
		f.f.Close()
		f.f = nil
	}
	f.opener.uncharge(f.charged)
	f.charged, f.names = 0, nil
}

// closeHostFiles closes the host files that processes still hold when the run is over.
func (k *kernel) closeHostFiles() {
	for _, p := range k.procs {
		for i, d := range p.fds {
			if d.kind == descFile {
				d.file.release()
				p.fds[i] = desc{}
			}
		}
	}
}

// checkGrants checks the grants of opts.
func checkGrants(grants []Grant) error {
	seen := map[string]bool{}
	for _, g := range grants {
		switch {
		case g.Dir == nil:
			return errors.New("a grant of " + g.Guest + " has no directory")
		case !strings.HasPrefix(g.Guest, "/") || path.Clean(g.Guest) != g.Guest:
			return errors.New("a grant's guest path must be absolute and clean, such as /www, not " + g.Guest)
		case seen[g.Guest]:
			return errors.New("two grants of " + g.Guest)
		}
		seen[g.Guest] = true
	}
	return nil
}

// elements splits a path into its names, dropping the empty ones and ".": they name the same
// directory whatever it is. ".." stays: what it names depends on links, which the Dir resolves.
func elements(path string) []string {
	var names []string
	for _, n := range strings.Split(path, "/") {
		if n != "" && n != "." {
			names = append(names, n)
		}
	}
	return names
}

// resolve finds the grant that path is under, the deepest one, and the name inside it.
func (k *kernel) resolve(path string) (*Grant, string, isa.Errno) {
	grants := k.opts.Grants
	if len(grants) == 0 {
		return nil, "", isa.EPERM
	}
	names := elements(path)
	if !strings.HasPrefix(path, "/") {
		return rel(&grants[0], names)
	}
	var best *Grant
	bestLen := -1
	for i := range grants {
		g := elements(grants[i].Guest)
		if len(g) > bestLen && len(g) <= len(names) && slices.Equal(g, names[:len(g)]) {
			best, bestLen = &grants[i], len(g)
		}
	}
	if best == nil {
		return nil, "", isa.EPERM
	}
	return rel(best, names[bestLen:])
}

func rel(g *Grant, names []string) (*Grant, string, isa.Errno) {
	if len(names) == 0 {
		return g, ".", 0
	}
	return g, strings.Join(names, "/"), 0
}

// errnoOf turns a host error into the program's error code.
func errnoOf(err error) isa.Errno {
	if errors.Is(err, ErrEscape) {
		return isa.EPERM
	}
	// The specific codes first: ENOTEMPTY is also an fs.ErrExist.
	for _, e := range []struct {
		host syscall.Errno
		code isa.Errno
	}{
		{syscall.ENOTEMPTY, isa.ENOTEMPTY}, {syscall.ENOTDIR, isa.ENOTDIR}, {syscall.EISDIR, isa.EISDIR},
		{syscall.ELOOP, isa.ELOOP}, {syscall.EXDEV, isa.EXDEV}, {syscall.ENAMETOOLONG, isa.ENAMETOOLONG},
		{syscall.ENOSPC, isa.ENOSPC}, {syscall.EFBIG, isa.EFBIG}, {syscall.EROFS, isa.EROFS},
		{syscall.EMFILE, isa.EMFILE}, {syscall.ENFILE, isa.EMFILE}, {syscall.EINVAL, isa.EINVAL},
		{syscall.EBADF, isa.EBADF}, {syscall.EPERM, isa.EACCES},
	} {
		if errors.Is(err, e.host) {
			return e.code
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return isa.ENOENT
	case errors.Is(err, fs.ErrExist):
		return isa.EEXIST
	case errors.Is(err, fs.ErrPermission):
		return isa.EACCES
	case errors.Is(err, fs.ErrInvalid):
		return isa.EINVAL
	}
	return isa.EIO
}

// fail sets a0 to the error code e and returns t to go on.
func fail(t *Thread, e isa.Errno) (*Thread, error) {
	t.R[isa.A0] = uint64(e)
	return t, nil
}

// result sets a0 to v, or to err's code.
func result(t *Thread, v uint64, err error) (*Thread, error) {
	if err != nil {
		return fail(t, errnoOf(err))
	}
	t.R[isa.A0] = v
	return t, nil
}

// path reads the path of n bytes at addr for a file service. A path longer than isa.MaxPath is
// refused before its memory is looked at; one outside memory traps.
func (c *cpu) path(t *Thread, service string, addr, n uint64) (string, isa.Errno, error) {
	if n > isa.MaxPath {
		return "", isa.ENAMETOOLONG, nil
	}
	b, err := c.buffer(t, service, addr, n)
	switch {
	case err != nil:
		return "", 0, err
	case n == 0:
		return "", isa.ENOENT, nil
	case bytes.IndexByte(b, 0) >= 0:
		return "", isa.EINVAL, nil
	}
	return string(b), 0, nil
}

// grantPath reads a path and finds its grant; write says the service would change something,
// which a read-only grant refuses.
func (c *cpu) grantPath(t *Thread, service string, addr, n uint64, write bool) (*Grant, string, isa.Errno, error) {
	path, e, err := c.path(t, service, addr, n)
	if e != 0 || err != nil {
		return nil, "", e, err
	}
	g, name, e := c.resolve(path)
	if e == 0 && write && g.ReadOnly {
		e = isa.EROFS
	}
	return g, name, e, nil
}

// openFlags checks open's flags and turns them into the host's.
func openFlags(fl isa.OpenFlag) (int, isa.Errno) {
	const all = isa.OpenRead | isa.OpenWrite | isa.OpenCreate | isa.OpenTruncate | isa.OpenAppend | isa.OpenExclusive
	w := fl&isa.OpenWrite != 0
	switch {
	case fl&^all != 0, fl&(isa.OpenRead|isa.OpenWrite) == 0,
		!w && fl&(isa.OpenCreate|isa.OpenTruncate|isa.OpenAppend) != 0,
		fl&isa.OpenExclusive != 0 && fl&isa.OpenCreate == 0:
		return 0, isa.EINVAL
	}
	var flag int
	switch {
	case w && fl&isa.OpenRead != 0:
		flag = os.O_RDWR
	case w:
		flag = os.O_WRONLY
	default:
		flag = os.O_RDONLY
	}
	for _, b := range []struct {
		fl   isa.OpenFlag
		host int
	}{{isa.OpenCreate, os.O_CREATE}, {isa.OpenTruncate, os.O_TRUNC}, {isa.OpenAppend, os.O_APPEND}, {isa.OpenExclusive, os.O_EXCL}} {
		if fl&b.fl != 0 {
			flag |= b.host
		}
	}
	return flag, 0
}

func (c *cpu) sysOpen(t *Thread) (*Thread, error) {
	p, r := t.Proc, &t.R
	fl := isa.OpenFlag(r[isa.A2])
	flag, e := openFlags(fl)
	if e != 0 {
		// The path is still checked, so that a path outside memory traps whatever the flags.
		if _, _, err := c.path(t, "open", r[isa.A0], r[isa.A1]); err != nil {
			return nil, err
		}
		return fail(t, e)
	}
	g, name, e, err := c.grantPath(t, "open", r[isa.A0], r[isa.A1], fl&isa.OpenWrite != 0)
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	// A named pipe's open would wait for a writer, and a device may never end: only regular
	// files and directories are opened. (One swapped in between this look and the open is not
	// caught: see docs/security.md.)
	fi, err := g.Dir.Stat(name)
	switch {
	case err == nil && !fi.Mode().IsRegular() && !fi.IsDir():
		return fail(t, isa.EACCES)
	case err != nil && !(flag&os.O_CREATE != 0 && errors.Is(err, fs.ErrNotExist)):
		return fail(t, errnoOf(err))
	}
	if p.openFds() >= c.opts.MaxFDs {
		return fail(t, isa.EMFILE)
	}
	if !p.charge(hostFileSize) {
		return fail(t, isa.ENOMEM)
	}
	f, err := g.Dir.OpenFile(name, flag, 0o666)
	if err != nil {
		p.uncharge(hostFileSize)
		return fail(t, errnoOf(err))
	}
	hf := &hostFile{f: f, flags: fl, refs: 1, opener: p, charged: hostFileSize}
	if fi, err := f.Stat(); err == nil {
		hf.dir = fi.IsDir()
	}
	fd, _ := p.newFd(desc{kind: descFile, file: hf})
	r[isa.A0] = fd
	return t, nil
}

// hostFileOf returns the file that descriptor fd of t's process has open, or the error code:
// EBADF if it has none, or notFile if it is a pipe or a host stream.
func hostFileOf(t *Thread, fd uint64, notFile isa.Errno) (*hostFile, isa.Errno) {
	switch d := t.Proc.fd(fd); d.kind {
	case descFile:
		return d.file, 0
	case descClosed:
		return nil, isa.EBADF
	}
	return nil, notFile
}

// fileRead reads into b from f, for read: 0 at its end.
func fileRead(f *hostFile, b []byte) (uint64, error) {
	if f.flags&isa.OpenRead == 0 {
		return 0, syscall.EBADF
	}
	n, err := f.f.Read(b)
	if err == io.EOF || n > 0 {
		err = nil
	}
	return uint64(n), err
}

// fileWrite writes b to f, for write.
func fileWrite(f *hostFile, b []byte) (uint64, error) {
	if f.flags&isa.OpenWrite == 0 {
		return 0, syscall.EBADF
	}
	n, err := f.f.Write(b)
	if n > 0 {
		err = nil
	}
	return uint64(n), err
}

// positioned checks the arguments of pread and pwrite, and returns the file, the buffer and the
// offset, or the error code.
func (c *cpu) positioned(t *Thread, service string, need isa.OpenFlag) (*hostFile, []byte, int64, isa.Errno, error) {
	r := &t.R
	b, err := c.buffer(t, service, r[isa.A1], r[isa.A2])
	if err != nil {
		return nil, nil, 0, 0, err
	}
	f, e := hostFileOf(t, r[isa.A0], isa.ESPIPE)
	switch {
	case e != 0:
	case f.flags&need == 0:
		e = isa.EBADF
	case int64(r[isa.A3]) < 0, need == isa.OpenWrite && f.flags&isa.OpenAppend != 0:
		e = isa.EINVAL
	}
	return f, b, int64(r[isa.A3]), e, nil
}

func (c *cpu) sysPread(t *Thread) (*Thread, error) {
	f, b, off, e, err := c.positioned(t, "pread", isa.OpenRead)
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	t.Proc.wrote(t.R[isa.A1]-t.Proc.memBase, uint64(len(b)))
	n, err := f.f.ReadAt(b, off)
	if err == io.EOF || n > 0 {
		err = nil
	}
	return result(t, uint64(n), err)
}

func (c *cpu) sysPwrite(t *Thread) (*Thread, error) {
	f, b, off, e, err := c.positioned(t, "pwrite", isa.OpenWrite)
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	n, err := f.f.WriteAt(b, off)
	if n > 0 {
		err = nil
	}
	return result(t, uint64(n), err)
}

func (c *cpu) sysSeek(t *Thread) (*Thread, error) {
	r := &t.R
	f, e := hostFileOf(t, r[isa.A0], isa.ESPIPE)
	if e != 0 {
		return fail(t, e)
	}
	if r[isa.A2] > isa.SeekEnd {
		return fail(t, isa.EINVAL)
	}
	off, err := f.f.Seek(int64(r[isa.A1]), int(r[isa.A2]))
	return result(t, uint64(off), err)
}

// putStat writes the stat struct of fi into the 32 bytes at addr.
func (c *cpu) putStat(t *Thread, service string, addr uint64, fi fs.FileInfo) error {
	b, err := c.buffer(t, service, addr, isa.StatSize)
	if err != nil {
		return err
	}
	size, kind, mtime := fi.Size(), uint64(isa.KindOther), fi.ModTime().UnixNano()
	switch {
	case fi.Mode().IsRegular():
		kind = isa.KindFile
	case fi.IsDir():
		kind, size = isa.KindDir, 0 // what a directory's size is differs from one file system to another
	}
	if c.virtual || fi.ModTime().IsZero() {
		mtime = 0 // the same files give the same run, whenever they were written
	}
	for i, v := range []uint64{uint64(size), kind, uint64(fi.Mode().Perm()), uint64(mtime)} {
		binary.LittleEndian.PutUint64(b[isa.StatFields[i].Offset:], v)
	}
	t.Proc.wrote(addr-t.Proc.memBase, isa.StatSize)
	return nil
}

func (c *cpu) sysStat(t *Thread) (*Thread, error) {
	r := &t.R
	g, name, e, err := c.grantPath(t, "stat", r[isa.A0], r[isa.A1], false)
	if err == nil {
		_, err = c.buffer(t, "stat", r[isa.A2], isa.StatSize)
	}
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	fi, err := g.Dir.Stat(name)
	if err != nil {
		return fail(t, errnoOf(err))
	}
	return t, c.putStat(t, "stat", r[isa.A2], fi)
}

func (c *cpu) sysFstat(t *Thread) (*Thread, error) {
	r := &t.R
	if _, err := c.buffer(t, "fstat", r[isa.A1], isa.StatSize); err != nil {
		return nil, err
	}
	f, e := hostFileOf(t, r[isa.A0], isa.EBADF)
	if e != 0 {
		return fail(t, e)
	}
	fi, err := f.f.Stat()
	if err != nil {
		return fail(t, errnoOf(err))
	}
	r[isa.A0] = 0
	return t, c.putStat(t, "fstat", r[isa.A1], fi)
}

func (c *cpu) sysReaddir(t *Thread) (*Thread, error) {
	r := &t.R
	b, err := c.buffer(t, "readdir", r[isa.A1], r[isa.A2])
	if err != nil {
		return nil, err
	}
	f, e := hostFileOf(t, r[isa.A0], isa.EBADF)
	switch {
	case e != 0:
		return fail(t, e)
	case !f.dir:
		return fail(t, isa.ENOTDIR)
	case f.flags&isa.OpenRead == 0:
		return fail(t, isa.EBADF)
	}
	if !f.listed {
		if e := f.list(); e != 0 {
			return fail(t, e)
		}
	}
	if f.next == len(f.names) {
		r[isa.A0] = 0
		return t, nil
	}
	name := f.names[f.next]
	if len(name) > len(b) {
		return fail(t, isa.ERANGE)
	}
	f.next++
	copy(b, name)
	t.Proc.wrote(r[isa.A1]-t.Proc.memBase, uint64(len(name)))
	r[isa.A0] = uint64(len(name))
	return t, nil
}

// list reads the names of directory f, in batches, each charged to its opener before the next
// is read, so that a huge directory costs the host no more than the memory limit allows.
func (f *hostFile) list() isa.Errno {
	for {
		batch, err := f.f.Readdirnames(readdirBatch)
		var size uint64
		for _, n := range batch {
			size += uint64(len(n)) + 16 // the string's header
		}
		if !f.opener.charge(size) {
			f.names = nil
			f.opener.uncharge(f.charged - hostFileSize)
			f.charged = hostFileSize
			return isa.ENOMEM
		}
		f.charged += size
		f.names = append(f.names, batch...)
		if err == io.EOF || err == nil && len(batch) == 0 {
			break
		}
		if err != nil {
			return errnoOf(err)
		}
	}
	slices.Sort(f.names) // the host's order differs from one file system to another
	f.listed = true
	return 0
}

func (c *cpu) sysMkdir(t *Thread) (*Thread, error) {
	g, name, e, err := c.grantPath(t, "mkdir", t.R[isa.A0], t.R[isa.A1], true)
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	return result(t, 0, g.Dir.Mkdir(name, 0o777))
}

func (c *cpu) sysUnlink(t *Thread) (*Thread, error) {
	g, name, e, err := c.grantPath(t, "unlink", t.R[isa.A0], t.R[isa.A1], true)
	if err != nil {
		return nil, err
	}
	if e != 0 {
		return fail(t, e)
	}
	return result(t, 0, g.Dir.Remove(name))
}

func (c *cpu) sysRename(t *Thread) (*Thread, error) {
	r := &t.R
	g, oldname, e, err := c.grantPath(t, "rename", r[isa.A0], r[isa.A1], true)
	if err != nil {
		return nil, err
	}
	g2, newname, e2, err := c.grantPath(t, "rename", r[isa.A2], r[isa.A3], true)
	switch {
	case err != nil:
		return nil, err
	case e != 0:
		return fail(t, e)
	case e2 != 0:
		return fail(t, e2)
	case g != g2:
		return fail(t, isa.EXDEV)
	}
	return result(t, 0, g.Dir.Rename(oldname, newname))
}

func (c *cpu) sysFsync(t *Thread) (*Thread, error) {
	f, e := hostFileOf(t, t.R[isa.A0], isa.EBADF)
	if e != 0 {
		return fail(t, e)
	}
	return result(t, 0, f.f.Sync())
}
