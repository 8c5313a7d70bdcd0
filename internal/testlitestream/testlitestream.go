// Package testlitestream is test support for ship's Litestream integration:
// a litestream/litestream image built from source for the test hosts'
// engines, and a real S3-compatible server (versitygw) on the test network
// for it to replicate to. Both are built at test time from the Go module
// proxy and kept in a cache directory beside testhost's state.
package testlitestream

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc"
	"net/http"
)

// hostIP is the root namespace's end of h2's veth pair: h1's containers
// reach it as an address of their own host, h2's through the veth.
const hostIP = "10.99.0.1"

// S3 is a running S3-compatible server with one empty bucket, which accepts
// requests signed with AccessKey and SecretKey only.
type S3 struct {
	Endpoint  string // "http://10.99.0.1:PORT", for containers on both test hosts
	Bucket    string
	AccessKey string
	SecretKey string
	// Dir is the bucket's directory: the object KEY is the file Dir/KEY,
	// so tests can see what was uploaded without an S3 client.
	Dir string
}

// StartS3 runs an S3 server for the test, and stops it when the test ends.
// Its bucket is empty and its keys random, so every call gets a server of
// its own.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	// The hosts come first: h2's network namespace brings up 10.99.0.1.
	testhost.Hosts(t)
	// A cold build downloads and compiles versitygw: a minute or two, and
	// another test binary may be building it already.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	s, p, err := RunS3(ctx, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testlitestream: the end of versitygw's log:\n%s", testproc.Tail(p.Log, 30))
		}
		if err := p.Stop(10 * time.Second); err != nil {
			t.Errorf("testlitestream: %v", err)
		}
	})
	t.Logf("testlitestream: S3 at %s (pid %d) up in %s", s.Endpoint, p.Pid(), time.Since(began).Round(time.Millisecond))
	return s
}

// RunS3 is StartS3 for programs without a testing.TB, such as benchmarks:
// the server keeps its buckets and log in dir, runs until the caller stops
// it, and dies with the caller. The test hosts must be up (testhost.Up):
// it listens on their network. logf says what had to be built.
func RunS3(ctx context.Context, dir string, logf func(format string, args ...any)) (*S3, *testproc.Server, error) {
	bin, err := versitygw.EnsureLocked(ctx, logf)
	if err != nil {
		return nil, nil, err
	}
	// Every directory under root is a bucket; the log stays out of it.
	root := filepath.Join(dir, "root")
	s := &S3{Bucket: "backups", AccessKey: rand.Text(), SecretKey: rand.Text()}
	s.Dir = filepath.Join(root, s.Bucket)
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("make bucket: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	s.Endpoint = "http://" + addr

	log := filepath.Join(dir, "versitygw.log")
	p, err := testproc.Start(versitygwCmd(bin, addr, root, s.AccessKey, s.SecretKey), log)
	if err != nil {
		return nil, nil, err
	}
	readyCtx, cancelReady := context.WithTimeout(ctx, 30*time.Second)
	defer cancelReady()
	// An unsigned request: up, and demanding a signature, is 403.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	if err := p.WaitHTTP(readyCtx, client, s.Endpoint+"/", http.StatusForbidden); err != nil {
		p.Stop(10 * time.Second)
		return nil, nil, fmt.Errorf("%w\n%s", err, testproc.Tail(log, 30))
	}
	return s, p, nil
}

// freeAddr picks a free port on hostIP. versitygw cannot be handed a
// listening socket, so the port is free only until it binds it: a small
// race with whatever else binds a kernel-chosen port there meanwhile.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", hostIP, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
