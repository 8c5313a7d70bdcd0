// Command echo is the backend of testproxy's tests: a static HTTP server
// for a FROM scratch image, answering /up with 200 (kamal-proxy's default
// health check) and everything else with $NAME, so a test can tell which
// backend answered.
package main

import (
	"cmp"
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	name := os.Getenv("NAME")
	http.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "OK\n")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	})
	log.Fatal(http.ListenAndServe(":"+cmp.Or(os.Getenv("PORT"), "3000"), nil))
}
