package spec

import (
	"path"

	"github.com/shipdeploy/ship/config"
)

// AppDir is where ship keeps a deployment's files on a host, under the
// login user's home: env files, healthy-version records, accessory files.
func AppDir(home string, c *config.Config) string {
	return path.Join(home, ".ship", "apps", c.ServiceAndDestination())
}

// EnvFile is where a role's env file lives on the host.
func EnvFile(home string, c *config.Config, role string) string {
	return path.Join(AppDir(home, c), "env", role+".env")
}

// AccessoryDir holds an accessory's env file, files and relative
// directories on the host.
func AccessoryDir(home string, c *config.Config, a *config.Accessory) string {
	return path.Join(AppDir(home, c), "accessories", a.Name)
}

// AccessoryEnvFile is where an accessory's env file lives on the host.
func AccessoryEnvFile(home string, c *config.Config, a *config.Accessory) string {
	return path.Join(AccessoryDir(home, c, a), "env")
}

// DrillDir holds the scheduled fire drill's config and ping files on the
// host.
func DrillDir(home string, c *config.Config) string {
	return path.Join(AppDir(home, c), "drill")
}

// DrillLog is the fire drills' log on the host: one JSON line per drill.
func DrillLog(home string, c *config.Config) string {
	return path.Join(AppDir(home, c), "drills.jsonl")
}
