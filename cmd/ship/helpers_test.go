package main

import (
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// The suite runs its tests one at a time, because most of them share the
// test hosts' singletons (a host's kamal-proxy, the deploy queue of a
// service, the engines' event streams). A few long ones that share
// nothing with each other call t.Parallel(): Go runs them together once
// every other test of the package has finished, four at a time in make
// test (-parallel 4; Go's default is the number of cores, two here), so
// the suite waits for the longest of them, not for their sum (CI's time
// limit). Each uses
// its own service, and at most one of them a host's kamal-proxy:
//
//   - TestDBDrillSchedule: h1, no kamal-proxy; mostly waits for the
//     scheduled minutes;
//   - TestHostileVolume: h1, no kamal-proxy;
//   - TestLitestreamSection, TestKamalLitestreamAccessory: h1, no
//     kamal-proxy, S3 servers of their own;
//   - TestReplicas: h1's kamal-proxy (which it removes first) and h2;
//   - TestKamalStyleLitestream03: h1, no kamal-proxy, an S3 server of its
//     own;
//   - TestGitHubAction, TestGitHubActionConcurrentRuns: h1, no
//     kamal-proxy, each its own service and fake GitHub;
//   - TestMakeRelease: no host.
//
// The last four come here mostly for a cold CI machine: they wait for
// the builds that prebuild starts beside the first tests (the release,
// Litestream 0.3), which at the end are done. A test joins this
// list only when it touches no singleton another member touches. It sets its app's apart, so that ship runs as a process
// of its own: an in-process run changes the test binary's directory.
func fingerprintOf(t *testing.T, authorizedKey []byte) string {
	t.Helper()
	key, _, _, _, err := gossh.ParseAuthorizedKey(authorizedKey)
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(key)
}
