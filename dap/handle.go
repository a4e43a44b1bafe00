package dap

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-dap"
	"github.com/spindle-vm/spindle/debugger"
)

// handle carries out one request, in the order the protocol allows: initialize first, then
// launch, and the requests on the program after it.
func (sv *server) handle(m dap.Message) {
	req := m.(dap.RequestMessage)
	if _, ok := m.(*dap.InitializeRequest); !ok && !sv.initialized {
		if _, ok := m.(*dap.DisconnectRequest); !ok {
			sv.fail(req, errOrder, "%s before initialize: initialize comes first", req.GetRequest().Command)
			return
		}
	}
	switch m := m.(type) {
	case *dap.InitializeRequest:
		sv.initialize(m)
	case *dap.LaunchRequest:
		sv.onLaunch(m)
	case *dap.DisconnectRequest:
		sv.send(&dap.DisconnectResponse{Response: response(m)})
		sv.disconnected = true
	case *dap.ThreadsRequest:
		sv.onThreads(m)
	case *dap.AttachRequest:
		sv.fail(m, errUnknown, "attach: spindle dap launches its program (launch); it cannot attach to a run")
	default:
		if sv.s == nil {
			sv.fail(req, errOrder, "%s before launch: there is no program yet", req.GetRequest().Command)
			return
		}
		sv.handleLaunched(m)
	}
}

// handleLaunched carries out a request on the launched program.
func (sv *server) handleLaunched(m dap.Message) {
	switch m := m.(type) {
	case *dap.ConfigurationDoneRequest:
		sv.running.Store(!sv.launch.StopOnEntry)
		sv.send(&dap.ConfigurationDoneResponse{Response: response(m)})
		sv.configured = true
		sv.start()
	case *dap.SetBreakpointsRequest:
		sv.onSetBreakpoints(m)
	case *dap.SetFunctionBreakpointsRequest:
		sv.onSetFunctionBreakpoints(m)
	case *dap.SetInstructionBreakpointsRequest:
		sv.onSetInstructionBreakpoints(m)
	case *dap.DataBreakpointInfoRequest:
		sv.onDataBreakpointInfo(m)
	case *dap.SetDataBreakpointsRequest:
		sv.onSetDataBreakpoints(m)
	case *dap.SetExceptionBreakpointsRequest:
		// A trap always stops the program: there is nothing to choose.
		sv.send(&dap.SetExceptionBreakpointsResponse{Response: response(m)})
	case *dap.StackTraceRequest:
		sv.onStackTrace(m)
	case *dap.ScopesRequest:
		sv.onScopes(m)
	case *dap.VariablesRequest:
		sv.onVariables(m)
	case *dap.SetVariableRequest:
		sv.onSetVariable(m)
	case *dap.EvaluateRequest:
		sv.onEvaluate(m)
	case *dap.ExceptionInfoRequest:
		sv.onExceptionInfo(m)
	case *dap.SourceRequest:
		sv.onSource(m)
	case *dap.ReadMemoryRequest:
		sv.onReadMemory(m)
	case *dap.WriteMemoryRequest:
		sv.onWriteMemory(m)
	case *dap.DisassembleRequest:
		sv.onDisassemble(m)
	case *dap.ContinueRequest, *dap.NextRequest, *dap.StepInRequest, *dap.StepOutRequest,
		*dap.StepBackRequest, *dap.ReverseContinueRequest:
		sv.onRun(m.(dap.RequestMessage))
	case *dap.RestartRequest:
		sv.onRestart(m)
	case *dap.TerminateRequest:
		sv.send(&dap.TerminateResponse{Response: response(m)})
		sv.terminate()
	default:
		sv.fail(m.(dap.RequestMessage), errUnknown, "%s is not supported by spindle dap", m.(dap.RequestMessage).GetRequest().Command)
	}
}

