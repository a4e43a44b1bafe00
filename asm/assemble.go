// Package asm turns Spindle assembly text into an object.Image, the program that the VM loads.
// The image, its object files and its disassembly are package object's. The language is
// described in docs/assembly.md.
//
// # How the assembler works
//
// Assembly proceeds in three steps, each of which collects every error it finds rather than
// stopping at the first:
//
//  1. Lines. The source is read line by line, within limits on its size (source.go), and each
//     line is checked for bad bytes (not UTF-8, a NUL, too long). .include and macro
//     invocations are expanded here, at the level of lines, and each resulting line is lexed
//     and parsed on its own by a participle grammar into its labels and one statement, so that
//     a wrong line costs only itself (lines.go, grammar.go). Participle parses one line of each
//     shape; the others take its form (form.go).
//  2. Layout. Every statement's size is known from its text alone (li is always one
//     instruction, whether it becomes li or lk), so one pass gives every statement and label
//     its address (resolve.go).
//  3. Encoding. A second pass evaluates the expressions (expr.go), picks the instructions that
//     each pseudo-instruction stands for, and builds the words with isa.Encode (encode.go).
//
// A line keeps only its text and its form between the steps: each pass lexes it again and
// builds its statement from the tokens (stmt.go), so that a source of a million lines fits in
// some 160 bytes a line.
package asm

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/spindle-vm/spindle/internal/suggest"
	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Options tune Assemble.
type Options struct {
	// ReadFile reads the files that .include names. A name is relative to the directory of the
	// including file, or absolute. nil means to read the file from the host's file system,
	// refusing anything that is not a regular file (a directory, a device such as /dev/zero, a
	// named pipe) and reading at most MaxSourceSize bytes of it.
	ReadFile func(name string) ([]byte, error)
}

// Assemble assembles the program in src, whose file name is used in messages, in the image's
// line table and to find included files. If the source has errors, the error is an ErrorList
// holding all of them (up to a limit) in source order.
func Assemble(filename string, src []byte, opts *Options) (*object.Image, error) {
	return assembleFrom(filename, bytes.NewReader(src), src, opts)
}

// AssembleReader is Assemble for a source read from r. It reads r line by line and only as far
// as the limits on the source allow (MaxSourceSize, MaxSourceLines), so that a source of any
// size, even one that never ends, is refused cheaply. An error reading r is reported as an
// Error in the ErrorList.
func AssembleReader(filename string, r io.Reader, opts *Options) (*object.Image, error) {
	return assembleFrom(filename, r, nil, opts)
}

// AssembleFile reads and assembles the file at path. A file that cannot be opened gives the
// error from the file system.
func AssembleFile(path string) (*object.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return AssembleReader(path, f, nil)
}

// assembleFrom assembles the source that r reads, whose text is src if the caller has it.
func assembleFrom(filename string, r io.Reader, src []byte, opts *Options) (*object.Image, error) {
	return newAssembler(opts).run(filename, r, src)
}

// newAssembler is apart from run so that a test can read what an assembly counted.
func newAssembler(opts *Options) *assembler {
	a := &assembler{
		limits:   maxSource,
		scopes:   []string{""},
		open:     openSource,
		sources:  map[string][]byte{},
		macros:   map[string]*asmMacro{},
		syms:     map[string]*asmSymbol{},
		constIdx: map[uint64]int{},
		fileIdx:  map[string]uint32{},
	}
	if opts != nil && opts.ReadFile != nil {
		read := opts.ReadFile
		a.open = func(name string) (io.ReadCloser, error) {
			b, err := read(name)
			return io.NopCloser(bytes.NewReader(b)), err
		}
	}
	return a
}

// run assembles the source that r reads, whose text is src if the caller has it.
func (a *assembler) run(filename string, r io.Reader, src []byte) (*object.Image, error) {
	main := filepath.Clean(filename)
	var keep *bytes.Buffer
	if src == nil {
		keep = new(bytes.Buffer)
	}
	a.processFile(filename, r, keep, []string{main})
	if keep != nil {
		src = keep.Bytes()
	}
	a.sources[filename] = src
	// A source that was cut short leaves labels undefined and macros open: the errors that
	// layout would find are not worth reporting.
	if !a.sourceCut {
		a.layout()
		a.encode()
		a.finish()
	}
	if err := a.errorList(filename); err != nil {
		return nil, err
	}
	return a.img, nil
}

