package version

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/spec"
)

func TestImageVersion(t *testing.T) {
	for _, tc := range []struct{ image, want string }{
		{"prom/prometheus:v3.16.0", "3.16.0"},
		{"grafana/grafana:12.3.0", "12.3.0"},
		{"registry.local:5000/prom/alertmanager:v0.31.1", "0.31.1"},
		{"registry.local:5000/prom/alertmanager", "latest"},
		{"prom/prometheus:v3.16.0@sha256:0123", "3.16.0"},
		{"prom/prometheus", "latest"},
	} {
		if got := imageVersion(tc.image); got != tc.want {
			t.Errorf("imageVersion(%q) = %q, want %q", tc.image, got, tc.want)
		}
	}
}

func TestBuildVersionReadsBuildInfo(t *testing.T) {
	images := spec.Images{Prometheus: "prom/prometheus:v9.1.2", Alertmanager: "prom/alertmanager:v0.40.0", Grafana: "grafana/grafana:13.0.1"}
	bi := &debug.BuildInfo{
		GoVersion: "go1.99.1",
		Main:      debug.Module{Path: "github.com/investiq/investiq-mon", Version: "v1.4.0"},
		Deps: []*debug.Module{
			{Path: "github.com/prometheus/prometheus", Version: "v0.399.0"},
			{Path: "github.com/prometheus/alertmanager", Version: "v0.35.0", Replace: &debug.Module{Path: "../am", Version: "v0.35.1-fork"}},
			{Path: "github.com/unrelated/module", Version: "v1.0.0"},
		},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-04T08:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	v := buildVersion(bi, true, images)
	if v.Version != "v1.4.0" || v.Go != "go1.99.1" || v.Commit != "0123456789abcdef0123" || !v.Modified || v.CommitTime != "2026-12-04T08:00:00Z" {
		t.Errorf("build fields: %+v", v)
	}
	wantGen := []component{{"Prometheus", "9.1.2", images.Prometheus}, {"Alertmanager", "0.40.0", images.Alertmanager}, {"Grafana", "13.0.1", images.Grafana}}
	if len(v.Generates) != 3 || v.Generates[0] != wantGen[0] || v.Generates[1] != wantGen[1] || v.Generates[2] != wantGen[2] {
		t.Errorf("generates %+v, want %+v", v.Generates, wantGen)
	}
	wantParsers := []module{{"github.com/prometheus/prometheus", "v0.399.0"}, {"github.com/prometheus/alertmanager", "v0.35.1-fork"}}
	if len(v.Parsers) != 2 || v.Parsers[0] != wantParsers[0] || v.Parsers[1] != wantParsers[1] {
		t.Errorf("parsers %+v, want %+v (the replacement's version, nothing unrelated)", v.Parsers, wantParsers)
	}
	text := v.text()
	for _, want := range []string{"investiq-mon v1.4.0 (commit 0123456789ab, 2026-12-04T08:00:00Z, modified) go1.99.1 ", "Prometheus    9.1.2     prom/prometheus:v9.1.2", "Grafana       13.0.1    grafana/grafana:13.0.1", "github.com/prometheus/alertmanager v0.35.1-fork"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if v := buildVersion(nil, false, images); v.Version != "unknown" || len(v.Generates) != 3 || v.Parsers != nil {
		t.Errorf("without build info: %+v", v)
	}
}

// TestVersionCommand runs `version -o json` and `--version` through Main:
// the servers are the spec's pinned images, the parser versions are the
// ones go.mod requires, and --version prints what `version` prints.
func TestVersionCommand(t *testing.T) {
	runMain := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		f := cmdutil.NewFactory(&cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root := &cobra.Command{Use: "investiq-mon", SilenceErrors: true, SilenceUsage: true}
		cmdutil.AddRootFlags(root, f)
		root.AddCommand(NewCmd(f, nil))
		AddFlag(root, f)
		return cmdutil.Main(context.Background(), root, args, f), out.String(), errOut.String()
	}
	code, out, errOut := runMain("version", "-o", "json")
	if code != cmdutil.ExitOK {
		t.Fatalf("version -o json: exit %d: %s", code, errOut)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, out)
	}
	images := spec.InvestIQ(spec.Settings{}).Images
	for i, image := range []string{images.Prometheus, images.Alertmanager, images.Grafana} {
		if i >= len(v.Generates) || v.Generates[i].Image != image || !strings.HasSuffix(image, ":v"+v.Generates[i].Version) && !strings.HasSuffix(image, ":"+v.Generates[i].Version) {
			t.Errorf("generates %+v does not carry the spec's image %s", v.Generates, image)
		}
	}
	if len(v.Parsers) != 0 {
		t.Errorf("a test binary has no dependency list, yet parsers are %+v", v.Parsers)
	}
	// The dependency list of a real build, as go build records it.
	defer func(f func() (*debug.BuildInfo, bool)) { readBuildInfo = f }(readBuildInfo)
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/investiq/investiq-mon", Version: "v0.3.0"}}
		for i, p := range parserModules {
			bi.Deps = append(bi.Deps, &debug.Module{Path: p, Version: fmt.Sprintf("v0.%d.0", i)})
		}
		return bi, true
	}
	_, out, _ = runMain("version", "-o", "json")
	v = versionInfo{}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "v0.3.0" || len(v.Parsers) != len(parserModules) || v.Parsers[1].Path != parserModules[1] || v.Parsers[1].Version != "v0.1.0" {
		t.Errorf("version -o json with a real build's info: %+v", v)
	}

	code, text, _ := runMain("version")
	if code != cmdutil.ExitOK || !strings.HasPrefix(text, "investiq-mon ") || !strings.Contains(text, images.Prometheus) {
		t.Errorf("version: exit %d:\n%s", code, text)
	}
	code, flagText, _ := runMain("--version")
	if code != cmdutil.ExitOK || flagText != text {
		t.Errorf("--version (exit %d) printed\n%s\nwant what version prints:\n%s", code, flagText, text)
	}
	if code, _, errOut := runMain("version", "-o", "yaml"); code != cmdutil.ExitUsage || !strings.Contains(errOut, "want text or json") {
		t.Errorf("version -o yaml: exit %d, %q; want a usage error", code, errOut)
	}
	if code, out, _ := runMain(); code != cmdutil.ExitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "version ") {
		t.Errorf("no arguments: exit %d, want the help:\n%s", code, out)
	}
}
