package vm

import (
	"fmt"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Context is a thread's processor context: what the processor holds while it runs the thread,
// and what a context switch saves and restores.
type Context struct {
	R  [isa.NumRegs]uint64 // the general registers
	PC int                 // index of the next instruction; its address is isa.CodeAddr(PC)
}

// A Process is a program in execution: an address space, the code it runs, its threads and
// descriptors, and how it ended.
type Process struct {
	ID      int
	Machine *Machine
	procCore

	// kmem is the bytes of the kernel's objects for this process (threads, channels, pipes),
	// charged to maxMem. Only the process's own processor adds to it; a pipe's last close, on
	// any processor, takes the pipe's charge off its maker.
	kmem atomic.Uint64

	// Set by other processors: threads they woke (under the kernel lock), and a kill.
	hasInbox atomic.Bool
	killed   atomic.Bool

	// dirty has a flag for each page of memory (PageSize bytes), set when the page is written
	// after the machine's last snapshot: the next copies those pages only. It is nil until
	// the process is first snapshotted, and stays so on a machine that never is.
	dirty []bool
}

// wrote notes that n > 0 bytes of memory at offset off were written, for the next snapshot.
func (p *Process) wrote(off, n uint64) {
	if p.dirty != nil {
		p.markDirty(off, n)
	}
}

func (p *Process) markDirty(off, n uint64) {
	for i := off / PageSize; i <= (off+n-1)/PageSize && i < uint64(len(p.dirty)); i++ {
		p.dirty[i] = true
	}
}

// trackPages begins, or begins again, to note the pages written from now on: none is.
func (p *Process) trackPages() {
	n := (len(p.mem) + PageSize - 1) / PageSize
	if cap(p.dirty) < n {
		p.dirty = make([]bool, n)
		return
	}
	p.dirty = p.dirty[:n]
	clear(p.dirty)
}

// procCore is what a process is made of but for the fields that other processors set: a value
// that a snapshot can copy whole (see snapshot.go).
type procCore struct {
	code   []isa.Instr // the image's text, then the sentinels below
	textN  int         // instructions of the image's text proper
	consts []uint64

	mem     []byte // address memBase + i
	release func() // returns mem's address space to the host, if it was reserved
	memBase uint64
	heapLo  uint64 // end of .bss: the lowest break
	brk     uint64 // current break: the heap is [heapLo, brk)
	maxMem  uint64

	threads    []*Thread // by id; a thread joined stays until compacted away (see drop)
	dropped    int       // threads in the table that have been joined
	nextTid    int
	live       int   // threads that have not ended
	runq       queue // runnable threads, in the order they will run
	freeStacks map[uint64][]uint64
	chans      []*channel
	futex      map[uint64]*queue
	timers     timerHeap // its sleeping threads
	timerSeq   uint64

	args []string
	argv []uint64 // addresses of the argument strings

	image    *object.Image
	state    procState
	parent   int        // the pid of the process that spawned it; 0 for the first, and once that one has ended
	children []*Process // the processes it spawned that are still in the table
	waited   bool       // a thread waits, or has waited, for it
	waiters  []*Thread  // threads blocked waiting for it to end
	fds      []desc

	inbox   []*Thread // threads that other processors woke (see wakeAny)
	lastCPU int

	exited   bool
	exitCode int64
}

// After the text the loader appends three sentinel words. Running past the last instruction hits
// the first, an illegal instruction that the trap report recognizes as "ran past the end". The
// main thread starts with the address of the second on its stack, so that a ret from the entry
// point exits the process with a0 as status, as a return from C's main does; other threads start
// with the third, so that a ret from a thread's entry ends the thread with a0 as its value.
const (
	sentinelEnd        = 0
	sentinelExit       = 1
	sentinelThreadExit = 2
	numSentinels       = 3
)

var (
	exitStub       = isa.Instr(isa.SYSCALL) | isa.Instr(isa.SysExit)<<8
	threadExitStub = isa.Instr(isa.SYSCALL) | isa.Instr(isa.SysThreadExit)<<8
)

// smallMem is the largest memory limit for which a process's memory is made on the Go heap,
// rather than reserved as address space (see reserve).
const smallMem = 1 << 20

// newProcess makes a process of img, with one thread that starts at instruction entry with the
// given arguments, and enters it in the process table. Its descriptors are the caller's to set.
func newProcess(m *Machine, img *object.Image, entry int, args []string) (*Process, error) {
	opts := &m.opts
	p := &Process{ID: m.lastPid + 1, Machine: m, procCore: procCore{
		image:  img,
		args:   args,
		textN:  len(img.Text),
		consts: img.Consts,
		maxMem: opts.MaxMem,
	}}
	if img == m.image && m.code != nil {
		p.code = m.code // the text is read-only: the processes of one program share it
	} else {
		p.code = make([]isa.Instr, 0, len(img.Text)+numSentinels)
		p.code = append(p.code, img.Text...)
		p.code = append(p.code, isa.Instr(isa.ILLEGAL), exitStub, threadExitStub)
		if img == m.image {
			m.code = p.code
		}
	}

	if img.BSS > p.maxMem || uint64(len(img.Data)) > p.maxMem || opts.StackSize > p.maxMem {
		// Checked apart, so that the sums below cannot wrap around.
		return nil, &LimitError{Limit: LimitMemory, Value: p.maxMem,
			Detail: fmt.Sprintf("the program needs more to start (stack %d, data %d, bss %d)", opts.StackSize, len(img.Data), img.BSS)}
	}
	stack := opts.StackSize // a multiple of 16, as Load checks
	p.memBase = isa.DataBase - stack
	p.heapLo = alignUp(isa.DataBase+uint64(len(img.Data))+img.BSS, 16)
	p.brk = p.heapLo
	// argv goes in the stack; its size is bounded by the command line, but not by the stack.
	need := p.heapLo - p.memBase
	if need > p.maxMem || stack > p.maxMem {
		return nil, &LimitError{Limit: LimitMemory, Value: p.maxMem,
			Detail: fmt.Sprintf("the program needs %d bytes to start (stack %d, data %d, bss %d)", need, stack, len(img.Data), img.BSS)}
	}
	var err error
	p.mem, p.release, err = reserve(need, p.maxMem)
	if err != nil {
		return nil, &LimitError{Limit: LimitMemory, Value: p.maxMem,
			Detail: fmt.Sprintf("the host cannot reserve the %d bytes of the process's memory limit (%v)", p.maxMem, err)}
	}
	if p.release != nil {
		m.reserved++
	}
	copy(p.mem[isa.DataBase-p.memBase:], img.Data)

	t := &Thread{ID: 1, Proc: p, StackLo: p.memBase, StackHi: isa.DataBase}
	t.PC = entry
	if err := p.pushArgs(t, args); err != nil {
		p.freeMemory() // reserved address space is not the collector's to give back
		return nil, err
	}
	p.threads = append(p.threads, t)
	p.nextTid = 1
	p.live = 1
	m.threadCount.Add(1)
	t.State = Runnable
	p.runq.push(t)
	m.lastPid = p.ID
	m.procs = append(m.procs, p)
	return p, nil
}

// pushArgs lays out the program's arguments at the top of t's stack, C style: the strings, then
// the argv array of their addresses and a 0, then the return address of the exit stub. a0 and
// a1 get argc and argv.
func (p *Process) pushArgs(t *Thread, args []string) error {
	sp := t.StackHi
	addrs := make([]uint64, len(args)+1)
	for i := len(args) - 1; i >= 0; i-- {
		n := uint64(len(args[i])) + 1
		if sp-t.StackLo < n+uint64(len(addrs))*8+64 {
			return &LoadError{Msg: "the program's arguments do not fit in its stack"}
		}
		sp -= n
		copy(p.mem[sp-p.memBase:], args[i])
		p.mem[sp-p.memBase+n-1] = 0
		addrs[i] = sp
	}
	sp &^= 15
	sp -= 8 * uint64(len(addrs))
	argv := sp
	for i, a := range addrs {
		p.store64(argv+8*uint64(i), a)
	}
	p.argv = addrs[:len(args)]
	sp -= 8
	p.store64(sp, isa.CodeAddr(p.textN+sentinelExit))
	t.R[isa.SP] = sp
	t.R[isa.FP] = 0
	t.R[isa.A0] = uint64(len(args))
	t.R[isa.A1] = argv
	return nil
}

// inMem reports whether the n bytes at addr lie in the process's memory.
func (p *Process) inMem(addr, n uint64) bool {
	off := addr - p.memBase
	return addr >= p.memBase && off <= uint64(len(p.mem)) && n <= uint64(len(p.mem))-off
}

// load64 reads the word at addr, which the caller has checked with inMem.
func (p *Process) load64(addr uint64) uint64 { return le.Uint64(p.mem[addr-p.memBase:]) }

// dataSymbol names the data address addr by the nearest label of the program at or below it,
// as "forks" or "forks+8", or returns "" if there is none.
func (p *Process) dataSymbol(addr uint64) string {
	syms := p.image.Symbols // sorted by address
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Addr > addr }) - 1
	if i < 0 || syms[i].Addr < isa.DataBase {
		return ""
	}
	if off := addr - syms[i].Addr; off > 0 {
		return fmt.Sprintf("%s+%d", syms[i].Name, off)
	}
	return syms[i].Name
}

