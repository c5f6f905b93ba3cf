package routes_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// Inhibition is proven end to end on the real Alertmanager server (the
// pinned v0.31.1), loading the alertmanager.yml the spec renders, behind
// the same basic-auth web config the compose stack uses. The only change
// to the production spec is timing (group_wait, group_interval of 1s, so
// the test takes seconds) and the secrets directory, whose webhook_url file
// points at an httptest server standing in for the webhook receiver.

// recorder is the receivers' endpoint: it records, per path, the
// alertnames of every notification Alertmanager sends.
type recorder struct {
	mu   sync.Mutex
	got  map[string][]string
	srv  *httptest.Server
	errs []error
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{got: map[string][]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var msg struct {
			Version string `json:"version"`
			Alerts  []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.URL.Path == "/webhook" {
			// Only the webhook's payload is Alertmanager's own format
			// (version 4); Discord and Slack get theirs.
			if err := json.Unmarshal(body, &msg); err != nil || msg.Version != "4" {
				r.errs = append(r.errs, fmt.Errorf("webhook payload is not version 4: %v: %s", err, body))
			}
			for _, a := range msg.Alerts {
				r.got[req.URL.Path] = append(r.got[req.URL.Path], a.Labels["alertname"])
			}
		} else {
			r.got[req.URL.Path] = append(r.got[req.URL.Path], string(body))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) webhook() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got["/webhook"])
}

// alertmanager is a running server and how to reach it.
type alertmanager struct {
	url, user, password string
	rec                 *recorder
}

func startAlertmanager(t *testing.T) *alertmanager {
	t.Helper()
	bin := testutil.Bin(t, "alertmanager")
	dir := t.TempDir()
	rec := newRecorder(t)

	s := spec.Default()
	s.SecretsDir = filepath.Join(dir, "secrets")
	s.Routing.GroupWait = time.Second
	s.Routing.GroupInterval = time.Second
	rendered, err := render.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.Write(dir, rendered); err != nil {
		t.Fatal(err)
	}
	// The secret files Alertmanager reads at send time. PagerDuty and
	// email have no local stand-in; their sends fail, which does not
	// touch the other receivers.
	secrets := map[string]string{
		"webhook_url":           rec.srv.URL + "/webhook",
		"discord_webhook_url":   rec.srv.URL + "/discord",
		"slack_api_url":         rec.srv.URL + "/slack",
		"pagerduty_routing_key": "test-routing-key",
		"smtp_password":         "test",
	}
	if err := os.MkdirAll(s.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Receivers {
		v, ok := secrets[r.SecretFile]
		if !ok {
			t.Fatalf("receiver %s: no test value for secret %s", r.Name, r.SecretFile)
		}
		if err := os.WriteFile(filepath.Join(s.SecretsDir, r.SecretFile), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	am := &alertmanager{user: s.StackUser, rec: rec}
	buf := make([]byte, 12)
	rand.Read(buf)
	am.password = hex.EncodeToString(buf)
	// MinCost: bcrypt's cost protects a stolen hash, not this test.
	hash, err := bcrypt.GenerateFromPassword([]byte(am.password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web, err := render.WebConfig(s.StackUser, string(hash))
	if err != nil {
		t.Fatal(err)
	}
	webFile := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webFile, web, 0o600); err != nil {
		t.Fatal(err)
	}

	port := testutil.FreePort(t)
	am.url = "http://127.0.0.1:" + strconv.Itoa(port)
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, filepath.FromSlash(render.AlertmanagerConfig)),
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--web.config.file="+webFile,
		// No gossip: a single instance, and no port left to collide.
		"--cluster.listen-address=",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", logs.String())
		}
	})

	// Unauthenticated requests are refused, so the web config is in force.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(am.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("/-/ready without credentials: %s, want 401", resp.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		if code := am.do(t, http.MethodGet, "/-/ready", nil); code == http.StatusOK {
			return am
		}
		if time.Now().After(deadline) {
			t.Fatal("alertmanager is not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (am *alertmanager) do(t *testing.T, method, path string, body any) int {
	t.Helper()
	code, _ := am.call(t, method, path, body)
	return code
}

// call makes an authenticated request; a connection error is status 0.
func (am *alertmanager) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, am.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(am.user, am.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// inhibitedBy asks Alertmanager which alerts mute each alert, by name.
func (am *alertmanager) inhibitedBy(t *testing.T) map[string][]string {
	t.Helper()
	code, data := am.call(t, http.MethodGet, "/api/v2/alerts", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /api/v2/alerts: %d", code)
	}
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.Unmarshal(data, &alerts); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, a := range alerts {
		if a.Status.State == "suppressed" {
			out[a.Labels["alertname"]] = a.Status.InhibitedBy
		}
	}
	return out
}

type postAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
}

// post sends firing alerts with the labels their rules attach.
func (am *alertmanager) post(t *testing.T, alerts ...map[string]string) {
	t.Helper()
	now := time.Now()
	var body []postAlert
	for _, l := range alerts {
		body = append(body, postAlert{Labels: l, StartsAt: now, EndsAt: now.Add(10 * time.Minute)})
	}
	if code := am.do(t, http.MethodPost, "/api/v2/alerts", body); code != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %d", code)
	}
}

// waitFor waits until the webhook has received every alertname in want.
func (am *alertmanager) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got := am.rec.webhook()
		all := true
		for _, w := range want {
			all = all && slices.Contains(got, w)
		}
		if all {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the webhook received %v, never all of %v", am.rec.webhook(), want)
}

// labelsOf is an alert of the spec with the labels its rule attaches.
func labelsOf(t *testing.T, name string, extra map[string]string) map[string]string {
	t.Helper()
	for _, a := range spec.Default().Alerts {
		if a.Name == name {
			l := render.AlertLabels(a)
			l["alertname"] = name
			for k, v := range extra {
				l[k] = v
			}
			return l
		}
	}
	t.Fatalf("the spec has no alert %s", name)
	return nil
}

func TestInhibitionOnRealAlertmanager(t *testing.T) {
	t.Run("while the API is down only ServiceDown reaches the webhook", func(t *testing.T) {
		t.Parallel()
		am := startAlertmanager(t)
		am.post(t,
			labelsOf(t, "ServiceDown", nil),
			labelsOf(t, "HighErrorRate", nil),
			labelsOf(t, "HighLatency", nil),
		)
		am.waitFor(t, "ServiceDown")
		// Alertmanager's own view: both are suppressed, by an inhibition.
		muted := am.inhibitedBy(t)
		for _, name := range []string{"HighErrorRate", "HighLatency"} {
			if len(muted[name]) == 0 {
				t.Errorf("Alertmanager does not report %s as inhibited: %v", name, muted)
			}
		}
		if _, ok := muted["ServiceDown"]; ok {
			t.Error("ServiceDown itself is suppressed")
		}
		// Each alert is its own group (group_by alertname), flushed after
		// group_wait (1s): give the muted ones several rounds to show up.
		time.Sleep(4 * time.Second)
		got := am.rec.webhook()
		for _, muted := range []string{"HighErrorRate", "HighLatency"} {
			if slices.Contains(got, muted) {
				t.Errorf("%s reached the webhook while ServiceDown fired: %v", muted, got)
			}
		}
		if !slices.Contains(got, "ServiceDown") {
			t.Errorf("ServiceDown did not reach the webhook: %v", got)
		}
	})
	t.Run("without ServiceDown HighErrorRate is delivered", func(t *testing.T) {
		t.Parallel()
		am := startAlertmanager(t)
		am.post(t, labelsOf(t, "HighErrorRate", nil))
		am.waitFor(t, "HighErrorRate")
	})
	t.Run("ServiceDown of another component mutes nothing of the API", func(t *testing.T) {
		t.Parallel()
		am := startAlertmanager(t)
		// equal: [component] — an outage elsewhere must not hide the API's
		// own symptoms.
		am.post(t,
			labelsOf(t, "ServiceDown", map[string]string{"component": "ml"}),
			labelsOf(t, "HighLatency", nil),
		)
		am.waitFor(t, "ServiceDown", "HighLatency")
	})
}
