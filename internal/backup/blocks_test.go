package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckSnapshot(t *testing.T) {
	ulid, block := testBlock(t)
	write := func(t *testing.T, edit func(dir string)) string {
		t.Helper()
		snap := t.TempDir()
		for rel, data := range block {
			p := filepath.Join(snap, ulid, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o700)
			if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if edit != nil {
			edit(filepath.Join(snap, ulid))
		}
		return snap
	}
	truncate := func(rel string, keep int) func(string) {
		return func(dir string) {
			p := filepath.Join(dir, filepath.FromSlash(rel))
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:keep], 0o600)
		}
	}
	tests := []struct {
		name    string
		snap    func(t *testing.T) string
		emptyOK bool
		want    string // "" means valid
	}{
		{"a block written by Prometheus' block writer is valid", func(t *testing.T) string { return write(t, nil) }, false, ""},
		{"an index cut short", func(t *testing.T) string { return write(t, truncate("index", 100)) }, false, "block " + ulid},
		{"a chunk segment cut short", func(t *testing.T) string { return write(t, truncate("chunks/000001", 20)) }, false, "block " + ulid},
		{"meta.json that is not JSON", func(t *testing.T) string {
			return write(t, func(d string) { os.WriteFile(filepath.Join(d, "meta.json"), []byte("{"), 0o600) })
		}, false, "block " + ulid},
		{"meta.json naming another block", func(t *testing.T) string {
			return write(t, func(d string) {
				data, _ := os.ReadFile(filepath.Join(d, "meta.json"))
				os.WriteFile(filepath.Join(d, "meta.json"), []byte(strings.Replace(string(data), ulid, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1)), 0o600)
			})
		}, false, "meta.json names block 01ARZ3NDEKTSV4RRFFQ69G5FAV"},
		{"no chunks directory", func(t *testing.T) string {
			return write(t, func(d string) { os.RemoveAll(filepath.Join(d, "chunks")) })
		}, false, "no chunks"},
		{"a stray file beside the blocks", func(t *testing.T) string {
			s := write(t, nil)
			os.WriteFile(filepath.Join(s, "junk"), []byte("x"), 0o600)
			return s
		}, false, "junk is not a block directory"},
		{"a directory not named like a block", func(t *testing.T) string {
			s := write(t, nil)
			os.Mkdir(filepath.Join(s, "wal"), 0o700)
			return s
		}, false, "wal is not named like a block"},
		{"no block at all", func(t *testing.T) string { return t.TempDir() }, false, "holds no block"},
		{"no block, and the manifest says Prometheus was empty", func(t *testing.T) string { return t.TempDir() }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := checkSnapshot(context.Background(), tt.snap(t), tt.emptyOK)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.emptyOK && n != 1 {
					t.Errorf("%d blocks, want 1", n)
				}
				return
			}
			if !errors.Is(err, ErrBadSnapshot) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("checkSnapshot: %v; want ErrBadSnapshot saying %q", err, tt.want)
			}
		})
	}
}
