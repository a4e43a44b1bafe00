package asm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/spindle-vm/spindle/internal/quote"
	"github.com/spindle-vm/spindle/isa"
)

// The assembler works line by line before it parses anything: it checks each line's bytes,
// expands .include and macros, and only then parses each resulting line on its own. A line that
// is wrong costs only that line, so every error in a file is found in one run; and since a
// macro is text substituted into lines, an error inside an expansion is reported on the
// expanded text, with the invocation it came from.

// Limits that keep hostile or mistaken input from crashing or hanging the assembler.
const (
	maxLineLen       = 4096    // bytes in a line of source, or of a macro expansion
	maxParenDepth    = 100     // nesting of parentheses in a line
	maxMacroDepth    = 64      // macros expanding macros
	maxIncludeDepth  = 64      // files including files
	maxExpandedBytes = 1 << 20 // text produced by all macro expansions together
)

// A srcLine is one line of source, or of a macro expansion. What a line keeps between the steps
// of the assembly is its text, the form of its statement and its place: each pass over the
// lines lexes the text again and builds the statement from the form and the tokens (a stmt),
// which is cheaper than keeping the statements of a large source. A line takes 64 bytes: the
// numbers are 32 bits, which the limits on a source and on its sections allow, and the file
// and the scope are indexes.
type srcLine struct {
	text string     // the text parsed: for a macro body, after substitution
	form *form      // the statement's syntax; nil for a line that is not a statement
	exp  *expansion // where the line was expanded, for a line of a macro's body

	seq     int32  // position in the expanded source, for ordering errors
	num     int32  // 1-based line number in its file
	headCol int32  // column of the instruction, directive or macro name
	file    uint32 // the file the text comes from (for a macro, where the body is): a.files
	failed  bool   // the statement did not parse; only its labels count

	// Set by layout.
	bad   bool // an error was reported; the statement is not encoded
	sec   section
	off   uint32 // instruction index in .text, byte offset in .data or .bss
	size  uint32 // instructions in .text, bytes in .data or .bss
	scope uint32 // the global label that local names belong to: a.scopes
}

// An expansion is where the lines of a macro's body were expanded.
type expansion struct {
	macro string   // the macro
	via   *srcLine // the line that invoked it
	top   *srcLine // the source line that began the expansion: via, or its outermost invocation
}

// top returns the source line that produced l: l itself, or the outermost macro invocation.
func (l *srcLine) top() *srcLine {
	if l.exp != nil {
		return l.exp.top
	}
	return l
}

// asmMacro is a macro definition.
type asmMacro struct {
	name   string
	params []string
	body   []*srcLine
	def    *srcLine
}

// newLine makes a line of a file, file an index in a.files.
func (a *assembler) newLine(file uint32, num int, text string) *srcLine {
	a.seq++
	return a.lines.add(srcLine{seq: int32(a.seq), file: file, num: int32(num), text: text})
}

// fileIndex returns the index of a file's name in a.files, adding it if it is not there.
func (a *assembler) fileIndex(name string) uint32 {
	for i, f := range a.files {
		if f == name {
			return uint32(i)
		}
	}
	a.files = append(a.files, name)
	return uint32(len(a.files) - 1)
}

// fileOf returns the name of the file that line l comes from.
func (a *assembler) fileOf(l *srcLine) string { return a.files[l.file] }

// lineBlocks holds the lines of an assembly in blocks, in the order they were made, which is the
// order of the statements: a line costs its 64 bytes and no allocation or pointer of its own.
type lineBlocks struct {
	blocks [][]srcLine
}

const lineBlock = 1024 // lines in a block

// add returns a place for line l. The place does not move.
func (b *lineBlocks) add(l srcLine) *srcLine {
	if len(b.blocks) == 0 || len(b.blocks[len(b.blocks)-1]) == lineBlock {
		b.blocks = append(b.blocks, make([]srcLine, 0, lineBlock))
	}
	last := &b.blocks[len(b.blocks)-1]
	*last = append(*last, l)
	return &(*last)[len(*last)-1]
}

