package debugger

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Scripts at stops: commands N ... end gives a breakpoint commands that run each time it stops
// the program, as gdb's do; echo and printf print what a grader's script wants to see. A
// breakpoint whose commands begin with silent stops without a word, so that a script of
// "silent, printf, continue" prints a trace of the program and nothing else.

// A definition is the command list being typed after commands N, until end.
type definition struct {
	bps   []*breakpoint
	lines []string
}

// ShowFrame shows where the session is, as frame does, without being a command of its
// history (a record saved after a replay holds the commands of the session, not this).
func (s *Session) ShowFrame() { s.cmdFrame("") }

// Defining reports whether the session is taking the lines of a commands list, up to end: the
// prompt for them is ">" in gdb.
func (s *Session) Defining() bool { return s.defining != nil }

func (s *Session) cmdCommands(arg string) error {
	if s.inCommands {
		return errors.New("commands: a breakpoint's commands cannot give commands to breakpoints")
	}
	var bs []*breakpoint
	if arg == "" {
		// The last breakpoint made, as in gdb.
		for _, b := range s.bps {
			if b.id > 0 && (len(bs) == 0 || b.id > bs[0].id) {
				bs = []*breakpoint{b}
			}
		}
		if bs == nil {
			return errors.New("commands: no breakpoint to give commands to (break makes one)")
		}
	} else {
		var err error
		if bs, err = s.ids(arg); err != nil {
			return err
		}
	}
	s.defining = &definition{bps: bs}
	return nil
}

// define takes one line of a commands list.
func (s *Session) define(line string) {
	d := s.defining
	line = stripComment(strings.TrimSpace(line))
	if line == "" {
		return // an empty line in a list would repeat the last step when the list runs
	}
	if line != "end" {
		d.lines = append(d.lines, line)
		return
	}
	s.defining = nil
	for _, b := range d.bps {
		b.commands, b.silent = d.lines, len(d.lines) > 0 && d.lines[0] == "silent"
		if b.silent {
			b.commands = d.lines[1:]
		}
	}
}

// runCommands runs the commands of the breakpoints that stopped the program, in the order they
// stopped it. A command that runs the program on ends its list, as in gdb: the stop it comes to
// runs its own breakpoints' commands next.
func (s *Session) runCommands() {
	if s.inCommands {
		return // the loop below runs what the inner stops queue
	}
	s.inCommands = true
	defer func() { s.inCommands = false }()
	for len(s.queued) > 0 && !s.quit {
		b := s.queued[0]
		s.queued = s.queued[1:]
		for _, line := range b.commands {
			moves := s.moves
			if err := s.Exec(line); err != nil {
				fmt.Fprintf(s.out, "[breakpoint %d's command %q: %v]\n", b.id, line, err)
				break
			}
			if s.wasPaused || s.timedOut || s.undone {
				s.queued = nil // a Ctrl-C or the time limit ends every list
				return
			}
			if s.moves != moves || s.quit {
				break
			}
		}
	}
}

func (s *Session) cmdEcho(arg string) error {
	text, err := unescape(arg)
	if err != nil {
		return fmt.Errorf("echo: %v", err)
	}
	fmt.Fprint(s.out, text)
	return nil
}

// unescape reads C's escapes in text, as gdb's echo and printf do: \n, \t, \\, \", and a \ at
// the end of the text, which stands for nothing.
func unescape(text string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i == len(text) {
			break
		}
		switch text[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\', '"', '\'':
			b.WriteByte(text[i])
		case '0':
			b.WriteByte(0)
		default:
			return "", fmt.Errorf(`\%c is no escape: want \n, \t, \\, \" or \0`, text[i])
		}
	}
	return b.String(), nil
}

// verb is one conversion of printf's format: flags, width, precision and a letter.
// C's length modifiers (%ld, %llx, %zu) are taken and mean nothing: every value is 64 bits.
var verb = regexp.MustCompile(`%[-+ #0]*[0-9]*(?:\.[0-9]+)?(?:hh|h|ll|l|z|j|t)?[a-zA-Z%]`)

// lengths are the length modifiers that verb takes.
var lengths = regexp.MustCompile(`(hh|h|ll|l|z|j|t)$`)

// cutQuoted reads the string in double quotes, with C's escapes, at the start of text (its
// first byte is the opening quote), and returns it and the text after its closing quote;
// closed is false when there is none.
func cutQuoted(text string) (s, rest string, closed bool, err error) {
	end := 1
	for ; end < len(text) && text[end] != '"'; end++ {
		if text[end] == '\\' {
			end++
		}
	}
	if end >= len(text) {
		return "", "", false, nil
	}
	s, err = unescape(text[1:end])
	return s, text[end+1:], true, err
}

func (s *Session) cmdPrintf(arg string) error {
	if !strings.HasPrefix(arg, `"`) {
		return errors.New(`printf: "FORMAT", EXPR... (such as printf "n = %d\n", a0)`)
	}
	format, rest, closed, err := cutQuoted(arg)
	if !closed {
		return errors.New("printf: the format has no closing quote")
	}
	if err != nil {
		return fmt.Errorf("printf: %v", err)
	}
	var exprs []string
	if rest = strings.TrimSpace(rest); rest != "" {
		if !strings.HasPrefix(rest, ",") {
			return fmt.Errorf("printf: want a comma after the format, found %q", rest)
		}
		exprs = splitArgs(rest[1:])
	}
	var out strings.Builder
	last, n := 0, 0
	for _, m := range verb.FindAllStringIndex(format, -1) {
		out.WriteString(format[last:m[0]])
		last = m[1]
		v := format[m[0]:m[1]]
		letter := v[len(v)-1]
		if letter == '%' {
			out.WriteByte('%')
			continue
		}
		if n == len(exprs) {
			return fmt.Errorf("printf: %s has no value: the format wants more than the %d given", v, len(exprs))
		}
		x, err := s.eval(exprs[n], s.cur)
		if err != nil {
			return err
		}
		n++
		spec := lengths.ReplaceAllString(v[:len(v)-1], "")
		switch letter {
		case 'd', 'i':
			fmt.Fprintf(&out, spec+"d", int64(x))
		case 'u':
			fmt.Fprintf(&out, spec+"d", x)
		case 'x', 'X', 'o', 'b':
			fmt.Fprintf(&out, spec+string(letter), x)
		case 'c':
			fmt.Fprintf(&out, spec+"s", string([]byte{byte(x)})) // one byte, as C's, not a rune
		case 's':
			str, err := s.cString(x)
			if err != nil {
				return err
			}
			fmt.Fprintf(&out, spec+"s", str)
		default:
			return fmt.Errorf("printf: %s: want %%d, %%i, %%u, %%x, %%X, %%o, %%b, %%c, %%s or %%%%", v)
		}
	}
	if n < len(exprs) {
		return fmt.Errorf("printf: %d values for a format that takes %d", len(exprs), n)
	}
	out.WriteString(format[last:])
	fmt.Fprint(s.out, out.String())
	return nil
}

// splitArgs splits printf's values at the commas that are not inside parentheses, a string or a
// char.
func splitArgs(text string) []string {
	var args []string
	depth, start := 0, 0
	outsideQuotes(text, func(i int) bool {
		switch text[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(text[start:i]))
				start = i + 1
			}
		}
		return true
	})
	return append(args, strings.TrimSpace(text[start:]))
}
