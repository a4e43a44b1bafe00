package asm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// FuzzAssembleLoad gives the assembler any text, as the file prog.s, with a fixed set of files
// that .include can reach: the libraries of programs/ and of the tests' data, and a few hostile
// ones (a file that includes itself, two that include each other, a binary file). It checks
//
//   - that Assemble returns, without a panic, within a few seconds;
//   - that a failure is a non-empty asm.ErrorList of at most 20 errors and "too many errors",
//     and that every error points inside the input: its file is prog.s or an included file, its
//     line is one of that file's lines, its column lies within the text the error shows (the
//     line itself, or the line after macro substitution for an error inside an expansion, or
//     the printable form of a line with bad bytes);
//   - that whatever assembles has one line-table entry per instruction, writes an object file
//     that reads back to the same image, passes vm.Load (or is refused for a reason the image
//     explains: no instructions, or more memory than the limit), and runs a few thousand
//     steps without an internal error;
//   - that its listing assembles back to the same object file.
//
// The assembler's own FuzzAssemble, in errors_test.go, checks the first two points with a
// looser bound on columns; this one adds the rest, which needs package vm and so lives in
// package asm_test.
func FuzzAssembleLoad(f *testing.F) {
	seeds, files, err := faSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		type outcome struct {
			img *object.Image
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			img, err := asm.Assemble("prog.s", src, &asm.Options{ReadFile: faReader(files)})
			done <- outcome{img, err}
		}()
		var o outcome
		select {
		case o = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Assemble has not returned after 10s")
		}
		if o.err != nil {
			faCheckErrors(t, src, files, o.err)
			return
		}
		faCheckImage(t, o.img)
	})
}

// faCheckErrors checks that err is a list of errors that all point inside the input.
func faCheckErrors(t *testing.T, src []byte, files map[string][]byte, err error) {
	var list asm.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %v is a %T, want a non-empty asm.ErrorList", err, err)
	}
	if len(list) > 21 || len(list) == 21 && list[20].Msg != "too many errors" {
		t.Fatalf("%d errors, want at most 20 and then \"too many errors\"", len(list))
	}
	for i, e := range list {
		if e.Msg == "too many errors" && i == len(list)-1 {
			continue
		}
		text, ok := files[e.Pos.File]
		if e.Pos.File == "prog.s" {
			text, ok = src, true
		}
		if !ok {
			t.Fatalf("error in a file that is neither the input nor an included file: %v", e)
		}
		lines := faLines(text)
		if e.Pos.Line < 1 || e.Pos.Line > len(lines) {
			t.Fatalf("error at line %d of %s, which has %d lines: %v", e.Pos.Line, e.Pos.File, len(lines), e)
		}
		line := lines[e.Pos.Line-1]
		if e.Pos.Col < 1 || e.Pos.Col > utf8.RuneCountInString(e.Source)+1 {
			t.Fatalf("error at column %d of a line of %d characters:\n%v", e.Pos.Col, utf8.RuneCountInString(e.Source), e)
		}
		// The text shown is the line, unless it is a macro's body after substitution, or the
		// line has bytes that cannot be shown as they are.
		plain := utf8.ValidString(line) && !strings.ContainsRune(line, 0) && len(line) <= 4096
		if plain && !strings.Contains(e.Msg, "(in macro '") && e.Source != line {
			t.Fatalf("error shows %q; line %d of %s is %q: %v", e.Source, e.Pos.Line, e.Pos.File, line, e)
		}
		_ = e.Error()
	}
	_ = list.Error()
}

// faLines splits a source into lines as the assembler does: without a byte-order mark, a last
// newline, or carriage returns at line ends.
func faLines(src []byte) []string {
	text := strings.TrimPrefix(string(src), "\uFEFF")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// The limits of the run of an assembled program, and the largest program whose listing is
// assembled again: a few bytes of .space can ask for 64 MiB of data, whose listing of .byte
// lines would take minutes to assemble.
const (
	faMaxMem     = 64 << 20
	faStack      = 4 << 10
	faMaxSteps   = 5000
	faMaxListed  = 64 << 10 // bytes of data
	faMaxListedN = 16 << 10 // instructions
)

// faCheckImage checks what an assembled image must satisfy.
func faCheckImage(t *testing.T, img *object.Image) {
	if len(img.Lines) != len(img.Text) {
		t.Fatalf("%d line-table entries for %d instructions", len(img.Lines), len(img.Text))
	}
	obj, err := img.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary of an assembled image: %v", err)
	}
	back, err := object.UnmarshalImage(obj)
	if err != nil {
		t.Fatalf("UnmarshalImage of an assembled image: %v", err)
	}
	// The data is compared apart: go-cmp walks a slice element by element, which for the 64 MiB
	// that a .space may make took minutes.
	if !bytes.Equal(img.Data, back.Data) {
		t.Fatalf("the object file reads back with other data (%d bytes assembled, %d read)", len(img.Data), len(back.Data))
	}
	if diff := cmp.Diff(img, back, cmpopts.IgnoreFields(object.Image{}, "Sources", "Data"), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("the object file reads back to another image (-assembled +read):\n%s", diff)
	}

	m, err := vm.Load(back, vm.Options{MaxMem: faMaxMem, StackSize: faStack, MaxSteps: faMaxSteps, VirtualClock: true, MaxProcs: 2, MaxThreads: 16})
	if err != nil {
		var le *vm.LoadError
		var lim *vm.LimitError
		need := uint64(len(img.Data)) + img.BSS + faStack
		switch {
		case len(img.Text) == 0 && errors.As(err, &le):
		case errors.As(err, &lim) && lim.Limit == vm.LimitMemory && need > faMaxMem:
		default:
			t.Fatalf("vm.Load refuses an assembled image: %v", err)
		}
	} else {
		done := make(chan error, 1)
		go func() {
			_, err := m.Run()
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Run of %d steps has not returned after 10s", faMaxSteps)
		}
		var ie *vm.InternalError
		if errors.As(err, &ie) {
			t.Fatalf("internal error: %v", ie)
		}
	}

	if len(img.Data) > faMaxListed || len(img.Text) > faMaxListedN {
		return
	}
	var listing bytes.Buffer
	if err := object.Disassemble(&listing, img); err != nil {
		t.Fatalf("Disassemble: %v", err)
	}
	again, err := asm.Assemble("listing.s", listing.Bytes(), &asm.Options{ReadFile: faReader(nil)})
	if err != nil {
		t.Fatalf("the listing does not assemble:\n%v\nlisting:\n%s", err, listing.String())
	}
	obj2, err := again.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary of the listing's image: %v", err)
	}
	if !bytes.Equal(obj, obj2) {
		diff := cmp.Diff(img, again, cmpopts.IgnoreFields(object.Image{}, "Sources"), cmpopts.EquateEmpty())
		t.Fatalf("the listing assembles to another object file (-assembled +listing):\n%s\nlisting:\n%s", diff, listing.String())
	}
}

