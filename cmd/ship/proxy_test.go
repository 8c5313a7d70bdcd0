package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproxy"
	"github.com/shipdeploy/ship/proxy"
)

// proxiedApp writes a project for service on h2 behind kamal-proxy, with
// the extra proxy keys given, and builds the versions on h1's engine (the
// local one ship sends images from), with kamal-proxy's image. h2 starts
// without a kamal-proxy container; the cleanup removes the app and the
// kamal-proxy container.
func proxiedApp(t *testing.T, service, proxyKeys, secrets string, versions ...string) *app {
	t.Helper()
	h1, h2 := testhost.Hosts(t)
	testproxy.Image(t, h1.DockerHost)
	a := &app{service: service, secret: "s3cret-" + rand.Text(), port: 80}
	volume := strings.ReplaceAll(service, "-", "_") + "_data"
	a.dir = project(t, map[string]string{
		"config/deploy.yml": fmt.Sprintf(`service: %[1]s
image: ship-it-%[1]s
servers:
  web:
    hosts: [%[2]s]
volumes:
  - %[3]s:/data
env:
  clear:
    DATABASE_PATH: /data/app.sqlite3
    PORT: 3000
  secret:
    - APP_SECRET
proxy:
  app_port: 3000
%[4]sdeploy_timeout: 8
stop_timeout: 10
ssh:
  keys_only: true
  keys: [%[5]s]
  known_hosts: [%[6]s]
`, service, h2.Addr, volume, proxyKeys, h2.KeyPath, h2.KnownHostsPath),
		".ship/secrets": "APP_SECRET=" + a.secret + "\n" + secrets,
	})
	for _, v := range versions {
		testapp.Image(t, h1.DockerHost, "ship-it-"+service+":"+v, testapp.ImageOptions{})
	}
	// The tests own h2's kamal-proxy: one left by make demo or an earlier
	// run, or its routes, would change what ship does.
	cli := dockerClient(t, h2)
	cli.ContainerRemove(context.Background(), proxy.ContainerName, container.RemoveOptions{Force: true})
	cli.VolumeRemove(context.Background(), proxy.StateVolume, true)
	t.Cleanup(func() {
		a.ship(t, "app", "remove", "--yes")
		a.ship(t, "proxy", "remove")
		// With the routes of apps removed while the proxy was down.
		cli.VolumeRemove(context.Background(), proxy.StateVolume, true)
		cli.VolumeRemove(context.Background(), volume, true)
	})
	return a
}

