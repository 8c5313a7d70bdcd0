// Package runopts maps the docker run options of a role or accessory onto the
// Engine API's container create fields, as docker run itself would.
package runopts

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/docker/docker/api/types/container"
)

// Option is one docker run flag with its values, in the order written.
type Option struct {
	Name   string
	Values []string
}

// setter applies one value of an option.
type setter func(v string, cc *container.Config, hc *container.HostConfig) error

type option struct {
	set setter
	// multi options may be given several times, like --add-host; the others
	// take exactly one value, because a list for --memory is a mistake, not a
	// request for the last one.
	multi bool
}

// options is the one list of what ship accepts: config validates with it.
var options = map[string]option{
	"add-host":     {set: addHost, multi: true},
	"publish":      {set: publish, multi: true},
	"memory":       {set: memory},
	"memory-swap":  {set: memorySwap},
	"shm-size":     {set: shmSize},
	"cpus":         {set: cpus},
	"ulimit":       {set: ulimit, multi: true},
	"cap-add":      {set: capAdd, multi: true},
	"cap-drop":     {set: capDrop, multi: true},
	"user":         {set: user},
	"init":         {set: initProcess},
	"network":      {set: network},
	"log-opt":      {set: logOpt, multi: true},
	"hostname":     {set: hostname},
	"workdir":      {set: workdir},
	"tmpfs":        {set: tmpfs, multi: true},
	"security-opt": {set: securityOpt, multi: true},
	"stop-signal":  {set: stopSignal},
	"read-only":    {set: readOnly},
	"pids-limit":   {set: pidsLimit},
	"sysctl":       {set: sysctl, multi: true},
	"device":       {set: device, multi: true},
	"privileged":   {set: privileged},
	"restart":      {set: restart},
}

// Known lists the options Apply maps, sorted.
func Known() []string {
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Check reports what Apply would say of one option, so a config is
// refused with the option's file and line before any host is touched.
func Check(name string, values []string) error {
	return Apply([]Option{{Name: name, Values: values}}, &container.Config{}, &container.HostConfig{})
}

// Apply maps docker run options onto the Engine API's container create fields.
// Options are applied in order on top of what cc and hc already hold; maps
// and lists are added to, not replaced. An option it does not know is an
// error, so that one config accepts is never silently dropped.
func Apply(opts []Option, cc *container.Config, hc *container.HostConfig) error {
	for _, o := range opts {
		opt, ok := options[o.Name]
		if !ok {
			return fmt.Errorf("option %s: not supported", o.Name)
		}
		if !opt.multi && len(o.Values) != 1 {
			return fmt.Errorf("option %s: takes one value, got %d", o.Name, len(o.Values))
		}
		for _, v := range o.Values {
			if err := opt.set(v, cc, hc); err != nil {
				return fmt.Errorf("option %s=%q: %w", o.Name, v, err)
			}
		}
	}
	return nil
}

func user(v string, cc *container.Config, _ *container.HostConfig) error {
	cc.User = v
	return nil
}

func hostname(v string, cc *container.Config, _ *container.HostConfig) error {
	cc.Hostname = v
	return nil
}

func workdir(v string, cc *container.Config, _ *container.HostConfig) error {
	cc.WorkingDir = v
	return nil
}

func stopSignal(v string, cc *container.Config, _ *container.HostConfig) error {
	cc.StopSignal = v
	return nil
}

func network(v string, _ *container.Config, hc *container.HostConfig) error {
	hc.NetworkMode = container.NetworkMode(v)
	return nil
}

func addHost(v string, _ *container.Config, hc *container.HostConfig) error {
	hc.ExtraHosts = append(hc.ExtraHosts, v)
	return nil
}

func capAdd(v string, _ *container.Config, hc *container.HostConfig) error {
	hc.CapAdd = append(hc.CapAdd, v)
	return nil
}

func capDrop(v string, _ *container.Config, hc *container.HostConfig) error {
	hc.CapDrop = append(hc.CapDrop, v)
	return nil
}

// initProcess sets a pointer: nil leaves the choice to the engine's default.
func initProcess(v string, _ *container.Config, hc *container.HostConfig) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	hc.Init = &b
	return nil
}

func readOnly(v string, _ *container.Config, hc *container.HostConfig) error {
	return setBool(v, &hc.ReadonlyRootfs)
}

func privileged(v string, _ *container.Config, hc *container.HostConfig) error {
	return setBool(v, &hc.Privileged)
}

func setBool(v string, field *bool) error {
	b, err := parseBool(v)
	if err != nil {
		return err
	}
	*field = b
	return nil
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("should be true or false")
	}
	return b, nil
}
