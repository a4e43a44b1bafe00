package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/vm"
)

// dirList is a repeatable flag, --dir or --net: the grants, as given.
type dirList []string

func (d *dirList) String() string { return strings.Join(*d, " ") }

func (d *dirList) Set(s string) error {
	*d = append(*d, s)
	return nil
}

// A grantSpec is one --dir HOST[:GUEST][:ro|rw], read.
type grantSpec struct {
	host, guest string
	readOnly    bool
}

// parseGrant reads one --dir. GUEST defaults to "/" and HOST's last name, so that --dir ./site
// is /site to the program; read-only is the default.
func parseGrant(s string) (grantSpec, error) {
	parts := strings.Split(s, ":")
	g := grantSpec{readOnly: true}
	switch parts[len(parts)-1] {
	case "ro":
		parts = parts[:len(parts)-1]
	case "rw":
		g.readOnly = false
		parts = parts[:len(parts)-1]
	}
	switch len(parts) {
	case 1:
		g.host = parts[0]
		abs, err := filepath.Abs(g.host)
		if err != nil {
			return g, err
		}
		g.guest = path.Join("/", filepath.ToSlash(filepath.Base(abs)))
	case 2:
		g.host, g.guest = parts[0], parts[1]
	default:
		return g, fmt.Errorf("--dir %s: want HOST[:GUEST][:ro|rw]", s)
	}
	switch {
	case g.host == "":
		return g, fmt.Errorf("--dir %s: no host directory", s)
	case !strings.HasPrefix(g.guest, "/"):
		return g, fmt.Errorf("--dir %s: the guest path %q must be absolute, such as /www", s, g.guest)
	case strings.Contains("/"+g.guest+"/", "/../"):
		return g, fmt.Errorf("--dir %s: the guest path %q must not have a .. in it", s, g.guest)
	}
	g.guest = path.Clean(g.guest)
	return g, nil
}

// grants reads the --dir flags and opens their directories. A bad flag is a usage error (64),
// a directory that cannot be granted, a symbolic link among them, a missing input (66); msg
// says which. close closes the directories opened.
func grants(dirs dirList) (gs []vm.Grant, close func(), status int, msg string) {
	close = func() {
		for _, g := range gs {
			g.Dir.(interface{ Close() error }).Close()
		}
	}
	seen := map[string]string{}
	var specs []grantSpec
	for _, s := range dirs {
		g, err := parseGrant(s)
		if err != nil {
			return nil, func() {}, exitUsage, err.Error()
		}
		if other, ok := seen[g.guest]; ok {
			return nil, func() {}, exitUsage, fmt.Sprintf("--dir %s: %s is granted already, by --dir %s", s, g.guest, other)
		}
		seen[g.guest] = s
		specs = append(specs, g)
	}
	for i, g := range specs {
		root, err := vm.OpenDir(g.host)
		if err != nil {
			close()
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, func() {}, exitNoInput, fmt.Sprintf("--dir %s: %s: %v", dirs[i], g.host, err)
		}
		gs = append(gs, vm.Grant{Guest: g.guest, Dir: closer{vm.RootDir(root), root}, ReadOnly: g.readOnly})
	}
	return gs, close, 0, ""
}

// closer is a Dir that the command closes after the run.
type closer struct {
	vm.Dir
	root *os.Root
}

func (c closer) Close() error { return c.root.Close() }

// netGrants reads the --net flags: ADDR lets the program listen at ADDR, connect=ADDR lets it
// connect to ADDR. A bad flag is a usage error.
func netGrants(flags dirList) ([]vm.NetGrant, string) {
	var gs []vm.NetGrant
	for _, s := range flags {
		g := vm.NetGrant{Addr: s}
		if a, ok := strings.CutPrefix(s, "connect="); ok {
			g = vm.NetGrant{Addr: a, Connect: true}
		}
		host, port, err := net.SplitHostPort(g.Addr)
		if err != nil {
			return nil, fmt.Sprintf("--net %s: want HOST:PORT to listen at, or connect=HOST:PORT", s)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		switch {
		case err != nil:
			return nil, fmt.Sprintf("--net %s: the port %q must be a number from 0 to 65535", s, port)
		case g.Connect && host == "":
			return nil, fmt.Sprintf("--net %s: a grant to connect needs a host", s)
		case g.Connect && n == 0:
			return nil, fmt.Sprintf("--net %s: a grant to connect needs a port other than 0", s)
		}
		gs = append(gs, g)
	}
	return gs, ""
}

// grant opens the directories of --dir and checks the addresses of --net into opts, for
// command c, and makes the address a program listens at known on stderr, in a line a script
// can read. It returns what closes the directories, or nil and the exit status of a refusal,
// which it has reported.
func (rf *runFlags) grant(io stdio, c *command, opts *vm.Options) (close func(), status int) {
	gs, closeGrants, code, msg := grants(*rf.dirs)
	if msg != "" {
		if code == exitUsage {
			return nil, usageError(io, c, "%s", msg)
		}
		fmt.Fprintf(io.err, "spindle: %s\n", msg)
		return nil, code
	}
	opts.Grants = gs
	if opts.NetGrants, msg = netGrants(*rf.nets); msg != "" {
		closeGrants()
		return nil, usageError(io, c, "%s", msg)
	}
	opts.Listening = listening(io.err)
	return closeGrants, 0
}

// listening says on w where a program listens, in a line a script can read.
func listening(w io.Writer) func(addr string) {
	return func(addr string) { fmt.Fprintf(w, "spindle: listening on %s\n", addr) }
}
