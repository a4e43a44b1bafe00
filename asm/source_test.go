package asm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// endless is a reader of a file that never ends, such as /dev/zero: it counts what it gives.
type endless struct {
	b    byte
	read int
}

func (r *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	r.read += len(p)
	return len(p), nil
}

// assembleReaderErrors assembles the source that r reads, which must fail, and returns the
// errors as text.
func assembleReaderErrors(t *testing.T, r *endless) string {
	t.Helper()
	_, err := AssembleReader("prog.s", r, nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	return list.Error()
}

// TestEndlessLine checks that a line that never ends is refused once the source passes its size
// limit, having kept no more than a line's worth of it.
func TestEndlessLine(t *testing.T) {
	r := &endless{b: 'x'}
	want := fmt.Sprintf("prog.s:1:1: line is too long (the limit is 4096 bytes) and passes the source's limit of %d bytes; the rest is not read\n    %s ...\n    ^", MaxSourceSize, strings.Repeat("x", 60))
	if d := cmp.Diff(want, assembleReaderErrors(t, r)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// The reader reads ahead by at most one buffer.
	if r.read > MaxSourceSize+2*maxLineLen {
		t.Errorf("read %d bytes of the source, want at most %d", r.read, MaxSourceSize+2*maxLineLen)
	}
}

// TestEndlessLines checks that a source of endless lines stops at the line limit, and that
// nothing is laid out: a program cut short would have labels undefined.
func TestEndlessLines(t *testing.T) {
	r := &endless{b: '\n'}
	want := fmt.Sprintf("prog.s:%d:1: source has more than %d lines, the limit with the files it includes; the rest is not read", MaxSourceLines+1, MaxSourceLines)
	if d := cmp.Diff(want, assembleReaderErrors(t, r)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if r.read > MaxSourceLines+2*maxLineLen {
		t.Errorf("read %d bytes of the source, want at most %d", r.read, MaxSourceLines+2*maxLineLen)
	}
}

// TestSourceSizeCountsIncludes checks that the size limit counts the main file and every file
// it includes together, and that the error is at the line where the source passes it. The
// assembly is held to 4 MiB, so that the source need not be as large as the real limit.
func TestSourceSizeCountsIncludes(t *testing.T) {
	line := "\tnop # " + strings.Repeat("-", 90) + "\n" // 98 bytes
	lib := []byte(strings.Repeat(line, 30000))          // 2,940,000 bytes
	src := "\tj main\n\t.include \"lib.s\"\n\t.include \"lib.s\"\nmain:\tret\n"
	limits := maxSource
	limits.size = 4 << 20
	list := assembleErrorsWithin(t, src, map[string][]byte{"lib.s": lib}, limits)
	// 8 bytes of j and 18 of each .include, 30,000 lines of lib.s, then 12,799 lines of it
	// again make 4,194,346 bytes: 12,799 is the first line past 4 MiB.
	want := `lib.s:12799:1: source is larger than 4194304 bytes (4 MiB), the limit with the files it includes; the rest is not read
    nop # ` + strings.Repeat("-", 90) + `
    ^`
	if d := cmp.Diff(want, list.Error()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestSourceLines checks how a file is split into lines: a byte order mark at the start is
// dropped, a line may end in "\r\n", and a line's length is counted without its end also when
// the end falls between two reads.
func TestSourceLines(t *testing.T) {
	img := assemble(t, "\ufeffmain:\tnop\r\n\tnop # "+strings.Repeat("x", maxLineLen-7)+"\r\n\tret")
	if d := cmp.Diff([]string{"nop", "nop", "ret"}, textOf(img)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, n := range []int{maxLineLen + 1, maxLineLen + 2} {
		src := "\tnop # " + strings.Repeat("x", n-7) + "\r\n\tnop\n"
		list := assembleErrors(t, src, nil)
		want := fmt.Sprintf("line is too long (%d bytes; the limit is 4096)", n)
		if len(list) != 1 || list[0].Msg != want || list[0].Pos.Line != 1 {
			t.Errorf("a line of %d bytes and \\r\\n: got %v, want one error at line 1: %s", n, list, want)
		}
	}
	// A last line ended by "\r" alone (a FuzzAssembleLoad finding): the "\r" is its end, not
	// part of its text, as in the line before "\r\n".
	list := assembleErrors(t, "0000000\r", nil)
	if len(list) != 1 || list[0].Source != "0000000" {
		t.Errorf("a last line ended by \\r: got %v, want one error that shows the line without it", list)
	}
}

// TestIncludeNotRegular checks that .include refuses what is not a regular file: a device such
// as /dev/zero, which never ends, and a directory.
func TestIncludeNotRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero:", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.s")
	src := "\t.include \"/dev/zero\"\n\t.include \"lib\"\nmain:\tret\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := AssembleFile(path)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Pos.String()+": "+e.Msg)
	}
	want := []string{
		path + ":1:11: cannot include '/dev/zero': not a regular file",
		path + ":2:11: cannot include '" + filepath.Join(dir, "lib") + "': is a directory",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestIncludeLarge checks that a regular file larger than the source limit is read only to the
// limit. The assembly is held to 4 MiB, so that the file need not be as large as the real limit.
func TestIncludeLarge(t *testing.T) {
	const limit = 4 << 20
	dir := t.TempDir()
	big := strings.Repeat("# "+strings.Repeat("-", 1000)+"\n", limit/1003+1)
	if err := os.WriteFile(filepath.Join(dir, "big.s"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prog.s")
	src := "\t.include \"big.s\"\nmain:\tret\n"
	a := newAssembler(nil)
	a.limits.size = limit
	_, err := a.run(path, strings.NewReader(src), []byte(src))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %v, want one error", err)
	}
	// 18 bytes of the .include line and 4182 lines of 1003 bytes are 4,194,564 bytes.
	want := filepath.Join(dir, "big.s") + ":4182:1"
	if got := list[0].Pos.String(); got != want || !strings.HasPrefix(list[0].Msg, "source is larger than 4194304 bytes") {
		t.Errorf("got %v, want an error at %s that the source is too large", list[0], want)
	}
}
