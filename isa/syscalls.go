package isa

// Syscall is a kernel service number, the immediate of the syscall instruction.
type Syscall uint32

// The services. Their numbers are stable: they are compiled into programs. Numbers are grouped
// by area, with room to grow in each: 1-19 the process's own I/O and memory, 20-39 threads,
// 40-59 processes and pipes, 60-79 channels and synchronization, 80-99 files, 100-119 the network.
const (
	SysExit     Syscall = 1
	SysWrite    Syscall = 2
	SysRead     Syscall = 3
	SysPrintInt Syscall = 4
	SysReadInt  Syscall = 5
	SysBrk      Syscall = 6
	SysSbrk     Syscall = 7
	SysArgc     Syscall = 8
	SysArgv     Syscall = 9
	SysPutc     Syscall = 10
	SysPuts     Syscall = 11

	SysThreadSpawn Syscall = 20
	SysThreadExit  Syscall = 21
	SysThreadJoin  Syscall = 22
	SysYield       Syscall = 23
	SysSleep       Syscall = 24
	SysGettid      Syscall = 25
	SysGetpid      Syscall = 26
	SysClock       Syscall = 27

	SysSpawn Syscall = 40
	SysStart Syscall = 41
	SysWait  Syscall = 42
	SysKill  Syscall = 43
	SysPipe  Syscall = 44
	SysClose Syscall = 45

	SysChanMake     Syscall = 60
	SysChanSend     Syscall = 61
	SysChanRecv     Syscall = 62
	SysChanClose    Syscall = 63
	SysFutexWait    Syscall = 64
	SysFutexWake    Syscall = 65
	SysChanSendRecv Syscall = 66

	SysOpen    Syscall = 80
	SysPread   Syscall = 81
	SysPwrite  Syscall = 82
	SysSeek    Syscall = 83
	SysStat    Syscall = 84
	SysFstat   Syscall = 85
	SysReaddir Syscall = 86
	SysMkdir   Syscall = 87
	SysUnlink  Syscall = 88
	SysRename  Syscall = 89
	SysFsync   Syscall = 90

	SysListen   Syscall = 100
	SysAccept   Syscall = 101
	SysConnect  Syscall = 102
	SysShutdown Syscall = 103
	SysSockopt  Syscall = 104
)

// SyscallInfo documents one service.
type SyscallInfo struct {
	Num  Syscall
	Name string // the name the assembler accepts after syscall, such as "write"
	Args string // the arguments, in a0, a1, ...
	Ret  string // the results, in a0 (and a1)
	Doc  string
	// Misuse lists the invalid arguments that make the syscall trap with "bad syscall
	// argument", rather than fail in its results; "" for a service that has none.
	Misuse string
}

