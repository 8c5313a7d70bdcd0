package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/proxy"
)

func TestProxyTargetNamesAsKamal(t *testing.T) {
	p := &config.Proxy{AppPort: 3000}
	r := &config.Role{Name: "web", Proxy: p}
	for _, tc := range []struct {
		dest, service, app string
	}{
		{"", "shop-web", "shop"},
		{"staging", "shop-web-staging", "shop-staging"},
	} {
		c := &config.Config{Service: "shop", Destination: tc.dest, DrainTimeout: 30 * time.Second}
		got := proxyTarget(c, r, "shop-web-v2", 8*time.Second)
		if got.Service != tc.service || got.App != tc.app || got.Role != "web" || got.Container != "shop-web-v2" || got.DeployTimeout != 8*time.Second || got.DrainTimeout != 30*time.Second {
			t.Errorf("destination %q: %+v", tc.dest, got)
		}
	}
}

// While requests are held, the new version's health wait is cut so that
// putting the old version back still ends before the pause runs out.
func TestHealthBudgetFitsThePause(t *testing.T) {
	c := &config.Config{DeployTimeout: 8 * time.Second}
	r := &config.Role{Name: "web", StopTimeout: 10 * time.Second, Proxy: &config.Proxy{}}
	s := &swap{cfg: c, unit: Unit{Role: r}}
	if got := s.healthBudget(); got != 8*time.Second {
		t.Errorf("not paused: budget %s, want deploy_timeout 8s", got)
	}
	maxPause := proxy.MaxPause(r.StopTimeout, c.DeployTimeout)
	reserve := r.StopTimeout + c.DeployTimeout + proxy.PauseMargin/2
	for _, tc := range []struct {
		name    string
		elapsed time.Duration // since the pause began
		want    time.Duration
	}{
		{"the old version stopped at once", 100 * time.Millisecond, 8 * time.Second},
		{"the old version took its whole stop_timeout", 10 * time.Second, 8 * time.Second},
		{"the stop ran 3 s over", maxPause - reserve - 5*time.Second, 5 * time.Second},
		{"no time left", maxPause, 0},
	} {
		s.pausedAt = time.Now().Add(-tc.elapsed)
		got := s.healthBudget()
		if d := got - tc.want; d > 50*time.Millisecond || d < -50*time.Millisecond {
			t.Errorf("%s: budget %s, want %s", tc.name, got, tc.want)
		}
		if end := tc.elapsed + got + reserve; got > 0 && end > maxPause {
			t.Errorf("%s: health wait and put-back end %s after the pause began, past max-pause %s", tc.name, end, maxPause)
		}
	}
}

// A redeploy does not boot kamal-proxy: where it is missing, the swap
// fails before the old version stops, not at the route after it.
func TestRedeployNeedsARunningProxy(t *testing.T) {
	c := swapConfig(t)
	r := c.Role("web")
	r.Proxy = &config.Proxy{AppPort: 3000}
	d := newFakeDocker()
	d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
	o, _ := runSwapWith(t, c, d, "v2", false, func(req *Request) { req.Redeploy = true })
	if o.Err == nil || !strings.Contains(o.Err.Error(), "kamal-proxy is not running on "+swapHost+", and redeploy does not boot it") {
		t.Fatalf("outcome %+v, want the missing kamal-proxy named", o)
	}
	if d.count("ContainerStop") != 0 || d.state("shop-web-v1") != "running" {
		t.Errorf("the old version was stopped:\n%s", d.log())
	}
}

// A redeploy prunes nothing; a deploy keeps retain_containers.
func TestRedeployKeepsOldContainers(t *testing.T) {
	for _, redeploy := range []bool{false, true} {
		c := swapConfig(t)
		c.RetainContainers = 1
		d := newFakeDocker()
		d.add("shop-web-v0", "exited", appLabels(c, "v0"), "shop_data:/data")
		d.add("shop-web-v1", "running", appLabels(c, "v1"), "shop_data:/data")
		o, _ := runSwapWith(t, c, d, "v2", false, func(req *Request) { req.Redeploy = redeploy })
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if kept := d.state("shop-web-v0") != ""; kept != redeploy {
			t.Errorf("redeploy %v: v0 kept = %v, want %v", redeploy, kept, redeploy)
		}
	}
}
