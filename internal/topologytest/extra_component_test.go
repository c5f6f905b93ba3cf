package topologytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/doctor"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// In exporter mode the test binary serves /metrics and /-/ready at
// envListen and counts its scrapes in envData/probes.json.
const (
	envListen = "INVESTIQ_TEST_EXPORTER_LISTEN"
	envData   = "INVESTIQ_TEST_EXPORTER_DATA"
	stateFile = "probes.json"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(envListen); addr != "" {
		os.Exit(serveExporter(addr, os.Getenv(envData)))
	}
	os.Exit(m.Run())
}

// serveExporter is a stand-in blackbox exporter: it reports its one probe
// as failed (probe_success 0), so the spec's alert fires, and keeps a
// small state file, so backup has data to save. It runs until killed.
func serveExporter(addr, dataDir string) int {
	var mu sync.Mutex
	scrapes := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ready\n") })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		scrapes++
		n := scrapes
		mu.Unlock()
		tmp := filepath.Join(dataDir, stateFile+".tmp")
		if err := os.WriteFile(tmp, []byte(fmt.Sprintf("{\"scrapes\": %d}\n", n)), 0o600); err == nil {
			os.Rename(tmp, filepath.Join(dataDir, stateFile))
		}
		fmt.Fprintf(w, "# HELP probe_success Whether the probe succeeded.\n# TYPE probe_success gauge\nprobe_success{target=\"payments\"} 0\n")
	})
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// withBlackbox is everything a newcomer writes to add the exporter: one
// component, one scrape job, one alert, all in the spec.
func withBlackbox(s *spec.Spec, exe string, port int) *spec.Spec {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.ExtraComponents = append(s.ExtraComponents, spec.Component{
		Name: "blackbox", Title: "Blackbox exporter", Image: "prom/blackbox-exporter:v0.25.0",
		Port: 9115, HostPort: port, ConfigMount: "/etc/blackbox",
		Volume: "blackbox_data", DataMount: "/data", Owner: "65534:65534",
		ReadyPath: "/-/ready",
		Program: spec.Program{Binary: exe, Command: func(_ *spec.Spec, r spec.Run) ([]string, []string) {
			return []string{"-test.run=^$"}, []string{envListen + "=" + r.Addr, envData + "=" + r.DataDir}
		}},
		Backup: spec.BackupFiles, DataFiles: []string{stateFile},
	})
	s.Jobs = append(s.Jobs, spec.ScrapeJob{Name: "blackbox", Targets: []string{addr}, MetricsPath: "/metrics", Interval: time.Second})
	s.Alerts = append(s.Alerts, spec.Alert{
		Name: "PaymentsProbeFailed", Expr: `probe_success{job="blackbox"} == 0`, Severity: spec.Warning, Component: "api",
		Summary: "The payments probe fails", Description: "The blackbox exporter cannot reach payments.",
		Condition: "The probe fails.", Action: "Check that payments answers.",
	})
	return s
}

