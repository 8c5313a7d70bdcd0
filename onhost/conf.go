package onhost

import (
	"fmt"
	"strings"
)

// Conf is a data file a script on the host reads: one "KEY VALUE" line
// per value, read as data, never run. Lists repeat their key.
type Conf struct {
	lines []string
	err   error
}

// Add adds a line for each value; a value with a line break is an error
// Text returns, since it would end its line.
func (c *Conf) Add(key string, values ...string) {
	for _, v := range values {
		if strings.ContainsAny(v, "\n\r") && c.err == nil {
			c.err = fmt.Errorf("%s %q: a line break cannot be passed to the host", key, v)
		}
		c.lines = append(c.lines, key+" "+v)
	}
}

// Text is the file's content, or the first value Add could not take.
func (c *Conf) Text() ([]byte, error) {
	return []byte(strings.Join(c.lines, "\n") + "\n"), c.err
}
