// Package cli holds investiq-mon's cobra commands. Each command is a
// constructor newCmdX(f, runF) with an options struct; xRun(opts) does the
// work, so tests can check flag parsing and behaviour apart. Errors are
// mapped to exit codes in one place, Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/investiq/investiq-mon/internal/textsafe"
	"github.com/investiq/investiq-mon/spec"
)

// Exit codes, as promtool uses them: scripts depend on these.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitLint    = 3
	ExitTimeout = 4
)

// ExitError carries an exit code with an error. A nil Err exits silently
// (the command already said what was wrong).
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *exitError) Unwrap() error { return e.Err }

// Exit wraps err so that Main exits with code.
func Exit(code int, err error) error { return &exitError{Code: code, Err: err} }

// IOStreams are where a command reads and writes: data on Out, messages
// and logs on ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Terminal is true when Out is a terminal: colours and progress bars.
	Terminal bool
}

// Factory is what every command is built from.
type Factory struct {
	IO *IOStreams
	// Settings are filled by the root's persistent flags.
	Settings spec.Settings
	// Spec builds the stack's spec from Settings; tests replace it.
	Spec func(spec.Settings) *spec.Spec
	// Log writes to ErrOut.
	Log *slog.Logger
	// Getenv and LookPath are the process environment; tests replace them.
	Getenv func(string) string
}

// LoadSpec builds and checks the spec.
func (f *Factory) LoadSpec() (*spec.Spec, error) {
	s := f.Spec(f.Settings)
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("spec/investiq.go:\n%w", err)
	}
	return s, nil
}

// System is the Factory of a real run.
func System() *Factory {
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Terminal: term.IsTerminal(int(os.Stdout.Fd()))}
	return NewFactory(io)
}

// NewFactory returns a Factory writing to io.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{
		IO:     io,
		Spec:   spec.InvestIQ,
		Log:    slog.New(slog.NewTextHandler(io.ErrOut, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Getenv: os.Getenv,
	}
}

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, f *Factory) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(f.IO.ErrOut, "error:", textsafe.Text(ee.Err.Error()))
		}
		return ee.Code
	}
	// Errors quote servers, archives and files: escape what could
	// drive the terminal.
	fmt.Fprintln(f.IO.ErrOut, "error:", textsafe.Text(err.Error()))
	// cobra has no typed error for an unknown subcommand; its message is
	// stable across releases.
	if errors.Is(err, errUsage) || strings.HasPrefix(err.Error(), "unknown command ") {
		return ExitUsage
	}
	return ExitError
}

var errUsage = errors.New("usage")

// NewRootCmd is the investiq-mon command with every subcommand.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "investiq-mon",
		Short: "Provision InvestIQ's monitoring stack from one Go spec",
		Long: `investiq-mon renders Prometheus, Alertmanager, Grafana and docker compose
files from spec/investiq.go, validates them, tests every alert, and runs,
inspects, backs up and restores the stack.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v\nrun `%s --help` for usage", errUsage, err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&f.Settings.APIAddress, "api-address", "", "host:port of the InvestIQ API's /metrics (default api-server:3000)")
	pf.StringVar(&f.Settings.MLAddress, "ml-address", "", "host:port of the ML signal-models service (default ml-service:8000)")
	pf.Var(promDuration{&f.Settings.Retention}, "retention", "Prometheus retention, e.g. 30d (default 15d)")

	root.AddCommand(
		newCmdGenerate(f, nil),
		newCmdValidate(f, nil),
		newCmdTest(f, nil),
		newCmdSimulate(f, nil),
		newCmdUp(f, nil),
		newCmdDown(f, nil),
		newCmdStatus(f, nil),
		newCmdCheckMetrics(f, nil),
		newCmdDoctor(f, nil),
		newCmdBackup(f, nil),
		newCmdRestore(f, nil),
		newCmdGrafana(f),
		newCmdRoutes(f, nil),
		newCmdSizing(f, nil),
		newCmdVersion(f, nil),
	)
	addVersionFlag(root, f)
	return root
}

// argsError makes cobra's argument errors exit with the usage code.
func argsError(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return nil
	}
}

// now is the clock; tests replace it.
var now = time.Now
