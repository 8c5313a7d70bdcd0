package redact

import (
	"io"
	"strings"
	"sync"
)

// Writer redacts what is written to it before passing it on. A secret may
// arrive split across writes: Writer holds back only the end of what it
// was given that could still begin one, and passes on everything else at
// once, so a prompt or an interactive session is not kept waiting for a
// newline. Close passes on what is held. It is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	r       *Redactor
	pending string // written, not passed on: it may begin a secret
}

// NewWriter returns a Writer that redacts r's secrets on their way to w.
func NewWriter(w io.Writer, r *Redactor) *Writer { return &Writer{w: w, r: r} }

// Write redacts p, holding back what may begin a secret.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending += string(p)
	if err := w.emit(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteCommand passes on line, a GitHub Actions workflow command of ship's
// own, redacted, as a line of its own: to w's WriteCommand if it has one
// (actions.Filter does), so that it reaches the runner as a command. What
// was held back is passed on first, since a command starts a line.
func (w *Writer) WriteCommand(line string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.emit(true); err != nil {
		return err
	}
	line = redact(line, w.r.load())
	if cw, ok := w.w.(interface{ WriteCommand(string) error }); ok {
		return cw.WriteCommand(line)
	}
	_, err := io.WriteString(w.w, line+"\n")
	return err
}

// Close passes on, redacted, whatever is held back. It does not close the
// writer underneath.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.emit(true)
}

// Unwrap returns the writer underneath, for callers that ask whether it is
// a terminal.
func (w *Writer) Unwrap() io.Writer { return w.w }

// emit passes on the pending text that can no longer be part of a secret,
// or all of it when final.
func (w *Writer) emit(final bool) error {
	patterns := w.r.load()
	cut := len(w.pending)
	if !final {
		cut = safeCut(w.pending, patterns)
	}
	out := redact(w.pending[:cut], patterns)
	w.pending = strings.Clone(w.pending[cut:])
	if out == "" {
		return nil
	}
	_, err := io.WriteString(w.w, out)
	return err
}

// safeCut is where s can be cut so that no secret is split: before the
// earliest suffix of s that is a proper prefix of a pattern (the rest of
// the secret may be on its way), and never inside or right after a
// secret s holds whole (one that follows it would share its mask). So the
// stream comes out exactly as String would make the whole.
func safeCut(s string, patterns []string) int {
	cut := len(s)
	for _, p := range patterns {
		for i := max(0, len(s)-len(p)+1); i < cut; i++ {
			if s[i] == p[0] && strings.HasPrefix(p, s[i:]) {
				cut = i
				break
			}
		}
	}
	for _, sp := range spans(s, patterns) {
		if sp.start < cut && cut <= sp.end {
			cut = sp.start
		}
	}
	return cut
}
