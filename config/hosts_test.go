package config

import "testing"

func TestCheckHost(t *testing.T) {
	good := []string{"192.168.0.1", "app.example.com", "web-1", "127.0.0.1:2222", "::1", "[2001:db8::1]:22", "10.99.0.2:22"}
	for _, h := range good {
		if err := checkHost(h); err != nil {
			t.Errorf("checkHost(%q): %v", h, err)
		}
	}
	bad := []string{"", "bad host", "root@1.2.3.4", "1.2.3.4:0", "1.2.3.4:99999", "-web", "web_1.example.com", "a..b"}
	for _, h := range bad {
		if err := checkHost(h); err == nil {
			t.Errorf("checkHost(%q) accepted a bad host", h)
		}
	}
}
