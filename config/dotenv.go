package config

import (
	"strings"
	"unicode/utf16"
)

// A secrets file is dotenv as Kamal writes it: KEY=VALUE lines (also
// `export KEY=VALUE` and `KEY: VALUE`), comments, values in single quotes
// (literal), double quotes (escapes, may span lines) or none (up to a #).
// Outside single quotes, $NAME and ${NAME} read a variable and $(command)
// runs a command; \$ is a literal $.
//
// parseDotenv only parses: it finds the variables and commands in the
// file's own text and runs nothing. A variable's value is put in its place
// later, literally, so a $( in a value that comes from the environment is
// text, never a command. (dotenv and gotenv expand variables first and
// then look for commands in the result, which runs whatever a variable
// holds: bkeepers/dotenv#507.)

// dotenvEntry is one KEY=VALUE, parsed but not yet evaluated.
type dotenvEntry struct {
	line   int
	key    string
	pieces []piece
}

type pieceKind int

const (
	literal  pieceKind = iota // text as written, escapes resolved
	variable                  // $NAME or ${NAME}: s is NAME
	command                   // $(…): s is the command as written
)

type piece struct {
	kind pieceKind
	s    string
}

// dotenvError is a line that cannot be read. It never holds text from the
// file: a line that is not an assignment may well be a pasted secret.
type dotenvError struct {
	line int
	key  string // "" unless the line is an assignment
	msg  string
}

// The messages of dotenvErrors: fixed text, with no part of the line.
const (
	msgNotAssignment  = "not KEY=VALUE (a value of several lines needs double quotes; start a comment with #)"
	msgExportUnset    = "export without a value names a variable not set above"
	msgUnclosedQuote  = "the value's closing quote is missing"
	msgAfterQuote     = "text after the value's closing quote (quote the whole value; start a comment with #)"
	msgUnclosedSubst  = "a $( has no closing ) (write \\$( for a literal $()"
	msgUnclosedInLine = "a $( has no closing ) on its line (a command over several lines needs double quotes around the value)"
)

type dotenvParser struct {
	src     string
	pos     int
	line    int
	entries []dotenvEntry
	errs    []dotenvError
}

// parseDotenv reads a secrets file. A line it cannot read is an error and
// the lines after it are still read, except after a quote that never
// closes: then the rest of the file would be the value.
func parseDotenv(data []byte) ([]dotenvEntry, []dotenvError) {
	p := &dotenvParser{src: dotenvText(data), line: 1}
	for p.pos < len(p.src) && p.statement() {
	}
	return p.entries, p.errs
}