// capabilities are what the server does, as initialize tells the client.
var capabilities = dap.Capabilities{
	SupportsConfigurationDoneRequest:  true,
	SupportsFunctionBreakpoints:       true,
	SupportsConditionalBreakpoints:    true,
	SupportsHitConditionalBreakpoints: true,
	SupportsEvaluateForHovers:         true,
	SupportsStepBack:                  true,
	SupportsSetVariable:               true,
	SupportsRestartRequest:            true,
	SupportsExceptionInfoRequest:      true,
	SupportsTerminateRequest:          true,
	SupportsDataBreakpoints:           true,
	SupportsReadMemoryRequest:         true,
	SupportsWriteMemoryRequest:        true,
	SupportsDisassembleRequest:        true,
	SupportsSteppingGranularity:       true,
	SupportsInstructionBreakpoints:    true,
	SupportsLogPoints:                 true,
}

func (sv *server) initialize(req *dap.InitializeRequest) {
	if sv.initialized {
		sv.fail(req, errOrder, "initialize came twice")
		return
	}
	sv.initialized = true
	sv.send(&dap.InitializeResponse{Response: response(req), Body: capabilities})
}

// LaunchArgs are the arguments of a launch request: the program, its input, and the flags of
// spindle debug. A flag's field is "" when the launch does not give it.
type LaunchArgs struct {
	Program     string   `json:"program"`
	Args        []string `json:"args,omitempty"`
	Stdin       string   `json:"stdin,omitempty"` // a file whose contents are the program's input
	Cwd         string   `json:"cwd,omitempty"`   // what relative paths are relative to
	StopOnEntry bool     `json:"stopOnEntry,omitempty"`
	// StopAtEnd keeps the session at the end of the run, where the reverse requests go back
	// into it, rather than ending it.
	StopAtEnd bool `json:"stopAtEnd,omitempty"`

	Seed       Value `json:"seed,omitempty"`
	Sched      Value `json:"sched,omitempty"`
	Quantum    Value `json:"quantum,omitempty"`
	MaxSteps   Value `json:"maxSteps,omitempty"`
	MaxMem     Value `json:"maxMem,omitempty"`
	Stack      Value `json:"stack,omitempty"`
	MaxThreads Value `json:"maxThreads,omitempty"`
	MaxProcs   Value `json:"maxProcs,omitempty"`
	MaxFDs     Value `json:"maxFds,omitempty"`
	Budget     Value `json:"budget,omitempty"`
	Timeout    Value `json:"timeout,omitempty"`

	// Dirs and Net are the grants of --dir and --net: HOST[:GUEST][:ro|rw] with HOST relative
	// to Cwd, and HOST:PORT or connect=HOST:PORT.
	Dirs []string `json:"dirs,omitempty"`
	Net  []string `json:"net,omitempty"`
}

// A Value is a flag's value in a launch configuration: a JSON string or number, such as
// "64M" or 1000, kept as its text for the flag to read.
type Value string

func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Value(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%s is neither a string nor a number", b)
	}
	*v = Value(n)
	return nil
}

// Flags returns the flags of spindle debug that args give, as a command line would: --seed=1.
func (args LaunchArgs) Flags() []string {
	var flags []string
	for _, f := range []struct {
		name string
		v    Value
	}{
		{"seed", args.Seed}, {"sched", args.Sched}, {"quantum", args.Quantum}, {"max-steps", args.MaxSteps},
		{"max-mem", args.MaxMem}, {"stack", args.Stack}, {"max-threads", args.MaxThreads},
		{"max-procs", args.MaxProcs}, {"max-fds", args.MaxFDs}, {"budget", args.Budget}, {"timeout", args.Timeout},
	} {
		if f.v != "" {
			flags = append(flags, "--"+f.name+"="+string(f.v))
		}
	}
	for _, d := range args.Dirs {
		host, rest, guest := strings.Cut(d, ":")
		if host = args.Path(host); guest {
			host += ":" + rest
		}
		flags = append(flags, "--dir="+host)
	}
	for _, n := range args.Net {
		flags = append(flags, "--net="+n)
	}
	return flags
}

