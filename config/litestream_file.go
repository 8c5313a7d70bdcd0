package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// litestreamFile is what ship reads of a hand-written litestream.yml:
// Litestream 0.3's format (a replicas list per database) or 0.5's (one
// replica), both read leniently, as Litestream reads them: keys ship has
// no use for are left to Litestream.
type litestreamFile struct {
	dbs          []fileDB
	socket       string        // 0.5's control socket; "" when disabled
	syncInterval time.Duration // the longest sync-interval of any replica
}

// fileDB is one entry of dbs.
type fileDB struct {
	path    string     // inside the Litestream container
	at      *yaml.Node // the path's value, for errors
	replica string     // where it is replicated, for messages
}

// replicaTypes are the replica types ship db works with, which the tests
// run against real servers.
var replicaTypes = []string{"s3", "file"}

// defaultSyncInterval is Litestream's, in both versions.
const defaultSyncInterval = time.Second

// defaultSocket is where Litestream 0.5 listens when socket.enabled is
// set without a path.
const defaultSocket = "/var/run/litestream.sock"

// litestreamVersion is which Litestream reads a file, as its image's tag
// says.
type litestreamVersion int

const (
	versionUnknown litestreamVersion = iota // latest, a digest: either format is taken
	version03                               // reads replicas:, ignores replica:
	version05                               // 0.5 and later: one replica per database
)

func (v litestreamVersion) String() string {
	switch v {
	case version03:
		return "0.3"
	case version05:
		return "0.5"
	}
	return "unknown"
}

// imageVersion is the Litestream version of an image, from its tag.
func imageVersion(image string) litestreamVersion {
	name, _, _ := strings.Cut(path.Base(image), "@") // a digest names no version
	_, tag, _ := strings.Cut(name, ":")
	tag = strings.TrimPrefix(tag, "v")
	switch {
	case strings.HasPrefix(tag, "0.3"):
		return version03
	case tag != "" && tag[0] >= '0' && tag[0] <= '9':
		return version05
	}
	return versionUnknown
}

