package spec

import (
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/volumes"
)

func TestFollowerName(t *testing.T) {
	one := &config.Config{Service: "shop", Litestream: &config.Litestream{Databases: []string{"/data/app.db"}}}
	if got := FollowerName(one, "/data/app.db"); got != "shop-follower" {
		t.Errorf("one database: %q, want shop-follower", got)
	}
	four := &config.Config{Service: "shop", Destination: "staging", Litestream: &config.Litestream{Databases: []string{
		"/rails/storage/production.sqlite3", "/rails/storage/production_cache.sqlite3"}}}
	if got := FollowerName(four, "/rails/storage/production_cache.sqlite3"); got != "shop-staging-follower-production_cache" {
		t.Errorf("several databases: %q", got)
	}
}

func TestReplicaVolume(t *testing.T) {
	c := &config.Config{Service: "shop"}
	if got := ReplicaVolume(c, volumes.Mount{Source: "shop_storage", Target: "/rails/storage"}); got != "shop-replica-shop_storage" {
		t.Errorf("named volume: %q", got)
	}
	if got := ReplicaVolume(c, volumes.Mount{Source: "/var/lib/shop/data", Target: "/data"}); got != "shop-replica-data" {
		t.Errorf("host directory: %q", got)
	}
}
