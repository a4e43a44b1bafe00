package object

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/spindle-vm/spindle/isa"
)

// An object file (.spo) stores an Image so that it can be run without its sources. It is a
// little-endian byte string with no padding and no optional parts, read front to back:
//
//	magic      4 bytes  7f 53 50 4f ("\x7fSPO")
//	version    u32      ObjectVersion
//	text       u32 n,  then n instruction words (u32)
//	consts     u32 n,  then n constants (u64)
//	data       u32 n,  then n bytes
//	bss        u64      size of the zero-filled section after data
//	entry      u64      code address where the main thread starts
//	symbols    u32 n,  then n of: address u64, name length u32, name bytes
//	files      u32 n,  then n of: name length u32, name bytes
//	lines      u32 n,  then n of: file index u32, line u32 (n = number of instructions)
//
// Every field has exactly one encoding, so an accepted file marshals back to the same bytes.
// docs/object.md describes the format and its validation rules.

// ObjectVersion is the version of the object format that MarshalBinary writes and
// UnmarshalImage reads. It changes whenever the layout or the meaning of a field does.
const ObjectVersion = 1

// objMagic opens every object file. The leading 0x7f, as in ELF, keeps it from being text.
const objMagic = "\x7fSPO"

// Limits of the object format. They are far above what a program written by hand needs, and
// they keep a hostile file from asking the loader for unbounded memory.
const (
	// objMaxText is what the loader runs; every code address then lies below isa.DataBase.
	objMaxText = isa.MaxText
	objMaxData = 1 << 30 // bytes of .data
	objMaxBSS  = 1 << 30 // bytes of .bss; the VM checks it again against its memory limit
	objMaxName = 4096    // bytes in a symbol or file name
)

// An ObjectError says why bytes are not a valid object file, and where the offending field
// starts.
type ObjectError struct {
	Offset int // byte offset in the file
	Msg    string
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("object file: byte %d: %s", e.Offset, e.Msg)
}

// IsObject reports whether b starts with the magic number of an object file.
func IsObject(b []byte) bool { return bytes.HasPrefix(b, []byte(objMagic)) }

// MarshalBinary encodes the image as an object file. It fails for an image that UnmarshalImage
// would reject, so that whatever is written can be loaded. Sources is not stored.
func (img *Image) MarshalBinary() ([]byte, error) {
	b, err := objEncode(img)
	if err != nil {
		return nil, err
	}
	// Reading the result back applies every rule of the format in one place; a second copy of
	// the rules for images in memory would drift from the loader's.
	if _, err := UnmarshalImage(b); err != nil {
		var oe *ObjectError
		if errors.As(err, &oe) {
			return nil, fmt.Errorf("object file: cannot store image: %s", oe.Msg)
		}
		return nil, err
	}
	return b, nil
}