func (p *Process) store64(addr, v uint64) {
	off := addr - p.memBase
	for i := range uint64(8) {
		p.mem[off+i] = byte(v >> (8 * i))
	}
	p.wrote(off, 8)
}

// setBrk moves the break to nb, growing memory if it must. It fails, changing nothing, when nb
// is below the end of .bss or past the memory limit.
func (p *Process) setBrk(nb uint64) bool {
	if nb < p.heapLo || nb-p.memBase > p.room() {
		return false
	}
	if need := nb - p.memBase; need > uint64(len(p.mem)) {
		if need > uint64(cap(p.mem)) {
			// Double, so that a heap grown a little at a time is copied O(log n) times.
			c := min(max(need, 2*uint64(cap(p.mem))), p.room())
			mem := make([]byte, need, c)
			copy(mem, p.mem)
			p.mem = mem
		} else {
			p.mem = p.mem[:need]
		}
	} else if nb < p.brk {
		// Shrinking: zero what is given back, so that a later grow reads zeros as fresh memory,
		// and cut it off, so that a load past the break traps.
		clear(p.mem[nb-p.memBase:])
		p.mem = p.mem[:nb-p.memBase]
	}
	if p.dirty != nil {
		// The pages the break moved over, or into, are new to the last snapshot.
		lo, hi := min(p.brk, nb)-p.memBase, max(p.brk, nb)-p.memBase
		for uint64(len(p.dirty))*PageSize < hi {
			p.dirty = append(p.dirty, true)
		}
		p.markDirty(lo, hi-lo)
	}
	p.brk = nb
	return true
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// freeMemory gives the process's memory back: to the host at once if it is reserved address
// space, which the garbage collector would never return, and otherwise to the collector.
func (p *Process) freeMemory() {
	p.mem = nil
	if p.release != nil {
		p.release()
		p.release = nil
		p.Machine.reserved--
	}
}

// Memory returns the process's memory and the address of its first byte: mem[i] is at address
// base + i. The slice is the process's own; it is valid until the process's heap grows. The
// first process's memory stays after the run, for a look at what the program left; another
// process's is given back when it ends, or when the run does, and is then nil. Writes through
// it are not seen by snapshots (see Snapshot): between Resumes, change memory with WriteMemory.
func (p *Process) Memory() (base uint64, mem []byte) { return p.memBase, p.mem }

// Threads returns the process's threads in the order of their ids, but for those that have been
// joined. A process other than the first has none once it has ended.
func (p *Process) Threads() []*Thread {
	return slices.DeleteFunc(slices.Clone(p.threads), func(t *Thread) bool { return t.dropped })
}

// ExitCode returns the process's exit status, and whether it has ended.
func (p *Process) ExitCode() (int64, bool) { return p.exitCode, p.exited }

// room is how much memory the process may have: its limit, less what its kernel objects take.
func (p *Process) room() uint64 { return p.maxMem - min(p.kmem.Load(), p.maxMem) }

// uncharge gives back n bytes that charge counted.
func (p *Process) uncharge(n uint64) { p.kmem.Add(-n) }

// charge counts n bytes of kernel objects against the process's memory limit, and reports
// whether they fit. The host memory a program can make the VM use is so bounded by --max-mem:
// a million threads cost their structs as well as their stacks.
func (p *Process) charge(n uint64) bool {
	if uint64(len(p.mem))+p.kmem.Load()+n > p.maxMem {
		return false
	}
	p.kmem.Add(n)
	return true
}
