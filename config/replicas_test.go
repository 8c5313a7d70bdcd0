package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replicaBase is the topology: web writes on 10.0.0.1 behind
// kamal-proxy and replicates with Litestream; replicas reads copies on
// two other hosts.
const replicaBase = `service: shop
image: acme/shop
volumes: ["shop_storage:/rails/storage"]
servers:
  web:
    hosts: [10.0.0.1]
  replicas:
    hosts: [10.0.0.2, 10.0.0.3]
    replica_of: web
proxy:
  host: shop.example.com
  app_port: 3000
litestream:
  databases: [/rails/storage/production.sqlite3]
  replica:
    url: s3://backups/shop
    access_key_id: S3_KEY
    secret_access_key: S3_SECRET
`

const replicaSecrets = "S3_KEY=key-id\nS3_SECRET=very-secret\n"

// withRole is replicaBase with one more role after replicas.
func withRole(role string) string {
	i := strings.Index(replicaBase, "proxy:")
	return replicaBase[:i] + role + replicaBase[i:]
}

func loadReplicas(t *testing.T, yml string) (*Config, string, error) {
	t.Helper()
	dir := write(t, map[string]string{"config/deploy.yml": yml, ".ship/secrets": replicaSecrets})
	c, err := load(t, dir, Options{})
	return c, filepath.Join(dir, "config/deploy.yml"), err
}

// A role with replica_of is a replica of that role, not behind a proxy
// of its own, and the writer's proxy gets kamal-proxy's writer affinity.
func TestReplicaRole(t *testing.T) {
	c, _, err := loadReplicas(t, replicaBase)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	r, web := c.Role("replicas"), c.Role("web")
	if !r.IsReplica() || r.ReplicaOf != "web" || web.IsReplica() {
		t.Errorf("replicas.ReplicaOf = %q, web.ReplicaOf = %q", r.ReplicaOf, web.ReplicaOf)
	}
	if r.Proxy != nil {
		t.Errorf("the replica role has a proxy of its own: %+v", r.Proxy)
	}
	if web.Proxy == nil || web.Proxy.WriterAffinityTimeout != time.Second || c.Proxy.WriterAffinityTimeout != time.Second {
		t.Errorf("writer affinity: web %+v, top-level %+v; want kamal-proxy's default, 1s", web.Proxy, c.Proxy)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replica_of: web", "writer_affinity_timeout: 1s"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ship config lacks %q:\n%s", want, out)
		}
	}
}

// writer_affinity_timeout is taken as written, 0 (no affinity) included,
// on the top-level proxy or the writer's own; without a replica role it
// stays unset, and setting it warns that it does nothing.
func TestWriterAffinityTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, yml string
		want      time.Duration
	}{
		{"top level", strings.Replace(replicaBase, "  app_port: 3000\n", "  app_port: 3000\n  writer_affinity_timeout: 250ms\n", 1), 250 * time.Millisecond},
		{"seconds", strings.Replace(replicaBase, "  app_port: 3000\n", "  app_port: 3000\n  writer_affinity_timeout: 3\n", 1), 3 * time.Second},
		{"zero turns it off", strings.Replace(replicaBase, "  app_port: 3000\n", "  app_port: 3000\n  writer_affinity_timeout: 0\n", 1), 0},
		{"the writer's own", strings.Replace(replicaBase, "    hosts: [10.0.0.1]\n", "    hosts: [10.0.0.1]\n    proxy:\n      writer_affinity_timeout: 2s\n", 1), 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := loadReplicas(t, tc.yml)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Role("web").Proxy.WriterAffinityTimeout; got != tc.want {
				t.Errorf("web's writer affinity = %v, want %v", got, tc.want)
			}
		})
	}

	noReplicas := strings.Replace(replicaBase, "    replica_of: web\n", "", 1)
	c, _, err := loadReplicas(t, noReplicas)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Role("web").Proxy.WriterAffinityTimeout; got != 0 || len(c.Warnings) > 0 {
		t.Errorf("without replicas: writer affinity %v, warnings %v; want unset, none", got, c.Warnings)
	}
	for _, tc := range []struct{ name, yml, want string }{
		{"top level", strings.Replace(noReplicas, "  app_port: 3000\n", "  app_port: 3000\n  writer_affinity_timeout: 2s\n", 1),
			"deploy.yml:12:28: proxy.writer_affinity_timeout: has no effect: no role is a replica (replica_of)"},
		{"a role's", strings.Replace(noReplicas, "    hosts: [10.0.0.1]\n", "    hosts: [10.0.0.1]\n    proxy:\n      writer_affinity_timeout: 2s\n", 1),
			"deploy.yml:8:32: servers.web.proxy.writer_affinity_timeout: has no effect: no role is a replica (replica_of)"},
	} {
		t.Run("unused "+tc.name, func(t *testing.T) {
			c, _, err := loadReplicas(t, tc.yml)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != 1 || !strings.HasSuffix(c.Warnings[0].File, "deploy.yml") || !strings.Contains(c.Warnings[0].String(), tc.want) {
				t.Errorf("warnings %v, want one containing %q", c.Warnings, tc.want)
			}
		})
	}
}

