package debugger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spindle-vm/spindle/vm"
)

// Log points. A breakpoint given a message (condition -log N "MESSAGE", an editor's log
// message) does not stop the run: each time it is reached going forward, with its condition
// and its hit condition holding, it prints the message, with each {EXPR} in it replaced by the
// value of EXPR in the thread that reached it, as print shows it; {{ and }} stand for braces.
// An expression that cannot be evaluated there is replaced by what is wrong with it, and the
// run goes on. Going back, a log point prints nothing and stops nothing: it prints again when
// a run forward reaches it again.

// A logMessage is a log point's message: text, and expressions between the pieces of it.
type logMessage struct {
	text  string   // as it was given
	parts []string // text, expression, text, ...: the even ones are text
}

// parseLog reads a log message.
func parseLog(text string) (*logMessage, error) {
	m := &logMessage{text: text}
	var lit strings.Builder
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '{' && i+1 < len(text) && text[i+1] == '{', c == '}' && i+1 < len(text) && text[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(text[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("log message %q: the { at %d has no }: {EXPR} is the value of EXPR, and {{ a brace", text, i+1)
			}
			expr := strings.TrimSpace(text[i+1 : i+1+end])
			if expr == "" {
				return nil, fmt.Errorf("log message %q: {} has no expression: {EXPR} is the value of EXPR, and {{ a brace", text)
			}
			m.parts = append(m.parts, lit.String(), expr)
			lit.Reset()
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("log message %q: the } at %d closes no {: }} is a brace", text, i+1)
		default:
			lit.WriteByte(c)
		}
	}
	m.parts = append(m.parts, lit.String())
	return m, nil
}

// CheckLogMessage reports whether text is a log message that condition -log takes, and if not,
// why.
func CheckLogMessage(text string) error {
	_, err := parseLog(text)
	return err
}

// logLine is the message as thread t prints it.
func (s *Session) logLine(m *logMessage, t *vm.Thread) string {
	var b strings.Builder
	for i, p := range m.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		if t == nil {
			fmt.Fprintf(&b, "<%s: no thread>", p)
			continue
		}
		v, err := s.eval(p, t)
		switch {
		case err == nil:
			b.WriteString(formatValue(v, 0))
		case strings.HasPrefix(err.Error(), "in "):
			fmt.Fprintf(&b, "<%v>", err)
		default:
			fmt.Fprintf(&b, "<in %q: %v>", p, err)
		}
	}
	return b.String()
}

// logHit prints the message of log point b, reached at stop st.
func (s *Session) logHit(b *breakpoint, st vm.Stop) {
	t := st.Thread
	if t == nil {
		t = s.cur
	}
	fmt.Fprintln(s.out, s.logLine(b.log, t))
}

// conditionLog is condition -log N ["MESSAGE"]: breakpoint N prints MESSAGE rather than
// stopping; none makes it stop again. The message is in quotes, with C's escapes, so that a #
// in it is not a comment.
func (s *Session) conditionLog(arg string) error {
	id, text, _ := strings.Cut(strings.TrimSpace(arg), " ")
	if id == "" {
		return errors.New(`condition -log: N ["MESSAGE"], such as condition -log 1 "counter is {*counter}"`)
	}
	bs, err := s.ids(id)
	if err != nil {
		return err
	}
	if text = strings.TrimSpace(text); text == "" {
		bs[0].log = nil
		return nil
	}
	msg, err := quoted(text)
	if err != nil {
		return fmt.Errorf("condition -log: %v", err)
	}
	m, err := parseLog(msg)
	if err != nil {
		return err
	}
	bs[0].log = m
	return nil
}

// quoted reads a string in double quotes with C's escapes, which is all of text.
func quoted(text string) (string, error) {
	if !strings.HasPrefix(text, `"`) {
		return "", fmt.Errorf("the message is in double quotes: \"%s\"", text)
	}
	msg, rest, closed, err := cutQuoted(text)
	if !closed {
		return "", errors.New("the message has no closing quote")
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		return "", fmt.Errorf("%q after the message's closing quote", rest)
	}
	return msg, err
}

// quote puts text in double quotes as quoted reads them.
func quote(text string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(text) {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
