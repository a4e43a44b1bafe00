package vm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spindle-vm/spindle/asm"
	"github.com/spindle-vm/spindle/isa"
)

// spyNet is a Network that records the addresses it is asked for, to check that a refused
// address never reaches the host.
type spyNet struct {
	Network
	mu    sync.Mutex
	asked []string
}

func (n *spyNet) note(s string) {
	n.mu.Lock()
	n.asked = append(n.asked, s)
	n.mu.Unlock()
}

func (n *spyNet) Listen(addr string) (Listener, error) {
	n.note("listen " + addr)
	return n.Network.Listen(addr)
}

func (n *spyNet) Dial(ctx context.Context, addr string) (Conn, error) {
	n.note("connect " + addr)
	return n.Network.Dial(ctx, addr)
}

// netRun runs src in the background and returns a function that waits for its end, with its
// output and error, and the channel of the addresses it listens at.
func netRun(t *testing.T, src string, opts Options) (wait func() (string, error), listening <-chan string) {
	t.Helper()
	img, err := asm.Assemble("net.s", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	addrs := make(chan string, 16)
	opts.Listening = func(a string) { addrs <- a }
	if opts.Timeout == 0 {
		opts.Timeout = 20 * time.Second // a test that hangs fails, with a report
	}
	var out bytes.Buffer
	opts.Stdout, opts.Stderr = &out, &out
	done := make(chan error, 1)
	go func() {
		_, err := Run(img, opts)
		done <- err
	}()
	return func() (string, error) {
		err := <-done
		return out.String(), err
	}, addrs
}

// addrData is the .data line of an address, and the instructions that put it and its length
// in a0 and a1.
func addrData(label, addr string) (data, load string) {
	return fmt.Sprintf("%s: .ascii %q\n", label, addr), fmt.Sprintf(" la a0, %s\n li a1, %d\n", label, len(addr))
}

// printA0 prints a0 and a newline.
const printA0 = " syscall print_int\n li a0, 10\n syscall putc\n"

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// goServer listens at a loopback address, serves each connection with serve on a goroutine of
// its own until the test ends, and returns the address.
func goServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return l.Addr().String()
}

// expectOutput waits for the run's end and checks that it ended well, with output want.
func expectOutput(t *testing.T, wait func() (string, error), want string) {
	t.Helper()
	out, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// TestNetGrants checks that listen and connect reach the host only at the addresses granted,
// as the program names them, and that a refusal is EACCES, after which the program goes on.
func TestNetGrants(t *testing.T) {
	free := freeAddr(t)
	tests := []struct {
		name    string
		service string
		addr    string
		grants  []NetGrant
		want    isa.Errno
		asked   bool
	}{
		{"listen with no grant", "listen", "127.0.0.1:0", nil, isa.EACCES, false},
		{"connect with no grant", "connect", free, nil, isa.EACCES, false},
		{"listen at another port", "listen", "127.0.0.1:1", []NetGrant{{Addr: "127.0.0.1:0"}}, isa.EACCES, false},
		{"listen at another name of the host", "listen", "localhost:0", []NetGrant{{Addr: "127.0.0.1:0"}}, isa.EACCES, false},
		{"listen where only connect is granted", "listen", free, []NetGrant{{Addr: free, Connect: true}}, isa.EACCES, false},
		{"connect where only listen is granted", "connect", free, []NetGrant{{Addr: free}}, isa.EACCES, false},
		{"an empty address", "listen", "", []NetGrant{{Addr: "127.0.0.1:0"}}, isa.EINVAL, false},
		{"a NUL in the address", "connect", free + "\x00", []NetGrant{{Addr: free, Connect: true}}, isa.EINVAL, false},
		{"an address too long", "connect", strings.Repeat("a", isa.MaxAddr+1), nil, isa.EINVAL, false},
		{"connect granted, nothing there", "connect", free, []NetGrant{{Addr: free, Connect: true}}, isa.ECONNREFUSED, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &spyNet{Network: HostNetwork()}
			data := bytesData("a", tt.addr)
			load := fmt.Sprintf(" la a0, a\n li a1, %d\n li a2, 0\n", len(tt.addr))
			src := ".data\n" + data + ".text\nmain:" + load + " syscall " + tt.service + "\n" + printA0 +
				" la a0, after\n syscall puts\n ret\n .data\nafter: .asciz \"goes on\\n\"\n"
			wait, _ := netRun(t, src, Options{NetGrants: tt.grants, Network: spy})
			expectOutput(t, wait, fmt.Sprintf("%d\ngoes on\n", tt.want))
			if asked := len(spy.asked) > 0; asked != tt.asked {
				t.Errorf("the host was asked %q; want asked = %v", spy.asked, tt.asked)
			}
		})
	}
}

