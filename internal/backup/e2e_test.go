package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	ammodels "github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// liveStack is a real Prometheus 3.16 and Alertmanager 0.31.1 behind the
// basic auth the stack generates (web config with a bcrypt hash, password
// from .env), laid out as the local backend lays out its state dir.
type liveStack struct {
	dir, monitoring string
	layout          stack.Layout
	spec            *spec.Spec
	env             *secrets.Env
	ep              stack.Endpoints
	prom, am        *testutil.Daemon
	calls           *callLog
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *callLog) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Stop and Start make liveStack the restore's Stack, recording each call.
func (l *liveStack) daemon(c string) *testutil.Daemon {
	if c == Prometheus {
		return l.prom
	}
	return l.am
}
func (l *liveStack) Stop(ctx context.Context, c string) (bool, error) {
	l.calls.add("stop " + c)
	return true, l.daemon(c).Stop(ctx)
}
func (l *liveStack) Start(ctx context.Context, c string) error {
	l.calls.add("start " + c)
	return l.daemon(c).Start(ctx)
}

// exporter serves a few series that change on every scrape.
func exporter(t *testing.T) *httptest.Server {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "investiq_http_requests_total", Help: "test"}, []string{"route"})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "investiq_inflight", Help: "test"})
	reg.MustRegister(reqs, inflight)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	var n float64
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		reqs.WithLabelValues("/api/quote").Add(3)
		reqs.WithLabelValues("/api/analyze").Inc()
		inflight.Set(n)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func startLiveStack(t *testing.T) *liveStack {
	t.Helper()
	promBin, amBin := testutil.Bin(t, "prometheus"), testutil.Bin(t, "alertmanager")
	l := &liveStack{dir: t.TempDir(), calls: &callLog{}}
	l.monitoring = filepath.Join(l.dir, "monitoring")
	l.layout = stack.Layout{Root: filepath.Join(l.dir, stack.DefaultStateDir)}
	l.spec = spec.InvestIQ(spec.Settings{})
	rendered, err := render.Render(l.spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.Write(l.monitoring, rendered); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Ensure(l.monitoring, l.spec); err != nil {
		t.Fatal(err)
	}
	if l.env, err = secrets.Load(l.monitoring); err != nil {
		t.Fatal(err)
	}
	if err := l.env.WriteFiles(l.spec, l.layout.SecretsDir(), l.layout.WebConfig()); err != nil {
		t.Fatal(err)
	}
	l.spec.WebConfigFile = l.layout.WebConfig()

	exp := exporter(t)
	cfgDir := l.layout.ConfigDir()
	writeYAML(t, filepath.Join(cfgDir, "prometheus.yml"), map[string]any{
		"global": map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"scrape_configs": []any{map[string]any{
			"job_name": "exp", "static_configs": []any{map[string]any{"targets": []string{strings.TrimPrefix(exp.URL, "http://")}}},
		}},
	})
	writeYAML(t, filepath.Join(cfgDir, "alertmanager.yml"), map[string]any{
		"route":     map[string]any{"receiver": "null"},
		"receivers": []any{map[string]any{"name": "null"}},
	})
	promAddr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	amAddr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	l.ep = stack.Endpoints{
		Backend: stack.Local, Prometheus: "http://" + promAddr, Alertmanager: "http://" + amAddr,
		User: l.spec.StackUser, Password: l.env.StackPassword(),
	}
	l.am = testutil.StartDaemon(t, &testutil.Daemon{
		Name: "alertmanager", Bin: amBin,
		Args: append(l.spec.AlertmanagerArgs(filepath.Join(cfgDir, "alertmanager.yml"), l.layout.AlertmanagerData()),
			"--web.listen-address="+amAddr, "--cluster.listen-address="),
		ReadyURL: l.ep.Alertmanager + "/-/ready", User: l.ep.User, Password: l.ep.Password,
	})
	l.prom = testutil.StartDaemon(t, &testutil.Daemon{
		Name: "prometheus", Bin: promBin,
		Args: append(l.spec.PrometheusArgs(filepath.Join(cfgDir, "prometheus.yml"), l.layout.PrometheusData()),
			"--web.listen-address="+promAddr),
		ReadyURL: l.ep.Prometheus + "/-/ready", User: l.ep.User, Password: l.ep.Password,
	})
	return l
}

func writeYAML(t *testing.T, p string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (l *liveStack) trust() Trust {
	return Trust{Key: l.env.BackupKey(), KeySource: l.env.Path}
}

func (l *liveStack) rendered() LocalFiles {
	return LocalFiles{Prometheus: l.layout.PrometheusData(), Alertmanager: l.layout.AlertmanagerData(), Grafana: l.layout.GrafanaData()}
}

// counts is count_over_time for every series over (at-window, at]: the
// number of samples Prometheus holds for it in that fixed range.
func (l *liveStack) counts(t *testing.T, at time.Time, window time.Duration) map[string]float64 {
	t.Helper()
	api, err := promAPI(l.ep)
	if err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf(`count_over_time({job="exp", __name__=~"investiq_.*"}[%s])`, model.Duration(window))
	v, warn, _, err := api.Query(context.Background(), q, at)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(warn) > 0 {
		t.Logf("warnings: %v", warn)
	}
	out := map[string]float64{}
	for _, s := range v.(model.Vector) {
		out[s.Metric.String()] = float64(s.Value)
	}
	return out
}

func (l *liveStack) silences(t *testing.T) []string {
	t.Helper()
	am, err := amAPI(l.ep)
	if err != nil {
		t.Fatal(err)
	}
	sils, err := amSilences(context.Background(), am)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sils {
		if *s.Status.State == ammodels.SilenceStatusStateActive {
			out = append(out, silenceKey(&s.Silence))
		}
	}
	slices.Sort(out)
	return out
}

func ptr[T any](v T) *T { return &v }

// treeNames lists every path below dir, for "nothing changed" checks.
func treeNames(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestRoundTrip is issue 6's acceptance test: samples scraped by a real
// Prometheus and a silence in a real Alertmanager survive backup, a wiped
// stack and restore, with identical sample counts per series over the
// backed-up range.
func TestRoundTrip(t *testing.T) {
	l := startLiveStack(t)
	start := time.Now()
	ctx := context.Background()

	// Let Prometheus scrape a while: every series needs several samples.
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := l.counts(t, time.Now(), time.Hour)
		ok := len(c) == 3
		for _, v := range c {
			ok = ok && v >= 6
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not scrape enough samples: %v", c)
		}
		time.Sleep(500 * time.Millisecond)
	}
	am, err := amAPI(l.ep)
	if err != nil {
		t.Fatal(err)
	}
	ends := strfmt.DateTime(time.Now().Add(48 * time.Hour))
	if err := postSilence(ctx, am, ammodels.Silence{
		Matchers:  ammodels.Matchers{{Name: ptr("alertname"), Value: ptr("InvestIQHighLatency"), IsRegex: ptr(false), IsEqual: ptr(true)}},
		StartsAt:  ptr(strfmt.DateTime(time.Now())),
		EndsAt:    &ends,
		CreatedBy: ptr("oncall"), Comment: ptr("maintenance window"),
	}); err != nil {
		t.Fatal(err)
	}
	wantSilences := l.silences(t)
	if len(wantSilences) != 1 {
		t.Fatalf("silences before backup: %v", wantSilences)
	}
	// Alertmanager writes its state files every 15 minutes and at
	// shutdown: restart it so the archive holds them and the restore
	// puts them back (the CLI round trip covers the API-only path).
	if err := l.am.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.am.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// The fixed range: everything scraped so far, ending a second ago so
	// no scrape is in flight at its end.
	at := time.Now().Add(-time.Second).Truncate(time.Second)
	window := at.Sub(start.Truncate(time.Second)) + time.Minute
	want := l.counts(t, at, window)
	if len(want) != 3 {
		t.Fatalf("series before backup: %v", want)
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	archive := filepath.Join(l.dir, "backup.tar.gz")
	m, err := Create(ctx, Options{
		Output: archive, Endpoints: l.ep, Files: l.rendered(), MonitoringDir: l.monitoring,
		Secrets: l.env.Values(l.spec), Log: log, Key: l.env.BackupKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Prometheus, Alertmanager, Config} {
		if c, ok := m.Component(name); !ok || c.Status != Saved {
			t.Errorf("component %s: %+v, want saved", name, c)
		}
	}
	if c, _ := m.Component(Grafana); c.Status != Skipped {
		t.Errorf("grafana without a URL: %+v, want skipped", c)
	}
	if c, _ := m.Component(Prometheus); c.Version == "" || c.Samples == 0 {
		t.Errorf("prometheus component lacks version or samples: %+v", c)
	}
	if entries, _ := os.ReadDir(filepath.Join(l.layout.PrometheusData(), "snapshots")); len(entries) != 0 {
		t.Errorf("snapshot left behind after backup: %v", entries)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive: %v, mode %v; want 0600", err, fi.Mode())
	}
	if !m.Has(dirAMState+"/silences") || !m.Has(dirAMState+"/nflog") {
		t.Errorf("alertmanager state files not archived: %v", m.Files)
	}
	if !m.Has("config/prometheus/prometheus.yml") || m.Has("config/.env") {
		t.Errorf("config in the archive: want prometheus.yml and no .env, got %v", m.Files)
	}
	assertNoSecrets(t, l, archive, logs.String())

	// Wipe the stack: both servers lose every piece of data.
	l.prom.Stop(ctx)
	l.am.Stop(ctx)
	for _, d := range []string{l.layout.PrometheusData(), l.layout.AlertmanagerData()} {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.am.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.prom.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.counts(t, at, window); len(got) != 0 {
		t.Fatalf("wipe did not wipe: %v", got)
	}
	if got := l.silences(t); len(got) != 0 {
		t.Fatalf("wipe did not wipe silences: %v", got)
	}

	// A corrupted archive is refused before anything is touched.
	t.Run("corrupt archive changes nothing", func(t *testing.T) {
		bad := filepath.Join(l.dir, "bad.tar.gz")
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x01
		if err := os.WriteFile(bad, data, 0o600); err != nil {
			t.Fatal(err)
		}
		before := l.counts(t, time.Now(), time.Hour)
		beforeTree := treeNames(t, filepath.Dir(l.layout.PrometheusData()))
		_, err = Restore(ctx, RestoreOptions{Archive: bad, Endpoints: l.ep, Data: l.rendered(), Stack: l, Trust: l.trust()})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("restore of a corrupt archive: %v, want ErrCorrupt", err)
		}
		if c := l.calls.list(); len(c) != 0 {
			t.Errorf("the stack was touched: %v", c)
		}
		if !l.prom.Running() || !l.am.Running() {
			t.Error("a server was stopped")
		}
		if after := treeNames(t, filepath.Dir(l.layout.PrometheusData())); !slices.Equal(topLevel(beforeTree), topLevel(after)) {
			t.Errorf("data dirs changed:\nbefore %v\nafter  %v", topLevel(beforeTree), topLevel(after))
		}
		// The live data is still there: the series count can only grow.
		after := l.counts(t, time.Now(), time.Hour)
		for k, v := range before {
			if after[k] < v {
				t.Errorf("%s: %v samples before the refused restore, %v after", k, v, after[k])
			}
		}
	})

	res, err := Restore(ctx, RestoreOptions{Archive: archive, Endpoints: l.ep, Data: l.rendered(), Stack: l, Log: log, Trust: l.trust()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Blocks == 0 {
		t.Errorf("no block restored: %+v", res)
	}
	if got := l.counts(t, at, window); !mapsEqual(got, want) {
		t.Errorf("sample counts over [%s, %s] after restore:\n got %v\nwant %v", at.Add(-window), at, got, want)
	}
	if got := l.silences(t); !slices.Equal(got, wantSilences) {
		t.Errorf("silences after restore:\n got %v\nwant %v", got, wantSilences)
	}
	if c := l.calls.list(); !slices.Equal(c, []string{"stop prometheus", "stop alertmanager", "start prometheus", "start alertmanager"}) {
		t.Errorf("stack calls: %v", c)
	}
	// The state file brought the silence back; nothing was posted twice.
	if res.SilencesPresent != 1 || res.SilencesCreated != 0 {
		t.Errorf("silences: %d present, %d created; want the state file to restore it", res.SilencesPresent, res.SilencesCreated)
	}
	// The old data dirs were removed once the restore succeeded.
	if m, _ := filepath.Glob(l.layout.PrometheusData() + ".pre-restore-*"); len(m) != 0 {
		t.Errorf("old data left behind: %v", m)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(l.layout.PrometheusData()), ".restore-*")); len(m) != 0 {
		t.Errorf("staging left behind: %v", m)
	}
	assertNoSecrets(t, l, archive, logs.String())

	// A second restore finds the silence present and does not duplicate it.
	if _, err := Restore(ctx, RestoreOptions{Archive: archive, Endpoints: l.ep, Data: l.rendered(), Stack: l, Trust: l.trust()}); err != nil {
		t.Fatal(err)
	}
	if got := l.silences(t); !slices.Equal(got, wantSilences) {
		t.Errorf("silences after a second restore: %v", got)
	}
	if got := l.counts(t, at, window); !mapsEqual(got, want) {
		t.Errorf("sample counts after a second restore: %v, want %v", got, want)
	}
}

func topLevel(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !strings.Contains(p, string(filepath.Separator)) {
			out = append(out, p)
		}
	}
	return out
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// assertNoSecrets is issue 8's leak check for backups: neither the
// manifest nor any member that is text nor any log line holds a secret.
func assertNoSecrets(t *testing.T, l *liveStack, archive, logs string) {
	t.Helper()
	secretValues := l.env.Values(l.spec)
	if len(secretValues) < 3 {
		t.Fatalf("expected the stack password, its bcrypt hash and the grafana password, got %d values", len(secretValues))
	}
	stage := t.TempDir()
	m, err := Extract(context.Background(), archive, stage, l.trust())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(m.Files, Member{Path: ManifestName}) {
		p := filepath.Join(stage, filepath.FromSlash(f.Path))
		if f.Path == ManifestName {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secretValues {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("archive member %s holds a secret", f.Path)
			}
		}
	}
	manifest, err := readManifestJSON(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secretValues {
		if strings.Contains(manifest, s) {
			t.Error("the manifest holds a secret")
		}
		if strings.Contains(logs, s) {
			t.Error("a log line holds a secret")
		}
	}
	if !strings.Contains(manifest, `"sha256"`) {
		t.Errorf("manifest without sums: %s", manifest)
	}
}

// TestInterruptedBackupLeavesNothing cancels a backup halfway through the
// snapshot copy: no archive appears, no temporary file stays, and the
// snapshot is deleted from Prometheus' data dir all the same.
func TestInterruptedBackupLeavesNothing(t *testing.T) {
	l := startLiveStack(t)
	l.waitForSamples(t)
	out := t.TempDir()
	archive := filepath.Join(out, "backup.tar.gz")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Create(ctx, Options{
		Output: archive, Endpoints: l.ep, Files: l.rendered(), MonitoringDir: l.monitoring,
		Progress: func(string, int64) ProgressBar { return cancelOnWrite{cancel} }, Key: l.env.BackupKey(),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted backup: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("interrupted backup left files: %v", entries)
	}
	if entries, _ := os.ReadDir(filepath.Join(l.layout.PrometheusData(), "snapshots")); len(entries) != 0 {
		t.Errorf("snapshot left behind: %v", entries)
	}

	t.Run("a down component fails the backup unless allowed", func(t *testing.T) {
		l.am.Stop(context.Background())
		_, err := Create(context.Background(), Options{Output: archive, Endpoints: l.ep, Files: l.rendered(), MonitoringDir: l.monitoring, Key: l.env.BackupKey()})
		if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "alertmanager") {
			t.Fatalf("backup with alertmanager down: %v, want ErrPartial naming alertmanager", err)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("failed backup left files: %v", entries)
		}
		m, err := Create(context.Background(), Options{Output: archive, Endpoints: l.ep, Files: l.rendered(), MonitoringDir: l.monitoring, AllowPartial: true, Key: l.env.BackupKey()})
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := m.Component(Alertmanager); c.Status != Skipped {
			t.Errorf("alertmanager: %+v, want skipped", c)
		}
		if c, _ := m.Component(Prometheus); c.Status != Saved {
			t.Errorf("prometheus: %+v, want saved", c)
		}
		if _, err := Verify(context.Background(), archive, l.trust()); err != nil {
			t.Error(err)
		}
	})
}

type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }
func (c cancelOnWrite) Finish() error               { return nil }

// waitForSamples waits until Prometheus has scraped a few series, so a
// backup has something to lose.
func (l *liveStack) waitForSamples(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(l.counts(t, time.Now(), time.Hour)) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no samples")
		}
		time.Sleep(300 * time.Millisecond)
	}
}
