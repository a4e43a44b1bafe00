// Package debugger is the core of Spindle's debugger: a session on one program that runs it
// forwards and backwards, with breakpoints, watchpoints and catchpoints, and shows its
// registers, memory, threads and source. The REPL of 'spindle debug' and its batch mode drive
// a Session one command line at a time (Session.Exec); the package has no terminal of its own,
// so that it builds for the browser too.
//
// A session runs its machine on one processor with the virtual clock, where a run is the same
// every time, and takes a snapshot every so many steps (vm.Machine.Snapshot), within a memory
// budget. Going back to any step is a Restore of the last snapshot before it and a run forward
// to it; going back to a breakpoint runs the stretches between snapshots again, the last first.
// The program's output is shown once: what a run that goes over the same ground again writes
// is not shown again.
//
// The program's input comes from the session (vm.Options.FeedInput): when the program reads and
// none is waiting, the session asks Config.Input for a line.
package debugger