func TestAnExporterAddedToTheSpecIsRunShownSavedAndChecked(t *testing.T) {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "monitoring")
	_, srv := testutil.StartSimulator(t, spec.InvestIQ(spec.Settings{}), 200*time.Millisecond)

	bbPort := testutil.FreePort(t)
	load := func(set spec.Settings) (*spec.Spec, error) {
		set.APIScrapeInterval, set.MLScrapeInterval, set.EvaluationInterval = time.Second, time.Second, time.Second
		s := withBlackbox(spec.InvestIQ(set), exe, bbPort)
		return s, s.Check()
	}
	l := stack.Layout{Root: filepath.Join(root, "state")}
	var out strings.Builder
	o := stack.Options{
		Backend: stack.Local, Settings: spec.Settings{APIAddress: srv.APIAddr(), MLAddress: srv.MLAddr()},
		LoadSpec: load, Dir: dir, Layout: l, Timeout: time.Minute, Out: &out,
		PrometheusPort: testutil.FreePort(t), AlertmanagerPort: testutil.FreePort(t),
	}
	t.Cleanup(func() {
		var down strings.Builder
		if err := stack.Down(context.Background(), stack.DownOptions{Layout: l, Out: &down}); err != nil {
			t.Errorf("cleanup: down: %v", err)
		}
		if !strings.Contains(down.String(), "stopped blackbox") && !t.Failed() {
			t.Errorf("down did not stop the exporter:\n%s", down.String())
		}
	})

	// up starts it beside the servers, as its Program says.
	st, err := stack.Up(context.Background(), o)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "started blackbox") || st.URLs["blackbox"] != fmt.Sprintf("http://127.0.0.1:%d", bbPort) {
		t.Fatalf("up did not start the exporter (urls %v):\n%s", st.URLs, out.String())
	}
	s, err := stack.LocalSpec(load, o.Settings, l, o.PrometheusPort, o.AlertmanagerPort, stack.DefaultGrafanaPort)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := stack.LoadEndpoints(s, dir, l)
	if err != nil {
		t.Fatal(err)
	}

	// status shows it answering, its target scraped and its alert firing.
	var r *stack.Report
	deadline := time.Now().Add(90 * time.Second)
	for {
		r = stack.CollectStatus(context.Background(), ep, stack.StatusOptions{Components: s.Components()})
		if exporterUp(r) && targetUp(r, "blackbox") && firing(r, "PaymentsProbeFailed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the exporter up, scraped and alerting: %+v", r)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// doctor checks its scrape job with the others.
	res := doctor.Run(context.Background(), doctor.Options{Spec: s, Dir: dir, APIURL: "http://" + srv.APIAddr() + "/metrics", Endpoints: ep})
	if cr := result(res, doctor.CheckComponents); cr.Status != doctor.Pass || !strings.Contains(cr.Summary, "blackbox") {
		t.Errorf("doctor components: %+v, want a pass naming blackbox", cr)
	}
	if tr := result(res, doctor.CheckTargets); tr.Status != doctor.Pass || !strings.Contains(tr.Summary, fmt.Sprintf("of %d jobs", len(s.Jobs))) {
		t.Errorf("doctor targets: %+v, want a pass over all %d jobs", tr, len(s.Jobs))
	}

	// backup saves its data file, as its Backup kind says.
	env, err := secrets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := stack.OpenBackend(s, dir, l, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(root, "backup.tar.gz")
	m, err := backup.Create(context.Background(), backup.Options{
		Output: archive, Endpoints: ep, Files: backup.FilesOf(b, root, s.ComponentNames()...), Components: s.Components(),
		MonitoringDir: dir, Secrets: env.Values(s), Key: env.BackupKey(),
	})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	c, ok := m.Component("blackbox")
	if !ok || c.Status != backup.Saved || !m.Has("blackbox/files/"+stateFile) {
		t.Errorf("backup: blackbox %+v (found %v), files %v: want its %s saved", c, ok, m.Files, stateFile)
	}

	// restore puts its data directory back as saved, stopping and
	// starting it around the swap: a file written since is gone.
	written := filepath.Join(l.Data("blackbox"), "written-after-the-backup")
	if err := os.WriteFile(written, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(context.Background(), backup.RestoreOptions{
		Archive: archive, Endpoints: ep, Data: backup.FilesOf(b, "", backup.Swapped(s.Components())...), Stack: b,
		Trust: backup.Trust{Key: env.BackupKey(), KeySource: env.Path}, ReadyTimeout: time.Minute,
	}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, err := os.Stat(written); !os.IsNotExist(err) {
		t.Errorf("after the restore %s is still there (%v): the exporter's data directory was not put back", written, err)
	}
	if _, err := os.Stat(filepath.Join(l.Data("blackbox"), stateFile)); err != nil {
		t.Errorf("after the restore: %v", err)
	}
	if r = stack.CollectStatus(context.Background(), ep, stack.StatusOptions{Components: s.Components()}); !exporterUp(r) {
		t.Errorf("status after the restore: %+v, want blackbox up again", r.Components)
	}

	// Stopped, it is what doctor and status report.
	if was, err := stack.StopComponent(context.Background(), l, "blackbox"); err != nil || !was {
		t.Fatalf("stop blackbox: was running %v, %v", was, err)
	}
	r = stack.CollectStatus(context.Background(), ep, stack.StatusOptions{Components: s.Components()})
	if exporterUp(r) {
		t.Errorf("status shows the stopped exporter up: %+v", r.Components)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		res = doctor.Run(context.Background(), doctor.Options{Spec: s, Dir: dir, APIURL: "http://" + srv.APIAddr() + "/metrics", Endpoints: ep})
		tr, cr := result(res, doctor.CheckTargets), result(res, doctor.CheckComponents)
		if tr.Status == doctor.Fail && slices.ContainsFunc(tr.Details, func(d string) bool { return strings.HasPrefix(d, "job blackbox") }) &&
			cr.Status == doctor.Fail && slices.ContainsFunc(cr.Details, func(d string) bool { return strings.HasPrefix(d, "blackbox at ") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("doctor never reported the stopped exporter and its target: %+v %+v", cr, tr)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Started again as up ran it; down (in the cleanup) stops it.
	if err := stack.StartComponent(context.Background(), l, "blackbox", time.Minute); err != nil {
		t.Fatalf("start blackbox: %v", err)
	}
	if r = stack.CollectStatus(context.Background(), ep, stack.StatusOptions{Components: s.Components()}); !exporterUp(r) {
		t.Errorf("status after StartComponent: %+v, want blackbox up", r.Components)
	}
}

func exporterUp(r *stack.Report) bool {
	return slices.ContainsFunc(r.Components, func(c stack.ComponentInfo) bool { return c.Name == "blackbox" && c.Up })
}

func targetUp(r *stack.Report, job string) bool {
	return slices.ContainsFunc(r.Targets, func(t stack.TargetInfo) bool { return t.Job == job && t.Health == "up" })
}

func firing(r *stack.Report, alert string) bool {
	return slices.ContainsFunc(r.Alerts, func(a stack.AlertInfo) bool { return a.Name == alert && a.State == "firing" })
}

func result(res []doctor.Result, check string) doctor.Result {
	for _, r := range res {
		if r.Check == check {
			return r
		}
	}
	return doctor.Result{}
}
