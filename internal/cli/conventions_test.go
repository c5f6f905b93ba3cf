package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/cmdutil"
)

// Every duration flag takes Prometheus' syntax (1d, 2w), which Go's
// time.ParseDuration refuses: one syntax across the CLI.
func TestEveryDurationFlagTakesPrometheusSyntax(t *testing.T) {
	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	n := 0
	walk(root, func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(fl *pflag.Flag) {
				if fl.Value.Type() != "duration" {
					return
				}
				n++
				if _, ok := fl.Value.(cmdutil.PromDuration); !ok {
					t.Errorf("%s --%s is a %T: use durationVar (Prometheus' syntax)", c.CommandPath(), fl.Name, fl.Value)
					return
				}
				old := fl.Value.String()
				if err := fl.Value.Set("1d"); err != nil {
					t.Errorf("%s --%s 1d: %v", c.CommandPath(), fl.Name, err)
				}
				if got := fl.Value.String(); got != "1d" {
					t.Errorf("%s --%s 1d reads back as %q", c.CommandPath(), fl.Name, got)
				}
				if old != "" {
					_ = fl.Value.Set(old)
				}
			})
		}
	})
	if n < 6 {
		t.Fatalf("only %d duration flags found: the walk is broken", n)
	}
	var d time.Duration
	if (cmdutil.PromDuration{D: &d}).Set("2w") != nil || d != 14*24*time.Hour {
		t.Fatalf("2w is %v", d)
	}
}

// Every command shows an example in its help.
func TestEveryCommandHasAnExample(t *testing.T) {
	root := NewRootCmd(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	walk(root, func(c *cobra.Command) {
		if c == root || c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return
		}
		if c.Example == "" {
			t.Errorf("%s has no Example", c.CommandPath())
		}
	})
}
