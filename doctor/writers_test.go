package doctor

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/volumes"
)

func TestKindOf(t *testing.T) {
	tg := target(t, "root")
	for name, want := range map[string]writerKind{
		"shop-web-v2":         appWriter,
		"shop-litestream":     litestreamWriter, // by its image
		"shop-debug":          strangerWriter,
		"shop-webhooks-v1":    strangerWriter, // another app's prefix, not web's
		"litestream-by-hand":  litestreamWriter,
		"sqlite-web-v1-shell": strangerWriter,
	} {
		image := "busybox"
		if strings.Contains(name, "litestream") {
			image = "litestream/litestream:0.5.18"
		}
		if got := tg.kindOf(name, image); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
}

func TestSingleWriter(t *testing.T) {
	tg := target(t, "root")
	v := volumes.Mount{Source: "shop_data", Target: "/data"}
	c := singleWriter(tg, v, volumeWriters{appWriter: {"shop-web-v2"}, litestreamWriter: {"shop-litestream"}})
	if c.State != OK || c.Message != "shop-web-v2 is the one writer of shop_data" {
		t.Errorf("one writer: %s", c)
	}
	c = singleWriter(tg, v, volumeWriters{appWriter: {"shop-web-v2"}, strangerWriter: {"shop-debug"}})
	if c.State != Fail || !strings.Contains(c.Message, "shop-debug, which ship did not start, has shop_data open for writing") ||
		c.Fix != "ship server exec -h h1 'docker stop shop-debug'" {
		t.Errorf("a stranger: %s", c)
	}
	c = singleWriter(tg, v, volumeWriters{appWriter: {"shop-web-v2", "shop-web-v1"}})
	if c.State != Fail || !strings.Contains(c.Message, "two versions of the app are running") || !strings.Contains(c.Fix, "stale_containers --stop") {
		t.Errorf("two versions: %s", c)
	}
	c = singleWriter(tg, v, volumeWriters{litestreamWriter: {"shop-litestream"}})
	if c.State != Fail || c.Fix != "ship app start -h h1" {
		t.Errorf("no app: %s", c)
	}
}
