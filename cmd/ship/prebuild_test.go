package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
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
	wg.Go(func() {
		idle()
		releaseOnce.Do(buildRelease)
	})
	wg.Go(func() {
		idle()
		// One after another, beside the release, in the order the tests
		// want them: more at once would only share the same two cores.
		began := time.Now()
		err := testproxy.Prebuild(ctx, logf)
		if err == nil {
			err = testlitestream.Prebuild(ctx, logf, "0.5.18", "0.3.14")
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

// idle gives the calling goroutine a thread of its own at the lowest CPU
// priority, which the processes it starts inherit: prebuilt builds take
// only the CPU the tests leave, and never slow the builds a test is
// waiting for (the first test's app image, on a cold machine). The thread
// ends with the goroutine.
func idle() {
	runtime.LockOSThread()
	// On Linux a nice value is a thread's: 0 is the calling thread.
	syscall.Setpriority(syscall.PRIO_PROCESS, 0, 19)
}
