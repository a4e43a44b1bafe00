package object

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spindle-vm/spindle/isa"
)

// The columns of a listing: statements are indented to disIndent, and the comment that gives
// the address (and the raw word of an instruction) starts at disCommentCol.
const (
	disIndent     = "        "
	disCommentCol = 40
	disMnemonicW  = 8  // mnemonics are padded to this width so that operands line up
	disBytesLine  = 16 // values on one .byte line
	disASCIILine  = 64 // bytes of data on one .ascii line
)

// Disassemble writes a listing of img in the assembly syntax. Assembling the listing gives an
// image with the same object-file bytes as img, for any image that the assembler produced: it
// names the entry point, marks every source position change with .loc, writes every label at its
// address under its full name, and spells out the data byte for byte. Each instruction's comment
// gives its address and its raw word; a word that is not a valid instruction of the image is
// written as .word, so that even a damaged image lists and reassembles.
//
// The constant pool is not listed: lk names its constant, and the assembler rebuilds the pool in
// order of first use, as it did the first time.
func Disassemble(w io.Writer, img *Image) error {
	bw := bufio.NewWriter(w)
	d := &disLister{w: bw, img: img}
	d.run()
	return bw.Flush()
}

// DisassembleInstr returns instruction word w, at code address pc, in the assembly syntax, such
// as "beq a0, a1, main.loop" or "syscall write". With an image, branch targets and lk constants
// that are a label's address are written as the label, and lk shows its constant's value; a
// branch outside the image's text, or an lk whose index is outside its pool, is written as the
// raw ".word 0x...". Without an image (img == nil), targets are absolute addresses and lk shows
// the pool index as K[i]. A word that does not decode is written as .word.
func DisassembleInstr(w isa.Instr, pc uint64, img *Image) string {
	var syms []Symbol
	if img != nil {
		// Symbols are sorted, as Image requires, so that finding a name costs a binary search:
		// an instruction trace calls this for every instruction it runs.
		syms = img.Symbols
	}
	mn, ops := disInstr(w, pc, img, syms)
	if ops == "" {
		return mn
	}
	return mn + " " + ops
}

// disInstr returns the mnemonic and the operands of w. syms are the image's symbols, sorted.
func disInstr(w isa.Instr, pc uint64, img *Image, syms []Symbol) (mnemonic, operands string) {
	raw := func() (string, string) { return ".word", fmt.Sprintf("%#08x", uint32(w)) }
	op, o, err := isa.Decode(w)
	if err != nil {
		return raw()
	}
	in, _ := op.Info()
	a, b, c := isa.RegName(o.A), isa.RegName(o.B), isa.RegName(o.C)
	imm := strconv.FormatInt(o.Imm, 10)
	target := func() (string, bool) {
		t := int64(pc) + isa.InstrSize*o.Imm
		if img != nil {
			if _, ok := isa.CodeIndex(uint64(t), len(img.Text)); !ok || t < 0 {
				return "", false
			}
		} else if t < 0 {
			return "", false
		}
		if name, ok := disSymbolAt(syms, uint64(t), op != isa.CALL); ok {
			return name, true
		}
		return fmt.Sprintf("%#08x", t), true
	}
	var ops string
	switch in.Format {
	case isa.FmtN:
	case isa.FmtA:
		ops = a
	case isa.FmtAB:
		ops = a + ", " + b
	case isa.FmtABC:
		ops = a + ", " + b + ", " + c
	case isa.FmtABI:
		ops = a + ", " + b + ", " + imm
	case isa.FmtMem:
		ops = a + ", " + imm + "(" + b + ")"
	case isa.FmtAI:
		ops = a + ", " + imm
	case isa.FmtAK:
		switch {
		case img == nil:
			ops = a + ", K[" + imm + "]"
		case o.Imm < int64(len(img.Consts)):
			k := img.Consts[o.Imm]
			if name, ok := disSymbolAt(syms, k, false); ok {
				ops = a + ", " + name
			} else {
				ops = a + ", " + disNumber(k)
			}
		default:
			return raw()
		}
	case isa.FmtBranch, isa.FmtBranchZ, isa.FmtJ:
		t, ok := target()
		if !ok {
			return raw()
		}
		switch in.Format {
		case isa.FmtBranch:
			ops = a + ", " + b + ", " + t
		case isa.FmtBranchZ:
			ops = a + ", " + t
		default:
			ops = t
		}
	case isa.FmtU24:
		ops = imm
		if op == isa.SYSCALL {
			if s, ok := isa.Syscall(o.Imm).Info(); ok {
				ops = s.Name
			}
		}
	default:
		return raw()
	}
	return in.Name, ops
}

