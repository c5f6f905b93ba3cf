package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs validation and fails the test if it does not return in
// time: a read that blocks (a FIFO with no writer) must not hang the run.
func runWithin(t *testing.T, d time.Duration, opts Options, paths ...string) *Result {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Run(context.Background(), paths, opts)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		return o.res
	case <-time.After(d):
		t.Fatalf("validate did not return within %s", d)
	}
	return nil
}

// writeIn writes one file into dir and returns its path.
func writeIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// findingsOf returns the findings about path with the check id.
func findingsOf(res *Result, path, check string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.Path == path && f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

// An upstream loader that panics on a file (Alertmanager's, on a route
// list with an empty item) is an error at that file; the other files are
// still checked and the run ends normally.
func TestPanickingLoaderIsAnErrorAtItsFile(t *testing.T) {
	dir := t.TempDir()
	am := writeIn(t, dir, "alertmanager.yml", "route:\n  receiver: discord\n  routes:\n    -")
	rules := writeIn(t, dir, "rules.yml", "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(\n")
	res := runWithin(t, time.Minute, Options{}, dir)
	crash := findingsOf(res, am, "input/crash")
	if len(crash) != 1 || crash[0].Severity != Error || !strings.Contains(crash[0].Message, "nil pointer") {
		t.Fatalf("want one input/crash error at %s naming the panic, got:\n%s", am, findingsText(res))
	}
	if len(findingsOf(res, rules, "promql/syntax")) != 1 {
		t.Errorf("the rule file beside it was not checked:\n%s", findingsText(res))
	}
	if res.ExitCode(false) != 1 {
		t.Errorf("exit code %d, want 1", res.ExitCode(false))
	}
}

// A device, named directly or through a config's rule_files, is refused
// before anything reads it: /dev/zero would be read until memory runs out.
func TestDevicesAreRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	dir := t.TempDir()
	cfg := writeIn(t, dir, "prometheus.yml", "rule_files:\n  - /dev/zero\n")
	res := runWithin(t, time.Minute, Options{}, cfg, "/dev/zero")
	got := findingsOf(res, "/dev/zero", "input/unreadable")
	if len(got) != 1 || !strings.Contains(got[0].Message, "not a regular file") {
		t.Fatalf("want one input/unreadable error at /dev/zero saying it is not a regular file, got:\n%s", findingsText(res))
	}
	if res.ExitCode(false) != 1 {
		t.Errorf("exit code %d, want 1", res.ExitCode(false))
	}
}

// A FIFO would block the read forever (nobody writes to it).
func TestFIFOsAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "rules.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	cfg := writeIn(t, dir, "prometheus.yml", "rule_files:\n  - rules.yml\n")
	res := runWithin(t, 30*time.Second, Options{}, cfg)
	got := findingsOf(res, fifo, "input/unreadable")
	if len(got) != 1 || !strings.Contains(got[0].Message, "not a regular file") {
		t.Fatalf("want one input/unreadable error at %s, got:\n%s", fifo, findingsText(res))
	}
	// Walking a directory that holds one must not block either.
	res = runWithin(t, 30*time.Second, Options{}, dir)
	if len(findingsOf(res, fifo, "input/unreadable")) != 1 {
		t.Fatalf("walking the directory: want the FIFO refused, got:\n%s", findingsText(res))
	}
}

// Reads are bounded: a file past the limit is refused with the limit in
// the message, and nothing beyond the limit is read.
func TestFilesPastTheSizeLimitAreRefused(t *testing.T) {
	dir := t.TempDir()
	body := "groups:\n" + strings.Repeat("# padding\n", 200)
	big := writeIn(t, dir, "big.yml", body)
	res := runWithin(t, time.Minute, Options{MaxFileSize: 1024}, big)
	got := findingsOf(res, big, "input/unreadable")
	if len(got) != 1 || !strings.Contains(got[0].Message, "1 KiB") {
		t.Fatalf("want one input/unreadable error naming the 1 KiB limit, got:\n%s", findingsText(res))
	}
	// The same file under the default limit is read and checked.
	res = runWithin(t, time.Minute, Options{}, big)
	if len(findingsOf(res, big, "input/unreadable")) != 0 {
		t.Fatalf("under the default limit the file is read, got:\n%s", findingsText(res))
	}
}

