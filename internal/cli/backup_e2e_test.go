package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The backup round trip through the CLI, as an operator runs it: generate,
// simulate, up --backend local, add a silence, backup, down --volumes (the
// data is gone), up, restore --yes; then every series has the same number
// of samples over the backed-up range and the silence is back. Real
// Prometheus 3.16 and Alertmanager 0.31.1, started by `up` itself, so this
// also exercises restore's stop/start through internal/stack.

type brStack struct {
	t                *testing.T
	dir, state       string
	api, ml          string
	promPort, amPort int
	stderr           *testutil.LockedBuffer
	env              *secrets.Env
}

func (b *brStack) cli(args ...string) (int, string) {
	b.t.Helper()
	var out testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: b.stderr})
	f.Spec = e2eSpec
	return Main(context.Background(), args, f), out.String()
}

func (b *brStack) up() {
	b.t.Helper()
	code, _ := b.cli("up", "--backend", "local", "--dir", b.dir, "--state", b.state,
		"--api-address", b.api, "--ml-address", b.ml,
		"--prometheus-port", strconv.Itoa(b.promPort), "--alertmanager-port", strconv.Itoa(b.amPort), "--timeout", "90s")
	if code != 0 {
		b.t.Fatalf("up: exit %d\n%s", code, b.stderr)
	}
}

// onTerminal runs the CLI with stderr on a pseudo-terminal, as a person
// at a terminal has it, and returns what the terminal showed.
func (b *brStack) onTerminal(args ...string) (int, string, string) {
	b.t.Helper()
	master, slave := testutil.OpenPTY(b.t)
	var shown bytes.Buffer
	read := make(chan struct{})
	go func() { _, _ = io.Copy(&shown, master); close(read) }()
	var out testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: slave, ErrTerminal: true})
	f.Spec = e2eSpec
	code := Main(context.Background(), args, f)
	slave.Close() // the reader sees EOF (EIO) once everything written is read
	<-read
	return code, out.String(), shown.String()
}

// do sends an authenticated request to the stack and decodes JSON.
func (b *brStack) do(method, u string, body any, out any) {
	b.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e2eSpec(spec.Settings{}).StackUser, b.env.StackPassword())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("%s %s: %s", method, u, res.Status)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			b.t.Fatal(err)
		}
	}
}

// counts is count_over_time of every series over (at-window, at], one
// metric name at a time: count_over_time drops __name__, so one query over
// all names would collide.
func (b *brStack) counts(at time.Time, window time.Duration) map[string]string {
	b.t.Helper()
	var names struct{ Data []string }
	b.do("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/label/__name__/values", b.promPort), nil, &names)
	out := map[string]string{}
	for _, name := range names.Data {
		q := url.Values{"query": {fmt.Sprintf("count_over_time({__name__=%q}[%ds])", name, int(window.Seconds()))}, "time": {strconv.FormatInt(at.Unix(), 10)}}
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		b.do("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?%s", b.promPort, q.Encode()), nil, &r)
		for _, s := range r.Data.Result {
			data, _ := json.Marshal(s.Metric)
			out[name+string(data)] = fmt.Sprint(s.Value[1])
		}
	}
	return out
}

func (b *brStack) silences() []string {
	b.t.Helper()
	var sils []struct {
		Comment  string
		Matchers []map[string]any
		Status   struct{ State string }
	}
	b.do("GET", fmt.Sprintf("http://127.0.0.1:%d/api/v2/silences", b.amPort), nil, &sils)
	var out []string
	for _, s := range sils {
		if s.Status.State == "active" {
			m, _ := json.Marshal(s.Matchers)
			out = append(out, s.Comment+" "+string(m))
		}
	}
	slices.Sort(out)
	return out
}