// disNumber writes a 64-bit constant: signed decimal for the numbers people write in decimal,
// and the 64 bits in hex for big ones such as masks and addresses (the assembler reads hex up to
// 0xffffffffffffffff and keeps the bits).
func disNumber(k uint64) string {
	if s := int64(k); -1<<32 <= s && s <= 1<<32 {
		return strconv.FormatInt(s, 10)
	}
	return fmt.Sprintf("%#x", k)
}

// disSymbolAt returns the name to write for address addr: a global label if one is there (the
// first by name), else a local one; or the other way round if preferLocal, as for a branch,
// which goes to the loop's label rather than to the function that starts with the loop. Names
// that the assembler would not read back as a label, such as a register's name, are never
// chosen.
func disSymbolAt(syms []Symbol, addr uint64, preferLocal bool) (string, bool) {
	i, _ := slices.BinarySearchFunc(syms, addr, func(s Symbol, a uint64) int {
		switch {
		case s.Addr < a:
			return -1
		case s.Addr > a:
			return 1
		}
		return 0
	})
	other := ""
	for ; i < len(syms) && syms[i].Addr == addr; i++ {
		name := syms[i].Name
		if !disUsableName(name) {
			continue
		}
		if strings.Contains(name, ".") == preferLocal {
			return name, true
		}
		if other == "" {
			other = name
		}
	}
	return other, other != ""
}

func disUsableName(name string) bool {
	if !objValidSymbol(name) {
		return false
	}
	_, isReg := isa.ParseReg(name)
	return !isReg
}

func disCompareSymbols(x, y Symbol) int {
	switch {
	case x.Addr < y.Addr:
		return -1
	case x.Addr > y.Addr:
		return 1
	}
	return strings.Compare(x.Name, y.Name)
}

func disSortedSymbols(syms []Symbol) []Symbol {
	s := slices.Clone(syms)
	slices.SortStableFunc(s, disCompareSymbols)
	return s
}

// disLister writes one listing. Write errors are kept by the bufio.Writer and reported by Flush.
type disLister struct {
	w    *bufio.Writer
	img  *Image
	syms []Symbol // sorted
	next int      // the first symbol in syms not yet written as a label
}

func (d *disLister) run() {
	img := d.img
	if img == nil {
		d.w.WriteString("# no image\n")
		return
	}
	d.syms = disSortedSymbols(img.Symbols)
	textEnd := isa.CodeAddr(len(img.Text))
	dataEnd := isa.DataBase + uint64(len(img.Data))
	bssEnd := dataEnd + img.BSS

	fmt.Fprintf(d.w, "# %s, %s, %s of data, %s of bss\n", disCount(uint64(len(img.Text)), "instruction"),
		disCount(uint64(len(img.Consts)), "constant"), disCount(uint64(len(img.Data)), "byte"), disCount(img.BSS, "byte"))

	// Symbols that lie in no section cannot be written as labels, and a label before all
	// sections would move; they are listed as comments.
	d.syms = slices.DeleteFunc(d.syms, func(s Symbol) bool {
		inText := s.Addr >= isa.TextBase && s.Addr <= textEnd && (s.Addr-isa.TextBase)%isa.InstrSize == 0
		inData := s.Addr >= isa.DataBase && s.Addr <= bssEnd
		if (inText || inData) && objValidSymbol(s.Name) {
			return false
		}
		fmt.Fprintf(d.w, "# symbol %q at %#08x cannot be written as a label\n", s.Name, s.Addr)
		return true
	})

	// Without instructions there is no address that .entry could name: the image's entry is
	// the start of the empty text, the assembler's default.
	if len(img.Text) == 0 {
		fmt.Fprintf(d.w, "# entry %#08x: no instructions\n", img.Entry)
	} else if name, ok := disSymbolAt(d.syms, img.Entry, false); ok {
		fmt.Fprintf(d.w, ".entry %s\n", name)
	} else {
		fmt.Fprintf(d.w, ".entry %#08x\n", img.Entry)
	}

	if len(img.Text) > 0 || d.pending(textEnd) {
		d.w.WriteString("\n.text\n")
	}
	var pos Line
	havePos := false
	for i, w := range img.Text {
		pc := isa.CodeAddr(i)
		d.labels(pc)
		if i < len(img.Lines) && int(img.Lines[i].File) < len(img.Files) && (!havePos || img.Lines[i] != pos) {
			pos, havePos = img.Lines[i], true
			d.stmt(fmt.Sprintf(".loc %s %d", disQuote(img.Files[pos.File]), pos.Line), "")
		}
		mn, ops := disInstr(w, pc, img, d.syms)
		text := mn
		if ops != "" {
			text = fmt.Sprintf("%-*s %s", disMnemonicW-1, mn, ops)
		}
		d.stmt(text, fmt.Sprintf("%#08x  %08x", pc, uint32(w)))
	}
	d.labels(textEnd)

	// A label at the end of the data is also at the start of the bss; it goes with the bss
	// when there is one.
	if len(img.Data) > 0 || d.pending(dataEnd-1) || img.BSS == 0 && d.pending(dataEnd) {
		d.w.WriteString("\n.data\n")
		d.data(img.Data)
		if img.BSS == 0 {
			d.labels(dataEnd)
		}
	}
	if img.BSS > 0 || d.pending(bssEnd) {
		d.w.WriteString("\n.bss\n")
		d.bss(dataEnd, bssEnd)
	}
}

