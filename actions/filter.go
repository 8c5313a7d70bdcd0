package actions

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
)

// The runner reads a step's output line by line (a line ends at \n, \r or
// \r\n) and takes as a workflow command a line whose first characters
// after leading whitespace are "::", or, in the legacy form, any line with
// "##[" in it. Text ship did not write itself (container logs, a host's
// stderr, lock messages, performer names) could thereby mask a value,
// forge an annotation, or stop commands altogether. A Filter in front of
// stdout and stderr neutralises such lines; ship's own commands reach the
// runner through WriteCommand.
//
// The runner compares with .NET's culture-sensitive StartsWith and
// IndexOf, which may skip invisible characters such as U+200B. So a line
// is judged with those characters taken out, and it is neutralised with a
// visible backslash, which no comparison skips, never with an invisible
// character.

// maxLine bounds the line a Filter holds back: text that never ends a
// line cannot make ship hold it all. A longer line is broken in two, each
// part neutralised as the runner will then read it.
const maxLine = 64 << 10

// Filter passes text to a writer with every line that the runner could
// read as a workflow command neutralised (see Neutralize). It holds back
// an unfinished line until its end, or Close. It is safe for concurrent
// use.
type Filter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // the unfinished line
}

// NewFilter returns a Filter writing to w.
func NewFilter(w io.Writer) *Filter { return &Filter{w: w} }

// Write passes on the finished lines of p, neutralised.
func (f *Filter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, p...)
	end := strings.LastIndexAny(string(f.pending), "\r\n")
	var out strings.Builder
	if end >= 0 {
		writeLines(&out, string(f.pending[:end+1]))
		f.pending = append([]byte{}, f.pending[end+1:]...)
	}
	if len(f.pending) > maxLine {
		out.WriteString(Neutralize(string(f.pending)) + "\n")
		f.pending = nil
	}
	if out.Len() > 0 {
		if _, err := io.WriteString(f.w, out.String()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeLines writes text, whose every line is finished, neutralised line
// by line, keeping each line's ending as it was.
func writeLines(out *strings.Builder, text string) {
	for text != "" {
		i := strings.IndexAny(text, "\r\n")
		end := i + 1
		if text[i] == '\r' && end < len(text) && text[end] == '\n' {
			end++
		}
		out.WriteString(Neutralize(text[:i]))
		out.WriteString(text[i:end])
		text = text[end:]
	}
}

// WriteCommand writes line, one of ship's own workflow commands, as it
// is: the one way past the Filter. An unfinished line is ended first,
// since a command must start a line. A line that is not one line is no
// command ship writes, and is neutralised like any other text.
func (f *Filter) WriteCommand(line string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out strings.Builder
	if len(f.pending) > 0 {
		out.WriteString(Neutralize(string(f.pending)) + "\n")
		f.pending = nil
	}
	if strings.ContainsAny(line, "\r\n") {
		writeLines(&out, line+"\n")
	} else {
		out.WriteString(line + "\n")
	}
	_, err := io.WriteString(f.w, out.String())
	return err
}

// Close passes on an unfinished last line, neutralised. It does not close
// the writer underneath.
func (f *Filter) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 {
		return nil
	}
	_, err := io.WriteString(f.w, Neutralize(string(f.pending)))
	f.pending = nil
	return err
}

// Unwrap returns the writer underneath, for callers that ask whether it is
// a terminal.
func (f *Filter) Unwrap() io.Writer { return f.w }

// CommandWriter is a writer that carries ship's own workflow commands past
// a Filter: the Filter itself, and writers in front of it that pass
// commands on (redact.Writer).
type CommandWriter interface {
	WriteCommand(line string) error
}

// Command writes line, a workflow command of ship's own (an annotation, a
// group), to w: as a command through a CommandWriter, else as a plain
// line.
func Command(w io.Writer, line string) error {
	if cw, ok := w.(CommandWriter); ok {
		return cw.WriteCommand(line)
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

// IsCommand reports whether the runner could take line, one line without
// its ending, as a workflow command. It errs towards yes: a line judged a
// command is only shown escaped.
func IsCommand(line string) bool {
	visible := strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, line)
	return strings.HasPrefix(strings.TrimLeftFunc(visible, unicode.IsSpace), "::") || strings.Contains(visible, "##[")
}

// Neutralize returns line, one line without its ending, so that the
// runner shows it rather than runs it: when IsCommand, its invisible
// characters are written out as escapes (\u200b, \x1b), a backslash goes
// before a leading "::", and "##[" becomes `##\[`. Any other line comes
// back as it is.
func Neutralize(line string) string {
	if !IsCommand(line) {
		return line
	}
	var b strings.Builder
	for _, r := range line {
		switch {
		case !invisible(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	s := b.String()
	rest := strings.TrimLeftFunc(s, unicode.IsSpace)
	if strings.HasPrefix(rest, "::") {
		s = s[:len(s)-len(rest)] + `\` + rest
	}
	return strings.ReplaceAll(s, "##[", `##\[`)
}

// neutralizeLines neutralises each line of text, for a message that may
// quote untrusted text on lines of its own.
func neutralizeLines(text string) string {
	var b strings.Builder
	writeLines(&b, text+"\n")
	return strings.TrimSuffix(b.String(), "\n")
}

// invisible reports whether r is a character a comparison may skip:
// control and format characters, combining marks, variation selectors and
// the other default-ignorable code points. Whitespace is not: the runner
// trims it at the start of a line, and IsCommand does too.
func invisible(r rune) bool {
	if unicode.IsSpace(r) {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// EscapeJSON rewrites a JSON document, as encoding/json writes it, so that
// a Filter finds no workflow command in it to neutralise, which would
// break the document, while it decodes to the same value: in its strings,
// "##[" becomes "##\u005b" and invisible characters become \u escapes.
// No line of such a document starts with "::": each starts with a
// bracket, a brace, a quote or a literal.
func EscapeJSON(doc []byte) []byte {
	s := string(doc)
	var b strings.Builder
	for _, r := range s {
		switch {
		case !invisible(r):
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return []byte(strings.ReplaceAll(b.String(), "##[", `##\u005b`))
}
