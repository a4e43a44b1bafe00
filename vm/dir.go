package vm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// A Grant gives the program one directory of the host, by the absolute path it sees it at.
// The file services reach no file but through a grant, and change none under a read-only one.
type Grant struct {
	Guest    string // where the program sees the directory: absolute, clean, such as "/www"
	Dir      Dir    // the directory itself
	ReadOnly bool
}

// A Dir is a granted directory: the few operations of the file services, on names relative to
// it, which must never reach outside it. RootDir adapts an *os.Root, which refuses `..` above
// it and symbolic links that lead out; a browser's playground gives a file system in memory.
// A name that would reach outside is refused with an error that wraps ErrEscape.
type Dir interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Stat(name string) (fs.FileInfo, error) // follows symbolic links
	Mkdir(name string, perm fs.FileMode) error
	Remove(name string) error // a file, or an empty directory
	Rename(oldname, newname string) error
}

// A File is an open file or directory of a Dir.
type File interface {
	io.ReadWriteSeeker
	io.ReaderAt
	io.WriterAt
	io.Closer
	Stat() (fs.FileInfo, error)
	Sync() error
	Readdirnames(n int) ([]string, error)
}

// ErrEscape is what a Dir's error wraps when the name leads outside the directory.
var ErrEscape = errors.New("path escapes from the granted directory")

// RootDir returns the Dir of root.
func RootDir(root *os.Root) Dir { return rootDir{root} }

// OpenDir opens the host directory path for a grant. It refuses a path that is itself a
// symbolic link: a grant names the directory it gives, and a link could be pointed elsewhere
// between the command line and the run. (Links above it, such as a /tmp that is a link, are
// the host's business.)
func OpenDir(path string) (*os.Root, error) {
	path = filepath.Clean(path) // "link/" would follow the link
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, &fs.PathError{Op: "grant", Path: path, Err: errors.New("is a symbolic link; grant the directory it points to")}
	case !fi.IsDir():
		return nil, &fs.PathError{Op: "grant", Path: path, Err: errors.New("not a directory")}
	}
	return os.OpenRoot(path)
}

type rootDir struct{ r *os.Root }

func (d rootDir) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := d.r.OpenFile(name, flag, perm)
	if err != nil {
		return nil, escaped(err)
	}
	return f, nil
}

func (d rootDir) Stat(name string) (fs.FileInfo, error) {
	fi, err := d.r.Stat(name)
	return fi, escaped(err)
}

func (d rootDir) Mkdir(name string, perm fs.FileMode) error {
	return escaped(d.r.Mkdir(name, perm))
}

func (d rootDir) Remove(name string) error { return escaped(d.r.Remove(name)) }

func (d rootDir) Rename(oldname, newname string) error {
	return escaped(d.r.Rename(oldname, newname))
}

// escaped marks os.Root's refusal of a name that leads out, an error of its own that only its
// text tells apart, as ErrEscape.
func escaped(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	var inner error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		inner = pe.Err
	case errors.As(err, &le):
		inner = le.Err
	}
	if inner != nil && inner.Error() == "path escapes from parent" {
		return fmt.Errorf("%w: %w", ErrEscape, err)
	}
	return err
}
