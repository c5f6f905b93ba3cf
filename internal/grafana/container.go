package grafana

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/internal/proc"
)

// ResetWithCLI sets the admin password with Grafana's own CLI, run
// through execIn (docker exec -i <container>: stack.Backend.Exec), which writes the database directly and
// so works when nobody knows the current password. The password goes to
// the CLI on stdin (--password-from-stdin), never on a command line: argv
// of `docker exec` is visible to every user of the host through ps.
//
// Grafana 13 removed `grafana-cli`; images before 10 have only
// `grafana-cli`. `grafana cli` is tried first and `grafana-cli` when the
// image has no `grafana` binary.
// ExecTimeout bounds Grafana's CLI run through the exec command when the
// caller's context has no deadline of its own.
var ExecTimeout = 2 * time.Minute

func ResetWithCLI(ctx context.Context, execIn []string, password string) error {
	if len(execIn) == 0 {
		return errors.New("grafana: no command to run Grafana's CLI in")
	}
	attempts := [][]string{
		{"grafana", "cli", "admin", "reset-admin-password", "--password-from-stdin"},
		{"grafana-cli", "admin", "reset-admin-password", "--password-from-stdin"},
	}
	if _, ok := ctx.Deadline(); !ok {
		// A hung engine must not hang reset-password for good.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ExecTimeout)
		defer cancel()
	}
	var errs []error
	for _, cmdline := range attempts {
		args := append(slices.Clone(execIn[1:]), cmdline...)
		cmd := exec.CommandContext(ctx, execIn[0], args...)
		proc.DieWithParent(cmd)
		cmd.Stdin = strings.NewReader(password + "\n")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err == nil {
			return nil
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("grafana: %s %s did not finish in time (the engine or Grafana's CLI does not answer): %w", filepath.Base(execIn[0]), strings.Join(args, " "), ctx.Err())
		}
		// The CLI's output never holds the password (it came on stdin),
		// but redact it anyway in case a future CLI echoes its input.
		msg := strings.TrimSpace(strings.ReplaceAll(out.String(), password, "[redacted]"))
		errs = append(errs, fmt.Errorf("%s %s: %v: %s", filepath.Base(execIn[0]), strings.Join(args, " "), err, msg))
		if !missingExecutable(err, msg) {
			break
		}
	}
	return errors.Join(errs...)
}

// missingExecutable reports whether `docker exec` failed because the
// command does not exist in the image (exit 126/127 with "executable file
// not found"), which is when the older `grafana-cli` is worth a try.
func missingExecutable(err error, output string) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) && (ee.ExitCode() == 127 || ee.ExitCode() == 126) {
		return true
	}
	o := strings.ToLower(output)
	for _, s := range []string{"executable file not found", "no such file or directory", "unknown command", "no help topic"} {
		if strings.Contains(o, s) {
			return true
		}
	}
	return false
}
