package workflow

import (
	"context"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/fleet"
)

// AuditRequest is ship audit.
type AuditRequest struct {
	Globals
	// Lines is how many of the last entries to read per host; 0 (or
	// less) reads them all.
	Lines int
}

// AuditResult is the audit log of each selected host.
type AuditResult struct {
	Service     string
	Destination string
	Hosts       []AuditLog // one per selected host, in config order
}

// AuditLog is one host's audit log, or why it could not be read.
type AuditLog struct {
	Host    string
	Entries []audit.Entry // oldest first; nil when the host has no log, or Err is set
	Err     error
}

// Audit reads the service's audit log on each selected host, in parallel:
// who did what, when, and how it ended. A host whose log cannot be read
// still has its place in the result, with its error; the error returned
// then names every such host. The result is nil when no host was asked.
func Audit(ctx context.Context, r AuditRequest) (*AuditResult, error) {
	s, err := open(r.Globals)
	if err != nil {
		return nil, err
	}
	defer s.close()
	path := audit.Path(s.cfg.ServiceAndDestination())
	results := fleet.Each(ctx, s.hosts, 0, func(ctx context.Context, h string) ([]audit.Entry, error) {
		return audit.Read(ctx, s.pool.Conn(h), path, r.Lines)
	})
	res := &AuditResult{Service: s.cfg.Service, Destination: s.cfg.Destination}
	for _, hr := range results {
		res.Hosts = append(res.Hosts, AuditLog{Host: hr.Host, Entries: hr.Value, Err: hr.Err})
	}
	return res, fleet.Failed(results)
}
