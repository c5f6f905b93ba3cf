package cmdutil

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/testutil"
)

// run builds a root with the root flags and one command that logs at
// every level and prints an info and a warning line, and runs it.
func run(t *testing.T, s *IOStreams, env map[string]string, args ...string) (int, *Factory) {
	t.Helper()
	f := NewFactory(s)
	f.Getenv = func(k string) string { return env[k] }
	root := &cobra.Command{Use: "investiq-mon", SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(FlagError)
	AddRootFlags(root, f)
	say := &cobra.Command{Use: "say", RunE: func(*cobra.Command, []string) error {
		f.Log.Debug("debug line", "k", "v")
		f.Log.Info("info line", "k", "v")
		f.Log.Warn("warn line", "k", "v")
		f.IO.Infof("plain info")
		f.IO.Warnf("plain warning")
		return nil
	}}
	say.Flags().String("dir", DefaultDir, "the stack (its settings file)")
	root.AddCommand(say)
	return Main(t.Context(), root, args, f), f
}

// Redirected, logs are key=value lines with time and level, for grep and
// log shippers; -q keeps warnings only, -v adds debug lines.
func TestRedirectedLogsArePlainKeyValueLines(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"say", "--dir", t.TempDir()}, []string{"level=INFO msg=\"info line\" k=v", "level=WARN", "plain info", "warning: plain warning"}, []string{"DEBUG"}},
		{[]string{"say", "-q", "--dir", t.TempDir()}, []string{"level=WARN", "warning: plain warning"}, []string{"INFO", "plain info", "DEBUG"}},
		{[]string{"say", "--verbose", "--dir", t.TempDir()}, []string{"level=DEBUG msg=\"debug line\"", "level=INFO", "plain info"}, nil},
	} {
		var errOut bytes.Buffer
		code, _ := run(t, &IOStreams{Out: io.Discard, ErrOut: &errOut}, nil, tc.args...)
		got := errOut.String()
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%v: stderr has %q:\n%s", tc.args, n, got)
			}
		}
		if strings.ContainsAny(got, "\x1b\r") {
			t.Errorf("%v: redirected stderr has escape codes: %q", tc.args, got)
		}
		if !strings.Contains(got, "time=") && strings.Contains(got, "level=") {
			t.Errorf("%v: log lines without time: %s", tc.args, got)
		}
	}
}

func TestQuietAndVerboseTogetherIsAUsageError(t *testing.T) {
	var errOut bytes.Buffer
	code, _ := run(t, &IOStreams{Out: io.Discard, ErrOut: &errOut}, nil, "say", "-q", "-v")
	if code != ExitUsage || !strings.Contains(errOut.String(), "-q/--quiet and -v/--verbose") {
		t.Fatalf("-q -v: exit %d, %q; want a usage error", code, errOut.String())
	}
}

// sgr matches a colour or style escape sequence.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// On a terminal, log lines are for people: a short level word and the
// message, no time= or level= keys; coloured unless NO_COLOR or
// --no-color (or TERM=dumb) says otherwise. CI is set as CI systems set
// it: colour on a terminal must not depend on it (termenv alone turns
// colour off whenever CI is set; this test failed in CI for that).
func TestTerminalLogsAreHumanAndHonourNoColor(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("CI", "true")
	t.Setenv("NO_COLOR", "") // the colour detection reads the real environment
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		colour bool
	}{
		{"colour", nil, []string{"say", "-v"}, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, []string{"say", "-v"}, false},
		{"--no-color", nil, []string{"say", "-v", "--no-color"}, false},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, []string{"say", "-v"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v) // TERM is read from the process environment
			}
			master, slave := testutil.OpenPTY(t)
			var shown bytes.Buffer
			done := make(chan struct{})
			go func() { _, _ = io.Copy(&shown, master); close(done) }()
			code, f := run(t, &IOStreams{Out: io.Discard, ErrOut: slave, ErrTerminal: true}, tc.env, append(tc.args, "--dir", t.TempDir())...)
			slave.Close()
			<-done
			got := shown.String()
			if code != 0 {
				t.Fatalf("exit %d: %s", code, got)
			}
			plain := sgr.ReplaceAllString(got, "")
			for _, w := range []string{"DEBU debug line k=v", "INFO info line k=v", "WARN warn line k=v", "plain info", "warning: plain warning"} {
				if !strings.Contains(plain, w) {
					t.Errorf("terminal lacks %q:\n%q", w, got)
				}
			}
			if strings.Contains(got, "level=") || strings.Contains(got, "time=") {
				t.Errorf("terminal shows raw key=value log lines:\n%q", got)
			}
			if has := strings.Contains(got, "\x1b["); has != tc.colour {
				t.Errorf("escape codes on the terminal: %v, want %v (NoColor=%v):\n%q", has, tc.colour, f.IO.NoColor, got)
			}
		})
	}
}
