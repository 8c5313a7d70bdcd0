package proxy

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/runopts"
	"github.com/shipdeploy/ship/ssh"
)

// BootConfig is Kamal's kamal-proxy boot config on a host: the files
// `kamal proxy boot_config set` writes under ~/.kamal/proxy, which
// `kamal proxy boot` reads when deploy.yml has no proxy.run. A field is
// "" where its file is absent, which means Kamal's default.
type BootConfig struct {
	Options    string // docker run options, as one line
	Image      string // the image without its tag
	Version    string // the image's tag
	RunCommand string // the container's command
}

// The boot config's files in ~/.kamal/proxy, in BootConfig's order.
var bootConfigFiles = []string{"options", "image", "image_version", "run_command"}

// BootConfigDir is where the boot config's files are, from the SSH
// user's home: Kamal's run directory, .kamal, then proxy.
const BootConfigDir = ".kamal/proxy"

// Kamal's boot config defaults (Kamal::Configuration::Proxy::Boot and
// Run).
const (
	defaultBootImage   = "basecamp/kamal-proxy"
	defaultBootVersion = "v0.9.2"
	defaultHTTPPort    = 80
	defaultHTTPSPort   = 443
	defaultLogMaxSize  = "10m"
)

// defaultBootOptions is what Kamal boots with when no options file exists.
var defaultBootOptions = strings.Join(append(publishArgs(defaultHTTPPort, defaultHTTPSPort, nil), logArgs(defaultLogMaxSize)...), " ")

// files is the content of each file, "" for one to remove.
func (b BootConfig) files() []string {
	return []string{b.Options, b.Image, b.Version, b.RunCommand}
}

// String is what `kamal proxy boot_config get` prints for a host: the
// options, IMAGE:VERSION and the run command, each its default where
// unset.
func (b BootConfig) String() string {
	options, image, version := b.Options, b.Image, b.Version
	if options == "" {
		options = defaultBootOptions
	}
	if image == "" {
		image = defaultBootImage
	}
	if version == "" {
		version = defaultBootVersion
	}
	return options + " " + image + ":" + version + " " + b.RunCommand
}

// BootConfigFlags are the flags of `kamal proxy boot_config set`, with
// Kamal's defaults in NewBootConfigFlags.
type BootConfigFlags struct {
	Publish        bool
	PublishHostIPs []string
	HTTPPort       int
	HTTPSPort      int
	LogMaxSize     string
	Registry       string
	Repository     string // the image's namespace: basecamp, by default
	ImageVersion   string
	MetricsPort    int
	Debug          bool
	DockerOptions  []string // option=value, each passed as --option=value
}

// NewBootConfigFlags are Kamal's defaults for boot_config set.
func NewBootConfigFlags() BootConfigFlags {
	return BootConfigFlags{Publish: true, HTTPPort: defaultHTTPPort, HTTPSPort: defaultHTTPSPort, LogMaxSize: defaultLogMaxSize}
}

// NewBootConfig is the boot config `kamal proxy boot_config set` writes
// for f: what equals Kamal's default is left unset, so its file is
// removed. Every value is checked as boot will use it, so a config that
// is set boots.
func NewBootConfig(f BootConfigFlags) (BootConfig, error) {
	var b BootConfig
	for _, ip := range f.PublishHostIPs {
		if net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")) == nil {
			return b, fmt.Errorf("--publish-host-ip %q is not an IP address", ip)
		}
	}
	var opts []string
	if f.Publish {
		opts = append(opts, publishArgs(f.HTTPPort, f.HTTPSPort, f.PublishHostIPs)...)
	}
	opts = append(opts, logArgs(f.LogMaxSize)...)
	if f.MetricsPort != 0 {
		opts = append(opts, "--expose="+strconv.Itoa(f.MetricsPort))
	}
	for _, o := range f.DockerOptions {
		opts = append(opts, "--"+o)
	}
	if line := strings.Join(opts, " "); line != defaultBootOptions {
		b.Options = line
	}
	repository := f.Repository
	if repository == "" {
		repository = "basecamp"
	}
	image := repository + "/kamal-proxy"
	if f.Registry != "" {
		image = f.Registry + "/" + image
	}
	if image != defaultBootImage {
		b.Image = image
	}
	b.Version = f.ImageVersion
	var run []string
	if f.Debug {
		run = append(run, "--debug")
	}
	if f.MetricsPort != 0 {
		run = append(run, "--metrics-port", strconv.Quote(strconv.Itoa(f.MetricsPort)))
	}
	if len(run) > 0 {
		b.RunCommand = "kamal-proxy run " + strings.Join(run, " ")
	}
	if _, err := b.Run(); err != nil {
		return BootConfig{}, err
	}
	return b, nil
}

