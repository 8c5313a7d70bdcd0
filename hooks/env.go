package hooks

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Env is what a hook is told about the command running it. Each field is
// set as a SHIP_ variable and, for hooks written for Kamal, as the KAMAL_
// variable Kamal sets; empty fields are left unset.
type Env struct {
	Service     string        // SHIP_SERVICE
	Version     string        // SHIP_VERSION; SHIP_SERVICE_VERSION is SERVICE@VERSION, abbreviated
	Destination string        // SHIP_DESTINATION
	Command     string        // SHIP_COMMAND, e.g. "deploy", "rollback", "app"
	Subcommand  string        // SHIP_SUBCOMMAND, e.g. "boot" for "app boot"
	Role        string        // SHIP_ROLE (KAMAL_ROLES): the roles the command is limited to, comma-separated
	Performer   string        // SHIP_PERFORMER
	Hosts       []string      // SHIP_HOSTS, comma-separated
	RecordedAt  time.Time     // SHIP_RECORDED_AT, RFC 3339 in UTC; zero means now
	Runtime     time.Duration // SHIP_RUNTIME in whole seconds, for post-* hooks

	// Secrets are set as they are named. Kamal gives them to pre-connect,
	// pre-deploy and post-deploy; the caller decides.
	Secrets map[string]string
}

// names are the variables Env sets, ship's name first, then Kamal's.
var names = [][2]string{
	{"SHIP_SERVICE", "KAMAL_SERVICE"},
	{"SHIP_VERSION", "KAMAL_VERSION"},
	{"SHIP_SERVICE_VERSION", "KAMAL_SERVICE_VERSION"},
	{"SHIP_DESTINATION", "KAMAL_DESTINATION"},
	{"SHIP_COMMAND", "KAMAL_COMMAND"},
	{"SHIP_SUBCOMMAND", "KAMAL_SUBCOMMAND"},
	{"SHIP_ROLE", "KAMAL_ROLES"},
	{"SHIP_PERFORMER", "KAMAL_PERFORMER"},
	{"SHIP_HOSTS", "KAMAL_HOSTS"},
	{"SHIP_RECORDED_AT", "KAMAL_RECORDED_AT"},
	{"SHIP_RUNTIME", "KAMAL_RUNTIME"},
}

// values are e's values, in the order of names.
func (e Env) values() []string {
	recorded := e.RecordedAt
	if recorded.IsZero() {
		recorded = time.Now()
	}
	var runtime string
	if e.Runtime > 0 {
		runtime = strconv.FormatInt(int64(e.Runtime.Round(time.Second)/time.Second), 10)
	}
	return []string{
		e.Service,
		e.Version,
		serviceVersion(e.Service, e.Version),
		e.Destination,
		e.Command,
		e.Subcommand,
		e.Role,
		e.Performer,
		strings.Join(e.Hosts, ","),
		recorded.UTC().Format(time.RFC3339),
		runtime,
	}
}

// serviceVersion is Kamal's SERVICE@VERSION, with a commit hash cut to 7
// characters but versions like "abc_uncommitted_123" kept whole.
func serviceVersion(service, version string) string {
	if version == "" {
		return service
	}
	if !strings.Contains(version, "_") && len(version) > 7 {
		version = version[:7]
	}
	return service + "@" + version
}

// environ is base, less any variable of names it already has, plus the
// secrets and e's variables.
func (e Env) environ(base []string) []string {
	own := make(map[string]bool)
	for _, n := range names {
		own[n[0]], own[n[1]] = true, true
	}
	var env []string
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !own[k] {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.Secrets)) {
		env = append(env, k+"="+e.Secrets[k])
	}
	for i, v := range e.values() {
		if v != "" {
			env = append(env, names[i][0]+"="+v, names[i][1]+"="+v)
		}
	}
	return env
}
