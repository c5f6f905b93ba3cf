package grafana

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ResetInContainer sets the admin password inside a running Grafana
// container with Grafana's own CLI, which writes the database directly and
// so works when nobody knows the current password. The password goes to
// the CLI on stdin (--password-from-stdin), never on a command line: argv
// of `docker exec` is visible to every user of the host through ps.
//
// Grafana 13 removed `grafana-cli`; images before 10 have only
// `grafana-cli`. `grafana cli` is tried first and `grafana-cli` when the
// image has no `grafana` binary.
func ResetInContainer(ctx context.Context, docker, container, password string) error {
	if docker == "" {
		docker = "docker"
	}
	attempts := [][]string{
		{"grafana", "cli", "admin", "reset-admin-password", "--password-from-stdin"},
		{"grafana-cli", "admin", "reset-admin-password", "--password-from-stdin"},
	}
	var errs []error
	for _, cmdline := range attempts {
		args := append([]string{"exec", "-i", container}, cmdline...)
		cmd := exec.CommandContext(ctx, docker, args...)
		cmd.Stdin = strings.NewReader(password + "\n")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err == nil {
			return nil
		}
		// The CLI's output never holds the password (it came on stdin),
		// but redact it anyway in case a future CLI echoes its input.
		msg := strings.TrimSpace(strings.ReplaceAll(out.String(), password, "[redacted]"))
		errs = append(errs, fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, msg))
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
