package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profileFlags are --cpuprofile and --memprofile, which run and asm take: pprof profiles of the
// host, that is of Spindle itself (the assembler, the loader, the interpreter loop and the
// kernel), not of the program it runs. docs/performance.md says how to read them.
type profileFlags struct {
	cpu, mem *string
}

func addProfileFlags(fs *flag.FlagSet) profileFlags {
	return profileFlags{cpu: fs.String("cpuprofile", "", ""), mem: fs.String("memprofile", "", "")}
}

// profileHelp is the flags' part of run's and asm's help.
const profileHelp = `  --cpuprofile FILE    write a CPU profile of Spindle itself (the host, not the program)
                       to FILE, for go tool pprof
  --memprofile FILE    write a memory profile of Spindle itself to FILE at the end, after
                       a garbage collection: what is still live, and every allocation made
`

// start creates the files the flags name and starts the CPU profile. Both files are created
// before anything runs, so that a path that cannot be written is told at once and the command
// does nothing else: start then returns exitCantCreat, as for any output that cannot be
// created. Otherwise it returns 0, and the caller must call end with its own status when its
// work is done; end writes and closes the profiles and returns the status to exit with.
func (f profileFlags) start(io stdio) (end func(status int) int, status int) {
	var cpu, mem *profileFile
	for _, p := range []struct {
		path, name string
		to         **profileFile
	}{{*f.cpu, "the CPU profile ", &cpu}, {*f.mem, "the memory profile ", &mem}} {
		if p.path == "" {
			continue
		}
		file, err := os.Create(p.path)
		if err != nil {
			fmt.Fprintf(io.err, "spindle: %v\n", cleanPathError(err))
			if cpu != nil {
				cpu.close()
			}
			return nil, exitCantCreat
		}
		*p.to = &profileFile{file: file, output: output{w: file, name: p.name + p.path}}
	}
	if cpu != nil {
		// The profiler writes as it goes, through cpu's output, which keeps its first error.
		if err := pprof.StartCPUProfile(&cpu.output); err != nil {
			for _, pf := range []*profileFile{cpu, mem} {
				if pf != nil {
					pf.close()
				}
			}
			fmt.Fprintf(io.err, "spindle: --cpuprofile: %v\n", err)
			return nil, exitSoftware
		}
	}
	return func(status int) int {
		var outs []*output
		if cpu != nil {
			pprof.StopCPUProfile()
			outs = append(outs, cpu.close())
		}
		if mem != nil {
			runtime.GC()                                 // so that the profile's live memory is what is still referenced
			pprof.Lookup("heap").WriteTo(&mem.output, 0) // an error is kept in the output
			outs = append(outs, mem.close())
		}
		return endOutputs(io, status, outs...)
	}, 0
}

// A profileFile is a profile's file and the output that writes to it, which names the profile
// in an error.
type profileFile struct {
	file *os.File
	output
}

// close closes the file and returns the output, with the first error of its writes or of the
// close.
func (pf *profileFile) close() *output {
	if err := pf.file.Close(); err != nil && pf.failed() == nil {
		pf.err = &writeError{stream: pf.name, err: err}
	}
	return &pf.output
}