// drop gives back the place of l, if it is the last line added and nothing refers to it.
func (b *lineBlocks) drop(l *srcLine) {
	if len(b.blocks) == 0 {
		return
	}
	last := &b.blocks[len(b.blocks)-1]
	if n := len(*last); n > 0 && &(*last)[n-1] == l {
		*last = (*last)[:n-1]
	}
}

// statements calls yield for each line that is a statement, in order.
func (b *lineBlocks) statements(yield func(*srcLine) bool) {
	for _, block := range b.blocks {
		for i := range block {
			if block[i].form != nil && !yield(&block[i]) {
				return
			}
		}
	}
}

// processFile expands a source file, read from r, into a.lines. stack holds the files being
// included, the outermost first, this file last. keep, if not nil, receives the text read.
func (a *assembler) processFile(name string, r io.Reader, keep *bytes.Buffer, stack []string) {
	lr := a.newLineReader(r, keep)
	file := a.fileIndex(name)
	var def *asmMacro
	for {
		raw, ok := lr.next()
		if !ok {
			break
		}
		l := a.newLine(file, lr.num, raw.text)
		if !a.checkBytes(l, raw) {
			a.lines.drop(l)
			continue
		}
		if def != nil {
			toks, ok := a.lex(l)
			if !ok {
				break
			}
			_, head, rest := splitHead(toks)
			switch {
			case head != nil && strings.EqualFold(head.Value, ".endm"):
				if len(rest) > 0 {
					a.errorf(l, rest[0].Pos.Column, "%s after .endm", unexpectedMessage(rest[0]))
				}
				a.defineMacro(def)
				def = nil
			case head != nil && strings.EqualFold(head.Value, ".macro"):
				a.errorf(l, head.Pos.Column, "a .macro cannot be defined inside another (missing .endm for '%s' at line %d?)", def.name, def.def.num)
			default:
				def.body = append(def.body, l)
			}
			continue
		}
		def, _ = a.processLine(l, stack, 0)
	}
	if lr.err != nil {
		l := a.newLine(file, lr.num+1, "")
		a.errorf(l, 0, "cannot read the file: %v", lr.err)
		a.sourceCut = true
	}
	if def != nil && !a.sourceCut {
		a.errorf(def.def, int(def.def.headCol), "'.macro %s' has no matching .endm", def.name)
	}
}

// checkBytes rejects a line that is too long, holds a NUL byte, or is not UTF-8, and reports the
// line where the source passes its limits. It replaces the line's text by a printable form for
// the message.
func (a *assembler) checkBytes(l *srcLine, raw rawLine) bool {
	if raw.size > maxLineLen {
		shown := []rune(quote.Line(raw.text))
		l.text = string(shown[:min(60, len(shown))]) + " ..."
		if raw.over == overSize {
			a.errorf(l, 1, "line is too long (the limit is %d bytes) and passes the source's limit of %d bytes; the rest is not read", maxLineLen, a.limits.size)
		} else {
			a.errorf(l, 1, "line is too long (%d bytes; the limit is %d)", raw.size, maxLineLen)
		}
		return false
	}
	switch raw.over {
	case overSize:
		l.text = quote.Line(raw.text)
		a.errorf(l, 1, "source is larger than %d bytes (%d MiB), the limit with the files it includes; the rest is not read", a.limits.size, a.limits.size>>20)
		return false
	case overLines:
		l.text = quote.Line(raw.text)
		a.errorf(l, 1, "source has more than %d lines, the limit with the files it includes; the rest is not read", a.limits.lines)
		return false
	}
	text := raw.text
	if i := strings.IndexByte(text, 0); i >= 0 {
		l.text = quote.Line(text)
		a.errorf(l, utf8.RuneCountInString(text[:i])+1, "NUL byte in source (is this a binary file?)")
		return false
	}
	if !utf8.ValidString(text) {
		i := 0
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		l.text = quote.Line(text)
		a.errorf(l, utf8.RuneCountInString(text[:i])+1, "invalid UTF-8 encoding (source must be UTF-8 text)")
		return false
	}
	return true
}

