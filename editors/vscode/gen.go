//go:build ignore

// Gen writes syntaxes/spindle.tmLanguage.json, the grammar of grammar.go.
package main

import (
	"log"
	"os"

	"github.com/spindle-vm/spindle/editors/vscode"
)

func main() {
	b, err := vscode.Grammar()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("syntaxes/spindle.tmLanguage.json", b, 0o644); err != nil {
		log.Fatal(err)
	}
}
