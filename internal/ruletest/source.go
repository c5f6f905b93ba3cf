package ruletest

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
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
// source of `investiq-mon test FILE...`.
type Disk struct{}

func (Disk) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
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
