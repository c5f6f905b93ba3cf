// Package cli holds investiq-mon's cobra commands. Each command is a
// constructor newCmdX(f, runF) with an options struct; xRun(opts) does the
// work, so tests can check flag parsing and behaviour apart. Errors are
// mapped to exit codes in one place, Main.
package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmd/generate"
	"github.com/investiq/investiq-mon/internal/cmd/version"
	"github.com/investiq/investiq-mon/internal/cmdutil"
)

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
	root.SetFlagErrorFunc(cmdutil.FlagError)
	cmdutil.AddRootFlags(root, f)

	root.AddCommand(
		generate.NewCmd(f, kubernetesTarget, nil),
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
		version.NewCmd(f, nil),
	)
	version.AddFlag(root, f)
	groupCommands(root)
	registerCompletions(root, f)
	return root
}

// now is the clock; tests replace it.
var now = time.Now
