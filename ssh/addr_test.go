package ssh

import "testing"

func TestHostPort(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"web1", "web1:22"},
		{"web1:2222", "web1:2222"},
		{"1.2.3.4", "1.2.3.4:22"},
		{"1.2.3.4:22", "1.2.3.4:22"},
		{"::1", "[::1]:22"},
		{"[::1]:2222", "[::1]:2222"},
		{"2001:db8::1", "[2001:db8::1]:22"},
	} {
		got, err := hostPort(tt.in, 22)
		if err != nil || got != tt.want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", ":22", "web1:", "web1:x", "web1:0", "web1:70000", "[::1"} {
		if got, err := hostPort(bad, 22); err == nil {
			t.Errorf("hostPort(%q) = %q, want error", bad, got)
		}
	}
}

func TestHostPortDefaultPort(t *testing.T) {
	if got, _ := hostPort("web1", 2222); got != "web1:2222" {
		t.Errorf("got %q", got)
	}
}

func TestUserHostPort(t *testing.T) {
	for _, tt := range []struct{ in, user, addr string }{
		{"bastion", "root", "bastion:22"},
		{"deploy@bastion", "deploy", "bastion:22"},
		{"deploy@10.0.0.1:2200", "deploy", "10.0.0.1:2200"},
		{"deploy@[::1]:2200", "deploy", "[::1]:2200"},
	} {
		user, addr, err := userHostPort(tt.in, "root", 22)
		if err != nil || user != tt.user || addr != tt.addr {
			t.Errorf("userHostPort(%q) = %q, %q, %v; want %q, %q", tt.in, user, addr, err, tt.user, tt.addr)
		}
	}
	if _, _, err := userHostPort("@bastion", "root", 22); err == nil {
		t.Error("empty user accepted")
	}
}
