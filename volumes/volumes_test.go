package volumes

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec     string
		hostPath bool
		readOnly bool
	}{
		{"app_storage:/rails/storage", false, false},
		{"/var/lib/app:/data", true, false},
		{"/var/lib/app:/data:ro", true, true},
		{"data:/data:rw,z", false, false},
	} {
		m, err := Parse(tc.spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.spec, err)
		}
		if m.IsHostPath() != tc.hostPath || m.ReadOnly() != tc.readOnly {
			t.Errorf("Parse(%q) = %+v: hostPath %v readOnly %v", tc.spec, m, m.IsHostPath(), m.ReadOnly())
		}
		if m.String() != tc.spec {
			t.Errorf("String() = %q, want %q", m.String(), tc.spec)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for spec, want := range map[string]string{
		"data":             "SOURCE:TARGET",
		"./data:/data":     "must be absolute",
		"~/data:/data":     "must be absolute",
		"da ta:/data":      "volume name",
		"data:relative":    "absolute path inside the container",
		"data:/":           "may not be /",
		"data:/data:rx":    `option "rx"`,
		"data:/data:ro,rw": "contradict",
		"a:b:c:d":          "SOURCE:TARGET",
		":/data":           "source is empty",
	} {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", spec, err, want)
		}
	}
}

func TestOwnerAndModeOnlyForHostPaths(t *testing.T) {
	if err := (Mount{Source: "data", Target: "/data", Owner: "1000"}).Validate(); err == nil {
		t.Error("owner on a named volume was accepted")
	}
	if err := (Mount{Source: "/srv/data", Target: "/data", Owner: "1000:1000", Mode: "0750"}).Validate(); err != nil {
		t.Errorf("host path with owner and mode: %v", err)
	}
	if err := (Mount{Source: "/srv/data", Target: "/data", Mode: "rwx"}).Validate(); err == nil {
		t.Error("non-octal mode was accepted")
	}
}

// Owner and mode go to chown and chmod on the host: a name or number, and
// octal digits, never an option.
func TestOwnerAndMode(t *testing.T) {
	for _, ok := range []string{"root", "1000", "1000:1000", "www-data:www-data", "_apt", "deploy:100", "machine$"} {
		if err := CheckOwner(ok); err != nil {
			t.Errorf("CheckOwner(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "--reference=/etc/shadow", "-1", "a:-b", "root:", ":root", "a b", "root;id", "Root", "a:b:c", "$(id)"} {
		if err := CheckOwner(bad); err == nil {
			t.Errorf("CheckOwner(%q) accepted it", bad)
		}
	}
	for _, ok := range []string{"644", "0644", "0750", "1777", "2755"} {
		if err := CheckMode(ok); err != nil {
			t.Errorf("CheckMode(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "64", "07777", "0648", "u+s", "-R", "0o644", "+x"} {
		if err := CheckMode(bad); err == nil {
			t.Errorf("CheckMode(%q) accepted it", bad)
		}
	}
	if err := (Mount{Source: "/srv/data", Target: "/data", Owner: "--reference=/etc/shadow"}).Validate(); err == nil {
		t.Error("an owner that is an option of chown was accepted")
	}
}
