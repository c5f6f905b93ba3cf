// Package generate is `investiq-mon generate`: the spec rendered into the
// stack's files, written only where they changed, or checked for drift.
// It links no parser of validate's, so cmd/investiq-mon-generate, which
// holds it alone, builds quickly on a fresh machine.
package generate

import (
	"encoding/json"
	"errors"
	"fmt"
	goio "io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmdutil"
	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/settings"
)

type Options struct {
	f     *cmdutil.Factory
	Out   string
	Check bool
	Diff  bool
	// Target is compose or kubernetes (kube.go).
	Target string
	kube   *Kubernetes
	cmdutil.LockFlags
	// Output is --output of --check (no -o: that is --out here).
	Output string
}

// NewCmd is `generate`; kube is the kubernetes target, nil where it is
// not linked (investiq-mon-generate).
func NewCmd(f *cmdutil.Factory, kube *Kubernetes, runF func(*Options) error) *cobra.Command {
	opts := &Options{f: f, kube: kube}
	cmd := &cobra.Command{
		Use: "generate",
		Example: `  investiq-mon generate
  investiq-mon generate --check --diff          # the drift check for CI
  investiq-mon generate --check --output json
  investiq-mon generate --retention 30d --check # one run; keep it in monitoring/investiq-mon.yaml`,
		Short: "Write every file of the stack from the spec",
		Long: `Render prometheus.yml, the rule rendered, alertmanager.yml, Grafana's
provisioning and dashboards, docker-compose.yml and .env.example from
spec/investiq.go into --dir. Output is byte-identical on every run and every
file is written atomically. On first run it also creates .env (mode 0600)
with random passwords; .env is never overwritten and never printed.

With --check nothing is written: the command exits 1 and lists every file
that differs from what the spec renders (the drift check for CI).

--target kubernetes writes prometheus-operator resources instead, into
kubernetes/ unless --dir says otherwise: PrometheusRules, a ServiceMonitor
per InvestIQ scrape job, an AlertmanagerConfig whose secrets are keys of
the Secret made from .env, the dashboards and datasource as ConfigMaps for
Grafana's sidecar, and a kustomization.yaml (kubectl apply -k).`,
		Args: cmdutil.ArgsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("out") {
				// On stderr: pflag's own deprecation note would go to stdout.
				f.IO.Warnf("--out is deprecated: use --dir, as every other command does")
			}
			if opts.Diff && !opts.Check {
				return fmt.Errorf("%w: --diff goes with --check", cmdutil.ErrUsage)
			}
			if opts.Output != cmdutil.OutText && !opts.Check {
				return fmt.Errorf("%w: --output goes with --check", cmdutil.ErrUsage)
			}
			if err := generateTarget(cmd, opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			if !opts.Check && files.UsableDir(opts.Out) == nil {
				// Two generates at once would each create .env with
				// other passwords; the lock makes them take turns.
				if err := os.MkdirAll(opts.Out, 0o755); err != nil {
					return err
				}
				unlock, err := cmdutil.LockDirs(cmd.Context(), f, "generate", opts.LockWait, nil, filepath.Join(opts.Out, cmdutil.DirLockName))
				if err != nil {
					return err
				}
				defer unlock()
			}
			return generateRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "dir", cmdutil.DefaultDir, "directory to write the stack into (the --dir of every other command)")
	// --out was generate's own name for --dir; kept so scripts still run.
	cmd.Flags().StringVarP(&opts.Out, "out", "o", cmdutil.DefaultDir, "")
	_ = cmd.Flags().MarkHidden("out")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "write nothing; exit 1 if any file differs from the spec")
	cmd.Flags().BoolVar(&opts.Diff, "diff", false, "with --check, print a unified diff of each differing file")
	opts.LockFlags.AddFlags(cmd.Flags())
	cmdutil.AddOutputFlag(cmd, &opts.Output, false, cmdutil.OutJSON)
	cmd.Flags().StringVar(&opts.Target, "target", TargetCompose, "compose (docker compose and up --backend local) or kubernetes (prometheus-operator resources, into kubernetes/)")
	return cmd
}

