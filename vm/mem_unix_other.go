//go:build unix && !linux

package vm

const mapNoReserve = 0
