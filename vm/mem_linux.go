package vm

import "syscall"

// mapNoReserve asks Linux not to count the reservation against the host's commit limit: only
// the pages a program touches count.
const mapNoReserve = syscall.MAP_NORESERVE
