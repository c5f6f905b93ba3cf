package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Flag parsing alone: runF receives the options instead of running.
func TestValidateFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*validateOptions) bool
		wantErr error
	}{
		{"no path means monitoring/", nil, func(o *validateOptions) bool {
			return slices.Equal(o.Paths, []string{DefaultDir}) && o.Format == "text" && !o.LintFatal
		}, nil},
		{"paths and every flag are taken", []string{"a.yml", "dir", "--kind", "rules", "--format", "json", "--lint-fatal",
			"--ignore-unknown-fields", "--syntax-only", "--disable", "promql/unknown-metric", "--disable", "security/"},
			func(o *validateOptions) bool {
				return slices.Equal(o.Paths, []string{"a.yml", "dir"}) && o.Kind == "rules" && o.Format == "json" &&
					o.LintFatal && o.IgnoreUnknownFields && o.SyntaxOnly &&
					slices.Equal(o.Disable, []string{"promql/unknown-metric", "security/"})
			}, nil},
		{"the profile, --enable and --dir are taken; --dir is the default path", []string{"--profile", "all", "--enable", "alerts/", "--enable", "security/inline-secret", "--dir", "stack"},
			func(o *validateOptions) bool {
				return o.Profile == "all" && slices.Equal(o.Enable, []string{"alerts/", "security/inline-secret"}) &&
					o.Dir == "stack" && slices.Equal(o.Paths, []string{"stack"})
			}, nil},
		{"the default profile runs house checks on the project's files", nil, func(o *validateOptions) bool {
			return o.Profile == "default" && o.Dir == DefaultDir
		}, nil},
		{"an unknown profile is a usage error", []string{"--profile", "strict"}, nil, errUsage},
		{"a check name that matches nothing is a usage error", []string{"--enable", "alerts/severty"}, nil, errUsage},
		{"a prefix that matches nothing is a usage error", []string{"--disable", "secrets/"}, nil, errUsage},
		{"an unknown format is a usage error", []string{"--format", "xml"}, nil, errUsage},
		{"-o takes the CI formats", []string{"-o", "sarif"}, func(o *validateOptions) bool { return o.Format == "sarif" }, nil},
		{"--json is -o json", []string{"--json"}, func(o *validateOptions) bool { return o.Format == "json" }, nil},
		{"an unknown -o is a usage error", []string{"-o", "yaml"}, nil, errUsage},
		{"an unknown kind is a usage error", []string{"--kind", "nope"}, nil, errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *validateOptions
			f := NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
			cmd := newCmdValidate(f, func(o *validateOptions) error { got = o; return nil })
			cmd.SetFlagErrorFunc(cmdutil.FlagError)
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("want %v, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil || got == nil || !tt.check(got) {
				t.Fatalf("err %v, options %+v", err, got)
			}
		})
	}
}

// The exit code reaches the process through Main: 1 on errors, 3 on lint
// with --lint-fatal, 0 otherwise.
func TestValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := dir + "/" + name
		if err := writeFile(p, content); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yml", "groups:\n  - name: g\n    rules:\n      - record: a:b:c\n        expr: sum(up)\n")
	dup := write("dup.yml", "groups:\n  - name: g\n    rules:\n      - record: a:b:c\n        expr: sum(up)\n      - record: a:b:c\n        expr: sum(up)\n")
	bad := write("bad.yml", "groups:\n  - name: g\n    rules:\n      - record: a:b:c\n        expr: sum(\n")
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"validate", good}, ExitOK},
		{[]string{"validate", dup}, ExitOK},
		{[]string{"validate", "--lint-fatal", dup}, ExitLint},
		{[]string{"validate", bad}, ExitError},
		{[]string{"validate", "--lint-fatal", bad, dup}, ExitError},
		{[]string{"validate", "--format", "yaml", good}, ExitUsage},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		f := NewFactory(&IOStreams{Out: &out, ErrOut: &errOut})
		if got := Main(t.Context(), tt.args, f); got != tt.want {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.want, out.String(), errOut.String())
		}
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

// The parity corpus through the command itself: for every file, the exit
// code of `investiq-mon validate` is the real promtool's or amtool's, with
// and without --lint-fatal. internal/validate's parity test checks the
// lines; this one checks that nothing between the package and the process
// changes a verdict (the corpus is not the project's: --dir is the default,
// monitoring/, which it is not under).
func TestValidateParityCorpusThroughCLI(t *testing.T) {
	dir := filepath.Join("..", "validate", "testdata", "parity")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) < 40 {
		t.Fatalf("parity corpus: %d files, %v", len(files), err)
	}
	promtool, amtool := testutil.Bin(t, "promtool"), testutil.Bin(t, "amtool")
	for _, path := range files {
		name := filepath.Base(path)
		for _, lintFatal := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s lint-fatal=%v", name, lintFatal), func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var cmd *exec.Cmd
				lint := []string{}
				if lintFatal {
					lint = []string{"--lint-fatal"}
				}
				switch {
				case strings.HasPrefix(name, "rules-"):
					cmd = exec.Command(promtool, append([]string{"check", "rules"}, append(lint, name)...)...)
				case strings.HasPrefix(name, "prom-"):
					cmd = exec.Command(promtool, append([]string{"check", "config"}, append(lint, name)...)...)
				case strings.HasPrefix(name, "web-"):
					cmd = exec.Command(promtool, "check", "web-config", name)
				default:
					cmd = exec.Command(amtool, "check-config", name)
				}
				cmd.Dir = dir
				upstream := 0
				if err := cmd.Run(); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						t.Fatal(err)
					}
					upstream = ee.ExitCode()
				}
				if bytes.Contains(data, []byte("\n# upstream-crashes\n")) {
					// amtool panics on it (exit 2); validate reports an error.
					upstream = ExitError
				}
				var out, errOut bytes.Buffer
				args := append([]string{"validate"}, append(lint, path)...)
				got := Main(t.Context(), args, NewFactory(&IOStreams{Out: &out, ErrOut: &errOut}))
				if got != upstream {
					t.Errorf("investiq-mon %v exits %d, upstream %d\n%s%s", args, got, upstream, out.String(), errOut.String())
				}
			})
		}
	}
}