// litestreamFile reads src, the litestream.yml at file, as that version
// of Litestream reads it. Unless noExpand, ${VAR} and $VAR are expanded
// first, over the whole text, as Litestream does it (os.Expand), from env:
// the accessory's environment, never ship's own. A variable env lacks is
// an error where a value uses it: Litestream would read "" there.
func (d *decoder) litestreamFile(file, accessory string, src []byte, env map[string]string, noExpand bool, version litestreamVersion) *litestreamFile {
	text := string(src)
	var unset []unsetVar
	if !noExpand {
		text, unset = expandLines(text, func(name string) (string, bool) {
			if name == "PID" && version != version03 {
				return "", true // 0.5 puts its process id there
			}
			v, ok := env[name]
			return v, ok
		})
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(strings.NewReader(text)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		p := yamlProblem(file, err)
		d.problems = append(d.problems, p)
		return nil
	}
	if len(doc.Content) == 0 {
		d.problems = append(d.problems, Problem{File: file, Line: 1, Column: 1, Message: "the file is empty: list the databases under dbs"})
		return nil
	}
	walk(&doc, func(n *yaml.Node) { d.origin[n] = file })
	root := resolve(doc.Content[0])
	d.unsetVars(file, accessory, root, unset, src)

	f := &litestreamFile{syncInterval: defaultSyncInterval}
	var bucket string // 0.5 shares it with every replica
	if b := resolve(field(root, "bucket")); b != nil && b.Kind == yaml.ScalarNode && version != version03 {
		bucket = b.Value
	}
	if version != version03 {
		f.socket = d.fileSocket(root)
		f.syncInterval = max(f.syncInterval, d.fileDuration(field(root, "sync-interval"), "sync-interval"))
	}
	dbs := resolve(field(root, "dbs"))
	if dbs == nil || dbs.Kind != yaml.SequenceNode || len(dbs.Content) == 0 {
		d.errorf(root, "dbs", "lists no databases: ship db reads the dbs list, each with a path and its replica")
		return nil
	}
	for i, item := range dbs.Content {
		if db, ok := d.fileDB(item, index("dbs", i), bucket, version, f); ok {
			f.dbs = append(f.dbs, db)
		}
	}
	return f
}

// fileDB reads one database of the dbs list.
func (d *decoder) fileDB(n *yaml.Node, p, bucket string, version litestreamVersion, f *litestreamFile) (fileDB, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, p, "should be a map with path and replica, not %s", describe(n))
		return fileDB{}, false
	}
	at := resolve(field(n, "path"))
	if at == nil {
		if dir := field(n, "dir"); dir != nil {
			d.errorf(resolve(dir), join(p, "dir"), "ship db works on databases it can name: list each one with path instead of a directory")
		} else {
			d.errorf(n, join(p, "path"), "is required: the database's path inside the Litestream container")
		}
		return fileDB{}, false
	}
	db := fileDB{path: at.Value, at: at}
	if at.Kind != yaml.ScalarNode || !path.IsAbs(db.path) || !cleanPath(db.path) {
		d.errorf(at, join(p, "path"), "%q should be a plain absolute path inside the Litestream container, like /rails/storage/production.sqlite3", at.Value)
		return fileDB{}, false
	}
	one, list := field(n, "replica"), resolve(field(n, "replicas"))
	var replicas []*yaml.Node
	switch {
	case one != nil && version == version03:
		d.errorf(resolve(one), join(p, "replica"), "Litestream 0.3 (the accessory's image) reads a replicas list and ignores replica: "+
			"write replicas: with one item, or use a 0.5 image")
		return fileDB{}, false
	case one != nil && list != nil:
		d.errorf(resolve(one), join(p, "replica"), "set replica or replicas, not both: Litestream refuses the two together")
		return fileDB{}, false
	case one != nil:
		replicas = []*yaml.Node{resolve(one)}
	case list != nil && list.Kind == yaml.SequenceNode && len(list.Content) > 0:
		replicas = list.Content
		if version == version05 && len(replicas) > 1 {
			d.errorf(list, join(p, "replicas"), "Litestream 0.5 replicates a database to one place: keep one replica")
			return fileDB{}, false
		}
	default:
		d.errorf(n, p, "%s has no replica: give it replica: (Litestream 0.5) or replicas: (0.3) with where to replicate it", db.path)
		return fileDB{}, false
	}
	var where []string
	for i, r := range replicas {
		rp := join(p, "replica")
		if one == nil {
			rp = index(join(p, "replicas"), i)
		}
		w, ok := d.fileReplica(resolve(r), rp, bucket)
		if !ok {
			return fileDB{}, false
		}
		where = append(where, w)
		f.syncInterval = max(f.syncInterval, d.fileDuration(field(r, "sync-interval"), join(rp, "sync-interval")))
	}
	db.replica = strings.Join(where, ", ")
	return db, true
}

// urlRE is Litestream's test for a URL.
var urlRE = regexp.MustCompile(`^\w+://`)

