package drill

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/onhost"
	"github.com/shipdeploy/ship/spec"
)

// files is where a drill's files are on the host.
type files struct {
	dir, log string
}

func (f files) config(name string) string { return path.Join(f.dir, name+".conf") }
func (f files) heartbeat() string         { return path.Join(f.dir, "heartbeat.curl") }
func (f files) failure() string           { return path.Join(f.dir, "failure.curl") }
func (f files) env() string               { return path.Join(f.dir, "litestream.env") }

func filesFor(home string, c *config.Config) files {
	return files{dir: spec.DrillDir(home, c), log: spec.DrillLog(home, c)}
}

// plan is everything a drill on the host needs to know.
type plan struct {
	name     string // SERVICE[-DESTINATION], the containers' prefix
	files    files
	dbs      []database.DB
	accEnv   string // the Litestream environment, in Docker's env-file format
	accessor *spec.Container
}

// render writes the drill's config for sched (nil for a one-off).
func render(c *config.Config, p plan, sched *Schedule) ([]byte, error) {
	var h onhost.Conf
	l := c.Litestream
	h.Add("name", p.name)
	h.Add("log", p.files.log)
	if sched != nil {
		h.Add("minutes", list(sched.Minutes))
		h.Add("hours", list(sched.Hours))
		h.Add("days", list(sched.Days))
		h.Add("months", list(sched.Months))
		h.Add("weekdays", list(sched.Weekdays))
		h.Add("any_day", flag(sched.AnyDay))
		h.Add("any_weekday", flag(sched.AnyWeekday))
	}
	h.Add("retry_wait", strconv.Itoa(int((l.SyncInterval+time.Second+time.Second-1)/time.Second)))
	// The restores run as db verify's do: the accessory's network and
	// mounts, read-only, and its env file.
	h.Add("image", p.accessor.Config.Image)
	h.Add("run_arg", "--network", string(p.accessor.Host.NetworkMode), "--env-file", p.accEnv)
	for _, b := range p.accessor.Host.Binds {
		h.Add("run_arg", "-v", readOnly(b))
	}
	h.Add("config_arg", l.ConfigArgs()...)
	h.Add("ltx", flag(!l.Version03()))
	for _, db := range p.dbs {
		v, _, err := c.DatabaseVolume(db.Path)
		if err != nil {
			return nil, err
		}
		ltx := database.ReplicaArg(l, db)
		fields := []string{db.Path, db.Litestream, db.Root, path.Dir(db.Rel), db.Name(), db.Replica, ltx, path.Clean(v.Target)}
		for _, f := range fields {
			if strings.ContainsAny(f, "\t\n\r") || f == "" {
				return nil, fmt.Errorf("database %s: %q cannot be passed to the drill on the host (a tab, line break or nothing)", db.Path, f)
			}
		}
		h.Add("db", strings.Join(fields, "\t"))
	}
	if l.HeartbeatURL != "" {
		h.Add("heartbeat", p.files.heartbeat())
	}
	if l.FailureURL != "" {
		h.Add("failure", p.files.failure())
	}
	if l.Drill.Boot {
		if err := renderBoot(&h, c, p); err != nil {
			return nil, err
		}
	}
	return h.Text()
}

// renderBoot adds what booting the app on the restored copy needs: how
// to find the running version's container, its env file and cmd, and its
// health check.
func renderBoot(h *onhost.Conf, c *config.Config, p plan) error {
	r := c.Role(c.PrimaryRole)
	h.Add("boot", "1")
	h.Add("boot_filter", "--filter", "label="+spec.LabelService+"="+c.Service, "--filter", "label="+spec.LabelRole+"="+r.Name)
	if c.Destination != "" {
		h.Add("boot_destination", c.Destination)
	}
	if r.Cmd != "" {
		words, err := shellquote.Split(r.Cmd)
		if err != nil {
			return fmt.Errorf("role %s: cmd %q: %w", r.Name, r.Cmd, err)
		}
		h.Add("boot_cmd", words...)
	}
	checkPath, port := deploy.HealthCheck(c, r)
	h.Add("boot_check", checkPath+"\t"+strconv.Itoa(port))
	h.Add("boot_wait", strconv.Itoa(int(c.DeployTimeout/time.Second)))
	if cmd := c.Litestream.Drill.Command; cmd != "" {
		words, err := shellquote.Split(cmd)
		if err != nil {
			return fmt.Errorf("litestream.drill.command %q: %w", cmd, err)
		}
		h.Add("boot_command", words...)
	}
	return nil
}

// readOnly is a bind mounted read-only: the restore only reads.
func readOnly(bind string) string {
	parts := strings.Split(bind, ":")
	if len(parts) == 3 {
		if strings.Contains(parts[2], "ro") {
			return bind
		}
		return bind + ",ro"
	}
	return bind + ":ro"
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// envFile is the Litestream accessory's environment (its credentials) as
// docker run --env-file reads it: KEY=VALUE, the value as it is, one a
// line. ship's own env files quote their values, which Docker would keep.
func envFile(env []string) ([]byte, error) {
	var b []byte
	for _, kv := range env {
		if strings.ContainsAny(kv, "\n\r") {
			k, _, _ := strings.Cut(kv, "=")
			return nil, fmt.Errorf("the Litestream accessory's %s holds a line break, which docker run --env-file cannot pass", k)
		}
		b = append(b, kv+"\n"...)
	}
	return b, nil
}

// pingFile is curl's config naming url: the URL travels to curl in a
// file, never on its command line.
func pingFile(url string) []byte {
	return []byte("url = \"" + url + "\"\n")
}
