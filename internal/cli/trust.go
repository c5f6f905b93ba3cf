package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/textsafe"
)

// trustFlags say which key authenticates an archive (backup verify,
// restore).
type trustFlags struct {
	KeyFile       string
	AllowUnsigned bool
}

func (t *trustFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&t.KeyFile, "key-file", "", "file holding the backup key (alone, or as an "+secrets.BackupKeyEnv+"= line of another machine's .env) instead of --dir/.env's")
	fl.BoolVar(&t.AllowUnsigned, "allow-unsigned", false, "accept an archive that is unsigned or not signed with this key (structure and checksums are still checked); only for archives you know the origin of")
}

// trust finds the key: --key-file, else dir/.env. A missing .env is no
// error here: the archive is then refused as not authenticated, saying
// where the key was looked for.
func (t trustFlags) trust(dir string) (backup.Trust, error) {
	tr := backup.Trust{AllowUnsigned: t.AllowUnsigned}
	if t.KeyFile != "" {
		key, err := backup.ReadKeyFile(t.KeyFile)
		if err != nil {
			return tr, fmt.Errorf("--key-file: %w", err)
		}
		tr.Key, tr.KeySource = key, "--key-file "+t.KeyFile
		return tr, nil
	}
	env, err := secrets.Load(dir)
	switch {
	case errors.Is(err, secrets.ErrNoEnv):
		tr.KeySource = dir + "/" + secrets.FileName + " (which does not exist)"
		return tr, nil
	case err != nil:
		return tr, err
	}
	tr.Key, tr.KeySource = env.BackupKey(), env.Path
	return tr, nil
}

// warnUnsigned says loudly that an archive read with --allow-unsigned is
// not authenticated, and why.
func warnUnsigned(w io.Writer, m *backup.Manifest) {
	if m.Auth.Problem == nil {
		return
	}
	fmt.Fprintf(w, "WARNING: --allow-unsigned: this archive is NOT authenticated: %s\n", textsafe.Line(m.Auth.Problem.Error()))
	fmt.Fprintln(w, "WARNING: whoever could write this file chose everything in it (data, silences, dashboards); use it only if you know where it came from.")
}

// authLine says how an archive was authenticated.
func authLine(m *backup.Manifest) string {
	if m.Auth.Signed {
		return "signed with key " + m.Auth.KeyID
	}
	return "NOT authenticated (--allow-unsigned)"
}
