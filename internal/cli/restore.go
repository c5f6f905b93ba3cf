package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

type restoreOptions struct {
	f    *Factory
	File string
	Yes  bool
	stackLocation
	trustFlags
	lockFlags
	Timeout time.Duration
}

func newCmdRestore(f *Factory, runF func(*restoreOptions) error) *cobra.Command {
	opts := &restoreOptions{f: f}
	cmd := &cobra.Command{
		Use: "restore FILE",
		Example: `  investiq-mon restore investiq-backup-20261204T080000Z.tar.gz
  investiq-mon restore -y backup.tar.gz`,
		Short: "Put a backup archive back into the running stack",
		Long: `Restore an archive written by ` + "`investiq-mon backup`" + `.

The archive must be signed with the backup key (INVESTIQ_BACKUP_KEY in
--dir/.env, or --key-file; --allow-unsigned overrides, loudly). Before
anything changes, restore checks that the archive fits in the free space
where it unpacks, verifies it (decompression is bounded by its manifest),
unpacks it and opens every block of the Prometheus snapshot read-only; an
archive that fails any of that is refused and nothing changes. Then, after asking (or with --yes), restore
stops Prometheus and Alertmanager, moves their data directories aside, puts
the snapshot's blocks into an empty Prometheus data dir and the state files
into Alertmanager's, starts both, waits until they are ready and re-creates
the archived silences that are missing and not expired. Only then is the
old data deleted; a failure before that puts it back and starts the servers
again. Grafana's dashboards, folders and datasources are re-imported last,
through its API (provisioned ones come from the generated files).

The local backend's servers are stopped and started with the commands up
recorded. For the compose stack (a stack without a state file is the
compose one, as for status) the containers are stopped and started with
docker stop/start, and the data is swapped inside the volumes by a
throwaway container of the server's own image (the old data waits in
<data dir>/.pre-restore-<time> until the restore succeeded).

Without a terminal to ask on, restore needs --yes.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if opts.Timeout <= 0 {
				return fmt.Errorf("%w: --timeout must be positive", errUsage)
			}
			if runF != nil {
				return runF(opts)
			}
			return restoreRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask before stopping the stack and replacing its data")
	opts.stackLocation.addFlags(fl)
	opts.trustFlags.addFlags(fl)
	opts.lockFlags.AddFlags(fl)
	durationVar(fl, &opts.Timeout, "timeout", 2*time.Minute, "how long each server gets to be ready after its start")
	return cmd
}

// ErrNotConfirmed is a restore the user did not agree to.
var errNotConfirmed = errors.New("restore cancelled: nothing was changed")

func restoreRun(cmd *cobra.Command, opts *restoreOptions) error {
	f := opts.f
	ctx := cmd.Context()
	// Refuse early when nobody can be asked: the check costs nothing and
	// must come before anything that takes time.
	if !opts.Yes && !inputIsTerminal(f.IO.In) {
		return Exit(ExitUsage, errors.New("restore replaces the stack's data: run it on a terminal to be asked, or pass --yes"))
	}
	unlock, err := opts.lock(ctx, f, "restore", opts.lockFlags, false)
	if err != nil {
		return err
	}
	defer unlock()
	// Like status, a stack without a state file is the compose stack on
	// the spec's published ports.
	s, ep, err := opts.endpoints(f)
	if err != nil {
		return err
	}
	trust, err := opts.trust(opts.Dir)
	if err != nil {
		return err
	}
	l := opts.layout()
	ro, err := restoreTarget(opts.stackLocation, s, ep, opts.Timeout)
	if err != nil {
		return err
	}
	ro.Archive, ro.Trust, ro.Log = opts.File, trust, f.Log
	// A restore killed halfway is finished or rolled back first.
	if err := recoverRestore(ctx, f.IO.ErrOut, opts.stackLocation, f, opts.Timeout); err != nil {
		return err
	}
	// Signature, free space, and the whole archive read (writing
	// nothing) before the question: what is shown is what was checked.
	m, err := backup.Preflight(ctx, ro)
	if err != nil {
		return Exit(ExitError, fmt.Errorf("%w\nnothing was changed", err))
	}
	warnUnsigned(f.IO.ErrOut, m)
	fmt.Fprintf(f.IO.Info(), "%s: verified, %d files, %s, created %s\n", opts.File, len(m.Files), authLine(m), m.Created.Format("2006-01-02T15:04:05Z"))
	writeComponents(f.IO.Info(), m)
	if !opts.Yes {
		ok, err := confirm(f.IO.In, f.IO.ErrOut, fmt.Sprintf("This stops Prometheus and Alertmanager and replaces their data under %s with this backup. Continue? [y/N] ", l.Root))
		if err != nil {
			return err
		}
		if !ok {
			return Exit(ExitError, errNotConfirmed)
		}
	}
	ro.Verified = true
	res, err := backup.Restore(ctx, ro)
	if res != nil {
		if res.PrometheusRestore {
			fmt.Fprintf(f.IO.Info(), "prometheus: %d blocks restored\n", res.Blocks)
		}
		fmt.Fprintf(f.IO.Info(), "alertmanager: state files %s, silences: %d re-created, %d already present, %d expired (skipped)\n",
			map[bool]string{true: "restored", false: "not in the archive"}[res.AlertmanagerState], res.SilencesCreated, res.SilencesPresent, res.SilencesExpired)
		if g := res.Grafana; g != nil {
			fmt.Fprintf(f.IO.Info(), "grafana: %d dashboards, %d folders, %d datasources imported\n", len(g.Dashboards), len(g.Folders), len(g.Datasources))
			for _, sk := range g.Skipped {
				fmt.Fprintln(f.IO.Info(), "  skipped "+textsafe.Line(sk))
			}
		}
		for _, n := range res.Notes {
			fmt.Fprintln(f.IO.ErrOut, "note: "+textsafe.Line(n))
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Info(), "restore complete; the stack is ready")
	return nil
}

func inputIsTerminal(in io.Reader) bool {
	f, ok := in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks a yes/no question; only y or yes (any case) is yes.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
