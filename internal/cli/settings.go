package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/settings"
)

// loadSettings fills f.Settings from the settings file of the command's
// stack (--dir, or generate's --out) with the root's flags over it, and
// says which flag overrides a committed setting for this run. Every
// command builds its spec from these, so generate, generate --check, up,
// doctor and validate agree.
func (f *Factory) loadSettings(cmd *cobra.Command) error {
	l, err := settings.Load(settingsDir(cmd))
	if err != nil {
		f.settingsErr = fmt.Errorf("%w\nfix %s (its settings are described in its comments and the README), or move it away to use the defaults", err, l.Path)
		return nil
	}
	set, notes := settings.Merge(l, f.flagSettings, func(name string) bool {
		fl := cmd.Flags().Lookup(name)
		return fl != nil && fl.Changed
	})
	f.Settings = set
	for _, n := range notes {
		fmt.Fprintln(f.IO.ErrOut, "note:", n)
	}
	return nil
}

// settingsDir is the stack directory whose settings a command uses.
func settingsDir(cmd *cobra.Command) string {
	if fl := cmd.Flags().Lookup("dir"); fl != nil {
		return fl.Value.String()
	}
	if cmd.Name() == "generate" {
		if t := cmd.Flags().Lookup("target"); t == nil || t.Value.String() == targetCompose {
			if o := cmd.Flags().Lookup("out"); o != nil {
				return o.Value.String()
			}
		}
	}
	return DefaultDir
}
