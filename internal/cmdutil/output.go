package cmdutil

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Output formats. Every command with machine-readable output takes
// -o/--output (kubectl's and gh's spelling); text is the default.
const (
	OutText       = "text"
	OutJSON       = "json"
	OutGitHub     = "github"
	OutCheckstyle = "checkstyle"
	OutSARIF      = "sarif"
	OutJUnit      = "junit"
)

// OutputValue is -o/--output: one of a command's formats, refused as a
// usage error otherwise.
type OutputValue struct {
	Dst     *string
	Allowed []string
}

func (o OutputValue) String() string { return *o.Dst }
func (o OutputValue) Type() string   { return "format" }
func (o OutputValue) Set(s string) error {
	if !slices.Contains(o.Allowed, s) {
		return fmt.Errorf("must be one of %s, not %q", strings.Join(o.Allowed, ", "), s)
	}
	*o.Dst = s
	return nil
}

// jsonAlias is the older --json flag, kept hidden: --json is -o json.
type jsonAlias struct{ dst *string }

func (j jsonAlias) String() string   { return fmt.Sprint(*j.dst == OutJSON) }
func (j jsonAlias) Type() string     { return "bool" }
func (j jsonAlias) IsBoolFlag() bool { return true }
func (j jsonAlias) Set(s string) error {
	switch s {
	case "true":
		*j.dst = OutJSON
	case "false":
		*j.dst = OutText
	default:
		return fmt.Errorf("--json takes no value")
	}
	return nil
}

// AddOutputFlag registers -o/--output with the formats given (text
// first, the default), the hidden --json alias, and completion of the
// values. shorthand is false where -o means something else (generate's
// --out).
func AddOutputFlag(cmd *cobra.Command, dst *string, shorthand bool, formats ...string) {
	*dst = OutText
	all := append([]string{OutText}, formats...)
	fl := cmd.Flags()
	v := OutputValue{Dst: dst, Allowed: all}
	usage := "output format: " + strings.Join(all, ", ")
	if shorthand {
		fl.VarP(v, "output", "o", usage)
	} else {
		fl.Var(v, "output", usage)
	}
	fl.Var(jsonAlias{dst}, "json", "same as --output json")
	fl.Lookup("json").NoOptDefVal = "true"
	_ = fl.MarkHidden("json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(all, cobra.ShellCompDirectiveNoFileComp))
}

var _ pflag.Value = OutputValue{}
