package debugger

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// Source navigation: list and info line.

// listLines is how many lines list shows: the line it centres on and five on either side.
const listLines = 11

// A listing is the lines list showed last, which list and list - go on from. The zero
// listing is none since the last stop or change of frame: list then centres on the selected
// frame's line.
type listing struct {
	file   string
	lo, hi int
}

// sourceLine reads LINE, of the selected frame's file, or FILE:LINE, as list and info line
// take them: a line of the text, whether it has code or not. ok is false for any other
// location, such as a label or an address.
func (s *Session) sourceLine(spec string) (file string, line int, ok bool, err error) {
	name, num, hasFile := "", spec, false
	if i := strings.LastIndexByte(spec, ':'); i > 0 {
		name, num, hasFile = spec[:i], spec[i+1:], true
	}
	if !isNumber(num) {
		return "", 0, false, nil
	}
	if !hasFile {
		if name = s.defaultFile(s.frameWhere().File); name == "" {
			return "", 0, false, fmt.Errorf("%s: no current source file: say FILE:%s", spec, num)
		}
	}
	n, _ := strconv.Atoi(num)
	if n <= 0 {
		return "", 0, false, fmt.Errorf("%s: a line number is a positive integer", spec)
	}
	f, found := s.sourceFile(name)
	if !found {
		return "", 0, false, fmt.Errorf("no source file %q in the program (its files: %s)", name, strings.Join(s.img.Files, ", "))
	}
	if lines := s.sourceLines(f); lines != nil && n > len(lines) {
		return "", 0, false, fmt.Errorf("line %d is past the end of %s, which has %d lines", n, f, len(lines))
	}
	return f, n, true, nil
}

// frameWhere returns where the selected frame of the current thread is: where the thread is
// for frame 0, and the call for a caller's frame.
func (s *Session) frameWhere() vm.Where {
	if _, fr, err := s.selected(1); err == nil {
		return fr[0].Where
	}
	return s.where(s.cur)
}

// codeLine returns the source file and line of the instruction at addr.
func (s *Session) codeLine(addr uint64) (string, int, error) {
	img := s.procOf(s.cur).Image()
	if _, err := codeIndex(img, addr); err != nil {
		return "", 0, err
	}
	file, line, ok := sourceOf(img, addr)
	if !ok {
		return "", 0, fmt.Errorf("no source line for %s", s.symbolize(s.cur, addr))
	}
	return file, line, nil
}

func (s *Session) cmdList(arg string) error {
	if s.cur == nil {
		return errors.New("no current thread")
	}
	here := s.frameWhere()
	var file string
	var lo, hi int
	switch last := s.listed; {
	case arg == "" && last.hi > 0:
		if n := len(s.sourceLines(last.file)); last.hi >= n {
			return fmt.Errorf("list: line %d, the last of %s, is shown; list - shows the lines before", n, last.file)
		}
		file, lo, hi = last.file, last.hi+1, last.hi+listLines
	case arg == "-":
		if last.hi == 0 {
			last = listing{here.File, here.Line - listLines/2, 0}
		}
		if last.lo <= 1 {
			return fmt.Errorf("list -: line 1 of %s is shown; list shows the lines after", last.file)
		}
		file, lo, hi = last.file, last.lo-listLines, last.lo-1
	case strings.Contains(arg, ","):
		var err error
		if file, lo, hi, err = s.listRange(arg); err != nil {
			return err
		}
	case arg == "":
		file, lo, hi = here.File, here.Line-listLines/2, here.Line+listLines/2
	default:
		f, n, ok, err := s.sourceLine(arg)
		if err != nil {
			return err
		}
		if !ok {
			addr, _, _, err := s.location(arg)
			if err != nil {
				return err
			}
			if f, n, err = s.codeLine(addr); err != nil {
				return err
			}
		}
		file, lo, hi = f, n-listLines/2, n+listLines/2
	}
	lines := s.sourceLines(file)
	if file == "" || lines == nil {
		return fmt.Errorf("no source for %s", s.symbolize(s.cur, here.PC))
	}
	mark := 0
	if here.File == file {
		mark = here.Line
	}
	lo, hi = max(lo, 1), min(hi, len(lines))
	s.showSource(file, lo, hi, mark)
	s.listed = listing{file, lo, hi}
	return nil
}

// listRange reads list's A,B or FILE:A,B, and A, (the lines from A) or ,B (those up to B).
func (s *Session) listRange(arg string) (file string, lo, hi int, err error) {
	a, b, _ := strings.Cut(arg, ",")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	prefix := ""
	if i := strings.LastIndexByte(a, ':'); i > 0 {
		prefix, a = a[:i+1], a[i+1:]
	}
	if a == "" && b == "" || a != "" && !isNumber(a) || b != "" && !isNumber(b) {
		return "", 0, 0, fmt.Errorf("list %s: want A,B, FILE:A,B, A, or ,B, with line numbers", arg)
	}
	if a == "" {
		n, _ := strconv.Atoi(b)
		a = strconv.Itoa(max(1, n-listLines+1))
	}
	file, lo, _, err = s.sourceLine(prefix + a)
	if err != nil {
		return "", 0, 0, err
	}
	hi = lo + listLines - 1
	if b != "" {
		hi, _ = strconv.Atoi(b)
	}
	if hi < lo {
		return "", 0, 0, fmt.Errorf("list %s: line %d is before line %d", arg, hi, lo)
	}
	return file, lo, hi, nil
}

// infoLine says which instructions a line has: those of LINE or FILE:LINE, of the line of
// the instruction at another location, or of the selected frame's line.
func (s *Session) infoLine(arg string) error {
	if s.cur == nil {
		return errors.New("no current thread")
	}
	img := s.procOf(s.cur).Image()
	var addr uint64
	file, line, ok, err := s.sourceLine(arg)
	switch {
	case err != nil:
		return err
	case ok:
		best, ok := firstCode(img, file, line)
		if !ok {
			return fmt.Errorf("line %d of %q has no code, and no line after it has", line, file)
		}
		addr = isa.CodeAddr(best)
		if int(img.Lines[best].Line) != line {
			fmt.Fprintf(s.out, "Line %d of %q is at address %s but contains no code.\n", line, file, s.named(addr))
			return nil
		}
	case arg == "":
		addr = s.frameWhere().PC
	default:
		if addr, _, _, err = s.location(arg); err != nil {
			return err
		}
	}
	if file, line, err = s.codeLine(addr); err != nil {
		return err
	}
	i, _ := isa.CodeIndex(addr, len(img.Text))
	first, end := i, i+1
	for first > 0 && img.Lines[first-1] == img.Lines[i] {
		first--
	}
	for end < len(img.Lines) && img.Lines[end] == img.Lines[i] {
		end++
	}
	fmt.Fprintf(s.out, "Line %d of %q starts at address %s and ends at %s.\n", line, file, s.named(isa.CodeAddr(first)), s.named(isa.CodeAddr(end)))
	return nil
}

// named writes a code address with its label, as gdb does: 0x400040 <main>.
func (s *Session) named(addr uint64) string {
	return fmt.Sprintf("%#x", addr) + s.symbolName(s.cur, addr)
}
