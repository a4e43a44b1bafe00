//go:build !nopreempt

package vm

// preempt enables the budget: its decrement on every instruction and its test at check points.
// Building with -tags nopreempt removes both, for one purpose only: measuring what they cost
// (see BenchmarkLoop and docs/design.md). Such a build cannot preempt, time out or be
// interrupted, and counts no steps.
const preempt = true
