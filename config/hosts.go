package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

var (
	hostLabelRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	nameRE      = regexp.MustCompile(`^[a-z0-9_-]+$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// checkHost validates a server address: a DNS name or IP address, with an
// optional ":port" (ship's extension for hosts on different SSH ports).
// IPv6 addresses take a port only in brackets: [2001:db8::1]:2222.
func checkHost(addr string) error {
	if strings.Contains(addr, "@") {
		return fmt.Errorf("host %q: put the user in ssh.user, not in the host", addr)
	}
	host := addr
	if h, port, err := net.SplitHostPort(addr); err == nil {
		p, perr := strconv.Atoi(port)
		if perr != nil || p < 1 || p > 65535 {
			return fmt.Errorf("host %q: port %q is not a number from 1 to 65535", addr, port)
		}
		host = h
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) == 0 || len(host) > 253 {
		return fmt.Errorf("host %q is not a valid host name or IP address", addr)
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if !hostLabelRE.MatchString(label) {
			return fmt.Errorf("host %q is not a valid host name or IP address", addr)
		}
	}
	return nil
}
