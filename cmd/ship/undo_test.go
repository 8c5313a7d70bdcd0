package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// dropValue is a migration at boot that drops the column the old version
// writes: on its schema, the old version's every write fails.
const dropValue = "ALTER TABLE records DROP COLUMN value"

// dataDoc is what deploy --json says of one host's data after a failed
// start (docs/json.md).
type dataDoc struct {
	Result string `json:"result"`
	Hosts  []struct {
		Result       string `json:"result"`
		Restored     bool   `json:"restored"`
		DataRestored bool   `json:"data_restored"`
		DataCheck    string `json:"data_check"`
		Databases    []struct {
			Database      string           `json:"database"`
			SchemaChanged bool             `json:"schema_changed"`
			SetAside      string           `json:"set_aside"`
			RowChanges    map[string]int64 `json:"row_changes"`
		} `json:"databases"`
		Error string `json:"error"`
	} `json:"hosts"`
}

// failedDeploy deploys version, which must fail and put the old version
// back, and returns the --json document and everything ship printed.
func failedDeploy(t *testing.T, a *app, version string) (dataDoc, string) {
	t.Helper()
	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", version, "--json")
	var doc dataDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitFailed || len(doc.Hosts) != 1 {
		t.Fatalf("deploy %s: exit %d, %v\n%s%s", version, code, err, out, errOut)
	}
	return doc, out + errOut
}

// failingImage builds a version of a's app with opts, and removes the app
// before the image when the test ends: a container holds its image.
func failingImage(t *testing.T, a *app, version string, opts testapp.ImageOptions) {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	testapp.Image(t, h1.DockerHost, "ship-it-"+a.service+":"+version, opts)
	t.Cleanup(func() { a.ship(t, "app", "remove", "--yes") })
}

// columns lists the columns of the records table.
func columns(t *testing.T, file string) string {
	t.Helper()
	return sqlite(t, file, "SELECT group_concat(name) FROM pragma_table_info('records')")
}

// The issue, end to end with a litestream section: v1 serves with rows; a
// release drops a column as it boots and then fails its health check.
// After the deploy: v1 serves and its writes work, the column and every
// row are back, the failed version's files are set aside with what it
// wrote, deploy --json and the audit log say so, and the replica follows
// the data put back.
func TestFailedStartThatMigratedTakesItsDataBack(t *testing.T) {
	a := newBackedUpApp(t, "migback")
	failingImage(t, a.app, "drop", testapp.ImageOptions{FailHealthcheck: true,
		MigrateAtBoot: dropValue + "; INSERT INTO records (version, created_at) VALUES ('drop', 'boot')"})
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "v1-row", 30)
	db := a.dbFile(t)

	doc, out := failedDeploy(t, a.app, "drop")
	if v := a.version(t); v != "v1" {
		t.Fatalf("after the failed deploy the app says %q, want v1\n%s", v, out)
	}
	// What the issue measured: every write to v1 failed here.
	a.write(t, "after", 3)
	if cols := columns(t, db); cols != "id,value,version,created_at" {
		t.Errorf("the records table has columns %s, want value back\n%s", cols, out)
	}
	if got := sqlite(t, db, "SELECT count(*), min(value), max(value) FROM records WHERE value LIKE 'v1-row-%'"); got != "30|v1-row-1|v1-row-9" {
		t.Errorf("v1's rows: %s, want all 30 with their values", got)
	}
	if got := sqlite(t, db, "SELECT count(*) FROM records"); got != "33" {
		t.Errorf("%s rows, want v1's 30 and the 3 written since", got)
	}

	asides, _ := filepath.Glob(db + ".failed-drop-*")
	if len(asides) != 1 {
		t.Fatalf("the failed version's files set aside: %v\n%s", asides, out)
	}
	kept := filepath.Join(asides[0], "app.sqlite3")
	if cols := columns(t, kept); strings.Contains(cols, "value") {
		t.Errorf("the files set aside are not the failed version's: columns %s", cols)
	}
	if got := sqlite(t, kept, "SELECT count(*) FROM records WHERE version = 'drop'"); got != "1" {
		t.Errorf("the files set aside hold %s rows the failed version wrote, want 1", got)
	}

	h := doc.Hosts[0]
	if doc.Result != "rolled_back" || h.Result != "failed" || !h.Restored || !h.DataRestored || h.DataCheck != "schema_changed" || len(h.Databases) != 1 {
		t.Fatalf("deploy --json: %+v", doc)
	}
	d := h.Databases[0]
	if d.Database != "/data/app.sqlite3" || !d.SchemaChanged || d.SetAside != asides[0] || d.RowChanges["records"] != 1 || len(d.RowChanges) != 1 {
		t.Errorf("deploy --json databases[0]: %+v, want the schema changed, set aside in %s, records +1", d, asides[0])
	}
	for _, want := range []string{
		"drop changed the schema of /data/app.sqlite3",
		"every database was put back as v1 left it",
		"migback-web-v1 is serving again",
		"drop wrote rows before it failed, which are now only in its files set aside, never deleted",
		"records +1 in " + kept,
	} {
		if !strings.Contains(h.Error, want) || !strings.Contains(out, want) {
			t.Errorf("the error and the output do not say %q:\n%s", want, out)
		}
	}
	if audit := a.mustShip(t, "audit"); !strings.Contains(audit, "deploy web v1 -> drop: failed: ") || !strings.Contains(audit, "so every database was put back as v1 left it") {
		t.Errorf("the audit log does not say the data was put back:\n%s", audit)
	}
	// Litestream was stopped around the replacement and replicates the
	// data put back.
	a.waitSynced(t)
	if out := a.mustShip(t, "db", "verify"); !strings.Contains(out, "row counts match") {
		t.Errorf("db verify after the put-back:\n%s", out)
	}
}

