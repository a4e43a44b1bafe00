package asm

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of one statement, the unit the assembler parses:
//
//	statement = { label ":" } [ name [ operand { [","] operand } ] ]
//	operand   = expr [ "(" expr ")" ] | string
//	expr      = unary { op unary }
//	unary     = { op } primary
//	primary   = ident | number | "(" expr ")" | char | "."
//
// All operators are one kind of token, so that the parser tries one alternative rather than
// one per operator; which operators may stand where (only - ~ + before an operand) is checked
// when the expression is built. That, and the order of the alternatives (the common ones
// first), roughly halves the time participle spends on a line, most of which goes to the
// alternatives that fail.
//
// The grammar is deliberately loose. Whether a name is an instruction, a directive or a macro,
// whether an identifier is a register or a symbol, which operands an instruction takes and
// whether a comma is missing are decided afterwards, where the message can say what was meant
// ("expected a register, found '42'") instead of what token the parser wanted. Operator
// precedence is applied afterwards as well (see buildExpr), so that a long chain of operators
// costs a loop rather than a level of recursion per precedence level.

// asmLexerRules split one line into tokens. The catch-all rules at the end (BadString, Bad) make
// lexing total, so that a stray character becomes a token that gets its own message. Where two
// rules can match at the same place, the first wins: String and Char before BadString, Ident
// (".loop") before Punct ("."), every rule before Bad. The others come in the order of how often
// they start a token, which is the order the lexer tries them in.
//
// The rules are the definition; the lexer the assembler runs is generated from them, as code
// without regular expressions, by participle's own generator (participle gen lexer), into
// lexer_gen.go. It lexes the lines of a generated 100,000-line program (BenchmarkLexLines) in
// about a quarter of the time the regular expressions take, with two allocations a line where
// they made ten. TestGeneratedLexer fails when the rules changed and the code was not generated
// again, and TestGeneratedLexerAgrees and FuzzAssemble check that both split lines alike.
//
// go generate needs the participle command at the version of go.mod, v2.1.4, on the PATH. The
// module proxy does not serve it (it is a module of its own, without tags), so build it from
// the repository: git clone -b v2.1.4 https://github.com/alecthomas/participle, then go install
// in its cmd/participle.
//
// The generator's code for "." (and for [^\n], which is the same to it) cannot match the last
// character of its input, so the rules say [^\n\x00] where the regular expressions said ".".
// No line reaches the lexer with a newline or a NUL byte: the reader splits lines at the one
// and refuses the other. \n is white space all the same, so that only a NUL stops the lexer.
var asmLexerRules = []lexer.SimpleRule{
	{Name: "whitespace", Pattern: `[ \t\n\r\f\v]+`},
	{Name: "Ident", Pattern: `\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`},
	{Name: "Punct", Pattern: `[(),:.]`},
	{Name: "Number", Pattern: `[0-9][0-9A-Za-z_]*`},
	{Name: "comment", Pattern: `[#;][^\n\x00]*`},
	{Name: "Op", Pattern: `<<|>>|[-+*/%&|^~]`},
	{Name: "String", Pattern: `"(?:\\[^\n\x00]|[^"\\])*"`},
	{Name: "Char", Pattern: `'(?:\\[^\n\x00]|[^'\\])*'`},
	{Name: "BadString", Pattern: `["'][^\n\x00]*`},
	{Name: "Param", Pattern: `\\(?:@|[A-Za-z_][A-Za-z0-9_]*)?`},
	{Name: "Bad", Pattern: `[^\n\x00]`},
}

//go:generate go test -run ^TestGeneratedLexer$ -update-lexer
//go:generate participle gen lexer asm --name asm -o lexer_gen.go lexer_gen.json
//go:generate gofmt -w lexer_gen.go

var (
	tokString     = asmLexer.Symbols()["String"]
	tokChar       = asmLexer.Symbols()["Char"]
	tokBadString  = asmLexer.Symbols()["BadString"]
	tokNumber     = asmLexer.Symbols()["Number"]
	tokIdent      = asmLexer.Symbols()["Ident"]
	tokParam      = asmLexer.Symbols()["Param"]
	tokPunct      = asmLexer.Symbols()["Punct"]
	tokOp         = asmLexer.Symbols()["Op"]
	tokBad        = asmLexer.Symbols()["Bad"]
	tokComment    = asmLexer.Symbols()["comment"]
	tokWhitespace = asmLexer.Symbols()["whitespace"]
)

// stmtAST is one parsed statement. The tree says what each part is, and holds neither text nor
// positions, which are its tokens': newForm finds the tokens of each part by counting them, as
// the grammar consumes them. The fewer structs and fields the grammar fills, the less
// participle allocates: with the positions and a struct for each operator and each comma, a
// line of a new shape took 1.3 to 1.7 times as long to parse.
type stmtAST struct {
	Labels []bool `parser:"( @Ident ':' )*"`
	Op     *opAST `parser:"@@?"`
}