// objEncode lays out the fields of img without judging them.
func objEncode(img *Image) ([]byte, error) {
	if img == nil {
		return nil, errors.New("object file: cannot store a nil image")
	}
	for _, c := range []struct {
		what string
		n    int
	}{
		{"instructions", len(img.Text)}, {"constants", len(img.Consts)}, {"data bytes", len(img.Data)},
		{"symbols", len(img.Symbols)}, {"file names", len(img.Files)}, {"line entries", len(img.Lines)},
	} {
		// Names are checked against their limit when the bytes are read back; only counts
		// that a u32 cannot hold must be caught before encoding.
		if uint64(c.n) > math.MaxUint32 {
			return nil, fmt.Errorf("object file: cannot store image: %d %s do not fit a 32-bit count", c.n, c.what)
		}
	}

	size := len(objMagic) + 4 + 4 + 4*len(img.Text) + 4 + 8*len(img.Consts) + 4 + len(img.Data) +
		8 + 8 + 4 + 4 + 4 + 8*len(img.Lines)
	for _, s := range img.Symbols {
		size += 8 + 4 + len(s.Name)
	}
	for _, f := range img.Files {
		size += 4 + len(f)
	}
	le := binary.LittleEndian
	b := make([]byte, 0, size)
	b = append(b, objMagic...)
	b = le.AppendUint32(b, ObjectVersion)
	b = le.AppendUint32(b, uint32(len(img.Text)))
	for _, w := range img.Text {
		b = le.AppendUint32(b, uint32(w))
	}
	b = le.AppendUint32(b, uint32(len(img.Consts)))
	for _, k := range img.Consts {
		b = le.AppendUint64(b, k)
	}
	b = le.AppendUint32(b, uint32(len(img.Data)))
	b = append(b, img.Data...)
	b = le.AppendUint64(b, img.BSS)
	b = le.AppendUint64(b, img.Entry)
	b = le.AppendUint32(b, uint32(len(img.Symbols)))
	for _, s := range img.Symbols {
		b = le.AppendUint64(b, s.Addr)
		b = le.AppendUint32(b, uint32(len(s.Name)))
		b = append(b, s.Name...)
	}
	b = le.AppendUint32(b, uint32(len(img.Files)))
	for _, f := range img.Files {
		b = le.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	b = le.AppendUint32(b, uint32(len(img.Lines)))
	for _, l := range img.Lines {
		b = le.AppendUint32(b, l.File)
		b = le.AppendUint32(b, l.Line)
	}
	return b, nil
}

// UnmarshalImage decodes and validates an object file. It checks every field before it uses
// it: counts against the bytes that remain (so it never allocates more than the file's length
// justifies), names, addresses, the entry point, every instruction word, the constant indexes of
// lk and the targets of branches, and the line table. An invalid file gets an *ObjectError that
// names the field, its offset and the numbers involved; it never panics.
//
// The image's Data shares b's bytes: b must not change while the image is in use.
func UnmarshalImage(b []byte) (*Image, error) {
	r := &objReader{b: b}
	if len(b) < len(objMagic) {
		return nil, r.errAt(0, "not an object file: %d bytes are too few for the %d-byte magic number", len(b), len(objMagic))
	}
	if !IsObject(b) {
		return nil, r.errAt(0, "not an object file: it starts with % x, not the magic number % x", b[:len(objMagic)], objMagic)
	}
	r.off = len(objMagic)
	img := &Image{}

	at := r.off
	version, err := r.u32("version", -1)
	if err != nil {
		return nil, err
	}
	if version != ObjectVersion {
		return nil, r.errAt(at, "version %d is not supported; this build reads version %d only", version, ObjectVersion)
	}

	// Text.
	n, err := r.count("text section", "instructions", 4, true, objMaxText)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		img.Text = make([]isa.Instr, n)
	}
	textAt := r.off
	for i := range img.Text {
		w := isa.Instr(binary.LittleEndian.Uint32(b[r.off:]))
		if err := CheckInstr(w, i, n); err != nil {
			return nil, r.errAt(r.off, "text word %d at %#08x (%08x): %s", i, isa.CodeAddr(i), uint32(w), err)
		}
		img.Text[i] = w
		r.off += 4
	}

	// Constant pool, then the lk instructions that index it.
	n, err = r.count("constant pool", "constants", 8, true, math.MaxUint32)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		img.Consts = make([]uint64, n)
	}
	for i := range img.Consts {
		img.Consts[i] = binary.LittleEndian.Uint64(b[r.off:])
		r.off += 8
	}
	for i, w := range img.Text {
		if w.Op() == isa.LK && uint64(w.Uimm20()) >= uint64(len(img.Consts)) {
			return nil, r.errAt(textAt+4*i, "text word %d at %#08x (lk): constant index %d, but the pool holds %d constants",
				i, isa.CodeAddr(i), w.Uimm20(), len(img.Consts))
		}
	}

	// Data and BSS.
	n, err = r.count("data section", "bytes", 1, true, objMaxData)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		// The data is b's own bytes, not a copy: a data section may be as large as 1 GiB, and
		// its copy cost as much memory again, and time to touch each fresh page.
		img.Data = b[r.off : r.off+int(n) : r.off+int(n)]
		r.off += int(n)
	}
	at = r.off
	if img.BSS, err = r.u64("bss size", -1); err != nil {
		return nil, err
	}
	if img.BSS > objMaxBSS {
		return nil, r.errAt(at, "bss size %d exceeds the limit of %d bytes (1 GiB)", img.BSS, objMaxBSS)
	}
	textEnd := isa.CodeAddr(len(img.Text))
	dataEnd := isa.DataBase + uint64(len(img.Data)) + img.BSS

	// Entry point.
	at = r.off
	if img.Entry, err = r.u64("entry point", -1); err != nil {
		return nil, err
	}
	if _, ok := isa.CodeIndex(img.Entry, len(img.Text)); !ok && (len(img.Text) > 0 || img.Entry != isa.TextBase) {
		if len(img.Text) == 0 {
			return nil, r.errAt(at, "entry point %#08x: the text is empty, so the entry must be %#08x", img.Entry, isa.TextBase)
		}
		return nil, r.errAt(at, "entry point %#08x is not the address of an instruction (%s)", img.Entry, isa.TextSpan(len(img.Text)))
	}

	// Symbols.
	n, err = r.count("symbol table", "symbols", 8+4+1, false, math.MaxUint32)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		img.Symbols = make([]Symbol, n)
	}
	seen := make(map[string]int, n)
	for i := range img.Symbols {
		at := r.off
		addr, err := r.u64("symbol %d address", i)
		if err != nil {
			return nil, err
		}
		name, err := r.str("symbol %d name", i)
		if err != nil {
			return nil, err
		}
		if !objValidSymbol(name) {
			return nil, r.errAt(at, "symbol %d: name %q is not a label: a label is an identifier ([A-Za-z_][A-Za-z0-9_]*) other than a register's name, or scope.name for a local one", i, name)
		}
		if j, dup := seen[name]; dup {
			return nil, r.errAt(at, "symbol %d: name %q is already the name of symbol %d", i, name, j)
		}
		seen[name] = i
		inText := addr >= isa.TextBase && addr <= textEnd && (addr-isa.TextBase)%isa.InstrSize == 0
		inData := addr >= isa.DataBase && addr <= dataEnd
		if !inText && !inData {
			return nil, r.errAt(at, "symbol %d %q: address %#08x is neither an instruction boundary in the text (%#08x to %#08x) nor in the data and bss (%#08x to %#08x)",
				i, name, addr, isa.TextBase, textEnd, isa.DataBase, dataEnd)
		}
		if i > 0 {
			p := img.Symbols[i-1]
			if addr < p.Addr || addr == p.Addr && name < p.Name {
				return nil, r.errAt(at, "symbol %d %q at %#08x comes after symbol %d %q at %#08x: symbols must be sorted by address, then name",
					i, name, addr, i-1, p.Name, p.Addr)
			}
		}
		img.Symbols[i] = Symbol{Name: name, Addr: addr}
	}

	// Files.
	n, err = r.count("file table", "names", 4, false, math.MaxUint32)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		img.Files = make([]string, n)
	}
	seenFile := make(map[string]int, n)
	for i := range img.Files {
		at := r.off
		name, err := r.str("file %d name", i)
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(name) {
			return nil, r.errAt(at, "file %d: name %q is not valid UTF-8", i, name)
		}
		if j, dup := seenFile[name]; dup {
			return nil, r.errAt(at, "file %d: name %q is already the name of file %d", i, name, j)
		}
		seenFile[name] = i
		img.Files[i] = name
	}

	// Lines.
	at = r.off
	n, err = r.count("line table", "entries", 8, true, math.MaxUint32)
	if err != nil {
		return nil, err
	}
	if n != uint64(len(img.Text)) {
		return nil, r.errAt(at, "line table has %d entries, but the text has %d instructions: there must be one per instruction", n, len(img.Text))
	}
	if n > 0 {
		img.Lines = make([]Line, n)
	}
	for i := range img.Lines {
		l := Line{File: binary.LittleEndian.Uint32(b[r.off:]), Line: binary.LittleEndian.Uint32(b[r.off+4:])}
		if uint64(l.File) >= uint64(len(img.Files)) {
			return nil, r.errAt(r.off, "line entry %d (instruction at %#08x): file index %d, but the file table holds %d names",
				i, isa.CodeAddr(i), l.File, len(img.Files))
		}
		img.Lines[i] = l
		r.off += 8
	}

	if rest := len(b) - r.off; rest > 0 {
		return nil, r.errAt(r.off, "%d unexpected bytes after the line table, where the file should end", rest)
	}
	return img, nil
}

