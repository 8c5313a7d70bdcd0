package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/shipdeploy/ship/internal/benchkit"
)

// The hold against the database's size, in the same run (-sizes): one
// proxied service per size, each with its database listed under
// databases:, so every swap takes a restore point. Each database is grown
// to its size before setup, by sqlite3 on this machine writing into the
// volume's directory (h1's engine is this machine's), as a table of
// random 3.9 KB blobs beside the app's own; then the services' deploys
// alternate, each with one writer posting every 15 ms.

// sizeDeploys is how many swaps each size gets.
const sizeDeploys = 5

// sizedKeys route a size's service by its own host behind the bench's
// kamal-proxy, and list its database.
func sizedKeys(host string) string {
	return fmt.Sprintf(`proxy:
  app_port: 3000
  host: %s
  healthcheck:
    path: /up
  run:
    http_port: %d
    https_port: %d
    bind_ips: [127.0.0.1]
databases: [/data/app.sqlite3]
`, host, proxyHTTPPort, proxyHTTPSPort)
}

// parseSizes reads -sizes, megabytes separated by commas.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes %q: %q is not a whole number of megabytes (want e.g. 1,100,1000)", s, f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// sizedHost is the Host header of a size's service.
func sizedHost(mb int) string { return fmt.Sprintf("db-%d.bench-swap.test", mb) }

// sizedProjects writes a project per size into tmp.
func (b *bench) sizedProjects(tmp string, sizes []int) error {
	for _, mb := range sizes {
		p, err := b.project(tmp, fmt.Sprintf("db-%d", mb), "", sizedKeys(sizedHost(mb)))
		if err != nil {
			return err
		}
		p.url = fmt.Sprintf("http://127.0.0.1:%d", proxyHTTPPort)
		b.sized = append(b.sized, p)
	}
	return nil
}

// grow creates the project's volume and fills its database to mb
// MiB, returning the file's size.
func (b *bench) grow(ctx context.Context, p *project, mb int) (int64, error) {
	v, err := b.docker.VolumeCreate(ctx, volume.CreateOptions{Name: p.volumeName()})
	if err != nil {
		return 0, fmt.Errorf("create volume %s: %w", p.volumeName(), err)
	}
	path := filepath.Join(v.Mountpoint, "app.sqlite3")
	// A 3.9 KB blob fills about one 4 KB page.
	sql := fmt.Sprintf(`PRAGMA journal_mode=WAL;
CREATE TABLE padding (b BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
INSERT INTO padding SELECT randomblob(3900) FROM n;
PRAGMA wal_checkpoint(TRUNCATE);
`, mb*256)
	cmd := exec.CommandContext(ctx, "sqlite3", path)
	cmd.Stdin = strings.NewReader(sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("grow %s to %d MB with sqlite3: %w\n%s", path, mb, err, out)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// sizedRow is one size's swaps.
type sizedRow struct {
	mb    int
	bytes int64
	side  side
	holds []time.Duration // as ship reported them
}

// compareSizes sets a service up per size, then deploys them in turn,
// sizeDeploys times each, and prints the writers' stalls per size.
func (b *bench) compareSizes(ctx context.Context, sizes []int) error {
	if err := benchkit.EnsureProxyVolumes(ctx, b.docker, "swap"); err != nil {
		return err
	}
	rows := make([]sizedRow, len(sizes))
	for i, p := range b.sized {
		for v := 0; v <= sizeDeploys; v++ {
			if err := b.docker.ImageTag(ctx, prefix+"raw:b0", fmt.Sprintf("%s:b%d", p.Service, v)); err != nil {
				return fmt.Errorf("tag %s: %w", p.Service, err)
			}
		}
		start := time.Now()
		n, err := b.grow(ctx, p, sizes[i])
		if err != nil {
			return err
		}
		fmt.Printf("%s: database grown to %.0f MB in %s\n", p.Service, float64(n)/1e6, time.Since(start).Round(time.Millisecond))
		rows[i] = sizedRow{mb: sizes[i], bytes: n}
		if _, err := p.Run(ctx, "setup", "--skip-build", "--version", "b0"); err != nil {
			return err
		}
	}
	began := time.Now()
	loads := make([]*load, len(sizes))
	for i, mb := range sizes {
		sh := writer
		sh.host = sizedHost(mb)
		loads[i] = startLoad(b.sized[i].url, sh)
		defer loads[i].halt()
	}
	for _, l := range loads {
		if err := l.waitSuccessAfter(ctx, began, 30*time.Second); err != nil {
			return err
		}
	}
	time.Sleep(settle)
	released := regexp.MustCompile(`kamal-proxy released requests after (\d+)ms`)
	windows := make([][]window, len(sizes))
	for d := 1; d <= sizeDeploys; d++ {
		for i, p := range b.sized {
			v := fmt.Sprintf("b%d", d)
			w := window{start: time.Now()}
			var out string
			var err error
			if *trace {
				err = p.deployTraced(ctx, v)
			} else {
				out, err = p.Run(ctx, "deploy", "--skip-build", "--version", v)
			}
			w.end = time.Now()
			if err != nil {
				return err
			}
			if !*trace && !strings.Contains(out, "restore point") {
				return fmt.Errorf("%s deploy %s took no restore point:\n%s", p.Service, v, out)
			}
			if m := released.FindStringSubmatch(out); m != nil {
				n, _ := strconv.Atoi(m[1])
				rows[i].holds = append(rows[i].holds, time.Duration(n)*time.Millisecond)
			}
			windows[i] = append(windows[i], w)
			if err := loads[i].waitSuccessAfter(ctx, w.end, 30*time.Second); err != nil {
				return fmt.Errorf("after %s deploy %s: %w", p.Service, v, err)
			}
			time.Sleep(settle)
		}
	}
	for i, p := range b.sized {
		s, err := tally(ctx, p.Service, loads[i], p.url, sizedHost(sizes[i]), windows[i])
		if err != nil {
			return err
		}
		rows[i].side = s
	}
	return reportSizes(rows)
}

func reportSizes(rows []sizedRow) error {
	fmt.Printf("\nThe hold against the database's size, in the same run, %d ship deploys per size, alternating; one writer per service posting every %s:\n\n", sizeDeploys, writer.interval)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "database\tstall median (ms)\tstall max (ms)\tmedian − first row (ms)\tmax − first row (ms)\thold ship reported, median (ms)\twall median (ms)\tfailed\tlost acked writes")
	base := rows[0].side
	for _, r := range rows {
		s := r.side
		holds := "-"
		if len(r.holds) > 0 {
			holds = benchkit.MS(benchkit.Median(r.holds))
		}
		fmt.Fprintf(tw, "%d MiB (%.0f MB file)\t%s\t%s\t%+.0f\t%+.0f\t%s\t%s\t%d\t%d of %d\n", r.mb, float64(r.bytes)/1e6,
			benchkit.MS(benchkit.Median(s.stalls())), benchkit.MS(slices.Max(s.stalls())),
			float64(benchkit.Median(s.stalls())-benchkit.Median(base.stalls()))/float64(time.Millisecond),
			float64(slices.Max(s.stalls())-slices.Max(base.stalls()))/float64(time.Millisecond),
			holds, benchkit.MS(benchkit.Median(s.walls())), s.failed, s.missing, s.acked)
	}
	return tw.Flush()
}