// mainLookalike returns the label of code after the first instruction whose name is a likely
// typo of main ("mian", "Main"), or nil.
func (a *assembler) mainLookalike() *asmSymbol {
	var names []string
	for name, s := range a.syms {
		if s.label && s.sec == secText && s.off > 0 && !strings.Contains(name, ".") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if name := suggest.Closest("main", names); name != "" {
		return a.syms[name]
	}
	return nil
}

// assembler holds the state of one assembly.
type assembler struct {
	open  func(path string) (io.ReadCloser, error) // opens a file that .include names
	diags []asmDiag
	seq   int
	// The earliest lines with errors, at most maxErrors of them, by seq: past them no error is
	// reported, and none needs a suggestion.
	firstErrLines []int
	errorsDropped bool // an error was found past them

	// The source read so far, against the limits: MaxSourceSize, MaxSourceLines,
	// MaxSourceTokens and MaxShapeTokens.
	limits       sourceLimits
	sourceBytes  int
	sourceLines  int
	sourceTokens int  // of the source and of the macro expansions
	shapeTokens  int  // of the lines that participle parsed
	sourceCut    bool // a limit was passed, or a file could not be read: reading stopped

	// Lines and macros.
	lines         lineBlocks    // the lines, in order, after .include and macro expansion
	files         []string      // the names of the files the lines come from
	toks          []lexer.Token // the tokens of the line being worked on (lex, statement)
	forms         formCache
	text          textArena // the text of the lines read
	sources       map[string][]byte
	macros        map[string]*asmMacro // by lower-case name
	expansions    int                  // the counter behind \@
	expandedBytes int
	expansionCut  bool

	// Layout.
	syms     map[string]*asmSymbol
	sec      section
	scope    string   // the last global label
	scopes   []string // every scope so far, the first ""; lines hold an index
	scopeIdx uint32   // scope's
	textLen  uint64   // instructions
	dataLen  uint64   // bytes
	bssLen   uint64
	bssAlign uint64   // the largest .align in .bss
	laidOut  bool     // addresses in .bss are known
	entry    *srcLine // the .entry, and its operand
	entryArg operand
	tooLarge [numSections]bool

	// Encoding.
	img      *object.Image
	constIdx map[uint64]int
	fileIdx  map[string]uint32
	locSet   bool
	locFile  string
	locLine  uint32
}

// finish sets the entry point and builds the symbol table.
func (a *assembler) finish() {
	img := a.img
	img.Sources = a.sources
	n := len(img.Text)
	img.Entry = isa.TextBase
	// Whether the entry point is an instruction is checked only in a program without other
	// errors: a line dropped for an error elsewhere can leave a label at the end of the text.
	clean := len(a.diags) == 0
	switch {
	case a.entry != nil:
		l, arg := a.entry, a.entryArg
		env := a.envAt(l)
		if v, ok := a.eval(arg.x, env); ok {
			// An empty text may still name its start, as a listing of it does.
			if _, ok := isa.CodeIndex(uint64(v), n); !ok && !(n == 0 && v == isa.TextBase) && clean {
				a.errorf(l, arg.col, "entry point '%s' (%#08x) is not the address of an instruction", arg.text, uint64(v))
			}
			img.Entry = uint64(v)
		}
	case a.syms["main"] != nil && a.syms["main"].label:
		s := a.syms["main"]
		addr, _ := a.addrOf(s.sec, s.off)
		if _, ok := isa.CodeIndex(uint64(addr), n); !ok && clean {
			a.errorf(s.line, s.col, "entry point 'main' is not the address of an instruction (it must label code in .text, or use .entry)")
		}
		img.Entry = uint64(addr)
	default:
		// Without main or .entry a program starts at its first instruction. A student who
		// misspells main gets a program that silently starts elsewhere than meant: say so when
		// a label that looks like main marks other code.
		if s := a.mainLookalike(); s != nil && clean {
			a.errorf(s.line, s.col, "no label 'main': the program would start at its first instruction, not at '%s'; name it main, or say .entry %s", s.name, s.name)
		}
	}
	for _, s := range a.syms {
		if !s.label {
			continue
		}
		addr, _ := a.addrOf(s.sec, s.off)
		img.Symbols = append(img.Symbols, object.Symbol{Name: s.name, Addr: uint64(addr)})
	}
	sort.Slice(img.Symbols, func(i, j int) bool {
		si, sj := img.Symbols[i], img.Symbols[j]
		if si.Addr != sj.Addr {
			return si.Addr < sj.Addr
		}
		return si.Name < sj.Name
	})
}
