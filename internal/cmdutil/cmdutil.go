// Package cmdutil is what every investiq-mon command is built from: the
// Factory (streams, settings, spec, logger), exit codes, the flags every
// command spells the same way (--output, durations, --lock-wait, the
// root's settings overrides, -q/-v/--no-color) and the stack lock. It
// imports no parser of the servers' files, so a binary of the light
// commands (cmd/investiq-mon-generate) builds in a fraction of the full
// CLI's time.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/investiq/investiq-mon/internal/textsafe"
	"github.com/investiq/investiq-mon/spec"
)

// Exit codes, documented in the README: scripts depend on these.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitLint    = 3
	ExitTimeout = 4
)

// exitError carries an exit code with an error. A nil Err exits silently
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

// ErrUsage marks a usage error: Main exits with ExitUsage.
var ErrUsage = errors.New("usage")

// Factory is what every command is built from.
type Factory struct {
	IO *IOStreams
	// Settings are the stack's settings file (investiq-mon.yaml in the
	// stack's directory) with the root's flags over it: LoadSettings
	// fills them before any command runs.
	Settings spec.Settings
	// flagSettings are what the root's persistent flags say, and
	// settingsErr what was wrong with the settings file: LoadSpec
	// returns it, so commands that need no spec still run.
	flagSettings spec.Settings
	settingsErr  error
	// Spec builds the stack's spec from Settings; tests replace it.
	Spec func(spec.Settings) *spec.Spec
	// Log writes to ErrOut: human lines on a terminal, key=value lines
	// elsewhere; its level follows -q and -v (ConfigureOutput).
	Log *slog.Logger
	// Getenv is the process environment; tests replace it.
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

// SettingsErr is what was wrong with the settings file, if anything.
func (f *Factory) SettingsErr() error { return f.settingsErr }

// IgnoreSettingsFile drops a broken settings file for this run: the
// flags over the defaults, as validate's cross-checks do while they
// report the file as a finding of its own.
func (f *Factory) IgnoreSettingsFile() { f.settingsErr, f.Settings = nil, f.flagSettings }

// System is the Factory of a real run.
func System() *Factory {
	return NewFactory(&IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		Terminal:    term.IsTerminal(int(os.Stdout.Fd())),
		ErrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	})
}

// NewFactory returns a Factory writing to io.
func NewFactory(io *IOStreams) *Factory {
	f := &Factory{IO: io, Spec: spec.InvestIQ, Getenv: os.Getenv}
	f.Log = newLogger(io)
	return f
}

// Main runs root and returns the process exit code: every error is
// printed once, escaped, and mapped to its exit code here.
func Main(ctx context.Context, root *cobra.Command, args []string, f *Factory) int {
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
			fmt.Fprintln(f.IO.ErrOut, f.IO.errorPrefix()+textsafe.Text(ee.Err.Error()))
		}
		return ee.Code
	}
	// Errors quote servers, archives and files: escape what could
	// drive the terminal.
	fmt.Fprintln(f.IO.ErrOut, f.IO.errorPrefix()+textsafe.Text(err.Error()))
	// cobra has no typed error for an unknown subcommand; its message is
	// stable across releases.
	if errors.Is(err, ErrUsage) || strings.HasPrefix(err.Error(), "unknown command ") {
		return ExitUsage
	}
	return ExitError
}

// FlagError makes every flag error, a bad value included, a usage error.
func FlagError(c *cobra.Command, err error) error {
	return fmt.Errorf("%w: %v\nrun `%s --help` for usage", ErrUsage, err, c.CommandPath())
}

// ArgsError makes cobra's argument errors exit with the usage code.
func ArgsError(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		return nil
	}
}
