package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/grafana"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

func newCmdGrafana(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "grafana",
		Example: `  investiq-mon grafana reset-password`,
		Short:   "Manage the stack's Grafana",
		Args:    argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("%w: grafana needs a subcommand, e.g. reset-password", errUsage)
		},
	}
	cmd.AddCommand(newCmdGrafanaResetPassword(f, nil))
	return cmd
}

type resetPasswordOptions struct {
	f             *Factory
	PasswordStdin bool
	URL           string
	User          string
	Show          bool
	Backend       string
	stackLocation
	lockFlags
}

// minPasswordLen refuses passwords a person would guess; generated ones
// are 32 characters.
const minPasswordLen = 12

func newCmdGrafanaResetPassword(f *Factory, runF func(*resetPasswordOptions) error) *cobra.Command {
	opts := &resetPasswordOptions{f: f}
	cmd := &cobra.Command{
		Use: "reset-password",
		Example: `  investiq-mon grafana reset-password
  printf %s "$NEW" | investiq-mon grafana reset-password --password-stdin`,
		Short: "Change Grafana's admin password and keep .env in step",
		Long: `Change a Grafana user's password (the admin user by default) and store it
as GRAFANA_ADMIN_PASSWORD in --dir/.env (mode 0600), so the stack's settings
do not drift. Changing GF_SECURITY_ADMIN_PASSWORD later does nothing: Grafana
reads it only when it first starts with an empty database.

How the password is changed:
  --url URL, or --backend local   Grafana's admin API (PUT
      /api/admin/users/:id/password), authenticated as the admin user with the
      current password from .env.
  --backend compose (the default for a compose stack)   Grafana's own CLI in
      the container: docker exec -i <project>-grafana grafana cli admin
      reset-admin-password --password-from-stdin (grafana-cli on old images).
      It needs no current password: use it when .env and Grafana disagree.

With no password given a strong one is generated; --password-stdin reads one
line from stdin instead. The password is printed only with --show, and is
never put on a command line (which every user can read through ps).`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Backend != "" {
				if _, err := stack.NewBackend(opts.Backend, nil, "", stack.Layout{}, 0); err != nil {
					return fmt.Errorf("%w: --backend must be %s or %s, not %q", errUsage, stack.Compose, stack.Local, opts.Backend)
				}
			}
			if opts.URL != "" && opts.Backend == stack.Compose {
				return fmt.Errorf("%w: --url talks to Grafana's API; it does not go with --backend compose", errUsage)
			}
			if opts.URL != "" {
				if _, err := grafana.New(opts.URL, "", ""); err != nil {
					return fmt.Errorf("%w: --url: %v", errUsage, err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return resetPasswordRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the new password from stdin instead of generating one")
	fl.StringVar(&opts.URL, "url", "", "Grafana's base URL: use its admin API there (default: the stack's Grafana)")
	fl.StringVar(&opts.User, "user", "", "login whose password to change (default GRAFANA_ADMIN_USER from .env, else admin)")
	fl.BoolVar(&opts.Show, "show", false, "print the new password on stdout")
	fl.StringVar(&opts.Backend, "backend", "", "compose (Grafana's CLI in the container) or local (the API); default: what up recorded")
	opts.stackLocation.addFlags(fl)
	opts.lockFlags.AddFlags(fl)
	return cmd
}

func resetPasswordRun(cmd *cobra.Command, opts *resetPasswordOptions) error {
	f := opts.f
	ctx := cmd.Context()
	unlock, err := opts.lock(ctx, f, "grafana reset-password", opts.lockFlags, false)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := f.LoadSpec()
	if err != nil {
		return err
	}
	env, err := secrets.Load(opts.Dir)
	if err != nil {
		return err
	}
	admin := env.Get(spec.EnvGrafanaUser)
	if admin == "" {
		admin = "admin"
	}
	login := opts.User
	if login == "" {
		login = admin
	}
	// .env is rewritten through a temporary file in its directory: make
	// sure that can work before Grafana's password changes, or the new
	// password would be lost.
	if err := files.UsableDir(opts.Dir); err != nil {
		return fmt.Errorf("%s cannot be updated: %w; nothing was changed", env.Path, err)
	}

	password, err := newGrafanaPassword(opts, f.IO.In)
	if err != nil {
		return err
	}

	url, backend := opts.URL, opts.Backend
	var execIn []string
	if url == "" {
		ep, err := stack.LoadEndpoints(s, opts.Dir, opts.layout())
		if err != nil {
			return err
		}
		if backend == "" {
			backend = ep.Backend
		}
		b, err := stack.NewBackend(backend, s, opts.Dir, opts.layout(), 0)
		if err != nil {
			return err
		}
		f.Log.Debug("stack found", "backend", b.Name())
		// A backend that cannot run Grafana's CLI beside it is reached
		// through the API.
		if execIn = b.Exec(spec.Grafana); execIn == nil {
			if ep.Grafana == "" {
				return errors.New("the local stack runs no Grafana (up found no grafana binary): pass --url of the Grafana to change")
			}
			url = ep.Grafana
		}
	}

	var how string
	if url != "" {
		c, err := grafana.New(url, admin, env.Get(spec.EnvGrafanaPassword))
		if err != nil {
			return err
		}
		if err := c.SetPassword(ctx, login, password); err != nil {
			return grafanaHint(err, env.Path)
		}
		how = "through the admin API at " + url
	} else {
		if login != admin {
			return fmt.Errorf("%w: in the container, Grafana's CLI resets only the admin user %q; use --url for %q", errUsage, admin, login)
		}
		container := execIn[len(execIn)-1]
		if err := grafana.ResetWithCLI(ctx, execIn, password); err != nil {
			return fmt.Errorf("reset the password in container %s: %w", container, err)
		}
		how = "with grafana cli in container " + container
	}

	stored := ""
	if login == admin {
		if err := env.Set(s, spec.EnvGrafanaPassword, password); err != nil {
			return fmt.Errorf("grafana user %s has the new password, but %s could not be updated: %w; run reset-password again (with --backend compose if the API refuses the old password)", login, env.Path, err)
		}
		stored = "; stored as " + spec.EnvGrafanaPassword + " in " + filepath.Clean(env.Path)
	} else {
		stored = "; .env holds only the admin password and was not changed"
	}
	fmt.Fprintf(f.IO.Info(), "changed the password of grafana user %s %s%s\n", login, how, stored)
	if opts.Show {
		fmt.Fprintln(f.IO.Out, password)
	} else {
		fmt.Fprintln(f.IO.Info(), "the password is not printed; add --show to see it, or read it from .env")
	}
	return nil
}

// newGrafanaPassword reads the password from stdin or makes one, and
// refuses, before anything changes, one that .env cannot store verbatim.
func newGrafanaPassword(opts *resetPasswordOptions, in io.Reader) (string, error) {
	if !opts.PasswordStdin {
		return secrets.NewPassword()
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case pw == "":
		return "", fmt.Errorf("%w: --password-stdin: stdin held no password", errUsage)
	case len(pw) < minPasswordLen:
		return "", fmt.Errorf("%w: --password-stdin: the password is shorter than %d characters", errUsage, minPasswordLen)
	case secrets.CheckValue(pw) != nil:
		return "", fmt.Errorf("%w: --password-stdin: %v", errUsage, secrets.CheckValue(pw))
	}
	return pw, nil
}

// grafanaHint adds what to do to the API errors a person can act on.
func grafanaHint(err error, envPath string) error {
	switch {
	case errors.Is(err, grafana.ErrLockedOut):
		return fmt.Errorf("%w\nwait a few minutes before trying again (every wrong try extends the block); for the compose stack, `investiq-mon grafana reset-password --backend compose` needs no current password", err)
	case errors.Is(err, grafana.ErrUnauthorized):
		return fmt.Errorf("%w: the admin password in %s is not Grafana's current one (changed in Grafana's UI?)\nfor the compose stack, `investiq-mon grafana reset-password --backend compose` needs no current password", err, envPath)
	case errors.Is(err, grafana.ErrUnreachable):
		return fmt.Errorf("%w\nis Grafana running? check `investiq-mon status`", err)
	}
	return err
}
