//go:build shiptest

package main

import (
	"fmt"
	"os"

	"github.com/shipdeploy/ship/deploy"
)

// In the test build (go build -tags shiptest) only, SHIP_TEST_HANG_AT
// names a swap step at which ship stops for good, so a test can kill the
// deployer exactly there. Release builds have no such hook.
func init() {
	point := os.Getenv("SHIP_TEST_HANG_AT")
	if point == "" {
		return
	}
	atStep = func(s deploy.Step) {
		if s.String() == point {
			fmt.Fprintf(os.Stderr, "SHIP_TEST_HANG_AT %s\n", point)
			select {}
		}
	}
}
