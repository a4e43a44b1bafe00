package asm

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
)

// The source of one assembly, the main file and every file it includes counted together (a file
// included twice counts twice), may hold at most MaxSourceLines lines, MaxSourceSize bytes and
// MaxSourceTokens tokens, of which at most MaxShapeTokens in lines that are parsed in full.
// The assembler reads a file line by line and keeps at most one line of maxLineLen bytes: the
// rest of a longer line is read and dropped, so what a file costs before it is refused is
// bounded by these limits, whatever its size.
//
// A million lines of code are accepted: a compiler that emits Spindle assembly writes that
// many. A line keeps its text and 64 bytes, and is lexed three times; a generated program of a
// million distinct lines (BenchmarkAssembleLines) took about 160 bytes of peak heap a line and
// 2 s on the project's machine, loaded. The largest program in programs/ has 236 lines. The size allows 64 bytes a line on average, and the tokens 8, the line's end counted
// as one (the programs in programs/ have 3.6, the generated program 5.4); macro expansions
// count too.
//
// Lines and tokens do not bound the work of parsing: participle parses one line of each shape,
// and takes the form of the others from it (form.go), but a line of a new shape costs some 2 µs
// a token, and its form some 60 bytes a token for as long as the line is kept. A source made to
// have a new shape on every line, 8 million tokens of them, took 20 s and 1.1 GB; a program has
// a few hundred shapes. So the tokens that participle parses, of a line of a new shape or of a
// line with a syntax error, are counted against MaxShapeTokens: at that limit, such a source
// takes about 2.5 s and 140 MB.
const (
	MaxSourceLines  = 1 << 20
	MaxSourceSize   = 64 << 20 // bytes
	MaxSourceTokens = 8 << 20
	MaxShapeTokens  = 1 << 20
)

// sourceLimits are the limits that an assembly holds its source to: the constants above, but
// for tests of what happens at them.
type sourceLimits struct {
	lines, size, tokens, shapeTokens int
}

var maxSource = sourceLimits{MaxSourceLines, MaxSourceSize, MaxSourceTokens, MaxShapeTokens}

var (
	errNotRegular = errors.New("not a regular file")
	errDirectory  = errors.New("is a directory")
)

// openSource opens a file that .include names, unless it is something other than a regular
// file: a device such as /dev/zero never ends, and a named pipe blocks its reader. The check
// comes before the open, which would block on a pipe.
func openSource(path string) (io.ReadCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.IsDir():
		return nil, errDirectory
	case !fi.Mode().IsRegular():
		return nil, errNotRegular
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// A file that grows, or that was replaced after the Stat, is still read only to the limit.
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, MaxSourceSize+1), f}, nil
}

// A lineReader splits a file into lines as it reads it, and charges each line and each byte to
// the assembly's budget.
type lineReader struct {
	a    *assembler
	br   *bufio.Reader
	num  int           // the number of the last line read
	line []byte        // the last line read, up to maxLineLen+1 bytes of it
	keep *bytes.Buffer // the text read, for object.Image.Sources; nil if the caller has it
	err  error         // the error that ended the file early, if one did
}

func (a *assembler) newLineReader(r io.Reader, keep *bytes.Buffer) *lineReader {
	return &lineReader{a: a, br: bufio.NewReaderSize(r, maxLineLen+2), keep: keep}
}

// A rawLine is a line as read, without its end ("\n" or "\r\n").
type rawLine struct {
	text string // the line, or its first maxLineLen+1 bytes if it is longer
	size int    // its length in bytes; when over is overSize, the bytes read of it
	over budget // the budget that ran out at this line, or 0
}

type budget int

const (
	overLines budget = iota + 1
	overSize
)

// next reads the next line. It returns false at the end of the file, when reading fails (r.err
// says how), and after the budget ran out.
func (r *lineReader) next() (rawLine, bool) {
	if r.a.sourceCut {
		return rawLine{}, false
	}
	r.line = r.line[:0]
	size := 0        // bytes of the line, its end included
	var tail [2]byte // the last two of them
	var over budget
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull && err != io.EOF {
			r.err = err
			return rawLine{}, false
		}
		if err == io.EOF && size+len(chunk) == 0 {
			return rawLine{}, false
		}
		if size == 0 {
			r.num++
		}
		size += len(chunk)
		r.a.sourceBytes += len(chunk)
		if room := maxLineLen + 1 - len(r.line); room > 0 {
			r.line = append(r.line, chunk[:min(room, len(chunk))]...)
		}
		switch n := len(chunk); {
		case n >= 2:
			tail = [2]byte{chunk[n-2], chunk[n-1]}
		case n == 1:
			tail = [2]byte{tail[1], chunk[0]}
		}
		if r.a.sourceBytes > r.a.limits.size {
			over = overSize // and the line may go on
			break
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	switch {
	case tail[1] == '\n':
		size--
		if tail[0] == '\r' {
			size--
		}
	case tail[1] == '\r' && over == 0:
		size-- // the file's last line, ended by "\r" alone: the "\r" is its end, as before "\n"
	}
	line := r.line[:min(len(r.line), size)]
	if r.num == 1 && bytes.HasPrefix(line, []byte("\uFEFF")) {
		line = line[len("\uFEFF"):]
		size -= len("\uFEFF")
	}
	if r.keep != nil {
		r.keep.Write(line)
		r.keep.WriteByte('\n')
	}
	r.a.sourceLines++
	if over == 0 && r.a.sourceLines > r.a.limits.lines {
		over = overLines
	}
	if over != 0 {
		r.a.sourceCut = true
	}
	return rawLine{text: r.a.text.add(line), size: size, over: over}, true
}

// A textArena keeps the text of lines in large blocks, many lines to a string, so that a line
// costs its bytes and not an allocation of its own.
type textArena struct {
	b strings.Builder
}

// add returns a string of p's bytes. The bytes of a block are never written again: a new block
// is started when p does not fit in what is left of the last, so every string stays valid.
func (t *textArena) add(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if t.b.Cap()-t.b.Len() < len(p) {
		// Blocks double from 4 KB to 256 KB, so that a small source takes little.
		size := min(max(2*t.b.Cap(), 4<<10), 256<<10)
		t.b = strings.Builder{}
		t.b.Grow(max(size, len(p)))
	}
	start := t.b.Len()
	t.b.Write(p)
	return t.b.String()[start:]
}
