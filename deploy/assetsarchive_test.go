package deploy

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

type entry struct {
	name, link, body string
	kind             byte
}

func archive(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.kind, Linkname: e.link, Mode: 0o4755, Size: int64(len(e.body))}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func read(t *testing.T, r io.Reader) map[string]tar.Header {
	t.Helper()
	out := map[string]tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = *h
	}
}

// The engine's archive of DIR/. becomes names relative to DIR; what the
// volume has stays as it is, and so does anything under a name the volume
// holds as a file or link; device nodes never reach the volume.
func TestRebase(t *testing.T) {
	src := archive(t,
		entry{name: "./", kind: tar.TypeDir},
		entry{name: "./a-v1.css", kind: tar.TypeReg, body: "old a"},
		entry{name: "./shared.css", kind: tar.TypeReg, body: "old shared"},
		entry{name: "./etc", kind: tar.TypeSymlink, link: "/etc"},
		entry{name: "./js/", kind: tar.TypeDir},
		entry{name: "./js/app.js", kind: tar.TypeReg, body: "js"},
		entry{name: "./planted/", kind: tar.TypeDir},
		entry{name: "./planted/x", kind: tar.TypeReg, body: "x"},
		entry{name: "./hard", kind: tar.TypeLink, link: "./a-v1.css"},
		entry{name: "./hard-shared", kind: tar.TypeLink, link: "./shared.css"},
		entry{name: "./null", kind: tar.TypeChar},
	)
	existing := map[string]bool{"shared.css": false, "js": true, "planted": false}
	var out bytes.Buffer
	n, err := rebase(src, &out, existing)
	if err != nil {
		t.Fatal(err)
	}
	got := read(t, &out)
	want := []string{"a-v1.css", "etc", "hard", "js/app.js"}
	if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, want) {
		t.Fatalf("entries = %v, want %v", names, want)
	}
	if n != 2 {
		t.Errorf("files = %d, want 2", n)
	}
	if got["etc"].Typeflag != tar.TypeSymlink || got["etc"].Linkname != "/etc" {
		t.Errorf("link etc = %+v: a link is copied as a link", got["etc"])
	}
	if got["hard"].Linkname != "a-v1.css" {
		t.Errorf("hard link to %q, want a-v1.css", got["hard"].Linkname)
	}
	if mode := got["a-v1.css"].Mode; mode != 0o755 {
		t.Errorf("mode = %o, want 755 (no setuid)", mode)
	}
}

// A name that climbs out of the directory is refused, not copied.
func TestRebaseRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../x", "./../../etc/passwd", "/etc/passwd"} {
		_, err := rebase(archive(t, entry{name: name, kind: tar.TypeReg, body: "x"}), io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "outside the directory") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// The volume's listing says which names are directories.
func TestArchiveNames(t *testing.T) {
	got, err := archiveNames(archive(t,
		entry{name: "./", kind: tar.TypeDir},
		entry{name: "./a.css", kind: tar.TypeReg},
		entry{name: "./d/", kind: tar.TypeDir},
		entry{name: "./l", kind: tar.TypeSymlink, link: "/"},
	))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"a.css": false, "d": true, "l": false}
	if !maps.Equal(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
}
