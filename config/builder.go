package config

import "fmt"

// SkipBuild is how to deploy when ship build cannot build the image.
const SkipBuild = "build the image with docker and deploy with --skip-build"

// BuilderRefusal is one builder setting ship build refuses: it needs
// BuildKit or buildx, which ship does not drive.
type BuilderRefusal struct {
	Key    string // under builder, e.g. "remote"
	Reason string
}

func (r BuilderRefusal) Error() string { return "builder." + r.Key + ": " + r.Reason }

// Refusals are the builder settings ship build refuses, rather than
// building an image other than the one the config asks for. ship build
// stops at the first; the config reports them all, as warnings: a deploy
// with --skip-build of an image built elsewhere does not need them.
// Whether builder.arch matches the local engine is only known to ship build.
func (b Builder) Refusals() []BuilderRefusal {
	var out []BuilderRefusal
	add := func(key, format string, args ...any) {
		out = append(out, BuilderRefusal{key, fmt.Sprintf(format, args...)})
	}
	if b.Remote != "" {
		add("remote", "remote builders are not supported yet; build on a machine with Docker and deploy with --skip-build")
	} else if b.Local != nil && !*b.Local {
		add("local", "false asks for no local build, and ship builds only with the local Docker Engine; %s", SkipBuild)
	}
	if b.Pack {
		add("pack", "buildpacks builds need pack, which ship does not drive; build with pack and deploy with --skip-build")
	}
	if len(b.Secrets) > 0 {
		add("secrets", "build secrets need BuildKit, which ship does not drive yet; %s", SkipBuild)
	}
	if b.SSH != "" {
		add("ssh", "SSH forwarding into a build needs BuildKit, which ship does not drive yet; %s", SkipBuild)
	}
	if len(b.Cache) > 0 {
		add("cache", "cache export needs buildx, which ship does not drive yet; %s", SkipBuild)
	}
	// The docker driver is the local engine's own builder: the one ship uses.
	// Kamal's cloud builders (driver: cloud ORG/BUILDER) are buildx drivers.
	if b.Driver != "" && b.Driver != "docker" {
		add("driver", "%q needs buildx, which ship does not drive yet; %s", b.Driver, SkipBuild)
	}
	if b.Provenance != "" && b.Provenance != "false" {
		add("provenance", "attestations need BuildKit, which ship does not drive yet; %s", SkipBuild)
	}
	if b.SBOM != nil && *b.SBOM {
		add("sbom", "attestations need BuildKit, which ship does not drive yet; %s", SkipBuild)
	}
	return out
}
