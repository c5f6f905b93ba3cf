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
	// Settings are the stack's settings file (investiq-mon.yaml in the
	// stack's directory) with the root's flags over it: loadSettings
	// fills them before any command runs (settings.go).
	Settings spec.Settings
	// flagSettings are what the root's persistent flags say, and
	// settingsErr what was wrong with the settings file: LoadSpec
	// returns it, so commands that need no spec still run.
	flagSettings spec.Settings
	settingsErr  error
	// Spec builds the stack's spec from Settings; tests replace it.
	Spec func(spec.Settings) *spec.Spec
	// Log writes to ErrOut.
	Log *slog.Logger
	// Getenv and LookPath are the process environment; tests replace them.
	Getenv func(string) string
}

// LoadSpec builds and checks the spec.
func (f *Factory) LoadSpec() (*spec.Spec, error) { return f.LoadSpecWith(f.Settings) }

// LoadSpecWith builds and checks the spec with settings set: the one
// loader of every command, also of `up`, which moves the addresses of
// the local backend to 127.0.0.1 first. A broken settings file stops it.
func (f *Factory) LoadSpecWith(set spec.Settings) (*spec.Spec, error) {
	if f.settingsErr != nil {
		return nil, f.settingsErr
	}
	s := f.Spec(set)
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
	root.SetFlagErrorFunc(flagError)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return f.loadSettings(cmd) }
	pf := root.PersistentFlags()
	pf.StringVar(&f.flagSettings.APIAddress, "api-address", "", "for this run: host:port of the InvestIQ API's /metrics (setting api_address; default api-server:3000)")
	pf.StringVar(&f.flagSettings.MLAddress, "ml-address", "", "for this run: host:port of the ML signal-models service (setting ml_address; default ml-service:8000)")
	pf.Var(promDuration{&f.flagSettings.Retention}, "retention", "for this run: Prometheus retention, e.g. 30d (setting retention; default 15d)")

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
	groupCommands(root)
	registerCompletions(root, f)
	return root
}

// flagError makes every flag error, a bad value included, a usage error.
func flagError(c *cobra.Command, err error) error {
	return fmt.Errorf("%w: %v\nrun `%s --help` for usage", errUsage, err, c.CommandPath())
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
