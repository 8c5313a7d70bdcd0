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
)

// prebuild starts, beside the tests, the builds that only the parallel
// tests at the end wait for (helpers_test.go): the release and Litestream
// 0.3. On a cold CI machine they take minutes of CPU, which the
// one-at-a-time tests, mostly waiting on the hosts, leave free; they run
// at the lowest priority (idle), so that the builds a test waits for come
// first. What the one-at-a-time tests want (kamal-proxy, the S3 server,
// Litestream 0.5) they build themselves, at once: a test that found a
// prebuild holding the lock would wait for it at its priority. Only a run
// of the whole package prebuilds: one of a few tests (-run) builds what
// they want. stop cancels what has not finished and waits for it.
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
		began := time.Now()
		if err := testlitestream.Prebuild(ctx, logf, "0.3.14"); err != nil && ctx.Err() == nil {
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
