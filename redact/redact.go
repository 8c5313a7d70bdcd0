// Package redact hides secret values in what ship prints and writes where
// others read it: CI logs are public, and an audit log on a host is read
// by everyone who can log in there. A Redactor holds the config's secrets;
// its Writer wraps ship's stdout and stderr, and its String method cleans
// the texts that do not go through them (Actions outputs and summary,
// audit entries, reports).
package redact

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask is what every secret value prints as.
const Mask = "[REDACTED]"

// minRunes is the shortest secret that is redacted. Hiding every "on" or
// "abc" would shred the output and protect nothing worth protecting; this
// is also where GitHub Actions draws its line for masks.
const minRunes = 4

// Redactor replaces secret values with Mask. Secrets may be added at any
// time, from any goroutine: ship knows them only once the config is
// loaded, after its writers exist. A nil *Redactor redacts nothing.
type Redactor struct {
	mu sync.Mutex
	// patterns are the secrets in every form ship may print them, longest
	// first. Add replaces the slice, never changes it, so a reader may use
	// the one it took without the lock.
	patterns []string
}

// New returns a Redactor of the given secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add makes r redact each secret of at least four characters, as it is
// and in the escaped forms ship prints text in: JSON strings (the --json
// documents, the audit log), Go quoting (%q in error messages) and
// workflow-command data (annotations). Each line of a secret that spans
// several, such as a PEM certificate, is redacted on its own too, since
// ship's output is read line by line.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	var add []string
	for _, s := range secrets {
		if utf8.RuneCountInString(s) < minRunes {
			continue
		}
		forms := []string{s}
		if strings.ContainsAny(s, "\r\n") {
			for line := range strings.Lines(s) {
				line = strings.TrimRight(line, "\r\n")
				if utf8.RuneCountInString(line) >= minRunes {
					forms = append(forms, line)
				}
			}
		}
		for _, f := range forms {
			add = append(add, f, jsonString(f, true), jsonString(f, false), goQuoted(f), commandData(f))
		}
	}
	if len(add) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	patterns := append(slices.Clone(r.patterns), add...)
	slices.SortFunc(patterns, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	r.patterns = slices.Compact(patterns)
}

// String returns s with every secret replaced by Mask. Where secrets
// overlap or touch, the whole run of them is one Mask.
func (r *Redactor) String(s string) string {
	return redact(s, r.load())
}

// load returns the current patterns.
func (r *Redactor) load() []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.patterns
}

// span is a run of secret text, [start, end) in bytes.
type span struct{ start, end int }

// spans finds every occurrence of every pattern in s, overlapping ones
// included, and merges those that overlap or touch. They come back in
// order and disjoint.
func spans(s string, patterns []string) []span {
	var found []span
	for _, p := range patterns {
		for i := 0; i < len(s); {
			j := strings.Index(s[i:], p)
			if j < 0 {
				break
			}
			found = append(found, span{i + j, i + j + len(p)})
			i += j + 1
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b span) int { return a.start - b.start })
	merged := found[:1]
	for _, sp := range found[1:] {
		last := &merged[len(merged)-1]
		if sp.start <= last.end {
			last.end = max(last.end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

func redact(s string, patterns []string) string {
	found := spans(s, patterns)
	if len(found) == 0 {
		return s
	}
	var b strings.Builder
	at := 0
	for _, sp := range found {
		b.WriteString(s[at:sp.start])
		b.WriteString(Mask)
		at = sp.end
	}
	b.WriteString(s[at:])
	return b.String()
}

// jsonString is s as it appears inside a JSON string, with or without
// encoding/json's HTML escaping.
func jsonString(s string, escapeHTML bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		return s
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// goQuoted is s as %q prints it, without the quotes.
func goQuoted(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// commandData is s as a workflow command's message carries it (see
// actions.escapeData, which this must follow).
func commandData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
