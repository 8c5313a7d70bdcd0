package testproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, path); err == nil {
		t.Fatal("a second lock was granted while the first was held")
	}
	unlock()
	unlock2, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestTail(t *testing.T) {
	path := t.TempDir() + "/log"
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := Tail(path, 2), "line 98\nline 99"; got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
}

// A real daemon (this machine's python3 http.server stands in for the
// registry or S3 server): it answers, logs, and stops on SIGTERM.
func TestServer(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to play the daemon")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	s, err := Start(exec.Command(python, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, fmt.Sprint(port)), filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/missing", port)
	if err := s.WaitHTTP(ctx, client, url, http.StatusNotFound); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitHTTP(ctx, client, url, http.StatusOK); err == nil || !strings.Contains(err.Error(), "want 200") {
		t.Errorf("a wrong answer was not reported: %v", err)
	}
	if err := s.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(Tail(s.Log, 5), "GET /missing") {
		t.Errorf("log: %q", Tail(s.Log, 5))
	}
	if err := s.WaitHTTP(ctx, client, url, http.StatusNotFound); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("a stopped daemon was not reported: %v", err)
	}
}

func TestTreeSeesEveryChange(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("a"), 0o644)
	before := Tree(t, dir)
	for name, change := range map[string]func(){
		"content": func() { os.WriteFile(filepath.Join(dir, "f"), []byte("b"), 0o644) },
		"mode":    func() { os.Chmod(filepath.Join(dir, "f"), 0o600) },
		"new":     func() { os.WriteFile(filepath.Join(dir, "g"), nil, 0o644) },
		"link":    func() { os.Symlink("/", filepath.Join(dir, "l")) },
	} {
		change()
		if after := Tree(t, dir); after == before {
			t.Errorf("a %s change left the tree the same:\n%s", name, after)
		}
		before = Tree(t, dir)
	}
}
