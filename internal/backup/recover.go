package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/investiq/investiq-mon/internal/files"
)

// A restore swaps data directories in steps. Killed between them (kill
// -9, a lost machine), it would leave the old data stranded in
// <dir>.pre-restore-<stamp> and a half-swapped data dir that the servers
// would start on. So before the first swap it writes a journal beside
// the data dirs saying where it is, and the next restore, up or doctor
// reads it: Recover finishes a restore whose restored servers had been
// ready, and rolls back any other, putting the old data back.

// JournalName is the journal file, in the staging parent (beside the
// local data dirs, or the state dir for compose).
const JournalName = ".restore-journal.json"

// Restore phases as the journal records them.
const (
	phaseSwapping = "swapping" // data dirs being replaced
	phaseSwapped  = "swapped"  // all replaced, servers starting
	phaseReady    = "ready"    // restored servers answered /-/ready
)

// Journal is what an unfinished restore recorded.
type Journal struct {
	Stamp      string    `json:"stamp"`
	Archive    string    `json:"archive"`
	Started    time.Time `json:"started"`
	Phase      string    `json:"phase"`
	Components []string  `json:"components"`
}

func journalPath(stageParent string) string { return filepath.Join(stageParent, JournalName) }

func writeJournal(stageParent string, j Journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return files.WriteFileAtomic(journalPath(stageParent), append(data, '\n'), 0o600)
}

// Interrupted reads the journal an unfinished restore left in the staging
// directory of o, if any.
func Interrupted(o RestoreOptions) (*Journal, error) {
	parent, err := o.stageParent()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(journalPath(parent))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil || j.Stamp == "" {
		return nil, fmt.Errorf("%s: not a restore journal (%v): move it away by hand after checking the data dirs", journalPath(parent), err)
	}
	return &j, nil
}

// Describe says what an interrupted restore left, and what the next
// run does about it.
func (j *Journal) Describe() string {
	what := "rolls it back (the data from before it is put back)"
	if j.Phase == phaseReady {
		what = "finishes it (the restored data stays, the data from before it is deleted)"
	}
	return fmt.Sprintf("a restore of %s started %s was interrupted while %s; the next restore or up %s",
		j.Archive, j.Started.UTC().Format(time.RFC3339), j.Phase, what)
}

// Recover finishes or rolls back a restore that was interrupted, and
// removes staging directories such a run left. It returns a sentence
// saying what it did, or "" when there was nothing to do. Rolling back
// stops the swapped servers, puts their old data back and starts them
// again.
func Recover(ctx context.Context, o RestoreOptions) (string, error) {
	parent, err := o.stageParent()
	if err != nil {
		return "", err
	}
	stale, _ := filepath.Glob(filepath.Join(parent, ".restore-*"))
	for _, s := range stale {
		if filepath.Base(s) != JournalName {
			os.RemoveAll(s)
		}
	}
	j, err := Interrupted(o)
	if err != nil || j == nil {
		return "", err
	}
	rec, ok := o.Data.(recoverer)
	if !ok {
		return "", fmt.Errorf("%s: an interrupted restore, and no way to recover its data here", journalPath(parent))
	}
	ctx = context.WithoutCancel(ctx) // half done is the state to leave
	if j.Phase == phaseReady {
		for _, c := range j.Components {
			if err := rec.finishAside(ctx, c, j.Stamp); err != nil {
				return "", fmt.Errorf("finishing the interrupted restore of %s: %w", c, err)
			}
		}
		if err := os.Remove(journalPath(parent)); err != nil {
			return "", err
		}
		return fmt.Sprintf("finished a restore of %s interrupted at %s after its servers were ready: deleted the data from before it", j.Archive, j.Started.UTC().Format(time.RFC3339)), nil
	}
	if o.Stack == nil {
		return "", errors.New("restore: no stack to stop and start for the rollback")
	}
	for _, c := range j.Components {
		if _, err := o.Stack.Stop(ctx, c); err != nil {
			return "", fmt.Errorf("rolling back the interrupted restore: stop %s: %w", c, err)
		}
	}
	for _, c := range j.Components {
		if err := rec.rollbackAside(ctx, c, j.Stamp); err != nil {
			return "", fmt.Errorf("rolling back the interrupted restore of %s: %w", c, err)
		}
	}
	if err := os.Remove(journalPath(parent)); err != nil {
		return "", err
	}
	for _, c := range j.Components {
		if err := o.Stack.Start(ctx, c); err != nil {
			return "", fmt.Errorf("the interrupted restore was rolled back, but %s does not start: %w", c, err)
		}
	}
	return fmt.Sprintf("rolled back a restore of %s interrupted at %s (while %s): the data from before it is back", j.Archive, j.Started.UTC().Format(time.RFC3339), j.Phase), nil
}

// recoverer is a DataDirs that can finish or undo a swap from its stamp
// alone, after the process that started it is gone.
type recoverer interface {
	rollbackAside(ctx context.Context, component, stamp string) error
	finishAside(ctx context.Context, component, stamp string) error
}

// rollbackAside puts <dir>.pre-restore-<stamp> back as dir. Every step
// can run again after an interruption of its own.
func (l LocalFiles) rollbackAside(_ context.Context, component, stamp string) error {
	dir := l[component]
	if dir == "" {
		return fmt.Errorf("%s: no data directory configured", component)
	}
	aside := dir + ".pre-restore-" + stamp
	if _, err := os.Stat(aside); errors.Is(err, fs.ErrNotExist) {
		return nil // never moved aside, or already back
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(aside, dir)
}

func (l LocalFiles) finishAside(_ context.Context, component, stamp string) error {
	dir := l[component]
	if dir == "" {
		return fmt.Errorf("%s: no data directory configured", component)
	}
	return os.RemoveAll(dir + ".pre-restore-" + stamp)
}

func (d DockerFiles) rollbackAside(ctx context.Context, component, stamp string) error {
	r, err := d.replaced(component, stamp)
	if err != nil {
		return err
	}
	return r.Rollback(ctx)
}

func (d DockerFiles) finishAside(ctx context.Context, component, stamp string) error {
	r, err := d.replaced(component, stamp)
	if err != nil {
		return err
	}
	return r.Commit(ctx)
}
