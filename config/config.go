// Package config reads a Kamal 2 style config/deploy.yml, with its
// destination overlay and secrets, and reports every mistake at once with
// the file, line and column it is on.
package config

import (
	"net"
	"time"

	"github.com/shipdeploy/ship/volumes"
)

// Config is a validated deployment configuration.
type Config struct {
	Service     string            `yaml:"service"`
	Image       string            `yaml:"image"`
	Destination string            `yaml:"destination,omitempty"`
	Roles       []*Role           `yaml:"servers"`
	PrimaryRole string            `yaml:"primary_role"`
	Registry    Registry          `yaml:"registry,omitempty"`
	Env         Env               `yaml:"env,omitempty"`
	Volumes     []volumes.Mount   `yaml:"volumes,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Logging     Logging           `yaml:"logging,omitempty"`
	Proxy       *Proxy            `yaml:"proxy,omitempty"`
	ProxyRun    ProxyRun          `yaml:"proxy_run"`
	Healthcheck Healthcheck       `yaml:"healthcheck,omitempty"`
	Builder     Builder           `yaml:"builder,omitempty"`
	Accessories []*Accessory      `yaml:"accessories,omitempty"`
	Litestream  *Litestream       `yaml:"litestream,omitempty"`
	SSH         SSH               `yaml:"ssh"`
	Boot        Boot              `yaml:"boot,omitempty"`
	Aliases     map[string]string `yaml:"aliases,omitempty"`

	// Databases are the app's SQLite files (the databases key, a ship
	// extension), paths inside the app container; KnownDatabases adds
	// the litestream section's.
	Databases []string `yaml:"databases,omitempty"`

	RetainContainers int           `yaml:"retain_containers"`
	DeployTimeout    time.Duration `yaml:"deploy_timeout"`
	DrainTimeout     time.Duration `yaml:"drain_timeout"`
	StopTimeout      time.Duration `yaml:"stop_timeout"`
	ReadinessDelay   time.Duration `yaml:"readiness_delay"`
	HooksPath        string        `yaml:"hooks_path"`
	SecretsPath      string        `yaml:"secrets_path"`
	AssetPath        string        `yaml:"asset_path,omitempty"`
	ErrorPagesPath   string        `yaml:"error_pages_path,omitempty"`
	MinimumVersion   string        `yaml:"minimum_version,omitempty"`

	// Root is the project directory that relative paths start from.
	Root string `yaml:"-"`
	// Files are the configuration files read, base first.
	Files []string `yaml:"-"`
	// SecretsFiles are the secrets files that were found and read.
	SecretsFiles []string `yaml:"-"`
	// Warnings are things that work but deserve a look.
	Warnings Problems `yaml:"-"`

	// secrets are every value the secrets files set, used or not, and
	// secretNames their names in file order: for `ship secrets print`
	// only, so unexported (never printed with the config).
	secrets     Secrets
	secretNames []string
}

// Role is a group of hosts that run the app with the same command.
type Role struct {
	Name        string            `yaml:"name"`
	Hosts       []Host            `yaml:"hosts"`
	Cmd         string            `yaml:"cmd,omitempty"`
	Options     RunOptions        `yaml:"options,omitempty"`
	Env         Env               `yaml:"env,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Logging     *Logging          `yaml:"logging,omitempty"`
	Proxy       *Proxy            `yaml:"proxy,omitempty"` // nil: this role is not behind the proxy
	Healthcheck Healthcheck       `yaml:"healthcheck,omitempty"`
	StopTimeout time.Duration     `yaml:"stop_timeout,omitempty"`
	AssetPath   string            `yaml:"asset_path,omitempty"`
	// ReplicaOf names the role whose databases this role reads, as
	// read-only copies a Litestream follower keeps on each of its hosts
	// (a ship extension; docs/replicas.md). "" for an ordinary role.
	ReplicaOf string `yaml:"replica_of,omitempty"`
}

// IsReplica tells whether the role serves read-only copies of another
// role's databases.
func (r *Role) IsReplica() bool { return r.ReplicaOf != "" }

