package backup

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/spec"
)

// A restore killed at any point leaves a journal; Recover reads it and
// finishes (once the restored servers were ready) or rolls back.
func TestRecoverLocal(t *testing.T) {
	setup := func(t *testing.T, phase string, prom, am string) (RestoreOptions, *flakyStack, string) {
		t.Helper()
		data := filepath.Join(t.TempDir(), "data")
		dirs := LocalFiles{Prometheus: filepath.Join(data, "prometheus"), Alertmanager: filepath.Join(data, "alertmanager")}
		stamp := "20260101T000000Z"
		layout := map[string]string{
			// What each kill point leaves: "old" data aside, "new" in place.
			"prometheus":                           prom,
			"alertmanager":                         am,
			"prometheus.pre-restore-" + stamp:      "old",
			"alertmanager.pre-restore-" + stamp:    "old",
			".restore-123/prometheus/snapshot/x/y": "stage",
		}
		for p, v := range layout {
			if v == "" {
				continue
			}
			os.MkdirAll(filepath.Join(data, p), 0o700)
			os.WriteFile(filepath.Join(data, p, "which"), []byte(v), 0o600)
		}
		if am == "old" { // not swapped yet: nothing aside for it
			os.RemoveAll(filepath.Join(data, "alertmanager.pre-restore-"+stamp))
		}
		st := &flakyStack{}
		o := RestoreOptions{Data: dirs, Stack: st}
		if err := writeJournal(data, Journal{Stamp: stamp, Archive: "b.tar.gz", Started: time.Unix(0, 0), Phase: phase, Components: []string{Prometheus, Alertmanager}}); err != nil {
			t.Fatal(err)
		}
		return o, st, data
	}
	which := func(data, dir string) string {
		b, _ := os.ReadFile(filepath.Join(data, dir, "which"))
		return string(b)
	}
	tests := []struct {
		name, phase, prom, am string
		want, said            string
		calls                 []string
	}{
		{"killed after Prometheus' data was swapped: rolled back", phaseSwapping, "new", "old", "old", "rolled back",
			[]string{"stop prometheus", "stop alertmanager", "start prometheus", "start alertmanager"}},
		{"killed between moving aside and moving in (no data dir): rolled back", phaseSwapping, "", "old", "old", "rolled back",
			[]string{"stop prometheus", "stop alertmanager", "start prometheus", "start alertmanager"}},
		{"killed while the restored servers started: rolled back", phaseSwapped, "new", "new", "old", "rolled back",
			[]string{"stop prometheus", "stop alertmanager", "start prometheus", "start alertmanager"}},
		{"killed after the restored servers were ready: finished", phaseReady, "new", "new", "new", "finished", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, st, data := setup(t, tt.phase, tt.prom, tt.am)
			note, err := Recover(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(note, tt.said) || !strings.Contains(note, "b.tar.gz") {
				t.Errorf("note %q, want it to say %q", note, tt.said)
			}
			for _, c := range []string{"prometheus", "alertmanager"} {
				if got := which(data, c); got != tt.want {
					t.Errorf("%s holds the %q data, want %q", c, got, tt.want)
				}
			}
			entries, _ := os.ReadDir(data)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"alertmanager", "prometheus"}) {
				t.Errorf("left in the data dir: %v", names)
			}
			if !slices.Equal(st.calls, tt.calls) {
				t.Errorf("stack calls %v, want %v", st.calls, tt.calls)
			}
			if note, err := Recover(context.Background(), o); note != "" || err != nil {
				t.Errorf("a second Recover: %q, %v; want nothing to do", note, err)
			}
		})
	}
}

// The compose stack keeps the old data inside the volume; Recover puts it
// back with the same helper container as a failed restore.
func TestRecoverCompose(t *testing.T) {
	docker, root, argvLog := fakeDockerVolumes(t)
	promDir, _ := seedVolumes(t, root)
	stamp := "20260101T000000Z"
	// Killed after Prometheus' volume was swapped: old data aside, new in.
	aside := filepath.Join(promDir, ".pre-restore-"+stamp)
	os.MkdirAll(aside, 0o755)
	for _, e := range []string{"01OLD", "wal"} {
		os.Rename(filepath.Join(promDir, e), filepath.Join(aside, e))
	}
	os.MkdirAll(filepath.Join(promDir, "01NEW"), 0o755)
	df := ComposeFiles(spec.InvestIQ(spec.Settings{}), docker, "")
	stage := t.TempDir()
	if err := writeJournal(stage, Journal{Stamp: stamp, Archive: "b.tar.gz", Phase: phaseSwapping, Components: []string{Prometheus}}); err != nil {
		t.Fatal(err)
	}
	note, err := Recover(context.Background(), RestoreOptions{Data: df, Stack: df, StageDir: stage})
	if err != nil || !strings.Contains(note, "rolled back") {
		t.Fatalf("Recover: %q, %v", note, err)
	}
	if got := names(t, promDir); !slices.Equal(got, []string{"01OLD", "wal"}) {
		t.Errorf("prometheus volume after recovery: %v, want the old data", got)
	}
	argv, _ := os.ReadFile(argvLog)
	for _, want := range []string{"stop investiq-prometheus", "start investiq-prometheus"} {
		if !strings.Contains(string(argv), want) {
			t.Errorf("docker calls lack %q:\n%s", want, argv)
		}
	}
}