// Path returns name relative to the launch's cwd, unless it is absolute.
func (args LaunchArgs) Path(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	if args.Cwd != "" {
		return filepath.Join(args.Cwd, name)
	}
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return name
}

func (sv *server) onLaunch(req *dap.LaunchRequest) {
	if sv.s != nil {
		sv.fail(req, errOrder, "launch came twice: one session debugs one program")
		return
	}
	var args LaunchArgs
	if err := json.Unmarshal(req.Arguments, &args); err != nil {
		sv.fail(req, errBadRequest, "launch: %v", err)
		return
	}
	if args.Program == "" {
		sv.fail(req, errBadRequest, "launch: no program: set \"program\" to the assembly source or object file to debug")
		return
	}
	sv.console = &consoleWriter{sv: sv}
	cfg, err := sv.configure(&args)
	if err != nil {
		sv.fail(req, errLaunchFailed, "%v", err)
		return
	}
	s, err := debugger.New(cfg, sv.console)
	if err != nil {
		if cfg.Close != nil {
			cfg.Close() // a launch that the client tries again must not keep them
		}
		sv.fail(req, errLaunchFailed, "%s: %v", args.Program, err)
		return
	}
	sv.s, sv.launch, sv.seed = s, args, cfg.Options.Seed
	sv.session.Store(s)
	// The requests name the thread they step, and the others run meanwhile, as the protocol
	// has it, unless a request asks for its thread alone (singleThread).
	if err := sv.exec("set scheduler-locking off"); err != nil {
		sv.fail(req, errLaunchFailed, "%v", err)
		return
	}
	sv.send(&dap.LaunchResponse{Response: response(req)})
	s.Banner(filepath.Base(args.Program))
	sv.threadEvents(s.Threads())
	// The client sends its breakpoints now, then configurationDone (see start).
	sv.send(&dap.InitializedEvent{Event: event("initialized")})
}

// configure makes the session's configuration of a launch configuration, as the command
// does; its paths become the paths they name.
func (sv *server) configure(args *LaunchArgs) (debugger.Config, error) {
	args.Program, args.Stdin = args.Path(args.Program), args.Path(args.Stdin)
	cfg, err := sv.cfg.Launch(*args, sv.console)
	if err != nil {
		return debugger.Config{}, err
	}
	cfg.Stdout, cfg.Stderr = programOutput{sv, "stdout"}, programOutput{sv, "stderr"}
	cfg.Input = nil // the program's input is the stdin file, or none
	return cfg, nil
}

// exec runs a command line of the session.
func (sv *server) exec(line string) error { return sv.s.Command(line) }

// start starts the program once the client has configured the session: it stops at its
// entry, or runs to its first stop.
func (sv *server) start() {
	if sv.launch.StopOnEntry {
		sv.stopped("entry")
		return
	}
	sv.run("", "run")
}

// onRestart starts the program again. With the launch configuration (the restart request's
// arguments, which the client reads again, edited perhaps), it starts it as that configuration
// has it now: another program, other arguments, another stdin, other flags. Without one, it
// assembles the program again from its source, if it is one (reload). Either way the
// breakpoints are kept, and their hit conditions count from the start again; the client is
// told of those that moved to another line, or that the program no longer has.
func (sv *server) onRestart(req *dap.RestartRequest) {
	if sv.running.Load() {
		sv.fail(req, errNotStoppedNow, "restart: the program runs; pause it first")
		return
	}
	args, given, err := restartArguments(req.Arguments)
	if err != nil {
		sv.fail(req, errBadRequest, "restart: %v", err)
		return
	}
	before := sv.breakpointViews()
	switch {
	case given:
		if err := sv.relaunch(args); err != nil {
			sv.fail(req, errLaunchFailed, "restart: %v; the session goes on as it was", err)
			return
		}
	case sv.exec("reload") != nil:
		if err := sv.exec("reset"); err != nil {
			sv.fail(req, errFailed, "restart: %v", err)
			return
		}
	}
	sv.terminated = false
	sv.send(&dap.RestartResponse{Response: response(req)})
	sv.breakpointEvents(before)
	if sv.configured {
		sv.start()
	}
}