// Host is one server, as written in the config: a name or address with an
// optional ":port" (a ship extension), and Kamal tags.
type Host struct {
	Address string   `yaml:"address"`
	Tags    []string `yaml:"tags,omitempty"`
}

func (h Host) String() string { return h.Address }

// Hostname is the host's name or IP address, without the SSH port.
func (h Host) Hostname() string { return splitHost(h.Address) }

func splitHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// Env is the environment of a container.
type Env struct {
	Clear   map[string]string `yaml:"clear,omitempty"`
	Secrets []EnvSecret       `yaml:"secret,omitempty"`
	Tags    map[string]Env    `yaml:"tags,omitempty"`
}

// EnvSecret is an environment variable whose value comes from the secrets
// files: `NAME` or Kamal's `NAME:SECRET_KEY` form.
type EnvSecret struct {
	Name  string `yaml:"name"`
	Key   string `yaml:"key"`
	Value Secret `yaml:"value"`
}

// Registry is where images are pushed and pulled. Without a server, images
// go to Docker Hub; without a registry section at all, ship delivers images
// over SSH.
type Registry struct {
	Server   string `yaml:"server,omitempty"`
	Username string `yaml:"username,omitempty"`
	Password Secret `yaml:"password,omitempty"`

	// usernameSecret is set when the username came from the secrets
	// files: then ship config prints it redacted (MarshalYAML).
	usernameSecret bool
}

// Logging is the Docker log driver of a container.
type Logging struct {
	Driver  string            `yaml:"driver,omitempty"`
	Options map[string]string `yaml:"options,omitempty"`
}

// Proxy configures kamal-proxy for a role.
type Proxy struct {
	Hosts           []string          `yaml:"hosts,omitempty"`
	AppPort         int               `yaml:"app_port"`
	SSL             bool              `yaml:"ssl"`
	Certificate     *Certificate      `yaml:"certificate,omitempty"`
	SSLRedirect     bool              `yaml:"ssl_redirect"`
	ForwardHeaders  *bool             `yaml:"forward_headers,omitempty"`
	ResponseTimeout time.Duration     `yaml:"response_timeout"`
	PathPrefixes    []string          `yaml:"path_prefixes,omitempty"`
	StripPathPrefix *bool             `yaml:"strip_path_prefix,omitempty"`
	Healthcheck     ProxyHealthcheck  `yaml:"healthcheck"`
	Buffering       map[string]string `yaml:"buffering,omitempty"`
	RequestHeaders  []string          `yaml:"request_headers,omitempty"`
	ResponseHeaders []string          `yaml:"response_headers,omitempty"`
	// WriterAffinityTimeout is how long kamal-proxy sends a client's reads
	// to the writer after it wrote, when the service has read targets.
	WriterAffinityTimeout time.Duration `yaml:"writer_affinity_timeout,omitempty"`
	// writerAffinitySet says the config gave WriterAffinityTimeout, so
	// that an explicit 0 (no affinity) is not taken for unset.
	writerAffinitySet bool
}

// ProxyRun is how the kamal-proxy container runs on each host: Kamal's
// proxy.run keys, with Kamal's defaults.
type ProxyRun struct {
	Image       string   `yaml:"image"`
	HTTPPort    int      `yaml:"http_port"`
	HTTPSPort   int      `yaml:"https_port"`
	Publish     bool     `yaml:"publish"`
	BindIPs     []string `yaml:"bind_ips,omitempty"`
	LogMaxSize  string   `yaml:"log_max_size,omitempty"`
	MetricsPort int      `yaml:"metrics_port,omitempty"`
	Debug       bool     `yaml:"debug,omitempty"`
	// Options are more docker run options for the container, and Labels
	// its labels (options.label).
	Options RunOptions        `yaml:"options,omitempty"`
	Labels  map[string]string `yaml:"labels,omitempty"`
	// Configured is whether deploy.yml has proxy.run; without it, as in
	// Kamal, a host's boot config (ship proxy boot_config) says how
	// kamal-proxy runs there.
	Configured bool `yaml:"-"`
}

