module github.com/spindle-vm/spindle/bench

go 1.26
