package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

// localRunner runs the scripts with the real bash and flock on this
// machine, as the primary host would over SSH, with a HOME of the test's
// own. Like ssh.Conn, it kills a cancelled command's whole process group,
// and returns when the command exits even if its stdin is still open.
type localRunner struct {
	home string
	path string // PATH; the test binary's when empty

	mu      sync.Mutex
	holders []int // pids of the holder scripts started, each its group's leader
}

func newLocalRunner(t *testing.T) *localRunner {
	return &localRunner{home: t.TempDir()}
}

func (l *localRunner) Run(ctx context.Context, c ssh.Cmd) error {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	path := l.path
	if path == "" {
		path = os.Getenv("PATH")
	}
	cmd.Env = []string{"HOME=" + l.home, "PATH=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	var stdin io.WriteCloser
	if c.Stdin != nil {
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			return err
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Before its stdin flows: a holder cannot say READY without its ticket.
	if len(c.Args) > 2 && c.Args[2] == holderScript {
		l.mu.Lock()
		l.holders = append(l.holders, cmd.Process.Pid)
		l.mu.Unlock()
	}
	if stdin != nil {
		// Not waited for, as an SSH session does not wait for its stdin to
		// end: Wait closes the pipe, which ends this at the next write.
		go func() {
			io.Copy(stdin, c.Stdin)
			stdin.Close()
		}()
	}
	err := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &ssh.ExitError{Status: exit.ExitCode()}
	}
	return err
}

// kill SIGKILLs the process group of every holder this runner started, as
// when the primary host's OOM killer or an admin's kill -9 ends a holder.
func (l *localRunner) kill(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.holders) == 0 {
		t.Fatal("no holder was started")
	}
	for _, pid := range l.holders {
		if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill holder %d: %v", pid, err)
		}
	}
}

// stallRunner forwards a holder's stdin until stall is closed, then keeps
// it open and forwards nothing more: a frozen ship process, or a network
// that swallows packets, as the primary host sees it.
type stallRunner struct {
	ssh.Runner
	stall chan struct{}

	mu   sync.Mutex
	last time.Time // when the last line was forwarded
}

func (s *stallRunner) lastLine() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *stallRunner) Run(ctx context.Context, c ssh.Cmd) error {
	if c.Stdin == nil {
		return s.Runner.Run(ctx, c)
	}
	r, w := io.Pipe()
	in := c.Stdin
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case <-s.stall:
				continue
			default:
			}
			if _, err := fmt.Fprintln(w, sc.Text()); err != nil {
				return
			}
			s.mu.Lock()
			s.last = time.Now()
			s.mu.Unlock()
		}
		select {
		case <-s.stall:
		default:
			w.Close()
		}
	}()
	c.Stdin = r
	err := s.Runner.Run(ctx, c)
	w.Close()
	return err
}

const testDir = ".ship/queue/app"

func deploy(version string) Ticket {
	return Ticket{Performer: "alice", Command: "deploy", Version: version, Since: time.Now(), From: "laptop", Coalesce: true}
}

func rollback(version string) Ticket {
	return Ticket{Performer: "bob", Command: "rollback", Version: version, Since: time.Now(), From: "ci"}
}

// fast polls often, so that hand-overs take milliseconds.
var fast = Options{Poll: 20 * time.Millisecond, Timeout: 20 * time.Second}

func hold(t *testing.T, r ssh.Runner, tk Ticket, opts Options) *Held {
	t.Helper()
	held, err := Join(context.Background(), r, testDir, tk, opts)
	if err != nil {
		t.Fatalf("join %s: %v", tk.Version, err)
	}
	return held
}

type joined struct {
	held *Held
	err  error
	at   time.Time
}

