// Package version is `investiq-mon version` and the root's --version.
package version

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/spec"
)

// versionInfo is what `investiq-mon version` prints: this build, the
// servers the stack it generates runs (from the spec's pinned images) and
// the upstream modules whose parsers validate and test use.
type versionInfo struct {
	Version string `json:"version"`
	// Commit, CommitTime and Modified come from the VCS stamp `go build`
	// puts in a binary built in a git checkout.
	Commit     string      `json:"commit,omitempty"`
	CommitTime string      `json:"commit_time,omitempty"`
	Modified   bool        `json:"modified,omitempty"`
	Go         string      `json:"go"`
	Platform   string      `json:"platform"`
	Generates  []component `json:"generates"`
	Parsers    []module    `json:"parsers"`
}

type component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Image   string `json:"image"`
}

type module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

// parserModules are the modules whose code checks what investiq-mon
// writes: validate and test are as good as these versions.
var parserModules = []string{
	"github.com/prometheus/prometheus",
	"github.com/prometheus/alertmanager",
	"github.com/grafana/grafana-foundation-sdk/go",
	"github.com/compose-spec/compose-go/v2",
	"github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring",
}

// buildVersion reads the version from the binary's build info: the module
// version for `go install …@vX`, a pseudo-version or "(devel)" with the
// VCS stamp for a build in a checkout.
func buildVersion(bi *debug.BuildInfo, ok bool, images spec.Images) versionInfo {
	v := versionInfo{
		Version:  "unknown",
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	for _, c := range []struct{ name, image string }{
		{"Prometheus", images.Prometheus},
		{"Alertmanager", images.Alertmanager},
		{"Grafana", images.Grafana},
	} {
		v.Generates = append(v.Generates, component{Name: c.name, Version: imageVersion(c.image), Image: c.image})
	}
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	for _, p := range parserModules {
		for _, d := range bi.Deps {
			if d.Path == p {
				if d.Replace != nil {
					d = d.Replace
				}
				v.Parsers = append(v.Parsers, module{Path: p, Version: d.Version})
			}
		}
	}
	return v
}

// imageVersion is the tag of an image reference without its leading v:
// prom/prometheus:v3.16.0 is 3.16.0.
func imageVersion(image string) string {
	ref := image
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "latest"
	}
	return strings.TrimPrefix(ref[i+1:], "v")
}

func (v versionInfo) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "investiq-mon %s", v.Version)
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		fmt.Fprintf(&b, " (commit %s", c)
		if v.CommitTime != "" {
			fmt.Fprintf(&b, ", %s", v.CommitTime)
		}
		if v.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " %s %s\n", v.Go, v.Platform)
	b.WriteString("generates for:\n")
	for _, c := range v.Generates {
		fmt.Fprintf(&b, "  %-13s %-9s %s\n", c.Name, c.Version, c.Image)
	}
	if len(v.Parsers) > 0 {
		b.WriteString("checks with:\n")
		for _, m := range v.Parsers {
			fmt.Fprintf(&b, "  %s %s\n", m.Path, m.Version)
		}
	}
	return b.String()
}

type versionOptions struct {
	f      *cmdutil.Factory
	Output string
}

func NewCmd(f *cmdutil.Factory, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{f: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print investiq-mon's version and the server versions it generates for",
		Long: `Print the version of this investiq-mon build (from Go's build info:
a release version, or the commit it was built from), the Prometheus,
Alertmanager and Grafana versions the generated stack runs (the images
pinned in spec/investiq.go), and the versions of the upstream modules
whose parsers validate and test use. investiq-mon --version prints the
same.`,
		Example: `  investiq-mon version
  investiq-mon version -o json | jq -r .generates[0].version`,
		Args: cmdutil.ArgsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output != "text" && opts.Output != "json" {
				return fmt.Errorf("%w: --output %q: want text or json", cmdutil.ErrUsage, opts.Output)
			}
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// readBuildInfo is the binary's build info; tests replace it, since a
// test binary carries no dependency list.
var readBuildInfo = debug.ReadBuildInfo

func versionRun(opts *versionOptions) error {
	bi, ok := readBuildInfo()
	v := buildVersion(bi, ok, opts.f.Spec(opts.f.Settings).Images)
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(opts.f.IO.Out, v.text())
	return err
}

// AddFlag gives the root command --version (before what it runs
// otherwise, if anything), as promtool and gh
// have it, printing what `investiq-mon version` prints. Cobra's own
// version flag is not used: it takes -v, which is --verbose's, and wants
// the text before the command line is parsed.
func AddFlag(root *cobra.Command, f *cmdutil.Factory) {
	var show bool
	root.Flags().BoolVar(&show, "version", false, "print the version, as the version command does")
	run := root.RunE
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if show {
			return versionRun(&versionOptions{f: f, Output: "text"})
		}
		if run != nil {
			return run(cmd, args)
		}
		return cmd.Help()
	}
}