// fileReplica reads one replica and says where it is. Its type is the
// URL's scheme, else type, else file, as in Litestream; without a bucket
// of its own it has 0.5's top-level one.
func (d *decoder) fileReplica(n *yaml.Node, p, bucket string) (string, bool) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, p, "should be a map with url, or type and its settings, not %s", describe(n))
		return "", false
	}
	get := func(key string) string {
		if v := resolve(field(n, key)); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
		if key == "bucket" {
			return bucket
		}
		return ""
	}
	rawURL, kind := get("url"), get("type")
	at := n
	if rawURL != "" {
		at = resolve(field(n, "url"))
		if urlRE.MatchString(rawURL) {
			u, err := url.Parse(rawURL)
			if err != nil {
				d.errorf(at, join(p, "url"), "%q is not a URL: %v", rawURL, errors.Unwrap(err))
				return "", false
			}
			kind = u.Scheme
		}
	} else if v := field(n, "type"); v != nil {
		at = resolve(v)
	}
	if kind == "" {
		kind = "file"
	}
	if !slices.Contains(replicaTypes, kind) {
		d.errorf(at, p, "replica type %q: ship db works with s3 replicas (AWS and S3-compatible services: url: s3://BUCKET/PATH, or type: s3 with bucket and path) "+
			"and file replicas; use one of those, or the litestream section", kind)
		return "", false
	}
	switch {
	case rawURL != "":
		return rawURL, true
	case kind == "s3" && get("bucket") == "":
		d.errorf(n, join(p, "bucket"), "is required for an s3 replica without a url: Litestream would not start")
		return "", false
	case kind == "s3":
		return "s3://" + get("bucket") + "/" + strings.TrimPrefix(get("path"), "/"), true
	case get("path") == "":
		d.errorf(n, join(p, "path"), "is required for a file replica: the directory Litestream replicates to")
		return "", false
	}
	return "file://" + get("path"), true
}

// fileSocket is 0.5's control socket, when the file enables it.
func (d *decoder) fileSocket(root *yaml.Node) string {
	s := resolve(field(root, "socket"))
	if s == nil || s.Kind != yaml.MappingNode {
		return ""
	}
	if on := resolve(field(s, "enabled")); on == nil || on.Value != "true" {
		return ""
	}
	if p := resolve(field(s, "path")); p != nil && p.Value != "" {
		return p.Value
	}
	return defaultSocket
}

// fileDuration reads a Go duration, as Litestream does; 0 when unset.
func (d *decoder) fileDuration(n *yaml.Node, p string) time.Duration {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0
	}
	t, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, p, "%q is not a duration like 1s or 500ms: Litestream would not start", n.Value)
	}
	return t
}

// unsetVar is a variable the text uses that the environment lacks.
type unsetVar struct {
	name string
	line int
}

// expandLines expands the text as os.Expand does, line by line so that
// each variable env lacks is known with its line. A name cannot span
// lines, so this is the same as expanding the whole text at once.
func expandLines(text string, lookup func(string) (string, bool)) (string, []unsetVar) {
	lines := strings.SplitAfter(text, "\n")
	var unset []unsetVar
	for i, line := range lines {
		lines[i] = os.Expand(line, func(name string) string {
			v, ok := lookup(name)
			if !ok {
				unset = append(unset, unsetVar{name: name, line: i + 1})
			}
			return v
		})
	}
	return strings.Join(lines, ""), unset
}

// unsetVars reports each variable the environment lacks that a value of
// the file uses (one in a comment is no error): Litestream would read an
// empty string there.
func (d *decoder) unsetVars(file, accessory string, root *yaml.Node, unset []unsetVar, src []byte) {
	valued := map[int]bool{}
	walk(root, func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			for l := n.Line; l <= n.Line+strings.Count(n.Value, "\n"); l++ {
				valued[l] = true
			}
		}
	})
	raw := bytes.Split(src, []byte("\n"))
	for _, u := range unset {
		if !valued[u.line] {
			continue
		}
		col := 1
		if u.line <= len(raw) {
			line := string(raw[u.line-1])
			if i := strings.Index(line, "${"+u.name+"}"); i >= 0 {
				col = i + 1
			} else if i := strings.Index(line, "$"+u.name); i >= 0 {
				col = i + 1
			}
		}
		d.problems = append(d.problems, Problem{File: file, Line: u.line, Column: col,
			Message: fmt.Sprintf("$%s is not set in the env of accessories.%s: Litestream would read an empty value here. "+
				"Add %s to accessories.%s.env (clear, or secret with its value in the secrets file)", u.name, accessory, u.name, accessory)})
	}
}
