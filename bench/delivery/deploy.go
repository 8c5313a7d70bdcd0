package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testhost"
)

// rounds is how many deploys of each kind the table's medians are of.
const rounds = 9

// app is the example app's project, deployed to h2 with ship's own health
// check on a port published on h2's loopback, built with h1's engine.
type app struct{ *benchkit.Project }

const service = prefix + "app"

func newApp(ctx context.Context, tmp string, h1, h2 *testhost.Host) (*app, error) {
	bin, err := benchkit.BuildShip(ctx, tmp)
	if err != nil {
		return nil, err
	}
	a := &app{&benchkit.Project{Dir: filepath.Join(tmp, "project"), Service: service, Ship: bin, DockerHost: h1.DockerHost}}
	deployYML := benchkit.AppConfig(service, h2, strings.ReplaceAll(service, "-", "_")+"_data",
		"    options:\n      publish: 127.0.0.1:3989:3000\n", "healthcheck:\n  path: /up\n  port: 3000\n")
	err = a.Write(map[string]string{
		"config/deploy.yml": deployYML,
		".ship/secrets":     "APP_SECRET=bench-" + rand.Text() + "\n",
	})
	return a, err
}

// deploys times whole `ship deploy --skip-build`s of the app on h2, in
// alternation: a version whose image only the local engine has (a
// code-only change: ship sends the new layer), and a version whose image
// is on h2 already (sent beforehand, off the clock); and, as the floor of
// the difference between them, h2's engine loading such a layer alone.
func deploys(ctx context.Context, b *builder, h1, h2 *testhost.Host, local, remote client.APIClient, tmp string) error {
	a, err := newApp(ctx, tmp, h1, h2)
	if err != nil {
		return err
	}
	a.Run(ctx, "app", "remove", "--yes") // leftovers of an interrupted run
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if out, err := a.Run(ctx, "app", "remove", "--yes"); err != nil {
			fmt.Fprintf(os.Stderr, "bench/delivery: remove the app: %v\n%s", err, out)
		}
	}()
	if err := b.build(ctx, service+":d0"); err != nil {
		return err
	}
	if _, err := a.Run(ctx, "setup", "--skip-build", "--version", "d0"); err != nil {
		return err
	}
	direct, err := client.NewClientWithOpts(client.WithHost(h2.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer direct.Close()
	var changed, there, floor []time.Duration
	var sent string
	for i := 1; i <= rounds; i++ {
		v := fmt.Sprintf("c%d", i)
		if err := b.build(ctx, service+":"+v); err != nil {
			return err
		}
		start := time.Now()
		out, err := a.Run(ctx, "deploy", "--skip-build", "--version", v)
		if err != nil {
			return err
		}
		changed = append(changed, time.Since(start))
		for line := range strings.Lines(out) {
			if strings.Contains(line, "sent ") && strings.Contains(line, " layers") {
				sent = strings.TrimSpace(line)
			}
		}

		v = fmt.Sprintf("p%d", i)
		ref := service + ":" + v
		if err := b.build(ctx, ref); err != nil {
			return err
		}
		img, err := delivery.Open(ctx, local, ref)
		if err != nil {
			return err
		}
		_, err = img.Send(ctx, remote, nil)
		img.Close()
		if err != nil {
			return fmt.Errorf("put %s on %s: %w", ref, h2.Name, err)
		}
		start = time.Now()
		if out, err := a.Run(ctx, "deploy", "--skip-build", "--version", v); err != nil {
			return err
		} else if !strings.Contains(out, "is on the host") {
			return fmt.Errorf("deploy %s: the image was not on the host already:\n%s", v, out)
		}
		there = append(there, time.Since(start))

		// The floor: the host engine's load of such a layer alone.
		ref = fmt.Sprintf("%s:r%d", service, i)
		if err := b.build(ctx, ref); err != nil {
			return err
		}
		took, err := rawLoad(ctx, local, direct, ref)
		if err != nil {
			return err
		}
		floor = append(floor, took)
	}
	mc, mt, mf := benchkit.Median(changed), benchkit.Median(there), benchkit.Median(floor)
	fmt.Printf("ship deploy --skip-build of the app to %s, published port, ship's health check; median of %d each\n", h2.Name, rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "deploy\tmedian\tall")
	fmt.Fprintf(tw, "code-only change (%s)\t%s\t%s\n", sent, mc.Round(time.Millisecond), all(changed))
	fmt.Fprintf(tw, "image already on the host\t%s\t%s\n", mt.Round(time.Millisecond), all(there))
	fmt.Fprintf(tw, "the floor: docker load of such a layer alone, on %s's own socket (no ship, no SSH)\t%s\t%s\n", h2.Name, mf.Round(time.Millisecond), all(floor))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Printf("\ncode-only change / image on the host: %.2f; (image on the host + the floor) / image on the host: %.2f\n",
		mc.Seconds()/mt.Seconds(), (mt+mf).Seconds()/mt.Seconds())
	return nil
}

func all(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(10*time.Millisecond).String())
	}
	return strings.Join(out, " ")
}
