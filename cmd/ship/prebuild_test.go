package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/shipdeploy/ship/internal/testlitestream"
	"github.com/shipdeploy/ship/internal/testproxy"
)

// prebuild starts, beside the tests, the builds that tests further on
// wait for: the release, the S3 server, Litestream 0.3 and 0.5 and
// kamal-proxy. On a cold CI machine they take minutes of CPU, which the
// one-at-a-time tests, mostly waiting on the hosts, leave free; the tests
// that want them run in parallel at the end (helpers_test.go) or late in
// the package. Only a run of the whole package prebuilds: one of a few
// tests (-run) builds what they want. stop cancels what has not finished
// and waits for it.
func prebuild() (stop func()) {
	flag.Parse()
	if os.Getenv("SHIP_SKIP_INTEGRATION") == "1" || flag.Lookup("test.run").Value.String() != "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "prebuild: "+format+"\n", args...)
	}
	var wg sync.WaitGroup
	wg.Go(func() { releaseOnce.Do(buildRelease) })
	wg.Go(func() {
		// One after another, beside the release: more at once would
		// only share the same two cores.
		began := time.Now()
		err := testlitestream.Prebuild(ctx, logf, "0.3.14", "0.5.18")
		if err == nil {
			err = testproxy.Prebuild(ctx, logf)
		}
		if err != nil && ctx.Err() == nil {
			logf("%v (after %s; the tests that want it build it again)", err, time.Since(began).Round(time.Second))
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
