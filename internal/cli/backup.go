package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

type backupOptions struct {
	f            *Factory
	Output       string
	AllowPartial bool
	stackLocation
	lockFlags
}

func newCmdBackup(f *Factory, runF func(*backupOptions) error) *cobra.Command {
	opts := &backupOptions{f: f}
	cmd := &cobra.Command{
		Use: "backup",
		Example: `  investiq-mon backup
  investiq-mon backup -o /var/backups/investiq.tar.gz`,
		Short: "Write one archive of the running stack's data and config",
		Long: `Write one tar.gz archive of the running stack (found like status finds it):

  - a consistent Prometheus snapshot, taken through the TSDB admin API and
    deleted from Prometheus' data dir afterwards (never a copy of the live
    data dir, which compaction can change under the copy);
  - Alertmanager's silences (through its API) and its state files;
  - Grafana's dashboards, folders and datasources (through its API, secure
    fields excluded) and grafana.db where reachable;
  - the generated config in --dir, without .env and without secrets.

A manifest, the archive's first member, records what was saved, component
versions, the time and the size and sha256 of every member; it never holds a
secret. It is signed (HMAC-SHA256) with INVESTIQ_BACKUP_KEY from --dir/.env,
which restore and backup verify check: keep a copy of that key apart from the
backups, a restore on another machine needs it. The archive (mode 0600:
grafana.db holds password hashes) is written to a temporary file and renamed
when complete, so a failed or interrupted backup leaves no file behind.

A component that is down fails the backup unless --allow-partial.
Check an archive with ` + "`investiq-mon backup verify FILE`" + `.`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return backupRun(cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "", "archive to write (default investiq-backup-<UTC time>.tar.gz); never overwritten")
	fl.BoolVar(&opts.AllowPartial, "allow-partial", false, "write the archive even when a component is down")
	opts.stackLocation.addFlags(fl)
	opts.lockFlags.AddFlags(fl)
	cmd.AddCommand(newCmdBackupVerify(f, nil))
	return cmd
}

func backupRun(cmd *cobra.Command, opts *backupOptions) error {
	f := opts.f
	unlock, err := opts.lock(cmd.Context(), f, "backup", opts.lockFlags, false)
	if err != nil {
		return err
	}
	defer unlock()
	s, ep, err := opts.endpoints(f)
	if err != nil {
		return err
	}
	l := opts.layout()
	env, err := secrets.Load(opts.Dir)
	if err != nil {
		return err
	}
	if added, err := env.EnsureBackupKey(s); err != nil {
		return err
	} else if added {
		fmt.Fprintf(f.IO.ErrOut, "added %s to %s: it signs this and every later backup; a restore on another machine needs it (keep a copy apart from the backups)\n", secrets.BackupKeyEnv, env.Path)
	}
	out := opts.Output
	if out == "" {
		out = "investiq-backup-" + now().UTC().Format("20060102T150405Z") + ".tar.gz"
	}
	b, err := stack.NewBackend(ep.Backend, s, opts.Dir, l, 0)
	if err != nil {
		return fmt.Errorf("%w in %s", err, l.StateFile())
	}
	f.Log.Debug("stack found", "backend", b.Name(), "state", l.Root)
	files := backup.FilesOf(b, filepath.Dir(out), s.ComponentNames()...)
	var progress func(string, int64) backup.ProgressBar
	if f.IO.Progress() {
		progress = func(desc string, total int64) backup.ProgressBar {
			return progressbar.NewOptions64(total, progressbar.OptionSetWriter(f.IO.ErrOut),
				progressbar.OptionSetDescription(desc), progressbar.OptionShowBytes(true),
				progressbar.OptionClearOnFinish())
		}
	}
	m, err := backup.Create(cmd.Context(), backup.Options{
		Output: out, Endpoints: ep, Files: files, MonitoringDir: opts.Dir, Components: s.Components(),
		Secrets: env.Values(s), Key: env.BackupKey(), AllowPartial: opts.AllowPartial, Log: f.Log, Progress: progress, Now: now,
		Journal: filepath.Join(l.Root, "backup.journal"),
	})
	if err != nil {
		return err
	}
	writeComponents(f.IO.Info(), m)
	var size int64
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(f.IO.Info(), "wrote %s: %d files, %d bytes, signed with key %s\n", out, len(m.Files), size, backup.KeyID(env.BackupKey()))
	fmt.Fprintln(f.IO.Out, out)
	return nil
}

// writeComponents prints one line per component of a manifest. Every
// string in it comes from the archive and is escaped: a manifest could
// otherwise rewrite the screen above restore's question.
func writeComponents(w io.Writer, m *backup.Manifest) {
	for _, c := range m.Components {
		line := fmt.Sprintf("  %-12s %-8s", textsafe.Line(c.Name), textsafe.Line(c.Status))
		if c.Version != "" {
			line += " version " + textsafe.Line(c.Version)
		}
		if c.MinTime != nil && c.MaxTime != nil {
			line += fmt.Sprintf(", samples %s .. %s (%d series, %d samples)", c.MinTime.Format("2006-01-02T15:04:05Z"), c.MaxTime.Format("2006-01-02T15:04:05Z"), c.Series, c.Samples)
		}
		fmt.Fprintln(w, line)
		for _, n := range c.Notes {
			fmt.Fprintln(w, "               "+textsafe.Line(n))
		}
	}
}

type backupVerifyOptions struct {
	f      *Factory
	File   string
	Dir    string
	Output string
	trustFlags
}

func newCmdBackupVerify(f *Factory, runF func(*backupVerifyOptions) error) *cobra.Command {
	opts := &backupVerifyOptions{f: f}
	cmd := &cobra.Command{
		Use: "verify FILE",
		Example: `  investiq-mon backup verify investiq-backup-20261204T080000Z.tar.gz
  investiq-mon backup verify --dir monitoring backup.tar.gz
  investiq-mon backup verify -o json backup.tar.gz | jq .ok`,
		Short: "Check an archive's signature, structure and every checksum",
		Long: `Read the whole archive and check it: a sound gzip stream, a manifest first
and signed with the backup key (INVESTIQ_BACKUP_KEY in --dir/.env, or
--key-file), only regular files with safe names, and every member listed in
the manifest with the size and sha256 it records, and nothing else.
Decompression stops as soon as the archive holds more than its manifest
lists. Exits 1 naming the problem.

--allow-unsigned checks an unsigned archive (or one signed with another
key) for structure and checksums only, and says so.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			trust, err := opts.trust(opts.Dir)
			if err != nil {
				return err
			}
			m, err := backup.Verify(cmd.Context(), opts.File, trust)
			if opts.Output == outJSON {
				if jerr := writeVerifyJSON(f.IO.Out, opts.File, m, err); jerr != nil {
					return jerr
				}
			}
			if err != nil {
				return Exit(ExitError, err)
			}
			warnUnsigned(f.IO.ErrOut, m)
			if opts.Output == outJSON {
				return nil
			}
			fmt.Fprintf(f.IO.Out, "%s: ok, %d files, %s, created %s by %s (backend %s)\n", opts.File, len(m.Files), authLine(m), m.Created.Format("2006-01-02T15:04:05Z"), textsafe.Line(m.Tool), textsafe.Line(orDash(m.Backend)))
			writeComponents(f.IO.Out, m)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", DefaultDir, "the generated stack, whose .env holds the backup key")
	opts.addFlags(cmd.Flags())
	addOutputFlag(cmd, &opts.Output, true, outJSON)
	return cmd
}

// verifyJSON is backup verify --output json; its names are a contract.
// Every string comes from the archive; JSON escapes what could drive a
// terminal, so nothing is dropped.
type verifyJSON struct {
	File string `json:"file"`
	OK   bool   `json:"ok"`
	// Error is why the archive failed verification (ok is false).
	Error      string             `json:"error,omitempty"`
	Signed     bool               `json:"signed"`
	KeyID      string             `json:"keyId,omitempty"`
	Unsigned   string             `json:"unsignedReason,omitempty"`
	Created    *time.Time         `json:"created,omitempty"`
	Tool       string             `json:"tool,omitempty"`
	Backend    string             `json:"backend,omitempty"`
	Files      int                `json:"files"`
	Bytes      int64              `json:"bytes"`
	Components []backup.Component `json:"components"`
}

func writeVerifyJSON(w io.Writer, file string, m *backup.Manifest, verr error) error {
	out := verifyJSON{File: file, OK: verr == nil, Components: []backup.Component{}}
	if verr != nil {
		out.Error = verr.Error()
	}
	if verr == nil && m != nil {
		out.Signed, out.KeyID = m.Auth.Signed, m.Auth.KeyID
		if m.Auth.Problem != nil {
			out.Unsigned = m.Auth.Problem.Error()
		}
		created := m.Created.UTC()
		out.Created, out.Tool, out.Backend = &created, m.Tool, m.Backend
		out.Files = len(m.Files)
		for _, fm := range m.Files {
			out.Bytes += fm.Size
		}
		out.Components = append(out.Components, m.Components...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
