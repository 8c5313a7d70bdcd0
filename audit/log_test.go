package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/testhost"
)

func TestPath(t *testing.T) {
	if p := Path("shop", ""); p != ".ship/audit/shop.log" {
		t.Errorf("Path(shop) = %q", p)
	}
	if p := Path("shop", "staging"); p != ".ship/audit/shop-staging.log" {
		t.Errorf("Path(shop, staging) = %q", p)
	}
}

// connect returns a connection to h1 from a pool of its own, as a separate
// ship process would have.
func connect(t *testing.T, h *testhost.Host) *ssh.Conn {
	pool := ssh.NewPool(ssh.Config{User: h.User, Keys: []string{h.KeyPath}, KeysOnly: true, KnownHosts: []string{h.KnownHostsPath}})
	t.Cleanup(func() { pool.Close() })
	return pool.Conn(h.Addr)
}

// testLog returns the path of a fresh log on h1, removed after the test.
func testLog(t *testing.T, c *ssh.Conn) string {
	file := Path("audit-test-"+rand.Text()[:10], "")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Output(ctx, "sh", "-c", `rm -f "$HOME/$1"`, "sh", file)
	})
	return file
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestAppendRead(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := connect(t, h1)
	file := testLog(t, c)

	lines, err := Read(ctx, c, file, 0)
	if err != nil || len(lines) != 0 {
		t.Fatalf("Read of a missing log: %q, %v", lines, err)
	}
	var want []string
	for i := range 5 {
		e := Entry{Time: time.Now(), Performer: "alice", Command: "deploy", Versions: fmt.Sprint("v", i), Result: "ok"}
		if err := Append(ctx, c, file, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e.Line())
	}
	if lines, err := Read(ctx, c, file, 3); err != nil || !slices.Equal(lines, want[2:]) {
		t.Errorf("Read(last=3) = %q, %v; want %q", lines, err, want[2:])
	}
	if lines, err := Read(ctx, c, file, 0); err != nil || !slices.Equal(lines, want) {
		t.Errorf("Read(all) = %q, %v; want %q", lines, err, want)
	}

	out, err := c.Output(ctx, "sh", "-c", `stat -c %a "$HOME/$1" "$HOME/${1%/*}"`, "sh", file)
	if err != nil || string(out) != "600\n700\n" {
		t.Errorf("modes of log and directory: %q, %v", out, err)
	}
}

// TestAppendConcurrent appends from several connections at once, as ship
// processes for several deployers would. Entries are long enough to be
// written in several pieces, which only the lock keeps together.
func TestAppendConcurrent(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	var conns []*ssh.Conn
	for range 5 {
		conns = append(conns, connect(t, h1))
	}
	file := testLog(t, conns[0])

	const n = 50
	want := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		e := Entry{Time: time.Now(), Performer: fmt.Sprint("deployer", i), Command: "deploy",
			Result: "failed:\n" + strings.Repeat(fmt.Sprintf("%02d", i), 20000)}
		want[i] = e.Line()
		wg.Go(func() { errs[i] = Append(ctx, conns[i%len(conns)], file, e) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	lines, err := Read(ctx, conns[0], file, 0)
	if err != nil {
		t.Fatal(err)
	}
	intact := 0
	for _, l := range lines {
		if slices.Contains(want, l) {
			intact++
		}
	}
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("got %d lines, %d of them intact; want %d intact ones", len(lines), intact, n)
	}
}

// recorder is a Runner that keeps the argv of every command it runs.
type recorder struct {
	Runner
	args [][]string
}

func (r *recorder) Run(ctx context.Context, cmd ssh.Cmd) error {
	r.args = append(r.args, cmd.Args)
	return r.Runner.Run(ctx, cmd)
}

// TestAppendSecretNotInArgv checks that an entry reaches the log but never a
// command line, where any user of the host could read it. h1's sshd runs on
// this machine, so the remote processes show up in our /proc.
func TestAppendSecretNotInArgv(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := connect(t, h1)
	file := testLog(t, c)
	r := &recorder{Runner: c}
	secret := "sk_live_" + rand.Text()

	stop := make(chan struct{})
	var sawFile, sawSecret atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range cmdlines {
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, []byte(file)) {
					sawFile.Store(true)
				}
				if bytes.Contains(b, []byte(secret)) {
					sawSecret.Store(true)
				}
			}
		}
	}()
	// An append lives a few ms; on a loaded machine the watcher can miss
	// several, so keep appending until it has seen one (at least 5).
	appended := 0
	for ; appended < 5 || !sawFile.Load() && appended < 200; appended++ {
		if err := Append(ctx, r, file, Entry{Time: time.Now(), Performer: "ci", Command: "deploy", Result: "failed: token " + secret}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
	if !sawFile.Load() {
		t.Fatal("the watcher never saw the append command; it proves nothing")
	}
	if sawSecret.Load() {
		t.Error("the secret appeared in a process's argv")
	}
	for _, args := range r.args {
		if strings.Contains(strings.Join(args, " "), secret) {
			t.Errorf("the secret is in the command %q", args)
		}
	}
	lines, err := Read(ctx, c, file, 0)
	if err != nil || len(lines) != appended || !strings.HasSuffix(lines[0], "ci deploy: failed: token "+secret) {
		t.Errorf("log = %q, %v", lines, err)
	}
}
