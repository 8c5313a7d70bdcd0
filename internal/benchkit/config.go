package benchkit

import (
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/internal/testhost"
)

// AppConfig is a config/deploy.yml for the example app as service (its
// image too), its web role on h, its database in volume, reached over SSH
// with h's key, trusting h's known hosts and knownHosts. roleKeys go right
// after the web role's hosts (four spaces in for its own keys, two for
// another role); topKeys at the top level.
func AppConfig(service string, h *testhost.Host, volume, roleKeys, topKeys string, knownHosts ...string) string {
	return fmt.Sprintf(`service: %[1]s
image: %[1]s
servers:
  web:
    hosts: [%[2]s]
%[3]svolumes:
  - %[4]s:/data
env:
  clear:
    DATABASE_PATH: /data/app.sqlite3
    PORT: 3000
  secret:
    - APP_SECRET
%[5]sstop_timeout: 10
ssh:
  keys_only: true
  keys: [%[6]s]
  known_hosts: [%[7]s]
`, service, h.Addr, roleKeys, volume, topKeys, h.KeyPath, strings.Join(append([]string{h.KnownHostsPath}, knownHosts...), ", "))
}