// processLine handles one line of a file or of a macro expansion at macro depth depth. It
// returns the macro definition that the line opens, if it is a .macro, and whether an expansion
// had to be abandoned (then the enclosing expansions stop too).
func (a *assembler) processLine(l *srcLine, stack []string, depth int) (*asmMacro, bool) {
	toks, ok := a.lex(l)
	if !ok {
		return nil, true
	}
	if !a.checkTokens(l, toks) {
		a.lines.drop(l)
		return nil, false
	}
	labels, head, rest := splitHead(toks)
	if head != nil {
		l.headCol = int32(head.Pos.Column)
		name := strings.ToLower(head.Value)
		switch name {
		case ".include":
			a.addLabelsOnly(l, labels)
			a.include(l, head, rest, stack)
			return nil, false
		case ".macro":
			a.addLabelsOnly(l, labels)
			if l.exp != nil {
				a.errorf(l, head.Pos.Column, "a .macro cannot be defined inside a macro expansion")
				return nil, false
			}
			return a.startMacro(l, rest), false
		case ".endm":
			a.errorf(l, head.Pos.Column, ".endm without .macro")
			return nil, false
		}
		if m := a.macros[name]; m != nil {
			a.addLabelsOnly(l, labels)
			args, ok := a.macroArgs(l, head, rest)
			if !ok {
				return nil, false
			}
			return nil, a.expand(m, l, args, stack, depth)
		}
	}
	f, col, msg, ok := a.formOf(l, toks)
	if !ok {
		return nil, true
	}
	if msg != "" {
		a.errorf(l, col, "%s", msg)
		f = a.labelsForm(labels)
		l.failed = true
	}
	// A line of nothing but a comment or white space has no part in what follows.
	if len(f.labels) > 0 || f.head >= 0 {
		l.form = f
	} else {
		a.lines.drop(l)
	}
	return nil, false
}

// lex splits line l into tokens and charges them to the source's budget of MaxSourceTokens. When
// the budget runs out it reports the line and stops the reading, and returns false. The tokens
// are valid until the next call: every line is lexed into the same buffer.
func (a *assembler) lex(l *srcLine) ([]lexer.Token, bool) {
	if a.sourceCut {
		return nil, false
	}
	a.toks = lexLineTokens(a.toks[:0], l.text)
	a.sourceTokens += len(a.toks)
	if a.sourceTokens > a.limits.tokens {
		a.cut(l, "source has more than %d tokens (names, numbers, operators, commas and line ends), the limit with the files it includes and the macros it expands; the rest is not read", a.limits.tokens)
		return nil, false
	}
	return a.toks, true
}

// cut reports that the source passed a limit at line l, and stops the reading. Inside a macro
// expansion, the line to blame is the invocation that began it, as for the limit on the text of
// expansions.
func (a *assembler) cut(l *srcLine, format string, args ...any) {
	at, col := l, 1
	if l.exp != nil {
		at, col = l.exp.top, int(l.exp.top.headCol)
	}
	a.errorf(at, col, format, args...)
	a.sourceCut = true
}

// addLabelsOnly records the labels of a line whose statement is handled before parsing, such as
// a macro invocation: they name the address where the expansion starts.
func (a *assembler) addLabelsOnly(l *srcLine, labels int) {
	if labels > 0 {
		l.form = a.labelsForm(labels)
	}
}