// h2IP is the address of h2, where its kamal-proxy publishes 80 and 443.
func h2IP(t *testing.T) string {
	_, h2 := testhost.Hosts(t)
	host, _, err := net.SplitHostPort(h2.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return host
}

// reader GETs /version as fast as it can until stopped, counting answers
// that are not 200 and the versions it saw, in order.
type reader struct {
	stop     chan struct{}
	done     chan struct{}
	ok       int
	failed   []string
	versions []string
}

func startReader(t *testing.T, url string) *reader {
	r := &reader{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(r.done)
		for {
			select {
			case <-r.stop:
				return
			default:
			}
			resp, err := client.Get(url + "/version")
			if err != nil {
				r.failed = append(r.failed, err.Error())
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				r.failed = append(r.failed, resp.Status+": "+strings.TrimSpace(string(body)))
				continue
			}
			r.ok++
			if v := strings.TrimSpace(string(body)); len(r.versions) == 0 || r.versions[len(r.versions)-1] != v {
				r.versions = append(r.versions, v)
			}
		}
	}()
	t.Cleanup(r.halt)
	return r
}

func (r *reader) halt() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// Through kamal-proxy, a writer and a reader hammer the app across five
// deploys and a rollback: not one request fails, every acknowledged write
// is kept, and the engine never runs two app containers at once.
func TestProxiedSwapsFailNoRequest(t *testing.T) {
	versions := []string{"v1", "v2", "v3", "v4", "v5", "v6"}
	a := proxiedApp(t, "held", "", "", versions...)
	_, h2 := testhost.Hosts(t)
	url := "http://" + h2IP(t)
	watch := testapp.Watch(t, h2.DockerHost, a.service)
	argv := testapp.ScanArgv(t, a.secret)
	var output strings.Builder

	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	output.WriteString(out)
	if !strings.Contains(out, "booting kamal-proxy") || !strings.Contains(out, "kamal-proxy routes held-web to held-web-v1") {
		t.Fatalf("setup did not boot kamal-proxy and route the app through it:\n%s", out)
	}
	if v := get(t, url+"/version"); v != "v1" {
		t.Fatalf("through kamal-proxy the app says %q, want v1", v)
	}

	// Requests are held over two kamal-proxy commands: ship sends them on
	// the control socket, never as a process in the proxy's container.
	pauses := testapp.ScanArgv(t, "kamal-proxy pause held-web")
	writer := testapp.StartWriter(t, url, 5*time.Millisecond)
	rd := startReader(t, url)
	for _, v := range versions[1:] {
		out := a.mustShip(t, "deploy", "--skip-build", "--version", v)
		output.WriteString(out)
		if !strings.Contains(out, "kamal-proxy holds requests for held-web") || !strings.Contains(out, "kamal-proxy released requests after") {
			t.Fatalf("deploy %s did not hold requests in kamal-proxy:\n%s", v, out)
		}
		time.Sleep(200 * time.Millisecond) // traffic between swaps, too
	}
	output.WriteString(a.mustShip(t, "rollback", "v4"))
	time.Sleep(200 * time.Millisecond)
	acked, failedWrites := writer.Stop()
	rd.halt()

	if execs := pauses.Stop(); len(execs) > 0 {
		t.Errorf("kamal-proxy pause ran as a process, not on the control socket: %v", execs)
	}
	if failedWrites != 0 {
		t.Errorf("%d writes failed through kamal-proxy during the swaps", failedWrites)
	}
	if len(rd.failed) != 0 {
		t.Errorf("%d of %d reads failed during the swaps; first: %s", len(rd.failed), rd.ok+len(rd.failed), rd.failed[0])
	}
	if len(acked) < 100 || rd.ok < 100 {
		t.Errorf("only %d writes and %d reads went through: the load did not really run", len(acked), rd.ok)
	}
	t.Logf("%d writes acknowledged, %d reads answered; versions seen: %v", len(acked), rd.ok, rd.versions)
	if want := []string{"v1", "v2", "v3", "v4", "v5", "v6", "v4"}; strings.Join(rd.versions, " ") != strings.Join(want, " ") {
		t.Errorf("the reader saw versions %v, want %v: each swap should switch once, never back and forth", rd.versions, want)
	}
	testapp.Durable(t, url, acked)
	if n := watch.MaxRunning(); n != 1 {
		t.Errorf("at some instant %d app containers were running at once:\n%v", n, watch.Events())
	}
	if leaks := argv.Stop(); len(leaks) > 0 {
		t.Errorf("the secret appeared in a command line on the host: %v", leaks)
	}
	if strings.Contains(output.String(), a.secret) {
		t.Errorf("the secret appeared in ship's output")
	}
	details := a.mustShip(t, "proxy", "details")
	if !strings.Contains(details, "held-web-v4:3000") || !strings.Contains(details, "running") {
		t.Errorf("proxy details should show held-web routed to v4:\n%s", details)
	}
}

// A failed deploy behind the proxy puts the old version back, routes the
// proxy to it and resumes: the held requests are answered by v1.
func TestProxiedFailedDeployPutsOldBack(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "heldback", "", "", "v1")
	testapp.Image(t, h1.DockerHost, "ship-it-heldback:bad", testapp.ImageOptions{FailHealthcheck: true})
	url := "http://" + h2IP(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	writer := testapp.StartWriter(t, url, 5*time.Millisecond)
	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "bad")
	acked, failed := writer.Stop()
	if code != exitFailed || !strings.Contains(out+errOut, "heldback-web-v1 is serving again") {
		t.Fatalf("deploying a version that never gets healthy: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "kamal-proxy routes heldback-web to heldback-web-v1") || !strings.Contains(out, "kamal-proxy released requests") {
		t.Errorf("the failed deploy did not route the proxy back to v1 and resume:\n%s", out)
	}
	if v := get(t, url+"/version"); v != "v1" {
		t.Errorf("after the failed deploy the app says %q, want v1", v)
	}
	// The writer's requests wait in the proxy for the whole failed health
	// check (deploy_timeout, 8 s), longer than its 2 s timeout: some fail
	// on the client side, none may be lost.
	t.Logf("%d writes acknowledged, %d timed out while held", len(acked), failed)
	testapp.Durable(t, url, acked)
	services, err := proxy.Services(context.Background(), dockerClient(t, h2))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		if s.Name == "heldback-web" && s.State != "running" {
			t.Errorf("kamal-proxy left heldback-web %s", s.State)
		}
	}
}

