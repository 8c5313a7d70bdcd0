package benchkit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostTransportSetsTheHostHeader(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = append(got, r.Host) }))
	defer srv.Close()
	for _, host := range []string{"a.bench.test", ""} {
		c := &http.Client{Transport: HostTransport{Host: host, RT: http.DefaultTransport}}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if want := srv.Listener.Addr().String(); len(got) != 2 || got[0] != "a.bench.test" || got[1] != want {
		t.Errorf("Host headers %q; want a.bench.test, then the URL's %s", got, want)
	}
}