// checkTokens reports a stray character, an unterminated literal, a macro parameter outside a
// macro, or parentheses nested too deep: before the parser sees the line, so that its recursion
// stays bounded.
func (a *assembler) checkTokens(l *srcLine, toks []lexer.Token) bool {
	depth := 0
	for _, t := range toks {
		col := t.Pos.Column
		switch t.Type {
		case tokBad:
			r, _ := utf8.DecodeRuneInString(t.Value)
			if unicode.IsPrint(r) {
				a.errorf(l, col, "unexpected character '%c'", r)
			} else {
				a.errorf(l, col, "unexpected character U+%04X", r)
			}
			return false
		case tokBadString:
			if t.Value[0] == '"' {
				a.errorf(l, col, "unterminated string (missing closing \")")
			} else {
				a.errorf(l, col, "unterminated character literal (missing closing ')")
			}
			return false
		case tokParam:
			if t.Value == "\\" {
				a.errorf(l, col, "unexpected character '\\'")
			} else {
				a.errorf(l, col, "'%s' is a macro parameter; it can only be used inside a .macro body", t.Value)
			}
			return false
		case tokPunct, tokOp:
			switch t.Value {
			case "(":
				depth++
				if depth > maxParenDepth {
					a.errorf(l, col, "parentheses nested deeper than %d levels", maxParenDepth)
					return false
				}
			case ")":
				depth--
			}
		}
	}
	return true
}

// splitHead splits a line's tokens into its labels, "name:" each, the name after them (nil if
// there is none) and the rest, without the EOF token. It returns how many labels there are:
// label i is token 2i.
func splitHead(toks []lexer.Token) (labels int, head *lexer.Token, rest []lexer.Token) {
	toks = toks[:len(toks)-1]
	i := 0
	for i+1 < len(toks) && toks[i].Type == tokIdent && toks[i+1].Value == ":" && toks[i+1].Type == tokPunct {
		labels++
		i += 2
	}
	if i < len(toks) && toks[i].Type == tokIdent {
		return labels, &toks[i], toks[i+1:]
	}
	return labels, nil, toks[i:]
}

// include expands the file that an .include line names, relative to the including file.
func (a *assembler) include(l *srcLine, head *lexer.Token, rest []lexer.Token, stack []string) {
	if len(rest) != 1 || rest[0].Type != tokString {
		col := head.Pos.Column
		if len(rest) > 0 {
			col = rest[0].Pos.Column
		}
		a.errorf(l, col, ".include takes one file name in double quotes, as in .include \"lib.s\"")
		return
	}
	nameBytes, err := unescape(rest[0].Value, rest[0].Pos.Column)
	if err != nil {
		a.errorf(l, err.col, "%s", err.msg)
		return
	}
	name := string(nameBytes)
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(a.fileOf(l)), path)
	}
	path = filepath.Clean(path)
	col := rest[0].Pos.Column
	for i, f := range stack {
		if f == path {
			chain := strings.Join(append(append([]string(nil), stack[i:]...), path), " -> ")
			a.errorf(l, col, "recursive .include of '%s' (%s)", path, chain)
			return
		}
	}
	if len(stack) >= maxIncludeDepth {
		a.errorf(l, col, ".include nested deeper than %d files", maxIncludeDepth)
		return
	}
	f, rerr := a.open(path)
	if rerr != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(rerr, fs.ErrNotExist):
			a.errorf(l, col, "cannot include '%s': file not found", path)
		case errors.As(rerr, &pe):
			a.errorf(l, col, "cannot include '%s': %v", path, pe.Err)
		default:
			a.errorf(l, col, "cannot include '%s': %v", path, rerr)
		}
		return
	}
	defer f.Close()
	var keep *bytes.Buffer
	if _, ok := a.sources[path]; !ok {
		keep = new(bytes.Buffer)
		a.sources[path] = nil // the text, when it has been read
	}
	a.processFile(path, f, keep, append(stack[:len(stack):len(stack)], path))
	if keep != nil {
		a.sources[path] = keep.Bytes()
	}
}