// With the databases key and no litestream section: a version that fails
// without changing the schema, after writing rows, keeps those rows. And
// before the key, ship said it could not check the schema.
func TestFailedStartWithoutSchemaChangeKeepsItsRows(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "keeprows", h1)
	failingImage(t, a, "writes", testapp.ImageOptions{FailHealthcheck: true,
		MigrateAtBoot: "INSERT INTO records (value, version, created_at) VALUES ('from-writes', 'writes', 'boot')"})
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	b := &backedUpApp{app: a, h1: h1}
	b.write(t, "v1-row", 10)

	// ship knows no databases yet: it says so.
	doc, out := failedDeploy(t, a, "bad")
	if h := doc.Hosts[0]; h.DataCheck != "not_checked" || h.DataRestored || !strings.Contains(h.Error, "ship could not check whether bad changed a database's schema") ||
		!strings.Contains(out, "list them under databases: in config/deploy.yml") {
		t.Errorf("without known databases: %+v\n%s", doc, out)
	}

	appendConfig(t, a, "databases: [/data/app.sqlite3]\n", "")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	doc, out = failedDeploy(t, a, "writes")
	h := doc.Hosts[0]
	if doc.Result != "rolled_back" || h.DataCheck != "schema_unchanged" || h.DataRestored || len(h.Databases) != 1 || h.Databases[0].SchemaChanged || h.Databases[0].SetAside != "" {
		t.Errorf("deploy --json: %+v\n%s", doc, out)
	}
	if !strings.Contains(out, "writes changed no database's schema, so the data stays as it left it") {
		t.Errorf("the output does not say the data stays:\n%s", out)
	}
	if v := a.version(t); v != "v2" {
		t.Fatalf("after the failed deploy the app says %q, want v2", v)
	}
	b.write(t, "after", 2)
	db := b.dbFile(t)
	if got := sqlite(t, db, "SELECT count(*), sum(value = 'from-writes') FROM records"); got != "13|1" {
		t.Errorf("rows: %s, want v1's 10, the failed version's 1 and 2 written since", got)
	}
	if asides, _ := filepath.Glob(db + ".*"); len(asides) != 0 {
		t.Errorf("files set aside without a schema change: %v", asides)
	}
}

