package cli

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
	outText       = "text"
	outJSON       = "json"
	outGitHub     = "github"
	outCheckstyle = "checkstyle"
	outSARIF      = "sarif"
	outJUnit      = "junit"
)

// outputValue is -o/--output: one of a command's formats, refused as a
// usage error otherwise.
type outputValue struct {
	dst     *string
	allowed []string
}

func (o outputValue) String() string { return *o.dst }
func (o outputValue) Type() string   { return "format" }
func (o outputValue) Set(s string) error {
	if !slices.Contains(o.allowed, s) {
		return fmt.Errorf("must be one of %s, not %q", strings.Join(o.allowed, ", "), s)
	}
	*o.dst = s
	return nil
}

// jsonAlias is the older --json flag, kept hidden: --json is -o json.
type jsonAlias struct{ dst *string }

func (j jsonAlias) String() string   { return fmt.Sprint(*j.dst == outJSON) }
func (j jsonAlias) Type() string     { return "bool" }
func (j jsonAlias) IsBoolFlag() bool { return true }
func (j jsonAlias) Set(s string) error {
	switch s {
	case "true":
		*j.dst = outJSON
	case "false":
		*j.dst = outText
	default:
		return fmt.Errorf("--json takes no value")
	}
	return nil
}

// addOutputFlag registers -o/--output with the formats given (text
// first, the default), the hidden --json alias, and completion of the
// values. shorthand is false where -o means something else (generate's
// --out).
func addOutputFlag(cmd *cobra.Command, dst *string, shorthand bool, formats ...string) {
	*dst = outText
	all := append([]string{outText}, formats...)
	fl := cmd.Flags()
	v := outputValue{dst: dst, allowed: all}
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

var _ pflag.Value = outputValue{}
