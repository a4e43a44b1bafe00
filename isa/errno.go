package isa

import "fmt"

// Errno is an error code: the file and network services return one, negative, in a0 when they
// fail. The
// numbers are Linux's, negated, so that a program ported from C reads them as it knows them.
// The older services keep their own results (-1 for a descriptor that is not open, and so on),
// as their rows in the table of services say.
type Errno int64

// The error codes.
const (
	EPERM         Errno = -1
	ENOENT        Errno = -2
	EIO           Errno = -5
	EBADF         Errno = -9
	ENOMEM        Errno = -12
	EACCES        Errno = -13
	EEXIST        Errno = -17
	EXDEV         Errno = -18
	ENOTDIR       Errno = -20
	EISDIR        Errno = -21
	EINVAL        Errno = -22
	EMFILE        Errno = -24
	EFBIG         Errno = -27
	ENOSPC        Errno = -28
	ESPIPE        Errno = -29
	EROFS         Errno = -30
	EPIPE         Errno = -32
	ERANGE        Errno = -34
	ENAMETOOLONG  Errno = -36
	ENOTEMPTY     Errno = -39
	ELOOP         Errno = -40
	ENOTSOCK      Errno = -88
	EADDRINUSE    Errno = -98
	EADDRNOTAVAIL Errno = -99
	ENETUNREACH   Errno = -101
	ECONNABORTED  Errno = -103
	ECONNRESET    Errno = -104
	ENOTCONN      Errno = -107
	ETIMEDOUT     Errno = -110
	ECONNREFUSED  Errno = -111
	EHOSTUNREACH  Errno = -113
)

// ErrnoInfo documents one error code.
type ErrnoInfo struct {
	Errno Errno
	Name  string
	Doc   string // when a service returns it
}

// Errnos lists the error codes, by decreasing number (-1 first).
var Errnos = []ErrnoInfo{
	{EPERM, "EPERM", "the path leads outside every grant: a `..` above the grant, an absolute path under no grant, or a symbolic link that points out of its grant (or is absolute); also every path when no directory is granted"},
	{ENOENT, "ENOENT", "no such file or directory, or an empty path"},
	{EIO, "EIO", "the host failed in a way that no other code names"},
	{EBADF, "EBADF", "the descriptor is not an open file, directory or socket, or not open for what was asked (a write to a file opened only for reading)"},
	{ENOMEM, "ENOMEM", "the process's memory limit (--max-mem) has no room for the kernel's side of the request: an open file, a directory's list of names, a socket and its buffers"},
	{EACCES, "EACCES", "the host refuses the access (its permission bits), or the file is neither a regular file nor a directory (a device, a named pipe, a socket), which open refuses; for listen and connect, no --net grant names the address"},
	{EEXIST, "EEXIST", "the file exists: open with create and exclusive, or mkdir"},
	{EXDEV, "EXDEV", "rename between two grants"},
	{ENOTDIR, "ENOTDIR", "a component of the path, or the descriptor of readdir, is not a directory"},
	{EISDIR, "EISDIR", "the file is a directory: open for writing, read, write"},
	{EINVAL, "EINVAL", "an invalid argument: a path with a NUL byte, unknown or contradictory flags, a whence other than 0, 1 or 2, a seek or an offset before 0"},
	{EMFILE, "EMFILE", "the process has as many descriptors open as it may (--max-fds), or the host has; accept leaves the connection waiting for a later accept"},
	{EFBIG, "EFBIG", "the write would pass the host's limit on a file's size"},
	{ENOSPC, "ENOSPC", "the host's disk is full"},
	{ESPIPE, "ESPIPE", "seek, pread or pwrite on a descriptor that is not a file (a pipe or a host stream)"},
	{EROFS, "EROFS", "a change (write, create, truncate, mkdir, unlink, rename) under a read-only grant"},
	{EPIPE, "EPIPE", "a write to a connection whose writing side is shut down, by shutdown or by the peer"},
	{ERANGE, "ERANGE", "readdir's buffer is too small for the next name, which stays for the next call"},
	{ENAMETOOLONG, "ENAMETOOLONG", "the path is longer than 4096 bytes, or one of its names longer than the host allows"},
	{ENOTEMPTY, "ENOTEMPTY", "unlink of a directory that is not empty, or rename over one"},
	{ELOOP, "ELOOP", "too many symbolic links in the path (a loop)"},
	{ENOTSOCK, "ENOTSOCK", "accept, shutdown or sockopt on a descriptor that is not a socket"},
	{EADDRINUSE, "EADDRINUSE", "listen at an address where something listens already"},
	{EADDRNOTAVAIL, "EADDRNOTAVAIL", "listen at an address that is none of the host's"},
	{ENETUNREACH, "ENETUNREACH", "connect to a network the host has no route to"},
	{ECONNABORTED, "ECONNABORTED", "the host aborted a connection before accept took it"},
	{ECONNRESET, "ECONNRESET", "the peer reset the connection (it closed it with data unread, or crashed)"},
	{ENOTCONN, "ENOTCONN", "read, write or shutdown on a listening socket, which has no peer"},
	{ETIMEDOUT, "ETIMEDOUT", "accept, read or write waited longer than the descriptor's timeout (sockopt), or connect longer than its own; the descriptor stays usable"},
	{ECONNREFUSED, "ECONNREFUSED", "connect to a port where nothing listens"},
	{EHOSTUNREACH, "EHOSTUNREACH", "connect to a host that cannot be reached, or a name that does not resolve"},
}

