package spec

import (
	"fmt"
	"maps"
	"path"

	"github.com/docker/docker/api/types/container"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/runopts"
)

// Accessory builds an accessory's container. Files and directories live
// on the host under dir (AccessoryDir) and are bind-mounted where the
// config says.
func Accessory(c *config.Config, a *config.Accessory, dir string) (*Container, error) {
	name := AccessoryName(c, a)
	e := env{}
	merged := config.Env{}.Merge(a.Env)
	maps.Copy(e, merged.Clear)
	for _, s := range merged.Secrets {
		e[s.Name] = s.Value.Reveal()
	}
	var cmd []string
	if a.Cmd != "" {
		words, err := shellquote.Split(a.Cmd)
		if err != nil {
			return nil, fmt.Errorf("accessory %s: cmd %q: %w", a.Name, a.Cmd, err)
		}
		cmd = words
	}
	labels := map[string]string{}
	maps.Copy(labels, a.Labels)
	labels[LabelService] = name
	labels[LabelAccessory] = a.Name
	cc := &container.Config{Image: a.Image, Cmd: cmd, Env: e.list(), Labels: labels}
	network := Network
	if a.Network != "" {
		network = a.Network
	}
	hc := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		NetworkMode:   container.NetworkMode(network),
	}
	for _, f := range a.Files {
		hc.Binds = append(hc.Binds, bind(AccessoryFile(dir, f.Remote), f.Remote, f.Options))
	}
	for _, d := range a.Directories {
		hc.Binds = append(hc.Binds, bind(AccessoryDirectory(dir, d.Local), d.Remote, d.Options))
	}
	for _, v := range a.Volumes {
		hc.Binds = append(hc.Binds, v.String())
	}
	opts := a.Options
	if a.Port != "" {
		opts = append(opts, runopts.Option{Name: "publish", Values: []string{a.Port}})
	}
	if err := runopts.Apply(opts, cc, hc); err != nil {
		return nil, fmt.Errorf("accessory %s: %w", a.Name, err)
	}
	return &Container{Name: name, Config: cc, Host: hc, EnvFile: e.dotenv()}, nil
}

func bind(source, target, options string) string {
	if options == "" {
		return source + ":" + target
	}
	return source + ":" + target + ":" + options
}

// AccessoryFile is where an accessory's file is uploaded on the host.
func AccessoryFile(dir, remote string) string {
	return path.Join(dir, "files", remote)
}

// AccessoryDirectory is a directory's place on the host: as written when
// absolute, else under the accessory's own directory, as in Kamal.
func AccessoryDirectory(dir, local string) string {
	if path.IsAbs(local) {
		return local
	}
	return path.Join(dir, "directories", local)
}
