package vault

import "testing"

func TestRubyQuoting(t *testing.T) {
	for in, want := range map[string]string{"": "''", "abc-1.2/x@y": "abc-1.2/x@y", "a b": `a\ b`, "it's": `it\'s`, "a\nb": "a'\n'b"} {
		if got := shellEscape(in); got != want {
			t.Errorf("shellEscape(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"abc": `"abc"`, `a\ b`: `"a\\ b"`, `say "hi"`: `"say \"hi\""`, "#{x}": `"\#{x}"`, "é\n": `"é\n"`} {
		if got := rubyInspect(in); got != want {
			t.Errorf("rubyInspect(%q) = %s, want %s", in, got, want)
		}
	}
	if got := rubyList([]string{"a", "b"}); got != `["a", "b"]` {
		t.Errorf("rubyList = %s", got)
	}
}
