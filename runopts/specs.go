package runopts

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

func publish(v string, cc *container.Config, hc *container.HostConfig) error {
	exposed, bindings, err := nat.ParsePortSpecs([]string{v})
	if err != nil {
		return err
	}
	if cc.ExposedPorts == nil {
		cc.ExposedPorts = nat.PortSet{}
	}
	if hc.PortBindings == nil {
		hc.PortBindings = nat.PortMap{}
	}
	for p := range exposed {
		cc.ExposedPorts[p] = struct{}{}
	}
	for p, b := range bindings {
		hc.PortBindings[p] = append(hc.PortBindings[p], b...)
	}
	return nil
}

// logOpt keeps hc.LogConfig.Type: the options belong to whichever driver the
// caller chose, or the engine's default.
func logOpt(v string, _ *container.Config, hc *container.HostConfig) error {
	k, val, err := keyValue(v)
	if err != nil {
		return err
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	hc.LogConfig.Config[k] = val
	return nil
}

func sysctl(v string, _ *container.Config, hc *container.HostConfig) error {
	k, val, err := keyValue(v)
	if err != nil {
		return err
	}
	if hc.Sysctls == nil {
		hc.Sysctls = map[string]string{}
	}
	hc.Sysctls[k] = val
	return nil
}

func keyValue(v string) (k, val string, err error) {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return "", "", errors.New("should be KEY=VALUE")
	}
	return k, val, nil
}

// tmpfs is PATH[:OPTIONS], the options as mount(8) takes them.
func tmpfs(v string, _ *container.Config, hc *container.HostConfig) error {
	p, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(p) {
		return errors.New("should be an absolute path, optionally followed by :OPTIONS")
	}
	if hc.Tmpfs == nil {
		hc.Tmpfs = map[string]string{}
	}
	hc.Tmpfs[p] = opts
	return nil
}

// device is HOST[:CONTAINER][:PERMISSIONS], parsed as docker run does for a
// Linux engine: the container path defaults to the host path, permissions
// to rwm. A glob (/dev/video*) is refused: docker run expands it where it
// runs, which with ship would be the deploying machine, not the server.
func device(v string, _ *container.Config, hc *container.HostConfig) error {
	d := container.DeviceMapping{CgroupPermissions: "rwm"}
	parts := strings.Split(v, ":")
	switch len(parts) {
	case 3:
		if !deviceMode(parts[2]) {
			return fmt.Errorf("permissions %q should be made of r, w and m", parts[2])
		}
		d.CgroupPermissions = parts[2]
		d.PathInContainer = parts[1]
	case 2:
		if deviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 1:
	default:
		return errors.New("should be HOST[:CONTAINER][:PERMISSIONS]")
	}
	d.PathOnHost = parts[0]
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	if strings.HasSuffix(d.PathOnHost, "*") {
		return errors.New("device globs are not supported; list each device")
	}
	if !path.IsAbs(d.PathOnHost) || !path.IsAbs(d.PathInContainer) {
		return errors.New("device paths should be absolute")
	}
	hc.Devices = append(hc.Devices, d)
	return nil
}

// deviceMode reports whether m is a non-empty combination of r, w and m,
// each at most once.
func deviceMode(m string) bool {
	seen := map[rune]bool{}
	for _, c := range m {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return m != ""
}

// securityOpt passes options to the engine as docker run does, except
// seccomp=PROFILE: docker run reads that file where it runs, which with ship
// would be the deploying machine, and sends its JSON. systempaths=unconfined
// is also docker run's own: it clears the masked and read-only path lists.
func securityOpt(v string, _ *container.Config, hc *container.HostConfig) error {
	if v == "systempaths=unconfined" {
		hc.MaskedPaths = []string{}
		hc.ReadonlyPaths = []string{}
		return nil
	}
	k, val, ok := strings.Cut(v, "=")
	if !ok && v != "no-new-privileges" {
		// The engine still reads the old KEY:VALUE form.
		if k, val, ok = strings.Cut(v, ":"); !ok {
			return errors.New("should be KEY=VALUE or no-new-privileges")
		}
	}
	if k == "seccomp" && val != "unconfined" && val != "builtin" {
		return errors.New("seccomp profile files are not supported; use seccomp=unconfined or leave the default")
	}
	hc.SecurityOpt = append(hc.SecurityOpt, v)
	return nil
}

// restart is no, always, unless-stopped or on-failure[:MAX_RETRIES].
func restart(v string, _ *container.Config, hc *container.HostConfig) error {
	name, count, hasCount := strings.Cut(v, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch p.Name {
	case container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if hasCount {
			return errors.New("only on-failure takes a retry count")
		}
	case container.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return errors.New("retry count should be a whole number")
			}
			p.MaximumRetryCount = n
		}
	default:
		return errors.New("should be no, always, unless-stopped or on-failure[:N]")
	}
	hc.RestartPolicy = p
	return nil
}