// goJoin joins in the background and returns once the ticket is in the
// queue, so that the queue's order is the order of the calls.
func goJoin(t *testing.T, r ssh.Runner, tk Ticket, opts Options) <-chan joined {
	t.Helper()
	ch := make(chan joined, 1)
	go func() {
		held, err := Join(context.Background(), r, testDir, tk, opts)
		ch <- joined{held, err, time.Now()}
	}()
	// Wait until the ticket is queued, or already done (a superseded
	// deploy may leave before a List sees it).
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case j := <-ch:
			out := make(chan joined, 1)
			out <- j
			return out
		default:
		}
		for _, x := range list(t, r).Tickets {
			if x.Command == tk.Command && x.Version == tk.Version {
				return ch
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s never entered the queue", tk.Command, tk.Version)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func list(t *testing.T, r ssh.Runner) State {
	t.Helper()
	st, err := List(context.Background(), r, testDir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wait(t *testing.T, ch <-chan joined, within time.Duration) joined {
	t.Helper()
	select {
	case j := <-ch:
		return j
	case <-time.After(within):
		t.Fatalf("Join did not return within %s", within)
		return joined{}
	}
}

func versions(ts []Ticket) string {
	var vs []string
	for _, t := range ts {
		vs = append(vs, t.Version)
	}
	return strings.Join(vs, " ")
}

func TestJoinWaitsForRelease(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), fast)
	b := goJoin(t, r, rollback("v0"), fast)
	time.Sleep(200 * time.Millisecond)
	select {
	case j := <-b:
		t.Fatalf("a second Join returned while the first held the queue: %+v", j)
	default:
	}
	released := time.Now()
	a.Release()
	j := wait(t, b, 5*time.Second)
	if j.err != nil {
		t.Fatal(j.err)
	}
	defer j.held.Release()
	if d := j.at.Sub(released); d > time.Second {
		t.Errorf("the waiter took %s to take over", d)
	}
	if st := list(t, r); st.Holder == nil || st.Holder.Version != "v0" {
		t.Errorf("holder after hand-over = %+v", st.Holder)
	}
}

func TestJoinFIFO(t *testing.T) {
	r := newLocalRunner(t)
	gate := hold(t, r, rollback("gate"), fast)
	var (
		mu    sync.Mutex
		order []string
		chans []<-chan joined
	)
	for i := range 5 {
		ch := goJoin(t, r, rollback(fmt.Sprint("v", i)), fast)
		chans = append(chans, ch)
		time.Sleep(30 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Go(func() {
			j := <-ch
			if j.err != nil {
				t.Error(j.err)
				return
			}
			mu.Lock()
			order = append(order, j.held.Ticket.Version)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the work
			j.held.Release()
		})
	}
	gate.Release()
	wg.Wait()
	if got := strings.Join(order, " "); got != "v0 v1 v2 v3 v4" {
		t.Errorf("acquired in the order %s, want v0 v1 v2 v3 v4", got)
	}
}

func TestCoalescing(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), fast)
	var (
		mu         sync.Mutex
		held       []string
		superseded = map[string]string{}
	)
	var wg sync.WaitGroup
	for _, tk := range []Ticket{deploy("v2"), rollback("v0"), deploy("v3"), deploy("v4"), rollback("v3")} {
		ch := goJoin(t, r, tk, fast)
		wg.Go(func() {
			j := <-ch
			var sup *SupersededError
			switch {
			case errors.As(j.err, &sup):
				mu.Lock()
				superseded[tk.Version] = sup.By.Version
				mu.Unlock()
			case j.err != nil:
				t.Errorf("%s %s: %v", tk.Command, tk.Version, j.err)
			default:
				mu.Lock()
				held = append(held, tk.Command+" "+tk.Version)
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
				j.held.Release()
			}
		})
	}
	a.Release()
	wg.Wait()
	// Older deploys leave as soon as a newer one waits (v2 may see only
	// v3 yet); rollbacks are never superseded, and what runs runs in
	// arrival order. A rollback behind v4 is no newer deploy.
	if by := superseded["v2"]; by != "v3" && by != "v4" {
		t.Errorf("v2 superseded by %q, want a newer deploy", by)
	}
	if by := superseded["v3"]; by != "v4" || len(superseded) != 2 {
		t.Errorf("superseded: %v, want v2 and v3 by newer deploys, nothing else", superseded)
	}
	want := []string{"rollback v0", "deploy v4", "rollback v3"}
	if got := strings.Join(held, ", "); got != strings.Join(want, ", ") {
		t.Errorf("held in the order %s, want %s", got, strings.Join(want, ", "))
	}
}

