package vm

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// spyDir is a Dir that records the names it is asked for, to check that a refused path never
// reaches the host.
type spyDir struct {
	Dir
	names *[]string
}

func (d spyDir) note(names ...string) { *d.names = append(*d.names, names...) }

func (d spyDir) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	d.note(name)
	return d.Dir.OpenFile(name, flag, perm)
}
func (d spyDir) Stat(name string) (fs.FileInfo, error) { d.note(name); return d.Dir.Stat(name) }
func (d spyDir) Mkdir(name string, perm fs.FileMode) error {
	d.note(name)
	return d.Dir.Mkdir(name, perm)
}
func (d spyDir) Remove(name string) error { d.note(name); return d.Dir.Remove(name) }
func (d spyDir) Rename(o, n string) error { d.note(o, n); return d.Dir.Rename(o, n) }

// fileTree makes the host side of the tests: a directory granted as /g (read-write), with
// links that point out of it, one granted as /ro (read-only), one as /o, and one outside every
// grant with a secret in it.
func fileTree(t *testing.T) (base string, grants []Grant, seen *[]string) {
	t.Helper()
	base = t.TempDir()
	for _, d := range []string{"outside", "g/sub", "ro", "o"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{"outside/secret.txt": "secret\n", "g/a.txt": "hello\n", "ro/r.txt": "read only\n"} {
		if err := os.WriteFile(filepath.Join(base, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"g/out-abs": filepath.Join(base, "outside/secret.txt"), "g/out-rel": "../outside/secret.txt",
		"g/in-link": "a.txt", "g/loop": "loop", "g/out-dir": "../outside",
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			t.Skip("symbolic links:", err)
		}
	}
	if err := os.Link(filepath.Join(base, "outside/secret.txt"), filepath.Join(base, "g/hard")); err != nil {
		t.Fatal(err)
	}
	seen = new([]string)
	for _, g := range []struct {
		guest, host string
		ro          bool
	}{{"/g", "g", false}, {"/ro", "ro", true}, {"/o", "o", false}} {
		root, err := OpenDir(filepath.Join(base, g.host))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { root.Close() })
		grants = append(grants, Grant{Guest: g.guest, Dir: spyDir{RootDir(root), seen}, ReadOnly: g.ro})
	}
	return base, grants, seen
}

// bytesData is a .data line that holds s, NUL bytes and all.
func bytesData(label, s string) string {
	if s == "" || len(s) > isa.MaxPath {
		// A path too long is refused before it is read: its bytes do not matter.
		return fmt.Sprintf("%s: .space %d\n", label, max(8, len(s)))
	}
	var b []string
	for i := 0; i < len(s); i++ {
		b = append(b, fmt.Sprint(s[i]))
	}
	return label + ": .byte " + strings.Join(b, ", ") + "\n"
}

// runFiles runs the program src with the grants, and returns its output and the error.
func runFiles(t *testing.T, src string, opts Options) (string, error) {
	t.Helper()
	img, err := asm.Assemble("files.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, img, "", opts)
	return out, err
}

// oneCall runs a program that makes one call with the paths p and q (and their lengths) in
// a0-a3 and a2 = flags when q is absent, and prints a0.
func oneCall(t *testing.T, grants []Grant, service, p string, flags isa.OpenFlag, q ...string) int64 {
	t.Helper()
	data := bytesData("p", p)
	args := fmt.Sprintf(" la a0, p\n li a1, %d\n li a2, %d\n", len(p), flags)
	if len(q) > 0 {
		data += bytesData("q", q[0])
		args = fmt.Sprintf(" la a0, p\n li a1, %d\n la a2, q\n li a3, %d\n", len(p), len(q[0]))
	}
	if service == "stat" {
		args += " la a2, st\n"
	}
	src := ".data\n" + data + "st: .space 32\n .text\nmain:" + args + " syscall " + service + "\n syscall print_int\n li a0, 0\n ret\n"
	out, err := runFiles(t, src, Options{Grants: grants})
	if err != nil {
		t.Fatalf("%s %q: %v", service, p, err)
	}
	var v int64
	if _, err := fmt.Sscan(out, &v); err != nil {
		t.Fatalf("%s %q: output %q", service, p, out)
	}
	return v
}

// TestGrantEscapes tries every way out of the grants that docs/security.md lists, and the
// ways that stay inside, and checks the error code of each. A refusal that the kernel makes
// (not os.Root's) must not reach the host at all.
func TestGrantEscapes(t *testing.T) {
	base, grants, seen := fileTree(t)
	const r, w, c, x = isa.OpenRead, isa.OpenWrite, isa.OpenCreate, isa.OpenExclusive
	long := "/g/" + strings.Repeat("x", isa.MaxPath)
	tests := []struct {
		name, service, path string
		flags               isa.OpenFlag
		to                  []string
		want                isa.Errno // 0: a descriptor, 3
		host                bool      // whether the host may be asked
	}{
		{"a file", "open", "/g/a.txt", r, nil, 0, true},
		{"relative to the first grant", "open", "a.txt", r, nil, 0, true},
		{"empty names and dots", "open", "//g/./sub/../a.txt", r, nil, 0, true},
		{"a link inside", "open", "/g/in-link", r, nil, 0, true},
		{"a hard link made by the host", "open", "/g/hard", r, nil, 0, true},
		{".. out of the grant", "open", "/g/../outside/secret.txt", r, nil, isa.EPERM, true},
		{".. relative", "open", "../outside/secret.txt", r, nil, isa.EPERM, true},
		{".. from below", "open", "/g/sub/../../outside/secret.txt", r, nil, isa.EPERM, true},
		{".. into another grant", "open", "/g/../o/x", w | c, nil, isa.EPERM, true},
		{"absolute outside every grant", "open", base + "/outside/secret.txt", r, nil, isa.EPERM, false},
		{"the root", "open", "/", r, nil, isa.EPERM, false},
		{"a prefix that is not a grant", "open", "/gx/a.txt", r, nil, isa.EPERM, false},
		{"an absolute link out", "open", "/g/out-abs", r, nil, isa.EPERM, true},
		{"a relative link out", "open", "/g/out-rel", r, nil, isa.EPERM, true},
		{"through a link to a directory out", "open", "/g/out-dir/secret.txt", r, nil, isa.EPERM, true},
		{"stat through a link out", "stat", "/g/out-rel", 0, nil, isa.EPERM, true},
		{"a NUL byte", "open", "/g/a.txt\x00junk", r, nil, isa.EINVAL, false},
		{"a NUL byte in stat", "stat", "/g/a\x00", 0, nil, isa.EINVAL, false},
		{"a loop of links", "open", "/g/loop", r, nil, isa.ELOOP, true},
		{"empty", "open", "", r, nil, isa.ENOENT, false},
		{"too long", "open", long, r, nil, isa.ENAMETOOLONG, false},
		{"missing", "open", "/g/nope", r, nil, isa.ENOENT, true},
		{"a directory for writing", "open", "/g/sub", w, nil, isa.EISDIR, true},
		{"exclusive", "open", "/g/a.txt", w | c | x, nil, isa.EEXIST, true},
		{"no direction", "open", "/g/a.txt", 0, nil, isa.EINVAL, false},
		{"an unknown flag", "open", "/g/a.txt", r | 64, nil, isa.EINVAL, false},
		{"truncate without write", "open", "/g/a.txt", r | isa.OpenTruncate, nil, isa.EINVAL, false},
		{"read under read-only", "open", "/ro/r.txt", r, nil, 0, true},
		{"write under read-only", "open", "/ro/r.txt", w, nil, isa.EROFS, false},
		{"create under read-only", "open", "/ro/new", w | c, nil, isa.EROFS, false},
		{"mkdir under read-only", "mkdir", "/ro/d", 0, nil, isa.EROFS, false},
		{"unlink under read-only", "unlink", "/ro/r.txt", 0, nil, isa.EROFS, false},
		{"rename under read-only", "rename", "/ro/r.txt", 0, []string{"/ro/s.txt"}, isa.EROFS, false},
		{"rename across grants", "rename", "/g/a.txt", 0, []string{"/o/a.txt"}, isa.EXDEV, false},
		{"rename out by ..", "rename", "/g/a.txt", 0, []string{"/g/../outside/a.txt"}, isa.EPERM, true},
		{"unlink out by ..", "unlink", "/g/../outside/secret.txt", 0, nil, isa.EPERM, true},
		{"unlink through a link out", "unlink", "/g/out-dir/secret.txt", 0, nil, isa.EPERM, true},
		{"mkdir out by ..", "mkdir", "/g/../made", 0, nil, isa.EPERM, true},
		{"unlink of a directory not empty", "unlink", "/g", 0, nil, isa.EINVAL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*seen = nil
			got := oneCall(t, grants, tt.service, tt.path, tt.flags, tt.to...)
			want := int64(tt.want)
			if tt.want == 0 && tt.service == "open" {
				want = 3
			}
			if got != want {
				t.Errorf("%s %q = %d (%v), want %d (%v)", tt.service, tt.path, got, isa.Errno(got), want, tt.want)
			}
			if !tt.host && len(*seen) > 0 {
				t.Errorf("%s %q asked the host for %q; the kernel must refuse it first", tt.service, tt.path, *seen)
			}
		})
	}
	// Nothing outside changed, and nothing was made there.
	if b, err := os.ReadFile(filepath.Join(base, "outside/secret.txt")); err != nil || string(b) != "secret\n" {
		t.Errorf("outside/secret.txt is %q, %v", b, err)
	}
	for _, name := range []string{"made", "outside/a.txt", "o/x", "ro/new", "ro/d"} {
		if _, err := os.Lstat(filepath.Join(base, name)); err == nil {
			t.Errorf("%s was made", name)
		}
	}
}

// TestFileServices runs each service on a file it made, and checks the results in order.
func TestFileServices(t *testing.T) {
	_, grants, _ := fileTree(t)
	src := `
        .data
f:      .ascii  "/g/new.txt"
d:      .ascii  "/g/sub"
dn:     .ascii  "/g/sub/z"
buf:    .space  64
st:     .space  32
        .text
main:   la a0, f
        li a1, 10
        li a2, 7                # read, write, create
        syscall open
        mov s0, a0
        call show               # 3
        mov a0, s0
        la a1, f
        li a2, 10
        syscall write
        call show               # 10
        mov a0, s0
        li a1, 3
        li a2, 0
        syscall seek
        call show               # 3
        mov a0, s0
        la a1, buf
        li a2, 64
        syscall read
        call show               # 7: "new.txt"
        mov a0, s0
        la a1, f
        li a2, 2
        li a3, 20
        syscall pwrite
        call show               # 2, a hole from 10 to 20
        mov a0, s0
        la a1, buf
        li a2, 4
        li a3, 0
        syscall pread
        call show               # 4
        mov a0, s0
        la a1, st
        syscall fstat
        call show               # 0
        la t0, st
        ld a0, 0(t0)
        call show               # 22: the size
        ld a0, 8(t0)
        call show               # 1: a file
        ld a0, 24(t0)
        call show               # 0: the mtime, with the virtual clock
        mov a0, s0
        li a1, -1
        li a2, 0
        syscall seek
        call show               # EINVAL
        mov a0, s0
        li a1, 0
        li a2, 3
        syscall seek
        call show               # EINVAL
        mov a0, s0
        syscall fsync
        call show               # 0
        mov a0, s0
        la a1, buf
        li a2, 64
        syscall readdir
        call show               # ENOTDIR
        mov a0, s0
        syscall close
        call show               # 0
        la a0, dn
        li a1, 8
        syscall mkdir
        call show               # 0
        la a0, d
        li a1, 6
        li a2, 1
        syscall open
        mov s1, a0
        mov a0, s1
        la a1, buf
        li a2, 64
        syscall read
        call show               # EISDIR
        mov a0, s1
        la a1, buf
        li a2, 0
        syscall readdir
        call show               # ERANGE
        mov a0, s1
        la a1, buf
        li a2, 64
        syscall readdir
        call show               # 1: "z"
        mov a0, s1
        la a1, buf
        li a2, 64
        syscall readdir
        call show               # 0: the end
        la a0, d
        li a1, 6
        syscall unlink
        call show               # ENOTEMPTY
        la a0, dn
        li a1, 8
        syscall unlink
        call show               # 0
        syscall pipe
        mov s2, a0
        li a1, 0
        li a2, 0
        syscall seek
        call show               # ESPIPE
        mov a0, s2
        la a1, st
        syscall fstat
        call show               # EBADF
        li a0, 99
        syscall fsync
        call show               # EBADF
        la a0, f
        li a1, 10
        li a2, 1
        syscall open            # read only
        mov s3, a0
        la a1, buf
        li a2, 1
        syscall write
        call show               # EBADF
        mov a0, s3
        la a1, f
        li a2, 10
        li a3, 0
        syscall pwrite
        call show               # EBADF
        la a0, f
        li a1, 10
        li a2, 18               # write, append
        syscall open
        la a1, f
        li a2, 1
        li a3, 0
        syscall pwrite
        call show               # EINVAL
        li a0, 0
        ret
show:   syscall print_int
        li a0, ' '
        syscall putc
        ret
`
	out, err := runFiles(t, src, Options{Grants: grants, VirtualClock: true})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("3 10 3 7 2 4 0 22 1 0 %d %d 0 %d 0 0 %d %d 1 0 %d 0 %d %d %d %d %d %d ",
		isa.EINVAL, isa.EINVAL, isa.ENOTDIR, isa.EISDIR, isa.ERANGE, isa.ENOTEMPTY, isa.ESPIPE, isa.EBADF, isa.EBADF, isa.EBADF, isa.EBADF, isa.EINVAL)
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
}

// TestMaxFDs checks that open past --max-fds is EMFILE, and that an open file is charged to
// the memory limit until its last close.
func TestMaxFDs(t *testing.T) {
	_, grants, _ := fileTree(t)
	src := ".data\np: .ascii \"/g/a.txt\"\n .text\nmain: li s0, 4\n.l: la a0, p\n li a1, 8\n li a2, 1\n syscall open\n syscall print_int\n li a0, ' '\n syscall putc\n dec s0\n bnez s0, .l\n li a0, 3\n syscall close\n li a0, 0\n ret\n"
	img, err := asm.Assemble("fds.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	m, err := Load(img, Options{Grants: grants, MaxFDs: 5, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("3 4 %d %d ", isa.EMFILE, isa.EMFILE); out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	// Descriptor 4 stayed open to the end: the run's end closed it, and gave its charge back.
	if got := m.Process().kmem.Load(); got != 0 {
		t.Errorf("%d bytes still charged after the run", got)
	}
}

// TestBadGrants checks that Load refuses grants that are not absolute, clean and distinct.
func TestBadGrants(t *testing.T) {
	_, grants, _ := fileTree(t)
	img, err := asm.Assemble("s.s", []byte("main: li a0, 0\n ret\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(img, Options{Grants: []Grant{{Guest: "/a/../b", Dir: grants[0].Dir}}}); err == nil {
		t.Errorf("Load took a grant whose guest path is not clean")
	}
	if _, err := Load(img, Options{Grants: []Grant{grants[0], grants[0]}}); err == nil {
		t.Errorf("Load took two grants of one guest path")
	}
}