// faReader serves .include from files only: fuzzing reads nothing from the disk.
func faReader(files map[string][]byte) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if b, ok := files[filepath.Clean(name)]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

var faCache struct {
	once  sync.Once
	seeds [][]byte
	files map[string][]byte
	err   error
}

// faSeeds returns the seed sources, every .s file of programs/, of testdata/roundtrip and of
// the txtar archives of testdata and of tests/testdata, and the files that .include can reach.
// They are read once: OSS-Fuzz's harness calls the fuzz function once an input.
func faSeeds() ([][]byte, map[string][]byte, error) {
	c := &faCache
	c.once.Do(func() { c.seeds, c.files, c.err = faCollect() })
	return c.seeds, c.files, c.err
}

func faCollect() ([][]byte, map[string][]byte, error) {
	var seeds [][]byte
	files := map[string][]byte{
		"self.s":  []byte(".include \"self.s\"\nmain: ret\n"),
		"ping.s":  []byte(".include \"pong.s\"\n"),
		"pong.s":  []byte("\tnop\n.include \"ping.s\"\n"),
		"bin.s":   []byte("\x7fSPO\x01\x00\x00\x00\x00\x00"),
		"long.s":  []byte("# " + strings.Repeat("x", 5000) + "\n"),
		"macro.s": []byte(".macro twice r\n\tadd \\r, \\r, \\r\n.endm\n"),
	}
	addFile := func(name string, b []byte) {
		if _, ok := files[name]; !ok {
			files[name] = b
		}
	}
	for _, dir := range []string{"../programs", "testdata/roundtrip"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			switch {
			case strings.HasSuffix(path, ".s"):
				seeds = append(seeds, b)
				// Programs in subdirectories include "../lib/...".
				addFile(filepath.Join("..", rel), b)
				addFile(rel, b)
			case strings.HasSuffix(path, ".inc"):
				addFile(rel, b)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, pattern := range []string{"testdata/*.txtar", "../tests/testdata/*.txtar"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			return nil, nil, err
		}
		for _, path := range paths {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				return nil, nil, err
			}
			for _, f := range ar.Files {
				if strings.HasSuffix(f.Name, ".s") || strings.HasSuffix(f.Name, ".inc") {
					seeds = append(seeds, f.Data)
					addFile(filepath.Clean(f.Name), f.Data)
				}
			}
		}
	}
	for _, s := range []string{
		".include \"self.s\"\n",
		".include \"ping.s\"\n",
		".include \"bin.s\"\n",
		".include \"long.s\"\n",
		".include \"nowhere.s\"\n",
		".include \"macro.s\"\nmain: twice a0\n\tret\n",
		".macro m\n m\n.endm\nmain: m\n",
		".macro a\n b\n.endm\n.macro b\n a\n.endm\nmain: a\n",
		"main:\tli a0, " + strings.Repeat("(", 120) + "1" + strings.Repeat(")", 120) + "\n",
		"main:\tli a0, " + strings.Repeat("-", 2000) + "1\n",
		"\ufeffmain:\tret\r\n\tnop\r\n",
		"main: ret\x00\n",
		"main: ret # \xff\xfe\n",
		"\t.data\nx:\t.space 0x10000, 'a'\n\t.text\nmain:\tla a0, x\n\tret\n",
		// The edges of the text, small, so that a mutation is a step from a wrong one: the
		// programs above all end in an instruction, and a branch to a label after the last
		// one took a 10-second run from a fresh cache to find, where long campaigns over a
		// corpus of whole programs never had.
		"main:\tbeqz a0, .end\n\thalt\n.end:\thalt\n",
		"main:\tli a0, end - main\n\tret\nend:\n",
		"main:\tjmp main + 4\n\thalt\n",
		"main:\tcall f\n\tret\nf:\tret\n",
	} {
		seeds = append(seeds, []byte(s))
	}
	if len(seeds) == 0 {
		return nil, nil, fmt.Errorf("no seed sources found under ../programs")
	}
	return seeds, files, nil
}
