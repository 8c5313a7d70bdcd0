package benchkit

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/proxy"
)

// Label marks what a bench creates that ship would name as it names
// anyone's (kamal-proxy's volumes): its value is the bench's name, so the
// bench removes only its own.
const Label = "ship.bench"

// ProxyVolumes are kamal-proxy's volumes.
var ProxyVolumes = []string{proxy.StateVolume, "kamal-proxy-apps-config"}

// EnsureProxyVolumes creates kamal-proxy's volumes on cli's engine,
// labelled Label=bench, where the engine has none.
func EnsureProxyVolumes(ctx context.Context, cli client.APIClient, bench string) error {
	for _, name := range ProxyVolumes {
		if _, err := cli.VolumeInspect(ctx, name); errdefs.IsNotFound(err) {
			if _, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: map[string]string{Label: bench}}); err != nil {
				return fmt.Errorf("create volume %s: %w", name, err)
			}
		} else if err != nil {
			return fmt.Errorf("inspect volume %s: %w", name, err)
		}
	}
	return nil
}

// OwnProxy reports whether the engine of host has a kamal-proxy
// container, and fails if it is not the bench's: the bench's publishes
// port, which no one else's does.
func OwnProxy(ctx context.Context, cli client.APIClient, host string, port int) (bool, error) {
	info, err := cli.ContainerInspect(ctx, proxy.ContainerName)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect %s: %w", proxy.ContainerName, err)
	}
	if info.HostConfig != nil {
		for _, binding := range info.HostConfig.PortBindings["80/tcp"] {
			if binding.HostPort == strconv.Itoa(port) {
				return true, nil
			}
		}
	}
	return false, fmt.Errorf("%s has a %s container the bench did not make (it does not publish port %d): remove it first", host, proxy.ContainerName, port)
}