// dotenvText decodes a UTF-16 file (its BOM says so), drops a UTF-8 BOM
// and makes every line end in \n, as gotenv, which ship used before, did.
func dotenvText(data []byte) string {
	var s string
	switch {
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		le := data[0] == 0xFF
		units := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			if le {
				units = append(units, uint16(data[i])|uint16(data[i+1])<<8)
			} else {
				units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
			}
		}
		s = string(utf16.Decode(units))
	default:
		s = strings.TrimPrefix(string(data), "\uFEFF")
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func (p *dotenvParser) eof() bool { return p.pos >= len(p.src) }

func (p *dotenvParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *dotenvParser) skipBlanks() {
	for !p.eof() && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// skipLine moves past the end of the line.
func (p *dotenvParser) skipLine() {
	i := strings.IndexByte(p.src[p.pos:], '\n')
	if i < 0 {
		p.pos = len(p.src)
		return
	}
	p.pos += i + 1
	p.line++
}

// atLineEnd says whether nothing but a comment is left on the line.
func (p *dotenvParser) atLineEnd() bool {
	c := p.peek()
	return p.eof() || c == '\n' || c == '#'
}

func (p *dotenvParser) fail(line int, key, msg string) {
	p.errs = append(p.errs, dotenvError{line: line, key: key, msg: msg})
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isNameByte is what a $NAME may hold: gotenv's [A-Z0-9_], so a lowercase
// $word in a password stays as written, as it always has in ship.
func isNameByte(c byte) bool {
	return c == '_' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// statement reads one line (or one assignment, which may span lines). It
// returns false when nothing more of the file can be read.
func (p *dotenvParser) statement() bool {
	p.skipBlanks()
	switch {
	case p.eof():
		return true
	case p.peek() == '\n':
		p.pos++
		p.line++
		return true
	case p.peek() == '#':
		p.skipLine()
		return true
	}
	start := p.line
	exported := false
	if rest := p.src[p.pos:]; strings.HasPrefix(rest, "export") && len(rest) > 6 && (rest[6] == ' ' || rest[6] == '\t') {
		exported = true
		p.pos += 6
		p.skipBlanks()
	}
	keyStart := p.pos
	for !p.eof() && isKeyByte(p.src[p.pos]) {
		p.pos++
	}
	key := p.src[keyStart:p.pos]
	p.skipBlanks()
	if key == "" || !p.separator() {
		if exported && key != "" && p.atLineEnd() {
			// `export KEY` alone, after KEY=VALUE: dotenv allows it.
			if !p.defined(key) {
				p.fail(start, "", msgExportUnset)
			}
		} else {
			p.fail(start, "", msgNotAssignment)
		}
		p.skipLine()
		return true
	}
	p.skipBlanks()
	var pieces []piece
	var ok bool
	switch p.peek() {
	case '\'':
		pieces, ok = p.singleQuoted(start, key)
	case '"':
		pieces, ok = p.doubleQuoted(start, key)
	default:
		pieces, ok = p.unquoted(start, key)
		if !ok {
			p.skipLine()
			return true
		}
	}
	if !ok {
		return false
	}
	p.skipBlanks()
	if !p.atLineEnd() {
		p.fail(start, key, msgAfterQuote)
		p.skipLine()
		return true
	}
	p.skipLine()
	p.entries = append(p.entries, dotenvEntry{line: start, key: key, pieces: pieces})
	return true
}

// separator reads the = (or the : and blank, as dotenv takes YAML's
// KEY: VALUE) between a key and its value.
func (p *dotenvParser) separator() bool {
	switch p.peek() {
	case '=':
		p.pos++
		return true
	case ':':
		if n := p.pos + 1; n == len(p.src) || p.src[n] == ' ' || p.src[n] == '\t' || p.src[n] == '\n' {
			p.pos++
			return true
		}
	}
	return false
}

func (p *dotenvParser) defined(key string) bool {
	for _, e := range p.entries {
		if e.key == key {
			return true
		}
	}
	return false
}

// singleQuoted reads '…': literal text up to the next quote, as in sh.
func (p *dotenvParser) singleQuoted(start int, key string) ([]piece, bool) {
	end := strings.IndexByte(p.src[p.pos+1:], '\'')
	if end < 0 {
		p.fail(start, key, msgUnclosedQuote)
		return nil, false
	}
	s := p.src[p.pos+1 : p.pos+1+end]
	p.line += strings.Count(s, "\n")
	p.pos += end + 2
	return []piece{{literal, s}}, true
}

// doubleQuoted reads "…": \n and \r are a newline and a carriage return,
// \$ a literal $, and a backslash before anything else stands for that
// character, as gotenv read it.
func (p *dotenvParser) doubleQuoted(start int, key string) ([]piece, bool) {
	p.pos++
	var b pieceBuilder
	for {
		if p.eof() {
			p.fail(start, key, msgUnclosedQuote)
			return nil, false
		}
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.done(), true
		case '\\':
			if p.pos+1 >= len(p.src) {
				p.fail(start, key, msgUnclosedQuote)
				return nil, false
			}
			switch n := p.src[p.pos+1]; n {
			case 'n':
				b.text("\n")
			case 'r':
				b.text("\r")
			case '\n':
				p.line++
				b.text("\n")
			default:
				b.text(string(n))
			}
			p.pos += 2
		case '$':
			if !p.dollar(&b, start, key, true) {
				return nil, false
			}
		case '\n':
			p.line++
			b.text("\n")
			p.pos++
		default:
			b.text(string(c))
			p.pos++
		}
	}
}

// unquoted reads a value up to the end of the line or a #, without the
// blanks around it. Backslashes stay as written, but for \$.
func (p *dotenvParser) unquoted(start int, key string) ([]piece, bool) {
	var b pieceBuilder
	for !p.atLineEnd() {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '$':
			b.text("$")
			p.pos += 2
		case c == '$':
			if !p.dollar(&b, start, key, false) {
				return nil, false
			}
		default:
			b.text(string(c))
			p.pos++
		}
	}
	b.trimRight()
	return b.done(), true
}

// dollar reads what starts at a $ of the file's text: a command, a
// variable, or else a plain $.
func (p *dotenvParser) dollar(b *pieceBuilder, start int, key string, inDoubleQuotes bool) bool {
	rest := p.src[p.pos+1:]
	switch {
	case strings.HasPrefix(rest, "("):
		end := closingParen(rest, inDoubleQuotes)
		if end < 0 {
			msg := msgUnclosedInLine
			if inDoubleQuotes {
				msg = msgUnclosedSubst
			}
			p.fail(start, key, msg)
			return false
		}
		cmd := rest[1:end]
		p.line += strings.Count(cmd, "\n")
		if inDoubleQuotes {
			// Inside "…" a command may write its own quotes as \".
			cmd = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(cmd)
		}
		b.add(piece{command, cmd})
		p.pos += 1 + end + 1
	case strings.HasPrefix(rest, "{"):
		n := 1
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		if n == 1 || n >= len(rest) || rest[n] != '}' {
			b.text("$")
			p.pos++
			return true
		}
		b.add(piece{variable, rest[1:n]})
		p.pos += 1 + n + 1
	case rest != "" && isNameByte(rest[0]):
		n := 0
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		b.add(piece{variable, rest[:n]})
		p.pos += 1 + n
	default:
		b.text("$")
		p.pos++
	}
	return true
}

// closingParen finds the ) that closes the ( at s[0], past nested
// parentheses, '…' and "…" strings and backslash escapes of the command,
// as sh would; -1 if there is none (on the line, unless multiline).
func closingParen(s string, multiline bool) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\n':
			if !multiline {
				return -1
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 || (!multiline && strings.Contains(s[i+1:i+1+j], "\n")) {
				return -1
			}
			i += j + 1
		case '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				} else if s[j] == '\n' && !multiline {
					return -1
				}
			}
			if j >= len(s) {
				return -1
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// pieceBuilder collects a value's pieces, joining adjacent text.
type pieceBuilder struct {
	pieces []piece
	lit    strings.Builder
}

func (b *pieceBuilder) text(s string) { b.lit.WriteString(s) }

func (b *pieceBuilder) flush() {
	if b.lit.Len() > 0 {
		b.pieces = append(b.pieces, piece{literal, b.lit.String()})
		b.lit.Reset()
	}
}

func (b *pieceBuilder) add(pc piece) {
	b.flush()
	b.pieces = append(b.pieces, pc)
}

func (b *pieceBuilder) trimRight() {
	s := strings.TrimRight(b.lit.String(), " \t")
	b.lit.Reset()
	b.lit.WriteString(s)
}

func (b *pieceBuilder) done() []piece {
	b.flush()
	return b.pieces
}

// value evaluates an entry: each variable is looked up and each command
// run in file order, and what they give is put in place as text, never
// read again for $ or $(.
func (e dotenvEntry) value(lookup func(name string) string, run func(command string) (string, error)) (string, error) {
	var b strings.Builder
	for _, pc := range e.pieces {
		switch pc.kind {
		case literal:
			b.WriteString(pc.s)
		case variable:
			b.WriteString(lookup(pc.s))
		case command:
			out, err := run(pc.s)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
		}
	}
	return b.String(), nil
}
