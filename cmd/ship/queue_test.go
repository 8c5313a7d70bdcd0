package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"

	_ "modernc.org/sqlite"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	// pkgDir is where go test started, before any test changed directory.
	pkgDir, _ = os.Getwd()
)

// shipBinary builds ship once, for tests that need separate processes:
// several deployers at once, or one to kill.
func shipBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ship-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "ship")
		// -tags shiptest: the build in which SHIP_TEST_HANG_AT stops a
		// swap at a step (hang_shiptest.go).
		build := exec.Command("go", "build", "-tags", "shiptest", "-o", binaryPath, ".")
		build.Dir = pkgDir
		out, err := build.CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// proc is a ship process started in the project. Call shipBinary on the
// test's goroutine first.
func (a *app) proc(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binaryPath, args...)
	cmd.Dir = a.dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// startHung starts ship with SHIP_TEST_HANG_AT=point and returns once it
// hangs there, so a test can kill it or cut it off at that step. It is
// killed when the test ends.
func (a *app) startHung(t *testing.T, point string, args ...string) *exec.Cmd {
	t.Helper()
	victim := a.proc(t, []string{"SHIP_TEST_HANG_AT=" + point}, args...)
	stderr, err := victim.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	reached := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sc.Text() == "SHIP_TEST_HANG_AT "+point {
				reached <- true
				drain(sc)
				return
			}
		}
		close(reached)
	}()
	select {
	case ok := <-reached:
		if !ok {
			t.Fatal("the deployer ended before reaching " + point)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the deployer never reached " + point)
	}
	return victim
}

// tag gives the app's image more version tags, removed when the test ends.
func (a *app) tag(t *testing.T, h *testhost.Host, versions ...string) {
	cli := dockerClient(t, h)
	for _, v := range versions {
		ref := "ship-it-" + a.service + ":" + v
		if err := cli.ImageTag(context.Background(), "ship-it-"+a.service+":v1", ref); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	}
}

