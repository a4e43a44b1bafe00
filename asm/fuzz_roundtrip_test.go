package asm_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// FuzzRoundTrip checks the promises of a listing: for any object file that UnmarshalImage
// accepts, Disassemble gives text that assembles; and for one that the assembler could have
// written, that text assembles to the identical bytes.
//
// Which object files could the assembler have written? UnmarshalImage accepts exactly one
// encoding of each image it accepts, so the question is about the image, and rtCanonical
// answers it. Of what a listing cannot carry back (docs/object.md, "Listings"), it checks:
//
//   - the constant pool: the assembler numbers constants in the order the text first uses them,
//     keeps one of each value, and has none that no lk uses. So the pool indexes of the lk
//     instructions, read in text order, must first appear as 0, 1, 2, ..., every index must
//     appear, and no two constants may be equal.
//   - the file table: the assembler lists a file when an instruction first comes from it. So
//     the file indexes of the line table, read in order, must first appear as 0, 1, 2, ...,
//     and every file must appear.
//
// Everything else an accepted image holds must survive: symbols (however they are named, if
// UnmarshalImage accepts them), the entry point, data, bss, line numbers. An input that passes
// both checks and does not come back identical is a finding, and so is any accepted input whose
// listing does not assemble at all.
func FuzzRoundTrip(f *testing.F) {
	seeds, err := rtSeeds()
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range seeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := object.UnmarshalImage(b)
		if err != nil {
			return
		}
		var listing bytes.Buffer
		if err := object.Disassemble(&listing, img); err != nil {
			t.Fatalf("Disassemble: %v", err)
		}
		again, err := asm.Assemble("listing.s", listing.Bytes(), &asm.Options{ReadFile: rtNoFiles})
		if err != nil {
			t.Fatalf("the listing does not assemble:\n%v\nlisting:\n%s", err, listing.String())
		}
		if !rtCanonical(img) {
			return
		}
		out, err := again.MarshalBinary()
		if err != nil {
			t.Fatalf("the listing's image cannot be written: %v\nlisting:\n%s", err, listing.String())
		}
		if !bytes.Equal(out, b) {
			diff := cmp.Diff(img, again, cmpopts.IgnoreFields(object.Image{}, "Sources"), cmpopts.EquateEmpty())
			t.Fatalf("the listing assembles to another object file (-original +listing):\n%s\nlisting:\n%s", diff, listing.String())
		}
	})
}

// rtCanonical reports whether img is an image the assembler could have made, as far as its
// constant pool and its file table tell.
func rtCanonical(img *object.Image) bool {
	next := 0
	for _, w := range img.Text {
		if w.Op() != isa.LK {
			continue
		}
		switch k := int(w.Uimm20()); {
		case k == next:
			next++
		case k > next:
			return false
		}
	}
	if next != len(img.Consts) {
		return false
	}
	seen := make(map[uint64]bool, len(img.Consts))
	for _, k := range img.Consts {
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	next = 0
	for _, l := range img.Lines {
		switch f := int(l.File); {
		case f == next:
			next++
		case f > next:
			return false
		}
	}
	return next == len(img.Files)
}

func rtNoFiles(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

var rtCache struct {
	once  sync.Once
	seeds [][]byte
	err   error
}

// rtSeeds returns the object files of every .s file under programs/ and testdata/roundtrip,
// assembled once: OSS-Fuzz's harness calls the fuzz function once an input.
func rtSeeds() ([][]byte, error) {
	c := &rtCache
	c.once.Do(func() {
		for _, dir := range []string{"../programs", "testdata/roundtrip"} {
			err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(path, ".s") {
					return err
				}
				img, err := asm.AssembleFile(path)
				if err != nil {
					return nil // a program being written; the tests of programs/ report it
				}
				b, err := img.MarshalBinary()
				if err == nil {
					c.seeds = append(c.seeds, b)
				}
				return nil
			})
			if err != nil {
				c.err = err
				return
			}
		}
		if len(c.seeds) == 0 {
			wd, _ := os.Getwd()
			c.err = &fs.PathError{Op: "seed", Path: filepath.Join(wd, "../programs"), Err: fs.ErrNotExist}
		}
	})
	return c.seeds, c.err
}
