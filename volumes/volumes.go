// Package volumes parses the persistent storage an app or accessory mounts,
// and tells named Docker volumes from host directories, and writable mounts
// from read-only ones: the distinction ship's single-writer guard rests on.
package volumes

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Mount is one volume of a container: a named Docker volume or a host path
// mounted at Target.
type Mount struct {
	Source  string   // volume name, or absolute host path
	Target  string   // absolute path inside the container
	Options []string // ro, rw, z, Z, nocopy, propagation modes
	Owner   string   // host directories only: "user[:group]" to chown after creating it (CheckOwner)
	Mode    string   // host directories only: octal mode, e.g. "0750" (CheckMode)
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

var validOptions = map[string]bool{
	"ro": true, "rw": true, "z": true, "Z": true, "nocopy": true,
	"shared": true, "slave": true, "private": true,
	"rshared": true, "rslave": true, "rprivate": true,
}

// Parse reads a Docker-style spec: "SOURCE:TARGET[:OPTIONS]".
func Parse(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Mount{}, fmt.Errorf("volume %q should be SOURCE:TARGET or SOURCE:TARGET:OPTIONS", spec)
	}
	m := Mount{Source: parts[0], Target: parts[1]}
	if len(parts) == 3 {
		m.Options = strings.Split(parts[2], ",")
	}
	return m, m.Validate()
}

// Validate reports the first thing wrong with the mount.
func (m Mount) Validate() error {
	switch {
	case m.Source == "":
		return fmt.Errorf("volume source is empty")
	case strings.HasPrefix(m.Source, "~") || strings.HasPrefix(m.Source, "."):
		return fmt.Errorf("volume source %q: a host path must be absolute (it is a path on the server, not on this machine)", m.Source)
	case !m.IsHostPath() && !nameRE.MatchString(m.Source):
		return fmt.Errorf("volume source %q: a volume name may contain only letters, digits, '_', '.' and '-', and a host path must start with '/'", m.Source)
	case !path.IsAbs(m.Target):
		return fmt.Errorf("volume target %q must be an absolute path inside the container", m.Target)
	case m.Target == "/":
		return fmt.Errorf("volume target may not be /")
	}
	ro, rw := false, false
	for _, o := range m.Options {
		if !validOptions[o] {
			return fmt.Errorf("volume option %q is not one of ro, rw, z, Z, nocopy, shared, slave, private, rshared, rslave, rprivate", o)
		}
		ro = ro || o == "ro"
		rw = rw || o == "rw"
	}
	if ro && rw {
		return fmt.Errorf("volume %s: options ro and rw contradict each other", m.Target)
	}
	if (m.Owner != "" || m.Mode != "") && !m.IsHostPath() {
		return fmt.Errorf("volume %q: owner and mode apply to host directories only; Docker manages named volumes", m.Source)
	}
	if err := CheckMode(m.Mode); m.Mode != "" && err != nil {
		return fmt.Errorf("volume %w", err)
	}
	if err := CheckOwner(m.Owner); m.Owner != "" && err != nil {
		return fmt.Errorf("volume %w", err)
	}
	return nil
}

var (
	modeRE = regexp.MustCompile(`^[0-7]{3,4}$`)
	// ownerRE is USER or USER:GROUP, each a name as useradd's default
	// NAME_REGEX allows, or a number. Neither may start with "-", so an
	// owner can never be read as an option of chown.
	ownerRE = regexp.MustCompile(`^([a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,10})(:([a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,10}))?$`)
)

// CheckMode validates a mode that ship gives a file or directory on a
// host with chmod: 3 or 4 octal digits.
func CheckMode(mode string) error {
	if !modeRE.MatchString(mode) {
		return fmt.Errorf("mode %q should be octal, like \"0750\" or \"644\" (3 or 4 digits from 0 to 7)", mode)
	}
	return nil
}

// CheckOwner validates an owner that ship gives a file or directory on a
// host with chown: USER or USER:GROUP, each a name or a number.
func CheckOwner(owner string) error {
	if !ownerRE.MatchString(owner) {
		return fmt.Errorf("owner %q should be USER or USER:GROUP, each a name (like www-data) or a number (like 1000)", owner)
	}
	return nil
}

// IsHostPath reports whether the source is a directory on the host rather
// than a named volume.
func (m Mount) IsHostPath() bool { return strings.HasPrefix(m.Source, "/") }

// ReadOnly reports whether the container cannot write through this mount.
func (m Mount) ReadOnly() bool {
	for _, o := range m.Options {
		if o == "ro" {
			return true
		}
	}
	return false
}

// String renders the mount in Docker's bind syntax.
func (m Mount) String() string {
	s := m.Source + ":" + m.Target
	if len(m.Options) > 0 {
		s += ":" + strings.Join(m.Options, ",")
	}
	return s
}

// MarshalText prints the mount as its spec, so configs print as written.
func (m Mount) MarshalText() ([]byte, error) { return []byte(m.String()), nil }
