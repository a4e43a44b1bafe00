package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spindle-vm/spindle/debugger"
	"github.com/spindle-vm/spindle/isa"
)

// Tab completion in spindle debug follows each command's syntax: argSyntax says, for every
// command, what each word of its arguments may be, and Do walks the words typed so far through
// it to the one being completed. A command's first word is split at blanks only, since
// reverse-step and scheduler-locking have a '-' in them; only where an expression may come is a
// word split at its operators too.

// A source is a kind of word that completion offers.
type source uint

const (
	commandNames source = 1 << iota // the debugger's commands
	registers                       // the registers and pc
	labels                          // the program's labels
	sourceFiles                     // the program's source files, followed by a colon: FILE:LINE
	syscallNames                    // the syscalls, by name
	threadIDs                       // the threads that have not exited, as TID and PID.TID
	hostFiles                       // the host's files, from the current directory
)

// A syntax says what a word of a command's arguments may be, and what follows it.
type syntax struct {
	keywords []keyword // the words that may come here, each with its own syntax after it
	abbrev   bool      // a prefix of one keyword that no other has is that keyword (info's topics)
	words    source    // what else the word may be
	expr     bool      // the word is an expression: after an operator in it, registers and labels
	star     bool      // a word that begins with * is an expression (a location's *ADDR)
	rest     bool      // the words after this one are of the same syntax (an expression's)
	then     *syntax   // what follows a word that is no keyword; nil for nothing
}

type keyword struct {
	name string
	then *syntax // nil for nothing
}

// operators are the characters that end a word inside an expression (see debugger/expr.go).
const operators = "*/%+-~!<>=&^|()$"

var (
	commandLine = &syntax{words: commandNames}
	expression  = &syntax{words: registers | labels, expr: true, rest: true}
	location    = &syntax{words: labels | sourceFiles, star: true}
	onOff       = &syntax{keywords: []keyword{{"on", nil}, {"off", nil}}}
	thread      = &syntax{words: threadIDs}
)

// argSyntax is what the arguments of each command complete to, by the command's name. A nil
// syntax is a command whose arguments, if any, are counts or numbers: nothing to offer.
var argSyntax = map[string]*syntax{
	"run":              nil,
	"continue":         nil,
	"stepi":            nil,
	"step":             nil,
	"next":             nil,
	"finish":           nil,
	"until":            location,
	"advance":          location,
	"reverse-stepi":    nil,
	"reverse-step":     nil,
	"reverse-next":     nil,
	"reverse-finish":   nil,
	"reverse-continue": nil,
	"break": {
		keywords: []keyword{{"switch", &syntax{keywords: []keyword{{"to", nil}}}}},
		words:    labels | sourceFiles, star: true,
		then: &syntax{keywords: []keyword{{"if", expression}}},
	},
	"tbreak": {
		words: labels | sourceFiles, star: true,
		then: &syntax{keywords: []keyword{{"if", expression}}},
	},
	"watch": expression,
	"catch": {keywords: []keyword{
		{"syscall", &syntax{words: syscallNames}},
		{"trap", nil},
	}},
	"delete":    nil,
	"clear":     location,
	"disable":   nil,
	"enable":    nil,
	"ignore":    nil,
	"condition": {then: expression},
	"print":     expression,
	"x":         expression,
	"display":   expression,
	"undisplay": nil,
	"set": {
		keywords: []keyword{{"scheduler-locking", onOff}},
		words:    registers, expr: true, // REG = EXPR, or *ADDR = EXPR
		then: expression,
	},
	"info":        infoSyntax(),
	"backtrace":   thread,
	"frame":       nil,
	"up":          nil,
	"down":        nil,
	"list":        location,
	"disassemble": location,
	"thread": {
		// thread apply all|THREAD... COMMAND: the threads, then a command that shows them.
		keywords: []keyword{{"apply", &syntax{keywords: []keyword{{"all", &syntax{words: commandNames}}}, words: threadIDs | commandNames, rest: true}}},
		words:    threadIDs,
	},
	"sched":    nil,
	"ctx":      nil,
	"trace":    {keywords: []keyword{{"switches", onOff}}},
	"reset":    nil,
	"reload":   nil,
	"record":   {keywords: []keyword{{"save", &syntax{words: hostFiles}}}},
	"commands": nil,
	"echo":     nil,
	"printf":   {then: expression},
	"help":     {words: commandNames},
	"quit":     nil,
}

