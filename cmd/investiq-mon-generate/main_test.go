package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/cli"
	"github.com/investiq/investiq-mon/internal/cmdutil"
)

// fullGenerate is the generate command of the full CLI.
func fullGenerate(t *testing.T) *cobra.Command {
	root := cli.NewRootCmd(cli.NewFactory(&cli.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	c, _, err := root.Find([]string{"generate"})
	if err != nil || c.Name() != "generate" {
		t.Fatalf("the full CLI has no generate: %v", err)
	}
	return c
}

// flagsOf lists every flag a command takes, its own and inherited, as
// name, shorthand, default and help.
func flagsOf(c *cobra.Command) []string {
	var out []string
	add := func(fl *pflag.Flag) {
		if fl.Name == "help" || fl.Name == "version" {
			return
		}
		out = append(out, strings.Join([]string{fl.Name, fl.Shorthand, fl.DefValue, fl.Usage, fl.Value.Type()}, "|"))
	}
	c.InheritedFlags().VisitAll(add)
	c.LocalFlags().VisitAll(add)
	slices.Sort(out)
	return slices.Compact(out)
}

// The light binary is investiq-mon generate, not a look-alike: the same
// flags, with the same defaults and help.
func TestSameFlagsAsInvestiqMonGenerate(t *testing.T) {
	light := newRoot(cmdutil.NewFactory(&cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	got, want := flagsOf(light), flagsOf(fullGenerate(t))
	if len(want) < 8 {
		t.Fatalf("only %d flags on the full generate: the comparison is broken", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("investiq-mon-generate flags differ from investiq-mon generate:\n got %q\nwant %q", got, want)
	}
}

// Both write the same files, byte for byte; .env holds random passwords,
// so only its names are compared.
func TestWritesWhatInvestiqMonGenerateWrites(t *testing.T) {
	run := func(full bool, dir string) {
		var errOut bytes.Buffer
		f := cmdutil.NewFactory(&cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut})
		args := []string{"--dir", dir, "--retention", "30d"}
		var code int
		if full {
			code = cli.Main(context.Background(), append([]string{"generate"}, args...), f)
		} else {
			code = cmdutil.Main(context.Background(), newRoot(f), args, f)
		}
		if code != 0 {
			t.Fatalf("full=%v: exit %d: %s", full, code, errOut.String())
		}
	}
	a, b := filepath.Join(t.TempDir(), "light"), filepath.Join(t.TempDir(), "full")
	run(false, a)
	run(true, b)
	files := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == cmdutil.DirLockName {
				return err
			}
			data, err := os.ReadFile(p)
			if d.Name() == ".env" {
				var names []string
				for _, line := range strings.Split(string(data), "\n") {
					if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
						names = append(names, k)
					}
				}
				data = []byte(strings.Join(names, ","))
			}
			rel, _ := filepath.Rel(dir, p)
			m[rel] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	la, fb := files(a), files(b)
	if len(la) < 10 || len(la) != len(fb) {
		t.Fatalf("light wrote %d files, full %d", len(la), len(fb))
	}
	for p, data := range fb {
		if !bytes.Equal(la[p], data) {
			t.Errorf("%s differs between investiq-mon-generate and investiq-mon generate", p)
		}
	}
	if !bytes.Contains(la["docker-compose.yml"], []byte("30d")) {
		t.Errorf("--retention 30d did not reach the compose file")
	}
}

// --target kubernetes is the full CLI's: the light binary says so, as a
// usage error, and writes nothing.
func TestKubernetesTargetPointsAtTheFullCLI(t *testing.T) {
	var errOut bytes.Buffer
	f := cmdutil.NewFactory(&cmdutil.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut})
	dir := filepath.Join(t.TempDir(), "k")
	code := cmdutil.Main(context.Background(), newRoot(f), []string{"--target", "kubernetes", "--dir", dir}, f)
	if code != cmdutil.ExitUsage || !strings.Contains(errOut.String(), "investiq-mon generate --target kubernetes") {
		t.Errorf("exit %d, %q; want a usage error naming the full CLI", code, errOut.String())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
}

// What makes the binary light: none of validate's parsers, none of the
// servers' configuration packages (they pull in cloud SDKs), no API
// clients. A new import that drags one in fails here, not in a
// newcomer's first build.
func TestLinksNoParserOrClient(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports with")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, heavy := range []string{
		"github.com/investiq/investiq-mon/internal/validate",
		"github.com/investiq/investiq-mon/internal/stack",
		"github.com/investiq/investiq-mon/internal/backup",
		"github.com/prometheus/prometheus/config",
		"github.com/prometheus/alertmanager/config",
		"github.com/aws/aws-sdk-go-v2/aws",
		"github.com/grafana/grafana-openapi-client-go/client",
		"github.com/investiq/investiq-mon/internal/kube",
		"k8s.io/api/core/v1",
	} {
		if slices.Contains(deps, heavy) {
			t.Errorf("investiq-mon-generate links %s", heavy)
		}
	}
	if len(deps) > 450 {
		t.Errorf("investiq-mon-generate links %d packages; it was 398 when this test was written", len(deps))
	}
}
