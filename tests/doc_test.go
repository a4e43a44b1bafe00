package tests

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestDebuggerWalkthroughs keeps docs/debugger.md's walk-throughs true: each shows a script,
// comments and all, and what the debugger prints for it, and both must be those of the golden
// transcript that runs it, so that the doc's script can be copied and run as it is.
func TestDebuggerWalkthroughs(t *testing.T) {
	doc, err := os.ReadFile("../docs/debugger.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := codeBlocks(string(doc))
	for _, golden := range []string{"debug_walk_fib.txtar", "debug_walk_race.txtar"} {
		ar, err := txtar.ParseFile("testdata/" + golden)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range ar.Files {
			files[f.Name] = string(f.Data)
		}
		script, want := strings.TrimSuffix(files["walk.txt"], "quit\n"), files["want.out"]
		if script == "" || want == "" {
			t.Fatalf("%s has no walk.txt or no want.out", golden)
		}
		var foundScript, foundOut bool
		for _, b := range blocks {
			foundScript = foundScript || b == script
			foundOut = foundOut || b == want
		}
		if !foundScript {
			t.Errorf("docs/debugger.md shows no script that is %s's walk.txt:\n%s", golden, script)
		}
		if !foundOut {
			t.Errorf("docs/debugger.md shows no transcript that is %s's want.out:\n%s", golden, want)
		}
	}
}

// codeBlocks returns the text of each fenced code block of a Markdown document, with its
// final newline.
func codeBlocks(doc string) []string {
	var blocks []string
	var cur []string
	in := false
	for _, l := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(l, "```") && !in:
			in, cur = true, nil
		case strings.HasPrefix(l, "```"):
			in = false
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, l)
		}
	}
	return blocks
}
