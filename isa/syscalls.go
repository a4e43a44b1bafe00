package isa

// Syscall is a kernel service number, the immediate of the syscall instruction.
type Syscall uint32

// The services. Their numbers are stable: they are compiled into programs. Numbers are grouped
// by area, with room to grow in each: 1-19 the process's own I/O and memory, 20-39 threads,
// 40-59 processes and pipes, 60-79 channels and synchronization, 80 and up files and network.
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
)

// SyscallInfo documents one service.
type SyscallInfo struct {
	Num  Syscall
	Name string // the name the assembler accepts after syscall, such as "write"
	Args string // the arguments, in a0, a1, ...
	Ret  string // the results, in a0 (and a1)
	Doc  string
}

// Syscalls lists the services in number order.
var Syscalls = []SyscallInfo{
	{SysExit, "exit", "a0 = status", "does not return", "ends the process with the given exit status (its low 8 bits reach the host)"},
	{SysWrite, "write", "a0 = fd, a1 = buffer, a2 = length", "a0 = bytes written, or -1 for a descriptor that is not open", "writes bytes to descriptor 1 (stdout) or 2 (stderr)"},
	{SysRead, "read", "a0 = fd, a1 = buffer, a2 = length", "a0 = bytes read, 0 at end of input, or -1 for a descriptor that is not open", "reads up to length bytes from descriptor 0 (stdin)"},
	{SysPrintInt, "print_int", "a0 = value", "nothing", "writes the signed decimal value to stdout, without a newline"},
	{SysReadInt, "read_int", "none", "a0 = value, a1 = 1; or a0 = 0, a1 = 0 at end of input or if the line is not an integer", "reads one line from stdin and parses it as a signed decimal integer, ignoring surrounding blanks"},
	{SysBrk, "brk", "a0 = new break, or 0 to ask", "a0 = the break after the call", "sets the end of the heap; a break that is out of range is refused and the old one returned"},
	{SysSbrk, "sbrk", "a0 = increment", "a0 = the old break, or -1 if the heap cannot grow so far", "grows (or shrinks) the heap by increment bytes"},
	{SysArgc, "argc", "none", "a0 = the number of program arguments, the program's name included", "also in a0 when the entry point starts"},
	{SysArgv, "argv", "a0 = index", "a0 = address of the argument's NUL-terminated text, or 0 if index is out of range", "argument 0 is the program's name; the argv array is also in a1 when the entry point starts"},
	{SysPutc, "putc", "a0 = byte", "nothing", "writes one byte to stdout"},
	{SysPuts, "puts", "a0 = address of a NUL-terminated string", "nothing", "writes the string to stdout, without adding a newline"},
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