// Rails 8's four databases (primary, cache, queue, cable), listed under
// databases: a release migrates only the primary, writes to the other
// three, and fails. All four go back together, from the one restore point.
func TestFailedStartPutsBackAllFourDatabases(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "fourdbs", h1)
	extras := []string{"cache", "queue", "cable"}
	var paths, attach []string
	for _, x := range extras {
		paths = append(paths, "/data/"+x+".sqlite3")
		attach = append(attach, fmt.Sprintf("ATTACH DATABASE '/data/%[1]s.sqlite3' AS %[1]s; INSERT INTO %[1]s.records (value, version, created_at) VALUES ('mig', 'mig', 'boot')", x))
	}
	cfgFile := filepath.Join(a.dir, "config/deploy.yml")
	cfg, _ := os.ReadFile(cfgFile)
	cfg = []byte(strings.Replace(string(cfg), "    PORT: 3000\n", "    PORT: 3000\n    EXTRA_DATABASES: "+strings.Join(paths, ",")+"\n", 1))
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	appendConfig(t, a, "databases: [/data/app.sqlite3, "+strings.Join(paths, ", ")+"]\n", "")
	failingImage(t, a, "mig", testapp.ImageOptions{FailHealthcheck: true,
		MigrateAtBoot: dropValue + "; " + strings.Join(attach, "; ")})
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	b := &backedUpApp{app: a, h1: h1}
	b.write(t, "v1-row", 5)
	for i, x := range extras {
		postTo(t, a.url(), x, "v1-"+x, 2+i)
	}

	doc, out := failedDeploy(t, a, "mig")
	if v := a.version(t); v != "v1" {
		t.Fatalf("the app says %q, want v1\n%s", v, out)
	}
	b.write(t, "after", 1)
	h := doc.Hosts[0]
	if !h.DataRestored || h.DataCheck != "schema_changed" || len(h.Databases) != 4 {
		t.Fatalf("deploy --json: %+v\n%s", doc, out)
	}
	primary := b.dbFile(t)
	dir := filepath.Dir(primary)
	if cols := columns(t, primary); cols != "id,value,version,created_at" {
		t.Errorf("primary columns %s", cols)
	}
	for i, x := range append([]string{"app"}, extras...) {
		d := h.Databases[i]
		file := filepath.Join(dir, x+".sqlite3")
		if d.Database != "/data/"+x+".sqlite3" || d.SchemaChanged != (x == "app") || !strings.HasPrefix(d.SetAside, file+".failed-mig-") {
			t.Errorf("deploy --json databases[%d]: %+v", i, d)
		}
		if x == "app" {
			continue
		}
		// As v1 left it at the quiet moment: its rows, not the failed
		// version's, which are set aside and counted.
		if got := sqlite(t, file, "SELECT count(*), sum(version = 'mig') FROM records"); got != fmt.Sprintf("%d|0", 2+i-1) {
			t.Errorf("%s: %s, want v1's %d rows and none of the failed version's", x, got, 2+i-1)
		}
		if got := sqlite(t, filepath.Join(d.SetAside, x+".sqlite3"), "SELECT count(*) FROM records WHERE version = 'mig'"); got != "1" {
			t.Errorf("%s set aside holds %s of the failed version's rows, want 1", x, got)
		}
		if d.RowChanges["records"] != 1 {
			t.Errorf("%s row changes %v, want records +1", x, d.RowChanges)
		}
	}
	for i, x := range extras {
		postTo(t, a.url(), x, "after-"+x, 1)
		if got := sqlite(t, filepath.Join(dir, x+".sqlite3"), "SELECT count(*) FROM records"); got != fmt.Sprint(2+i+1) {
			t.Errorf("%s has %s rows after one more write", x, got)
		}
	}
}

// postTo writes n records to the app's further database db (?db=NAME).
func postTo(t *testing.T, base, db, prefix string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		resp, err := http.PostForm(base+"/records?db="+db, url.Values{"value": {fmt.Sprintf("%s-%d", prefix, i)}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("write to %s: %s %s", db, resp.Status, body)
		}
	}
}

// Behind kamal-proxy, under a writer: a release that drops a column and
// fails its health check is taken back with its data, and not one request
// fails: the proxy holds them through the failed health check and the
// put-back, and v1 answers them on its own schema. (The failed version is
// never routed, so it answers none.)
func TestProxiedFailedMigrationTakesItsDataBack(t *testing.T) {
	a := proxiedApp(t, "heldmig", "", "", "v1")
	failingImage(t, a, "drop", testapp.ImageOptions{FailHealthcheck: true, MigrateAtBoot: dropValue})
	appendConfig(t, a, "databases: [/data/app.sqlite3]\n", "")
	base := "http://" + h2IP(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	writer := testapp.StartPatientWriter(t, base, 5*time.Millisecond, time.Minute)
	time.Sleep(300 * time.Millisecond)
	doc, out := failedDeploy(t, a, "drop")
	time.Sleep(300 * time.Millisecond) // writes after the swap, too
	acked, failed := writer.Stop()

	if failed != 0 {
		t.Errorf("%d writes failed through kamal-proxy", failed)
	}
	if len(acked) < 20 {
		t.Errorf("only %d writes were acknowledged: the writer did not really run", len(acked))
	}
	testapp.Durable(t, base, acked)
	if v := get(t, base+"/version"); v != "v1" {
		t.Errorf("after the failed deploy the app says %q, want v1\n%s", v, out)
	}
	if _, err := testapp.Post(&http.Client{Timeout: 10 * time.Second}, base, "after"); err != nil {
		t.Errorf("a write through v1 after the put-back: %v", err)
	}
	if h := doc.Hosts[0]; doc.Result != "rolled_back" || !h.Restored || !h.DataRestored || h.DataCheck != "schema_changed" {
		t.Errorf("deploy --json: %+v\n%s", doc, out)
	}
	if !strings.Contains(out, "kamal-proxy holds requests for heldmig-web") || !strings.Contains(out, "kamal-proxy released requests") {
		t.Errorf("the swap did not hold the requests in kamal-proxy:\n%s", out)
	}
}
