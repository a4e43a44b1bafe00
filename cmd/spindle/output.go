package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// An output is one of the command's output streams: the standard output, the standard error or
// the trace file. A write that fails (a full disk, /dev/full, a closed pipe) is the host's
// doing, not a bug in Spindle, and the error that reaches the command, often through a buffer
// of the VM's or the disassembler's, must still say which stream it was. So the output wraps
// it, and keeps the first, for a failure that no caller passed on.
type output struct {
	w    io.Writer
	name string // "the standard output"

	mu  sync.Mutex
	err *writeError
}

func (o *output) Write(b []byte) (int, error) {
	n, err := o.w.Write(b)
	if err == nil {
		return n, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = &writeError{stream: o.name, err: err}
	}
	return n, o.err
}

// failed returns the first write error, or nil.
func (o *output) failed() *writeError {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// A writeError is a failed write to an output.
type writeError struct {
	stream string
	err    error
	told   bool // reported to the user already
}

func (e *writeError) Error() string {
	err := e.err
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // "write /dev/stdout: ..." names a file, not the stream
	}
	return fmt.Sprintf("cannot write %s: %v", e.stream, err)
}

func (e *writeError) Unwrap() error { return e.err }

// tellWriteError reports err if it is an output's write error, and returns the status for it.
func tellWriteError(io stdio, err error) (int, bool) {
	var we *writeError
	if !errors.As(err, &we) {
		return 0, false
	}
	if !we.told {
		we.told = true
		fmt.Fprintf(io.err, "spindle: %v\n", we)
	}
	return exitCantCreat, true
}

// endOutputs reports a write error that no command reported, as when the program trapped
// after its output failed, or when help wrote to a full device. A command that had otherwise
// succeeded fails with exitCantCreat.
func endOutputs(io stdio, status int, outs ...*output) int {
	for _, o := range outs {
		if we := o.failed(); we != nil {
			tellWriteError(io, we)
			if status == 0 {
				status = exitCantCreat
			}
		}
	}
	return status
}
