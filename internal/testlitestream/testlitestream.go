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
	unlock, err := versitygw.Lock(ctx)
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}
	bin, err := versitygw.Path(ctx, t)
	unlock()
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}

	began := time.Now()
	dir := t.TempDir()
	// Every directory under root is a bucket; the log stays out of it.
	root := filepath.Join(dir, "root")
	s := &S3{Bucket: "backups", AccessKey: rand.Text(), SecretKey: rand.Text()}
	s.Dir = filepath.Join(root, s.Bucket)
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatalf("testlitestream: make bucket: %v", err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}
	s.Endpoint = "http://" + addr

	log := filepath.Join(dir, "versitygw.log")
	p := testproc.StartForTest(t, versitygwCmd(bin, addr, root, s.AccessKey, s.SecretKey), log)
	readyCtx, cancelReady := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelReady()
	// An unsigned request: up, and demanding a signature, is 403.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	if err := p.WaitHTTP(readyCtx, client, s.Endpoint+"/", http.StatusForbidden); err != nil {
		t.Fatalf("testlitestream: %v\n%s", err, testproc.Tail(log, 30))
	}
	t.Logf("testlitestream: S3 at %s (pid %d) up in %s", s.Endpoint, p.Pid(), time.Since(began).Round(time.Millisecond))
	return s
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