// Certificate is a custom TLS certificate and key, both taken from secrets.
type Certificate struct {
	CertificatePEM Secret `yaml:"certificate_pem"`
	PrivateKeyPEM  Secret `yaml:"private_key_pem"`
}

// ProxyHealthcheck is how kamal-proxy decides a new container is ready.
type ProxyHealthcheck struct {
	Path     string        `yaml:"path"`
	Interval time.Duration `yaml:"interval"`
	Timeout  time.Duration `yaml:"timeout"`
}

// Healthcheck is ship's own readiness check for roles without the proxy: an
// HTTP GET of Path on Port, made from the host.
type Healthcheck struct {
	Path     string        `yaml:"path,omitempty"`
	Port     int           `yaml:"port,omitempty"`
	Interval time.Duration `yaml:"interval,omitempty"`
	Timeout  time.Duration `yaml:"timeout,omitempty"`
}

// Builder says how to build the image.
type Builder struct {
	Arch       []string          `yaml:"arch,omitempty"`
	Context    string            `yaml:"context,omitempty"`
	Dockerfile string            `yaml:"dockerfile,omitempty"`
	Target     string            `yaml:"target,omitempty"`
	Args       map[string]string `yaml:"args,omitempty"`
	Secrets    []string          `yaml:"secrets,omitempty"`
	Remote     string            `yaml:"remote,omitempty"`
	Local      *bool             `yaml:"local,omitempty"`
	Cache      map[string]string `yaml:"cache,omitempty"`
	SSH        string            `yaml:"ssh,omitempty"`
	Driver     string            `yaml:"driver,omitempty"`
	Provenance string            `yaml:"provenance,omitempty"`
	SBOM       *bool             `yaml:"sbom,omitempty"`
	// Pack is set by a builder.pack section: a buildpacks build.
	Pack bool `yaml:"pack,omitempty"`
}

// SSH is how ship reaches the servers.
type SSH struct {
	User         string   `yaml:"user"`
	Port         int      `yaml:"port"`
	Proxy        string   `yaml:"proxy,omitempty"`
	ProxyCommand string   `yaml:"proxy_command,omitempty"`
	Keys         []string `yaml:"keys,omitempty"`
	KeyData      []Secret `yaml:"key_data,omitempty"`
	KeysOnly     bool     `yaml:"keys_only,omitempty"`
	KnownHosts   []string `yaml:"known_hosts,omitempty"`
	ForwardAgent bool     `yaml:"forward_agent,omitempty"`
	LogLevel     string   `yaml:"log_level,omitempty"`
}

// Boot bounds how many hosts are deployed at once.
type Boot struct {
	Limit         int           `yaml:"limit,omitempty"` // hosts at once; 0 means all
	LimitPercent  int           `yaml:"limit_percent,omitempty"`
	Wait          time.Duration `yaml:"wait,omitempty"`
	ParallelRoles bool          `yaml:"parallel_roles,omitempty"`
}

