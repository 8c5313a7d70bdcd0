package actions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shipdeploy/ship/redact"
)

func TestNeutralize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"::add-mask::x", `\::add-mask::x`},
		{"::error::pwned", `\::error::pwned`},
		{"  \t::warning file=a::b", "  \t" + `\::warning file=a::b`},
		{"##[error]x", `##\[error]x`},
		{"[h1 web] ##[group]x ###[y", `[h1 web] ##\[group]x ###\[y`},
		{"::stop-commands::tok", `\::stop-commands::tok`},
		// Invisible characters a culture-sensitive comparison may skip
		// are written out, so nothing hides the command.
		{"\u200b::error::x", `\u200b::error::x`},
		{":\u200b:error::x", `:\u200b:error::x`},
		{"\x1b::error::x", `\x1b::error::x`},
		{"\x1b[31m::error::x", "\x1b[31m::error::x"}, // "[31m::" starts no command
		{"\x01::error::x", `\x01::error::x`},
		{"#\u00ad#[error]x", `#\u00ad#[error]x`},
		// Not commands: left as they are, colours and all.
		{"[h1 web] ::error::x", "[h1 web] ::error::x"},
		{"\x1b[31merror\x1b[0m: a::b", "\x1b[31merror\x1b[0m: a::b"},
		{"# [x] ## [y]", "# [x] ## [y]"},
		{"", ""},
	} {
		if got := Neutralize(tt.in); got != tt.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if IsCommand(Neutralize(tt.in)) {
			t.Errorf("Neutralize(%q) is still a command", tt.in)
		}
	}
}

// FuzzNeutralize: whatever the line, neutralised it is no command, and a
// line that is none comes back unchanged.
func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{"::error::x", " ::a::b", "##[x]", "\u200b::x::", "a##\u200b[", "plain", ":\u2060:x::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") || !utf8.ValidString(line) {
			return
		}
		got := Neutralize(line)
		if IsCommand(got) {
			t.Errorf("Neutralize(%q) = %q, still a command", line, got)
		}
		if !IsCommand(line) && got != line {
			t.Errorf("Neutralize(%q) = %q: changed a line that is no command", line, got)
		}
	})
}

// The Filter judges lines as the runner reads them: split across writes,
// ended by \n, \r or \r\n.
func TestFilter(t *testing.T) {
	var out strings.Builder
	f := NewFilter(&out)
	f.Write([]byte("ok line\n:"))
	f.Write([]byte(":error::pwned\r\nprogress\r::add-mask::x\r#"))
	if out.String() != "ok line\n"+`\::error::pwned`+"\r\nprogress\r"+`\::add-mask::x`+"\r" {
		t.Errorf("after two writes: %q", out.String())
	}
	f.Write([]byte("#[error]x"))
	f.Close()
	if !strings.HasSuffix(out.String(), "\r"+`##\[error]x`) {
		t.Errorf("the unfinished last line, at Close: %q", out.String())
	}
}

// Ship's own commands pass through WriteCommand, also through a redacting
// writer in front, and start a line of their own.
func TestFilterCommands(t *testing.T) {
	var out strings.Builder
	f := NewFilter(&out)
	w := redact.NewWriter(f, redact.New("hunter22"))
	Command(w, GroupStart("h1 web"))
	w.Write([]byte("::error::from a log\nhalf a line"))
	Command(w, Env{}.Error(Annotation{Title: "ship", Message: "bad password hunter22"}))
	Command(w, GroupEnd)
	w.Write([]byte("::endgroup::\n"))
	w.Close()
	f.Close()
	want := "::group::h1 web\n" + `\::error::from a log` + "\nhalf a line\n" +
		"::error title=ship::bad password [REDACTED]\n::endgroup::\n" + `\::endgroup::` + "\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	// A "command" of several lines is no command of ship's.
	out.Reset()
	f.WriteCommand("::group::x\n::error::y")
	if out.String() != `\::group::x`+"\n"+`\::error::y`+"\n" {
		t.Errorf("a multi-line command: %q", out.String())
	}
	// Without a CommandWriter, a command is a plain line.
	var plain strings.Builder
	Command(&plain, GroupEnd)
	if plain.String() != "::endgroup::\n" {
		t.Errorf("to a plain writer: %q", plain.String())
	}
}

// A line that never ends is broken in two rather than held whole; each
// part is neutralised as the runner then reads it.
func TestFilterLongLine(t *testing.T) {
	var out strings.Builder
	f := NewFilter(&out)
	long := strings.Repeat("a", maxLine) + " "
	f.Write([]byte(long))
	f.Write([]byte("::error::x\n"))
	lines := strings.Split(out.String(), "\n")
	if len(lines) != 3 || lines[0] != long || lines[1] != `\::error::x` {
		t.Errorf("%d lines; the second %q", len(lines), lines[1])
	}
}

// Outputs, the summary and annotations hide the config's secrets: they
// are as public as the log.
func TestEnvRedacts(t *testing.T) {
	dir := t.TempDir()
	e := Env{OutputFile: filepath.Join(dir, "output"), SummaryFile: filepath.Join(dir, "summary"), Redactor: redact.New("hunter22", "p%w\nd")}
	if err := e.SetOutputs([2]string{"error", "auth hunter22"}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddSummary("**Failed**: auth hunter22"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{e.OutputFile, e.SummaryFile} {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "hunter22") || !strings.Contains(string(b), redact.Mask) {
			t.Errorf("%s: %q", filepath.Base(f), b)
		}
	}
	got := e.Warning(Annotation{Title: "hunter22", Message: "bad p%w\nd"})
	if got != "::warning title=[REDACTED]::bad [REDACTED]" {
		t.Errorf("annotation: %q", got)
	}
	// A message quoting a host's output on lines of its own: each such line
	// is shown, not a command, wherever the runner shows the message.
	got = e.Error(Annotation{Title: "ship", Message: "exit status 1: first\n::error::pwned\r##[error]x"})
	if got != `::error title=ship::exit status 1: first%0A\::error::pwned%0D##\[error]x` {
		t.Errorf("annotation quoting planted lines: %q", got)
	}
}

// A JSON document passes a Filter unchanged once escaped, and decodes to
// what it held.
func TestEscapeJSON(t *testing.T) {
	value := map[string]any{"error": "##[error]x", "log": []string{"a#\u200b#[b", "del\x7f", "tag\U000e0001", "::error::y"}}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(value); err != nil {
		t.Fatal(err)
	}
	doc := EscapeJSON([]byte(buf.String()))
	var out strings.Builder
	f := NewFilter(&out)
	f.Write(doc)
	f.Close()
	if out.String() != string(doc) {
		t.Errorf("the Filter changed the escaped document:\n%s\nto\n%s", doc, out.String())
	}
	var got map[string]any
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	if !reflect.DeepEqual(got, map[string]any{"error": "##[error]x", "log": []any{"a#\u200b#[b", "del\x7f", "tag\U000e0001", "::error::y"}}) {
		t.Errorf("decodes to %q", got)
	}
}
