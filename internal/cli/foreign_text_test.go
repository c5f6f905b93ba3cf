package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 18 item 7: text from an archive's manifest or from a server is
// printed escaped, never raw: an escape sequence could clear the screen
// and draw a fake "verified" above restore's [y/N].

const (
	clearScreen = "\x1b[2J\x1b[H"
	setTitle    = "\x1b]0;pwned\x07"
)

// noEscapes fails when out holds an ESC, BEL, CSI or carriage return, and
// wants the escaped form of the clear-screen sequence to show instead.
func noEscapes(t *testing.T, what, out string) {
	t.Helper()
	if i := strings.IndexAny(out, "\x1b\x07\u009b\r"); i >= 0 {
		t.Errorf("%s prints a raw control character at byte %d: %q", what, i, out[max(0, i-40):min(len(out), i+40)])
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("%s does not show the escaped sequence:\n%s", what, out)
	}
}

func TestManifestTextIsEscaped(t *testing.T) {
	h := newHostileStack(t)
	body := []byte("[]")
	m := map[string]any{
		"format": backup.Format, "tool": "investiq-mon" + setTitle, "created": time.Unix(0, 0).UTC(), "backend": "local" + clearScreen,
		"components": []map[string]any{{
			"name": "prometheus" + clearScreen, "status": "saved\r", "version": "3.16" + setTitle,
			"notes": []string{clearScreen + "verified: signed by ops; restore complete\x1b[8m"},
		}},
		"files": json.RawMessage(fmt.Sprintf(`[{"path":"alertmanager/silences.json","size":2,"sha256":%q}]`, sha256hex(body))),
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	data = append(data, '\n')
	archive := newTarBuf(t).file(backup.ManifestName, data).file("manifest.sig", signature(h.key, data)).
		file("alertmanager/silences.json", body).write(nil)

	code, out, errOut := h.run("backup", "verify", archive, "--dir", h.dir)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, errOut)
	}
	noEscapes(t, "backup verify", out+errOut)

	t.Run("restore's question on a terminal", func(t *testing.T) {
		master, slave := testutil.OpenPTY(t)
		var outBuf, errBuf testutil.LockedBuffer
		f := NewFactory(&IOStreams{In: slave, Out: &outBuf, ErrOut: &errBuf})
		done := make(chan int)
		go func() {
			done <- Main(context.Background(), []string{"restore", archive, "--dir", h.dir, "--state", h.state}, f)
		}()
		// Answer once the question is there.
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(errBuf.String(), "[y/N]") {
			if time.Now().After(deadline) {
				t.Fatalf("no question:\n%s", errBuf.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		before := errBuf.String()
		fmt.Fprintln(master, "n")
		if code := <-done; code != ExitError {
			t.Errorf("restore answered n: exit %d", code)
		}
		noEscapes(t, "restore, up to its question", before)
		if !strings.Contains(errBuf.String(), "restore cancelled: nothing was changed") {
			t.Errorf("restore:\n%s", errBuf.String())
		}
	})
}

// foreignServer plays Prometheus and Alertmanager with every string of
// its answers carrying escape sequences.
func foreignServer(t *testing.T) *httptest.Server {
	t.Helper()
	esc := clearScreen + setTitle
	answer := func(w http.ResponseWriter, data any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			answer(w, map[string]string{"version": "3.16" + esc, "goVersion": "go" + esc})
		case "/api/v1/status/runtimeinfo":
			answer(w, map[string]any{"reloadConfigSuccess": true, "lastConfigTime": time.Now()})
		case "/api/v1/targets":
			answer(w, map[string]any{"activeTargets": []map[string]any{{
				"labels": map[string]string{"job": "investiq-api", "instance": "api" + esc}, "scrapePool": "investiq-api",
				"scrapeUrl": "http://api" + esc + "/metrics", "health": "down", "lastError": esc + "connection refused",
				"lastScrape": time.Now(),
			}}, "droppedTargets": []any{}})
		case "/api/v1/rules":
			answer(w, map[string]any{"groups": []map[string]any{{"name": "investiq" + esc, "file": "rules.yml" + esc, "interval": 10,
				"rules": []map[string]any{{"type": "alerting", "name": "HighLatency" + esc, "query": "up", "health": "err",
					"lastError": esc + "bad", "state": "firing", "duration": 0, "labels": map[string]string{}, "annotations": map[string]string{}, "alerts": []any{}}}}}})
		case "/api/v1/alerts":
			answer(w, map[string]any{"alerts": []map[string]any{{"labels": map[string]string{"alertname": "Pwn" + esc, "severity": "page" + esc},
				"annotations": map[string]string{"summary": esc}, "state": "firing", "activeAt": time.Now(), "value": "1"}}})
		case "/api/v1/alertmanagers":
			answer(w, map[string]any{"activeAlertmanagers": []map[string]string{{"url": "http://am" + esc + "/api/v2/alerts"}}, "droppedAlertmanagers": []any{}})
		case "/api/v1/query", "/api/v1/query_range":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "bad_data", "error": esc + "no"})
		case "/api/v2/status":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"cluster": map[string]any{"status": "disabled", "peers": []any{}},
				"config": map[string]string{"original": ""}, "uptime": time.Now(),
				"versionInfo": map[string]string{"branch": "", "buildDate": "", "buildUser": "", "goVersion": "go", "revision": "", "version": "0.31" + esc}})
		case "/-/ready":
			w.Write([]byte(esc))
		case "/metrics":
			fmt.Fprintf(w, "# HELP investiq_requests_total %s\n# TYPE investiq_requests_total counter\ninvestiq_requests_total{route=\"%s\"} 1\n", esc, "x")
		default:
			http.Error(w, esc+"not found", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestServerTextIsEscaped(t *testing.T) {
	h := newHostileStack(t)
	srv := foreignServer(t)
	state := fmt.Sprintf(`{"backend": "local", "prometheus": %q, "alertmanager": %q}`, srv.URL, srv.URL)
	if err := os.WriteFile(filepath.Join(h.state, "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errOut := h.run("status", "--dir", h.dir, "--state", h.state)
	noEscapes(t, "status", out+errOut)
	for _, want := range []string{"HighLatency", "connection refused", "Pwn"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not show %q:\n%s", want, out)
		}
	}
	_, out, errOut = h.run("doctor", "--dir", h.dir, "--state", h.state, "--api-url", srv.URL+"/metrics")
	noEscapes(t, "doctor", out+errOut)
	if !strings.Contains(out, "connection refused") || !strings.Contains(out, "bad") {
		t.Errorf("doctor does not show the servers' errors:\n%s", out)
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