func generateRun(opts *Options) error {
	io := opts.f.IO
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	rendered, err := renderTarget(opts, s)
	if err != nil {
		return err
	}
	warnUnbounded(opts, s)
	if err := files.UsableDir(opts.Out); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	drifts, err := files.Check(opts.Out, rendered)
	if err != nil {
		return err
	}
	if opts.Check && opts.Output == cmdutil.OutJSON {
		if err := writeDriftJSON(io.Out, opts, len(rendered), drifts); err != nil {
			return err
		}
		if len(drifts) > 0 {
			return cmdutil.Exit(cmdutil.ExitError, nil)
		}
		return nil
	}
	if opts.Check {
		for _, d := range drifts {
			fmt.Fprintf(io.Out, "%s: %s\n", filepath.Join(opts.Out, filepath.FromSlash(d.Path)), d.Reason)
			if opts.Diff && d.Diff != "" {
				fmt.Fprint(io.Out, d.Diff)
			}
		}
		if len(drifts) > 0 {
			return cmdutil.Exit(cmdutil.ExitError, fmt.Errorf("%d of %d files differ from the spec: run `investiq-mon generate --dir %s` to update them", len(drifts), len(rendered), opts.Out))
		}
		io.Infof("%d files match the spec", len(rendered))
		return nil
	}

	// A .env that Ensure will refuse stops the run before any file is
	// written.
	if opts.Target != TargetKubernetes {
		if err := secrets.CheckExisting(opts.Out, s); err != nil {
			return err
		}
	}
	toWrite, err := files.Sync(opts.Out, rendered)
	if err != nil {
		return err
	}
	for _, f := range toWrite {
		io.Infof("wrote %s", filepath.Join(opts.Out, filepath.FromSlash(f.Path)))
	}
	io.Infof("%d files in %s, %d changed", len(rendered), opts.Out, len(toWrite))
	if opts.Target == TargetKubernetes {
		opts.kube.NextSteps(io.Info(), s, opts.Out)
		return nil
	}

	if created, err := settings.WriteDefault(opts.Out); err != nil {
		return fmt.Errorf("%s: %w", settings.Path(opts.Out), err)
	} else if created {
		io.Infof("created %s: the stack's settings, every one at its default and commented out; edit it and commit it", settings.Path(opts.Out))
	}

	res, err := secrets.Ensure(opts.Out, s) // its errors name .env
	if err != nil {
		return err
	}
	envPath := res.Path
	switch {
	case res.Created:
		io.Infof("%s", res.CreatedNote())
	case len(res.Updated) > 0:
		io.Infof("updated %s: set %v", envPath, res.Updated)
	}
	for _, w := range res.Warnings {
		io.Warnf("%s", w)
	}
	if msg := gitIgnoreProblem(envPath); msg != "" {
		io.Warnf("%s", msg)
	}
	return nil
}

// gitIgnoreProblem says so when .env sits in a git work tree that would
// commit it. One git process: check-ignore exits 0 when the file is
// ignored, 1 when it is not, and 128 outside a work tree (or on any
// other trouble), which says nothing.
func gitIgnoreProblem(envPath string) string {
	git, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	err = exec.Command(git, "-C", filepath.Dir(envPath), "check-ignore", "-q", filepath.Base(envPath)).Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return envPath + " is not ignored by git: add it to .gitignore so its secrets are never committed"
	}
	return ""
}

// driftJSON is generate --check --output json; its names are a contract.
type driftJSON struct {
	Dir     string      `json:"dir"`
	Files   int         `json:"files"`
	Drifted []driftItem `json:"drifted"`
}

type driftItem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Diff   string `json:"diff,omitempty"`
}

func writeDriftJSON(w goio.Writer, opts *Options, total int, drifts []files.Drift) error {
	out := driftJSON{Dir: opts.Out, Files: total, Drifted: []driftItem{}}
	for _, d := range drifts {
		it := driftItem{Path: filepath.Join(opts.Out, filepath.FromSlash(d.Path)), Reason: d.Reason}
		if opts.Diff {
			it.Diff = d.Diff
		}
		out.Drifted = append(out.Drifted, it)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
