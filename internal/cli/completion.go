package cli

import (
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/cmd/generate"
	"github.com/investiq/investiq-mon/internal/simulate"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/validate"
)

// Command groups of the help: the workflow a person follows.
const (
	groupBuild   = "build"
	groupRun     = "run"
	groupOperate = "operate"
)

// groupCommands sorts the root's commands into the help's groups.
func groupCommands(root *cobra.Command) {
	root.AddGroup(
		&cobra.Group{ID: groupBuild, Title: "Build and check the stack:"},
		&cobra.Group{ID: groupRun, Title: "Run it:"},
		&cobra.Group{ID: groupOperate, Title: "Operate it:"},
	)
	groups := map[string]string{
		"generate": groupBuild, "validate": groupBuild, "test": groupBuild, "sizing": groupBuild, "routes": groupBuild,
		"up": groupRun, "down": groupRun, "status": groupRun, "simulate": groupRun,
		"doctor": groupOperate, "check-metrics": groupOperate, "backup": groupOperate, "restore": groupOperate, "grafana": groupOperate,
	}
	for _, c := range root.Commands() {
		if g, ok := groups[c.Name()]; ok {
			c.GroupID = g
		}
	}
}

// registerCompletions completes flag values by flag name wherever they
// appear: backends, validate's kinds, scrape jobs, simulator scenarios.
func registerCompletions(root *cobra.Command, f *Factory) {
	fixed := func(vals ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp)
	}
	kinds := make([]string, len(validate.Kinds))
	for i, k := range validate.Kinds {
		kinds[i] = string(k)
	}
	jobs := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []string
		for _, j := range f.Spec(f.Settings).Jobs {
			out = append(out, j.Name)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	scenarios := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		sim, err := simulate.New(f.Spec(f.Settings), simulate.Options{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return sim.Scenarios(), cobra.ShellCompDirectiveNoFileComp
	}
	byFlag := map[string]cobra.CompletionFunc{
		"backend":  fixed(stack.Compose, stack.Local),
		"kind":     fixed(kinds...),
		"job":      jobs,
		"scenario": scenarios,
		"target":   fixed(generate.TargetCompose, generate.TargetKubernetes),
	}
	walk(root, func(c *cobra.Command) {
		for name, fn := range byFlag {
			if c.LocalFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
	})
}

// walk calls fn on every command of the tree.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}
