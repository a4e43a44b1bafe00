//go:build nopreempt

package vm

// preempt is off: see preempt.go.
const preempt = false
