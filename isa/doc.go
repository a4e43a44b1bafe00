package isa

// docs/isa.md and docs/syscalls.md are rendered from the tables of this package, so that the
// manuals cannot drift from the instruction set; a test fails when they are out of date.
//go:generate go run ./internal/gendoc