// Accessory is a long-running service beside the app, such as Litestream.
type Accessory struct {
	Name        string            `yaml:"name"`
	Service     string            `yaml:"service,omitempty"`
	Image       string            `yaml:"image"`
	Hosts       []string          `yaml:"hosts,omitempty"`
	Roles       []string          `yaml:"roles,omitempty"`
	Tags        []string          `yaml:"tags,omitempty"`
	Cmd         string            `yaml:"cmd,omitempty"`
	Port        string            `yaml:"port,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Options     RunOptions        `yaml:"options,omitempty"`
	Env         Env               `yaml:"env,omitempty"`
	Files       []File            `yaml:"files,omitempty"`
	Directories []File            `yaml:"directories,omitempty"`
	Volumes     []volumes.Mount   `yaml:"volumes,omitempty"`
	Network     string            `yaml:"network,omitempty"`
	Registry    *Registry         `yaml:"registry,omitempty"`
}

// File is a local file (or directory) placed on the host for an accessory.
type File struct {
	Local string `yaml:"local"`
	// Content, when set, is uploaded instead of the local file: ship
	// generates it (the Litestream configuration).
	Content []byte `yaml:"-"`
	Remote  string `yaml:"remote"`
	Mode    string `yaml:"mode,omitempty"`
	Owner   string `yaml:"owner,omitempty"`
	Options string `yaml:"options,omitempty"`
}

// Litestream is ship's first-class backup section: ship runs one Litestream
// accessory per service that replicates the listed databases.
type Litestream struct {
	Image        string             `yaml:"image"`
	Databases    []string           `yaml:"databases"`
	Replica      LitestreamReplica  `yaml:"replica"`
	Snapshot     LitestreamSnapshot `yaml:"snapshot,omitempty"`
	SyncInterval time.Duration      `yaml:"sync_interval,omitempty"`
	LagWarning   time.Duration      `yaml:"lag_warning"`
	// HeartbeatURL is pinged after each fire drill that passes, and
	// FailureURL, with the reason, after each that fails: the
	// healthchecks.io convention, so silence means trouble. Either may
	// hold a token: ship never prints them.
	HeartbeatURL string `yaml:"heartbeat_url,omitempty"`
	FailureURL   string `yaml:"failure_url,omitempty"`
	// Drill is what a fire drill does beyond restoring and checking.
	Drill LitestreamDrill `yaml:"drill,omitempty"`

	// Written, when set, says the model was read from a hand-written
	// Litestream accessory's litestream.yml rather than from the
	// litestream section: ship runs and restores through that accessory
	// as it is, and never generates or rewrites its configuration.
	Written *WrittenLitestream `yaml:"-"`
}

// WrittenLitestream is what ship read of a hand-written Litestream
// accessory (litestream_written.go).
type WrittenLitestream struct {
	Accessory string // its name under accessories
	File      string // its litestream.yml on this machine, as the files entry names it
	Config    string // where Litestream reads that file in its container
	NoExpand  bool   // its cmd has -no-expand-env: the file is read as written
	Host      string // the one host it runs on, the primary role's
	Socket    string // Litestream 0.5's control socket; "" when the file enables none
	DBs       []WrittenDB
}

// WrittenDB is one database of a hand-written litestream.yml.
type WrittenDB struct {
	Path       string // inside the app container
	Litestream string // inside the Litestream container, as the file has it
	Replica    string // where it is replicated, for messages
}

// LitestreamReplica is where the databases are replicated to.
type LitestreamReplica struct {
	URL            string `yaml:"url"`
	Endpoint       string `yaml:"endpoint,omitempty"`
	Region         string `yaml:"region,omitempty"`
	ForcePathStyle bool   `yaml:"force_path_style,omitempty"`
	// The credentials, as the variables Litestream reads them from.
	AccessKeyID     *EnvSecret `yaml:"access_key_id,omitempty"`
	SecretAccessKey *EnvSecret `yaml:"secret_access_key,omitempty"`
}

// LitestreamDrill says whether a fire drill also boots the running
// version's image on a scratch copy of the restored databases, and what it
// then runs in it.
type LitestreamDrill struct {
	Boot    bool   `yaml:"boot,omitempty"`
	Command string `yaml:"command,omitempty"` // split into words as a role's cmd and run in the booted container; non-zero fails the drill
}

// LitestreamSnapshot is how often full snapshots are taken and kept.
type LitestreamSnapshot struct {
	Interval  time.Duration `yaml:"interval,omitempty"`
	Retention time.Duration `yaml:"retention,omitempty"`
}

// ServiceAndDestination names one deployment of the service: SERVICE, or
// SERVICE-DESTINATION, as Kamal names it. The queue, the audit log, the
// env files and kamal-proxy's app all key on it.
func ServiceAndDestination(service, destination string) string {
	if destination == "" {
		return service
	}
	return service + "-" + destination
}

// ServiceAndDestination is the config's ServiceAndDestination.
func (c *Config) ServiceAndDestination() string {
	return ServiceAndDestination(c.Service, c.Destination)
}

// PrimaryHost is the first host of the primary role: where the deploy
// queue and the healthy-version records of the whole service live,
// whatever --hosts selects.
func (c *Config) PrimaryHost() string {
	if r := c.Role(c.PrimaryRole); r != nil && len(r.Hosts) > 0 {
		return r.Hosts[0].Address
	}
	return ""
}
