// Command idleconns opens N connections to an HTTP server, sends one request on each and reads
// its answer, then holds them all open and idle (keep-alive) while it asks the server for the
// greeting on one more connection; it prints how many it holds and how long that request took,
// then waits for a line on stdin before it closes them (docs/servers.md, Load).
//
//	go run ./idleconns 127.0.0.1:8080 1000
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: idleconns HOST:PORT N")
	}
	addr := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	var conns []net.Conn
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conns = append(conns, c)
	}
	start := time.Now()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		log.Fatalf("with %d idle connections: %v", n, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Printf("holding %d idle connections; one more request: %s in %v\n", len(conns), resp.Status, time.Since(start).Round(time.Microsecond))
	bufio.NewReader(os.Stdin).ReadString('\n')
}
