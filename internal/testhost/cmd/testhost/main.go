// Command testhost brings ship's test hosts up or down and prints their
// settings as shell-sourceable lines:
//
//	go run ./internal/testhost/cmd/testhost up|down|env
//
// up and env both make sure the hosts run (env is quick when they already
// do) and print lines such as SHIP_TEST_H1_ADDR=127.0.0.1:40123. To export
// them: set -a; . <(go run ./internal/testhost/cmd/testhost env); set +a
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
)

func main() {
	if len(os.Args) != 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch os.Args[1] {
	case "up", "env":
		start := time.Now()
		h1, h2, err := testhost.Up(ctx)
		if err != nil {
			fail(err)
		}
		for _, line := range envLines(h1, h2) {
			fmt.Println(line)
		}
		if os.Args[1] == "up" {
			fmt.Fprintf(os.Stderr, "testhost: up in %s, state in %s\n", time.Since(start).Round(time.Millisecond), testhost.Dir())
		}
	case "down":
		if err := testhost.Down(ctx); err != nil {
			fail(err)
		}
	default:
		usage()
	}
}

func envLines(h1, h2 *testhost.Host) []string {
	lines := []string{
		"SHIP_TEST_DIR=" + quote(testhost.Dir()),
		"SHIP_TEST_USER=" + quote(h1.User),
		"SHIP_TEST_KEY=" + quote(h1.KeyPath),
		"SHIP_TEST_KNOWN_HOSTS=" + quote(filepath.Join(testhost.Dir(), "known_hosts")),
	}
	for _, h := range []*testhost.Host{h1, h2} {
		p := "SHIP_TEST_" + strings.ToUpper(h.Name) + "_"
		host, port, _ := net.SplitHostPort(h.Addr)
		lines = append(lines,
			p+"ADDR="+quote(h.Addr),
			p+"HOST="+quote(host),
			p+"PORT="+quote(port),
			p+"KNOWN_HOSTS="+quote(h.KnownHostsPath),
			p+"DOCKER_HOST="+quote(h.DockerHost),
		)
	}
	return lines
}

var plain = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]*$`)

// quote leaves plain values bare, so the lines also work as make includes
// and env files, and single-quotes anything else for the shell.
func quote(s string) string {
	if plain.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: testhost up|down|env")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "testhost: %v\n", err)
	os.Exit(1)
}
