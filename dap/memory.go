package dap

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-dap"
)

// Memory and code. A memoryReference is an address, as the server writes them: 0x10000000. The
// data addresses are the process's memory; code lives apart (Spindle is a Harvard machine), and
// is read by disassemble, not readMemory.

// maxMemory bounds what one readMemory or writeMemory moves, and maxInstructions what one
// disassemble returns: a client pages through more.
const (
	maxMemory       = 1 << 20
	maxInstructions = 1 << 14
)

// address reads a memoryReference, and adds offset to it.
func address(ref string, offset int) (uint64, error) {
	a, err := strconv.ParseUint(strings.TrimSpace(ref), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("memory reference %q: want an address, such as 0x10000000", ref)
	}
	return a + uint64(int64(offset)), nil
}

func (sv *server) onReadMemory(req *dap.ReadMemoryRequest) {
	a := req.Arguments
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		sv.fail(req, errBadRequest, "readMemory: %v", err)
		return
	}
	if a.Count < 0 || a.Count > maxMemory {
		sv.fail(req, errBadRequest, "readMemory: count %d: want 0 to %d bytes", a.Count, maxMemory)
		return
	}
	b, err := sv.s.ReadMemory(addr, a.Count)
	if err != nil {
		sv.fail(req, errFailed, "readMemory: %v", err)
		return
	}
	sv.send(&dap.ReadMemoryResponse{Response: response(req), Body: dap.ReadMemoryResponseBody{
		Address: fmt.Sprintf("%#x", addr), Data: base64.StdEncoding.EncodeToString(b), UnreadableBytes: a.Count - len(b)}})
}

func (sv *server) onWriteMemory(req *dap.WriteMemoryRequest) {
	a := req.Arguments
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		sv.fail(req, errBadRequest, "writeMemory: %v", err)
		return
	}
	b, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil || len(b) > maxMemory {
		sv.fail(req, errBadRequest, "writeMemory: data is up to %d bytes in base64", maxMemory)
		return
	}
	if err := sv.s.WriteMemory(addr, b); err != nil {
		sv.fail(req, errFailed, "writeMemory: %v", err)
		return
	}
	sv.send(&dap.WriteMemoryResponse{Response: response(req), Body: dap.WriteMemoryResponseBody{Offset: a.Offset, BytesWritten: len(b)}})
}

func (sv *server) onDisassemble(req *dap.DisassembleRequest) {
	a := req.Arguments
	addr, err := address(a.MemoryReference, a.Offset)
	if err != nil {
		sv.fail(req, errBadRequest, "disassemble: %v", err)
		return
	}
	if a.InstructionCount < 0 || a.InstructionCount > maxInstructions {
		sv.fail(req, errBadRequest, "disassemble: instructionCount %d: want 0 to %d", a.InstructionCount, maxInstructions)
		return
	}
	out := []dap.DisassembledInstruction{}
	lastFile := ""
	for _, in := range sv.s.Disassemble(addr, a.InstructionOffset, a.InstructionCount) {
		d := dap.DisassembledInstruction{Address: fmt.Sprintf("%#x", in.Addr), Instruction: in.Text}
		if in.Text == "" {
			d.Instruction = "??" // outside the text: no instruction
			out = append(out, d)
			continue
		}
		d.InstructionBytes = fmt.Sprintf("%08x", uint32(in.Word))
		if a.ResolveSymbols {
			d.Symbol = in.Label
		}
		if in.File != "" {
			if in.File != lastFile {
				d.Location, lastFile = sv.source(in.File), in.File
			}
			d.Line = in.Line
		}
		out = append(out, d)
	}
	sv.send(&dap.DisassembleResponse{Response: response(req), Body: dap.DisassembleResponseBody{Instructions: out}})
}