func disCount(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// pending reports whether a label at or below addr is still to be written.
func (d *disLister) pending(addr uint64) bool {
	return d.next < len(d.syms) && d.syms[d.next].Addr <= addr
}

// labels writes the labels at addr.
func (d *disLister) labels(addr uint64) {
	for d.next < len(d.syms) && d.syms[d.next].Addr == addr {
		d.w.WriteString(d.syms[d.next].Name)
		d.w.WriteString(":\n")
		d.next++
	}
}

// nextLabel returns the address of the next label to write, or end if it is at or past end.
func (d *disLister) nextLabel(end uint64) uint64 {
	if d.next < len(d.syms) && d.syms[d.next].Addr < end {
		return d.syms[d.next].Addr
	}
	return end
}

// stmt writes one indented statement and, if comment is not empty, a comment in the comment
// column.
func (d *disLister) stmt(text, comment string) {
	d.w.WriteString(disIndent)
	d.w.WriteString(text)
	if comment != "" {
		pad := max(1, disCommentCol-len(disIndent)-utf8.RuneCountInString(text))
		d.w.WriteString(strings.Repeat(" ", pad))
		d.w.WriteString("# ")
		d.w.WriteString(comment)
	}
	d.w.WriteByte('\n')
}

// data writes the .data bytes, cut at every label. Runs of text become .ascii (or .asciz when a
// NUL ends them); the other bytes become .byte lines.
func (d *disLister) data(data []byte) {
	for off := 0; off < len(data); {
		addr := isa.DataBase + uint64(off)
		d.labels(addr)
		end := int(d.nextLabel(isa.DataBase+uint64(len(data))) - isa.DataBase)
		if end <= off { // only when labels are not sorted; cannot happen after disSortedSymbols
			end = len(data)
		}
		seg := data[off:end]
		for i := 0; i < len(seg); {
			at := isa.DataBase + uint64(off+i)
			if n, nul := disTextRun(seg[i:]); n > 0 {
				piece := disPiece(seg[i:i+n], disASCIILine)
				if len(piece) < n || !nul {
					d.stmt(".ascii "+disQuote(string(piece)), fmt.Sprintf("%#08x", at))
					i += len(piece)
				} else {
					d.stmt(".asciz "+disQuote(string(piece)), fmt.Sprintf("%#08x", at))
					i += len(piece) + 1
				}
				continue
			}
			vals := []string{fmt.Sprintf("%#02x", seg[i])}
			for i++; i < len(seg) && len(vals) < disBytesLine; i++ {
				if n, _ := disTextRun(seg[i:]); n > 0 {
					break
				}
				vals = append(vals, fmt.Sprintf("%#02x", seg[i]))
			}
			d.stmt(".byte "+strings.Join(vals, ", "), fmt.Sprintf("%#08x", at))
		}
		off = end
	}
}

// bss writes the labels of the bss section with .space between them.
func (d *disLister) bss(start, end uint64) {
	for addr := start; addr < end; {
		d.labels(addr)
		next := d.nextLabel(end)
		d.stmt(fmt.Sprintf(".space %d", next-addr), fmt.Sprintf("%#08x", addr))
		addr = next
	}
	d.labels(end)
}

// disTextRun returns the length in bytes of the run of text at the start of b if it is worth an
// .ascii (three characters or more, or two that a NUL ends), and whether a NUL follows it.
// Shorter runs are more often the bytes of a number, such as the 2a 00 00 ... of .quad 42, than
// strings.
func disTextRun(b []byte) (n int, nul bool) {
	chars := 0
	for n < len(b) {
		r, size := utf8.DecodeRune(b[n:])
		if !disTextRune(r, size) {
			break
		}
		n += size
		chars++
	}
	nul = n < len(b) && b[n] == 0
	if chars >= 3 || chars == 2 && nul {
		return n, nul
	}
	return 0, false
}

func disTextRune(r rune, size int) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return true
	case r == utf8.RuneError:
		return size == 3 // the character U+FFFD itself, not a byte that is not UTF-8
	}
	return unicode.IsPrint(r)
}

// disPiece returns the longest prefix of the text run b of at most n bytes that does not split
// a character.
func disPiece(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// disQuote writes s as an assembly string literal. Characters other than ASCII controls are
// written as they are, since the source is UTF-8; controls use the escapes the assembler knows.
func disQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == 0:
			b.WriteString(`\0`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
