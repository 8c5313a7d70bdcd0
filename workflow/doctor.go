package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/doctor"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
)

// DoctorRequest is ship doctor.
type DoctorRequest struct {
	Globals
	// MinFree is the free space, in percent of a filesystem, below which
	// the disk check fails; zero is DefaultMinFree.
	MinFree float64
}

// DefaultMinFree is the free space, in percent, below which ship doctor
// fails a filesystem (it warns below 10 %).
const DefaultMinFree = 5.0

// DoctorHost is one host's checks, in the order they ran.
type DoctorHost struct {
	Host   string         `json:"host"`
	Checks []doctor.Check `json:"checks"`
}

// DoctorResult is every selected host's checks, in config order.
type DoctorResult struct {
	Service, Destination string
	Hosts                []DoctorHost
}

// Worst is the worst state of any check on any host.
func (r DoctorResult) Worst() doctor.State {
	w := doctor.OK
	for _, h := range r.Hosts {
		w = max(w, doctor.Worst(h.Checks))
	}
	return w
}

// Failed counts the checks that failed.
func (r DoctorResult) Failed() int {
	n := 0
	for _, h := range r.Hosts {
		for _, c := range h.Checks {
			if c.State == doctor.Fail {
				n++
			}
		}
	}
	return n
}

// Doctor checks every selected host in parallel and returns every
// finding; the error says how many checks failed (warnings alone are no
// error). It only reads: it takes no place in the deploy queue, starts
// and stops nothing, and changes no file.
func Doctor(ctx context.Context, r DoctorRequest) (DoctorResult, error) {
	s, err := open(r.Globals)
	if err != nil {
		return DoctorResult{}, err
	}
	defer s.close()
	roles, err := s.roles()
	if err != nil {
		return DoctorResult{}, err
	}
	minFree := r.MinFree
	if minFree == 0 {
		minFree = DefaultMinFree
	}
	s.UI.Infof("checking %s", strings.Join(s.hosts, ", "))
	results := fleet.Each(ctx, s.hosts, 0, func(ctx context.Context, h string) ([]doctor.Check, error) {
		conn := s.pool.Conn(h)
		cli, err := fleet.Engine(ctx, conn)
		checks := []doctor.Check{doctor.Connection(h, err)}
		if err != nil {
			return checks, nil
		}
		defer cli.Close()
		t := &doctor.Target{Host: &host.Host{Name: h, Shell: conn, Docker: cli}, Config: s.cfg,
			Roles: rolesOn(s.cfg, h, roles), Now: time.Now, MinFree: minFree}
		return append(checks, doctor.Host(ctx, t)...), nil
	})
	res := DoctorResult{Service: s.cfg.Service, Destination: s.cfg.Destination}
	for _, r := range results {
		res.Hosts = append(res.Hosts, DoctorHost{Host: r.Host, Checks: r.Value})
	}
	if n := res.Failed(); n > 0 {
		checks := "checks"
		if n == 1 {
			checks = "check"
		}
		return res, fmt.Errorf("%d %s failed: each line that says fail names its fix", n, checks)
	}
	return res, nil
}

// rolesOn lists the selected roles that have host, in config order.
func rolesOn(c *config.Config, host string, selected []string) []*config.Role {
	var out []*config.Role
	for _, r := range c.Roles {
		if !slices.Contains(selected, r.Name) {
			continue
		}
		for _, h := range r.Hosts {
			if h.Address == host {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
