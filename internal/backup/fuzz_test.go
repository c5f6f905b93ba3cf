package backup

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzArchive is `backup verify` (and the extraction restore does) on any
// bytes (issue 17). The verdict is stable; a refusal names the archive
// and is one of the reader's kinds (ErrCorrupt, ErrUnauthenticated); an
// archive that passes extracts to exactly the members its manifest lists,
// no byte more.
func FuzzArchive(f *testing.F) {
	dir := f.TempDir()
	for i, members := range []map[string]string{
		{"config/prometheus/prometheus.yml": "global: {}\n", "alertmanager/silences.json": "[]"},
		{},
		{"prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ/meta.json": strings.Repeat("x", 3000)},
	} {
		for _, key := range [][]byte{testKey, []byte("another-key-0123456789-abcdefghijklmnop")} {
			var buf bytes.Buffer
			aw, err := newArchiveWriter(dir, time.Unix(0, 0))
			if err != nil {
				f.Fatal(err)
			}
			for name, body := range members {
				if err := aw.addBytes(context.Background(), name, []byte(body)); err != nil {
					f.Fatal(err)
				}
			}
			if err := aw.finish(context.Background(), &buf, &Manifest{Format: Format, Tool: "investiq-mon"}, key); err != nil {
				f.Fatalf("seed %d: %v", i, err)
			}
			f.Add(buf.Bytes())
		}
	}
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		p := filepath.Join(tmp, "a.tar.gz")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, trust := range []Trust{testTrust, {AllowUnsigned: true}} {
			m1, err1 := Verify(context.Background(), p, trust)
			m2, err2 := Verify(context.Background(), p, trust)
			if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("unstable verdict: %v, then %v", err1, err2)
			}
			if err1 != nil {
				if !errors.Is(err1, ErrCorrupt) && !errors.Is(err1, ErrUnauthenticated) {
					t.Errorf("refusal of an unexpected kind: %v", err1)
				}
				if !strings.HasPrefix(err1.Error(), p+": ") {
					t.Errorf("refusal does not name the archive: %v", err1)
				}
				continue
			}
			if m1.Total() != m2.Total() {
				t.Fatalf("unstable manifest")
			}
			out := filepath.Join(tmp, "out")
			os.RemoveAll(out)
			if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			m, err := Extract(context.Background(), p, out, trust)
			if err != nil {
				t.Fatalf("verify passes, extract fails: %v", err)
			}
			var total int64
			files := 0
			filepath.WalkDir(out, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					fi, _ := d.Info()
					total += fi.Size()
					files++
				}
				return nil
			})
			if total != m.Total() || files != len(m.Files) {
				t.Errorf("extracted %d bytes in %d files, manifest lists %d in %d", total, files, m.Total(), len(m.Files))
			}
		}
	})
}
