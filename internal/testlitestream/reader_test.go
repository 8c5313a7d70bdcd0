package testlitestream

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testproc"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// readerImage builds internal/reader into a FROM scratch image on the
// engine at dockerHost, tagged for this test only, and removes it when the
// test ends, after the containers that use it.
func readerImage(t *testing.T, cli *client.Client, dockerHost string) string {
	t.Helper()
	tag := unique("reader") + ":test"
	bin := testproc.GoBinary{
		Name:  "reader",
		Dir:   t.TempDir(),
		Build: testproc.GoBuild("github.com/shipdeploy/ship/internal/testlitestream/internal/reader", []string{"CGO_ENABLED=0"}, "-trimpath"),
	}
	files := func(bin string) []testengine.ContextFile {
		files := []testengine.ContextFile{{Name: "Dockerfile", Mode: 0o644, Data: "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/local/bin/reader\"]\n"}}
		return append(files, testengine.RootFS(bin, "reader")...)
	}
	testengine.Image(t, dockerHost, tag, bin, files)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
	})
	return tag
}

// seen is one line of the reader's output: what one read saw.
type seen struct {
	Time    int64  `json:"t"`
	Count   int64  `json:"count"`
	Max     int64  `json:"max"`
	Sum     int64  `json:"sum"`
	Counter int64  `json:"counter"`
	Journal string `json:"journal"`
	Check   string `json:"check"`
	Err     string `json:"err"`
}

// at is when the read was.
func (s seen) at() time.Time { return time.Unix(0, s.Time) }

// reader is a reader container: the volume mounted read-only at /replica,
// reading with dsn.
type reader struct {
	name string
	id   string
	cli  *client.Client
}

// startReader starts a reader container of img that mounts vol read-only
// at /replica and reads with dsn, persistent or fresh.
func startReader(t *testing.T, cli *client.Client, img, vol, name, dsn, conns string) reader {
	t.Helper()
	cfg := &container.Config{Image: img, Cmd: []string{dsn, conns}}
	hostCfg := &container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/replica", ReadOnly: true}}}
	return reader{name: name, cli: cli, id: testengine.StartContainer(t, cli, unique("reader-"+name), cfg, hostCfg)}
}

// lines is everything the reader has seen so far.
func (r reader) lines(t *testing.T) []seen {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []seen
	for _, l := range strings.Split(testengine.ContainerLogs(ctx, r.cli, r.id), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var s seen
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("reader %s printed %q, not a state: %v", r.name, l, err)
		}
		out = append(out, s)
	}
	return out
}

// last is the reader's newest line.
func (r reader) last(t *testing.T) (seen, bool) {
	t.Helper()
	ls := r.lines(t)
	if len(ls) == 0 {
		return seen{}, false
	}
	return ls[len(ls)-1], true
}