// queueHolder reads who holds the deploy queue, through ship queue --json.
func (a *app) queueHolder(t *testing.T) string {
	out, errOut, code := a.ship(t, "queue", "--json")
	if code != 0 {
		t.Fatalf("ship queue --json: %d %s", code, errOut)
	}
	var st struct {
		Holder *struct {
			Command, Version string
		} `json:"holder"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("ship queue --json: %v\n%s", err, out)
	}
	if st.Holder == nil {
		return ""
	}
	return st.Holder.Command + " " + st.Holder.Version
}

// running lists the app's running containers on a host.
func running(t *testing.T, h *testhost.Host, service string) []string {
	list, err := dockerClient(t, h).ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "service="+service))})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, strings.TrimPrefix(c.Names[0], "/"))
	}
	return names
}

// Ten deploys requested within one swap's time: at most two swaps run, the
// newest requested version serves, every other request exits 0 superseded.
func TestBurstOfDeploysCoalesces(t *testing.T) {
	shipBinary(t)
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "burst", h1)
	var versions []string
	for i := 1; i <= 10; i++ {
		versions = append(versions, fmt.Sprintf("b%d", i))
	}
	a.tag(t, h1, versions...)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	outputs := make([]string, len(versions))
	codes := make([]int, len(versions))
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := a.proc(t, nil, "deploy", "--skip-build", "--version", v).CombinedOutput()
			outputs[i] = string(out)
			if e, ok := err.(*exec.ExitError); ok {
				codes[i] = e.ExitCode()
			}
		}()
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	swapped := map[string]bool{}
	by := map[string]string{} // superseded version -> the newer deploy named
	for i, out := range outputs {
		if codes[i] != 0 {
			t.Errorf("deploy %s exited %d:\n%s", versions[i], codes[i], out)
		}
		switch {
		case strings.Contains(out, "superseded by deploy "):
			by[versions[i]] = strings.Fields(out[strings.Index(out, "superseded by deploy ")+len("superseded by deploy "):])[0]
		case strings.Contains(out, " deployed "):
			swapped[versions[i]] = true
		}
	}
	if len(swapped) > 2 || len(swapped)+len(by) != len(versions) {
		t.Errorf("%d swaps ran and %d requests were superseded, want at most 2 swaps and the rest superseded:\n%s", len(swapped), len(by), strings.Join(outputs, "\n---\n"))
	}
	// A request may be superseded by one that a still newer one supersedes
	// in turn: every chain must end at a version that ran. Not always the
	// one serving: a deploy that steps aside for a newer one waiting, which
	// is admitted before the rest have arrived, ends at the first swap.
	serving := a.version(t)
	if !swapped[serving] {
		t.Errorf("%s is serving, but no deploy of it ran: %v ran", serving, swapped)
	}
	// Of two swaps, the one serving replaced the other.
	for v := range swapped {
		if v == serving {
			continue
		}
		out := outputs[slices.Index(versions, serving)]
		if !regexp.MustCompile(`\s` + v + `\s+` + serving + `\s+deployed\s`).MatchString(out) {
			t.Errorf("%s serves, but its deploy did not replace %s, the other that ran:\n%s", serving, v, out)
		}
	}
	for v := range by {
		end := v
		for i := 0; by[end] != "" && i < len(versions); i++ {
			end = by[end]
		}
		if !swapped[end] {
			t.Errorf("%s was superseded, through %s, by %s, which never ran (%v ran, %s is serving)", v, by[v], end, swapped, serving)
		}
	}
	t.Logf("%d swaps, %d superseded; %s serving", len(swapped), len(by), serving)
}

// A deployer killed at any step of the swap frees the queue within a
// second, and the next deploy repairs what it left: exactly one container
// serving.
func TestKilledDeployerIsRepaired(t *testing.T) {
	shipBinary(t)
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "kill", h1)
	a.tag(t, h1, "k1", "k2", "k3", "r1", "r2", "r3")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	for i, point := range []string{"created", "stopped", "started"} {
		t.Run(point, func(t *testing.T) {
			victim := a.startHung(t, point, "deploy", "--skip-build", "--version", fmt.Sprintf("k%d", i+1))
			if h := a.queueHolder(t); !strings.HasPrefix(h, "deploy k") {
				t.Fatalf("the hung deployer does not hold the queue: holder %q", h)
			}
			killed := time.Now()
			victim.Process.Signal(syscall.SIGKILL)
			victim.Wait()
			for a.queueHolder(t) != "" {
				if time.Since(killed) > 5*time.Second {
					t.Fatal("the queue is still held 5 s after its holder was killed")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if freed := time.Since(killed); freed > time.Second {
				t.Errorf("the queue was freed %s after the kill, want within 1 s", freed)
			} else {
				t.Logf("queue freed %s after SIGKILL at %s", freed.Round(time.Millisecond), point)
			}

			next := fmt.Sprintf("r%d", i+1)
			a.mustShip(t, "deploy", "--skip-build", "--version", next)
			if names := running(t, h1, a.service); len(names) != 1 || names[0] != "kill-web-"+next {
				t.Errorf("after the repairing deploy, running: %v, want only kill-web-%s", names, next)
			}
			if v := a.version(t); v != next {
				t.Errorf("app says %q, want %s", v, next)
			}
		})
	}
}

// A network cut between a deployer and the primary host frees the queue
// within the lease, whatever sshd's keepalive settings: the deployer's
// traffic is dropped inside h2's network namespace.
func TestNetworkCutFreesQueue(t *testing.T) {
	shipBinary(t)
	_, h2 := testhost.Hosts(t)
	a := deployedApp(t, "cut", h2)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.startHung(t, "stopped", "deploy", "--skip-build", "--version", "v2")

	lock := filepath.Join(testhost.Dir(), "h2", "home", ".ship", "queue", "cut", "lock")
	if free(lock) {
		t.Fatal("the hung deployer does not hold the queue lock")
	}
	rule := []string{"netns", "exec", "shiptest-h2", "iptables", "-I", "INPUT", "-s", "10.99.0.1", "-j", "DROP"}
	if out, err := exec.Command("ip", rule...).CombinedOutput(); err != nil {
		t.Fatalf("cut the network: %v %s", err, out)
	}
	t.Cleanup(func() {
		rule[4] = "-D"
		exec.Command("ip", rule...).Run()
	})
	cut := time.Now()
	for !free(lock) {
		if time.Since(cut) > 20*time.Second {
			t.Fatal("the queue is still held 20 s after the network was cut")
		}
		time.Sleep(100 * time.Millisecond)
	}
	freed := time.Since(cut)
	t.Logf("queue freed %s after the network cut", freed.Round(time.Millisecond))
	if freed > 15*time.Second {
		t.Errorf("freed after %s, want within the 15 s bound", freed)
	}
}

// free reports whether nobody holds the flock on file; it is the same
// file system as the test host's (only its network is separate).
func free(file string) bool {
	return exec.Command("flock", "-n", "-x", file, "true").Run() == nil
}

func drain(sc *bufio.Scanner) {
	for sc.Scan() {
	}
}

// The story behind ship: deploys requested from 20 concurrent processes
// while a customer keeps placing orders. Every acknowledged order must be
// in the database, the AUTOINCREMENT sequence must equal the row count, the
// database must pass integrity_check, and no two app containers may ever
// have run at once.
func TestTortureConcurrentDeploysUnderWrites(t *testing.T) {
	shipBinary(t)
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "torture", h1)
	var versions []string
	for i := 1; i <= 20; i++ {
		versions = append(versions, fmt.Sprintf("t%d", i))
	}
	a.tag(t, h1, versions...)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	watch := testapp.Watch(t, h1.DockerHost, a.service)
	writer := testapp.StartWriter(t, a.url(), 2*time.Millisecond)

	var wg sync.WaitGroup
	failures := make(chan string, len(versions))
	for _, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := a.proc(t, nil, "deploy", "--skip-build", "--version", v).CombinedOutput(); err != nil {
				failures <- fmt.Sprintf("deploy %s: %v\n%s", v, err, out)
			}
		}()
		time.Sleep(300 * time.Millisecond)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	acked, refused := writer.Stop()
	testapp.Durable(t, a.url(), acked)
	t.Logf("%d orders acknowledged, %d refused during the deploys", len(acked), refused)
	if n := watch.MaxRunning(); n != 1 {
		t.Errorf("%d app containers ran at the same instant", n)
	}

	// Stop the app and check the database file itself.
	a.mustShip(t, "app", "stop")
	vol, err := dockerClient(t, h1).VolumeInspect(context.Background(), "torture_data")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(vol.Mountpoint, "app.sqlite3")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	var seq, rows int64
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check: %q %v", integrity, err)
	}
	if err := db.QueryRow("SELECT seq FROM sqlite_sequence WHERE name = 'records'").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM records").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if seq != rows || rows < int64(len(acked)) {
		t.Errorf("AUTOINCREMENT sequence %d, rows %d, acknowledged %d", seq, rows, len(acked))
	}
}

// A manual freeze holds deploys back, showing its message, until released;
// releasing is the only thing a user ever releases.
func TestLockFreeze(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "freeze", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.mustShip(t, "lock", "acquire", "-m", "migrating the orders table")
	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "v2", "--queue-timeout", "2s")
	if code != exitFailed || !strings.Contains(out+errOut, "migrating the orders table") || !strings.Contains(errOut, "--queue-timeout") {
		t.Errorf("deploy during a freeze: exit %d\n%s%s", code, out, errOut)
	}
	if status := a.mustShip(t, "lock", "status"); !strings.Contains(status, "frozen by") {
		t.Errorf("lock status during a freeze:\n%s", status)
	}
	if out := a.mustShip(t, "lock", "release"); !strings.Contains(out, "freeze lifted") {
		t.Errorf("lock release: %s", out)
	}
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if v := a.version(t); v != "v2" {
		t.Errorf("after the freeze was lifted the app says %q", v)
	}
}