func TestBackupRestoreCLI(t *testing.T) {
	testutil.Bin(t, "prometheus")
	testutil.Bin(t, "alertmanager")
	root := t.TempDir()
	b := &brStack{
		t: t, dir: filepath.Join(root, "monitoring"), state: filepath.Join(root, ".investiq-mon"),
		api: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)), ml: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		promPort: testutil.FreePort(t), amPort: testutil.FreePort(t), stderr: &testutil.LockedBuffer{},
	}
	if code, _ := b.cli("generate", "--dir", b.dir); code != 0 {
		t.Fatalf("generate: %s", b.stderr)
	}
	env, err := secrets.Load(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	b.env = env

	ctx, cancel := context.WithCancel(context.Background())
	simDone := make(chan int)
	go func() {
		f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &testutil.LockedBuffer{}, ErrOut: b.stderr})
		simDone <- Main(ctx, []string{"simulate", "--listen", b.api, "--ml-listen", b.ml, "--tick", "200ms"}, f)
	}()
	t.Cleanup(func() { cancel(); <-simDone })

	b.up()
	t.Cleanup(func() {
		b.cli("down", "--state", b.state)
		if t.Failed() {
			t.Logf("CLI stderr:\n%s", b.stderr)
		}
	})
	start := time.Now()
	// Scrape a few seconds' worth of the simulated API and ML service.
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := b.counts(time.Now(), time.Hour)
		n := 0
		for _, v := range c {
			if f, _ := strconv.ParseFloat(v, 64); f >= 5 {
				n++
			}
		}
		if n >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("too few scraped series: %d", len(c))
		}
		time.Sleep(500 * time.Millisecond)
	}
	ends := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	b.do("POST", fmt.Sprintf("http://127.0.0.1:%d/api/v2/silences", b.amPort), map[string]any{
		"matchers": []map[string]any{{"name": "alertname", "value": "InvestIQAPIDown", "isRegex": false, "isEqual": true}},
		"startsAt": time.Now().UTC().Format(time.RFC3339), "endsAt": ends,
		"createdBy": "oncall", "comment": "planned API deploy",
	}, nil)
	wantSilences := b.silences()

	at := time.Now().Add(-time.Second).Truncate(time.Second)
	window := at.Sub(start) + 2*time.Minute
	want := b.counts(at, window)

	archive := filepath.Join(root, "backup.tar.gz")
	code, out := b.cli("backup", "--dir", b.dir, "--state", b.state, "--output", archive)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, b.stderr)
	}
	if strings.TrimSpace(out) != archive {
		t.Errorf("backup stdout: %q, want the archive path", out)
	}
	if code, out := b.cli("backup", "verify", archive, "--dir", b.dir); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("backup verify: exit %d\n%s\n%s", code, out, b.stderr)
	}

	// Terminal handling, per stream: redirected, stderr got plain lines
	// only; on a terminal it gets a progress bar (its percentage; the
	// terminal turns every newline into \r\n, so \r proves nothing there),
	// unless --quiet; --quiet keeps the archive path on stdout.
	if strings.ContainsAny(b.stderr.String(), "\r\x1b") {
		t.Errorf("redirected stderr has escape codes or carriage returns:\n%q", b.stderr.String())
	}
	code, _, tty := b.onTerminal("backup", "--dir", b.dir, "--state", b.state, "--output", filepath.Join(root, "tty.tar.gz"))
	if code != 0 || !strings.Contains(tty, "%") || !strings.Contains(tty, "wrote ") {
		t.Errorf("backup on a terminal: exit %d, want a progress bar (NN%%) and the summary:\n%q", code, tty)
	}
	code, out, tty = b.onTerminal("backup", "-q", "--dir", b.dir, "--state", b.state, "--output", filepath.Join(root, "quiet.tar.gz"))
	if code != 0 || tty != "" || strings.TrimSpace(out) != filepath.Join(root, "quiet.tar.gz") {
		t.Errorf("backup -q on a terminal: exit %d, stdout %q, want no stderr at all:\n%q", code, out, tty)
	}

	// backup verify -o json, for scripts.
	code, out = b.cli("backup", "verify", "-o", "json", archive, "--dir", b.dir)
	var vj struct {
		OK, Signed bool
		KeyID      string
		Files      int
		Bytes      int64
		Components []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(out), &vj); code != 0 || err != nil {
		t.Fatalf("backup verify -o json: exit %d, %v:\n%s", code, err, out)
	}
	saved := map[string]string{}
	for _, c := range vj.Components {
		saved[c.Name] = c.Status
	}
	if !vj.OK || !vj.Signed || vj.KeyID == "" || vj.Files == 0 || vj.Bytes == 0 || saved["prometheus"] != "saved" || saved["alertmanager"] != "saved" {
		t.Errorf("backup verify -o json: %+v", vj)
	}

	// Lose everything, then start an empty stack.
	if code, _ := b.cli("down", "--state", b.state, "--volumes"); code != 0 {
		t.Fatalf("down --volumes: %s", b.stderr)
	}
	b.up()
	if got := b.counts(at, window); len(got) != 0 {
		t.Fatalf("the wiped stack still has %d series in the range", len(got))
	}
	if got := b.silences(); len(got) != 0 {
		t.Fatalf("the wiped stack still has silences: %v", got)
	}

	if code, _ := b.cli("restore", archive, "--yes", "--dir", b.dir, "--state", b.state, "--timeout", "90s"); code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, b.stderr)
	}
	got := b.counts(at, window)
	if len(got) != len(want) {
		t.Errorf("%d series after restore, %d before", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s samples after restore, %s before", k, got[k], v)
		}
	}
	if got := b.silences(); !slices.Equal(got, wantSilences) {
		t.Errorf("silences after restore: %v, want %v", got, wantSilences)
	}

	// Leak check (issue 8): no secret in any CLI message of the run, nor
	// in the manifest (printed by verify), nor in the state dir's record.
	_, verifyOut := b.cli("backup", "verify", archive, "--dir", b.dir)
	stateJSON, _ := os.ReadFile(filepath.Join(b.state, "state.json"))
	for _, s := range env.Values(e2eSpec(spec.Settings{})) {
		for what, text := range map[string]string{"CLI output": b.stderr.String() + verifyOut, "state.json": string(stateJSON)} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret", what)
			}
		}
	}
}