// infoSyntax is info's: a topic, of which registers and line take an argument.
func infoSyntax() *syntax {
	after := map[string]*syntax{
		"registers": {words: registers | threadIDs, rest: true}, // a thread, or registers
		"line":      location,
	}
	s := &syntax{abbrev: true}
	for _, topic := range debugger.InfoTopics() {
		s.keywords = append(s.keywords, keyword{topic, after[topic]})
	}
	return s
}

// next is the syntax of the word after word.
func (s *syntax) next(word string) *syntax {
	if s == nil {
		return nil
	}
	var match []keyword
	for _, k := range s.keywords {
		if k.name == word {
			return k.then
		}
		if s.abbrev && strings.HasPrefix(k.name, word) {
			match = append(match, k)
		}
	}
	if len(match) == 1 {
		return match[0].then
	}
	if s.rest {
		return s
	}
	return s.then
}

type completer struct{ s *debugger.Session }

// Do completes the word before the cursor, by the syntax of the command that the line's first
// word runs: its name, an alias or a unique prefix, as the session reads it. A candidate is
// followed by a blank, a source file by a colon (for FILE:LINE) and a host directory by a slash.
// A word that is already a whole candidate is one of the candidates, so that Tab after "fib"
// lists fib, fib.base and fib.s instead of changing it to "fib.".
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	fields := strings.Fields(text)
	field := ""
	if len(fields) > 0 && !strings.HasSuffix(text, " ") && !strings.HasSuffix(text, "\t") {
		field, fields = fields[len(fields)-1], fields[:len(fields)-1]
	}
	if slices.ContainsFunc(strings.Fields(text), func(f string) bool { return strings.HasPrefix(f, "#") }) {
		return nil, 0 // a comment
	}
	syn := commandLine
	if len(fields) > 0 {
		name, _, _ := strings.Cut(fields[0], "/") // p/x, x/4xg
		syn = argSyntax[debugger.CommandName(name)]
		for _, f := range fields[1:] {
			syn = syn.next(f)
		}
	}
	if syn == nil {
		return nil, 0
	}
	word, keywords, words := field, syn.keywords, syn.words
	if syn.expr || syn.star && strings.HasPrefix(field, "*") {
		if i := strings.LastIndexAny(field, operators); i >= 0 {
			word, keywords, words = field[i+1:], nil, registers|labels
		}
	}
	var out [][]rune
	add := func(cands []string, end string) {
		for _, cand := range cands {
			if strings.HasPrefix(cand, word) {
				out = append(out, []rune(cand[len(word):]+end))
			}
		}
	}
	for _, k := range keywords {
		add([]string{k.name}, " ")
	}
	if words&commandNames != 0 {
		add(debugger.CommandNames(), " ")
	}
	if words&registers != 0 {
		for r := range isa.NumRegs {
			add([]string{isa.RegName(r)}, " ")
		}
		add([]string{"pc"}, " ")
	}
	if words&labels != 0 {
		add(c.s.Labels(), " ")
	}
	if words&sourceFiles != 0 {
		add(c.s.Files(), ":")
	}
	if words&syscallNames != 0 {
		for _, sc := range isa.Syscalls {
			add([]string{sc.Name}, " ")
		}
	}
	if words&threadIDs != 0 {
		add(c.s.ThreadIDs(), " ")
	}
	if words&hostFiles != 0 {
		files, dirs := hostPaths(word)
		add(files, " ")
		add(dirs, "/")
	}
	return out, len([]rune(word))
}

// hostPaths lists the files and the directories that word may begin, as paths from the current
// directory: those in word's directory whose names begin with the rest of it. Names that begin
// with a dot are left out unless word's last element begins with one too, as shells do.
func hostPaths(word string) (files, dirs []string) {
	dir, base := filepath.Split(word)
	entries, err := os.ReadDir(dir + ".")
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(dir+".", name)); err == nil {
				isDir = fi.IsDir()
			}
		}
		if isDir {
			dirs = append(dirs, dir+name)
		} else {
			files = append(files, dir+name)
		}
	}
	return files, dirs
}
