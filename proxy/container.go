package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/delivery"
	"github.com/shipdeploy/ship/runopts"
)

// LabelManaged marks a kamal-proxy container ship created.
const LabelManaged = "ship.proxy"

// Spec is the kamal-proxy container ship creates on a host that has none:
// Kamal's name, network, state volume and ports, so Kamal can drive it too,
// then proxy.run.options on top, as Kamal passes them last. Custom
// certificates live in a volume of their own, where Kamal keeps them in a
// host directory.
func Spec(run config.ProxyRun) (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	cmd := []string{"kamal-proxy", "run"}
	if run.Debug {
		cmd = append(cmd, "--debug")
	}
	cc := &container.Config{
		Image:        run.Image,
		Cmd:          cmd,
		Labels:       map[string]string{LabelManaged: "true"},
		ExposedPorts: nat.PortSet{"80/tcp": {}, "443/tcp": {}},
	}
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode(Network),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		Binds:         []string{StateVolume + ":" + stateDir, appsVolume + ":" + appsDir},
		PortBindings:  nat.PortMap{},
	}
	if run.LogMaxSize != "" {
		hc.LogConfig.Config = map[string]string{"max-size": run.LogMaxSize}
	}
	if run.MetricsPort != 0 {
		cc.Cmd = append(cc.Cmd, "--metrics-port="+strconv.Itoa(run.MetricsPort))
		cc.ExposedPorts[nat.Port(strconv.Itoa(run.MetricsPort)+"/tcp")] = struct{}{}
	}
	if run.Publish {
		ips := run.BindIPs
		if len(ips) == 0 {
			ips = []string{""}
		}
		for _, ip := range ips {
			hc.PortBindings["80/tcp"] = append(hc.PortBindings["80/tcp"], nat.PortBinding{HostIP: ip, HostPort: strconv.Itoa(run.HTTPPort)})
			hc.PortBindings["443/tcp"] = append(hc.PortBindings["443/tcp"], nat.PortBinding{HostIP: ip, HostPort: strconv.Itoa(run.HTTPSPort)})
		}
	}
	for k, v := range run.Labels {
		if k != LabelManaged {
			cc.Labels[k] = v
		}
	}
	if err := runopts.Apply(run.Options, cc, hc); err != nil {
		return nil, nil, nil, fmt.Errorf("proxy.run.options: %w", err)
	}
	return cc, hc, nil, nil
}

// RunSource says how to run the container on a host, when one is to be
// created: deploy.yml's proxy.run, or the host's boot config.
type RunSource func(ctx context.Context) (config.ProxyRun, error)

// Boot makes sure kamal-proxy runs on the host and answers commands. A
// kamal-proxy container that exists already, ship's or Kamal's, is used as
// it is (started if stopped): fighting it for ports 80 and 443 would take
// every app on the host offline. local, if set, can send the image when
// the host lacks it; otherwise the host pulls it.
func Boot(ctx context.Context, docker, local client.APIClient, run RunSource, out io.Writer) error {
	info, err := docker.ContainerInspect(ctx, ContainerName)
	switch {
	case err == nil && info.State.Running:
		if info.Config.Labels[LabelManaged] == "" {
			fmt.Fprintf(out, "using the kamal-proxy already on the host (%s)\n", info.Config.Image)
		}
		if settled(info.State.StartedAt, time.Now()) {
			return nil // it answers: asking costs a command's round trip
		}
	case err == nil:
		fmt.Fprintf(out, "starting %s\n", ContainerName)
		if err := docker.ContainerStart(ctx, ContainerName, container.StartOptions{}); err != nil {
			return fmt.Errorf("start %s: %w", ContainerName, err)
		}
	case errdefs.IsNotFound(err):
		r, err := run(ctx)
		if err != nil {
			return err
		}
		if err := create(ctx, docker, local, r, out); err != nil {
			return err
		}
	default:
		return fmt.Errorf("inspect %s: %w", ContainerName, err)
	}
	return waitReady(ctx, docker)
}

// Reboot replaces the kamal-proxy container with one made from run. Routes
// survive in the state volume; requests fail while it restarts.
func Reboot(ctx context.Context, docker, local client.APIClient, source RunSource, out io.Writer) error {
	// Read first: a boot config ship cannot use leaves the old proxy be.
	run, err := source(ctx)
	if err != nil {
		return err
	}
	if err := Remove(ctx, docker, out); err != nil {
		return err
	}
	if err := create(ctx, docker, local, run, out); err != nil {
		return err
	}
	return waitReady(ctx, docker)
}

