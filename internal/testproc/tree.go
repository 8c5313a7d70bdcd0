package testproc

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Tree describes everything under dir, one line per entry: its path below
// dir, mode, owner and, for a regular file, a hash of its content. Two
// calls return the same text only if nothing under dir was added,
// removed, changed, chmodded or chowned; links are described, never
// followed.
func Tree(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		owner, sum := "?", ""
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			owner = fmt.Sprintf("%d:%d", st.Uid, st.Gid)
		}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", strings.TrimPrefix(p, dir), info.Mode(), owner, sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
