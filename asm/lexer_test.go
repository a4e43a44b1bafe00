package asm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

var updateLexer = flag.Bool("update-lexer", false, "write lexer_gen.json, the rules that lexer_gen.go is generated from (go generate does)")

// regexpLexer is the lexer that asmLexerRules define, with regular expressions: the definition
// that the generated lexer must agree with.
var regexpLexer = lexer.MustSimple(asmLexerRules)

// TestGeneratedLexer checks that lexer_gen.go was generated from the rules as they are:
// lexer_gen.json, which the generator read, must be the rules' JSON. With -update-lexer it
// writes that file instead, as the first step of go generate.
func TestGeneratedLexer(t *testing.T) {
	want, err := json.MarshalIndent(regexpLexer, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *updateLexer {
		if err := os.WriteFile("lexer_gen.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("lexer_gen.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("lexer_gen.go is stale: asmLexerRules changed since it was generated; run go generate ./asm with participle v2.1.4 on the PATH (see grammar.go) (-rules +lexer_gen.json):\n%s", d)
	}
}

// lexAll returns the tokens that lexer def makes of text, the ignored ones included, and the
// error that ended them, if any.
func lexAll(def lexer.StringDefinition, text string) ([]lexer.Token, error) {
	lx, err := def.LexString("", text)
	if err != nil {
		return nil, err
	}
	var toks []lexer.Token
	for {
		t, err := lx.Next()
		if err != nil {
			return toks, err
		}
		toks = append(toks, t)
		if t.EOF() {
			return toks, nil
		}
	}
}

// checkSameTokens fails t if the generated lexer and the regular expressions split line
// differently: the generated lexer drops nothing, so the elided tokens are compared too.
func checkSameTokens(t *testing.T, line string) {
	t.Helper()
	want, werr := lexAll(regexpLexer, line)
	got, gerr := lexAll(asmLexer.(lexer.StringDefinition), line)
	// The regular expressions' lexer drops the ignored tokens itself.
	var kept []lexer.Token
	for _, tok := range got {
		if tok.Type != tokComment && tok.Type != tokWhitespace {
			kept = append(kept, tok)
		}
	}
	if (werr != nil) != (gerr != nil) || !cmp.Equal(want, kept) {
		t.Fatalf("line %q: the generated lexer gives %v (error %v), the rules %v (error %v)", line, kept, gerr, want, werr)
	}
}

// corpusLines returns lines to try the lexer and the parser on: every line of the programs, of
// the golden tests and of the command's tests, and lines made to reach the edges of the rules.
func corpusLines(t *testing.T) []string {
	t.Helper()
	lines := []string{
		"", " ", "\t\v\f\r", "# comment", "; comment", "x # \"not a string\" 'c'",
		`"`, `"a`, `"a\"`, `"a\"b"`, `"\\"`, `'`, `'\''`, `'a`, `"é中"`, `'é'`, "é", "\u2028",
		".", ".x", "..x", ".x.y", "x.", "x..y", "x.1", "_a._b", "a1.b2.c3",
		"0", "0x1f_ff", "1abc", "9.5", "<<", ">>", "<", ">", "<<<", "-~+*/%&|^",
		`\`, `\@`, `\x`, `\x1`, `\1`, "@", "$", "`", "{}[]!=?",
		"main:\tli a0, ((1 + 2) * 3) << 4 | 'a' # done",
		"\tla a1, msg+8(sp), \"s\\n\", '\\x41'",
		"a\nb", "x\x00y", "\xff\xfe", "tail\xe2\x82",
	}
	for _, pattern := range []string{"../programs/*.s", "../programs/*/*.s", "testdata/*.txtar", "../tests/testdata/*.txtar"} {
		paths, _ := filepath.Glob(pattern)
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			texts := [][]byte{b}
			if strings.HasSuffix(path, ".txtar") {
				texts = nil
				for _, f := range txtar.Parse(b).Files {
					texts = append(texts, f.Data)
				}
			}
			for _, text := range texts {
				lines = append(lines, strings.Split(string(text), "\n")...)
			}
		}
	}
	if len(lines) < 5000 {
		t.Fatalf("only %d lines to try", len(lines))
	}
	return lines
}

// TestGeneratedLexerAgrees checks that the generated lexer splits every line of corpusLines as
// the rules' regular expressions do. FuzzAssemble compares them on every line it makes up.
func TestGeneratedLexerAgrees(t *testing.T) {
	for _, line := range corpusLines(t) {
		checkSameTokens(t, line)
	}
}

// sameTokensEveryLine runs checkSameTokens on each line of src.
func sameTokensEveryLine(t *testing.T, src []byte) {
	for line := range bytes.SplitSeq(src, []byte("\n")) {
		checkSameTokens(t, string(line))
	}
}

// BenchmarkLexLines lexes the lines of a generated program of 100,000 lines with the generated
// lexer and with the rules' regular expressions.
func BenchmarkLexLines(b *testing.B) {
	src, _ := programSource(100_000)
	lines := strings.Split(string(src), "\n")
	for _, lx := range []struct {
		name string
		def  lexer.StringDefinition
	}{{"generated", asmLexer.(lexer.StringDefinition)}, {"regexp", regexpLexer}} {
		b.Run(lx.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			tokens := 0
			for b.Loop() {
				for _, line := range lines {
					l, _ := lx.def.LexString("", line)
					for {
						t, err := l.Next()
						if err != nil {
							b.Fatal(err)
						}
						if t.Type != tokComment && t.Type != tokWhitespace {
							tokens++ // as the regular expressions' lexer, which drops the others
						}
						if t.EOF() {
							break
						}
					}
				}
			}
			b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(tokens)/float64(len(lines)*b.N), "tokens/line")
		})
	}
}
