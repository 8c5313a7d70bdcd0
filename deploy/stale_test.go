package deploy

import "testing"

func TestPickStale(t *testing.T) {
	v3 := AppContainer{Name: "app-web-v3", Version: "v3", State: "exited"}
	v2 := AppContainer{Name: "app-web-v2", Version: "v2", State: "running"}
	v1 := AppContainer{Name: "app-web-v1", Version: "v1", State: "running"}
	v0 := AppContainer{Name: "app-web-v0", Version: "v0", State: "exited"}
	list := []AppContainer{v3, v2, v1, v0} // newest first
	for _, tc := range []struct {
		name, healthy string
		list          []AppContainer
		current       string
		others        []string
	}{
		{"the healthy version serves, though older", "v1", list, "v1", []string{"v2"}},
		{"no record: the newest running serves", "", list, "v2", []string{"v1"}},
		{"a healthy version that does not run is no help", "v3", list, "v2", []string{"v1"}},
		{"one running: nothing stale", "v2", []AppContainer{v3, v2, v0}, "v2", nil},
		{"none running", "v2", []AppContainer{v3, v0}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := pickStale(tc.list, tc.healthy)
			if st.Current.Version != tc.current {
				t.Errorf("current = %q, want %q", st.Current.Version, tc.current)
			}
			var others []string
			for _, o := range st.Others {
				others = append(others, o.Version)
			}
			if len(others) != len(tc.others) || (len(others) > 0 && others[0] != tc.others[0]) {
				t.Errorf("others = %q, want %q", others, tc.others)
			}
		})
	}
}
