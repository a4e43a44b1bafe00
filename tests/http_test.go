//go:build linux

package tests

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The HTTP server and client of programs/net, run by the real binary against real clients and
// servers: Go's net/http, curl, and each other.

const greeting = "Hello from Spindle's http_server.s!\n"

// httpServer runs programs/net/http_server.s at a port the host chooses, serving a directory
// of its own, which it returns with the server. Beside the directory, outside the grant, is a
// file named secret.txt.
func httpServer(t *testing.T) (*server, string) {
	t.Helper()
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	files := map[string][]byte{
		"index.html":    []byte("<h1>Spindle</h1>\n"),
		"notes.txt":     []byte("one\ntwo\n"),
		"empty":         nil,
		"big.bin":       random(t, 300_000),
		"sub/inner.txt": []byte("inner\n"),
		"../secret.txt": []byte("not to be served\n"),
	}
	for name, b := range files {
		p := filepath.Join(site, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, "run", "--net", "127.0.0.1:0", "--dir", site+":/www",
		"../programs/net/http_server.s", "127.0.0.1:0", "/www")
	return s, site
}

// get fetches path from addr with client and returns the status, the body and the response.
func get(t *testing.T, client *http.Client, addr, path string) (int, []byte, *http.Response) {
	t.Helper()
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, body, resp
}

// countingClient is a net/http client with a timeout that counts the connections it opens.
func countingClient(dials *int) *http.Client {
	var mu sync.Mutex
	d := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			*dials++
			mu.Unlock()
			return d.DialContext(ctx, network, addr)
		}},
	}
}

// TestHTTPServerGo asks the server with Go's net/http client for the greeting, files and
// missing ones, all on one kept-alive connection.
func TestHTTPServerGo(t *testing.T) {
	s, site := httpServer(t)
	dials := 0
	client := countingClient(&dials)
	defer client.CloseIdleConnections()
	big, _ := os.ReadFile(filepath.Join(site, "big.bin"))
	tests := []struct {
		path   string
		status int
		body   []byte
		ctype  string
	}{
		{"/", 200, []byte(greeting), "text/plain"},
		{"/index.html", 200, []byte("<h1>Spindle</h1>\n"), "text/html"},
		{"/notes.txt?q=1", 200, []byte("one\ntwo\n"), "text/plain"},
		{"/empty", 200, []byte{}, "application/octet-stream"},
		{"/big.bin", 200, big, "application/octet-stream"},
		{"/sub/inner.txt", 200, []byte("inner\n"), "text/plain"},
		{"/missing.html", 404, []byte("404 Not Found\n"), "text/plain"},
		{"/sub", 404, []byte("404 Not Found\n"), "text/plain"},
		{"/", 200, []byte(greeting), "text/plain"},
	}
	for _, tt := range tests {
		status, body, resp := get(t, client, s.addr, tt.path)
		if status != tt.status || !bytes.Equal(body, tt.body) {
			t.Errorf("GET %s: %d with %d bytes, want %d with %d bytes (%.40q)", tt.path, status, len(body), tt.status, len(tt.body), body)
		}
		if resp.ContentLength != int64(len(tt.body)) {
			t.Errorf("GET %s: Content-Length %d, want %d", tt.path, resp.ContentLength, len(tt.body))
		}
		if got := resp.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
		}
		if resp.Close {
			t.Errorf("GET %s: the server asked to close the connection", tt.path)
		}
	}
	if dials != 1 {
		t.Errorf("%d requests took %d connections, want 1 (keep-alive)", len(tests), dials)
	}
	s.checkQuiet()
}

// exchange sends req on a connection of its own and reads until the server closes it.
func exchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v, after %q", req, err, b)
	}
	return string(b)
}

// response is what the server sends for status and body, with the connection's closing.
func response(status, ctype, body string, close bool) string {
	h := fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", status, ctype, len(body))
	if close {
		h += "Connection: close\r\n"
	}
	return h + "\r\n" + body
}