// ssl with a custom certificate from secrets: kamal-proxy serves it for
// the host name, redirects plain HTTP, and the key is readable by the
// proxy's user only, never on a command line or in ship's output.
func TestProxyCustomCertificate(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, "shop.test")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	a := proxiedApp(t, "tls", `  host: shop.test
  ssl:
    certificate_pem: CERTIFICATE_PEM
    private_key_pem: PRIVATE_KEY_PEM
`, "CERTIFICATE_PEM=$(cat "+certFile+")\nPRIVATE_KEY_PEM=$(cat "+keyFile+")\n", "v1")
	_, h2 := testhost.Hosts(t)
	keyLine := strings.Split(string(keyPEM), "\n")[1]
	argv := testapp.ScanArgv(t, keyLine)

	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if strings.Contains(out, keyLine) {
		t.Errorf("the private key appeared in ship's output")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	ip := h2IP(t)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(ip, port))
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		Transport:     &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "shop.test"}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("https://shop.test/version")
	if err != nil {
		t.Fatalf("GET https://shop.test/version with the custom certificate as the only root: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "v1" || resp.TLS == nil || string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: resp.TLS.PeerCertificates[0].Raw})) != string(certPEM) {
		t.Errorf("https://shop.test/version: %s %q; want v1 served with the custom certificate", resp.Status, body)
	}
	resp, err = client.Get("http://shop.test/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(resp.Header.Get("Location"), "https://shop.test/") {
		t.Errorf("plain HTTP answered %s to %q, want a redirect to https (ssl_redirect defaults to true)", resp.Status, resp.Header.Get("Location"))
	}

	_, keyPath := proxy.TLSPaths("tls", "web")
	st, err := dockerClient(t, h2).ContainerStatPath(context.Background(), proxy.ContainerName, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode.Perm() != 0o600 {
		t.Errorf("the private key in the proxy is mode %o, want 600", st.Mode.Perm())
	}
	if leaks := argv.Stop(); len(leaks) > 0 {
		t.Errorf("the private key appeared in a command line on the host: %v", leaks)
	}
}

// selfSigned makes a certificate and key for host, as PEM.
func selfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// get returns the trimmed body of a GET, or why it failed.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return "unreachable: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.Status + ": " + strings.TrimSpace(string(b))
	}
	return strings.TrimSpace(string(b))
}