// startMacro reads the head of a macro definition: ".macro name p1, p2".
func (a *assembler) startMacro(l *srcLine, rest []lexer.Token) *asmMacro {
	m := &asmMacro{def: l}
	if len(rest) == 0 || rest[0].Type != tokIdent {
		a.errorf(l, int(l.headCol), ".macro needs a name, as in .macro push2 a, b")
		m.name = "?"
		return m // still collect the body, so that its lines are not read as code
	}
	m.name = rest[0].Value
	ok := true
	if strings.Contains(m.name, ".") {
		a.errorf(l, rest[0].Pos.Column, "macro name '%s' must be a plain identifier", m.name)
		ok = false
	} else if why := reservedName(m.name); why != "" {
		a.errorf(l, rest[0].Pos.Column, "macro name '%s' is %s", m.name, why)
		ok = false
	}
	seen := map[string]bool{}
	for i := 1; i < len(rest); i++ {
		t := rest[i]
		if t.Value == "," && t.Type == tokPunct && i > 1 && i+1 < len(rest) {
			continue
		}
		if t.Type != tokIdent || strings.Contains(t.Value, ".") {
			a.errorf(l, t.Pos.Column, "expected a macro parameter name, found %s", strings.TrimPrefix(unexpectedMessage(t), "unexpected "))
			ok = false
			break
		}
		if seen[t.Value] {
			a.errorf(l, t.Pos.Column, "duplicate macro parameter '%s'", t.Value)
			ok = false
		}
		seen[t.Value] = true
		m.params = append(m.params, t.Value)
	}
	if !ok {
		m.name = "" // collect the body but do not define the macro
	}
	return m
}

// reservedName says why a name cannot be a macro's, or "" if it can.
func reservedName(name string) string {
	lower := strings.ToLower(name)
	if _, ok := isa.Lookup(lower); ok || pseudoOps[lower] {
		return "an instruction"
	}
	if _, ok := isa.ParseReg(lower); ok {
		return "a register"
	}
	return ""
}

func (a *assembler) defineMacro(m *asmMacro) {
	if m.name == "" || m.name == "?" {
		return
	}
	key := strings.ToLower(m.name)
	if old := a.macros[key]; old != nil {
		a.errorf(m.def, int(m.def.headCol), "macro '%s' is already defined at %s:%d", m.name, a.fileOf(old.def), old.def.num)
		return
	}
	a.macros[key] = m
}

