package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Kamal renders deploy.yml through ERB. ship supports the two forms configs
// use to read the environment; anything else would need Ruby.
var (
	erbTagRE   = regexp.MustCompile(`(?s)<%.*?%>`)
	erbEnvRE   = regexp.MustCompile(`^<%=\s*ENV\[\s*(?:"([^"]+)"|'([^']+)')\s*\]\s*-?%>$`)
	erbFetchRE = regexp.MustCompile(`^<%=\s*ENV\.fetch\(\s*(?:"([^"]+)"|'([^']+)')\s*(?:,\s*(?:"([^"]*)"|'([^']*)'))?\s*\)\s*-?%>$`)
)

// renderERB substitutes the supported ERB tags and reports any other as a
// problem at its line and column. Tags inside YAML comment lines are left
// alone, as they cannot affect the configuration.
func renderERB(file string, src []byte) ([]byte, Problems) {
	var problems Problems
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "#") || !strings.Contains(line, "<%") {
			continue
		}
		lines[i] = erbTagRE.ReplaceAllStringFunc(line, func(tag string) string {
			col := strings.Index(line, tag) + 1
			v, err := evalERB(tag)
			if err != nil {
				problems = append(problems, Problem{File: file, Line: i + 1, Column: col, Message: err.Error()})
				return ""
			}
			return v
		})
		if strings.Contains(lines[i], "<%") {
			col := strings.Index(lines[i], "<%") + 1
			problems = append(problems, Problem{File: file, Line: i + 1, Column: col, Message: "unclosed ERB tag <%"})
		}
	}
	return []byte(strings.Join(lines, "\n")), problems
}

func evalERB(tag string) (string, error) {
	if strings.HasPrefix(tag, "<%#") {
		return "", nil
	}
	if m := erbEnvRE.FindStringSubmatch(tag); m != nil {
		v := os.Getenv(m[1] + m[2])
		return v, nil
	}
	if m := erbFetchRE.FindStringSubmatchIndex(tag); m != nil {
		group := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return tag[m[2*i]:m[2*i+1]]
		}
		name := group(1) + group(2)
		if v, ok := os.LookupEnv(name); ok {
			return v, nil
		}
		if hasDefault := m[6] >= 0 || m[8] >= 0; hasDefault {
			return group(3) + group(4), nil
		}
		return "", fmt.Errorf("environment variable %s is not set (ENV.fetch has no default)", name)
	}
	return "", fmt.Errorf(`unsupported ERB %s: ship evaluates only <%%= ENV["NAME"] %%> and <%%= ENV.fetch("NAME", "default") %%>`, tag)
}
