package ssh

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testhost"
)

// remoteDir is a fresh directory on h1, which is this machine.
func remoteDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ship-upload-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestUpload(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	dir := remoteDir(t)
	dst := filepath.Join(dir, "app.env")

	if err := c.Upload(ctx, dst, strings.NewReader("old\n"), 0o644, ""); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Output(ctx, "stat", "-c", "%a %U", dst); err != nil || string(out) != "644 root\n" {
		t.Errorf("stat: %q, %v", out, err)
	}
	content := "SECRET=it's $ \"x\" `y`\n\x00binary\n"
	if err := c.Upload(ctx, dst, strings.NewReader(content), 0o600, "nobody"); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Output(ctx, "stat", "-c", "%a %U", dst); err != nil || string(out) != "600 nobody\n" {
		t.Errorf("stat: %q, %v", out, err)
	}
	if out, err := c.Output(ctx, "cat", dst); err != nil || string(out) != content {
		t.Errorf("content: %q, %v", out, err)
	}
	assertFiles(t, dir, "app.env")
}

func TestUploadFailureLeavesNoFile(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	dir := remoteDir(t)
	dst := filepath.Join(dir, "app.env")

	err := c.Upload(ctx, dst, strings.NewReader("x"), 0o600, "no-such-user")
	var exit *ExitError
	if !errors.As(err, &exit) || !strings.Contains(err.Error(), "no-such-user") {
		t.Errorf("unknown owner: %v", err)
	}
	// The content source failing midway must not install a truncated file.
	broken := io.MultiReader(strings.NewReader("half"), errReader{errors.New("source broke")})
	if err := c.Upload(ctx, dst, broken, 0o600, ""); err == nil || !strings.Contains(err.Error(), "source broke") {
		t.Errorf("broken source: %v", err)
	}
	assertFiles(t, dir)
}

// TestUploadContentNotInArgv looks at every command line on the host while
// an upload is in flight.
func TestUploadContentNotInArgv(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	const secret = "hunter2-do-not-leak"
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- c.Upload(ctx, filepath.Join(remoteDir(t), "secret"), pr, 0o600, "") }()
	pw.Write([]byte(secret)) // returns once the upload is reading
	out, err := c.Output(ctx, "ps", "-eo", "args")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), secret) {
		t.Errorf("secret visible in a command line:\n%s", out)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func assertFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}
