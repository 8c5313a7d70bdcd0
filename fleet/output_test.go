package fleet

import (
	"strings"
	"testing"
)

func TestPrefixedLinesDoNotInterleave(t *testing.T) {
	var b strings.Builder
	out := NewOutput(&b)
	w1, w2 := out.Prefixed("[h1] "), out.Prefixed("[h2] ")
	w1.Write([]byte("hel"))
	w2.Write([]byte("one\ntw"))
	w1.Write([]byte("lo\n"))
	w2.Write([]byte("o"))
	w1.Close()
	w2.Close()
	want := "[h2] one\n[h1] hello\n[h2] two\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// Two hosts' lines arrive interleaved; under GitHub Actions each host's
// lines come out folded in its own group, the first live and the second
// once the first is done.
func TestGroupedOutputFoldsEachWriter(t *testing.T) {
	var b strings.Builder
	out := NewGroupedOutput(&b)
	h1, h2 := out.Prefixed("[h1] "), out.Prefixed("[h2 web] ")
	h1.Write([]byte("sending image\n"))
	h2.Write([]byte("sending image\n"))
	h1.Write([]byte("sent"))
	h2.Write([]byte("sent\n"))
	h1.Close()
	live := b.String()
	h2.Write([]byte("started\n"))
	h2.Close()
	h3 := out.Prefixed("[h3] ")
	h3.Close() // wrote nothing: no empty group

	want := "::group::h1\n[h1] sending image\n[h1] sent\n::endgroup::\n" +
		"::group::h2 web\n[h2 web] sending image\n[h2 web] sent\n[h2 web] started\n::endgroup::\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// h2 streamed from when h1 closed, not only at its own end.
	if !strings.HasSuffix(live, "[h2 web] sent\n") {
		t.Errorf("h2's held lines were not written when h1 closed:\n%s", live)
	}
}

// A writer that finished while another was live is written out whole, and
// the one after it opens next.
func TestGroupedOutputQueuesFinishedWriters(t *testing.T) {
	var b strings.Builder
	out := NewGroupedOutput(&b)
	a, c, d := out.Prefixed("[a] "), out.Prefixed("[c] "), out.Prefixed("[d] ")
	a.Write([]byte("1\n"))
	c.Write([]byte("2\n"))
	c.Close()
	d.Write([]byte("3\n"))
	a.Close()
	d.Write([]byte("4\n"))
	d.Close()
	want := "::group::a\n[a] 1\n::endgroup::\n::group::c\n[c] 2\n::endgroup::\n::group::d\n[d] 3\n[d] 4\n::endgroup::\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
