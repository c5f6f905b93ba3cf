package cli

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing/fstest"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/ruletest"
)

type testOptions struct {
	f       *Factory
	ctx     context.Context
	Files   []string
	Run     []string
	JUnit   string
	Verbose bool
	Output  string
}

func newCmdTest(f *Factory, runF func(*testOptions) error) *cobra.Command {
	opts := &testOptions{f: f}
	cmd := &cobra.Command{
		Use:   "test [FILE...]",
		Short: "Run every alert's test cases, or promtool-format rule test files",
		Long: `Without FILE, render the spec in memory and run every rendered rule test
file (prometheus/*_test.yml) against the rule files rendered with it: the
cases each alert carries in spec/investiq.go. With FILEs, run those
promtool-format test files from disk; their rule_files are relative to each
test file, as for promtool.

Tests run in process with the PromQL engine and rule evaluation of the
pinned Prometheus version, with the semantics of ` + "`promtool test rules`" + `.
A failure prints a diff of the alerts expected against those got.
Exit status: 0 all pass, 1 any test fails.`,
		Example: `  investiq-mon test
  investiq-mon test --run 'ServiceDown/.*disappeared'
  investiq-mon test --junit report.xml my_rules_test.yml
  investiq-mon test -o github   # failures as GitHub Actions annotations`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.Files = args
			if runF != nil {
				return runF(opts)
			}
			return testRun(opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Run, "run", nil, "run only test groups whose name (`ALERT/CASE` for the spec's cases) matches this regular expression; repeatable")
	cmd.Flags().StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to this file")
	addOutputFlag(cmd, &opts.Output, true, outJSON, outGitHub, outCheckstyle, outSARIF, outJUnit)
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list passing test groups too")
	return cmd
}

func testRun(opts *testOptions) error {
	io := opts.f.IO
	var run *regexp.Regexp
	if len(opts.Run) > 0 {
		// Several --run patterns select the union, as promtool's do.
		re, err := regexp.Compile(strings.Join(opts.Run, "|"))
		if err != nil {
			return fmt.Errorf("%w: --run: %v", errUsage, err)
		}
		run = re
	}

	var src ruletest.Source = ruletest.Disk{}
	files := opts.Files
	if len(files) == 0 {
		s, err := opts.f.LoadSpec()
		if err != nil {
			return err
		}
		rendered, err := render.Render(s)
		if err != nil {
			return err
		}
		// Every rendered test file runs against the rule files of the
		// same render, so whatever renderer adds a test file is run too.
		mem := fstest.MapFS{}
		for _, f := range rendered {
			mem[f.Path] = &fstest.MapFile{Data: f.Data, Mode: f.Mode}
			if strings.HasSuffix(f.Path, "_test.yml") {
				files = append(files, f.Path)
			}
		}
		if len(files) == 0 {
			return Exit(ExitError, fmt.Errorf("the spec renders no rule test file: give the alerts cases"))
		}
		src = ruletest.FS{FS: mem}
	}

	results := ruletest.Run(opts.ctx, src, files, ruletest.Options{Run: run})
	if opts.Output == outText {
		ruletest.WriteText(io.Out, results, opts.Verbose)
	} else if err := writeTestOutput(io.Out, opts.Output, src, results); err != nil {
		return err
	}
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, results); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}

	sum := ruletest.Summarize(results)
	if run != nil && sum.Groups == 0 && sum.FileErrors == 0 {
		fmt.Fprintf(io.ErrOut, "warning: no test group matches --run %q\n", strings.Join(opts.Run, "|"))
	}
	if !sum.OK() {
		msg := fmt.Sprintf("%d of %d test groups failed", sum.Failed, sum.Groups)
		if sum.FileErrors > 0 {
			msg += fmt.Sprintf(", %d of %d files could not run", sum.FileErrors, sum.Files)
		}
		return Exit(ExitError, fmt.Errorf("%s", msg))
	}
	fmt.Fprintf(io.Info(), "ok: %d test groups passed in %d files\n", sum.Groups, sum.Files)
	return nil
}

func writeJUnit(name string, results []ruletest.FileResult) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := ruletest.WriteJUnit(f, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