// file_sd target files met while walking a directory are detected as such
// and loaded as Prometheus loads them, even when no config names them.
func TestWalkedFileSDFilesAreDetected(t *testing.T) {
	dir := write(t, map[string]string{
		"targets/good.json":   `[{"targets": ["a:1"], "labels": {"env": "x"}}]`,
		"targets/good.yml":    "- targets: [a:1]\n  labels: {env: x}\n",
		"targets/unknown.yml": "- targets: [a:1]\n  owner: me\n",
		"targets/null.json":   "[\n  {\"targets\": [\"a:1\"]},\n  null\n]\n",
	})
	res := run(t, Options{}, dir)
	for _, name := range []string{"good.json", "good.yml"} {
		if got := findingsOf(res, filepath.Join(dir, "targets", name), "input/kind"); len(got) > 0 {
			t.Errorf("%s: %v", name, got)
		}
	}
	if got := findingsOf(res, filepath.Join(dir, "targets", "unknown.yml"), "prometheus/file-sd"); len(got) != 1 || got[0].Line != 2 {
		t.Errorf("unknown.yml: want one prometheus/file-sd error on line 2, got:\n%s", findingsText(res))
	}
	if got := findingsOf(res, filepath.Join(dir, "targets", "null.json"), "prometheus/file-sd"); len(got) != 1 || got[0].Line != 3 {
		t.Errorf("null.json: want one prometheus/file-sd error on line 3, got:\n%s", findingsText(res))
	}
	if res.Errors() != 2 {
		t.Errorf("want exactly the two errors, got:\n%s", findingsText(res))
	}
}

// One file_sd file read by two jobs is checked against each: a URL target
// is fine for the job whose relabelling rewrites it, an error for the other.
func TestFileSDTargetsAreCheckedPerJob(t *testing.T) {
	dir := write(t, map[string]string{
		"t.json": "[\n  {\"targets\": [\"http://a:1/x\"]}\n]\n",
		"prometheus.yml": `scrape_configs:
  - job_name: raw
    file_sd_configs: [{files: [t.json]}]
  - job_name: fixed
    file_sd_configs: [{files: [t.json]}]
    relabel_configs:
      - source_labels: [__address__]
        regex: 'http://([^/]+).*'
        target_label: __address__
`,
	})
	res := run(t, Options{}, filepath.Join(dir, "prometheus.yml"))
	got := findingsOf(res, filepath.Join(dir, "t.json"), "prometheus/targets")
	if len(got) != 1 || got[0].Line != 2 || !strings.Contains(got[0].Message, `scrape job "raw"`) {
		t.Fatalf("want one error for job raw on line 2 of t.json, got:\n%s", findingsText(res))
	}
	if res := run(t, Options{SyntaxOnly: true}, filepath.Join(dir, "prometheus.yml")); len(res.Findings) > 0 {
		t.Fatalf("--syntax-only does not read file_sd files, got:\n%s", findingsText(res))
	}
}

// validate refuses an input series that expands past the limit with a
// finding at its values, and does not expand it (the parser would build
// a billion samples).
func TestHugeSeriesExpansionIsAFinding(t *testing.T) {
	dir := t.TempDir()
	writeIn(t, dir, "r.yml", "groups: []\n")
	p := writeIn(t, dir, "bomb_test.yml", `rule_files: [r.yml]
tests:
  - interval: 1m
    input_series:
      - series: up
        values: '1 2 3'
      - series: down
        values: '0+1x1000000000'
`)
	res := runWithin(t, 2*time.Minute, Options{}, p)
	got := findingsOf(res, p, "rule-test/series-size")
	if len(got) != 1 || got[0].Line != 8 || !strings.Contains(got[0].Message, "input series down") {
		t.Errorf("findings %+v, want one rule-test/series-size at line 8 naming the series", res.Findings)
	}
}