// TestHTTPServerRequests sends requests byte for byte: bad request lines, other methods and
// versions, pipelined requests, Connection: close, and a path that climbs out of the grant.
func TestHTTPServerRequests(t *testing.T) {
	s, _ := httpServer(t)
	greet := response("200 OK", "text/plain", greeting, false)
	greetClose := response("200 OK", "text/plain", greeting, true)
	bad := response("400 Bad Request", "text/plain", "400 Bad Request\n", true)
	notFound := response("404 Not Found", "text/plain", "404 Not Found\n", false)
	tests := []struct{ req, want string }{
		// Two requests at once, then one that closes: three answers, then the end.
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /notes.txt HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection:  CLOSE\r\n\r\n",
			greet + response("200 OK", "text/plain", "one\ntwo\n", false) + greetClose},
		{"GET / HTTP/1.0\r\n\r\n", greetClose},
		{"GET / HTTP/1.1\n\n" + "GET / HTTP/1.1\nconnection: close\n\n", greet + greetClose}, // bare newlines
		{"\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n", greetClose},
		{"garbage\r\n\r\n", bad},
		{"GET /\r\n\r\n", bad},
		{"GET / HTTP/2.0\r\n\r\n", bad},
		{"GET index.html HTTP/1.1\r\n\r\n", bad},
		{"GET  / HTTP/1.1\r\n\r\n", bad},
		{"GET / HTTP/1.1 \r\n\r\n", bad},
		{"GET / HTTP/1.1\r\n\r\nBAD\r\n\r\nGET / HTTP/1.1\r\n\r\n", greet + bad},
		{"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", response("501 Not Implemented", "text/plain", "501 Not Implemented\n", true)},
		{"get / HTTP/1.1\r\n\r\n", response("501 Not Implemented", "text/plain", "501 Not Implemented\n", true)},
		{"GET /" + strings.Repeat("a", 1024) + " HTTP/1.1\r\n\r\n", response("414 URI Too Long", "text/plain", "414 URI Too Long\n", true)},
		{"GET /../secret.txt HTTP/1.1\r\n\r\nGET /sub/../../secret.txt HTTP/1.0\r\n\r\n",
			notFound + response("404 Not Found", "text/plain", "404 Not Found\n", true)},
	}
	for _, tt := range tests {
		if got := exchange(t, s.addr, tt.req); got != tt.want {
			t.Errorf("%.60q:\n got %q\nwant %q", tt.req, got, tt.want)
		}
	}
}

// TestHTTPServerCurl is the server as a person tries it, with curl: two pages on one
// connection.
func TestHTTPServerCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (Debian's curl package has it)")
	}
	s, _ := httpServer(t)
	cmd := exec.Command(curl, "-sS", "-v", "--max-time", "10", "http://"+s.addr+"/", "http://"+s.addr+"/notes.txt")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, stderr.String())
	}
	if want := greeting + "one\ntwo\n"; string(out) != want {
		t.Errorf("curl printed %q, want %q", out, want)
	}
	if n := strings.Count(stderr.String(), "Connected to"); n != 1 {
		t.Errorf("curl connected %d times for two pages, want once (keep-alive):\n%s", n, stderr.String())
	}
	cmd = exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "http://"+s.addr+"/missing")
	if out, err := cmd.Output(); err != nil || string(out) != "404" {
		t.Errorf("curl of a missing file: %q, %v; want 404", out, err)
	}
}

// runClient runs programs/net/client.s against addr for path, and returns its stdout, stderr
// and exit status.
func runClient(t *testing.T, addr, path string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "spindle"), "run", "--timeout", "20s", "--net", "connect="+addr,
		"../programs/net/client.s", addr, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), status
}