// Runs of a workflow that reach the queue out of order: the newest run
// waits, and older ones leave at once, however they arrived; a re-run
// and another workflow's run are never superseded by it.
func TestCoalescingByRunNumber(t *testing.T) {
	r := newLocalRunner(t)
	gate := hold(t, r, rollback("gate"), fast)
	v63 := goJoin(t, r, run("v63", 63), fast)
	for _, tk := range []Ticket{run("v62", 62), run("v61", 61)} {
		j := wait(t, goJoin(t, r, tk, fast), 5*time.Second)
		var sup *SupersededError
		if !errors.As(j.err, &sup) || sup.By.Version != "v63" || sup.Reason != "v63 (run 63) is newer" || sup.Deployed {
			t.Errorf("%s: %v, want superseded by v63 (run 63), waiting", tk.Version, j.err)
		}
		if j.err != nil && !strings.HasPrefix(j.err.Error(), "superseded by deploy v63 (run 63 of acme/shop/.github/workflows/deploy.yml; requested by alice at ") {
			t.Errorf("%s: error %q", tk.Version, j.err)
		}
	}
	rerun := run("v60", 60)
	rerun.Order.Attempt, rerun.Coalesce = 2, false
	v60 := goJoin(t, r, rerun, fast)
	other := run("w1", 1)
	other.Order.Source = GitHubSource("acme/shop/.github/workflows/other.yml")
	w1 := goJoin(t, r, other, fast)
	if got := versions(list(t, r).Tickets); got != "gate v63 v60 w1" {
		t.Errorf("queue = %s, want gate v63 v60 w1", got)
	}
	gate.Release()
	for _, ch := range []<-chan joined{v63, v60, w1} {
		j := wait(t, ch, 5*time.Second)
		if j.err != nil {
			t.Fatal(j.err)
		}
		j.held.Release()
	}
}

func TestKilledHolderFreesTheQueue(t *testing.T) {
	r := newLocalRunner(t)
	// Its own runner, so that kill ends only its holder.
	crashing := &localRunner{home: r.home}
	a := hold(t, crashing, deploy("v1"), fast)
	defer a.Release()
	lost, cancel := a.Context(context.Background())
	defer cancel()
	b := goJoin(t, r, deploy("v2"), fast)
	crashing.kill(t)
	killed := time.Now()
	j := wait(t, b, 5*time.Second)
	if j.err != nil {
		t.Fatal(j.err)
	}
	defer j.held.Release()
	if d := j.at.Sub(killed); d > time.Second {
		t.Errorf("the queue was free %s after its holder was killed, want within 1s", d)
	}
	select {
	case <-lost.Done():
	case <-time.After(time.Second):
		t.Error("the killed holder's context was not cancelled")
	}
}