// TestNetClient connects to a Go server, writes a request, shuts its writing side, and reads
// the answer to its end: the services a client needs, in order.
func TestNetClient(t *testing.T) {
	got := make(chan string, 1)
	addr := goServer(t, func(c net.Conn) {
		req, _ := io.ReadAll(c) // until the client's shutdown
		got <- string(req)
		fmt.Fprintf(c, "answer to %s", req)
	})
	data, load := addrData("addr", addr)
	src := `.data
` + data + `req: .ascii "question"
buf: .space 64
 .text
main: ` + load + ` li a2, 5000
 syscall connect
 mov s0, a0
 la a1, req
 li a2, 8
 syscall write
 ` + printA0 + `
 mov a0, s0
 li a1, 1
 syscall shutdown
 ` + printA0 + `
 la s1, buf
.read: mov a0, s0
 mov a1, s1
 la a2, buf
 addi a2, a2, 64
 sub a2, a2, s1          # what is left of buf
 syscall read
 li t0, 0
 ble a0, t0, .end
 add s1, s1, a0
 jmp .read
.end: ` + printA0 + `
 li a0, 1
 la a1, buf
 sub a2, s1, a1
 syscall write
 mov a0, s0
 syscall close
 ` + printA0 + `
 ret
`
	wait, _ := netRun(t, src, Options{NetGrants: []NetGrant{{Addr: addr, Connect: true}}})
	expectOutput(t, wait, "8\n0\n0\nanswer to question0\n")
	if r := <-got; r != "question" {
		t.Errorf("the server read %q", r)
	}
}

// TestNetParksOnlyTheThread checks that a thread blocked in accept and one blocked in read
// leave the process's other threads running: main speaks to its own server through the
// network, which it could not if a wait on the network held the processor.
func TestNetParksOnlyTheThread(t *testing.T) {
	for _, cpus := range []int{1, 2} {
		t.Run(fmt.Sprint(cpus, " processors"), func(t *testing.T) {
			free := freeAddr(t)
			data, load := addrData("addr", free)
			src := `.data
` + data + `msg: .ascii "ping"
 .align 8
lfd: .quad 0
 .bss
buf: .space 16
 .text
main: ` + load + ` syscall listen
 la t0, lfd
 sd a0, 0(t0)
 la a0, server
 li a1, 0
 li a2, 4096
 syscall thread_spawn    # the server waits in accept, then in read
 mov s1, a0
 la a0, running
 syscall puts            # while main runs on
` + load + ` li a2, 0
 syscall connect         # to its own server
 mov s0, a0
 la a1, msg
 li a2, 4
 syscall write
 mov a0, s1
 syscall thread_join
 ret
server: la t0, lfd
 ld a0, 0(t0)
 syscall accept
 la a1, buf
 li a2, 16
 syscall read
 mov a2, a0
 li a0, 1
 la a1, buf
 syscall write
 li a0, 10
 syscall putc
 ret
 .data
running: .asciz "main runs\n"
`
			wait, _ := netRun(t, src, Options{CPUs: cpus, NetGrants: []NetGrant{{Addr: free}, {Addr: free, Connect: true}}})
			expectOutput(t, wait, "main runs\nping\n")
		})
	}
}

// TestNetTimeouts checks sockopt's timeouts: a read that waits past the receive timeout
// returns ETIMEDOUT, and the connection stays usable; so does an accept.
func TestNetTimeouts(t *testing.T) {
	addr := goServer(t, func(c net.Conn) {
		b := make([]byte, 1)
		c.Read(b) // the program's word that its read timed out
		c.Write([]byte("late"))
		io.Copy(io.Discard, c)
	})
	free := freeAddr(t)
	data, load := addrData("addr", addr)
	ldata, lload := addrData("laddr", free)
	src := `.data
` + data + ldata + `buf: .space 16
 .text
main: ` + load + ` li a2, 5000
 syscall connect
 mov s0, a0
 li a1, 1                # the receive timeout
 li a2, 50
 syscall sockopt
 ` + printA0 + `
 mov a0, s0
 la a1, buf
 li a2, 16
 syscall read            # nothing comes within 50 ms
 ` + printA0 + `
 mov a0, s0
 li a1, 1
 li a2, 0
 syscall sockopt         # no more timeout
 mov a0, s0
 la a1, buf
 li a2, 1
 syscall write           # tell the server
 mov a0, s0
 la a1, buf
 li a2, 16
 syscall read            # and read its late answer
 mov a2, a0
 li a0, 1
 la a1, buf
 syscall write
 li a0, 10
 syscall putc
` + lload + ` syscall listen
 mov s1, a0
 li a1, 1
 li a2, 30
 syscall sockopt
 mov a0, s1
 syscall accept          # no client comes within 30 ms
 ` + printA0 + `
 mov a0, s1
 li a1, 3
 li a2, 1
 syscall sockopt         # an option that is not one
 ` + printA0 + `
 ret
`
	wait, _ := netRun(t, src, Options{NetGrants: []NetGrant{{Addr: addr, Connect: true}, {Addr: free}}})
	expectOutput(t, wait, fmt.Sprintf("0\n%d\nlate\n%d\n%d\n", isa.ETIMEDOUT, isa.ETIMEDOUT, isa.EINVAL))
}

