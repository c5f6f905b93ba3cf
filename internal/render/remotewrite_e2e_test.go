package render_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The rendered remote_write, on real servers: an InvestIQ Prometheus
// scraping the simulator every second sends everything it ingests to a
// second Prometheus run as the long-term store (--web.enable-remote-write-
// receiver, basic auth). The store is stopped for a while and started
// again; once the sender has caught up, every sample the sender holds for
// the whole run, outage included, is in the store, series by series, except
// those the write relabelling drops, of which the store holds none.
func TestRemoteWriteLosesNothingAcrossAReceiverRestart(t *testing.T) {
	prometheus := testutil.Bin(t, "prometheus")
	ctx := context.Background()
	recvAddr := "127.0.0.1:" + strconv.Itoa(testutil.FreePort(t))
	const writer, dropped = "longterm-writer", "investiq_request_duration_milliseconds_bucket"

	rs, _, _ := testutil.SimulatedStackWith(t, func(set spec.Settings) *spec.Spec {
		s := spec.InvestIQ(set)
		s.RemoteWrite = []spec.RemoteWrite{{
			Name: "longterm", URL: "http://" + recvAddr + "/api/v1/write",
			BasicAuthUser: writer, PasswordSecret: "remote_write_password",
			// Short backoffs so the queue notices the store is back within a
			// second; the defaults (30ms to 5s) would only make the test wait.
			Queue:   spec.Queue{BatchSendDeadline: time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second},
			Relabel: []spec.WriteRelabel{{Action: spec.Drop, Regex: dropped}},
		}}
		return s
	})

	// The store's password goes where a user puts it, in .env, and from
	// there into the secret file prometheus.yml names.
	password, err := secrets.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	env, err := secrets.Load(rs.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Set(rs.Spec, "REMOTE_WRITE_PASSWORD", password); err != nil {
		t.Fatal(err)
	}
	if err := env.WriteFiles(rs.Spec, rs.Spec.SecretsDir, rs.Spec.WebConfigFile); err != nil {
		t.Fatal(err)
	}

	// The long-term store: a Prometheus that scrapes nothing and accepts
	// remote writes from the writer only.
	storeDir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web, err := render.WebConfig(writer, string(hash))
	if err != nil {
		t.Fatal(err)
	}
	storeCfg, err := yaml.Marshal(map[string]any{"global": map[string]string{"scrape_interval": "1m"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"web.yml": web, "prometheus.yml": storeCfg} {
		if err := os.WriteFile(filepath.Join(storeDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store := testutil.StartDaemon(t, &testutil.Daemon{
		Name: "long-term store", Bin: prometheus,
		Args: []string{
			"--config.file=" + filepath.Join(storeDir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(storeDir, "data"),
			"--web.listen-address=" + recvAddr,
			"--web.config.file=" + filepath.Join(storeDir, "web.yml"),
			"--web.enable-remote-write-receiver",
		},
		ReadyURL: "http://" + recvAddr + "/-/ready", User: writer, Password: password,
	})
	testutil.StartPrometheus(t, rs)
	sender := testutil.PromAPI(t, rs.PrometheusURL(), rs.User, rs.Password)
	receiver := testutil.PromAPI(t, "http://"+recvAddr, writer, password)

	waitFor(t, 60*time.Second, "the store to receive the API's up series", func() bool {
		return scalar(ctx, receiver, `count(up{job="investiq-api"})`) >= 1
	})
	start := time.Now()
	time.Sleep(5 * time.Second) // the stack runs normally for 5 s

	stopAt := time.Now()
	if err := store.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The sender keeps scraping; its queue fails and retries from the WAL.
	waitFor(t, 60*time.Second, "the sender to retry samples while the store is down", func() bool {
		return time.Since(stopAt) >= 8*time.Second &&
			scalar(ctx, sender, `sum(prometheus_remote_storage_samples_retried_total{remote_name="longterm"})`) > 0
	})
	restartAt := time.Now()
	if err := store.Start(ctx); err != nil {
		t.Fatalf("restart the store: %v\n%s", err, store.Output())
	}
	time.Sleep(5 * time.Second) // and runs normally again
	end := time.Now().Truncate(time.Second)
	window := fmt.Sprintf(`{__name__=~".+"}[%ds]`, int(end.Sub(start.Truncate(time.Second)).Seconds()))

	var sent, stored seriesCounts
	var outageSent, outageStored int
	caughtUp := false
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		sent, outageSent, err = countSamples(ctx, sender, window, end, stopAt, restartAt, "", dropped)
		if err == nil {
			stored, outageStored, err = countSamples(ctx, receiver, window, end, stopAt, restartAt, "monitor", dropped)
		}
		if err != nil {
			t.Fatal(err)
		}
		if sent.kept.equal(stored.kept) {
			caughtUp = true
			break
		}
		time.Sleep(time.Second)
	}

	lost := 0
	for k, n := range sent.kept {
		lost += max(0, n-stored.kept[k])
	}
	t.Logf("window %s ending %s; store down from %s for %s",
		window, end.Format(time.TimeOnly), stopAt.Format(time.TimeOnly), restartAt.Sub(stopAt).Round(time.Millisecond))
	t.Logf("sender: %d samples in %d series to send (+%d samples in %d series of %s dropped by write_relabel_configs); store: %d samples in %d series; lost: %d",
		sent.kept.total(), len(sent.kept), sent.dropped.total(), len(sent.dropped), dropped, stored.kept.total(), len(stored.kept), lost)
	t.Logf("samples taken while the store was down: sender %d, store %d", outageSent, outageStored)

	if !caughtUp {
		t.Errorf("the store never caught up with the sender: %d of %d samples lost", lost, sent.kept.total())
		for k, n := range sent.kept {
			if stored.kept[k] != n {
				t.Logf("  %s: sender %d, store %d", k, n, stored.kept[k])
			}
		}
		for k, n := range stored.kept {
			if _, ok := sent.kept[k]; !ok {
				t.Logf("  %s: only in the store (%d)", k, n)
			}
		}
	}
	if sent.kept.total() < 1000 {
		t.Errorf("only %d samples in the window: the test proves nothing", sent.kept.total())
	}
	if outageSent == 0 || outageStored != outageSent {
		t.Errorf("samples taken while the store was down: sender %d, store %d; want the same, not zero", outageSent, outageStored)
	}
	if sent.dropped.total() == 0 {
		t.Errorf("the sender holds no %s samples: the relabelling proves nothing", dropped)
	}
	if n := stored.dropped.total(); n != 0 {
		t.Errorf("the store holds %d samples of %s, which write_relabel_configs drops", n, dropped)
	}
}

// counts are raw samples by series.
type counts map[string]int

func (c counts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func (c counts) equal(o counts) bool {
	if len(c) != len(o) {
		return false
	}
	for k, v := range c {
		if o[k] != v {
			return false
		}
	}
	return true
}

// seriesCounts splits the counts of the metric the write relabelling
// drops from the others.
type seriesCounts struct{ kept, dropped counts }

// countSamples counts the raw samples a range query selects, by series
// (without the label ignore, which remote write adds: the sender's
// external labels), and how many of those not dropped were taken in
// [from, to].
func countSamples(ctx context.Context, api v1.API, query string, at, from, to time.Time, ignore model.LabelName, dropped string) (seriesCounts, int, error) {
	m, err := testutil.Samples(ctx, api, query, at)
	if err != nil {
		return seriesCounts{}, 0, err
	}
	out := seriesCounts{counts{}, counts{}}
	inside := 0
	for _, ss := range m {
		delete(ss.Metric, ignore)
		if string(ss.Metric[model.MetricNameLabel]) == dropped {
			out.dropped[ss.Metric.String()] += len(ss.Values)
			continue
		}
		out.kept[ss.Metric.String()] += len(ss.Values)
		for _, v := range ss.Values {
			if !v.Timestamp.Time().Before(from) && !v.Timestamp.Time().After(to) {
				inside++
			}
		}
	}
	return out, inside, nil
}

// scalar runs an instant query that returns one number (NaN when it
// returns nothing or fails).
func scalar(ctx context.Context, api v1.API, q string) float64 {
	v, _, _, err := api.Query(ctx, q, time.Now())
	if err != nil {
		return -1
	}
	if vec, ok := v.(model.Vector); ok && len(vec) > 0 {
		return float64(vec[0].Value)
	}
	return -1
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