func TestSilentHolderLosesTheLease(t *testing.T) {
	const lease = 2 * time.Second
	r := newLocalRunner(t)
	silent := &stallRunner{Runner: r, stall: make(chan struct{})}
	a := hold(t, silent, deploy("v1"), Options{Lease: lease, Poll: fast.Poll})
	defer a.Release()
	lost, cancel := a.Context(context.Background())
	defer cancel()
	lostAt := make(chan time.Time, 1)
	context.AfterFunc(lost, func() { lostAt <- time.Now() })
	b := goJoin(t, r, deploy("v2"), fast)
	close(silent.stall)
	stalled := time.Now()
	j := wait(t, b, lease+5*time.Second)
	if j.err != nil {
		t.Fatal(j.err)
	}
	defer j.held.Release()
	// Heartbeats every lease/5 keep a live holder's lease: the queue must
	// not change hands much before the lease has run out.
	if d := j.at.Sub(stalled); d < lease/2 || d > lease+time.Second {
		t.Errorf("the queue changed hands %s after its holder went silent, want within the lease of %s (+1s)", d, lease)
	}
	// The host drops the lock a lease after the last line it got. The
	// silent holder must know by then, else it and the next deploy would
	// both deploy at once.
	select {
	case at := <-lostAt:
		if expiry := silent.lastLine().Add(lease); at.After(expiry) {
			t.Errorf("the silent holder learnt it lost the queue %s after its lease ran out", at.Sub(expiry))
		}
		if cause := context.Cause(lost); !strings.Contains(cause.Error(), "lost the deploy queue") {
			t.Errorf("cause = %v", cause)
		}
	default:
		t.Error("the next deploy got the queue while the silent holder's context was still live")
	}
}