// restartArguments reads a restart request's arguments: the launch configuration, if they give
// one.
func restartArguments(raw json.RawMessage) (LaunchArgs, bool, error) {
	var a struct {
		Arguments json.RawMessage `json:"arguments"`
	}
	if len(raw) == 0 || string(raw) == "null" {
		return LaunchArgs{}, false, nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return LaunchArgs{}, false, err
	}
	if len(a.Arguments) == 0 || string(a.Arguments) == "null" {
		return LaunchArgs{}, false, nil
	}
	var args LaunchArgs
	if err := json.Unmarshal(a.Arguments, &args); err != nil {
		return LaunchArgs{}, false, fmt.Errorf("arguments: %v", err)
	}
	if args.Program == "" {
		return LaunchArgs{}, false, errors.New(`arguments: no program: set "program" to the assembly source or object file to debug`)
	}
	return args, true, nil
}

// relaunch starts the program again as launch configuration args has it. Every field may
// change; a seed that it does not give is the one the run had, so that the schedule is the
// same (a random one is drawn only at launch). A configuration that does not launch leaves the
// session as it was.
func (sv *server) relaunch(args LaunchArgs) error {
	if args.Seed == "" {
		args.Seed = Value(strconv.FormatUint(sv.seed, 10))
	}
	cfg, err := sv.configure(&args)
	if err != nil {
		return err
	}
	if err := sv.s.Relaunch(cfg); err != nil {
		return fmt.Errorf("%s: %v", args.Program, err)
	}
	sv.launch, sv.seed = args, cfg.Options.Seed
	return nil
}

// breakpointViews returns what the client was told of each placed breakpoint, by id.
func (sv *server) breakpointViews() map[int]dap.Breakpoint {
	views := map[int]dap.Breakpoint{}
	for _, list := range sv.bps {
		for _, p := range list {
			if p.id > 0 {
				views[p.id] = sv.breakpoint(p)
			}
		}
	}
	return views
}

// breakpointEvents tells the client of the placed breakpoints that are no longer as before
// says: at another line, or not in the program (disabled).
func (sv *server) breakpointEvents(before map[int]dap.Breakpoint) {
	ids := slices.Sorted(maps.Keys(before))
	for _, id := range ids {
		for _, list := range sv.bps {
			for _, p := range list {
				if now := sv.breakpoint(p); p.id == id && !reflect.DeepEqual(now, before[id]) {
					if now.Id == 0 {
						now.Id = id
					}
					sv.send(&dap.BreakpointEvent{Event: event("breakpoint"), Body: dap.BreakpointEventBody{Reason: "changed", Breakpoint: now}})
				}
			}
		}
	}
}

// terminate ends the debugging of the program: the client then disconnects.
func (sv *server) terminate() {
	if sv.terminated {
		return
	}
	sv.terminated = true
	sv.send(&dap.TerminatedEvent{Event: event("terminated")})
}

func (sv *server) onSource(req *dap.SourceRequest) {
	name := sv.refs.source(req.Arguments.SourceReference)
	src, ok := sv.s.Source(name)
	if !ok {
		sv.fail(req, errFailed, "source: no source %d: the sources without a path are those the stack traces named", req.Arguments.SourceReference)
		return
	}
	sv.send(&dap.SourceResponse{Response: response(req), Body: dap.SourceResponseBody{Content: string(src), MimeType: "text/x-spindle"}})
}

// source returns the Source of a file of the program: its path on the host, or, for a file
// that is not there (an object file's), a reference to the text the image holds.
func (sv *server) source(file string) *dap.Source {
	if file == "" {
		return nil
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(sv.launch.Program), file)
	}
	src := &dap.Source{Name: filepath.Base(file), Path: path}
	if _, err := os.Stat(path); err != nil {
		if _, ok := sv.s.Source(file); ok {
			src.Path, src.SourceReference = "", sv.refs.addSource(file)
		}
	}
	return src
}

// firstLine is the first line of text.
func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}
