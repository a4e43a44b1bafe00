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
	if size > MaxFileSize {
		return nil, tooLarge(size)
	}
	var b bytes.Buffer
	if size > 0 {
		b.Grow(int(size) + bytes.MinRead)
	}
	// A file that grows after its size was taken, or a pipe, is still read only to the limit.
	if _, err := b.ReadFrom(io.LimitReader(br, MaxFileSize+1)); err != nil {
		return nil, err
	}
	if b.Len() > MaxFileSize {
		return nil, tooLarge(int64(b.Len()))
	}
	return UnmarshalImage(b.Bytes())
}

// MaxFileSize is the largest object file: 2 GiB, more than any program needs (1 GiB of data,
// 64 MiB of text and 128 MiB of line table at the most). A larger file is refused before it is
// read, so that a file of any size costs the host no more than this to refuse.
const MaxFileSize = 2 << 30

func tooLarge(size int64) error {
	return &ObjectError{Offset: 0, Msg: fmt.Sprintf("the file has %d bytes, more than the most an object file may have, %d", size, MaxFileSize)}
}
