package object

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Load makes the image of the program that r reads, named name: an object file, which its
// first bytes tell, or else a source, which goes to assemble. It is the one loader of the
// spindle command and of the spawn service, so that a program file means the same to both.
//
// The object package has no assembler: the caller gives one (asm.AssembleReader), or nil to
// refuse sources. size, if more than 0, is the file's size, so that an object file is read into
// a buffer made once (one that grew by doubling copied a large data section several times
// over, each copy touching fresh pages). An object file is checked as UnmarshalImage checks it;
// its errors are *ObjectError values, a source's are assemble's, and a read's are the reader's.
func Load(name string, r io.Reader, size int64, assemble func(name string, r io.Reader) (*Image, error)) (*Image, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(len(objMagic)); !IsObject(head) {
		if assemble == nil {
			return nil, fmt.Errorf("%s is not an object file, and there is no assembler for a source", name)
		}
		return assemble(name, br)
	}
	var b bytes.Buffer
	if size > 0 {
		b.Grow(int(min(size, maxObjectFile)) + bytes.MinRead)
	}
	if _, err := b.ReadFrom(br); err != nil {
		return nil, err
	}
	return UnmarshalImage(b.Bytes())
}

// maxObjectFile bounds the buffer Load makes from a file's size: an object holds at most 1 GiB
// of data and 64 MiB of text, and a larger file is refused as it is read.
const maxObjectFile = 2 << 30
