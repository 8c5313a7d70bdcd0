package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/proxy"
)

// maintenancePage is the app's 503.html: kamal-proxy renders it with the
// maintenance message.
const maintenancePage = `<!doctype html><title>maint-page</title><p class="custom">{{ .Message }}</p>`

// answer is one response through kamal-proxy.
type answer struct {
	code int
	body string
}

// fetch GETs url and returns the status and body; a failed request is
// code 0 with the error.
func fetch(url string) answer {
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		return answer{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, strings.TrimSpace(string(b))}
}

// poster posts records until stopped and keeps every outcome: the ids
// acknowledged, and each refusal as the app's or kamal-proxy's answer, so
// that none can be silently dropped.
type poster struct {
	stop, done chan struct{}
	once       sync.Once
	acked      []int64
	refused    []*testapp.StatusError
	failed     []error // no HTTP answer at all
}

func startPoster(t *testing.T, url string) *poster {
	p := &poster{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(p.done)
		for n := 1; ; n++ {
			id, err := testapp.Post(client, url, fmt.Sprintf("maintenance writer %d", n))
			var status *testapp.StatusError
			switch {
			case err == nil:
				p.acked = append(p.acked, id)
			case errors.As(err, &status):
				p.refused = append(p.refused, status)
			default:
				p.failed = append(p.failed, err)
			}
			select {
			case <-p.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(p.halt)
	return p
}

func (p *poster) halt() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// waitFor polls until cond holds, for at most a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// app maintenance answers every request 503 with the message, in the
// app's own 503 page from error_pages_path; a writer gets 503s, never a
// silent drop; a deploy during maintenance keeps it; app live brings 200s
// back with every acknowledged write kept.
func TestMaintenance(t *testing.T) {
	a := proxiedApp(t, "maint", "error_pages_path: public\n", "", "v1", "v2")
	if err := os.MkdirAll(filepath.Join(a.dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, "public", "503.html"), []byte(maintenancePage), 0o644); err != nil {
		t.Fatal(err)
	}
	_, h2 := testhost.Hosts(t)
	url := "http://" + h2IP(t)
	const message = "Back at 10:00 — upgrading the shop"

	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "installed error pages 503.html") {
		t.Errorf("setup did not install the error pages:\n%s", out)
	}
	if v := get(t, url+"/version"); v != "v1" {
		t.Fatalf("through kamal-proxy the app says %q, want v1", v)
	}

	w := startPoster(t, url)
	waitFor(t, "acknowledged writes before maintenance", func() bool { return len(w.acked) >= 20 })
	out = a.mustShip(t, "app", "maintenance", "--message", message)
	if !strings.Contains(out, "maint-web is in maintenance") {
		t.Errorf("app maintenance did not say so:\n%s", out)
	}
	waitFor(t, "writes refused in maintenance", func() bool { return len(w.refused) >= 20 })

	for _, path := range []string{"/version", "/records", "/anything"} {
		got := fetch(url + path)
		if got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "maint-page") || !strings.Contains(got.body, message) {
			t.Errorf("GET %s in maintenance: %d %q, want 503 with the app's page and the message", path, got.code, got.body)
		}
	}

	// A deploy in maintenance swaps the version and stays in maintenance.
	out = a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "maint-web is in maintenance and stays so") || strings.Contains(out, "kamal-proxy holds requests") {
		t.Errorf("the deploy should leave the maintenance alone, not pause and resume:\n%s", out)
	}
	if got := fetch(url + "/version"); got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, message) {
		t.Errorf("after a deploy in maintenance: %d %q, want still 503 with the message", got.code, got.body)
	}
	state, err := proxy.ServiceState(context.Background(), dockerClient(t, h2), "maint-web")
	if err != nil || state != proxy.Stopped {
		t.Errorf("kamal-proxy has maint-web %v (%v), want stopped", state, err)
	}
	refusedBefore := len(w.refused)
	waitFor(t, "more writes refused after the deploy", func() bool { return len(w.refused) > refusedBefore+5 })

	ackedBefore := len(w.acked)
	out = a.mustShip(t, "app", "live")
	if !strings.Contains(out, "maint-web is live") {
		t.Errorf("app live did not say so:\n%s", out)
	}
	waitFor(t, "writes acknowledged after app live", func() bool { return len(w.acked) >= ackedBefore+20 })
	w.halt()

	if v := get(t, url+"/version"); v != "v2" {
		t.Errorf("after app live the app says %q, want v2 (deployed during maintenance)", v)
	}
	if len(w.failed) != 0 {
		t.Errorf("%d writes got no answer at all; first: %v", len(w.failed), w.failed[0])
	}
	for _, r := range w.refused {
		if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Body, message) {
			t.Errorf("a write was refused with %s %q, want 503 with the message", r.Status, r.Body)
			break
		}
	}
	t.Logf("%d writes acknowledged, %d refused with 503 in maintenance", len(w.acked), len(w.refused))
	testapp.Durable(t, url, w.acked)
}

