// Command httpgreet answers every request with the greeting of programs/net/http_server.s, in
// text/plain, so that wrk can compare the two servers (docs/servers.md, Load).
//
//	go run ./httpgreet 127.0.0.1:8081
package main

import (
	"log"
	"net/http"
	"os"
	"strconv"
)

const greeting = "Hello from Spindle's http_server.s!\n"

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: httpgreet HOST:PORT")
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(greeting)))
		w.Write([]byte(greeting))
	})
	log.Fatal(http.ListenAndServe(os.Args[1], nil))
}
