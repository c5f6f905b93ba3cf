package ruletest

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"

	"github.com/investiq/investiq-mon/internal/files"
)

// Source is where test files and the rule files they name are read from.
// A rule file is named relative to its test file's directory, as promtool
// resolves it, and may be a glob.
type Source interface {
	ReadFile(name string) ([]byte, error)
	Glob(pattern string) ([]string, error)
	// Dir is the directory of a test file; Join resolves a rule file
	// named in it against that directory.
	Dir(name string) string
	Join(dir, name string) string
}

// Disk reads OS paths, relative to the working directory or absolute: the
// source of `investiq-mon test FILE...`. It reads regular files of at
// most MaxFileSize bytes only, as validate does: a 100 MB test file, or a
// rule file named /dev/zero, is an error at that file, not a read that
// exhausts memory or never ends.
type Disk struct{}

// MaxFileSize bounds every file Disk reads: validate's limit, far above
// any real test or rule file.
const MaxFileSize = 32 << 20

// ErrInput is a file Disk refuses to read: not a regular file, or past
// MaxFileSize.
var ErrInput = errors.New("refused")

func (Disk) ReadFile(name string) ([]byte, error) {
	data, err := files.ReadBounded(name, MaxFileSize)
	if errors.Is(err, files.ErrNotRegular) || errors.Is(err, files.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return data, err
}

func (Disk) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }
func (Disk) Dir(name string) string                { return filepath.Dir(name) }
func (Disk) Join(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

// FS reads slash-separated paths from an fs.FS, e.g. an fstest.MapFS of a
// render held in memory, so the rule files a generated test names are the
// ones rendered with it, not whatever lies on disk.
type FS struct{ FS fs.FS }

func (s FS) ReadFile(name string) ([]byte, error)  { return fs.ReadFile(s.FS, name) }
func (s FS) Glob(pattern string) ([]string, error) { return fs.Glob(s.FS, pattern) }
func (FS) Dir(name string) string                  { return path.Dir(name) }
func (FS) Join(dir, name string) string            { return path.Join(dir, name) }