// CheckInstr checks word i of a text of n instructions as the object format does: it must
// decode, and a branch must land on an instruction. The assembler checks a raw .word in the
// text with it, so that what it assembles can be written as an object.
func CheckInstr(w isa.Instr, i int, n uint64) error {
	op, o, err := isa.Decode(w)
	if err != nil {
		return err
	}
	if in, _ := op.Info(); in.Format.IsBranch() {
		t := int64(i) + o.Imm
		if t < 0 || uint64(t) >= n {
			return fmt.Errorf("%s: target %+d instructions lands outside the text of %d instructions", op, o.Imm, n)
		}
	}
	return nil
}

// objValidSymbol reports whether name is a label's full name, as the assembler would make it: an
// identifier that is not a register's name, or such an identifier and another joined by a dot
// for a local label.
func objValidSymbol(name string) bool {
	scope, local, qualified := strings.Cut(name, ".")
	if qualified && !objIdent(local) {
		return false
	}
	return objIdent(scope) && !isa.IsRegName(scope)
}

func objIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// objReader reads the fields of an object file in order, checking each against the bytes left.
type objReader struct {
	b   []byte
	off int
}

func (r *objReader) left() int { return len(r.b) - r.off }

func (r *objReader) errAt(off int, format string, args ...any) error {
	return &ObjectError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// The readers below name the field they read in their errors. A field of the i'th element of a
// table is a format with one %d, filled in only when there is an error to report, so that
// reading a table allocates nothing for its names.

func objFieldName(field string, i int) string {
	if i < 0 {
		return field
	}
	return fmt.Sprintf(field, i)
}

func (r *objReader) need(n int, field string, i int) error {
	if r.left() < n {
		return r.errAt(r.off, "file ends inside the %s: it needs %d bytes, only %d remain", objFieldName(field, i), n, r.left())
	}
	return nil
}

func (r *objReader) u32(field string, i int) (uint32, error) {
	if err := r.need(4, field, i); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

func (r *objReader) u64(field string, i int) (uint64, error) {
	if err := r.need(8, field, i); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v, nil
}

// count reads the element count of a section whose elements take size bytes each (at least
// size bytes, unless exact), and checks it against the format's limit and against the bytes
// left, before anyone allocates room for the elements.
func (r *objReader) count(section, elems string, size uint64, exact bool, limit uint64) (uint64, error) {
	at := r.off
	v, err := r.u32(section+" count", -1)
	if err != nil {
		return 0, err
	}
	n := uint64(v)
	if n > limit {
		return 0, r.errAt(at, "%s declares %d %s, more than the limit of %d", section, n, elems, limit)
	}
	if left := uint64(r.left()); n*size > left {
		switch {
		case size == 1:
			return 0, r.errAt(at, "%s declares %d %s, but only %d bytes remain", section, n, elems, left)
		case exact:
			return 0, r.errAt(at, "%s declares %d %s (%d bytes), but only %d bytes remain", section, n, elems, n*size, left)
		default:
			return 0, r.errAt(at, "%s declares %d %s (at least %d bytes), but only %d bytes remain", section, n, elems, n*size, left)
		}
	}
	return n, nil
}

// str reads a length-prefixed name.
func (r *objReader) str(field string, i int) (string, error) {
	at := r.off
	if err := r.need(4, field+" length", i); err != nil {
		return "", err
	}
	n := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	if n > objMaxName {
		return "", r.errAt(at, "%s is %d bytes long, more than the limit of %d", objFieldName(field, i), n, objMaxName)
	}
	if uint64(n) > uint64(r.left()) {
		return "", r.errAt(at, "%s declares %d bytes, but only %d remain", objFieldName(field, i), n, r.left())
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}
