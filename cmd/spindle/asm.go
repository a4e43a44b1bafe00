package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/object"
)

var asmCmd = &command{
	name:  "asm",
	args:  "[flags] FILE",
	short: "assemble a program into an object file",
	long: `Asm assembles FILE and writes the object file OUT, by default FILE with its extension
replaced by .spo. The object holds the text, data and bss sections, the entry point, the symbol
table and a line table that maps each instruction to its source line.

Flags:
  -o OUT               the object file to write
` + profileHelp + `
Exit status: 0 on success; 65 for assembly errors (all of them are reported, each with its
file:line:col, the line and a caret); 66 when FILE cannot be read; 73 when OUT or a profile
cannot be written.
`,
}

var disasmCmd = &command{
	name:  "disasm",
	args:  "FILE",
	short: "print an object file as assembly",
	long: `Disasm prints the object file FILE (or assembles FILE first, if it is source) as an assembly
listing, with labels, the source line of each instruction, and each instruction's address and
encoding in a comment. Assembling the listing gives back the identical object file.

Exit status: 0 on success; 65 when FILE is not a valid object file or does not assemble; 66 when
it cannot be read; 73 when the standard output cannot be written.
`,
}

func init() {
	asmCmd.run = runAsm
	disasmCmd.run = runDisasm
}

func runAsm(args []string, io stdio) (status int) {
	fs := flag.NewFlagSet("asm", flag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	out := fs.String("o", "", "")
	profile := addProfileFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(io, asmCmd, "%v", err)
	}
	if len(pos) != 1 {
		return usageError(io, asmCmd, "want exactly one source file, got %d", len(pos))
	}
	endProfiles, code := profile.start(io)
	if endProfiles == nil {
		return code
	}
	defer func() { status = endProfiles(status) }()
	path := pos[0]
	f, br, err := openProgram(path)
	if err != nil {
		fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
		return exitNoInput
	}
	defer f.Close()
	img, err := asm.AssembleReader(path, br, nil)
	if err != nil {
		fmt.Fprintln(io.err, strings.TrimRight(err.Error(), "\n"))
		return exitDataErr
	}
	b, err := img.MarshalBinary()
	if err != nil {
		fmt.Fprintf(io.err, "spindle: %s: %v\n", path, err)
		return exitDataErr
	}
	if *out == "" {
		*out = strings.TrimSuffix(path, filepath.Ext(path)) + ".spo"
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
		return exitCantCreat
	}
	return 0
}

func runDisasm(args []string, io stdio) int {
	fs := flag.NewFlagSet("disasm", flag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(io, disasmCmd, "%v", err)
	}
	if len(pos) != 1 {
		return usageError(io, disasmCmd, "want exactly one file, got %d", len(pos))
	}
	img, code := loadProgram(pos[0], io)
	if img == nil {
		return code
	}
	if err := object.Disassemble(io.out, img); err != nil {
		if status, ok := tellWriteError(io, err); ok {
			return status
		}
		fmt.Fprintf(io.err, "spindle: %s: %v\n", pos[0], err)
		return exitDataErr
	}
	return 0
}

func objectVersion() int { return object.ObjectVersion }