// publishArgs are Kamal's --publish arguments: IP:HOST:CONTAINER for each
// bind IP (IPv6 in brackets), or HOST:CONTAINER.
func publishArgs(http, https int, ips []string) []string {
	if len(ips) == 0 {
		ips = []string{""}
	}
	var args []string
	for _, ip := range ips {
		prefix := ""
		if ip != "" {
			if strings.Contains(ip, ":") && !strings.HasPrefix(ip, "[") {
				ip = "[" + ip + "]"
			}
			prefix = ip + ":"
		}
		args = append(args, "--publish", fmt.Sprintf("%s%d:%d", prefix, http, defaultHTTPPort),
			"--publish", fmt.Sprintf("%s%d:%d", prefix, https, defaultHTTPSPort))
	}
	return args
}

// logArgs are Kamal's logging arguments: none for an empty size.
func logArgs(maxSize string) []string {
	if maxSize == "" {
		return nil
	}
	return []string{"--log-opt", "max-size=" + maxSize}
}

// Run is how the boot config runs the kamal-proxy container, as
// proxy.run would say it: the files' docker run options (as xargs splits
// them), image and command. An option ship cannot map onto the Engine API
// is an error naming it.
func (b BootConfig) Run() (config.ProxyRun, error) {
	run := config.ProxyRun{HTTPPort: defaultHTTPPort, HTTPSPort: defaultHTTPSPort}
	image, version := b.Image, b.Version
	if image == "" {
		image = defaultBootImage
	}
	if version == "" {
		version = defaultBootVersion
	}
	run.Image = image + ":" + version
	line := b.Options
	if line == "" {
		line = defaultBootOptions
	}
	words, err := shellquote.Split(line)
	if err != nil {
		return run, fmt.Errorf("options %q: %w", line, err)
	}
	for i := 0; i < len(words); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(words[i], "-"), "=")
		if !strings.HasPrefix(words[i], "-") {
			return run, fmt.Errorf("options: %q is not an option", words[i])
		}
		if name == "p" {
			name = "publish"
		}
		switch {
		case hasValue:
		case slices.Contains(flagOptions, name):
			value = "true"
		case i+1 < len(words):
			i++
			value = words[i]
		default:
			return run, fmt.Errorf("options: --%s needs a value", name)
		}
		if err := addOption(&run, name, value); err != nil {
			return run, fmt.Errorf("options: --%s %s: %w", name, value, err)
		}
	}
	if err := b.runCommand(&run); err != nil {
		return run, err
	}
	return run, nil
}

// flagOptions are the docker run options that take no value.
var flagOptions = []string{"init", "read-only", "privileged"}

// addOption maps one docker run option onto run: the published ports 80
// and 443 and the log size where proxy.run has keys for them, every other
// option as proxy.run.options.
func addOption(run *config.ProxyRun, name, value string) error {
	switch name {
	case "publish":
		maps, err := nat.ParsePortSpec(value)
		if err != nil {
			return err
		}
		for _, m := range maps {
			port, _ := strconv.Atoi(m.Binding.HostPort)
			switch m.Port.Int() {
			case defaultHTTPPort:
				run.HTTPPort = port
			case defaultHTTPSPort:
				run.HTTPSPort = port
			default:
				return addRunOption(run, "publish", value)
			}
			run.Publish = true
			if ip := m.Binding.HostIP; ip != "" && !slices.Contains(run.BindIPs, ip) {
				run.BindIPs = append(run.BindIPs, ip)
			}
		}
		return nil
	case "log-opt":
		if size, ok := strings.CutPrefix(value, "max-size="); ok {
			run.LogMaxSize = size
			return nil
		}
	case "label", "l":
		k, v, _ := strings.Cut(value, "=")
		if k == "" {
			return errors.New("not a label: want key=value")
		}
		if run.Labels == nil {
			run.Labels = map[string]string{}
		}
		run.Labels[k] = v
		return nil
	case "expose":
		// The metrics port, which the run command passes too.
		if _, err := strconv.Atoi(value); err != nil {
			return errors.New("not a port")
		}
		return nil
	}
	return addRunOption(run, name, value)
}

