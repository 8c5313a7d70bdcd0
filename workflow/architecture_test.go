package workflow

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitecturePageNamesWhatExists reads docs/architecture.md: every
// `dir/file.go` it names must exist, and every `Func` or `Type.Method`
// written right after a file (`deploy/swap.go` `Run`, `swap.run`) must be
// declared in that file. A renamed function breaks this test, not the page
// silently.
func TestArchitecturePageNamesWhatExists(t *testing.T) {
	page, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	refs := architectureRefs(string(page))
	if len(refs) < 20 {
		t.Fatalf("found %d references in the page; the parser or the page is off", len(refs))
	}
	decls := map[string]map[string]bool{}
	for _, r := range refs {
		if _, ok := decls[r.file]; !ok {
			names, err := declared(filepath.Join("..", r.file))
			if err != nil {
				t.Errorf("docs/architecture.md names %s: %v", r.file, err)
			}
			decls[r.file] = names
		}
		if r.fn != "" && !decls[r.file][r.fn] {
			t.Errorf("docs/architecture.md names %s in %s, which declares no such function", r.fn, r.file)
		}
	}
}

func TestArchitectureRefs(t *testing.T) {
	got := architectureRefs("| x | `a/b.go` `F`, `T.m` and `c/d.go` | `e.f` `g/h.go` `G`\n`i/j.go` text `k`")
	want := []architectureRef{{"a/b.go", ""}, {"a/b.go", "F"}, {"a/b.go", "T.m"}, {"c/d.go", ""}, {"g/h.go", ""}, {"g/h.go", "G"}, {"i/j.go", ""}}
	if len(got) != len(want) {
		t.Fatalf("refs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ref %d = %v, want %v", i, got[i], want[i])
		}
	}
}

type architectureRef struct{ file, fn string }

var codeSpan = regexp.MustCompile("`([^`]+)`")

// architectureRefs lists the files the page names, each with the
// functions that follow it, separated only by commas and spaces.
func architectureRefs(page string) []architectureRef {
	var out []architectureRef
	for _, line := range strings.Split(page, "\n") {
		file, end := "", 0
		for _, m := range codeSpan.FindAllStringSubmatchIndex(line, -1) {
			span, between := line[m[2]:m[3]], line[end:m[0]]
			end = m[1]
			switch {
			case strings.HasSuffix(span, ".go"):
				file = span
				out = append(out, architectureRef{file: file})
			case file != "" && strings.Trim(between, ", ") == "" && regexp.MustCompile(`^\w+(\.\w+)?$`).MatchString(span):
				out = append(out, architectureRef{file: file, fn: span})
			default:
				file = ""
			}
		}
	}
	return out
}

// declared lists a Go file's functions, and its methods as Type.Method.
func declared(file string) (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		name := fn.Name.Name
		if fn.Recv != nil && len(fn.Recv.List) == 1 {
			typ := fn.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				name = id.Name + "." + name
			}
		}
		names[name] = true
	}
	return names, nil
}
