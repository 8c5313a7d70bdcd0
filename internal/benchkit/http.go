package benchkit

import "net/http"

// HostTransport sends requests with Host as their Host header, if set: the
// header kamal-proxy routes a service by.
type HostTransport struct {
	Host string
	RT   http.RoundTripper
}

// RoundTrip sends r through RT with the Host header set.
func (t HostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.Host != "" {
		r = r.Clone(r.Context())
		r.Host = t.Host
	}
	return t.RT.RoundTrip(r)
}