// addRunOption adds one value of a docker run option to run.Options,
// checked as boot will apply it.
func addRunOption(run *config.ProxyRun, name, value string) error {
	if !slices.Contains(runopts.Known(), name) {
		return fmt.Errorf("ship cannot pass this option to the Engine API; it can: %s", strings.Join(runopts.Known(), ", "))
	}
	i := slices.IndexFunc(run.Options, func(o runopts.Option) bool { return o.Name == name })
	if i < 0 {
		run.Options = append(run.Options, runopts.Option{Name: name})
		i = len(run.Options) - 1
	}
	run.Options[i].Values = append(run.Options[i].Values, value)
	return runopts.Check(name, run.Options[i].Values)
}

// runCommand reads the run command into run: kamal-proxy run, with
// --debug and --metrics-port as Kamal writes them.
func (b BootConfig) runCommand(run *config.ProxyRun) error {
	if b.RunCommand == "" {
		return nil
	}
	words, err := shellquote.Split(b.RunCommand)
	if err != nil {
		return fmt.Errorf("run_command %q: %w", b.RunCommand, err)
	}
	if len(words) < 2 || words[0] != "kamal-proxy" || words[1] != "run" {
		return fmt.Errorf("run_command %q: want kamal-proxy run and its options", b.RunCommand)
	}
	for i := 2; i < len(words); i++ {
		name, value, hasValue := strings.Cut(words[i], "=")
		switch name {
		case "--debug":
			run.Debug = !hasValue || value == "true"
		case "--metrics-port":
			if !hasValue {
				if i+1 >= len(words) {
					return fmt.Errorf("run_command: --metrics-port needs a value")
				}
				i++
				value = words[i]
			}
			port, err := strconv.Atoi(value)
			if err != nil || port < 1 || port > 65535 {
				return fmt.Errorf("run_command: --metrics-port %q is not a port", value)
			}
			run.MetricsPort = port
		default:
			return fmt.Errorf("run_command: %s is not an option ship passes to kamal-proxy run", words[i])
		}
	}
	return nil
}

//go:embed bootconfig-read.sh
var bootConfigReadScript string

//go:embed bootconfig-write.sh
var bootConfigWriteScript string

// ReadBootConfig reads the boot config of the host whose SSH user's home
// is home; a host without one has the zero BootConfig, Kamal's defaults.
func ReadBootConfig(ctx context.Context, sh ssh.Runner, home string) (BootConfig, error) {
	dir := path.Join(home, BootConfigDir)
	var out bytes.Buffer
	cmd := ssh.Script(bootConfigReadScript, dir)
	cmd.Stdout = &out
	if err := sh.Run(ctx, cmd); err != nil {
		return BootConfig{}, fmt.Errorf("read the kamal-proxy boot config in %s: %w", dir, err)
	}
	b, err := parseBootConfig(out.String())
	if err != nil {
		return BootConfig{}, fmt.Errorf("read the kamal-proxy boot config in %s: %w", dir, err)
	}
	return b, nil
}

// parseBootConfig reads what bootconfig-read.sh prints.
func parseBootConfig(out string) (BootConfig, error) {
	records := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	if len(records) != len(bootConfigFiles) {
		return BootConfig{}, fmt.Errorf("got %d records, want %d", len(records), len(bootConfigFiles))
	}
	values := make([]string, len(records))
	for i, r := range records {
		switch {
		case r == "n":
		case strings.HasPrefix(r, "y"):
			values[i] = r[1:]
		default:
			return BootConfig{}, fmt.Errorf("record %q", r)
		}
	}
	return BootConfig{Options: values[0], Image: values[1], Version: values[2], RunCommand: values[3]}, nil
}

// WriteBootConfig writes the boot config of the host whose SSH user's
// home is home; the zero BootConfig removes it (boot_config reset).
func WriteBootConfig(ctx context.Context, sh ssh.Runner, home string, b BootConfig) error {
	dir := path.Join(home, BootConfigDir)
	if err := sh.Run(ctx, ssh.Script(bootConfigWriteScript, append([]string{dir}, b.files()...)...)); err != nil {
		return fmt.Errorf("write the kamal-proxy boot config in %s: %w", dir, err)
	}
	return nil
}

// BootConfigRun reads the boot config of the host whose SSH user's home
// is home, and says how it runs kamal-proxy: Kamal's defaults where it has
// none.
func BootConfigRun(ctx context.Context, sh ssh.Runner, home string) (config.ProxyRun, error) {
	b, err := ReadBootConfig(ctx, sh, home)
	if err != nil {
		return config.ProxyRun{}, err
	}
	r, err := b.Run()
	if err != nil {
		return config.ProxyRun{}, fmt.Errorf("the kamal-proxy boot config in ~/%s: %w; fix it with ship proxy boot_config set, or reset it", BootConfigDir, err)
	}
	return r, nil
}
