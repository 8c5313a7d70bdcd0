package ssh

import (
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// maxMissed keepalives in a row mean the server is gone, as OpenSSH's
// ServerAliveCountMax default (3).
const maxMissed = 3

// keepalive pings the server every interval and closes the client when it
// stops answering. x/crypto sends none itself, so a frozen host or a dropped
// NAT entry would otherwise leave callers blocked forever.
func keepalive(client *gossh.Client, interval time.Duration, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if ping(client, interval) {
			missed = 0
			continue
		}
		if missed++; missed >= maxMissed {
			client.Close()
			return
		}
	}
}

// ping reports whether the server answered a keepalive within timeout.
// OpenSSH rejects the request (ok=false), which still proves it is alive.
func ping(client *gossh.Client, timeout time.Duration) bool {
	reply := make(chan error, 1)
	go func() {
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-reply:
		return err == nil
	case <-t.C:
		return false
	}
}
