// Package vm runs Spindle programs: it loads an assembled image into a process, and its
// interpreter loop executes the process's threads on one or more virtual processors.
//
// # Processes, threads and contexts
//
// A Process is a program in execution: an address space (one flat byte slice, mem), the image's
// code and constant pool, the heap break, its descriptors, its threads and its exit status.
//
// A Thread runs its own code independently of the others. Its processor context, Context, is a
// plain struct: sixteen 64-bit registers and the pc, as an instruction index. Its thread context
// is that plus its stack (a range of the process's memory, [StackLo, StackHi)), its state and what
// it waits for. A context switch saves one Context and restores another: nothing else about a
// thread lives anywhere else, which is what lets the scheduler park and resume threads, and what
// lets a debugger copy a thread's state.
//
// A cpu is a virtual processor: a goroutine running the interpreter loop, with a ready queue of
// its own (cpu.go). It runs one process at a time, multiplexing that process's threads;
// processes wait in the processors' ready queues, and an idle processor steals from the others.
// docs/threads.md tells the whole story.
//
// What the processors share is the kernel (kernel.go): the process table, the descriptors'
// pipes, the host's streams, the observers, the flags that stop the run, and the kernel lock,
// which guards them when there are several processors. Its services run on the processor of
// the thread that calls them: lifecycle.go starts, ends, waits for and kills processes, and
// spawn.go loads the program files that spawn runs; hostfiles.go reaches the host's files, and
// net.go its network, only through the grants of Options. A Machine is the kernel and the state
// of the API that drives it (Resume's, the breakpoints', the snapshots'), which no processor
// reaches.
//
// # Memory
//
// Data addresses start at isa.DataBase. The main thread's stack lies just below it and grows
// down toward mem's first byte, so the process's memory is one contiguous slice:
//
//	memBase = DataBase - stack size          mem[0]
//	          main thread's stack  ↓         sp starts at DataBase
//	DataBase  .data
//	          .bss
//	          heap  ↑                        grows with brk and sbrk
//	          top of memory                  mem[len(mem)-1]
//
// A load or store outside [memBase, top) traps, and so does every address below memBase: the
// null pointer is never valid. The slice's capacity is address space reserved up to the
// process's limit; the host commits a page only when the program first touches it, so the heap
// grows without copying and a small program costs the host little.
//
// # Using it from Go
//
//	img, err := asm.Assemble("prog.s", src, nil)
//	...
//	m, err := vm.Load(img, vm.Options{Stdin: os.Stdin, Stdout: os.Stdout, MaxSteps: 1e9})
//	...
//	res, err := m.Run() // err: nil after an exit (see res.ExitCode), or a *TrapError,
//	                    // *LimitError, *DeadlockError, *InterruptError or *InternalError
//
// Run resets nothing: a Machine runs once. Its first process stays inspectable afterwards, through
// Machine.Process.
//
// # Stopping and going on
//
// Run is a loop over Machine.Resume, which runs until a stop that Until asks for and says why
// it stopped in a Stop: a number of steps of the machine or of one thread, the next context
// switch, a syscall (any, or named ones), a return of a thread past a frame (a debugger's next
// and finish), a change of watched memory (Until.Watch, with the old and the new bytes), or a
// breakpoint (SetBreakpoint, or an ebreak in the program: a trap, or with Options.EbreakGoesOn
// a stop just after it, from which the next Resume goes on). A trap stops the machine at the
// trapping instruction with nothing changed; the next Resume acts on it as Run does, unless its
// thread's pc was moved. Pause, from any goroutine, stops a Resume at the next check point and
// keeps the run resumable (CancelPause takes one back); Interrupt ends it. With
// Options.FeedInput, the program's input is what Machine.FeedInput gives it between Resumes, and
// a read with nothing to read stops the Resume at the read (StopInput). The run ends with a
// Stop whose Ended is set: an exit, a trap, a limit, a deadlock or an interrupt, with the error
// Run would return.
//
// Stops never change the run: a program stopped and resumed at any instruction executes the
// same instructions, switches and output as in one Run (FuzzResume checks it). Breakpoints cost
// nothing until one is reached: each patches its instruction in the code with a word no image
// holds, which the loop's default case recognizes. The other stops, near, hand the thread to
// execStep, the copy of the loop that tests before every instruction.
//
// SetPolicy chooses who runs: RoundRobin, Random (from a seed), or Focus, which runs one thread
// alone while the others hold still, and lets them run only while it is blocked, so that it can
// go on.
//
// A machine of one processor on the virtual clock can be copied: Snapshot takes its whole state
// and Restore puts it back, even after the run ended, and the run goes on from there as it did
// the first time. Memory is kept by pages, and a snapshot copies only the pages written since
// the one before, sharing the others; Options.MaxSnapshotMem caps what snapshots hold, and
// Snapshot.Release gives it back. Input read from the first snapshot on is logged, so that a
// restored machine reads it again; output cannot be taken back, and Snapshot.Output says how
// much had been written.
//
// The VM runs an object.Image and has no assembler of its own: a program that spawns a source
// file needs Options.Assemble, and the reports of a program run from an object file quote its
// source lines through Options.SourceLine. The spindle command gives both.
//
// # Inspecting a machine
//
// While no processor runs (after Load, between Resumes, after Run returns), a debugger can look
// at the machine and change it; nothing here takes a lock, so nothing may be called while it
// runs.
// Machine.Processes lists the process table and Process.Thread finds a thread. A thread's
// registers are the plain array Thread.R, read and written directly; its pc is an instruction
// index, which PCAddr gives as a code address and SetPC sets from one, refusing any address that
// is not an instruction of the text. Process.ReadMemory and WriteMemory copy bytes in and out,
// refusing a range that is not wholly inside the process's memory. Machine.ThreadInfo says what
// a thread is doing in the words of a deadlock report; Machine.Backtrace walks its frame
// pointers; Machine.Symbol and Process.Lookup go between addresses and labels.
//
// # Observers
//
// An Observer is told of what happens in a run as it happens: each context switch, with the
// threads switched out and in and a SwitchReason; each wake-up and block, with what the thread
// waits for (Thread.Waits); each syscall; the slow path of each check point; the threads made
// and forgotten, the processes made and ended; and the end of the run. The trace (Options.Trace) and
// the statistics (Options.Stats) are two observers; Machine.Attach adds another, after Load or
// between Resumes, and it is told only of what happens after. A debugger that prints every
// switch, or counts them, is one. Where an event can happen, the machine tests one thing,
// whether any observer is attached, before it does any work for them, so that a run without
// observers pays for nothing but that test, which is never in an instruction's path. An
// observer must not call the machine's methods, since it is called while the machine runs,
// and with several processors it is called from each.
//
// # The loop
//
// exec is the interpreter loop. It keeps pc, the code slice and a pointer to the thread's
// registers in locals, decodes each 32-bit word with the isa package's accessors in one dense
// switch, and allocates nothing. A VM call pushes a return address in VM memory; it never
// recurses on the Go stack.
//
// Each instruction decrements a budget. The budget is only tested at check points: taken
// branches, jumps through registers, calls, returns and syscalls. Every loop and every
// recursion passes a check point, so a program cannot run far past its budget, yet straight-line
// code pays for nothing but the decrement. When the budget runs out, the loop leaves the fast
// path for checkpoint, which counts the steps, enforces the step limit, notices an interrupt
// (Ctrl-C, a timeout), wakes sleepers, and preempts the thread if another is waiting: the
// scheduler lives there and in the syscalls that block, inside the loop. An interrupt is a flag
// set from outside and read only there, as Lua's trap and CPython's eval breaker are.
// docs/design.md records why the loop is built this way.
package vm
