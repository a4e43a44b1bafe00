//go:build unix

package vm

import "syscall"

// reserve returns a process's memory: a slice of length n whose capacity is the process's whole
// limit, max bytes of address space reserved at once. The host commits a page only when the
// program first touches it, and hands it over zeroed, so the heap grows without copying and
// without zeroing, and a process that uses little costs little, whatever its limit. release
// returns the address space; nothing may use the slice after it.
//
// Allocating the memory with make and growing it by doubling spent most of the time of
// programs/bench/spawn.s in copying and zeroing (memmove and memclr were 40% of its profile).
//
// Below a limit of smallMem the memory is made with make and grows by doubling instead: a
// mapping costs two system calls and a page fault for each page touched, which made a small
// Machine's load and run several times as slow (see BenchmarkLoad).
//
// When the host refuses the reservation (a ulimit -v, or address space used up), reserve fails:
// falling back to make, as it once did, let a program grow its memory on the Go heap until the
// host ran out and Go stopped the whole command with a fatal error that nothing can recover.
func reserve(n, max uint64) (mem []byte, release func(), err error) {
	if max <= smallMem || max < n {
		return make([]byte, n), nil, nil
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, nil, err
	}
	return b[:n], func() { syscall.Munmap(b) }, nil
}
