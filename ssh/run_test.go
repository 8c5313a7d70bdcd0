package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testhost"
)

func TestTail(t *testing.T) {
	var tl tail
	for i := range 5000 {
		fmt.Fprintf(&tl, "line %d\n", i)
	}
	s := tl.String()
	if len(s) > tailSize || !strings.HasSuffix(s, "line 4999") {
		t.Errorf("tail: %d bytes ending %q", len(s), s[len(s)-20:])
	}
}

func TestRun(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)

	out, err := c.Output(ctx, "echo", "hi")
	if err != nil || string(out) != "hi\n" {
		t.Fatalf("echo hi: %q, %v", out, err)
	}
	// Arguments arrive as given, not as shell syntax.
	out, err = c.Output(ctx, "printf", "%s|", "a b", "$HOME", "it's", "")
	if err != nil || string(out) != "a b|$HOME|it's||" {
		t.Errorf("printf: %q, %v", out, err)
	}

	var stderr bytes.Buffer
	err = c.Run(ctx, Cmd{Args: []string{"sh", "-c", "echo oops >&2; exit 3"}, Stderr: &stderr})
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Status != 3 || exit.Stderr != "oops" ||
		err.Error() != "ssh "+h1.Addr+": run sh: exit status 3: oops" {
		t.Errorf("exit 3: %#v", err)
	}
	if stderr.String() != "oops\n" {
		t.Errorf("stderr: %q", stderr.String())
	}
}

func TestRunStdin(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)

	const size = 50 << 20
	sum := sha256.New()
	content := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1}), size), sum)
	var stdout bytes.Buffer
	start := time.Now()
	if err := c.Run(ctx, Cmd{Args: []string{"sha256sum"}, Stdin: content, Stdout: &stdout}); err != nil {
		t.Fatal(err)
	}
	t.Logf("50 MB through stdin in %v", time.Since(start))
	if want := hex.EncodeToString(sum.Sum(nil)); !strings.HasPrefix(stdout.String(), want+" ") {
		t.Errorf("remote sha256 %q, sent %s", stdout.String(), want)
	}
}

// TestRunConcurrent runs more commands at once than sshd's MaxSessions (10).
func TestRunConcurrent(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	ctx := testContext(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			out, err := c.Output(ctx, "sh", "-c", `sleep 0.2; echo "$1"`, "sh", strconv.Itoa(i))
			if err != nil || string(out) != strconv.Itoa(i)+"\n" {
				t.Errorf("run %d: %q, %v", i, out, err)
			}
		})
	}
	wg.Wait()
	// Short commands back to back: sshd frees a closed session's slot
	// lazily, so these reach MaxSessions despite the limit of 8.
	for range 300 {
		wg.Go(func() {
			if _, err := c.Output(ctx, "true"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestRunCancel checks that cancelling ctx kills the remote process.
func TestRunCancel(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	c := newPool(t, hostConfig(t, h1)).Conn(h1.Addr)
	ctx, cancel := context.WithCancel(testContext(t))
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := c.Run(ctx, Cmd{Args: []string{"sh", "-c", "echo $$; exec sleep 60"}, Stdout: pw})
		pw.CloseWithError(fmt.Errorf("run returned %v", err))
		done <- err
	}()
	var pid string
	if _, err := fmt.Fscan(pr, &pid); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// Generous: the kill is asynchronous, and CI machines are loaded.
	deadline := time.Now().Add(15 * time.Second)
	for c.Run(testContext(t), Cmd{Args: []string{"kill", "-0", pid}}) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("remote pid %s still running after cancel", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPidWriter(t *testing.T) {
	for _, tt := range []struct {
		writes   []string
		pid      int64
		passedOn string
	}{
		{[]string{"123\n"}, 123, ""},
		{[]string{"1", "23\nerr", "or\n"}, 123, "error\n"},
		{[]string{"bashrc noise\n", "real\n"}, 0, "bashrc noise\nreal\n"},
	} {
		var out bytes.Buffer
		p := newPidWriter(&out)
		for _, w := range tt.writes {
			if n, err := p.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if p.pid.Load() != tt.pid || out.String() != tt.passedOn {
			t.Errorf("%q: pid %d, passed on %q", tt.writes, p.pid.Load(), out.String())
		}
		select {
		case <-p.read:
		default:
			t.Errorf("%q: the first line is in, but read is not closed", tt.writes)
		}
	}
}
