// Package proxy runs kamal-proxy on a host and drives it: the container
// every proxied role shares, and the commands a swap needs (pause, deploy,
// resume). ship uses the real kamal-proxy, as Kamal does, so a host Kamal
// set up keeps its proxy.
package proxy

import (
	"fmt"
	"time"
)

// The kamal-proxy container, its network and its volumes: Kamal's names,
// so ship and Kamal find each other's proxy.
const (
	ContainerName = "kamal-proxy"
	Network       = "kamal"
	// StateVolume keeps kamal-proxy's routes across restarts.
	StateVolume = "kamal-proxy-config"
	stateDir    = "/home/kamal-proxy/.config/kamal-proxy"
	// appsVolume keeps the custom certificates ship installs.
	appsVolume = "kamal-proxy-apps-config"
	appsDir    = "/home/kamal-proxy/.apps-config"
)

// MaxPause is how long kamal-proxy holds a paused service's requests before
// it answers them 504. A swap's pause must end well before.
func MaxPause(stopTimeout, deployTimeout time.Duration) time.Duration {
	// Stop the old version, start the new one and wait for its health,
	// and, on failure, the same again to put the old one back; plus room
	// for the proxy's own commands.
	return 2*(stopTimeout+deployTimeout) + PauseMargin
}

// PauseMargin covers the proxy commands and the engine's own latency.
const PauseMargin = 10 * time.Second

// TLSPaths are where a role's custom certificate and key are inside the
// proxy container.
func TLSPaths(service, role string) (cert, key string) {
	dir := fmt.Sprintf("%s/%s/tls/%s", appsDir, service, role)
	return dir + "/cert.pem", dir + "/key.pem"
}
