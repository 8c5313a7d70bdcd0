package redact

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func TestString(t *testing.T) {
	r := New("hunter22", "abc", "s3cret-token", "token-tail")
	for _, tt := range []struct{ in, want string }{
		{"password hunter22 ok", "password [REDACTED] ok"},
		{"hunter22hunter22", "[REDACTED]"},                       // touching: one run
		{"x s3cret-token-tail y", "x [REDACTED] y"},              // overlapping secrets: their union
		{"abc is too short to hide", "abc is too short to hide"}, // under four characters
		{"[REDACTED] stays as it was", "[REDACTED] stays as it was"},
		{"nothing here", "nothing here"},
	} {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Four characters is enough, counted as characters, not bytes.
	if got := New("ab€d", "ab€").String("ab€d ab€"); got != "[REDACTED] ab€" {
		t.Errorf("four-character secret: %q", got)
	}
	var none *Redactor
	none.Add("hunter22")
	if got := none.String("hunter22"); got != "hunter22" {
		t.Errorf("a nil Redactor changed %q", got)
	}
}

// Secrets with characters JSON, %q or a workflow command escape are found
// in those forms too; each line of a PEM on its own as well.
func TestStringEscapedForms(t *testing.T) {
	secret := "p\"a<ss>%\n\\word&"
	r := New(secret)
	doc, _ := json.Marshal(map[string]string{"error": "auth failed: " + secret})
	for _, text := range []string{
		string(doc),
		fmt.Sprintf("value %q rejected", secret),
		"::error::" + commandData(secret),
		jsonString(secret, false),
	} {
		got := r.String(text)
		if !strings.Contains(got, Mask) || strings.Contains(got, "word") {
			t.Errorf("String(%q) = %q", text, got)
		}
	}
	pem := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
	r = New(pem)
	got := r.String("line: BKcwggSjAgEAAoIBAQC7\n")
	if got != "line: [REDACTED]\n" {
		t.Errorf("a PEM's line on its own: %q", got)
	}
	if got := r.String("key:\n" + pem); strings.Contains(got, "MIIE") {
		t.Errorf("the whole PEM: %q", got)
	}
}

// A secret split across writes, at every possible point, never reaches
// the writer underneath, and what holds no secret passes at once.
func TestWriterSplitAcrossWrites(t *testing.T) {
	secret := "s3cret-token"
	text := "a s3cret-token b\n"
	for cut := range len(text) + 1 {
		var out strings.Builder
		w := NewWriter(&out, New(secret))
		w.Write([]byte(text[:cut]))
		w.Write([]byte(text[cut:]))
		w.Close()
		if out.String() != "a [REDACTED] b\n" {
			t.Errorf("split at %d: %q", cut, out.String())
		}
	}
	for size := 1; size < 5; size++ {
		var out strings.Builder
		w := NewWriter(&out, New(secret))
		for i := 0; i < len(text); i += size {
			w.Write([]byte(text[i:min(i+size, len(text))]))
			if strings.Contains(out.String(), "s3cret") {
				t.Fatalf("%d-byte writes: part of the secret went through: %q", size, out.String())
			}
		}
		w.Close()
		if out.String() != "a [REDACTED] b\n" {
			t.Errorf("%d-byte writes: %q", size, out.String())
		}
	}

	var out strings.Builder
	w := NewWriter(&out, New(secret))
	w.Write([]byte("Remove everything? [y/N] "))
	if out.String() != "Remove everything? [y/N] " {
		t.Errorf("a prompt was held back: %q", out.String())
	}
	w.Write([]byte("then s3cr"))
	if out.String() != "Remove everything? [y/N] then " {
		t.Errorf("held back more, or less, than the secret's beginning: %q", out.String())
	}
	w.Write([]byte("atch"))
	if out.String() != "Remove everything? [y/N] then s3cratch" {
		t.Errorf("a near miss was not passed on: %q", out.String())
	}
}

// Overlapping secrets across a write boundary come out as one mask;
// secrets added after the writer was made are redacted from then on.
func TestWriterOverlapsAndLateSecrets(t *testing.T) {
	var out strings.Builder
	r := New("abcdef", "defghi")
	w := NewWriter(&out, r)
	w.Write([]byte("x abcd"))
	w.Write([]byte("efghi y\n"))
	if out.String() != "x [REDACTED] y\n" {
		t.Errorf("overlapping secrets: %q", out.String())
	}
	r.Add("late-secret")
	w.Write([]byte("now late-secret\n"))
	w.Close()
	if !strings.HasSuffix(out.String(), "now [REDACTED]\n") {
		t.Errorf("a secret added later: %q", out.String())
	}
}

type commandSink struct {
	strings.Builder
	commands []string
}

func (c *commandSink) WriteCommand(line string) error {
	c.commands = append(c.commands, line)
	c.WriteString("<" + line + ">\n")
	return nil
}

// A command goes to the writer underneath as a command, redacted, after
// what was held back.
func TestWriterCommand(t *testing.T) {
	var sink commandSink
	w := NewWriter(&sink, New("hunter22"))
	w.Write([]byte("partial hunt"))
	w.WriteCommand("::error::bad password hunter22")
	if sink.String() != "partial hunt<::error::bad password [REDACTED]>\n" || len(sink.commands) != 1 {
		t.Errorf("got %q", sink.String())
	}
	var plain strings.Builder
	w = NewWriter(&plain, New("hunter22"))
	w.WriteCommand("::group::hunter22")
	if plain.String() != "::group::[REDACTED]\n" {
		t.Errorf("to a plain writer: %q", plain.String())
	}
	if w.Unwrap() != &plain {
		t.Error("Unwrap")
	}
}

func TestWriterConcurrent(t *testing.T) {
	var out strings.Builder
	w := NewWriter(&lockedWriter{w: &out}, New("hunter22"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				w.Write([]byte("pw hunter22\n"))
			}
		}()
	}
	wg.Wait()
	w.Close()
	if strings.Contains(out.String(), "hunter") || strings.Count(out.String(), Mask) != 800 {
		t.Errorf("concurrent writes: %d masks", strings.Count(out.String(), Mask))
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// However the text is split into writes, the stream comes out as String
// makes the whole text.
func TestWriterMatchesString(t *testing.T) {
	r := New("hunter22", "abcdef", "defghi", "s3cret\nline-two")
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"hunter22", "abcdef", "defghi", "abc", "hun", "s3cret", "\n", "line-two", " ", "x", "de", "ghi"}
	for range 2000 {
		var text strings.Builder
		for range rng.IntN(12) {
			text.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := text.String()
		var out strings.Builder
		w := NewWriter(&out, r)
		for i := 0; i < len(s); {
			n := 1 + rng.IntN(6)
			w.Write([]byte(s[i:min(i+n, len(s))]))
			i += n
		}
		w.Close()
		if want := r.String(s); out.String() != want {
			t.Fatalf("writes of %q gave %q, String gives %q", s, out.String(), want)
		}
	}
}