func create(ctx context.Context, docker, local client.APIClient, run config.ProxyRun, out io.Writer) error {
	if err := delivery.Ensure(ctx, docker, local, run.Image, delivery.Credentials{}, out); err != nil {
		return err
	}
	if err := EnsureNetwork(ctx, docker); err != nil {
		return err
	}
	if run.Publish {
		for _, port := range []int{run.HTTPPort, run.HTTPSPort} {
			if err := portFree(ctx, docker, port); err != nil {
				return err
			}
		}
	}
	cc, hc, nc, err := Spec(run)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "booting %s (%s)\n", ContainerName, run.Image)
	if _, err := docker.ContainerCreate(ctx, cc, hc, nc, nil, ContainerName); err != nil {
		return fmt.Errorf("create %s: %w", ContainerName, err)
	}
	if err := docker.ContainerStart(ctx, ContainerName, container.StartOptions{}); err != nil {
		docker.ContainerRemove(context.WithoutCancel(ctx), ContainerName, container.RemoveOptions{})
		return fmt.Errorf("start %s: %w", ContainerName, err)
	}
	return nil
}

// portFree names the container that publishes port already, which the
// engine's own error would not.
func portFree(ctx context.Context, docker client.APIClient, port int) error {
	list, err := docker.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	for _, c := range list {
		for _, p := range c.Ports {
			if int(p.PublicPort) == port {
				return fmt.Errorf("port %d is published by container %s already: stop it, or set proxy.run.http_port/https_port", port, firstName(c.Names))
			}
		}
	}
	return nil
}

// settleTime is how long after it starts kamal-proxy surely answers.
const settleTime = 5 * time.Second

// settled reports whether a container started at startedAt (Docker's
// RFC 3339 time) has run for settleTime by now.
func settled(startedAt string, now time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, startedAt)
	return err == nil && now.Sub(t) >= settleTime
}

// waitReady waits until kamal-proxy answers on its control socket, which
// it opens after its HTTP listeners.
func waitReady(ctx context.Context, docker client.APIClient) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := Exec(ctx, docker, []string{"kamal-proxy", "list"})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not answer commands: %w", ContainerName, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Start starts the stopped kamal-proxy container.
func Start(ctx context.Context, docker client.APIClient, out io.Writer) error {
	fmt.Fprintf(out, "starting %s\n", ContainerName)
	if err := docker.ContainerStart(ctx, ContainerName, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", ContainerName, err)
	}
	return waitReady(ctx, docker)
}

// Stop stops kamal-proxy: every proxied app on the host stops answering.
func Stop(ctx context.Context, docker client.APIClient, out io.Writer) error {
	fmt.Fprintf(out, "stopping %s\n", ContainerName)
	if err := docker.ContainerStop(ctx, ContainerName, container.StopOptions{}); err != nil {
		return fmt.Errorf("stop %s: %w", ContainerName, err)
	}
	return nil
}

// Remove stops and removes the kamal-proxy container. Its volumes stay,
// with the routes and certificates a new one picks up.
func Remove(ctx context.Context, docker client.APIClient, out io.Writer) error {
	err := docker.ContainerRemove(ctx, ContainerName, container.RemoveOptions{Force: true})
	if errdefs.IsNotFound(err) {
		fmt.Fprintf(out, "%s is not on the host\n", ContainerName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", ContainerName, err)
	}
	fmt.Fprintf(out, "removed %s\n", ContainerName)
	return nil
}

// Details describes the kamal-proxy container and its routes.
func Details(ctx context.Context, docker client.APIClient, out io.Writer) error {
	info, err := docker.ContainerInspect(ctx, ContainerName)
	if errdefs.IsNotFound(err) {
		fmt.Fprintf(out, "%s is not booted\n", ContainerName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", ContainerName, err)
	}
	ports := ""
	for port, bs := range info.HostConfig.PortBindings {
		for _, b := range bs {
			ports += " " + net.JoinHostPort(b.HostIP, b.HostPort) + "->" + string(port)
		}
	}
	fmt.Fprintf(out, "%s %s %s since %s; ports:%s\n", ContainerName, info.Config.Image, info.State.Status, info.State.StartedAt, ports)
	if !info.State.Running {
		return nil
	}
	list, err := Exec(ctx, docker, []string{"kamal-proxy", "list"})
	if err != nil {
		return err
	}
	fmt.Fprint(out, list)
	return nil
}

// EnsureNetwork creates the network proxy and apps share.
func EnsureNetwork(ctx context.Context, docker client.APIClient) error {
	if _, err := docker.NetworkInspect(ctx, Network, network.InspectOptions{}); err == nil {
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect network %s: %w", Network, err)
	}
	_, err := docker.NetworkCreate(ctx, Network, network.CreateOptions{Driver: "bridge"})
	if err != nil && !errdefs.IsConflict(err) {
		return fmt.Errorf("create network %s: %w", Network, err)
	}
	return nil
}

// ErrNotRunning is a command for a host without a running kamal-proxy.
var ErrNotRunning = errors.New(ContainerName + " is not running on the host: run ship proxy boot")

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0][1:]
}
