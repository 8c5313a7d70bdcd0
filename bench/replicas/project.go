package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// scenario is one of the two services: the same app and config, but for
// B's replica role.
type scenario struct {
	*benchkit.Project
	name     string // "A" or "B"
	replicas int    // replica hosts
	host     string // the Host header kamal-proxy routes it by
}

// volume is the app's data volume, on h1, and the follower's copy of it
// on h2 is SERVICE-replica-VOLUME (spec.ReplicaVolume).
func (s *scenario) volume() string { return strings.ReplaceAll(s.Service, "-", "_") + "_data" }

// deployYML is the scenario's config: the writer role web on h1 behind
// kamal-proxy (on the bench's ports, routed by the scenario's host),
// Litestream replicating to S3, and for B a role replicas on h2 with
// replica_of: web, as cmd/ship's TestReplicas has it.
func (s *scenario) deployYML(h1, h2 *testhost.Host, s3 *testlitestream.S3, syncInterval time.Duration) string {
	replicaRole := ""
	if s.replicas > 0 {
		replicaRole = fmt.Sprintf(`  replicas:
    hosts: [%s]
    replica_of: web
`, h2.Addr)
	}
	topKeys := fmt.Sprintf(`proxy:
  app_port: 3000
  host: %[1]s
  run:
    http_port: %[2]d
    https_port: %[3]d
    bind_ips: [127.0.0.1]
litestream:
  databases: [/data/app.sqlite3]
  replica:
    url: s3://%[4]s/%[5]s
    endpoint: %[6]s
    force_path_style: true
    access_key_id: S3_KEY
    secret_access_key: S3_SECRET
  sync_interval: %[7]s
`, s.host, proxyHTTPPort, proxyHTTPSPort, s3.Bucket, s.Service, s3.Endpoint, syncInterval)
	return benchkit.AppConfig(s.Service, h1, s.volume(), replicaRole, topKeys, h2.KnownHostsPath)
}

// cleanup removes what the bench makes, and an interrupted run's
// leftovers: the two apps with `ship remove --yes` (their containers,
// accessories, followers, gate and kamal-proxy, which then routes no
// app), then what ship keeps as data: the data volumes on h1, the
// followers' copies on h2, kamal-proxy's volumes where the bench created
// them, the images, and ship's files in the hosts' homes. A kamal-proxy on
// h1 that is not the bench's stops it before anything is touched.
func (b *bench) cleanup(ctx context.Context) error {
	// Not ctx: clean up after an interrupt too.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	if _, err := benchkit.OwnProxy(ctx, b.h1cli, b.h1.Name, proxyHTTPPort); err != nil {
		return err
	}
	var errs []error
	for _, s := range b.scenarios {
		if out, err := s.Run(ctx, "remove", "--yes"); err != nil {
			errs = append(errs, fmt.Errorf("%w\n%s", err, out))
		}
	}
	if _, err := b.h1cli.ContainerInspect(ctx, proxy.ContainerName); err == nil {
		// ship remove leaves kamal-proxy where it routes another app: a
		// run cut short between the two setups.
		if err := b.h1cli.ContainerRemove(ctx, proxy.ContainerName, container.RemoveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", proxy.ContainerName, err))
		}
	}
	for _, e := range []struct {
		host *testhost.Host
		cli  *client.Client
	}{{b.h1, b.h1cli}, {b.h2, b.h2cli}} {
		errs = append(errs, b.removeData(ctx, e.host, e.cli)...)
	}
	return errors.Join(errs...)
}

// removeData removes the bench's volumes, images and ship's files from
// host h.
func (b *bench) removeData(ctx context.Context, h *testhost.Host, cli *client.Client) []error {
	var errs []error
	vols, err := cli.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return append(errs, fmt.Errorf("list volumes on %s: %w", h.Name, err))
	}
	for _, v := range vols.Volumes {
		ours := v.Labels[benchkit.Label] == "replicas"
		for _, s := range b.scenarios {
			ours = ours || v.Name == s.volume() || strings.HasPrefix(v.Name, s.Service+"-replica-")
		}
		if ours {
			if err := cli.VolumeRemove(ctx, v.Name, true); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove volume %s on %s: %w", v.Name, h.Name, err))
			}
		}
	}
	images, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", prefix+"*"))})
	if err != nil {
		return append(errs, fmt.Errorf("list images on %s: %w", h.Name, err))
	}
	for _, img := range images {
		for _, ref := range img.RepoTags {
			if _, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove image %s on %s: %w", ref, h.Name, err))
			}
		}
	}
	// The hosts' SSH homes are directories of this machine.
	home := filepath.Join(testhost.Dir(), h.Name, "home", ".ship")
	for _, s := range b.scenarios {
		for _, p := range []string{"apps/" + s.Service, "audit/" + s.Service + ".log", "queue/" + s.Service} {
			if err := os.RemoveAll(filepath.Join(home, p)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// readTarget is B's replica container's address on h2, as kamal-proxy
// reads from it.
func (b *bench) readTarget(ctx context.Context, s *scenario) (string, error) {
	list, err := b.h2cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", spec.LabelService+"="+s.Service), filters.Arg("label", spec.LabelRole+"=replicas"))})
	if err != nil {
		return "", fmt.Errorf("list %s's replicas on %s: %w", s.Service, b.h2.Name, err)
	}
	for _, c := range list {
		for _, p := range c.Ports {
			if p.PrivatePort == 3000 && p.PublicPort != 0 {
				return fmt.Sprintf("http://%s:%d", p.IP, p.PublicPort), nil
			}
		}
	}
	return "", fmt.Errorf("no running replica of %s on %s publishes the app's port", s.Service, b.h2.Name)
}
