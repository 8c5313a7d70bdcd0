package doctor

import (
	"errors"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/ssh"
)

// Connection is the SSH check: how connecting to host (SSH, with its host
// key verified, then its Docker Engine) ended.
func Connection(host string, err error) Check {
	const name = "ssh"
	var hk *ssh.HostKeyError
	switch {
	case err == nil:
		return ok(name, "connected; the host key is the one known_hosts holds")
	case errors.As(err, &hk) && hk.Changed():
		return fail(name, "if the host was reinstalled, remove its old key from "+joinFiles(hk.Files)+" (ssh-keygen -R HOST), then ship server trust "+shellquote.Join(host),
			"the host key CHANGED: possible man-in-the-middle attack")
	case errors.As(err, &hk):
		return fail(name, "ship server trust "+shellquote.Join(host)+" (check the fingerprint it shows on the server first)", "the host key is unknown")
	}
	return fail(name, "check that the host is up and accepts the key in ssh: keys (ship server exec -v -h "+shellquote.Join(host)+" true)", "%v", err)
}

func joinFiles(files []string) string {
	if len(files) == 0 {
		return "known_hosts"
	}
	return shellquote.Join(files...)
}