// opAST is an instruction, a pseudo-instruction, a directive or a macro invocation.
type opAST struct {
	Name bool          `parser:"@Ident"`
	Args []*operandAST `parser:"( @@ @@* )?"`
}

// operandAST is an operand and whether a comma preceded it. Commas are optional in the grammar
// so that a missing one gets a clear message, and because .loc separates its operands by a
// blank.
type operandAST struct {
	Comma bool     `parser:"@','?"`
	Val   *exprAST `parser:"( @@"`
	Base  *exprAST `parser:"  ( '(' @@ ')' )?"`
	Str   bool     `parser:"| @String )"`
}

// exprAST is a chain of unary expressions and the binary operators between them.
type exprAST struct {
	First *unaryAST   `parser:"@@"`
	Rest  []*unaryAST `parser:"( Op @@ )*"`
}

// unaryAST is a primary expression after prefix operators.
type unaryAST struct {
	Ops   []bool   `parser:"@Op*"`
	Sym   bool     `parser:"(  @Ident"`
	Num   bool     `parser:" | @Number"`
	Paren *exprAST `parser:" | '(' @@ ')'"`
	Char  bool     `parser:" | @Char"`
	Dot   bool     `parser:" | @'.' )"`
}

var stmtParser = participle.MustBuild[stmtAST](
	participle.Lexer(asmLexer),
	participle.UseLookahead(2),
)

// lexLineTokens appends to toks the tokens of a line, without the white space and the comment,
// and the EOF token.
func lexLineTokens(toks []lexer.Token, text string) []lexer.Token {
	// The generated lexer, made here rather than by its LexString, which allocates it and its
	// stack of states for every line. The rules have no states: the stack is never changed.
	lx := lexerasmImpl{s: text, pos: lexer.Position{Line: 1, Column: 1}, states: lexStates}
	for {
		t, err := lx.Next()
		if err != nil {
			// Cannot happen: only a NUL byte has no rule, and a line with one is refused
			// before it is lexed. End the line here.
			t = lexer.EOFToken(t.Pos)
		}
		if t.Type == tokWhitespace || t.Type == tokComment {
			continue
		}
		toks = append(toks, t)
		if t.EOF() {
			return toks
		}
	}
}

// lexStates is the stack of states of every line's lexer.
var lexStates = []lexerasmState{{name: "Root"}}

// asmTokenStream feeds already lexed tokens to the parser.
type asmTokenStream struct {
	toks []lexer.Token
	next int
}

func (s *asmTokenStream) Next() (lexer.Token, error) {
	t := s.toks[s.next]
	if s.next < len(s.toks)-1 {
		s.next++
	}
	return t, nil
}

// parseTokens parses the tokens of one line (ending with EOF). On a syntax error it returns the
// column and a message.
func parseTokens(toks []lexer.Token) (*stmtAST, int, string) {
	pl, err := lexer.Upgrade(&asmTokenStream{toks: toks})
	if err == nil {
		var st *stmtAST
		st, err = stmtParser.ParseFromLexer(pl)
		if err == nil {
			return st, 0, ""
		}
	}
	col := 1
	var perr participle.Error
	if pe, ok := err.(participle.Error); ok {
		perr = pe
		col = pe.Position().Column
	}
	if ut, ok := perr.(*participle.UnexpectedTokenError); ok {
		return nil, col, unexpectedMessage(ut.Unexpected) + expectedSuffix(ut.Message())
	}
	// Other parser errors carry a message about the grammar; find the offending token instead.
	for _, t := range toks {
		if t.Pos.Column >= col {
			return nil, col, unexpectedMessage(t)
		}
	}
	return nil, col, "syntax error"
}

// expectedSuffix turns the parser's "(expected X)" into words, for the few things it expects.
func expectedSuffix(msg string) string {
	i := strings.LastIndex(msg, "(expected ")
	if i < 0 {
		return ""
	}
	exp := strings.TrimSuffix(msg[i+len("(expected "):], ")")
	switch {
	// A part of the grammar such as an operand, or the alternatives of a unary expression's
	// primary: (<ident> | <number> | ...).
	case strings.HasSuffix(exp, "AST"), strings.HasPrefix(exp, "(<ident> |"):
		return "; expected a value"
	case len(exp) >= 3 && exp[0] == '"' && exp[len(exp)-1] == '"':
		return fmt.Sprintf("; expected '%s'", exp[1:len(exp)-1])
	}
	return ""
}

func unexpectedMessage(t lexer.Token) string {
	switch {
	case t.EOF():
		return "unexpected end of line"
	case t.Type == tokString:
		return "unexpected string"
	case t.Type == tokNumber:
		return fmt.Sprintf("unexpected number '%s'", t.Value)
	}
	return fmt.Sprintf("unexpected '%s'", t.Value)
}
