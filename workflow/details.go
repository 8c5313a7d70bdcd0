package workflow

import (
	"context"
	"slices"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/spec"
)

// DetailsRequest is ship details.
type DetailsRequest struct {
	Globals
}

// DetailsResult is each selected host's Docker Engine and the service's
// containers on it.
type DetailsResult struct {
	Service     string
	Destination string
	Hosts       []HostDetails // one per selected host, in config order
}

// HostDetails is what one host's Docker Engine said.
type HostDetails struct {
	Host string
	// Engine is the engine's version and the service's containers, newest
	// first; partial, or empty, when Err is set.
	Engine engine.Host
	// Missing are the accessories of the host that have no container
	// there (not booted). Known only from a full list: nil when Err is
	// set.
	Missing []MissingAccessory
	Err     error
}

// MissingAccessory is an accessory that has no container on its host.
type MissingAccessory struct {
	Name      string // as the config names it
	Container string // the container it would have
}

// Details asks each selected host's Docker Engine, in parallel, for its
// version and the service's containers. A host that cannot be reached
// still has its place in the result, with its error; the error returned
// then names every such host. The result is nil when no host was asked.
func Details(ctx context.Context, r DetailsRequest) (*DetailsResult, error) {
	s, err := open(r.Globals)
	if err != nil {
		return nil, err
	}
	defer s.close()
	results := fleet.Each(ctx, s.hosts, 0, func(ctx context.Context, h string) (engine.Host, error) {
		cli, err := fleet.Engine(ctx, s.pool.Conn(h))
		if err != nil {
			return engine.Host{}, err
		}
		defer cli.Close()
		return engine.Describe(ctx, cli, s.cfg.Service)
	})
	res := &DetailsResult{Service: s.cfg.Service, Destination: s.cfg.Destination}
	for _, hr := range results {
		d := HostDetails{Host: hr.Host, Engine: hr.Value, Err: hr.Err}
		if hr.Err == nil {
			d.Missing = missingAccessories(s.cfg, hr.Host, hr.Value)
		}
		res.Hosts = append(res.Hosts, d)
	}
	return res, fleet.Failed(results)
}

// missingAccessories are the accessories of host that have no container
// in h.
func missingAccessories(cfg *config.Config, host string, h engine.Host) []MissingAccessory {
	var out []MissingAccessory
	for _, a := range accessories.On(cfg, host) {
		name := spec.AccessoryName(cfg, a)
		if !slices.ContainsFunc(h.Containers, func(ct engine.Container) bool { return ct.Name == name }) {
			out = append(out, MissingAccessory{Name: a.Name, Container: name})
		}
	}
	return out
}
