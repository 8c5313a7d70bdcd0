package build

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/go-archive"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// buildContext makes the build context Docker's CLI sends for a context
// directory and a Dockerfile, both relative to the project root as Kamal
// passes them to docker build: a tar of the directory without what its
// .dockerignore excludes. It also returns the Dockerfile's name in the tar.
func buildContext(root, dir, dockerfile string) (io.ReadCloser, string, error) {
	if dir == "" {
		dir = "."
	}
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	dir, err := realPath(root, dir)
	if err != nil {
		return nil, "", fmt.Errorf("builder.context: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, "", fmt.Errorf("builder.context: %w", err)
	} else if !fi.IsDir() {
		return nil, "", fmt.Errorf("builder.context: %s is not a directory", dir)
	}
	file, err := realPath(root, dockerfile)
	if err != nil {
		return nil, "", fmt.Errorf("builder.dockerfile: %w", err)
	}

	excludes, err := readDockerignore(dir)
	if err != nil {
		return nil, "", err
	}
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", filepath.Join(dir, ".dockerignore"), err)
	}
	if err := checkReadable(dir, pm); err != nil {
		return nil, "", fmt.Errorf("builder.context: %w", err)
	}
	// The engine needs the Dockerfile and .dockerignore even when
	// .dockerignore excludes them; it leaves them out of COPY itself.
	if ignored, _ := pm.MatchesOrParentMatches(".dockerignore"); ignored {
		excludes = append(excludes, "!.dockerignore")
	}
	name, err := filepath.Rel(dir, file)
	if err != nil {
		return nil, "", fmt.Errorf("builder.dockerfile: %w", err)
	}
	outside := name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator))
	if !outside {
		if ignored, _ := pm.MatchesOrParentMatches(name); ignored {
			excludes = append(excludes, "!"+name)
		}
	}

	var content []byte
	if outside {
		if content, err = os.ReadFile(file); err != nil {
			return nil, "", fmt.Errorf("builder.dockerfile: %w", err)
		}
	}
	tarball, err := archive.TarWithOptions(dir, &archive.TarOptions{
		ExcludePatterns: excludes,
		// Files belong to root in the image whoever owns them here.
		ChownOpts: &archive.ChownOpts{UID: 0, GID: 0},
	})
	if err != nil {
		return nil, "", fmt.Errorf("builder.context: %w", err)
	}
	if outside {
		tarball, name = addDockerfile(tarball, content)
	}
	return tarball, filepath.ToSlash(name), nil
}

// realPath resolves a path relative to the project root and its symbolic
// links, as Docker's CLI does before it compares the Dockerfile's path
// with the context directory's.
func realPath(root, path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(path)
}

// readDockerignore reads the context directory's .dockerignore, if any.
func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	excludes, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return excludes, nil
}

// checkReadable fails on a file of the context that cannot be read, as
// Docker's CLI does: the tar would leave it out with only a log line.
func checkReadable(dir string, pm *patternmatcher.PatternMatcher) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel != "." {
			if skip, err := pm.MatchesOrParentMatches(rel); err != nil {
				return err
			} else if skip && d.IsDir() {
				return filepath.SkipDir
			} else if skip {
				return nil
			}
		}
		// Only regular files: symbolic links may dangle and opening a
		// named pipe would block.
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		return f.Close()
	})
}

// addDockerfile puts a Dockerfile from outside the context directory into
// the context under a random name, and adds that name to .dockerignore so
// that COPY . leaves it out, as Docker's CLI does. It returns the name.
func addDockerfile(tarball io.ReadCloser, content []byte) (io.ReadCloser, string) {
	name := ".dockerfile." + strings.ToLower(rand.Text())
	now := time.Now()
	header := func(name string) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o600, ModTime: now, Typeflag: tar.TypeReg}
	}
	return archive.ReplaceFileTarWrapper(tarball, map[string]archive.TarModifierFunc{
		name: func(string, *tar.Header, io.Reader) (*tar.Header, []byte, error) {
			return header(name), content, nil
		},
		".dockerignore": func(_ string, h *tar.Header, r io.Reader) (*tar.Header, []byte, error) {
			var b bytes.Buffer
			if h == nil {
				h = header(".dockerignore")
				b.WriteString(".dockerignore")
			} else if _, err := b.ReadFrom(r); err != nil {
				return nil, nil, err
			}
			b.WriteString("\n" + name + "\n")
			return h, b.Bytes(), nil
		},
	}), name
}
