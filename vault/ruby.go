package vault

import (
	"fmt"
	"strings"
	"unicode"
)

// Kamal builds some vendor arguments and messages with Ruby's
// Shellwords.escape and String#inspect; these match them, so that the
// vendor CLI receives exactly what it receives from Kamal.

// shellEscape is Ruby's Shellwords.escape.
func shellEscape(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("'\n'")
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.,:+/@", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('\\')
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rubyInspect is Ruby's String#inspect of a UTF-8 string.
func rubyInspect(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	rs := []rune(s)
	for i, r := range rs {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case '\b':
			b.WriteString(`\b`)
		case '\a':
			b.WriteString(`\a`)
		case 0x1b:
			b.WriteString(`\e`)
		case '#':
			if i+1 < len(rs) && strings.ContainsRune("{$@", rs[i+1]) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			if unicode.IsPrint(r) {
				b.WriteRune(r)
			} else if r < 0x10000 {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				fmt.Fprintf(&b, `\u{%X}`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rubyList is Ruby's Array#inspect of strings: ["a", "b"].
func rubyList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = rubyInspect(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
