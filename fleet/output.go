package fleet

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/shipdeploy/ship/actions"
)

// Output is a writer shared by work running on several hosts at once. Each
// host writes through its own Prefixed writer, and lines from different
// hosts never interleave mid-line.
type Output struct {
	mu sync.Mutex
	w  io.Writer
	// grouped folds each Prefixed writer's lines into a GitHub Actions log
	// group. Groups cannot interleave, so one writer streams live in an
	// open group while the others' lines wait for it to close.
	grouped bool
	live    *prefixed
	waiting []*prefixed
}

// NewOutput wraps w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// NewGroupedOutput wraps w, folding each Prefixed writer's lines into a
// GitHub Actions log group named for its prefix, such as "[host] ". The
// group commands go through actions.Command, past a Filter on w.
func NewGroupedOutput(w io.Writer) *Output { return &Output{w: w, grouped: true} }

// Prefixed returns a writer that puts prefix before each complete line.
// Close writes out a last line that has no newline; every Prefixed writer
// of a grouped Output must be closed.
func (o *Output) Prefixed(prefix string) io.WriteCloser {
	return &prefixed{out: o, prefix: []byte(prefix)}
}

type prefixed struct {
	out    *Output
	prefix []byte
	buf    []byte
	// held are complete lines a grouped Output keeps until this writer's
	// group can open; closed says it has no more to come.
	held   []byte
	closed bool
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	i := bytes.LastIndexByte(p.buf, '\n')
	if i < 0 {
		return len(b), nil
	}
	lines := p.buf[:i+1]
	p.buf = append([]byte{}, p.buf[i+1:]...)
	if err := p.out.emit(p, lines); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *prefixed) Close() error {
	var err error
	if len(p.buf) > 0 {
		line := append(p.buf, '\n')
		p.buf = nil
		err = p.out.emit(p, line)
	}
	p.out.close(p)
	return err
}

// emit writes complete lines, each with the writer's prefix.
func (o *Output) emit(p *prefixed, lines []byte) error {
	var b bytes.Buffer
	for line := range bytes.Lines(lines) {
		b.Write(p.prefix)
		b.Write(line)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.grouped {
		_, err := o.w.Write(b.Bytes())
		return err
	}
	if o.live == nil {
		o.open(p)
	}
	if o.live != p {
		p.held = append(p.held, b.Bytes()...)
		if !slices.Contains(o.waiting, p) {
			o.waiting = append(o.waiting, p)
		}
		return nil
	}
	_, err := o.w.Write(b.Bytes())
	return err
}

// close ends p's group, and opens the next waiting writer's: one that has
// finished is written out whole, one still running streams from then on.
func (o *Output) close(p *prefixed) {
	if !o.grouped {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p.closed = true
	if o.live != p {
		return
	}
	actions.Command(o.w, actions.GroupEnd)
	o.live = nil
	for len(o.waiting) > 0 && o.live == nil {
		next := o.waiting[0]
		o.waiting = o.waiting[1:]
		o.open(next)
		if next.closed {
			actions.Command(o.w, actions.GroupEnd)
			o.live = nil
		}
	}
}

// open starts p's group and writes the lines it held.
func (o *Output) open(p *prefixed) {
	title := strings.Trim(strings.TrimSpace(string(p.prefix)), "[]")
	actions.Command(o.w, actions.GroupStart(title))
	o.w.Write(p.held)
	p.held = nil
	o.live = p
}

// EachPrefixed runs fn on every host, at most limit at once, each writing
// through its own "[host] " prefixed writer, and joins the failures.
func EachPrefixed(ctx context.Context, out *Output, hosts []string, limit int, fn func(ctx context.Context, host string, w io.Writer) error) error {
	results := Each(ctx, hosts, limit, func(ctx context.Context, h string) (struct{}, error) {
		w := out.Prefixed("[" + h + "] ")
		defer w.Close()
		return struct{}{}, fn(ctx, h, w)
	})
	return Failed(results)
}