func TestListShowsHolderAndWaitersAndSweepsTheDead(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), fast)
	b := goJoin(t, r, rollback("v0"), fast)
	defer func() {
		a.Release()
		if j := wait(t, b, 5*time.Second); j.err == nil {
			j.held.Release()
		}
	}()
	// A dead process's ticket, older than everyone's, with no lock on it.
	dead := filepath.Join(r.home, testDir, "tickets", "1000000000000000000-1")
	if err := os.WriteFile(dead, []byte(`{"command":"deploy","version":"v9"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := list(t, r)
	if st.Holder == nil || st.Holder.Version != "v1" || st.Holder.Performer != "alice" || st.Holder.Command != "deploy" {
		t.Errorf("holder = %+v", st.Holder)
	}
	if got := versions(st.Tickets); got != "v1 v0" {
		t.Errorf("tickets = %s, want v1 v0", got)
	}
	if st.Tickets[0].ID != a.Ticket.ID || st.Me != -1 || st.Freeze != nil {
		t.Errorf("state = %+v, holder's ID %s", st, a.Ticket.ID)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead ticket was not swept: %v", err)
	}
}

// Look sees what List sees, but leaves a dead process's ticket where it
// is: ship doctor changes nothing.
func TestLookLeavesTheDead(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), fast)
	defer a.Release()
	dead := filepath.Join(r.home, testDir, "tickets", "1000000000000000000-1")
	if err := os.WriteFile(dead, []byte(`{"command":"deploy","version":"v9"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := Look(context.Background(), r, testDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Holder == nil || st.Holder.Version != "v1" || versions(st.Tickets) != "v1" {
		t.Errorf("state = %+v", st)
	}
	if _, err := os.Stat(dead); err != nil {
		t.Errorf("Look removed the dead ticket: %v", err)
	}
}

func TestFreeze(t *testing.T) {
	r := newLocalRunner(t)
	ctx := context.Background()
	if err := SetFreeze(ctx, r, testDir, Freeze{Message: "migrating orders", Performer: "carol", Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	frozen := make(chan State, 1)
	opts := fast
	opts.Progress = func(st State) {
		if st.Freeze != nil {
			select {
			case frozen <- st:
			default:
			}
		}
	}
	b := goJoin(t, r, deploy("v2"), opts)
	select {
	case st := <-frozen:
		if st.Freeze.Message != "migrating orders" || st.Freeze.Performer != "carol" || !strings.Contains(st.summary(), "frozen by carol") {
			t.Errorf("progress = %+v", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Progress never reported the freeze")
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case j := <-b:
		t.Fatalf("Join returned while the queue was frozen: %+v", j)
	default:
	}
	cleared, err := ClearFreeze(ctx, r, testDir)
	if err != nil || !cleared {
		t.Fatalf("ClearFreeze = %v, %v; want true", cleared, err)
	}
	j := wait(t, b, 5*time.Second)
	if j.err != nil {
		t.Fatal(j.err)
	}
	j.held.Release()
	cleared, err = ClearFreeze(ctx, r, testDir)
	if err != nil || cleared {
		t.Errorf("ClearFreeze without a freeze = %v, %v; want false", cleared, err)
	}
}

func TestTimeout(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), fast)
	defer a.Release()
	start := time.Now()
	_, err := Join(context.Background(), r, testDir, deploy("v2"), Options{Timeout: 500 * time.Millisecond, Poll: fast.Poll})
	if err == nil || !strings.Contains(err.Error(), "--queue-timeout") || !strings.Contains(err.Error(), "held by deploy v1") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Errorf("gave up after %s, want 500ms", d)
	}
	if got := versions(list(t, r).Tickets); got != "v1" {
		t.Errorf("after giving up, the queue holds %s, want v1", got)
	}
}

// deadRunner is a primary host that cannot be reached: Run fails before it
// reads anything from stdin, as ssh.Conn's does when it cannot dial.
type deadRunner struct{}

func (deadRunner) Run(context.Context, ssh.Cmd) error {
	return errors.New("dial tcp 192.0.2.1:22: connect: connection refused")
}

func TestJoinUnreachableHost(t *testing.T) {
	ch := make(chan error, 1)
	go func() {
		_, err := Join(context.Background(), deadRunner{}, testDir, deploy("v1"), Options{Timeout: time.Second})
		ch <- err
	}()
	select {
	case err := <-ch:
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("err = %v, want the connection's error", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Join hung on an unreachable primary host")
	}
}

func TestShortLease(t *testing.T) {
	r := newLocalRunner(t)
	a := hold(t, r, deploy("v1"), Options{Lease: 500 * time.Millisecond, Poll: fast.Poll})
	defer a.Release()
	lost, cancel := a.Context(context.Background())
	defer cancel()
	time.Sleep(1500 * time.Millisecond) // three leases, heartbeats keeping it
	if lost.Err() != nil {
		t.Fatalf("lost the queue while heartbeating: %v", context.Cause(lost))
	}
	if st := list(t, r); st.Holder == nil || st.Holder.Version != "v1" {
		t.Errorf("holder = %+v", st.Holder)
	}
}

// Lists at the same moment (every waiter polls, and ship queue reads) see
// no holder when there is none: looking at the lock must not take it.
func TestConcurrentListsSeeNoPhantomHolder(t *testing.T) {
	r := newLocalRunner(t)
	hold(t, r, deploy("v1"), fast).Release() // the lock file exists now
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				if st, err := List(context.Background(), r, testDir); err != nil || st.Holder != nil {
					t.Errorf("List = holder %+v, %v; want none", st.Holder, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A ticket being created must never look like a dead one's to a List that
// runs at that moment, else it is swept and its owner waits forever for a
// turn that never comes. A slow flock widens the moment.
func TestListDuringJoin(t *testing.T) {
	r := newLocalRunner(t)
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = -s ] && sleep 0.3\nexec " + flock + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "flock"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r.path = bin + ":" + os.Getenv("PATH")
	a := hold(t, r, deploy("v1"), fast)
	b := make(chan joined, 1)
	go func() {
		// A swept ticket would wait out the whole timeout; 30 s leaves the
		// 20 slow Lists below room on a loaded machine.
		held, err := Join(context.Background(), r, testDir, rollback("v0"), Options{Poll: fast.Poll, Timeout: 30 * time.Second})
		b <- joined{held, err, time.Now()}
	}()
	// Others' Lists (waiters polling, ship queue) while b's ticket is made.
	for range 20 {
		list(t, r)
		time.Sleep(20 * time.Millisecond)
	}
	a.Release()
	j := wait(t, b, 5*time.Second)
	if j.err != nil {
		t.Fatal(j.err)
	}
	j.held.Release()
}