// TestHTTPClient runs client.s against http_server.s and against Go's httptest server, whose
// request it checks.
func TestHTTPClient(t *testing.T) {
	s, site := httpServer(t)
	big, _ := os.ReadFile(filepath.Join(site, "big.bin"))
	for _, tt := range []struct {
		path, want string
		status     int
	}{
		{"/", greeting, 0},
		{"/index.html", "<h1>Spindle</h1>\n", 0},
		{"/big.bin", string(big), 0},
		{"/missing", "404 Not Found\n", 1},
	} {
		out, errs, status := runClient(t, s.addr, tt.path)
		if out != tt.want || status != tt.status || errs != "" {
			t.Errorf("client.s %s: status %d, %d bytes (%.40q), stderr %q; want status %d, %d bytes",
				tt.path, status, len(out), out, errs, tt.status, len(tt.want))
		}
	}

	// Go's server, which checks the request, and answers in pieces: the head's end is cut
	// between two writes.
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %s host=%s close=%v", r.Method, r.URL.Path, r.Proto, r.Host, r.Close))
		mu.Unlock()
		if r.URL.Path == "/split" {
			c, buf, _ := http.NewResponseController(w).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r")
			buf.Flush()
			time.Sleep(50 * time.Millisecond) // a pause, so that the client reads the head in two
			buf.WriteString("\nsplit")
			buf.Flush()
			c.Close()
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(big)))
		w.Write(big)
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	if out, errs, status := runClient(t, addr, "/page"); out != string(big) || status != 0 || errs != "" {
		t.Errorf("client.s of Go's server: status %d, %d bytes, stderr %q; want %d bytes", status, len(out), errs, len(big))
	}
	if out, errs, status := runClient(t, addr, "/split"); out != "split" || status != 0 || errs != "" {
		t.Errorf("client.s of a head cut in two: status %d, %q, stderr %q; want \"split\"", status, out, errs)
	}
	want := []string{"GET /page HTTP/1.1 host=" + addr + " close=true", "GET /split HTTP/1.1 host=" + addr + " close=true"}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("Go's server saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}

	// Without a grant: EACCES, made positive.
	cmd := exec.Command(filepath.Join(binDir, "spindle"), "run", "../programs/net/client.s", addr, "/")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 13 || string(out) != "client.s: cannot connect\n" {
		t.Errorf("client.s without a grant: status %d, %q; want 13", cmd.ProcessState.ExitCode(), out)
	}
}

// TestHTTPServerFaults checks that clients that misbehave do not stop the server from serving
// another client.
func TestHTTPServerFaults(t *testing.T) {
	s, _ := httpServer(t)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	ok := func(after string) {
		t.Helper()
		resp, err := client.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatalf("after %s: %v", after, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != greeting {
			t.Fatalf("after %s: %d %q, %v", after, resp.StatusCode, body, err)
		}
	}

	// Clients that go away mid-request: in the request line, in a header, with a reset.
	for i, part := range []string{"GET /ind", "GET / HTTP/1.1\r\nHost: x", "GET / HTTP/1.1\r\n"} {
		hangUp(t, s.addr, []byte(part), i == 2)
	}
	ok("clients that disconnected mid-request")

	// Garbage: every byte value, newlines among them: a 400, and the connection closes.
	if got := exchange(t, s.addr, string(garbage(4096))); !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") {
		t.Errorf("garbage: got %.80q, want a 400", got)
	}
	ok("garbage")

	// A header line of 1 MB: a 431 after the first 8 KiB, and the connection closes; the
	// server never holds the megabyte.
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, "GET / HTTP/1.1\r\nX-Big: ")
		c.Write(bytes.Repeat([]byte("x"), 1<<20)) // fails once the server has closed
	}()
	line, err := bufio.NewReader(c).ReadString('\n')
	if line != "HTTP/1.1 431 Request Header Fields Too Large\r\n" {
		t.Errorf("a header line of 1 MB: read %q, %v; want a 431", line, err)
	}
	c.Close()
	ok("a header line of 1 MB")

	// 500 connections that stall, some mid-request: each holds a thread parked in read.
	stalled := stall(t, s.addr, 500, "GET / HTTP/1.1\r\nHo")
	ok("500 connections that stall")
	// Each stalled connection still gets its answer once it finishes its request.
	for _, i := range []int{1, 250, 499} {
		c := stalled[i]
		c.SetDeadline(time.Now().Add(10 * time.Second))
		rest := "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
		if i%2 == 1 {
			rest = "st: x\r\nConnection: close\r\n\r\n"
		}
		io.WriteString(c, rest)
		b, err := io.ReadAll(c)
		if want := response("200 OK", "text/plain", greeting, true); string(b) != want || err != nil {
			t.Errorf("stalled connection %d, finished: %q, %v", i, b, err)
		}
	}
	s.checkQuiet()
}

// TestEchoSingle shows what echo_server.s's threads are for: echo_single.s, with one thread,
// echoes a second client only once the first has gone.
func TestEchoSingle(t *testing.T) {
	s := startServer(t, "run", "--net", "127.0.0.1:0", "../programs/net/echo_single.s", "127.0.0.1:0")
	first, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(first, "first\n"); err != nil {
		t.Fatal(err)
	}
	second, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	io.WriteString(second, "second\n")
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 7)
	if n, err := second.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the second client, while the first is served, read %q, %v; want nothing", buf[:n], err)
	}
	if err := roundTrip(first, "still first\n"); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(second, buf); err != nil || string(buf) != "second\n" {
		t.Errorf("the second client, once the first left: %q, %v", buf, err)
	}
}