// Each mistake is reported at its line, saying what is wrong and what to
// write instead.
func TestReplicaMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, yml, want string
	}{
		{"an unknown role", strings.Replace(replicaBase, "replica_of: web", "replica_of: wbe", 1),
			`:9:17: servers.replicas.replica_of: role "wbe" is not defined in servers: name the role whose databases this role reads, such as web`},
		{"itself", strings.Replace(replicaBase, "replica_of: web", "replica_of: replicas", 1),
			":9:17: servers.replicas.replica_of: role replicas cannot be a replica of itself: name the role whose databases it reads, such as web"},
		{"a replica of a replica", withRole("  more:\n    hosts: [10.0.0.4]\n    replica_of: replicas\n"),
			":12:17: servers.more.replica_of: role replicas is a replica itself (of web): name the role that writes the databases, web"},
		{"a role that is not the primary role", strings.Replace(withRole("  job:\n    hosts: [10.0.0.5]\n    proxy: true\n"), "replica_of: web", "replica_of: job", 1),
			":9:17: servers.replicas.replica_of: role job is not the primary role: Litestream replicates the databases of the primary role (web) on its host, and replicas read copies of those. Name web here, or set primary_role: job"},
		{"the primary role as the replica", "primary_role: replicas\n" + strings.Replace(replicaBase, "[10.0.0.2, 10.0.0.3]", "[10.0.0.2]", 1),
			":10:17: servers.replicas.replica_of: role replicas is the primary role, whose host holds the databases Litestream replicates: a replica reads another role's. Set primary_role: web"},
		{"a writer without the proxy", replicaBase[:strings.Index(replicaBase, "proxy:")] + replicaBase[strings.Index(replicaBase, "litestream:"):],
			":9:17: servers.replicas.replica_of: role web is not behind kamal-proxy: its kamal-proxy sends reads to this role's containers as read targets. Add a top-level proxy section, or proxy: true on role web"},
		{"no Litestream", replicaBase[:strings.Index(replicaBase, "litestream:")],
			":9:17: servers.replicas.replica_of: needs Litestream: each replica host follows the databases of role web from their Litestream replica. Add a litestream section"},
		{"Litestream before follow mode", strings.Replace(replicaBase, "litestream:\n", "litestream:\n  image: litestream/litestream:0.5.10\n", 1),
			":14:10: litestream.image: litestream/litestream:0.5.10 has no follow mode (litestream restore -f), which replica roles need: it came in Litestream 0.5.16. Use litestream/litestream:0.5.18 or later"},
		{"Litestream 0.3", strings.Replace(replicaBase, "litestream:\n", "litestream:\n  image: litestream/litestream:0.3.13\n", 1),
			":14:10: litestream.image: litestream/litestream:0.3.13 has no follow mode"},
		{"a host name", strings.Replace(replicaBase, "[10.0.0.2, 10.0.0.3]", "[10.0.0.2, db3.example.com]", 1),
			":8:23: servers.replicas.hosts[1]: db3.example.com is not an IP address: the kamal-proxy of role web reaches this role's containers at HOSTIP:PORT"},
		{"a host name with tags and a port", strings.Replace(replicaBase, "[10.0.0.2, 10.0.0.3]", "[10.0.0.2, db3.example.com:2222: [eu]]", 1),
			":8:23: servers.replicas.hosts[1]: db3.example.com:2222 is not an IP address"},
		{"the writer's host", strings.Replace(replicaBase, "[10.0.0.2, 10.0.0.3]", "[10.0.0.1]", 1),
			":8:13: servers.replicas.hosts[0]: 10.0.0.1 is a host of role web too: a replica runs on other hosts than the role it reads, whose databases are on that host. Move it to a host of its own"},
		{"the writer's host on another SSH port", strings.Replace(replicaBase, "[10.0.0.2, 10.0.0.3]", "[10.0.0.2, \"10.0.0.1:2222\"]", 1),
			":8:23: servers.replicas.hosts[1]: 10.0.0.1:2222 is a host of role web too"},
		{"a proxy of its own", strings.Replace(replicaBase, "    replica_of: web\n", "    replica_of: web\n    proxy: true\n", 1),
			":10:5: servers.replicas.proxy: a replica role has no kamal-proxy route of its own: the kamal-proxy of role web sends reads to its containers as read targets. Remove proxy here"},
		{"proxy settings of its own", strings.Replace(replicaBase, "    replica_of: web\n", "    replica_of: web\n    proxy:\n      host: read.example.com\n", 1),
			":10:5: servers.replicas.proxy: a replica role has no kamal-proxy route of its own"},
		{"a negative writer affinity", strings.Replace(replicaBase, "  app_port: 3000\n", "  app_port: 3000\n  writer_affinity_timeout: -1s\n", 1),
			":13:28: proxy.writer_affinity_timeout: duration may not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, file, err := loadReplicas(t, tc.yml)
			if err == nil || !strings.Contains(err.Error(), file+tc.want) {
				t.Errorf("error:\n%v\nwant one containing:\n%s", err, file+tc.want)
			}
		})
	}
}

