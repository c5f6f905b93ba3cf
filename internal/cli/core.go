package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/cmdutil"
)

// The command layer's shared parts live in cmdutil (light enough for
// cmd/investiq-mon-generate); these names keep the commands here short.

type (
	Factory   = cmdutil.Factory
	IOStreams = cmdutil.IOStreams
	lockFlags = cmdutil.LockFlags
)

const (
	ExitOK      = cmdutil.ExitOK
	ExitError   = cmdutil.ExitError
	ExitUsage   = cmdutil.ExitUsage
	ExitLint    = cmdutil.ExitLint
	ExitTimeout = cmdutil.ExitTimeout

	DefaultDir    = cmdutil.DefaultDir
	DirLockName   = cmdutil.DirLockName
	StateLockName = cmdutil.StateLockName

	outText       = cmdutil.OutText
	outJSON       = cmdutil.OutJSON
	outGitHub     = cmdutil.OutGitHub
	outCheckstyle = cmdutil.OutCheckstyle
	outSARIF      = cmdutil.OutSARIF
	outJUnit      = cmdutil.OutJUnit
)

var (
	errUsage  = cmdutil.ErrUsage
	argsError = cmdutil.ArgsError
)

// Exit wraps err so that Main exits with code.
func Exit(code int, err error) error { return cmdutil.Exit(code, err) }

// System is the Factory of a real run.
func System() *Factory { return cmdutil.System() }

// NewFactory returns a Factory writing to io.
func NewFactory(io *IOStreams) *Factory { return cmdutil.NewFactory(io) }

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, f *Factory) int {
	return cmdutil.Main(ctx, NewRootCmd(f), args, f)
}

func addOutputFlag(cmd *cobra.Command, dst *string, shorthand bool, formats ...string) {
	cmdutil.AddOutputFlag(cmd, dst, shorthand, formats...)
}

func durationVar(fl *pflag.FlagSet, d *time.Duration, name string, def time.Duration, usage string) {
	cmdutil.DurationVar(fl, d, name, def, usage)
}

func lockDirs(ctx context.Context, f *Factory, command string, wait time.Duration, create map[string]bool, paths ...string) (func(), error) {
	return cmdutil.LockDirs(ctx, f, command, wait, create, paths...)
}
