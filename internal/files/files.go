// Package files puts rendered files on disk and compares them with what is
// there: all or nothing, through temporary files and renames, so a reader
// never sees a half-written config and a failed run leaves the previous
// files in place. render decides what the files hold; this package is the
// one place that writes them (generate, up's compose path, the local
// backend's config directory) or checks them for drift (generate --check,
// doctor).
package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testhook"
)

// File is one rendered file.
type File = render.File

// Sync makes dir hold files: it writes, all or nothing (see Write), only
// those whose content differs from what is there, so unchanged ones keep
// their mtime and nothing that watches them wakes up for nothing. It
// returns the files it wrote, in the order of files.
func Sync(dir string, files []File) ([]File, error) {
	if err := UsableDir(dir); err != nil {
		return nil, err
	}
	drifts, err := Check(dir, files)
	if err != nil {
		return nil, err
	}
	changed := Changed(files, drifts)
	if len(changed) == 0 {
		return nil, nil
	}
	if err := Write(dir, changed); err != nil {
		return nil, err
	}
	return changed, nil
}

// Changed returns the files that drifts name, in the order of files.
func Changed(files []File, drifts []Drift) []File {
	differ := map[string]bool{}
	for _, d := range drifts {
		differ[d.Path] = true
	}
	var out []File
	for _, f := range files {
		if differ[f.Path] {
			out = append(out, f)
		}
	}
	return out
}

// Write puts files under dir all or nothing: every file is first written
// to a temporary file beside its destination, and only once all of them
// are on disk are they renamed into place. A failure before that leaves
// dir exactly as it was, and no reader ever sees a half-written config.
func Write(dir string, files []File) error {
	if err := checkOutDir(dir); err != nil {
		return err
	}
	type staged struct{ tmp, dst string }
	var done []staged
	cleanup := func() {
		for _, s := range done {
			os.Remove(s.tmp)
		}
	}
	for _, f := range files {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", dst, err)
		}
		removeStaleTemps(dst)
		tmp, err := writeTemp(dst, f.Data, f.Mode)
		if err != nil {
			cleanup()
			return err
		}
		done = append(done, staged{tmp, dst})
	}
	if err := testhook.Pause(context.Background(), "write:staged"); err != nil {
		cleanup()
		return err
	}
	for i, s := range done {
		if err := os.Rename(s.tmp, s.dst); err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w", s.dst, err)
		}
		if i == 0 {
			if err := testhook.Pause(context.Background(), "write:renamed-one"); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeStaleTemps removes the temporary files of dst that a run killed
// before its renames left behind. Callers hold the stack's lock, so no
// other run is writing them.
func removeStaleTemps(dst string) {
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), "."+globEscape(filepath.Base(dst))+".tmp-*"))
	for _, p := range old {
		os.Remove(p)
	}
}

// globEscape quotes the pattern characters of a file name.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// WriteFileAtomic writes one file through a temporary file and a rename.
func WriteFileAtomic(dst string, data []byte, mode fs.FileMode) error {
	removeStaleTemps(dst)
	tmp, err := writeTemp(dst, data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}

func writeTemp(dst string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	// Chmod before writing, so a secret is never readable by others, not
	// even for a moment.
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	return f.Name(), nil
}

// ErrBadOutDir is returned when the output directory cannot be used.
var ErrBadOutDir = errors.New("output directory cannot be used")

func checkOutDir(dir string) error {
	if err := UsableDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadOutDir, dir, errors.Unwrap(err))
	}
	return nil
}

// UsableDir reports whether files can be written under dir, creating
// nothing: dir is a writable directory, or does not exist yet below one.
func UsableDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		parent := filepath.Dir(filepath.Clean(dir))
		if parent == dir {
			return fmt.Errorf("%w: %s does not exist", ErrBadOutDir, dir)
		}
		return UsableDir(parent)
	case err != nil:
		return fmt.Errorf("%w: %s: %v", ErrBadOutDir, dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is a file, not a directory", ErrBadOutDir, dir)
	}
	probe, err := os.CreateTemp(dir, ".investiq-mon-probe-*")
	if err != nil {
		return fmt.Errorf("%w: %s is not writable: %v", ErrBadOutDir, dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// Drift is one file whose content on disk differs from what the spec
// renders.
type Drift struct {
	Path   string // relative, slash-separated
	Reason string // "missing", "differs", "mode 0644, want 0600"
	Diff   string // unified diff, on-disk -> rendered
}

// Check compares files with what is under dir and returns every
// difference; it writes nothing.
func Check(dir string, files []File) ([]Drift, error) {
	var drifts []Drift
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		got, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			drifts = append(drifts, Drift{Path: f.Path, Reason: "missing", Diff: unifiedDiff(f.Path, nil, f.Data)})
			continue
		case err != nil:
			return nil, fmt.Errorf("check %s: %w", p, err)
		}
		if !bytes.Equal(got, f.Data) {
			drifts = append(drifts, Drift{Path: f.Path, Reason: "differs from the spec", Diff: unifiedDiff(f.Path, got, f.Data)})
			continue
		}
		// Modes follow the umask and git keeps none but the executable bit,
		// so only a file that must be private and is readable by others
		// counts as drift.
		if fi, err := os.Stat(p); err == nil && f.Mode.Perm()&0o077 == 0 && fi.Mode().Perm()&0o077 != 0 {
			drifts = append(drifts, Drift{Path: f.Path, Reason: fmt.Sprintf("mode %04o, want %04o", fi.Mode().Perm(), f.Mode.Perm())})
		}
	}
	return drifts, nil
}

func unifiedDiff(path string, a, b []byte) string {
	d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(a)), B: difflib.SplitLines(string(b)),
		FromFile: path + " (on disk)", ToFile: path + " (from spec)", Context: 3,
	})
	return d
}