// macroArgs splits the arguments of a macro invocation at the commas outside parentheses; each
// argument is the text between them.
func (a *assembler) macroArgs(l *srcLine, head *lexer.Token, rest []lexer.Token) ([]string, bool) {
	if len(rest) == 0 {
		return nil, true
	}
	var args []string
	start, depth := 0, 0
	for i := 0; i <= len(rest); i++ {
		if i < len(rest) {
			t := rest[i]
			if t.Type != tokPunct {
				continue
			}
			switch t.Value {
			case "(":
				depth++
				continue
			case ")":
				depth--
				continue
			case ",":
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if i == start {
			col := head.Pos.Column
			if i < len(rest) {
				col = rest[i].Pos.Column
			} else if i > 0 {
				col = rest[i-1].Pos.Column + 1
			}
			a.errorf(l, col, "missing argument %d of macro '%s'", len(args)+1, head.Value)
			return nil, false
		}
		first, last := rest[start], rest[i-1]
		args = append(args, l.text[first.Pos.Offset:last.Pos.Offset+len(last.Value)])
		start = i + 1
	}
	return args, true
}

// expand substitutes the arguments into the body of macro m, invoked by line call, and
// processes the resulting lines. It returns true if the expansion had to be abandoned.
func (a *assembler) expand(m *asmMacro, call *srcLine, args []string, stack []string, depth int) bool {
	if depth >= maxMacroDepth {
		a.errorf(call.top(), int(call.top().headCol), "macros nested deeper than %d levels (%s)", maxMacroDepth, macroCycle(m, call))
		return true
	}
	if len(args) != len(m.params) {
		a.errorf(call, int(call.headCol), "macro '%s' takes %d argument%s (%s), found %d", m.name,
			len(m.params), plural(len(m.params)), strings.Join(m.params, ", "), len(args))
		return false
	}
	params := make(map[string]string, len(m.params))
	for i, p := range m.params {
		params[p] = args[i]
	}
	counter := a.expansions
	a.expansions++
	exp := &expansion{macro: m.name, via: call, top: call.top()}
	for _, b := range m.body {
		a.seq++
		nl := a.lines.add(srcLine{seq: int32(a.seq), file: b.file, num: b.num, exp: exp})
		text, size, err := substituteParams(b.text, params, counter, a.shown(nl))
		// Nesting is limited, but a macro that invokes another twice, which invokes another
		// twice, and so on, multiplies: the text that expansions produce is limited too, since
		// every line of it costs memory to parse and lay out. What is charged is the text
		// produced, not the body's: an argument can be far longer than the parameter it
		// replaces. A line too long is charged what was built of it.
		a.expandedBytes += min(size, maxLineLen+1) + 1
		if a.expandedBytes > maxExpandedBytes {
			if !a.expansionCut {
				a.errorf(call.top(), int(call.top().headCol), "macro expansions produce more than %d bytes of text", maxExpandedBytes)
				a.expansionCut = true
			}
			return true
		}
		nl.text = text
		if err != nil {
			nl.text = b.text
			a.errorf(nl, err.col, "%s", err.msg)
			continue
		}
		if size > maxLineLen {
			nl.text = b.text
			a.errorf(nl, 1, "line is too long after macro expansion (%d bytes; the limit is %d)", size, maxLineLen)
			continue
		}
		if _, abort := a.processLine(nl, stack, depth+1); abort {
			return true
		}
	}
	return false
}

// macroCycle names the macros that an endless expansion goes through, from the outermost, up to
// the first one that comes back: "main_loop -> ping -> pong -> ping -> ...".
func macroCycle(m *asmMacro, call *srcLine) string {
	names := []string{m.name}
	for l := call; l != nil && l.exp != nil; l = l.exp.via {
		names = append(names, l.exp.macro)
	}
	slices.Reverse(names)
	for i := range names {
		if j := slices.Index(names[i+1:], names[i]); j >= 0 {
			return strings.Join(names[:i+j+2], " -> ") + " -> ..."
		}
	}
	return strings.Join(names, " -> ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// substituteParams replaces \name by the argument of parameter name and \@ by the expansion's
// counter, and returns the text and its size in bytes. Literals and comments are left alone, so
// that "\n" stays a newline even in a macro with a parameter named n. The error for an unknown
// parameter suggests one if suggest is set.
//
// Only the first maxLineLen+1 bytes of the text are built; past them the rest is only counted,
// for the message. A line that uses a parameter 1,300 times, given an argument of 2,000 bytes,
// made 2.6 MB for each expansion before it was found too long, and 2,000 such expansions took
// 7.6 s of CPU.
func substituteParams(text string, params map[string]string, counter int, suggest bool) (string, int, *colError) {
	var b boundedText
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '#' || c == ';':
			b.add(text[i:])
			return b.String(), b.n, nil
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(text) && text[j] != c {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(text))
			b.add(text[i:j])
			i = j
		case c == '\\':
			j := i + 1
			if j < len(text) && text[j] == '@' {
				b.add(strconv.Itoa(counter))
				i = j + 1
				continue
			}
			for j < len(text) && (text[j] == '_' || 'a' <= text[j] && text[j] <= 'z' || 'A' <= text[j] && text[j] <= 'Z' || j > i+1 && '0' <= text[j] && text[j] <= '9') {
				j++
			}
			name := text[i+1 : j]
			if name == "" {
				b.add(text[i : i+1]) // a stray backslash, for the lexer to report
				i++
				continue
			}
			v, ok := params[name]
			if !ok {
				hint := ""
				if suggest {
					var names []string
					for p := range params {
						names = append(names, `\`+p)
					}
					hint = didYouMean(`\`+name, names)
				}
				return "", b.n, &colError{col: utf8.RuneCountInString(text[:i]) + 1,
					msg: fmt.Sprintf(`unknown macro parameter '\%s'%s`, name, hint)}
			}
			b.add(v)
			i = j
		default:
			b.add(text[i : i+1])
			i++
		}
	}
	return b.String(), b.n, nil
}

// boundedText builds a line of at most maxLineLen+1 bytes and counts the bytes it was given.
type boundedText struct {
	b strings.Builder
	n int
}

func (t *boundedText) add(s string) {
	if t.n+len(s) <= maxLineLen+1 {
		t.b.WriteString(s)
	}
	t.n += len(s)
}

func (t *boundedText) String() string { return t.b.String() }
