package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/stack"
)

// flakyStack fails the first start of a component.
type flakyStack struct {
	calls    []string
	failOnce map[string]bool
}

func (f *flakyStack) Stop(_ context.Context, c string) (bool, error) {
	f.calls = append(f.calls, "stop "+c)
	return true, nil
}

func (f *flakyStack) Start(_ context.Context, c string) error {
	f.calls = append(f.calls, "start "+c)
	if f.failOnce[c] {
		f.failOnce[c] = false
		return errors.New("port 9090 in use")
	}
	return nil
}

// TestRestoreRollsBack: when the restored Prometheus does not start, the
// previous data dir is put back, the server started on it again, and no
// staging or aside directory stays behind.
func TestRestoreRollsBack(t *testing.T) {
	ulid, block := testBlock(t)
	archive := writeTestArchive(t, snapshotMembers(ulid, block, map[string]string{
		"config/prometheus/prometheus.yml": "global: {}\n",
	}))
	data := filepath.Join(t.TempDir(), "data")
	prom := filepath.Join(data, "prometheus")
	if err := os.MkdirAll(filepath.Join(prom, "01OLD"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(prom, "01OLD", "meta.json"), []byte("old"), 0o600)
	st := &flakyStack{failOnce: map[string]bool{Prometheus: true}}
	_, err := Restore(context.Background(), RestoreOptions{
		Archive: archive, Data: LocalFiles{Prometheus: prom, Alertmanager: filepath.Join(data, "alertmanager")},
		Endpoints: stack.Endpoints{Prometheus: "http://127.0.0.1:1", Alertmanager: "http://127.0.0.1:1"}, Stack: st, Trust: testTrust,
	})
	if err == nil || !strings.Contains(err.Error(), "port 9090 in use") || !strings.Contains(err.Error(), "previous data was put back") {
		t.Fatalf("Restore: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(prom, "01OLD", "meta.json")); string(got) != "old" {
		t.Error("the previous data is not back")
	}
	if _, err := os.Stat(filepath.Join(prom, ulid)); !os.IsNotExist(err) {
		t.Error("the restored block stayed after the rollback")
	}
	entries, _ := os.ReadDir(data)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"prometheus"}) {
		t.Errorf("left in the data dir: %v", names)
	}
	if want := []string{"stop prometheus", "start prometheus", "stop prometheus", "start prometheus"}; !slices.Equal(st.calls, want) {
		t.Errorf("stack calls %v, want %v", st.calls, want)
	}
}
