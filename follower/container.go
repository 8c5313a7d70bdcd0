package follower

import (
	"slices"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
)

// LabelPrepare marks the one-off containers that prepare a copy, with the
// database they prepare: they are not the follower, but write its volume.
const LabelPrepare = "ship.follower.prepare"

// litestream is the Litestream accessory's container as the section
// builds it (spec.Accessory): image, environment with the replica's
// credentials, the generated litestream.yml bound where Litestream looks,
// the accessory's network and options.
type litestream struct {
	Config *container.Config
	Host   *container.HostConfig
	// AppBinds are its binds of the app's volumes, which a replica host's
	// containers never mount.
	AppBinds []string
}

// newLitestream keeps what a follower takes from accessory a's spec.
func newLitestream(a *config.Accessory, acc *spec.Container) litestream {
	l := litestream{Config: acc.Config, Host: acc.Host}
	for _, v := range a.Volumes {
		l.AppBinds = append(l.AppBinds, v.String())
	}
	return l
}

// run is a container of Litestream's image running cmd with the copy
// volume mounted writable where the app mounts the database's volume and
// none of the app's volumes: the accessory's environment (credentials
// travel in it, never in argv), litestream.yml and network.
func (l litestream) run(cp copyOf, cmd []string, labels map[string]string) (*container.Config, *container.HostConfig) {
	cc := *l.Config
	cc.Cmd = cmd
	cc.Env = slices.Clone(l.Config.Env)
	cc.Labels = labels
	cc.ExposedPorts = nil
	hc := *l.Host
	hc.PortBindings = nil
	hc.RestartPolicy = container.RestartPolicy{}
	hc.Binds = nil
	for _, b := range l.Host.Binds {
		if !slices.Contains(l.AppBinds, b) {
			hc.Binds = append(hc.Binds, b)
		}
	}
	hc.Binds = append(hc.Binds, cp.Mount.String())
	return &cc, &hc
}

// followerSpec is the follower of a copy: `litestream restore -f -o DB DB`,
// which resumes from DB-txid, restarted unless stopped, labelled with the
// database it follows and the service's labels.
func (l litestream) followerSpec(c *config.Config, cp copyOf) (*container.Config, *container.HostConfig) {
	labels := serviceLabels(c)
	labels[spec.LabelFollower] = cp.DB
	cc, hc := l.run(cp, []string{"restore", "-f", "-o", cp.DB, cp.DB}, labels)
	hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}
	return cc, hc
}

// oneOffSpec is a one-off litestream command on the copy, for preparing
// it.
func (l litestream) oneOffSpec(c *config.Config, cp copyOf, cmd []string) (*container.Config, *container.HostConfig) {
	labels := serviceLabels(c)
	labels[LabelPrepare] = cp.DB
	return l.run(cp, cmd, labels)
}

// serviceLabels are the labels of ship's containers of the service,
// without a role: no role's container list counts a follower.
func serviceLabels(c *config.Config) map[string]string {
	return map[string]string{spec.LabelService: c.Service, spec.LabelDestination: c.Destination}
}
