package testhost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"time"
)

// mainSocket is where the machine's main Docker engine listens, and where
// ship finds the engine on every host it reaches over SSH.
const mainSocket = "/var/run/docker.sock"

// engineCall sends one Engine API request over a unix socket. The standard
// library is enough for the few calls testhost needs.
func engineCall(ctx context.Context, sock, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s on %s: %s: %s", method, path, sock, resp.Status, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

func ping(ctx context.Context, sock string) error {
	return engineCall(ctx, sock, "GET", "/_ping", nil)
}

// removeContainers force-removes every container of an engine, so that none
// with a restart policy comes back when the engine starts again.
func removeContainers(ctx context.Context, sock string) error {
	var list []struct{ ID string }
	if err := engineCall(ctx, sock, "GET", "/containers/json?all=1", &list); err != nil {
		return err
	}
	for _, c := range list {
		if err := engineCall(ctx, sock, "DELETE", "/containers/"+url.PathEscape(c.ID)+"?force=1&v=1", nil); err != nil {
			return err
		}
	}
	return nil
}

// mainDockerd is the machine's main engine as Up starts it when nothing
// answers on mainSocket: default settings, only pid file and log in dir.
func mainDockerd(dir string) daemon {
	pidFile := filepath.Join(dir, "dockerd.pid")
	return daemon{
		name:       "dockerd",
		args:       []string{"dockerd", "--pidfile", pidFile},
		pidFile:    pidFile,
		log:        filepath.Join(dir, "dockerd.log"),
		marker:     "--pidfile " + pidFile,
		ownPidFile: true,
	}
}

// ensureMainEngine uses the engine on mainSocket, whoever started it, and
// starts one if nothing answers there.
func ensureMainEngine(ctx context.Context, dir string) error {
	if ping(ctx, mainSocket) == nil {
		return nil
	}
	d := mainDockerd(dir)
	// Ours but not answering: hung or half dead, replace it.
	if err := d.stop(10 * time.Second); err != nil {
		return err
	}
	p, err := d.start()
	if err != nil {
		return withLog(err, d.log)
	}
	if err := p.waitReady(ctx, 60*time.Second, func(ctx context.Context) error { return ping(ctx, mainSocket) }); err != nil {
		p.stop(10 * time.Second)
		return withLog(fmt.Errorf("start dockerd: %w", err), d.log)
	}
	return nil
}
