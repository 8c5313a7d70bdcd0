package fleet

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// Output is a writer shared by work running on several hosts at once. Each
// host writes through its own Prefixed writer, and lines from different
// hosts never interleave mid-line.
type Output struct {
	mu sync.Mutex
	w  io.Writer
}

// NewOutput wraps w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Prefixed returns a writer that puts prefix before each complete line.
// Close writes out a last line that has no newline.
func (o *Output) Prefixed(prefix string) io.WriteCloser {
	return &prefixed{out: o, prefix: []byte(prefix)}
}

type prefixed struct {
	out    *Output
	prefix []byte
	buf    []byte
}

func (p *prefixed) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if err := p.emit(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}

func (p *prefixed) Close() error {
	if len(p.buf) == 0 {
		return nil
	}
	line := append(p.buf, '\n')
	p.buf = nil
	return p.emit(line)
}

func (p *prefixed) emit(line []byte) error {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	_, err := p.out.w.Write(append(append([]byte{}, p.prefix...), line...))
	return err
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