// TestNetLimits checks that the descriptors and the memory of connections are limited, with an
// error code, and that a connection refused for want of a descriptor waits for a later accept.
func TestNetLimits(t *testing.T) {
	free := freeAddr(t)
	data, load := addrData("addr", free)
	src := `.data
` + data + ` .text
main: ` + load + ` syscall listen
 mov s0, a0
 ` + printA0 + `
 la a0, ready
 syscall puts
 mov a0, s0
 syscall accept           # 4 descriptors at most: 0, 1, 2 and the listener
 li t0, -24
 bne a0, t0, .other
 ` + printA0 + `
 li a0, 0
 syscall close            # one more free
 mov a0, s0
 syscall accept           # the same connection, still waiting
 ` + printA0 + `
 ret
.other: ` + printA0 + `
 ret
 .data
ready: .asciz "ready\n"
`
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"--max-fds 4", Options{MaxFDs: 4}, fmt.Sprintf("3\nready\n%d\n0\n", isa.EMFILE)},
		// A memory limit that holds the listener (512 bytes) but not a connection (33 KiB).
		{"a small --max-mem", Options{StackSize: 4096, MaxMem: 4096 + 8192}, fmt.Sprintf("3\nready\n%d\n", isa.ENOMEM)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.NetGrants = []NetGrant{{Addr: free}}
			wait, addrs := netRun(t, src, tt.opts)
			<-addrs
			c, err := net.Dial("tcp", free)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			expectOutput(t, wait, tt.want)
		})
	}
}

// TestNetShutdownRead checks that after shutdown of reading, read returns 0, and that the
// errors of descriptors that are not connections are the documented ones.
func TestNetShutdownRead(t *testing.T) {
	// A server that sends nothing: a read would wait for ever.
	addr := goServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	data, load := addrData("addr", addr)
	free := freeAddr(t)
	ldata, lload := addrData("laddr", free)
	src := `.data
` + data + ldata + `buf: .space 8
 .text
main: ` + load + ` li a2, 0
 syscall connect
 mov s0, a0
 li a1, 0
 syscall shutdown
 ` + printA0 + `
 mov a0, s0
 la a1, buf
 li a2, 8
 syscall read             # 0 at once
 ` + printA0 + `
 mov a0, s0
 li a1, 7
 syscall shutdown         # no such how
 ` + printA0 + `
 li a0, 1
 li a1, 2
 syscall shutdown         # stdout is no socket
 ` + printA0 + `
 li a0, 9
 syscall accept           # nor is a closed descriptor
 ` + printA0 + `
 mov a0, s0
 syscall accept           # a connection is not listening
 ` + printA0 + `
` + lload + ` syscall listen
 mov s1, a0
 la a1, buf
 li a2, 8
 syscall read             # a listening socket has no peer
 ` + printA0 + `
 mov a0, s1
 la a1, buf
 li a2, 8
 syscall write
 ` + printA0 + `
 mov a0, s1
 li a1, 1
 syscall shutdown
 ` + printA0 + `
 mov a0, s0
 li a1, 1
 syscall shutdown
 mov a0, s0
 la a1, buf
 li a2, 8
 syscall write            # after shutdown of writing
 ` + printA0 + `
 ret
`
	wait, _ := netRun(t, src, Options{NetGrants: []NetGrant{{Addr: addr, Connect: true}, {Addr: free}}})
	expectOutput(t, wait, fmt.Sprintf("0\n0\n%d\n%d\n%d\n%d\n%d\n%d\n%d\n%d\n", isa.EINVAL, isa.ENOTSOCK, isa.EBADF,
		isa.EINVAL, isa.ENOTCONN, isa.ENOTCONN, isa.ENOTCONN, isa.EPIPE))
}

// TestNetBadGrants checks that Load refuses a grant that names no address.
func TestNetBadGrants(t *testing.T) {
	img, err := asm.Assemble("s.s", []byte("main: ret\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []NetGrant{{Addr: "nowhere"}, {Addr: ":0", Connect: true}, {Addr: "127.0.0.1:0", Connect: true}} {
		if _, err := Load(img, Options{NetGrants: []NetGrant{g}}); err == nil {
			t.Errorf("Load with %+v: no error", g)
		}
	}
}

// stallingNet is a Network whose connects never get through: Dial waits until it is given up.
type stallingNet struct{ Network }

func (stallingNet) Dial(ctx context.Context, addr string) (Conn, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestNetConnectTimeout checks connect's own limit: a connect that does not get through within
// it returns ETIMEDOUT, and the program goes on.
func TestNetConnectTimeout(t *testing.T) {
	data, load := addrData("addr", "192.0.2.1:80")
	src := ".data\n" + data + " .text\nmain:" + load + " li a2, 30\n syscall connect\n" + printA0 + " li a0, 0\n ret\n"
	wait, _ := netRun(t, src, Options{Network: stallingNet{}, NetGrants: []NetGrant{{Addr: "192.0.2.1:80", Connect: true}}})
	expectOutput(t, wait, fmt.Sprintf("%d\n", isa.ETIMEDOUT))
}
