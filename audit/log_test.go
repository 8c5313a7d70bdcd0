package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/ssh"
)

func TestPath(t *testing.T) {
	if p := Path(config.ServiceAndDestination("shop", "")); p != ".ship/audit/shop.log" {
		t.Errorf("Path(shop) = %q", p)
	}
	if p := Path(config.ServiceAndDestination("shop", "staging")); p != ".ship/audit/shop-staging.log" {
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
	file := Path("audit-test-" + rand.Text()[:10])
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

// utcEntry is e as Read returns it: its time in UTC, without a monotonic
// reading.
func utcEntry(e Entry) Entry {
	e.Time = e.Time.UTC().Round(0)
	return e
}

func TestAppendRead(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := connect(t, h1)
	file := testLog(t, c)

	entries, err := Read(ctx, c, file, 0)
	if err != nil || len(entries) != 0 {
		t.Fatalf("Read of a missing log: %v, %v", entries, err)
	}
	var want []Entry
	for i := range 5 {
		e := Entry{Time: time.Now(), Performer: "Alice Smith <alice@example.com>", Command: "deploy web", Versions: fmt.Sprint("v", i), Result: "deployed"}
		if err := Append(ctx, c, file, e, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, utcEntry(e))
	}
	if entries, err := Read(ctx, c, file, 3); err != nil || !reflect.DeepEqual(entries, want[2:]) {
		t.Errorf("Read(last=3) = %v, %v; want %v", entries, err, want[2:])
	}
	if entries, err := Read(ctx, c, file, 0); err != nil || !reflect.DeepEqual(entries, want) {
		t.Errorf("Read(all) = %v, %v; want %v", entries, err, want)
	}

	// On the host the log is JSON Lines: one object per entry.
	out, err := c.Output(ctx, "sh", "-c", `cat "$HOME/$1"`, "sh", file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("the log has %d lines for %d entries:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		var fields map[string]any
		if err := json.Unmarshal([]byte(l), &fields); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, l)
		}
		for _, k := range []string{"time", "performer", "command", "versions", "result"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, l)
			}
		}
	}

	// Lines ship wrote before the log was JSON still read, as legacy
	// entries, in order with the new ones.
	legacy := "2026-11-21T06:30:00Z alice deploy web v0 -> v1: deployed"
	if _, err := c.Output(ctx, "sh", "-c", `printf '%s\n' "$2" >> "$HOME/$1"`, "sh", file, legacy); err != nil {
		t.Fatal(err)
	}
	if err := Append(ctx, c, file, want[0], nil); err != nil {
		t.Fatal(err)
	}
	entries, err = Read(ctx, c, file, 2)
	if err != nil || len(entries) != 2 || entries[0].Line() != legacy || entries[0].Text == "" || !reflect.DeepEqual(entries[1], want[0]) {
		t.Errorf("Read(last=2) after a legacy line = %#v, %v", entries, err)
	}

	out, err = c.Output(ctx, "sh", "-c", `stat -c %a "$HOME/$1" "$HOME/${1%/*}"`, "sh", file)
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
		wg.Go(func() { errs[i] = Append(ctx, conns[i%len(conns)], file, e, nil) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, err := Read(ctx, conns[0], file, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A line mangled by interleaving is no JSON: it would read as a legacy
	// entry, whose Line() is none of these.
	var lines []string
	intact := 0
	for _, e := range entries {
		lines = append(lines, e.Line())
		if e.Text == "" && slices.Contains(want, e.Line()) {
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
	ssh.Runner
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
		if err := Append(ctx, r, file, Entry{Time: time.Now(), Performer: "ci", Command: "deploy", Result: "failed: token " + secret}, nil); err != nil {
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
	entries, err := Read(ctx, c, file, 0)
	if err != nil || len(entries) != appended || entries[0].Performer != "ci" || entries[0].Result != "failed: token "+secret {
		t.Errorf("log = %v, %v", entries, err)
	}
}