// A Litestream image whose tag names no release loads, with a warning
// that follow mode needs 0.5.16.
func TestReplicaLitestreamVersionUnknown(t *testing.T) {
	for _, image := range []string{"litestream/litestream:latest", "litestream/litestream@sha256:0123abc", "litestream/litestream:0.5"} {
		t.Run(image, func(t *testing.T) {
			c, file, err := loadReplicas(t, strings.Replace(replicaBase, "litestream:\n", "litestream:\n  image: "+image+"\n", 1))
			if err != nil {
				t.Fatal(err)
			}
			want := file + ":14:10: litestream.image: " + image + " names no Litestream version ship can check: replica roles need follow mode (litestream restore -f), which came in Litestream 0.5.16"
			if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0].String(), want) {
				t.Errorf("warnings %v, want one starting %q", c.Warnings, want)
			}
		})
	}
}

// A hand-written Litestream accessory is refused at replica_of: the
// followers are made from the litestream section's configuration.
func TestReplicaWrittenLitestream(t *testing.T) {
	deploy := strings.Replace(writtenBase, "  web: [10.0.0.1]\n", "  web: [10.0.0.1]\n  replicas:\n    hosts: [10.0.0.2]\n    replica_of: web\n", 1) + "proxy:\n  app_port: 3000\n"
	_, err := loadWritten(t, deploy, writtenFile)
	if want := "deploy.yml:7:17: servers.replicas.replica_of: needs the litestream section: replica hosts follow what ship's own Litestream configuration replicates, and the hand-written accessory litestream is not followed yet"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// A replica role mounts read-only copies, never the app's writable
// volumes: it may share a host with another role that does.
func TestReplicaBesideAWriterRole(t *testing.T) {
	yml := strings.Replace(replicaBase, "  replicas:\n", "  job:\n    hosts: [10.0.0.2]\n    cmd: bin/jobs\n  replicas:\n", 1)
	if _, _, err := loadReplicas(t, yml); err != nil {
		t.Errorf("a replica beside the job role is refused: %v", err)
	}
	// Two roles that both mount the app's volumes still are.
	twoWriters := strings.Replace(yml, "    replica_of: web\n", "", 1)
	if _, _, err := loadReplicas(t, twoWriters); err == nil || !strings.Contains(err.Error(), "roles job and replicas both run on 10.0.0.2") {
		t.Errorf("two writers on one host: %v", err)
	}
}

func TestImageFollows(t *testing.T) {
	for image, want := range map[string]followSupport{
		"litestream/litestream:0.5.16":             followYes,
		"litestream/litestream:0.5.18":             followYes,
		"litestream/litestream:v0.5.18":            followYes,
		"registry:5000/litestream/litestream:0.6":  followYes,
		"litestream/litestream:1":                  followYes,
		"litestream/litestream:0.5.18-amd64":       followYes,
		"litestream/litestream:0.5.18@sha256:0123": followYes,
		"litestream/litestream:0.5.15":             followNone,
		"litestream/litestream:0.5.0":              followNone,
		"litestream/litestream:0.4":                followNone,
		"litestream/litestream:0.3.13":             followNone,
		"litestream/litestream:0.5":                followUnknown,
		"litestream/litestream:0":                  followUnknown,
		"litestream/litestream:latest":             followUnknown,
		"litestream/litestream":                    followUnknown,
		"litestream/litestream@sha256:0123abc":     followUnknown,
		"litestream/litestream:0.5.18.1":           followUnknown,
	} {
		if got := imageFollows(image); got != want {
			t.Errorf("imageFollows(%q) = %v, want %v", image, got, want)
		}
	}
}
