package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// The spawn service's loading of a program file, in the sandbox of the main program's directory.

// spawnFile starts the program in file name, which must be in the main program's directory,
// with argv read from t's memory.
func (c *cpu) spawnFile(t *Thread, pathAddr, argvAddr, in, out uint64) (*Process, error) {
	name, err := c.cString(t, "spawn", pathAddr)
	if err != nil {
		return nil, err
	}
	img, err := c.loadFile(name)
	if err != nil {
		return nil, c.badArg(t, "spawn: %v", err)
	}
	// The arguments go on the new process's stack, so what they may take is bounded by its
	// size: it is checked as they are copied, so that an argv of a million pointers to one long
	// string costs no more than the stack would hold.
	args := []string{name}
	if argvAddr != 0 {
		size := uint64(0)
		for i := uint64(0); ; i++ {
			if !t.Proc.inMem(argvAddr+8*i, 8) {
				return nil, c.badArg(t, "spawn: argv at %#x runs out of memory", argvAddr)
			}
			a := le.Uint64(t.Proc.mem[argvAddr+8*i-t.Proc.memBase:])
			if a == 0 {
				break
			}
			s, err := c.cString(t, "spawn", a)
			if err != nil {
				return nil, err
			}
			if size += uint64(len(s)) + 1 + 8; size > c.opts.StackSize {
				return nil, c.badArg(t, "spawn: the arguments take more than the %d bytes of the new process's stack", c.opts.StackSize)
			}
			if i == 0 {
				args = args[:0]
			}
			args = append(args, s)
		}
	}
	entry, _ := isa.CodeIndex(img.Entry, len(img.Text))
	return c.startProcess(t, "spawn", img, entry, args, in, out)
}

// loadFile reads the program file name from the main program's directory, as source or object.
// Nothing outside that directory can be reached: the name must be a plain relative path
// without "..", and os.Root refuses a symbolic link that leads out.
func (c *cpu) loadFile(name string) (*object.Image, error) {
	if c.opts.ProgramDir == "" {
		return nil, fmt.Errorf("%q: this run has no program directory to spawn from", name)
	}
	if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "/") || !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%q: a program must be named by a path inside the main program's directory", name)
	}
	root, err := os.OpenRoot(c.opts.ProgramDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	src, err := readRegular(root, name, maxProgramFile)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%q: %v", name, err)
	}
	if !object.IsObject(src) && c.opts.Assemble == nil {
		return nil, fmt.Errorf("%q is not an object file, and this run has no assembler for a source (Options.Assemble)", name)
	}
	img, err := object.Load(name, bytes.NewReader(src), int64(len(src)), func(name string, r io.Reader) (*object.Image, error) {
		return c.opts.Assemble(name, r, func(inc string) ([]byte, error) { return readRegular(root, inc, maxIncludeFile) })
	})
	var oe *object.ObjectError
	switch {
	case errors.As(err, &oe):
		return nil, fmt.Errorf("%q: %v", name, err)
	case err != nil:
		return nil, fmt.Errorf("%q does not assemble:\n%v", name, err)
	}
	return img, validate(img)
}

// maxIncludeFile is the largest file a spawned source may include: the assembler's limit on a
// whole source and its includes (asm.MaxSourceSize), which it would refuse anyway, past which
// a file is not even read.
const maxIncludeFile = 4 << 20

// maxProgramFile is the largest program file spawn reads: 256 MiB, room for 64 million
// instructions and more data than a program can have with the default --max-mem.
const maxProgramFile = 256 << 20

// readRegular reads file name under root, if it is a regular file of at most max bytes. Anything
// else is refused before it is read: a device such as /dev/zero never ends, and the open of a
// named pipe would block the processor, under the kernel lock, until a writer came.
func readRegular(root *os.Root, name string, max int64) ([]byte, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", fileKind(fi.Mode()))
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1)) // a file replaced after the Stat still stops here
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes, the most a program file may have", max)
	}
	return b, nil
}

// fileKind names the kind of file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// cString reads the NUL-terminated string at addr from t's memory.
func (c *cpu) cString(t *Thread, name string, addr uint64) (string, error) {
	p := t.Proc
	if !p.inMem(addr, 1) {
		return "", c.badArg(t, "%s: address %#x is not inside memory", name, addr)
	}
	s := p.mem[addr-p.memBase:]
	i := bytesIndexNUL(s, 4096)
	if i < 0 {
		return "", c.badArg(t, "%s: no NUL within 4096 bytes of %#x", name, addr)
	}
	return string(s[:i]), nil
}

func bytesIndexNUL(s []byte, most int) int {
	for i := 0; i < len(s) && i < most; i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}
