package queue

import (
	"cmp"
	"fmt"
	"strings"
)

// Order places a deploy among the deploys from its source, so that the
// newest wins whatever order their requests reach the queue in: CI runners
// start seconds or minutes apart, so arrival says little about which
// commit is newer. Deploys from different sources are never compared;
// each source's newest runs, in arrival order.
//
// The zero Order is no source: such deploys are ordered by their arrival
// on the primary host's clock, as the queue always did.
type Order struct {
	// Source is where the deploy comes from. "github:OWNER/REPO/PATH" is a
	// GitHub Actions workflow, whose deploys Run orders; "git:BRANCH" is a
	// checkout of BRANCH ("git:HEAD" when detached), whose deploys the
	// ancestry of Commit orders.
	Source string `json:"source"`
	// Run is GITHUB_RUN_NUMBER: it grows with each run of the workflow,
	// in the order the runs were triggered.
	Run int64 `json:"run,omitempty"`
	// Attempt is GITHUB_RUN_ATTEMPT. Above 1, a person re-ran the run on
	// purpose: it deploys even over a newer run.
	Attempt int `json:"attempt,omitempty"`
	// Commit is the git commit of the version a checkout deploys.
	Commit string `json:"commit,omitempty"`
}

// GitHubSource is the Source of a GitHub Actions workflow's deploys.
func GitHubSource(workflow string) string { return "github:" + workflow }

// GitSource is the Source of the deploys from a checkout of branch.
func GitSource(branch string) string { return "git:" + branch }

// Rerun reports whether a person re-ran the GitHub Actions run.
func (o Order) Rerun() bool { return o.Attempt > 1 }

// String is the order for people: "run 63 of
// acme/shop/.github/workflows/deploy.yml", "run 60 (attempt 2) of …",
// "commit 4f9c2e1a8b3d on main"; "" without a source.
func (o Order) String() string {
	switch {
	case o.Run > 0:
		s := fmt.Sprintf("run %d", o.Run)
		if o.Rerun() {
			s += fmt.Sprintf(" (attempt %d)", o.Attempt)
		}
		return s + " of " + strings.TrimPrefix(o.Source, "github:")
	case o.Commit != "":
		return "commit " + short(o.Commit) + " on " + strings.TrimPrefix(o.Source, "git:")
	}
	return ""
}

// Name is a version with its place in the order, as a reason names it:
// "v63 (run 63)", "v2 (commit 4f9c2e1a8b3d)", or the version alone when it
// is the commit, or has no place.
func (o Order) Name(version string) string {
	switch {
	case o.Run > 0:
		return fmt.Sprintf("%s (run %d)", version, o.Run)
	case o.Commit != "" && !strings.HasPrefix(version, o.Commit):
		return fmt.Sprintf("%s (commit %s)", version, short(o.Commit))
	}
	return version
}

// Compare orders a and b from what they say alone: +1 when a is newer, -1
// when it is older, 0 when both hold the same place. It reports false when
// they cannot tell: different sources, no source, or two commits, which
// only git can order (the deployer's checkout does, holding the queue).
func (a Order) Compare(b Order) (int, bool) {
	switch {
	case a.Source == "" || a.Source != b.Source:
		return 0, false
	case a.Run > 0 && b.Run > 0:
		return cmp.Compare(a.Run, b.Run), true
	case a.Commit != "" && a.Commit == b.Commit:
		return 0, true
	}
	return 0, false
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
