package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/stack"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Issue 17, bounded resources: an archive whose manifest honestly lists a
// 1 GiB member of zeros (about 1 MB compressed) passes verify; restore
// compares its total with the free space where it stages before it
// unpacks anything, and refuses with the numbers when it does not fit:
// no staging directory, no server stopped, the data as it was.
func TestRestoreRefusesAnArchiveLargerThanTheFreeSpace(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 1 GiB")
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "big.tar.gz")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	aw, err := newArchiveWriter(dir, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const member = "prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001"
	if err := aw.add(context.Background(), member, 1<<30, io.LimitReader(zeros{}, 1<<30), nil); err != nil {
		t.Fatal(err)
	}
	if err := aw.finish(context.Background(), f, &Manifest{Format: Format, Tool: "investiq-mon"}, testKey); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(archive); fi.Size() > 8<<20 {
		t.Fatalf("the archive is %d bytes; the test wants a small one", fi.Size())
	}

	// The stage's file system has 512 MiB free.
	orig := freeBytes
	freeBytes = func(string) (uint64, error) { return 512 << 20, nil }
	t.Cleanup(func() { freeBytes = orig })

	data := filepath.Join(t.TempDir(), "data")
	prom := filepath.Join(data, "prometheus")
	if err := os.MkdirAll(prom, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, verified := range []bool{false, true} {
		st := &flakyStack{}
		_, err = Restore(context.Background(), RestoreOptions{
			Archive: archive, Data: LocalFiles{Prometheus: prom, Alertmanager: filepath.Join(data, "alertmanager")},
			Endpoints: stack.Endpoints{Prometheus: "http://127.0.0.1:1", Alertmanager: "http://127.0.0.1:1"},
			Stack:     st, Trust: testTrust, Verified: verified,
		})
		if !errors.Is(err, ErrNoSpace) {
			t.Fatalf("Restore (verified %v): %v; want ErrNoSpace", verified, err)
		}
		for _, w := range []string{"unpacks to 1.0 GiB (1073741824 bytes in 1 files)", "has 512.0 MiB free", "nothing was changed"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the refusal does not say %q: %v", w, err)
			}
		}
		if len(st.calls) > 0 {
			t.Errorf("servers were touched: %v", st.calls)
		}
		entries, _ := os.ReadDir(data)
		if len(entries) != 1 || entries[0].Name() != "prometheus" {
			t.Errorf("restore wrote into the data dir: %v", entries)
		}
	}
	// With the space there, the same archive verifies: it is honest.
	freeBytes = func(string) (uint64, error) { return 4 << 30, nil }
	if _, err := Verify(context.Background(), archive, testTrust); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
