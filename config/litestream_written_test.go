package config

import (
	"slices"
	"strings"
	"testing"
)

// writtenBase is a Rails 8 app with the Litestream accessory the Kamal
// guides describe.
const writtenBase = `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
volumes: ["shop_storage:/rails/storage"]
accessories:
  litestream:
    image: litestream/litestream:0.5.18
    host: 10.0.0.1
    files:
      - config/litestream.yml:/etc/litestream.yml
    volumes:
      - shop_storage:/rails/storage
    cmd: replicate
    env:
      clear:
        BUCKET: backups
      secret:
        - LITESTREAM_ACCESS_KEY_ID
        - LITESTREAM_SECRET_ACCESS_KEY
`

const writtenFile = `dbs:
  - path: /rails/storage/production.sqlite3
    replica:
      url: s3://$BUCKET/shop/production.sqlite3
      access-key-id: $LITESTREAM_ACCESS_KEY_ID
      secret-access-key: ${LITESTREAM_SECRET_ACCESS_KEY}
`

const writtenSecrets = "LITESTREAM_ACCESS_KEY_ID=key-id\nLITESTREAM_SECRET_ACCESS_KEY=very-secret\n"

func loadWritten(t *testing.T, deploy, litestream string) (*Config, error) {
	t.Helper()
	return load(t, write(t, map[string]string{
		"config/deploy.yml":     deploy,
		"config/litestream.yml": litestream,
		".ship/secrets":         writtenSecrets,
	}), Options{})
}

// The guide's accessory fills the model the litestream section does,
// marked as hand-written: ship db, restore points and rollback
// --restore-data work on its database, and ship generates nothing.
func TestWrittenLitestream(t *testing.T) {
	c, err := loadWritten(t, writtenBase, writtenFile)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Litestream
	if l == nil || l.Written == nil {
		t.Fatalf("litestream = %+v", l)
	}
	const db = "/rails/storage/production.sqlite3"
	w := l.Written
	if w.Accessory != "litestream" || w.File != "config/litestream.yml" || w.Config != "/etc/litestream.yml" || w.Host != "10.0.0.1" || w.Socket != "" {
		t.Errorf("written = %+v", w)
	}
	if !slices.Equal(l.Databases, []string{db}) || l.ReplicaURL(db) != "s3://backups/shop/production.sqlite3" || l.PathInLitestream(db) != db {
		t.Errorf("databases %v, replica %s", l.Databases, l.ReplicaURL(db))
	}
	if l.AccessoryName() != "litestream" || strings.Join(l.ConfigArgs(), " ") != "-config /etc/litestream.yml" || l.Version03() {
		t.Errorf("accessory %s, args %v", l.AccessoryName(), l.ConfigArgs())
	}
	if got := c.KnownDatabases("10.0.0.1", "web"); !slices.Equal(got, []string{db}) {
		t.Errorf("known databases = %v", got)
	}
	if len(c.Accessories) != 1 || len(c.Accessories[0].Files) != 1 || c.Accessories[0].Files[0].Content != nil {
		t.Errorf("ship changed the accessory: %+v", c.Accessories)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"read_from: 'accessories.litestream: config/litestream.yml'", "in_litestream: " + db, "replica: s3://backups/shop/production.sqlite3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ship config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "very-secret") {
		t.Errorf("ship config shows a credential:\n%s", out)
	}
}

// A database path in the accessory is mapped to the app through the
// volume both mount, wherever each mounts it.
func TestWrittenLitestreamMapsVolumes(t *testing.T) {
	for _, tc := range []struct {
		name, app, accessory, db, want string
	}{
		{"a named volume elsewhere", "shop_storage:/rails/storage", "shop_storage:/data", "/data/production.sqlite3", "/rails/storage/production.sqlite3"},
		{"the same host directory", "/var/lib/shop:/rails/storage", "/var/lib/shop:/data", "/data/db/production.sqlite3", "/rails/storage/db/production.sqlite3"},
		{"a host directory above the app's", "/var/lib/shop/storage:/rails/storage", "/var/lib/shop:/data", "/data/storage/production.sqlite3", "/rails/storage/production.sqlite3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deploy := strings.Replace(strings.Replace(writtenBase, `volumes: ["shop_storage:/rails/storage"]`, `volumes: ["`+tc.app+`"]`, 1),
				"      - shop_storage:/rails/storage", "      - "+tc.accessory, 1)
			c, err := loadWritten(t, deploy, strings.Replace(writtenFile, "/rails/storage/production.sqlite3", tc.db, 1))
			if err != nil {
				t.Fatal(err)
			}
			if l := c.Litestream; !slices.Equal(l.Databases, []string{tc.want}) || l.PathInLitestream(tc.want) != tc.db {
				t.Errorf("databases %v, in Litestream %s", l.Databases, l.PathInLitestream(tc.want))
			}
		})
	}
}

