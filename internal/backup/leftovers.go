package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// A backup killed halfway leaves what only it would have removed: the
// Prometheus snapshot (whose hard links pin blocks compaction deleted),
// the archive's partial file and its body file. It records them in a
// journal (Options.Journal, in the stack's state dir) before it creates
// them; the next backup removes what the journal names and says so.

type backupJournal struct {
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"`
	Snapshot string    `json:"snapshot,omitempty"` // relative to Prometheus' data dir
	Files    []string  `json:"files,omitempty"`    // temporary files beside the archive
}

// noteLeftover adds to the journal; without a journal it does nothing.
func (b *builder) noteLeftover(snapshot, file string) error {
	if b.o.Journal == "" {
		return nil
	}
	if b.journal == nil {
		b.journal = &backupJournal{PID: os.Getpid(), Started: time.Now().UTC()}
	}
	if snapshot != "" {
		b.journal.Snapshot = snapshot
	}
	if file != "" {
		b.journal.Files = append(b.journal.Files, file)
	}
	data, err := json.Marshal(b.journal)
	if err != nil {
		return err
	}
	tmp := b.o.Journal + ".new"
	if err := os.WriteFile(tmp, data, 0o600); errors.Is(err, fs.ErrNotExist) {
		b.o.Journal = "" // no state dir (a compose stack never up'd from here): nothing to journal in
		return nil
	} else if err != nil {
		return fmt.Errorf("backup journal: %w", err)
	}
	return os.Rename(tmp, b.o.Journal)
}

// clearJournal: everything it named is gone, but a snapshot that could
// not be deleted (Prometheus went down during the backup), which stays
// in the journal for the next backup.
func (b *builder) clearJournal() {
	if b.o.Journal == "" || b.journal == nil {
		return
	}
	if b.keepSnapshot != "" {
		b.journal.Files = nil
		if b.noteLeftover(b.keepSnapshot, "") == nil {
			return
		}
	}
	os.Remove(b.o.Journal)
}

// removeLeftovers removes what a killed backup's journal names and
// returns one sentence saying what, or "" when there was nothing.
func removeLeftovers(ctx context.Context, o Options) (string, error) {
	if o.Journal == "" {
		return "", nil
	}
	data, err := os.ReadFile(o.Journal)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var j backupJournal
	if err := json.Unmarshal(data, &j); err != nil {
		os.Remove(o.Journal)
		return "", nil
	}
	var gone []string
	if j.Snapshot != "" && o.Files != nil {
		if err := o.Files.Remove(ctx, Prometheus, j.Snapshot); err != nil {
			return "", fmt.Errorf("removing the Prometheus snapshot %s left by a backup that was killed: %w", j.Snapshot, err)
		}
		gone = append(gone, "the Prometheus snapshot "+j.Snapshot)
	}
	for _, f := range j.Files {
		if _, err := os.Lstat(f); err == nil && os.RemoveAll(f) == nil {
			gone = append(gone, f)
		}
	}
	os.Remove(o.Journal)
	if len(gone) == 0 {
		return "", nil
	}
	return fmt.Sprintf("removed what a backup killed halfway (pid %d, started %s) left: %s; it wrote no archive",
		j.PID, j.Started.Format("2006-01-02 15:04:05 UTC"), strings.Join(gone, ", ")), nil
}
