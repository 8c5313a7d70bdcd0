package testproc_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testproc"
)

// echo is a small server of this module, standing in for the programs the
// tests build from the module proxy.
const echo = "github.com/shipdeploy/ship/internal/testproxy/internal/echo"

// The binary is built once into its cache directory, runs, and is reused.
func TestGoBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	builds := 0
	build := testproc.GoBuild(echo, []string{"CGO_ENABLED=0"}, "-trimpath")
	b := testproc.GoBinary{Name: "echo", Dir: filepath.Join(t.TempDir(), "cache")}
	b.Build = func(ctx context.Context, dir string) error {
		builds++
		return build(ctx, dir)
	}
	unlock, err := b.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path, err := b.Path(ctx, t)
	unlock()
	if err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	cmd := exec.Command(path)
	cmd.Env = []string{"PORT=" + port, "NAME=cached"}
	s := testproc.StartForTest(t, cmd, filepath.Join(t.TempDir(), "echo.log"))
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 2 * time.Second}
	url := "http://127.0.0.1:" + port + "/"
	if err := s.WaitHTTP(ctx, client, url+"up", http.StatusOK); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "cached" {
		t.Errorf("GET / = %q, want %q", body, "cached")
	}

	again, err := b.Path(ctx, t)
	if err != nil || again != path || builds != 1 {
		t.Errorf("second Path = %q, %v after %d builds; want %q, nil after 1", again, err, builds, path)
	}
	if got := dirNames(t, b.Dir); got != "echo lock" {
		t.Errorf("cache directory holds %s, want echo lock", got)
	}
}

// A failed build says why and leaves nothing behind.
func TestGoBinaryFails(t *testing.T) {
	b := testproc.GoBinary{
		Name:  "none",
		Dir:   t.TempDir(),
		Build: testproc.GoBuild("./no/such/package", nil),
	}
	if _, err := b.Path(context.Background(), t); err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("Path = %v, want go build's error", err)
	}
	if got := dirNames(t, b.Dir); got != "" {
		t.Errorf("a failed build left %s", got)
	}
}

func dirNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
