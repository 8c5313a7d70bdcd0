package proxy

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shipdeploy/ship/config"
)

// Target is one kamal-proxy service and the container it should route to.
type Target struct {
	// Service is kamal-proxy's name for the role: SERVICE-ROLE[-DEST], as
	// Kamal names it.
	Service   string
	App       string // SERVICE[-DEST], the directory of the role's certificates
	Role      string
	Container string
	Proxy     *config.Proxy
	// DeployTimeout and DrainTimeout are the config's.
	DeployTimeout, DrainTimeout time.Duration
	// ErrorPages is the directory of the version's error pages inside the
	// proxy container (ErrorPagesDir), or "" for kamal-proxy's own.
	ErrorPages string
	// ReadTargets are the role's replicas, host:port each, that kamal-proxy
	// sends reads to (GET and HEAD, not a client's for the writer
	// affinity timeout after it wrote); none for a role without replicas.
	ReadTargets []string
}

// defaultLogRequestHeaders are Kamal's.
var defaultLogRequestHeaders = []string{"Cache-Control", "Last-Modified", "User-Agent"}

// DeployArgs is the kamal-proxy command that routes t.Service to
// t.Container, with the role's proxy settings, as Kamal renders them. No
// secret is among them: a custom certificate is passed as paths inside the
// proxy container.
func DeployArgs(t Target) []string {
	p := t.Proxy
	args := []string{"kamal-proxy", "deploy", t.Service,
		"--target=" + t.Container + ":" + strconv.Itoa(p.AppPort)}
	for _, h := range p.Hosts {
		args = append(args, "--host="+h)
	}
	if p.SSL {
		args = append(args, "--tls")
	}
	if p.Certificate != nil {
		cert, key := TLSPaths(t.App, t.Role)
		args = append(args, "--tls-certificate-path="+cert, "--tls-private-key-path="+key)
	}
	args = append(args,
		"--deploy-timeout="+seconds(t.DeployTimeout),
		"--drain-timeout="+seconds(t.DrainTimeout),
		"--health-check-interval="+seconds(p.Healthcheck.Interval),
		"--health-check-timeout="+seconds(p.Healthcheck.Timeout),
		"--health-check-path="+p.Healthcheck.Path,
		"--target-timeout="+seconds(p.ResponseTimeout),
	)
	// Kamal buffers requests and responses unless told not to.
	buffering := map[string]string{"requests": "true", "responses": "true"}
	for k, v := range p.Buffering {
		buffering[k] = v
	}
	args = append(args, "--buffer-requests="+buffering["requests"], "--buffer-responses="+buffering["responses"])
	for _, key := range []string{"memory", "max_request_body", "max_response_body"} {
		if v, ok := buffering[key]; ok {
			args = append(args, fmt.Sprintf("--%s=%s", map[string]string{
				"memory": "buffer-memory", "max_request_body": "max-request-body", "max_response_body": "max-response-body",
			}[key], v))
		}
	}
	for _, prefix := range p.PathPrefixes {
		args = append(args, "--path-prefix="+prefix)
	}
	if p.StripPathPrefix != nil {
		args = append(args, "--strip-path-prefix="+strconv.FormatBool(*p.StripPathPrefix))
	}
	if p.ForwardHeaders != nil {
		args = append(args, "--forward-headers="+strconv.FormatBool(*p.ForwardHeaders))
	}
	if p.SSL {
		args = append(args, "--tls-redirect="+strconv.FormatBool(p.SSLRedirect))
	}
	headers := p.RequestHeaders
	if headers == nil {
		headers = defaultLogRequestHeaders
	}
	for _, h := range headers {
		args = append(args, "--log-request-header="+h)
	}
	for _, h := range p.ResponseHeaders {
		args = append(args, "--log-response-header="+h)
	}
	if t.ErrorPages != "" {
		args = append(args, "--error-pages="+t.ErrorPages)
	}
	for _, r := range t.ReadTargets {
		args = append(args, "--read-target="+r)
	}
	if len(t.ReadTargets) > 0 {
		args = append(args, "--writer-affinity-timeout="+seconds(p.WriterAffinityTimeout))
	}
	return args
}

// PauseArgs pauses a service: in-flight requests drain, new ones wait
// until resume, for at most maxPause.
func PauseArgs(service string, drain, maxPause time.Duration) []string {
	return []string{"kamal-proxy", "pause", service, "--drain-timeout=" + seconds(drain), "--max-pause=" + seconds(maxPause)}
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// MaintenanceArgs puts a service in maintenance as Kamal's app maintenance
// does: kamal-proxy lets the requests in flight finish within drain, then
// answers every request 503 with message (its own text when "") until
// resume.
func MaintenanceArgs(service string, drain time.Duration, message string) []string {
	args := []string{"kamal-proxy", "stop", service, "--drain-timeout=" + seconds(drain)}
	if message != "" {
		args = append(args, "--message="+message)
	}
	return args
}

// LiveArgs ends a service's maintenance (or pause): Kamal's app live.
func LiveArgs(service string) []string {
	return []string{"kamal-proxy", "resume", service}
}
