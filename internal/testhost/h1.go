package testhost

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// h1SSHD is the sshd on loopback in front of the main engine.
func h1SSHD(dir string, port int) sshd {
	return sshd{
		dir:            filepath.Join(dir, "h1"),
		addr:           net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		authorizedKeys: authorizedKeys(dir),
	}
}

// ensureH1 keeps h1's sshd running on the port recorded in h1/port, choosing
// one the first time and again only if someone else took it meanwhile.
func ensureH1(ctx context.Context, dir string) (sshd, error) {
	bin, err := lookBin("sshd")
	if err != nil {
		return sshd{}, err
	}
	portFile := filepath.Join(dir, "h1", "port")
	port := readPort(portFile)
	if port == 0 {
		if port, err = choosePort(portFile); err != nil {
			return sshd{}, err
		}
	}
	s := h1SSHD(dir, port)
	changed, err := s.prepare(ctx)
	if err != nil {
		return s, fmt.Errorf("prepare h1 sshd: %w", err)
	}
	d := s.daemon("h1 sshd", s.argv(bin))
	if !changed && d.pid() != 0 && answers(ctx, s.addr) == nil {
		return s, nil
	}
	if err := d.stop(0); err != nil {
		return s, err
	}
	if !portFree(s.addr) {
		if port, err = choosePort(portFile); err != nil {
			return s, err
		}
		s = h1SSHD(dir, port)
		if _, err := s.prepare(ctx); err != nil {
			return s, fmt.Errorf("prepare h1 sshd: %w", err)
		}
		d = s.daemon("h1 sshd", s.argv(bin))
	}
	p, err := d.start()
	if err != nil {
		return s, withLog(err, s.log())
	}
	if err := p.waitReady(ctx, 10*time.Second, func(ctx context.Context) error { return answers(ctx, s.addr) }); err != nil {
		p.stop(time.Second)
		return s, withLog(fmt.Errorf("start h1 sshd: %w", err), s.log())
	}
	return s, nil
}

// choosePort picks a free loopback port and records it in path.
func choosePort(path string) (int, error) {
	port, err := freePort()
	if err != nil {
		return 0, fmt.Errorf("choose h1 port: %w", err)
	}
	if err := writeFile(path, strconv.Itoa(port)+"\n", 0o644); err != nil {
		return 0, fmt.Errorf("record h1 port: %w", err)
	}
	return port, nil
}

// readPort returns the port recorded in path, or 0.
func readPort(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || port <= 0 || port > 65535 {
		return 0
	}
	return port
}
