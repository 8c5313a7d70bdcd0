package drill

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/volumes"
)

func testConfig() *config.Config {
	return &config.Config{
		Service:     "shop",
		PrimaryRole: "web",
		Volumes:     []volumes.Mount{{Source: "shop_data", Target: "/data"}},
		Litestream: &config.Litestream{
			Image:        "litestream/litestream:0.5.18",
			Databases:    []string{"/data/app.sqlite3"},
			Replica:      config.LitestreamReplica{URL: "s3://bucket/shop", Endpoint: "http://s3:9000", ForcePathStyle: true},
			SyncInterval: 500 * time.Millisecond,
			HeartbeatURL: "https://hc-ping.com/secret-token",
		},
	}
}

func testPlan() plan {
	return plan{
		name:  "shop",
		files: files{dir: "/root/.ship/apps/shop/drill", log: "/root/.ship/apps/shop/drills.jsonl"},
		dbs: []database.DB{{Path: "/data/app.sqlite3", HostPath: "/var/lib/docker/volumes/shop_data/_data/app.sqlite3", Replica: "s3://bucket/shop/app.sqlite3",
			Litestream: "/data/app.sqlite3", Root: "/var/lib/docker/volumes/shop_data/_data", Rel: "app.sqlite3"}},
		accEnv: "/root/.ship/apps/shop/accessories/litestream/env",
		accessor: &spec.Container{
			Config: &container.Config{Image: "litestream/litestream:0.5.18"},
			Host:   &container.HostConfig{NetworkMode: "kamal", Binds: []string{"shop_data:/data", "/root/x/files/etc/litestream.yml:/etc/litestream.yml:ro"}},
		},
	}
}

// The config holds what the script needs, one value a line: never the
// ping URL (that is in its own file) nor any credential.
func TestRender(t *testing.T) {
	sched, _ := ParseSchedule("*/30 2 * * *")
	b, err := render(testConfig(), testPlan(), &sched)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"name shop\n", "log /root/.ship/apps/shop/drills.jsonl\n", "minutes 0,30\n", "hours 2\n", "any_day 1\n",
		"retry_wait 2\n", "image litestream/litestream:0.5.18\n",
		"run_arg --network\nrun_arg kamal\nrun_arg --env-file\nrun_arg /root/.ship/apps/shop/accessories/litestream/env\n",
		"run_arg -v\nrun_arg shop_data:/data:ro\nrun_arg -v\nrun_arg /root/x/files/etc/litestream.yml:/etc/litestream.yml:ro\n",
		"ltx 1\n",
		"db /data/app.sqlite3\t/data/app.sqlite3\t/var/lib/docker/volumes/shop_data/_data\t.\tapp.sqlite3\ts3://bucket/shop/app.sqlite3\ts3://bucket/shop/app.sqlite3?endpoint=http%3A%2F%2Fs3%3A9000&forcePathStyle=true\t/data\n",
		"heartbeat /root/.ship/apps/shop/drill/heartbeat.curl\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the drill config lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "secret-token") || strings.Contains(text, "failure") || strings.Contains(text, "boot") {
		t.Errorf("the drill config:\n%s", text)
	}
	if _, err := render(testConfig(), testPlan(), nil); err != nil {
		t.Errorf("a one-off drill's config: %v", err)
	}
	c := testConfig()
	c.Litestream.Drill = config.LitestreamDrill{Boot: true, Command: "bin/rails runner 'User.count'"}
	c.Roles = []*config.Role{{Name: "web", Healthcheck: config.Healthcheck{Path: "/up", Port: 3000}}}
	c.DeployTimeout = 30 * time.Second
	p := testPlan()
	b, err = render(c, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"boot 1\n", "boot_check /up\t3000\n", "boot_wait 30\n",
		"boot_command bin/rails\nboot_command runner\nboot_command User.count\n", "boot_filter label=service=shop\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the boot drill's config lacks %q:\n%s", want, b)
		}
	}
	if b, err := envFile([]string{"LITESTREAM_ACCESS_KEY_ID=k=ey \"x\"", "B=2"}); err != nil || string(b) != "LITESTREAM_ACCESS_KEY_ID=k=ey \"x\"\nB=2\n" {
		t.Errorf("the Litestream env file: %q %v", b, err)
	}
	if _, err := envFile([]string{"K=a\nb"}); err == nil {
		t.Error("a line break in an env value was passed to docker run --env-file")
	}
	p.dbs[0].Replica = "s3://a\nb"
	if _, err := render(testConfig(), p, nil); err == nil {
		t.Error("a line break in a value was passed to the host")
	}
}

// The script matches minutes as the Go schedule expanded them, in the
// host's local time, with cron's rule for day of month and day of week.
func TestScriptDue(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, tc := range []struct {
		spec string
		at   string
		due  bool
	}{
		{"* * * * *", "2026-12-06T09:31:00Z", true},
		{"*/15 * * * *", "2026-12-06T09:30:00Z", true},
		{"*/15 * * * *", "2026-12-06T09:31:00Z", false},
		{"daily", "2026-12-06T00:00:00Z", true},
		{"daily", "2026-12-06T01:00:00Z", false},
		{"hourly", "2026-12-06T07:00:00Z", true},
		{"0 9 * * 1-5", "2026-12-07T09:00:00Z", true},  // a Monday
		{"0 9 * * 1-5", "2026-12-06T09:00:00Z", false}, // a Sunday
		{"0 9 1 * 0", "2026-12-06T09:00:00Z", true},    // not the 1st, but a Sunday
		{"0 9 1 * 0", "2026-12-01T09:00:00Z", true},    // the 1st, a Tuesday
		{"0 9 1 * 0", "2026-12-02T09:00:00Z", false},
		{"0 9 * 6 *", "2026-12-06T09:00:00Z", false},
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		text, err := render(testConfig(), testPlan(), &s)
		if err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(t.TempDir(), "schedule.conf")
		os.WriteFile(conf, text, 0o600)
		at, _ := time.Parse(time.RFC3339, tc.at)
		cmd := exec.Command("bash", "-c", script(), "ship-drill", conf, "due", strconv.FormatInt(at.Unix(), 10))
		cmd.Env = append(os.Environ(), "TZ=UTC")
		err = cmd.Run()
		if got := err == nil; got != tc.due {
			t.Errorf("%q at %s: due %v, want %v (%v)", tc.spec, tc.at, got, tc.due, err)
		}
	}
}