// Litestream reads its configuration from -config, else
// LITESTREAM_CONFIG, else /etc/litestream.yml: ship reads the file put
// there, and runs Litestream with the same flags.
func TestWrittenLitestreamConfigPath(t *testing.T) {
	for _, tc := range []struct {
		name, cmd, env, remote, want string
	}{
		{"-config", "replicate -config /config/ls.yml", "", "/config/ls.yml", "-config /config/ls.yml"},
		{"--config=", "replicate --config=/config/ls.yml -no-expand-env", "", "/config/ls.yml", "-config /config/ls.yml -no-expand-env"},
		{"LITESTREAM_CONFIG", "replicate", "        LITESTREAM_CONFIG: /config/ls.yml\n", "/config/ls.yml", "-config /config/ls.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deploy := strings.Replace(writtenBase, "cmd: replicate", "cmd: "+tc.cmd, 1)
			deploy = strings.Replace(deploy, "config/litestream.yml:/etc/litestream.yml", "config/litestream.yml:"+tc.remote, 1)
			deploy = strings.Replace(deploy, "        BUCKET: backups\n", "        BUCKET: backups\n"+tc.env, 1)
			c, err := loadWritten(t, deploy, writtenFile)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Litestream.ConfigArgs(), " "); got != tc.want {
				t.Errorf("args %q, want %q", got, tc.want)
			}
		})
	}
}

// What is not a hand-written Litestream accessory is left alone.
func TestWrittenLitestreamDetection(t *testing.T) {
	// Another image with a file at /etc/litestream.yml.
	c, err := loadWritten(t, strings.Replace(writtenBase, "litestream/litestream:0.5.18", "acme/backup:1", 1), writtenFile)
	if err != nil || c.Litestream != nil {
		t.Fatalf("another image: %v %+v", err, c)
	}
	// Litestream with its configuration elsewhere: ship says it cannot
	// read it, and works as before.
	c, err = loadWritten(t, strings.Replace(writtenBase, "config/litestream.yml:/etc/litestream.yml", "config/litestream.yml:/etc/other.yml", 1), writtenFile)
	if err != nil || c.Litestream != nil {
		t.Fatalf("configuration elsewhere: %v %+v", err, c)
	}
	if want := "accessories.litestream: ship db does not read this Litestream: none of its files is put at /etc/litestream.yml"; !strings.Contains(c.Warnings.Error(), want) {
		t.Errorf("warnings %v, want %q", c.Warnings, want)
	}
	// An ERB template, which ship cannot read as Litestream will.
	dir := write(t, map[string]string{
		"config/deploy.yml":         strings.Replace(writtenBase, "config/litestream.yml:", "config/litestream.yml.erb:", 1),
		"config/litestream.yml.erb": writtenFile,
		".ship/secrets":             writtenSecrets,
	})
	if c, err = load(t, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	if c.Litestream != nil || !strings.Contains(c.Warnings.Error(), "ship db does not read config/litestream.yml.erb: it is an ERB template") {
		t.Errorf("an ERB template: %+v %v", c.Litestream, c.Warnings)
	}
}

// Each mistake names its file and line, and what to do.
func TestWrittenLitestreamMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, deploy, file, want string
	}{
		{"a database on no shared volume", writtenBase, strings.Replace(writtenFile, "/rails/storage/production.sqlite3", "/tmp/production.sqlite3", 1),
			"litestream.yml:2:11: dbs: /tmp/production.sqlite3 is on no volume that accessories.litestream shares with the app"},
		{"a volume the app does not have", strings.Replace(writtenBase, "      - shop_storage:/rails/storage", "      - other:/rails/storage", 1), writtenFile,
			"(the app has: shop_storage:/rails/storage)"},
		{"the volume read-only", strings.Replace(writtenBase, "      - shop_storage:/rails/storage", "      - shop_storage:/rails/storage:ro", 1), writtenFile,
			"litestream.yml:2:11: dbs: /rails/storage/production.sqlite3 is on shop_storage, which accessories.litestream mounts read-only"},
		{"a variable not in the accessory's env", strings.Replace(writtenBase, "        BUCKET: backups\n", "        OTHER: x\n", 1), writtenFile,
			"litestream.yml:4:17: $BUCKET is not set in the env of accessories.litestream"},
		{"a replica type ship does not read", writtenBase, strings.Replace(writtenFile, "s3://$BUCKET", "abs://$BUCKET", 1),
			`litestream.yml:4:12: dbs[0].replica: replica type "abs"`},
		{"another host", strings.Replace(writtenBase, "    host: 10.0.0.1", "    host: 10.0.0.2", 1), writtenFile,
			"deploy.yml:7:3: accessories.litestream: runs on 10.0.0.2, but the app's database is on 10.0.0.1"},
		{"several primary hosts", strings.Replace(writtenBase, "web: [10.0.0.1]", "web: [10.0.0.1, 10.0.0.3]", 1), writtenFile,
			"accessories.litestream: the primary role web runs on 2 hosts"},
		{"a second Litestream accessory", writtenBase + "  backup:\n    image: litestream/litestream:0.5.18\n    host: 10.0.0.1\n    files: [config/litestream.yml:/etc/litestream.yml]\n", writtenFile,
			"accessories.backup: is a second Litestream accessory besides litestream"},
		// The litestream section and a hand-written accessory on one
		// volume stay refused: two replicators of one database.
		{"the section and the accessory", writtenBase + "litestream:\n  databases: [/rails/storage/production.sqlite3]\n  replica: {url: s3://b/shop}\n", writtenFile,
			"accessories.litestream: the litestream section runs an accessory named litestream already"},
		{"the section and the accessory by another name", strings.Replace(writtenBase, "  litestream:\n", "  backup:\n", 1) +
			"litestream:\n  databases: [/rails/storage/production.sqlite3]\n  replica: {url: s3://b/shop}\n", writtenFile,
			"accessories.backup: is a second Litestream on the volume shop_storage, which the litestream section already replicates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadWritten(t, tc.deploy, tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}
