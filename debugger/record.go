package debugger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spindle-vm/spindle/object"
	"github.com/spindle-vm/spindle/vm"
)

// A Record is what reproduces a session, for a bug report or a grader: the program (by its
// name and the hash of its image), the run's options, the input the program was given, and
// the commands that were run. Replaying the commands on the same program with the same input
// comes to the same state, since the run is deterministic.
type Record struct {
	Version    int      `json:"version"`
	Program    string   `json:"program"` // the file, as it was named
	Hash       string   `json:"hash"`    // SHA-256 of the program's image, in the object format
	Args       []string `json:"args,omitempty"`
	Seed       uint64   `json:"seed"`
	Random     bool     `json:"random,omitempty"` // the random scheduling policy
	Quantum    int64    `json:"quantum,omitempty"`
	MaxSteps   uint64   `json:"max_steps,omitempty"`
	MaxMem     uint64   `json:"max_mem,omitempty"`
	Stack      uint64   `json:"stack,omitempty"`
	MaxThreads int      `json:"max_threads,omitempty"`
	MaxProcs   int      `json:"max_procs,omitempty"`
	MaxFDs     int      `json:"max_fds,omitempty"`
	Budget     uint64   `json:"budget,omitempty"`
	Stdin      []byte   `json:"stdin,omitempty"`       // all of the input, when it was given up front
	Input      []string `json:"input,omitempty"`       // the lines typed as the program's input
	InputEnded bool     `json:"input_ended,omitempty"` // and then the input was ended
	// InputPauses says where the prompt for input was interrupted (ErrInputInterrupted):
	// after how many of the lines of Input, once for each time.
	InputPauses []int    `json:"input_pauses,omitempty"`
	Commands    []string `json:"commands"`
	// Paused lists the commands that a Ctrl-C or --timeout stopped, with the step of the run
	// they stopped at: a replay stops them there too.
	Paused []PausedCommand `json:"paused,omitempty"`
}

// A PausedCommand is a command of a record that a pause stopped: its index in Commands, and the
// step of the run at which it stopped.
type PausedCommand struct {
	Command int    `json:"command"`
	Steps   uint64 `json:"steps"`
}

// recordVersion is the version of the record format.
const recordVersion = 1

// ImageHash returns the hash by which a record names its program.
func ImageHash(img *object.Image) (string, error) {
	b, err := img.MarshalBinary()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Record returns the record of the session so far, naming its program program.
func (s *Session) Record(program string) (*Record, error) {
	hash, err := ImageHash(s.img)
	if err != nil {
		return nil, err
	}
	o := s.cfg.Options
	if len(o.Grants) > 0 || len(o.NetGrants) > 0 {
		// The record holds what the program read from its input, not from files or peers.
		return nil, errors.New("a session with --dir or --net cannot be recorded: its replay would use the files and the network again, as they are then")
	}
	return &Record{
		Version: recordVersion, Program: program, Hash: hash, Args: o.Args, Seed: o.Seed,
		Random: o.Sched == vm.SchedRandom, Quantum: o.Quantum, MaxSteps: o.MaxSteps, MaxMem: o.MaxMem,
		Stack: o.StackSize, MaxThreads: o.MaxThreads, MaxProcs: o.MaxProcs, MaxFDs: o.MaxFDs, Budget: s.cfg.Budget,
		Stdin: s.cfg.Stdin, Input: s.typed, InputEnded: s.typedEnd, InputPauses: s.inputPauses,
		Commands: s.history, Paused: s.paused,
	}, nil
}

// Options returns the run's options that r records, on top of base.
func (r *Record) Options(base vm.Options) vm.Options {
	base.Args, base.Seed, base.Quantum, base.MaxSteps = r.Args, r.Seed, r.Quantum, r.MaxSteps
	base.MaxMem, base.StackSize, base.MaxThreads, base.MaxProcs = r.MaxMem, r.Stack, r.MaxThreads, r.MaxProcs
	base.MaxFDs = r.MaxFDs
	base.Sched = vm.SchedRoundRobin
	if r.Random {
		base.Sched = vm.SchedRandom
	}
	return base
}

// ReadRecord reads a record, and checks its version.
func ReadRecord(r io.Reader) (*Record, error) {
	var rec Record
	if err := json.NewDecoder(r).Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a session record: %v", err)
	}
	if rec.Version != recordVersion {
		return nil, fmt.Errorf("a session record of version %d; this debugger reads version %d", rec.Version, recordVersion)
	}
	return &rec, nil
}

// Replay runs the commands of r, showing nothing, with the input r recorded, and so comes to
// the state the recorded session was in. The session must be new, on r's program.
func (s *Session) Replay(r *Record) error {
	hash, err := ImageHash(s.img)
	if err != nil {
		return err
	}
	if hash != r.Hash {
		return fmt.Errorf("the program is not the one recorded: it has changed since (hash %.12s, recorded %.12s)", hash, r.Hash)
	}
	out, input := s.out, s.cfg.Input
	defer func() { s.out, s.cfg.Input = out, input }()
	s.quiet(true)
	defer s.quiet(false)
	lines, pauses, given := r.Input, r.InputPauses, 0
	s.cfg.Input = func() (string, error) {
		if len(pauses) > 0 && pauses[0] == given {
			pauses = pauses[1:]
			return "", ErrInputInterrupted
		}
		if len(lines) == 0 {
			return "", io.EOF // the input ended, or the recorded session gave no more
		}
		line := lines[0]
		lines, given = lines[1:], given+1
		return line, nil
	}
	paused := r.Paused
	for i, c := range r.Commands {
		pause := len(paused) > 0 && paused[0].Command == i
		if pause {
			s.pauseAt, s.pausing = paused[0].Steps, true
			paused = paused[1:]
		}
		err := s.Exec(c)
		s.pausing = false
		if err != nil {
			return fmt.Errorf("the recorded command %d, %q, failed: %v", i+1, c, err)
		}
		if pause && s.m.Steps() != s.pauseAt {
			return fmt.Errorf("the recorded command %d, %q, was paused at step %d; replayed, it stopped at step %d", i+1, c, s.pauseAt, s.m.Steps())
		}
		if s.TimedOut() {
			// It stopped somewhere the recorded session did not: what follows would not match.
			return fmt.Errorf("the recorded command %d, %q, ran longer than --timeout %v", i+1, c, s.cfg.Timeout)
		}
	}
	return nil
}

// quiet sends what the session and the program write nowhere, or back to the transcript.
func (s *Session) quiet(on bool) {
	var w, program io.Writer = s.transcript, programSide{s.transcript}
	if on {
		w, program = io.Discard, io.Discard
	}
	s.out = w
	for i, o := range s.outs {
		o.w = s.cfg.programOutput(i, program)
	}
}

// cmdRecord writes the session's record to a file (Config.Save).
func (s *Session) cmdRecord(arg string) error {
	name, ok := strings.CutPrefix(arg, "save ")
	if name = strings.TrimSpace(name); !ok || name == "" {
		return errors.New("record save FILE")
	}
	if s.cfg.Save == nil {
		return errors.New("record: this session cannot write files")
	}
	if s.reloaded {
		return errors.New("record: the program was reloaded in this session, and a record replays one program from its start: save the record before a reload, or open the program again (spindle debug) and record there")
	}
	rec, err := s.Record(s.cfg.Program)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := s.cfg.Save(name, append(b, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Saved the session (%d command%s, %d line%s of input) to %s: spindle debug --replay %s opens it here again.\n",
		len(rec.Commands), plural(len(rec.Commands)), len(rec.Input), plural(len(rec.Input)), name, name)
	return nil
}
