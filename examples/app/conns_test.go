package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// A connection that never sent a request is closed at shutdown, not waited
// for: a proxy's spare connection must not hold a swap open.
func TestShutdownClosesUnusedConnections(t *testing.T) {
	cfg := config{addr: freeLoopbackAddr(t), dbPath: filepath.Join(t.TempDir(), "app.sqlite3"), version: "v1"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, io.Discard) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get("http://" + cfg.addr + "/up")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	unused, err := net.Dial("tcp", cfg.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer unused.Close()
	time.Sleep(50 * time.Millisecond) // accepted by the server

	cancel()
	// net/http would keep it open for 5 s; the read ends long before that
	// only if the app closed it.
	unused.SetReadDeadline(time.Now().Add(4 * time.Second))
	if _, err := unused.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the unused connection was not closed at shutdown: read gave %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
