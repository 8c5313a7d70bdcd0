package main

import (
	"context"
	"net/http"
	"time"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testapp"
)

// lag posts writes through kamal-proxy (to the writer) one every pace,
// and times each from its acknowledgement until a fresh read of the
// replica at target (a new connection each, every pollEvery) lists it.
// It returns the lags, sorted, once every write has arrived, or fails
// after arriveWithin.
func lag(ctx context.Context, proxyURL, host, target string, writes int, pace time.Duration) ([]time.Duration, error) {
	return testapp.Lag{
		Writer:   &http.Client{Timeout: requestTimeout, Transport: benchkit.HostTransport{Host: host, RT: &http.Transport{}}},
		Reader:   &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}},
		WriteURL: proxyURL, ReadURL: target,
		Writes: writes, Pace: pace, PollEvery: pollEvery, ArriveWithin: arriveWithin,
	}.Run(ctx)
}
