package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/spindle-vm/spindle/asm"
)

// A sourceDir finds the source lines that a report quotes for a program whose image does not
// hold its sources, as an object file's does not: it has only the names in its file table.
//
// Those names are the object's, not the user's, so they are looked up with care. An object may
// name /dev/zero, which never ends; a named pipe, which blocks whoever opens it; /dev/stdin,
// which would swallow the program's own input; or /etc/passwd, which the report would then
// print. So a file is read only when a report needs one of its lines (vm.Options.SourceLine),
// and only if it is a regular file of at most asm.MaxSourceSize bytes inside one directory: the
// object's, or the one --source-dir names. os.Root keeps the lookup inside it, refusing
// absolute names, "..", and symbolic links that lead out.
type sourceDir struct {
	mu     sync.Mutex          // the VM asks for lines from any processor
	files  map[string][]string // the lines of the files read, by the name asked for
	dir    string
	root   *os.Root
	err    error // from opening root, kept so that a report does not try again for each line
	opened bool
}

// line returns line n (1-based) of the source that an image calls name: "" if the file is
// shorter, and a note that points to --source-dir if the file is not there or is refused. The name is tried as it is, and then its last element
// alone, so that an object assembled as "src/prog.s" or "/home/x/prog.s" still finds prog.s
// beside it.
func (s *sourceDir) line(name string, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines, ok := s.files[name]
	if !ok {
		lines = s.read(name)
		if len(s.files) == maxCachedSources {
			clear(s.files) // a report names few files; a hostile one many
		}
		if s.files == nil {
			s.files = make(map[string][]string)
		}
		s.files[name] = lines
	}
	if lines == nil {
		// Say why there is no text, and what to do about it: an object built into another
		// directory than its sources is common.
		return fmt.Sprintf("(no source file %s in %s; see --source-dir)", filepath.Base(name), s.dir)
	}
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// maxCachedSources bounds the files whose lines are kept: at most 4 MiB each.
const maxCachedSources = 4

// read returns the lines of the source an image calls name, or none if the file is not there
// or is refused. A report of twenty threads asks for forty lines, often of one file: it is read
// once.
func (s *sourceDir) read(name string) []string {
	f := s.open(name)
	if f == nil && filepath.Base(name) != name {
		f = s.open(filepath.Base(name))
	}
	if f == nil {
		return nil
	}
	defer f.Close()
	// A file that grows after the checks of open is still read only to the limit.
	b, err := io.ReadAll(io.LimitReader(f, asm.MaxSourceSize))
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return lines
}

// open opens name inside the directory if it is a regular file within the size limit. The file
// is checked before the open, so that a device is not even opened (opening some has effects of
// its own), and again on the open file, since the name may have changed in between; the open
// does not block, so that a named pipe put in the way cannot hold it up.
func (s *sourceDir) open(name string) *os.File {
	if name == "" || !filepath.IsLocal(name) {
		return nil
	}
	if !s.opened {
		s.opened = true
		s.root, s.err = os.OpenRoot(s.dir)
	}
	if s.err != nil {
		return nil
	}
	if fi, err := s.root.Stat(name); err != nil || !sourceFile(fi) {
		return nil
	}
	f, err := s.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !sourceFile(fi) {
		f.Close()
		return nil
	}
	return f
}

func sourceFile(fi os.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Size() <= asm.MaxSourceSize
}

// close releases the directory, if a report opened it.
func (s *sourceDir) close() {
	if s.root != nil {
		s.root.Close()
	}
}
