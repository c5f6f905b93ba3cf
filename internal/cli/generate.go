package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	goio "io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/settings"
)

// DefaultDir is where the stack is generated unless told otherwise.
const DefaultDir = "monitoring"

type generateOptions struct {
	f     *Factory
	Out   string
	Check bool
	Diff  bool
	// Target is compose or kubernetes (generate_kube.go).
	Target string
	lockFlags
	// Output is --output of --check (no -o: that is --out here).
	Output string
}

func newCmdGenerate(f *Factory, runF func(*generateOptions) error) *cobra.Command {
	opts := &generateOptions{f: f}
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
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("out") {
				// On stderr: pflag's own deprecation note would go to stdout.
				fmt.Fprintln(f.IO.ErrOut, "warning: --out is deprecated: use --dir, as every other command does")
			}
			if opts.Diff && !opts.Check {
				return fmt.Errorf("%w: --diff goes with --check", errUsage)
			}
			if opts.Output != outText && !opts.Check {
				return fmt.Errorf("%w: --output goes with --check", errUsage)
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
				unlock, err := lockDirs(cmd.Context(), f, "generate", opts.LockWait, nil, filepath.Join(opts.Out, DirLockName))
				if err != nil {
					return err
				}
				defer unlock()
			}
			return generateRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "dir", DefaultDir, "directory to write the stack into (the --dir of every other command)")
	// --out was generate's own name for --dir; kept so scripts still run.
	cmd.Flags().StringVarP(&opts.Out, "out", "o", DefaultDir, "")
	_ = cmd.Flags().MarkHidden("out")
	cmd.Flags().BoolVar(&opts.Check, "check", false, "write nothing; exit 1 if any file differs from the spec")
	cmd.Flags().BoolVar(&opts.Diff, "diff", false, "with --check, print a unified diff of each differing file")
	opts.lockFlags.addFlags(cmd.Flags())
	addOutputFlag(cmd, &opts.Output, false, outJSON)
	cmd.Flags().StringVar(&opts.Target, "target", targetCompose, "compose (docker compose and up --backend local) or kubernetes (prometheus-operator resources, into kubernetes/)")
	return cmd
}

func generateRun(opts *generateOptions) error {
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
	if opts.Check && opts.Output == outJSON {
		if err := writeDriftJSON(io.Out, opts, len(rendered), drifts); err != nil {
			return err
		}
		if len(drifts) > 0 {
			return Exit(ExitError, nil)
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
			return Exit(ExitError, fmt.Errorf("%d of %d files differ from the spec: run `investiq-mon generate --dir %s` to update them", len(drifts), len(rendered), opts.Out))
		}
		fmt.Fprintf(io.ErrOut, "%d files match the spec\n", len(rendered))
		return nil
	}

	toWrite, err := files.Sync(opts.Out, rendered)
	if err != nil {
		return err
	}
	for _, f := range toWrite {
		fmt.Fprintf(io.ErrOut, "wrote %s\n", filepath.Join(opts.Out, filepath.FromSlash(f.Path)))
	}
	fmt.Fprintf(io.ErrOut, "%d files in %s, %d changed\n", len(rendered), opts.Out, len(toWrite))
	if opts.Target == targetKubernetes {
		kubernetesNextSteps(opts, s)
		return nil
	}

	if created, err := settings.WriteDefault(opts.Out); err != nil {
		return fmt.Errorf("%s: %w", settings.Path(opts.Out), err)
	} else if created {
		fmt.Fprintf(io.ErrOut, "created %s: the stack's settings, every one at its default and commented out; edit it and commit it\n", settings.Path(opts.Out))
	}

	res, err := secrets.Ensure(opts.Out, s)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(opts.Out, secrets.FileName), err)
	}
	envPath := res.Path
	switch {
	case res.Created:
		fmt.Fprintln(io.ErrOut, res.CreatedNote())
	case len(res.Updated) > 0:
		fmt.Fprintf(io.ErrOut, "updated %s: set %v\n", envPath, res.Updated)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(io.ErrOut, "warning:", w)
	}
	if msg := gitIgnoreProblem(envPath); msg != "" {
		fmt.Fprintln(io.ErrOut, "warning:", msg)
	}
	return nil
}

// gitIgnoreProblem says so when .env sits in a git work tree that would
// commit it.
func gitIgnoreProblem(envPath string) string {
	git, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	dir := filepath.Dir(envPath)
	if err := exec.Command(git, "-C", dir, "rev-parse", "--is-inside-work-tree").Run(); err != nil {
		return "" // not in a git work tree
	}
	err = exec.Command(git, "-C", dir, "check-ignore", "-q", filepath.Base(envPath)).Run()
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

func writeDriftJSON(w goio.Writer, opts *generateOptions, total int, drifts []files.Drift) error {
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
