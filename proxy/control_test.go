package proxy

import (
	"reflect"
	"slices"
	"testing"
)

// listOutput is what `kamal-proxy list` prints, byte for byte, in
// kamal-proxy v0.9.2 (internal/cmd/list.go and formatting.go), checked
// against the v0.9.2 binary: services sorted by name; every cell wrapped in
// an ANSI SGR sequence (italic blue for the header, bold blue for the
// service name, an empty style for the rest) whether or not stdout is a
// terminal; each cell padded after its closing sequence to its column's
// widest text, then two spaces. A service without hosts is listed with Host
// "*" and one without path prefixes with Path "/" (kamal-proxy normalizes
// both, so neither cell is ever blank); hosts and path prefixes are joined
// with commas.
const listOutput = "" +
	"\x1b[3;94mService\x1b[0m     \x1b[3;94mHost\x1b[0m                                   \x1b[3;94mPath\x1b[0m     \x1b[3;94mTarget\x1b[0m                    \x1b[3;94mState\x1b[0m    \x1b[3;94mTLS\x1b[0m  \n" +
	"\x1b[1;34mshop-admin\x1b[0m  \x1b[m*\x1b[0m                                      \x1b[m/\x1b[0m        \x1b[mshop-admin-20240101:3000\x1b[0m  \x1b[mrunning\x1b[0m  \x1b[mno\x1b[0m   \n" +
	"\x1b[1;34mshop-api\x1b[0m    \x1b[mapi.example.com\x1b[0m                        \x1b[m/v1,/v2\x1b[0m  \x1b[mshop-api-abc123:80\x1b[0m        \x1b[mrunning\x1b[0m  \x1b[myes\x1b[0m  \n" +
	"\x1b[1;34mshop-web\x1b[0m    \x1b[mshop.example.com,www.shop.example.com\x1b[0m  \x1b[m/\x1b[0m        \x1b[mshop-web-abc123:80\x1b[0m        \x1b[mpaused\x1b[0m   \x1b[myes\x1b[0m  \n"

// emptyListOutput is `kamal-proxy list` v0.9.2 with no services: the header.
const emptyListOutput = "\x1b[3;94mService\x1b[0m  \x1b[3;94mHost\x1b[0m  \x1b[3;94mPath\x1b[0m  \x1b[3;94mTarget\x1b[0m  \x1b[3;94mState\x1b[0m  \x1b[3;94mTLS\x1b[0m  \n"

func TestParseList(t *testing.T) {
	want := []Service{
		{Name: "shop-admin", Host: "*", Path: "/", Target: "shop-admin-20240101:3000", State: "running", TLS: "no"},
		{Name: "shop-api", Host: "api.example.com", Path: "/v1,/v2", Target: "shop-api-abc123:80", State: "running", TLS: "yes"},
		{Name: "shop-web", Host: "shop.example.com,www.shop.example.com", Path: "/", Target: "shop-web-abc123:80", State: "paused", TLS: "yes"},
	}
	got := parseList(listOutput)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseList:\n got %q\nwant %q", got, want)
	}
}

func TestParseListNoServices(t *testing.T) {
	for _, out := range []string{emptyListOutput, ""} {
		if got := parseList(out); len(got) != 0 {
			t.Errorf("parseList(%q) = %q, want no services", out, got)
		}
	}
}

func TestStateOf(t *testing.T) {
	for word, want := range map[string]State{"running": Running, "paused": Paused, "stopped": Stopped, "": Absent} {
		if got := stateOf(word); got != want || (word != "" && got.String() != word) {
			t.Errorf("stateOf(%q) = %v, want %v", word, got, want)
		}
	}
}

func TestServiceWriterAndReaders(t *testing.T) {
	s := Service{Target: "shop-web-abc:3000,10.0.0.2:32768,10.0.0.3:32770"}
	if s.Writer() != "shop-web-abc:3000" {
		t.Errorf("writer %q", s.Writer())
	}
	if got := s.Readers(); !slices.Equal(got, []string{"10.0.0.2:32768", "10.0.0.3:32770"}) {
		t.Errorf("readers %q", got)
	}
	alone := Service{Target: "shop-web-abc:3000"}
	if alone.Writer() != "shop-web-abc:3000" || alone.Readers() != nil {
		t.Errorf("no readers: %q %q", alone.Writer(), alone.Readers())
	}
}
