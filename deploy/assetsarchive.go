package deploy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// The Docker Engine hands out a directory DIR/. as a tar archive whose
// names start with "./", and extracts an archive into a directory chrooted
// in the container, so links in it never lead out to the host. Between the
// two, ship reads the archive in Go: it makes the names relative, leaves
// out what the target already has, and keeps only files, directories and
// links, so no device node from an image reaches a volume.

// archiveNames lists the entries of an archive of DIR/., relative to DIR,
// and whether each is a directory.
func archiveNames(r io.Reader) (map[string]bool, error) {
	names := map[string]bool{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		name, err := relative(h.Name)
		if err != nil {
			return nil, err
		}
		if name != "" {
			names[name] = h.Typeflag == tar.TypeDir
		}
	}
}

// rebase copies the archive of DIR/. from r to w with names relative to
// DIR, leaving out DIR itself, every name that existing has, everything
// under a name existing has that is not a directory, and every entry that
// is not a file, directory or link. Modes lose setuid, setgid and sticky
// bits. It returns how many files it copied.
func rebase(r io.Reader, w io.Writer, existing map[string]bool) (int, error) {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	files := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return files, fmt.Errorf("read archive: %w", err)
		}
		name, err := relative(h.Name)
		if err != nil {
			return files, err
		}
		if name == "" || shadowed(name, existing) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink:
		case tar.TypeLink:
			if h.Linkname, err = relative(h.Linkname); err != nil {
				return files, err
			}
			if h.Linkname == "" || shadowed(h.Linkname, existing) {
				continue // a link to what was left out, or to DIR
			}
		default:
			continue
		}
		h.Name = name
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.Mode &= 0o777
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return files, fmt.Errorf("write archive: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, tr); err != nil {
				return files, fmt.Errorf("copy %s: %w", name, err)
			}
			files++
		}
	}
	if err := tw.Close(); err != nil {
		return files, fmt.Errorf("write archive: %w", err)
	}
	return files, nil
}

// relative is an archive name relative to DIR: "" for DIR itself. A name
// that climbs out of DIR is an error.
func relative(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	switch {
	case clean == ".":
		return "", nil
	case path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../"):
		return "", fmt.Errorf("archive entry %q is outside the directory", name)
	}
	return clean, nil
}

// shadowed reports whether the target has name, or has a name above it
// that is not a directory (so nothing can go under it).
func shadowed(name string, existing map[string]bool) bool {
	if _, ok := existing[name]; ok {
		return true
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if isDir, ok := existing[dir]; ok && !isDir {
			return true
		}
	}
	return false
}