// Syscalls lists the services in number order.
var Syscalls = []SyscallInfo{
	{SysExit, "exit", "a0 = status", "does not return", "ends the process with the given exit status: its parent's wait gets the whole 64-bit value, and the low 8 bits of the first process's status become spindle's own exit status", ""},
	{SysWrite, "write", "a0 = fd, a1 = buffer, a2 = length", "a0 = bytes written, or -1 for a descriptor that is not open for writing, a pipe with no read end open, or a host stream that does not take the output (a full disk: the output is buffered, so the write after the one that filled the buffer returns -1)", "writes bytes to the descriptor: the host's output or error stream (1 and 2 in the first process) or a pipe's write end; to a pipe it writes what fits, blocking only while the pipe is full. For a file or a connection, see Files and Network, below", "the buffer is not inside the process's memory (see Buffers, below)"},
	{SysRead, "read", "a0 = fd, a1 = buffer, a2 = length", "a0 = bytes read, 0 at end of input (or for a length of 0), or -1 for a descriptor that is not open for reading", "reads up to length bytes from the descriptor: the host's input (0 in the first process) or a pipe's read end; it blocks until there is at least one byte, or the end. For a file or a connection, see Files and Network, below", "the buffer is not inside the process's memory (see Buffers, below)"},
	{SysPrintInt, "print_int", "a0 = value", "nothing", "writes the signed decimal value to descriptor 1, without a newline", ""},
	{SysReadInt, "read_int", "none", "a0 = value, a1 = 1; or a0 = 0, a1 = 0 at end of input, for an empty line, and for a line that is not an integer", "reads one line from descriptor 0, its newline included, and parses it as a signed decimal integer such as -42 or +5, ignoring white space around it (see Reading numbers, below). From the host's input, a line over 4096 bytes, its newline included, is consumed and refused; from a pipe, a line ends at its newline or after 65536 bytes, whichever comes first", ""},
	{SysBrk, "brk", "a0 = new break, or 0 to ask", "a0 = the break after the call", "sets the end of the heap; a break below the heap's floor is refused and the old one returned, and one past the memory limit stops the run (see The heap, below)", ""},
	{SysSbrk, "sbrk", "a0 = increment", "a0 = the old break, or -1 if the break would go below the heap's floor or wrap around", "moves the break by increment bytes, up or down; growing past the memory limit stops the run rather than return -1 (see The heap, below)", ""},
	{SysArgc, "argc", "none", "a0 = the number of program arguments, the program's name included", "also in a0 when the entry point starts (but not at the entry of start, where a0 is start's argument)", ""},
	{SysArgv, "argv", "a0 = index", "a0 = address of the argument's NUL-terminated text, or 0 if index is out of range", "argument 0 is the program's name as the command line or spawn gave it; the argv array is also in a1 when the entry point, or an entry of start, starts", ""},
	{SysPutc, "putc", "a0 = byte", "nothing", "writes one byte to descriptor 1", ""},
	{SysPuts, "puts", "a0 = address of a NUL-terminated string", "nothing", "writes the string to descriptor 1, without adding a newline; traps unless its NUL is within 4096 bytes of address, so it writes at most 4095 bytes", "the string is not inside memory, or has no NUL within 4096 bytes of its start"},

	{SysThreadSpawn, "thread_spawn", "a0 = entry (a code address), a1 = argument, a2 = stack size in bytes", "a0 = the new thread's id", "makes a thread that starts at entry with a0 = argument, every other register but sp 0, and a stack of its own taken from the heap (the size rounded up to a multiple of 16); it waits in the run queue while the caller goes on. Returning from entry ends the thread with a0 as its value", "entry is not the address of an instruction; the stack size is below 64 bytes or above the memory limit (--max-mem)"},
	{SysThreadExit, "thread_exit", "a0 = value", "does not return", "ends the calling thread; a thread that joins it gets value. In the main thread it ends only that thread, where ret from the entry point ends the whole process. The process ends when its last thread does, with status 0", ""},
	{SysThreadJoin, "thread_join", "a0 = thread id", "a0 = the thread's value", "waits for the thread to end and returns the value it ended with; a thread can be joined once", "the id is the caller's own; no thread of the process has it, or its thread has been joined already; another thread is already joining it"},
	{SysYield, "yield", "none", "nothing", "gives the processor to the next runnable thread of the process", ""},
	{SysSleep, "sleep", "a0 = milliseconds", "nothing", "parks the calling thread for at least that long (the argument is unsigned, and at most 2^40 ms, about 35 years, counts); the other threads run meanwhile", ""},
	{SysGettid, "gettid", "none", "a0 = the calling thread's id", "thread ids count up from 1, the main thread's, in each process, and are not reused", ""},
	{SysGetpid, "getpid", "none", "a0 = the process's id", "process ids count up from 1, the first process's, and are not reused", ""},
	{SysClock, "clock", "none", "a0 = nanoseconds since the machine started", "the real clock, or the virtual one when the run is deterministic; a virtual clock that sleeps jump forward stops at 2^62 ns, about 146 years, so it never wraps", ""},

	{SysSpawn, "spawn", "a0 = address of the program file's name, a1 = address of its argv array (0-terminated) or 0, a2 = descriptor for its 0, a3 = descriptor for its 1", "a0 = the new process's id", "starts the program file (source or object), which must be in the main program's directory, as a new process, at its entry point with a0 = argc and a1 = argv as for the first process: the array's strings are its arguments, argument 0 included, and with a1 = 0 or an empty array its one argument is the file's name. Its descriptors are 0 and 1, copies of the caller's a2 and a3, and 2, a copy of the caller's 2; it inherits no other", "a2 or a3 is not an open descriptor; the name, the argv array or one of its strings is not inside memory, or a string has no NUL within 4096 bytes; the file cannot be loaded: it is not inside the main program's directory, does not exist, is not a regular file, is larger than 256 MiB, does not assemble, or is an object file that does not load; the arguments do not fit in the new process's stack"},
	{SysStart, "start", "a0 = entry (a code address), a1 = argument, a2 = descriptor for its 0, a3 = descriptor for its 1", "a0 = the new process's id", "starts a new process of this same program at entry, with one thread and fresh memory (the data as the program file has it, not as the caller has changed it). The thread starts with a0 = argument and a1 = the address of an argv array that holds one string, the caller's argument 0 (so argc returns 1); ret from entry ends the process with status a0, as from the main entry. Its descriptors are 0 and 1, copies of the caller's a2 and a3, and 2, a copy of the caller's 2; it inherits no other", "entry is not the address of an instruction; a2 or a3 is not an open descriptor"},
	{SysWait, "wait", "a0 = process id of a child", "a0 = its exit status, the whole 64-bit value", "waits for the child to end, if it has not already; a trapped child's status is 134, a killed one's 137. Once waited for, the child is gone, and its id names no process", "the process is not a child of the caller (the caller itself, its parent, a sibling, a grandchild, or no process at all); a thread has already waited for it, or is waiting for it now"},
	{SysKill, "kill", "a0 = process id", "a0 = 0, or -1 if there is no such process running (there never was, or it has ended)", "ends the process with status 137: any process but the caller's own, not only a child. Killing the first process ends the run", "the process is the caller's own (use exit)"},
	{SysPipe, "pipe", "none", "a0 = descriptor of the read end, a1 = descriptor of the write end", "makes a pipe of 64 KiB, whose ends take the lowest free descriptor numbers; a reader of an empty pipe blocks until there is data, or gets 0 once no write end is open; a writer to a full pipe blocks", "the process would have more descriptors open than it may: --max-fds, 1024 descriptors unless it says otherwise"},
	{SysClose, "close", "a0 = descriptor", "a0 = 0, or -1 if it was not open", "closes the descriptor; a pipe's readers see end of file once every write end is closed. Closing a socket's last descriptor closes it on the host: a listening socket stops listening, and a connection's peer reads end of file", ""},

	{SysChanMake, "chan_make", "a0 = capacity (0 for unbuffered)", "a0 = a channel handle", "makes a channel for the threads of this process; its handles count up from 1, and mean nothing in another process", "the capacity is over 1048576 (2^20); a negative one is a huge unsigned number, so it traps too"},
	{SysChanSend, "chan_send", "a0 = channel, a1 = value", "a0 = 0, or -1 if the channel is closed", "sends value; blocks until a receiver takes it (unbuffered) or there is room (buffered)", "the handle is not one that chan_make returned in this process"},
	{SysChanRecv, "chan_recv", "a0 = channel", "a0 = value, a1 = 1; or a0 = 0, a1 = 0 once the channel is closed and empty", "receives a value, blocking until one is sent", "the handle is not one that chan_make returned in this process"},
	{SysChanClose, "chan_close", "a0 = channel", "nothing", "closes the channel: receivers drain what is buffered, then get a1 = 0; senders get -1", "the handle is not one that chan_make returned in this process; the channel is already closed"},
	{SysFutexWait, "futex_wait", "a0 = address, a1 = expected value", "a0 = 0 when woken, 1 if the 64 bits at address were not the expected value", "parks the thread on address if it still holds expected: the building block of mutexes and condition variables", "the 8 bytes at address are not inside the process's memory"},
	{SysFutexWake, "futex_wake", "a0 = address, a1 = the most threads to wake", "a0 = the number of threads woken", "wakes threads parked on address, oldest first", ""},
	{SysChanSendRecv, "chan_sendrecv", "a0 = channel to send on, a1 = value, a2 = channel to receive from", "a0 = the value received, a1 = 1; a1 = 0 if the receive channel is closed and empty; a0 = a1 = -1 if the send channel is closed (nothing is received)", "chan_send then chan_recv in one call, as an RPC's request and reply: the thread does not run between the two", "either handle is not one that chan_make returned in this process"},

	{SysOpen, "open", "a0 = path, a1 = its length in bytes, a2 = flags (see Files, below)", "a0 = a descriptor, or an error code", "opens a file or a directory under a grant (see Files, below), and gives it the lowest free descriptor number; read, write and close take the descriptor as they take a pipe's, and return an error code for a file where they would return -1 for a pipe. A read at the end of the file returns 0", "the path must lie inside memory (a length over 4096 is ENAMETOOLONG, checked first)"},
	{SysPread, "pread", "a0 = fd, a1 = buffer, a2 = length, a3 = offset", "a0 = bytes read, 0 at the end of the file, or an error code", "reads from the file at offset without moving the descriptor's offset", "the buffer is not inside the process's memory"},
	{SysPwrite, "pwrite", "a0 = fd, a1 = buffer, a2 = length, a3 = offset", "a0 = bytes written, or an error code", "writes to the file at offset without moving the descriptor's offset; a file opened with append refuses it (EINVAL)", "the buffer is not inside the process's memory"},
	{SysSeek, "seek", "a0 = fd, a1 = offset (signed), a2 = whence: 0 from the start, 1 from the current offset, 2 from the end", "a0 = the new offset from the start, or an error code", "moves the descriptor's offset, where the next read or write starts; past the end is allowed (a write there leaves a hole of zeros), before the start is EINVAL", ""},
	{SysStat, "stat", "a0 = path, a1 = its length, a2 = buffer of 32 bytes", "a0 = 0, or an error code", "writes the stat struct of the file or directory at path into the buffer (see Files, below); a symbolic link is followed, inside its grant", "the path must lie inside memory (a length over 4096 is ENAMETOOLONG, checked first); the 32 bytes of the buffer are not inside memory"},
	{SysFstat, "fstat", "a0 = fd, a1 = buffer of 32 bytes", "a0 = 0, or an error code", "writes the stat struct of the open file or directory into the buffer", "the 32 bytes of the buffer are not inside memory"},
	{SysReaddir, "readdir", "a0 = fd of a directory opened with read, a1 = buffer, a2 = its length", "a0 = the length of the name written, 0 after the last one, or an error code (ERANGE: the buffer is too small for the next name)", "writes the next entry's name into the buffer, without a NUL; the names come in byte order, without . and .., as the directory was at the first readdir of the descriptor", "the buffer is not inside the process's memory"},
	{SysMkdir, "mkdir", "a0 = path, a1 = its length", "a0 = 0, or an error code", "makes a directory, with mode 0777 less the host's umask", "the path must lie inside memory (a length over 4096 is ENAMETOOLONG, checked first)"},
	{SysUnlink, "unlink", "a0 = path, a1 = its length", "a0 = 0, or an error code", "removes a file, or an empty directory (ENOTEMPTY for one that is not); a symbolic link is removed, not what it points to. A descriptor open on the file still reads and writes it", "the path must lie inside memory (a length over 4096 is ENAMETOOLONG, checked first)"},
	{SysRename, "rename", "a0 = old path, a1 = its length, a2 = new path, a3 = its length", "a0 = 0, or an error code", "renames a file or a directory, replacing a file at the new path at once (the step that makes the atomic write of Files, below); both paths must be under the same grant, or it is EXDEV", "either path must lie inside memory (a length over 4096 is ENAMETOOLONG, checked first)"},
	{SysFsync, "fsync", "a0 = fd", "a0 = 0, or an error code", "waits until what was written to the file is on the host's disk", ""},

	{SysListen, "listen", "a0 = address, a1 = its length in bytes", "a0 = a listening descriptor, or an error code", "listens for TCP connections at the address, HOST:PORT such as 127.0.0.1:8080, which a --net grant must name exactly as the program does (see Network, below); with port 0 the host chooses one, and spindle says which on stderr. The descriptor takes the lowest free number; accept takes connections from it, and close stops listening", "the address must lie inside memory (a length over 256 is EINVAL, checked first)"},
	{SysAccept, "accept", "a0 = a listening descriptor", "a0 = a descriptor of the new connection, or an error code", "waits for a client to connect and gives the connection the lowest free descriptor number, for read, write, shutdown and close; only the calling thread waits", ""},
	{SysConnect, "connect", "a0 = address, a1 = its length in bytes, a2 = the most milliseconds to wait, 0 for the host's own limit", "a0 = a descriptor of the connection, or an error code", "connects to HOST:PORT, which a --net connect= grant must name exactly as the program does (see Network, below), and gives the connection the lowest free descriptor number; only the calling thread waits", "the address must lie inside memory (a length over 256 is EINVAL, checked first)"},
	{SysShutdown, "shutdown", "a0 = a connection's descriptor, a1 = how: 0 reading, 1 writing, 2 both", "a0 = 0, or an error code", "ends one direction of the connection or both, and keeps the descriptor: after writing, the peer reads end of file once it has read the rest, and this side can still read its answer; after reading, reads return 0. close ends both and frees the descriptor", ""},
	{SysSockopt, "sockopt", "a0 = a socket's descriptor, a1 = option, a2 = value", "a0 = 0, or an error code", "sets an option of a listening socket or a connection: 1 the receive timeout, 2 the send timeout, in milliseconds (see Network, below)", ""},
}

var syscallByNum, syscallByName = func() (map[Syscall]SyscallInfo, map[string]SyscallInfo) {
	byNum := make(map[Syscall]SyscallInfo, len(Syscalls))
	byName := make(map[string]SyscallInfo, len(Syscalls))
	for _, s := range Syscalls {
		byNum[s.Num] = s
		byName[s.Name] = s
	}
	return byNum, byName
}()

// LookupSyscall returns the service with the given name.
func LookupSyscall(name string) (SyscallInfo, bool) {
	s, ok := syscallByName[name]
	return s, ok
}

// Info returns the description of service n.
func (n Syscall) Info() (SyscallInfo, bool) {
	s, ok := syscallByNum[n]
	return s, ok
}
