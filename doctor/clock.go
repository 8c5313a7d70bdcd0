package doctor

import (
	"context"
	_ "embed"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

//go:embed clock.sh
var clockScript string

// Clock skew limits: S3 refuses signed requests from a clock 15 minutes
// off, well before which ages and lags ship shows are already wrong.
const (
	skewWarn = 2 * time.Second
	skewFail = time.Minute
)

// clockChecks compares the host's clock with this machine's, halfway
// through the round trip that read it.
func clockChecks(ctx context.Context, t *Target) []Check {
	var out strings.Builder
	cmd := ssh.Script(clockScript)
	cmd.Stdout = &out
	before := t.Now()
	if err := t.Host.Shell.Run(ctx, cmd); err != nil {
		return []Check{fail("clock", t.exec("date"), "cannot read the host's clock: %v", err)}
	}
	after := t.Now()
	secs, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64)
	if err != nil {
		return []Check{fail("clock", t.exec("date +%s.%N"), "the host's clock reads %q, not seconds since the epoch", strings.TrimSpace(out.String()))}
	}
	whole, frac := math.Modf(secs)
	remote := time.Unix(int64(whole), int64(frac*1e9))
	local := before.Add(after.Sub(before) / 2)
	return []Check{clockSkew(t, remote.Sub(local), after.Sub(before)/2)}
}

// clockSkew judges a skew measured within ± margin.
func clockSkew(t *Target, skew, margin time.Duration) Check {
	const name = "clock"
	off := skew.Abs() - margin
	fix := "turn on time synchronisation on " + t.Host.Name + " and here: " + t.asRoot("timedatectl set-ntp true") + " (or install chrony)"
	way := "ahead of"
	if skew < 0 {
		way = "behind"
	}
	switch {
	case off > skewFail:
		return fail(name, fix, "the host's clock is %s %s this machine's: queue ages, replica lags and S3 requests go wrong", skew.Abs().Round(time.Millisecond), way)
	case off > skewWarn:
		return warn(name, fix, "the host's clock is %s %s this machine's", skew.Abs().Round(time.Millisecond), way)
	}
	return ok(name, "within %s of this machine's", (skew.Abs() + margin).Round(time.Millisecond))
}
