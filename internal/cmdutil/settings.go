package cmdutil

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/settings"
)

// LoadSettings fills f.Settings from the settings file of the command's
// stack (--dir, or generate's --out) with the root's flags over it, and
// says which flag overrides a committed setting for this run. Every
// command builds its spec from these, so generate, generate --check, up,
// doctor and validate agree.
func (f *Factory) LoadSettings(cmd *cobra.Command) error {
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
	if l.Exists {
		f.Log.Debug("settings read", "file", l.Path)
	} else {
		f.Log.Debug("no settings file: defaults", "file", l.Path)
	}
	for _, n := range notes {
		fmt.Fprintln(f.IO.Info(), "note:", n)
	}
	return nil
}

// DefaultDir is where the stack is generated unless told otherwise.
const DefaultDir = "monitoring"

// settingsDir is the stack directory whose settings a command uses: its
// --dir (generate's --out shares it), else the default.
func settingsDir(cmd *cobra.Command) string {
	if fl := cmd.Flags().Lookup("dir"); fl != nil {
		return fl.Value.String()
	}
	return DefaultDir
}
