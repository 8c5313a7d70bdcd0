package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// accessoryConfig is a config with one accessory whose files and
// directories sections are given.
func accessoryConfig(sections string) string {
	return "service: app\nimage: acme/app\nservers: [10.0.0.1]\naccessories:\n  db:\n    image: busybox\n    host: 10.0.0.1\n" + sections
}

// Files go to DIR/files/REMOTE and relative directories to
// DIR/directories/LOCAL on the host: no path may lead out of the
// accessory's directory there, nor a relative local file out of the
// project here. Each is reported on its line.
func TestAccessoryPathsStayInPlace(t *testing.T) {
	for _, tc := range []struct{ name, sections, want string }{
		{"a remote file climbing out", "    files:\n      - app.conf:/../../../../etc/cron.d/x\n",
			`deploy.yml:9:9: accessories.db.files[0]: remote path "/../../../../etc/cron.d/x" may not contain ".."`},
		{"a remote file in a map", "    files:\n      - local: app.conf\n        remote: /etc/../../x\n",
			`deploy.yml:9:9: accessories.db.files[0]: remote path "/etc/../../x" may not contain ".."`},
		{"a remote file that is /", "    files:\n      - app.conf:/\n",
			`accessories.db.files[0]: remote path / names no file`},
		{"a relative directory climbing out", "    directories:\n      - ../../../../etc:/data\n",
			`deploy.yml:9:9: accessories.db.directories[0]: local directory "../../../../etc" may not contain ".."`},
		{"a relative directory climbing out in the middle", "    directories:\n      - data/../../x:/data\n",
			`local directory "data/../../x" may not contain ".."`},
		{"the host's root as directory", "    directories:\n      - /:/data\n",
			`accessories.db.directories[0]: local directory / is the host's root directory`},
		{"a directory's remote climbing", "    directories:\n      - data:/data/../..\n",
			`remote path "/data/../.." may not contain ".."`},
		{"a local file out of the project", "    files:\n      - ../secret.key:/etc/key\n",
			`deploy.yml:9:9: accessories.db.files[0]: local file "../secret.key" leads out of the project directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": accessoryConfig(tc.sections), "app.conf": "x\n"})
			// The file out of the project exists: it is refused for where it is.
			if err := os.WriteFile(filepath.Join(dir, "..", "secret.key"), []byte("key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := load(t, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// What Kamal accepts still loads: relative files in the project, absolute
// files anywhere on this machine (Kamal expands them as they are),
// absolute host directories, relative ones under the accessory's.
func TestAccessoryPathsKamalAccepts(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(outside, []byte("pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := write(t, map[string]string{
		"config/deploy.yml": accessoryConfig("    files:\n      - config/app.conf:/etc/app.conf\n      - " + outside + ":/etc/ca.pem:ro\n" +
			"    directories:\n      - data:/data\n      - /var/lib/db:/var/lib/db\n      - data/./x:/x\n"),
		"config/app.conf": "x\n",
	})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	files := c.Accessories[0].Files
	if len(files) != 2 || LocalPath(c.Root, files[1].Local) != outside || LocalPath(c.Root, files[0].Local) != filepath.Join(dir, "config/app.conf") {
		t.Errorf("files = %+v", files)
	}
}

// An accessory file's or directory's mode and owner reach chmod and chown
// on the host: they are octal and USER[:GROUP], never an option.
func TestAccessoryModeAndOwner(t *testing.T) {
	for _, tc := range []struct{ name, sections, want string }{
		{"an owner that is an option", "    directories:\n      - local: data\n        remote: /data\n        owner: --reference=/etc/shadow\n",
			`deploy.yml:9:9: accessories.db.directories[0]: owner "--reference=/etc/shadow" should be USER or USER:GROUP`},
		{"a group that is an option", "    files:\n      - local: app.conf\n        remote: /etc/app.conf\n        owner: app:-x\n",
			`accessories.db.files[0]: owner "app:-x" should be USER or USER:GROUP`},
		{"shell in an owner", "    files:\n      - {local: app.conf, remote: /etc/app.conf, owner: \"root;id\"}\n",
			`owner "root;id" should be`},
		{"a symbolic mode", "    files:\n      - {local: app.conf, remote: /etc/app.conf, mode: u+s}\n",
			`accessories.db.files[0]: mode "u+s" should be octal`},
		{"a mode with an 8", "    directories:\n      - {local: data, remote: /data, mode: \"0648\"}\n",
			`accessories.db.directories[0]: mode "0648" should be octal`},
		{"a mode too long", "    directories:\n      - {local: data, remote: /data, mode: \"07777\"}\n",
			`mode "07777" should be octal`},
		{"a mode that is an option", "    directories:\n      - {local: data, remote: /data, mode: -R}\n",
			`mode "-R" should be octal`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": accessoryConfig(tc.sections), "app.conf": "x\n"})
			_, err := load(t, dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	dir := write(t, map[string]string{"app.conf": "x\n", "config/deploy.yml": accessoryConfig("    files:\n" +
		"      - {local: app.conf, remote: /etc/a, mode: \"0644\", owner: www-data}\n" +
		"      - {local: app.conf, remote: /etc/b, mode: 600, owner: \"1000:1000\"}\n" +
		"    directories:\n" +
		"      - {local: data, remote: /data, mode: \"1777\", owner: \"deploy:_apt\"}\n" +
		"      - {local: data2, remote: /data2, mode: \"755\", owner: \"machine$\"}\n")})
	if _, err := load(t, dir, Options{}); err != nil {
		t.Errorf("usual modes and owners refused: %v", err)
	}
}

// A host directory volume's owner reaches the same chown.
func TestVolumeOwnerIsNoOption(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": "service: app\nimage: acme/app\nservers: [10.0.0.1]\n" +
		"volumes:\n  - {source: /srv/app, target: /data, owner: \"--reference=/etc/shadow\"}\n"})
	_, err := load(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `deploy.yml:5:5: volumes[0]: volume owner "--reference=/etc/shadow" should be USER or USER:GROUP`) {
		t.Errorf("error %v", err)
	}
}
