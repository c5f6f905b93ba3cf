package cmdutil

import (
	"fmt"
	"io"
	"log/slog"

	charmlog "github.com/charmbracelet/log"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
)

// IOStreams are where a command reads and writes: data on Out; messages,
// progress and logs on ErrOut. Each stream is judged on its own: a
// table piped to a file while messages go to the terminal gets no
// colour, and a redirected stderr gets no progress bar, whatever Out is.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Terminal is true when Out is a terminal: colours and box tables.
	Terminal bool
	// ErrTerminal is true when ErrOut is a terminal: progress bars and
	// human log lines.
	ErrTerminal bool
	// NoColor is --no-color or a non-empty NO_COLOR (no-color.org).
	NoColor bool
	// Quiet (-q) keeps only warnings and errors on ErrOut; Verbose (-v)
	// adds debug lines.
	Quiet, Verbose bool
}

// ColorOut says whether Out may carry colour: a terminal, colour not
// turned off.
func (s *IOStreams) ColorOut() bool { return s.Terminal && !s.NoColor }

// Progress says whether a progress bar may be drawn on ErrOut: only on a
// terminal, and not with --quiet. A redirected log gets plain lines.
func (s *IOStreams) Progress() bool { return s.ErrTerminal && !s.Quiet }

// Info is where informational messages go: ErrOut, or nowhere with
// --quiet. Warnings and errors always go to ErrOut.
func (s *IOStreams) Info() io.Writer {
	if s.Quiet {
		return io.Discard
	}
	return s.ErrOut
}

// Infof writes one informational line (see Info).
func (s *IOStreams) Infof(format string, a ...any) {
	fmt.Fprintf(s.Info(), format+"\n", a...)
}

// Warnf writes one "warning: " line to ErrOut, also with --quiet.
func (s *IOStreams) Warnf(format string, a ...any) {
	fmt.Fprintf(s.ErrOut, "warning: "+format+"\n", a...)
}

func (s *IOStreams) errorPrefix() string { return "error: " }

// newLogger is the Factory's logger for s as it is now: charmbracelet's
// human lines (level word, message, key=value) on a terminal, and
// slog's plain key=value lines (time=… level=… msg=…) when ErrOut is a
// file or pipe, so logs stay greppable. Its level: warnings with -q,
// debug with -v, info otherwise.
func newLogger(s *IOStreams) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case s.Quiet:
		level = slog.LevelWarn
	case s.Verbose:
		level = slog.LevelDebug
	}
	if !s.ErrTerminal {
		return slog.New(slog.NewTextHandler(s.ErrOut, &slog.HandlerOptions{Level: level}))
	}
	l := charmlog.NewWithOptions(s.ErrOut, charmlog.Options{Level: charmlog.Level(level)})
	l.SetColorProfile(ColorProfile(s.ErrOut, !s.NoColor))
	return slog.New(l)
}

// ColorProfile is the colour profile for w once the caller has decided
// whether it may be coloured (a terminal, no NO_COLOR, no --no-color):
// no colour when color is false, else what TERM says the terminal can
// show (none for TERM=dumb). termenv's own guess is not used: it also
// turns colour off whenever CI is set, even on a real terminal, so the
// same command would look different in a CI job's pty.
func ColorProfile(w io.Writer, color bool) termenv.Profile {
	if !color {
		return termenv.Ascii
	}
	return termenv.NewOutput(w, termenv.WithTTY(true)).ColorProfile()
}

// AddRootFlags adds the flags every command takes, and the hook that
// applies them before a command runs: -q, -v and --no-color (with
// NO_COLOR), then the stack's settings file with --api-address,
// --ml-address and --retention over it for this run.
func AddRootFlags(root *cobra.Command, f *Factory) {
	pf := root.PersistentFlags()
	pf.StringVar(&f.flagSettings.APIAddress, "api-address", "", "for this run: host:port of the InvestIQ API's /metrics (setting api_address; default api-server:3000)")
	pf.StringVar(&f.flagSettings.MLAddress, "ml-address", "", "for this run: host:port of the ML signal-models service (setting ml_address; default ml-service:8000)")
	pf.Var(PromDuration{D: &f.flagSettings.Retention}, "retention", "for this run: Prometheus retention, e.g. 30d (setting retention; default 15d)")
	pf.BoolVarP(&f.IO.Quiet, "quiet", "q", false, "print only warnings and errors on stderr (data on stdout is unchanged)")
	pf.BoolVarP(&f.IO.Verbose, "verbose", "v", false, "also print debug lines: the settings file read, locks taken, the backend found")
	pf.BoolVar(&f.IO.NoColor, "no-color", false, "no colour in tables and logs (also when NO_COLOR is set)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := f.ConfigureOutput(cmd); err != nil {
			return err
		}
		return f.LoadSettings(cmd)
	}
}

// ConfigureOutput applies -q, -v, --no-color and NO_COLOR to the
// streams and the logger; a command's own -v (test's) counts too.
func (f *Factory) ConfigureOutput(cmd *cobra.Command) error {
	if f.Getenv != nil && f.Getenv("NO_COLOR") != "" {
		f.IO.NoColor = true
	}
	if fl := cmd.Flags().Lookup("verbose"); fl != nil && fl.Changed && fl.Value.String() == "true" {
		f.IO.Verbose = true
	}
	if f.IO.Quiet && f.IO.Verbose {
		return fmt.Errorf("%w: -q/--quiet and -v/--verbose ask for opposite things: give one", ErrUsage)
	}
	f.Log = newLogger(f.IO)
	return nil
}
