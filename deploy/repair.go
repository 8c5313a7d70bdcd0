package deploy

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

// The records ship keeps per role on each host, in spec.AppDir.
const (
	// healthyRecord is the newest version that passed its health check:
	// what a half-finished swap is repaired to; "" after a deliberate
	// stop.
	healthyRecord = "healthy"
	// stoppedRecord is the version a deliberate stop stopped: what app
	// start starts again.
	stoppedRecord = "stopped"
	// maintenanceRecord is "data" while ship holds a proxied role in
	// maintenance for its own data work (db restore, rollback
	// --restore-data), which it ends itself. A killed ship leaves it, and
	// repair ends that maintenance; one a user began has no record.
	maintenanceRecord = "maintenance"
)

// RecordFile is where the record kind of name (a role, for the swap's
// records) is kept on a host whose $HOME is home: spec.AppDir/kind/name.
func RecordFile(home string, c *config.Config, kind, name string) string {
	return path.Join(spec.AppDir(home, c), kind, name)
}

// recordHealthy notes version ("" after a deliberate stop) as the role's
// version to run on this host.
func recordHealthy(ctx context.Context, h *host.Host, c *config.Config, role, version string) error {
	return Record(ctx, h, c, healthyRecord, role, version)
}

// Record writes content as the record kind of name on the host, whole: a
// reader sees the old record or the new one. "" empties it, which reads
// as no record.
func Record(ctx context.Context, h *host.Host, c *config.Config, kind, name, content string) error {
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	file := RecordFile(home, c, kind, name)
	if err := h.Shell.Run(ctx, ssh.Script(recordScript, file, content)); err != nil {
		return fmt.Errorf("record %s: %w", file, err)
	}
	return nil
}

//go:embed record.sh
var recordScript string

//go:embed read-healthy.sh
var readHealthyScript string

// HealthyVersion is the version of role that ship runs on h, its healthy
// record: what a half-finished swap is repaired to, and what a command
// that stops the role for a while starts again, even when something else
// (the replica gate) stopped it meanwhile; "" after a deliberate stop
// (ship app stop).
func HealthyVersion(ctx context.Context, h *host.Host, c *config.Config, role string) (string, error) {
	return ReadRecord(ctx, h, c, healthyRecord, role)
}

// ReadRecord reads the record kind of name on the host, trimmed; "" when
// there is none.
func ReadRecord(ctx context.Context, h *host.Host, c *config.Config, kind, name string) (string, error) {
	home, err := h.Home(ctx)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := ssh.Script(readHealthyScript, RecordFile(home, c, kind, name))
	cmd.Stdout = &out
	if err := h.Shell.Run(ctx, cmd); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// Repair finds a swap that a killed ship left half-done on a host (old
// stopped and new not started, new started but never found healthy, or
// two running) and leaves exactly one container of the role running: the
// newest version that was healthy. It runs under the queue, before a
// mutating command does its own work.
func Repair(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) error {
	// Repairing the containers never changes kamal-proxy's routes: read
	// them meanwhile.
	services := listServices(ctx, h, []Unit{{Role: r}})
	if err := repairContainers(ctx, h, c, r, out); err != nil {
		return err
	}
	return repairRoute(ctx, h, c, r, services, out)
}

func repairContainers(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) error {
	want, err := HealthyVersion(ctx, h, c, r.Name)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	if want != "" {
		// Containers removed outside ship (or a new server) leave nothing
		// to go back to: the record is stale.
		name := spec.ContainerName(c, r.Name, want)
		if _, err := h.Docker.ContainerInspect(ctx, name); errdefs.IsNotFound(err) {
			fmt.Fprintf(out, "repair: %s was the last healthy version but no longer exists; nothing to restart\n", name)
			if err := recordHealthy(ctx, h, c, r.Name, ""); err != nil {
				return fmt.Errorf("repair: %w", err)
			}
			want = ""
		} else if err != nil {
			return fmt.Errorf("repair: inspect %s: %w", name, err)
		}
	}
	running, err := host.RunningContainers(ctx, h, c, r.Name)
	if err != nil {
		return err
	}
	ck := checkFor(c, r)
	if len(running) == 1 {
		name := host.Name(running[0])
		v := spec.VersionOf(c, r.Name, name, running[0].Labels)
		if v == want {
			return nil
		}
		// A new version that started but was never recorded healthy: keep
		// it if it is healthy now.
		if waitHealthy(ctx, h, name, ck, 5*time.Second) == nil {
			fmt.Fprintf(out, "repair: %s is running and healthy; keeping it\n", name)
			return recordHealthy(ctx, h, c, r.Name, v)
		}
	}
	if want == "" && len(running) == 0 {
		return nil // never deployed, or stopped on purpose
	}
	timeout := int(r.StopTimeout.Seconds())
	for _, ct := range running {
		name := host.Name(ct)
		fmt.Fprintf(out, "repair: stopping %s, left by an interrupted swap\n", name)
		if err := h.Docker.ContainerStop(ctx, ct.ID, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("repair: stop %s: %w", name, err)
		}
	}
	if want == "" {
		return nil
	}
	target := spec.ContainerName(c, r.Name, want)
	if err := guard.Check(ctx, h.Docker, c); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	fmt.Fprintf(out, "repair: starting %s, the newest version that was healthy\n", target)
	if err := h.Docker.ContainerStart(ctx, target, container.StartOptions{}); err != nil {
		return fmt.Errorf("repair: start %s: %w", target, err)
	}
	if err := waitHealthy(ctx, h, target, ck, c.DeployTimeout); err != nil {
		return fmt.Errorf("repair: %s: %w", target, err)
	}
	return nil
}
