// Package object is a Spindle program as the assembler makes it and the VM loads it: an Image
// (its text, constant pool, data, symbols and line table), the object-file format that stores
// one (.spo, docs/object.md), and the disassembler that prints one in the assembly syntax,
// which reports of traps use too. The assembler (asm) makes images and the VM (vm) runs them;
// both import this package, and neither imports the other.
package object

import "github.com/spindle-vm/spindle/isa"

// An Image is an assembled program: what an object file holds and what the VM loads.
//
// Text is instruction i at address isa.TextBase + 4*i. Data is loaded at isa.DataBase and is
// followed by BSS zero bytes. Consts is the constant pool that lk indexes.
type Image struct {
	Text    []isa.Instr
	Consts  []uint64
	Data    []byte
	BSS     uint64
	Entry   uint64   // code address where the main thread starts
	Symbols []Symbol // sorted by address, then name
	Files   []string // source file names that Lines refers to
	Lines   []Line   // one per instruction: where it came from

	// Sources holds the text of each source file, by name, when the image was assembled in this
	// process. It is not stored in object files; a trap report falls back to reading the file.
	Sources map[string][]byte
}

// A Symbol is a label: a name for an address in the text or data.
type Symbol struct {
	Name string // a local label has its full name, "scope.name"
	Addr uint64
}

// A Line is the source position of an instruction.
type Line struct {
	File uint32 // index into Image.Files
	Line uint32 // 1-based line number; 0 if unknown
}
