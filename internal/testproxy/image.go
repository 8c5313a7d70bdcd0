package testproxy

import (
	"slices"

	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// dockerfile makes an image shaped like the real basecamp/kamal-proxy
// (Ubuntu-based): the binary on PATH, run as user kamal-proxy (1001, as
// useradd makes it after Ubuntu's own user 1000), whose home holds the
// state directory, which ship mounts a volume on. COPY sets owners to
// root, so the home is copied apart with --chown; /home exists by then,
// so only kamal-proxy's own directory is chowned. No CA certificates: the
// tests use no TLS.
const dockerfile = `FROM scratch
COPY rootfs/ /
COPY --chown=1001:1001 home/ /home/kamal-proxy/
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/kamal-proxy
EXPOSE 80 443
USER kamal-proxy:kamal-proxy
CMD ["kamal-proxy", "run"]
`

// proxyContext is the context of dockerfile. /tmp is where kamal-proxy
// puts its control socket (os.TempDir, unless XDG_RUNTIME_DIR is set).
func proxyContext(bin string) []testengine.ContextFile {
	return slices.Concat(
		[]testengine.ContextFile{{Name: "Dockerfile", Mode: 0o644, Data: dockerfile}},
		testengine.RootFS(bin, "kamal-proxy"),
		[]testengine.ContextFile{
			testengine.ContextDir("rootfs/etc/", 0o755),
			{Name: "rootfs/etc/passwd", Mode: 0o644, Data: "root:x:0:0:root:/root:/sbin/nologin\nkamal-proxy:x:1001:1001::/home/kamal-proxy:/sbin/nologin\n"},
			{Name: "rootfs/etc/group", Mode: 0o644, Data: "root:x:0:\nkamal-proxy:x:1001:\n"},
			testengine.ContextDir("rootfs/home/", 0o755),
			testengine.ContextDir("home/", 0o755),
			testengine.ContextDir("home/.config/", 0o755),
			testengine.ContextDir("home/.config/kamal-proxy/", 0o755),
		},
	)
}
