package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/validate"
	"github.com/investiq/investiq-mon/spec"
)

type validateOptions struct {
	f                   *Factory
	Paths               []string
	Kind                string
	Format              string
	LintFatal           bool
	IgnoreUnknownFields bool
	SyntaxOnly          bool
	Disable             []string
}

func newCmdValidate(f *Factory, runF func(*validateOptions) error) *cobra.Command {
	opts := &validateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check the stack's files as promtool and amtool do, and against the spec",
		Long: `Validate rule files, Prometheus and Alertmanager configs, promtool rule
tests, Grafana dashboards and provisioning, compose files and web configs
(files or directories, walked; default: ` + DefaultDir + `). The kind of each file
is detected from its content; --kind forces it.

Each file goes through the upstream parsers (rulefmt, Prometheus' and
Alertmanager's config loaders, compose-go, exporter-toolkit), then through
the checks they cannot do: every query names a metric, label and value the
spec declares, rate() runs over counters, histogram_quantile keeps le,
alerts carry severity, summary and description, secrets are read from
files and nothing is published beyond 127.0.0.1. The series the spec's own
recording rules write (slo:*) are known even when the rule files are not
among the paths, so a dashboard can be validated alone.

Every finding is printed as path:line:col: error|warning: message [check].
Exit status, as promtool: 0 clean (warnings alone too), 1 on any error,
3 on warnings only when --lint-fatal is given.`,
		Example: `  investiq-mon validate
  investiq-mon validate monitoring/prometheus --format json
  investiq-mon validate --kind rules my_rules.yml --disable promql/unknown-metric`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(opts.Paths) == 0 {
				opts.Paths = []string{DefaultDir}
			}
			if opts.Format != "text" && opts.Format != "json" {
				return fmt.Errorf("%w: --format must be text or json, not %q", errUsage, opts.Format)
			}
			if opts.Kind != "" && !slices.Contains(validate.Kinds, validate.Kind(opts.Kind)) {
				return fmt.Errorf("%w: --kind %q is not one of %s", errUsage, opts.Kind, kindNames())
			}
			if runF != nil {
				return runF(opts)
			}
			return validateRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Kind, "kind", "", "treat every file as this kind: "+kindNames())
	fl.StringVar(&opts.Format, "format", "text", "output format: text or json")
	fl.BoolVar(&opts.LintFatal, "lint-fatal", false, "exit 3 when there are warnings (lint findings) and no errors")
	fl.BoolVar(&opts.IgnoreUnknownFields, "ignore-unknown-fields", false, "accept fields rulefmt does not know in rule files")
	fl.BoolVar(&opts.SyntaxOnly, "syntax-only", false, "do not check that files named by configs exist (rule files, credentials, TLS files, mounts)")
	fl.StringArrayVar(&opts.Disable, "disable", nil, "drop findings of this check id, e.g. promql/unknown-metric or security/ (repeatable)")
	return cmd
}

func kindNames() string {
	s := make([]string, len(validate.Kinds))
	for i, k := range validate.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func validateRun(cmd *cobra.Command, opts *validateOptions) error {
	io := opts.f.IO
	s, err := opts.f.LoadSpec()
	if err != nil {
		return err
	}
	records, alerts, err := specRuleNames(s)
	if err != nil {
		return err
	}
	res, err := validate.Run(cmd.Context(), opts.Paths, validate.Options{
		Kind:                validate.Kind(opts.Kind),
		IgnoreUnknownFields: opts.IgnoreUnknownFields,
		SyntaxOnly:          opts.SyntaxOnly,
		Disable:             opts.Disable,
		Spec:                s,
		Records:             records,
		Alerts:              alerts,
	})
	if err != nil {
		if errors.Is(err, validate.ErrNoFiles) {
			return Exit(ExitError, err)
		}
		return err
	}
	if opts.Format == "json" {
		err = validate.WriteJSON(io.Out, res)
	} else {
		err = validate.WriteText(io.Out, res)
	}
	if err != nil {
		return err
	}
	nerr, nwarn := res.Errors(), res.Warnings()
	if opts.Format == "text" {
		fmt.Fprintf(io.ErrOut, "%d files checked: %d errors, %d warnings\n", len(res.Files), nerr, nwarn)
	}
	if code := res.ExitCode(opts.LintFatal); code != ExitOK {
		return Exit(code, nil)
	}
	return nil
}

// specRuleNames are the recording rules and alerts of the rule files the
// spec renders, read back through validate's own rule parser: a dashboard
// validated without the rule files (validate monitoring/grafana) may query
// the series they record.
func specRuleNames(s *spec.Spec) (records, alerts []string, err error) {
	files, err := render.Render(s)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if k, err := validate.Detect(f.Path, f.Data); err != nil || k != validate.KindRules {
			continue
		}
		r, a, err := validate.RuleNames(f.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("rendered %s: %w", f.Path, err)
		}
		records = append(records, r...)
		alerts = append(alerts, a...)
	}
	return records, alerts, nil
}
