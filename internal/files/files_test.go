package files_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/files"
)

func TestWriteIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "a.yml")
	if err := os.WriteFile(old, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// "blocked" is a file, so b/c.yml cannot be staged under it.
	if err := os.WriteFile(filepath.Join(dir, "blocked"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := files.Write(dir, []files.File{
		{Path: "a.yml", Data: []byte("new\n"), Mode: 0o644},
		{Path: "blocked/c.yml", Data: []byte("c\n"), Mode: 0o644},
	})
	if err == nil {
		t.Fatal("Write succeeded with an unwritable file")
	}
	got, _ := os.ReadFile(old)
	if string(got) != "old\n" {
		t.Errorf("a.yml = %q after a failed Write, want it untouched", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v after a failed Write, want only a.yml and blocked", names)
	}
}

func TestWriteModes(t *testing.T) {
	dir := t.TempDir()
	if err := files.Write(dir, []files.File{{Path: "s/secret", Data: []byte("x"), Mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "s", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
}

func TestWriteRefusesAFileAsDirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := files.Write(f, []files.File{{Path: "x", Data: []byte("x"), Mode: 0o644}})
	if !errors.Is(err, files.ErrBadOutDir) {
		t.Errorf("err = %v, want ErrBadOutDir", err)
	}
}

// Modes follow the umask and git keeps none but the executable bit: a
// clone made with umask 0002 is not drift, a private file made readable is.
func TestCheckModes(t *testing.T) {
	dir := t.TempDir()
	want := []files.File{
		{Path: "public.yml", Data: []byte("a\n"), Mode: 0o644},
		{Path: "private", Data: []byte("b\n"), Mode: 0o600},
	}
	if err := files.Write(dir, want); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "public.yml"), 0o664); err != nil {
		t.Fatal(err)
	}
	drifts, err := files.Check(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) != 0 {
		t.Fatalf("a group-writable public file is drift: %+v", drifts)
	}
	if err := os.Chmod(filepath.Join(dir, "private"), 0o644); err != nil {
		t.Fatal(err)
	}
	drifts, err = files.Check(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) != 1 || drifts[0].Path != "private" {
		t.Fatalf("a private file readable by others is not reported: %+v", drifts)
	}
}

// Sync writes what differs and nothing else: an unchanged file keeps its
// mtime, a changed or missing one is written, and the caller learns which.
func TestSyncWritesOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "same.yml")
	if err := os.WriteFile(same, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(same, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "edited.yml"), []byte("hand edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []files.File{
		{Path: "edited.yml", Data: []byte("spec\n"), Mode: 0o644},
		{Path: "new/missing.yml", Data: []byte("new\n"), Mode: 0o644},
		{Path: "same.yml", Data: []byte("same\n"), Mode: 0o644},
	}
	changed, err := files.Sync(dir, want)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range changed {
		paths = append(paths, f.Path)
	}
	if !slices.Equal(paths, []string{"edited.yml", "new/missing.yml"}) {
		t.Errorf("Sync wrote %v, want [edited.yml new/missing.yml]", paths)
	}
	for _, f := range want {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || string(got) != string(f.Data) {
			t.Errorf("%s = %q, %v after Sync, want %q", f.Path, got, err, f.Data)
		}
	}
	if fi, err := os.Stat(same); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("same.yml was rewritten (mtime %v, want %v)", fi.ModTime(), old)
	}
	again, err := files.Sync(dir, want)
	if err != nil || len(again) != 0 {
		t.Errorf("a second Sync wrote %d files (%v), want none", len(again), err)
	}
}

// ReadBounded reads regular files up to the limit and refuses the rest
// by what they are, without blocking on a FIFO that has no writer.
func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := files.ReadBounded(small, 5); err != nil || string(data) != "12345" {
		t.Errorf("at the limit: %q, %v", data, err)
	}
	if _, err := files.ReadBounded(small, 4); !errors.Is(err, files.ErrTooLarge) {
		t.Errorf("past the limit: %v, want ErrTooLarge", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := files.ReadBounded(fifo, 5); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, files.ErrNotRegular) || !strings.Contains(err.Error(), "a named pipe") {
			t.Errorf("FIFO: %v, want ErrNotRegular naming a named pipe", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadBounded blocked on a FIFO with no writer")
	}
	for p, what := range map[string]string{dir: "a directory", "/dev/zero": "a character device"} {
		if _, err := files.ReadBounded(p, 5); !errors.Is(err, files.ErrNotRegular) || !strings.Contains(err.Error(), what) {
			t.Errorf("%s: %v, want ErrNotRegular naming %s", p, err, what)
		}
	}
	if _, err := files.ReadBounded(filepath.Join(dir, "missing"), 5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}