// app maintenance on an app kamal-proxy does not route says to deploy
// first, and error_pages_path without pages is refused before any host is
// touched.
func TestMaintenanceRefusals(t *testing.T) {
	a := proxiedApp(t, "maintno", "error_pages_path: public\n", "", "v1")
	_, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "v1")
	if code == 0 || !strings.Contains(errOut, "error_pages_path") || !strings.Contains(errOut, "is not a directory") {
		t.Errorf("a deploy with a missing error_pages_path: exit %d\n%s", code, errOut)
	}
	if err := os.MkdirAll(filepath.Join(a.dir, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(a.dir, "public", "503.html"), []byte("<p>{{ .Message </p>"), 0o644)
	_, errOut, code = a.ship(t, "deploy", "--skip-build", "--version", "v1")
	if code == 0 || !strings.Contains(errOut, "503.html is not a page kamal-proxy can use") {
		t.Errorf("a deploy with a broken 503.html: exit %d\n%s", code, errOut)
	}
	_, errOut, code = a.ship(t, "app", "maintenance")
	if code == 0 || !strings.Contains(errOut, "kamal-proxy does not route maintno-web on this host: deploy first") {
		t.Errorf("app maintenance before any deploy: exit %d\n%s", code, errOut)
	}
}

// dataMessage is what clients see while ship works on the data.
const dataMessage = "Down for maintenance while data is restored"

// checkAnswered fails the test unless every write the poster made was
// acknowledged or refused with a 503 carrying message: kamal-proxy never
// held one past its limit, nor routed one to a stopped container.
func checkAnswered(t *testing.T, what string, p *poster, message string) {
	t.Helper()
	if len(p.failed) != 0 {
		t.Errorf("%s: %d writes got no answer; first: %v", what, len(p.failed), p.failed[0])
	}
	for _, r := range p.refused {
		if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Body, message) {
			t.Errorf("%s: a write was refused with %s %q, want 503 with %q", what, r.Status, r.Body, message)
			return
		}
	}
	t.Logf("%s: %d writes acknowledged, %d refused with 503", what, len(p.acked), len(p.refused))
}

// Behind kamal-proxy, db restore and rollback --restore-data put the app
// in maintenance for the data work, so every request gets an answer (a
// 503 with a message, not a wait past kamal-proxy's max-pause or a 502
// from a stopped container), and bring it live after; an app already in
// maintenance stays in it.
func TestProxiedDataOperationsUseMaintenance(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "maintdata", "", "", "v1", "v2")
	b := backUp(t, a)
	url := "http://" + h2IP(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	w := startPoster(t, url)
	waitFor(t, "acknowledged writes", func() bool { return len(w.acked) >= 20 })
	w.halt()
	b.waitSynced(t)
	synced := w.acked

	w = startPoster(t, url)
	out := a.mustShip(t, "db", "restore", "--yes")
	waitFor(t, "writes after the restore", func() bool { return len(w.acked) >= 10 })
	w.halt()
	if !strings.Contains(out, "maintdata-web is in maintenance") || !strings.Contains(out, "maintdata-web is live") {
		t.Errorf("db restore did not put the app in maintenance and bring it live:\n%s", out)
	}
	checkAnswered(t, "db restore", w, dataMessage)
	testapp.Durable(t, url, synced)

	out = a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "recorded the restore point of v1") {
		t.Fatalf("the deploy recorded no restore point:\n%s", out)
	}
	w = startPoster(t, url)
	out = a.mustShip(t, "rollback", "v1", "--restore-data", "--yes")
	waitFor(t, "writes after the rollback", func() bool { return len(w.acked) >= 10 })
	w.halt()
	if !strings.Contains(out, "maintdata-web is in maintenance: kamal-proxy answers 503 until the swap ends") || !strings.Contains(out, "maintdata-web is live again") || strings.Contains(out, "kamal-proxy holds requests") {
		t.Errorf("rollback --restore-data did not use maintenance instead of a pause:\n%s", out)
	}
	checkAnswered(t, "rollback --restore-data", w, dataMessage)
	if v := get(t, url+"/version"); v != "v1" {
		t.Errorf("after the rollback the app says %q, want v1", v)
	}

	// In maintenance already: the restore leaves it so.
	a.mustShip(t, "app", "maintenance", "--message", "planned")
	out = a.mustShip(t, "db", "restore", "--yes")
	if !strings.Contains(out, "maintdata-web is in maintenance already and stays so") || strings.Contains(out, "maintdata-web is live") {
		t.Errorf("db restore during maintenance:\n%s", out)
	}
	if got := fetch(url + "/version"); got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "planned") {
		t.Errorf("after db restore in maintenance: %d %q, want the planned maintenance still", got.code, got.body)
	}
	state, err := proxy.ServiceState(context.Background(), dockerClient(t, h2), "maintdata-web")
	if err != nil || state != proxy.Stopped {
		t.Errorf("kamal-proxy has maintdata-web %v (%v), want stopped", state, err)
	}
	a.mustShip(t, "app", "live")
	if v := get(t, url+"/version"); v != "v1" {
		t.Errorf("after app live the app says %q, want v1", v)
	}

	// A ship killed during db restore leaves the app stopped and in
	// maintenance; the next command puts the data back, starts the app
	// and ends the maintenance it began.
	shipBinary(t)
	a.killAt(t, "restoring /data/app.sqlite3 from", "db", "restore", "--yes")
	if got := fetch(url + "/version"); got.code != http.StatusServiceUnavailable {
		t.Errorf("with db restore killed: %d %q, want the data maintenance's 503", got.code, got.body)
	}
	out = a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "put the databases back as they were") || !strings.Contains(out, "repair: ending the maintenance of maintdata-web") {
		t.Errorf("the next deploy did not repair the killed restore:\n%s", out)
	}
	if v := get(t, url+"/version"); v != "v2" {
		t.Errorf("after the repair and the deploy the app says %q, want v2", v)
	}
	testapp.Durable(t, url, synced)
}