// A deployer killed while kamal-proxy holds the requests (old version
// stopped, new one not started) leaves the service paused; the next ship
// command repairs it: the last healthy version runs again, is routed, and
// the held request is answered, not failed.
func TestKilledProxiedDeployerIsRepaired(t *testing.T) {
	shipBinary(t)
	h1, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "heldkill", "", "", "v1")
	a.tag(t, h1, "k1", "r1")
	url := "http://" + h2IP(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	victim := a.startHung(t, "stopped", "deploy", "--skip-build", "--version", "k1")
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()

	services, err := proxy.Services(context.Background(), dockerClient(t, h2))
	if err != nil {
		t.Fatal(err)
	}
	if len(services) == 0 || !strings.Contains(fmt.Sprint(services), "heldkill-web") || !strings.Contains(fmt.Sprint(services), "paused") {
		t.Fatalf("after the kill kamal-proxy should hold heldkill-web paused: %v", services)
	}
	held := make(chan string, 1)
	go func() { held <- get(t, url+"/version") }() // waits in the proxy
	time.Sleep(300 * time.Millisecond)

	out := a.mustShip(t, "deploy", "--skip-build", "--version", "r1")
	if !strings.Contains(out, "repair: starting heldkill-web-v1") || !strings.Contains(out, "repair: resuming heldkill-web") {
		t.Errorf("the next deploy did not repair the interrupted swap:\n%s", out)
	}
	select {
	case v := <-held:
		if v != "v1" && v != "r1" {
			t.Errorf("the request held while the deployer was dead got %q, want an answer from v1 or r1", v)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the request held by the interrupted swap was never answered")
	}
	if v := get(t, url+"/version"); v != "r1" {
		t.Errorf("after the repairing deploy the app says %q, want r1", v)
	}
}

// A kamal-proxy Kamal started is used as it is, not fought for the ports;
// ship proxy reboot replaces it with ship's, and the routes survive in the
// state volume; stop and start work.
func TestProxyReusesKamalsAndReboots(t *testing.T) {
	_, h2 := testhost.Hosts(t)
	a := proxiedApp(t, "reuse", "", "", "v1")
	cli := dockerClient(t, h2)
	ctx := context.Background()
	if err := proxy.EnsureNetwork(ctx, cli); err != nil {
		t.Fatal(err)
	}
	// As `kamal proxy boot` runs it.
	img := testproxy.Image(t, h2.DockerHost)
	_, err := cli.ContainerCreate(ctx, &container.Config{Image: img, Cmd: []string{"kamal-proxy", "run"}, ExposedPorts: nat.PortSet{"80/tcp": {}, "443/tcp": {}}},
		&container.HostConfig{
			NetworkMode: "kamal", RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
			Binds:        []string{proxy.StateVolume + ":/home/kamal-proxy/.config/kamal-proxy"},
			PortBindings: nat.PortMap{"80/tcp": {{HostPort: "80"}}, "443/tcp": {{HostPort: "443"}}},
		}, nil, nil, proxy.ContainerName)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, proxy.ContainerName, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	kamals, _ := cli.ContainerInspect(ctx, proxy.ContainerName)

	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "using the kamal-proxy already on the host") || strings.Contains(out, "booting kamal-proxy") {
		t.Errorf("setup should use Kamal's kamal-proxy:\n%s", out)
	}
	url := "http://" + h2IP(t)
	if v := get(t, url+"/version"); v != "v1" {
		t.Fatalf("through Kamal's kamal-proxy the app says %q", v)
	}
	if info, _ := cli.ContainerInspect(ctx, proxy.ContainerName); info.ID != kamals.ID {
		t.Errorf("setup replaced Kamal's kamal-proxy")
	}

	out = a.mustShip(t, "proxy", "reboot")
	if !strings.Contains(out, "booting kamal-proxy") {
		t.Errorf("proxy reboot:\n%s", out)
	}
	info, err := cli.ContainerInspect(ctx, proxy.ContainerName)
	if err != nil || info.ID == kamals.ID || info.Config.Labels[proxy.LabelManaged] != "true" {
		t.Fatalf("after reboot kamal-proxy should be ship's own container: %v", err)
	}
	if v := get(t, url+"/version"); v != "v1" {
		t.Errorf("after proxy reboot the route is gone: %q", v)
	}

	a.mustShip(t, "proxy", "stop")
	if v := get(t, url+"/version"); !strings.HasPrefix(v, "unreachable") {
		t.Errorf("with kamal-proxy stopped the app still answers: %q", v)
	}
	a.mustShip(t, "proxy", "start")
	if v := get(t, url+"/version"); v != "v1" {
		t.Errorf("after proxy start the app says %q", v)
	}
	if details := a.mustShip(t, "proxy", "details"); !strings.Contains(details, "reuse-web") || !strings.Contains(details, "reuse-web-v1:3000") {
		t.Errorf("proxy details:\n%s", details)
	}
}

// Two apps without proxy.host cannot share a kamal-proxy: the second's
// deploy fails saying what to set, and the first keeps serving.
func TestProxyHostConflictIsExplained(t *testing.T) {
	first := proxiedApp(t, "hostone", "", "", "v1")
	second := proxiedApp(t, "hosttwo", "", "", "v1")
	first.mustShip(t, "setup", "--skip-build", "--version", "v1")
	out, errOut, code := second.ship(t, "setup", "--skip-build", "--version", "v1")
	if code != exitFailed || !strings.Contains(errOut, "give each app its own proxy.host") {
		t.Errorf("a second app with no proxy.host: exit %d\n%s%s", code, out, errOut)
	}
	if v := get(t, "http://"+h2IP(t)+"/version"); v != "v1" {
		t.Errorf("the first app should still serve: %q", v)
	}
}
