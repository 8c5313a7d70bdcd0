package ssh

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// hostPort turns "name", "name:port", "1.2.3.4", "::1" or "[::1]:22" into a
// "host:port" address, using defaultPort when none is given.
func hostPort(host string, defaultPort int) (string, error) {
	if host == "" {
		return "", fmt.Errorf("empty host")
	}
	h, p := host, strconv.Itoa(defaultPort)
	// Bare IPv6 addresses have several colons and no brackets: no port.
	if strings.HasPrefix(host, "[") || strings.Count(host, ":") == 1 {
		var err error
		if h, p, err = net.SplitHostPort(host); err != nil {
			return "", fmt.Errorf("invalid host %q: %w", host, err)
		}
	}
	if h == "" {
		return "", fmt.Errorf("invalid host %q: empty name", host)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid host %q: bad port %q", host, p)
	}
	return net.JoinHostPort(h, p), nil
}

// userHostPort splits Kamal's "[user@]host[:port]" form.
func userHostPort(s, defaultUser string, defaultPort int) (user, addr string, err error) {
	user = defaultUser
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if i == 0 {
			return "", "", fmt.Errorf("invalid host %q: empty user", s)
		}
		user, s = s[:i], s[i+1:]
	}
	addr, err = hostPort(s, defaultPort)
	return user, addr, err
}
