// Command proxyimage builds the kamal-proxy v0.9.2 image the tests use
// (basecamp/kamal-proxy:v0.9.2, FROM scratch, from the Go module proxy) on
// the local Docker Engine, for make demo: no image can be pulled here.
//
//	go run ./internal/testproxy/cmd/proxyimage
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/shipdeploy/ship/internal/testproxy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	tag, err := testproxy.EnsureImage(ctx, host, logf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "proxyimage: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(tag)
}