// String returns the code's name, such as "ENOENT", or its number.
func (e Errno) String() string {
	for _, i := range Errnos {
		if i.Errno == e {
			return i.Name
		}
	}
	return fmt.Sprintf("errno %d", int64(e))
}

// OpenFlag is a bit of open's flags (a2).
type OpenFlag uint64

// The flags of open.
const (
	OpenRead      OpenFlag = 1 << 0
	OpenWrite     OpenFlag = 1 << 1
	OpenCreate    OpenFlag = 1 << 2
	OpenTruncate  OpenFlag = 1 << 3
	OpenAppend    OpenFlag = 1 << 4
	OpenExclusive OpenFlag = 1 << 5
)

// OpenFlagInfo documents one flag of open.
type OpenFlagInfo struct {
	Flag OpenFlag
	Name string
	Doc  string
}

// OpenFlags lists the flags of open, lowest bit first.
var OpenFlags = []OpenFlagInfo{
	{OpenRead, "read", "open for reading (read, pread, and readdir of a directory)"},
	{OpenWrite, "write", "open for writing (write, pwrite); refused with EROFS under a read-only grant, and with EISDIR for a directory"},
	{OpenCreate, "create", "create the file if it does not exist, with mode 0666 less the host's umask; needs write"},
	{OpenTruncate, "truncate", "empty the file when it is opened; needs write"},
	{OpenAppend, "append", "every write goes to the end of the file, wherever the offset is; needs write, and pwrite then fails with EINVAL"},
	{OpenExclusive, "exclusive", "with create: fail with EEXIST if the file exists already; needs create"},
}

// The whence of seek.
const (
	SeekSet = 0 // from the start of the file
	SeekCur = 1 // from the current offset
	SeekEnd = 2 // from the end of the file
)

// The file kinds of a stat struct.
const (
	KindFile  = 1 // a regular file
	KindDir   = 2 // a directory
	KindOther = 3 // a device, a named pipe, a socket: nothing open accepts
)

// StatField is one 64-bit field of the struct that stat and fstat write.
type StatField struct {
	Offset int
	Name   string
	Doc    string
}

// StatSize is the size in bytes of the struct that stat and fstat write.
const StatSize = 32

// StatFields lists the fields of the stat struct, in memory order; each is a little-endian
// 64-bit word.
var StatFields = []StatField{
	{0, "size", "the size in bytes; 0 for a directory, whose size differs from one file system to another"},
	{8, "kind", "1 for a regular file, 2 for a directory, 3 for anything else"},
	{16, "mode", "the permission bits, such as 0644 (0o644, 420)"},
	{24, "mtime", "the time of the last modification, in nanoseconds since 1970 UTC; 0 when the run is deterministic (--seed), so that the same files give the same run whenever they were written"},
}

// MaxPath is the longest path, in bytes, that the file services take.
const MaxPath = 4096

// The options of sockopt (a1).
const (
	SockRecvTimeout = 1 // a2 = milliseconds that accept or read wait before ETIMEDOUT; 0 for no limit
	SockSendTimeout = 2 // a2 = milliseconds that write waits before ETIMEDOUT; 0 for no limit
)

// SockOptInfo documents one option of sockopt.
type SockOptInfo struct {
	Opt  uint64
	Name string
	Doc  string
}

// SockOpts lists the options of sockopt.
var SockOpts = []SockOptInfo{
	{SockRecvTimeout, "recv_timeout", "a2 = the most milliseconds that a read of the connection, or an accept of the listening socket, waits; past it the call returns ETIMEDOUT and the descriptor stays usable. 0 (the default) waits for ever"},
	{SockSendTimeout, "send_timeout", "a2 = the most milliseconds that a write of the connection waits for the peer to take its bytes; past it the write returns what went out, or ETIMEDOUT if nothing did. 0 (the default) waits for ever"},
}

// The how of shutdown, as in C.
const (
	ShutRead  = 0 // no more reading: reads return 0
	ShutWrite = 1 // no more writing: the peer reads end of file once it has read the rest
	ShutBoth  = 2 // both
)

// MaxAddr is the longest address, in bytes, that listen and connect take.
const MaxAddr = 256
