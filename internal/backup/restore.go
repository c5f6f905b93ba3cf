package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-openapi-client-go/models"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	ammodels "github.com/prometheus/alertmanager/api/v2/models"

	"github.com/investiq/investiq-mon/internal/grafana"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testhook"
)

// Stack stops and starts one server of the stack around a restore. The
// stack.Backend satisfies it (local processes, compose services);
// tests with servers they started themselves. Start returns once the
// server is ready.
type Stack interface {
	// Stop reports whether the component was running.
	Stop(ctx context.Context, component string) (bool, error)
	Start(ctx context.Context, component string) error
}

// RestoreOptions of Restore.
type RestoreOptions struct {
	Archive string
	// Endpoints is the stack restored into, with credentials.
	Endpoints stack.Endpoints
	// Data replaces the stopped servers' data directories: LocalFiles for
	// the local backend, DockerFiles for compose volumes.
	Data DataDirs
	// StageDir is where the archive is unpacked first. For LocalFiles it
	// must be on the data dirs' file system (the default: the parent of
	// Prometheus' data dir), so putting blocks in place is a rename.
	StageDir string
	Stack    Stack
	// Trust authenticates the archive (its key, or --allow-unsigned).
	Trust Trust
	// Verified says the caller ran Preflight on the archive just before
	// (to show it before asking): Restore then skips that full read. It
	// still checks the signature, the space and every member as it
	// unpacks them.
	Verified bool
	// ReadyTimeout bounds the wait for each server after its start.
	ReadyTimeout time.Duration
	Log          *slog.Logger
	Now          func() time.Time
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Manifest          *Manifest
	Blocks            int
	SilencesCreated   int
	SilencesPresent   int
	SilencesExpired   int
	Grafana           *grafana.ImportResult
	Notes             []string
	PrometheusRestore bool
	AlertmanagerState bool
}

// stageParent is where the archive is unpacked: StageDir, or beside
// the local Prometheus data dir (so putting blocks in place is a rename).
func (o RestoreOptions) stageParent() (string, error) {
	if o.StageDir != "" {
		return o.StageDir, nil
	}
	lf, ok := o.Data.(LocalFiles)
	if !ok || lf[Prometheus] == "" {
		return "", errors.New("restore: no staging directory")
	}
	return filepath.Dir(lf[Prometheus]), nil
}

// Preflight is everything Restore checks before it writes a byte: the
// manifest's signature, that the archive's total fits in the free space
// where it will be unpacked (refused with the numbers otherwise), and,
// reading the whole archive without writing anything, its structure and
// checksums, with decompression bounded by the manifest's total.
func Preflight(ctx context.Context, o RestoreOptions) (*Manifest, error) {
	m, err := Inspect(ctx, o.Archive, o.Trust)
	if err != nil {
		return nil, err
	}
	stage, err := o.stageParent()
	if err != nil {
		return nil, err
	}
	if err := checkSpace(stage, m); err != nil {
		return nil, err
	}
	return Verify(ctx, o.Archive, o.Trust)
}

// Restore puts an archive back. It authenticates, checks the free space,
// verifies and unpacks the whole archive and opens the snapshot's blocks
// before touching anything, so an archive that fails any of that changes
// nothing. Then it stops Prometheus and Alertmanager, moves their data
// directories aside, puts the snapshot's blocks into an empty Prometheus
// data dir and the state files into Alertmanager's, starts both, waits
// until they are ready and re-creates the silences that are missing. Only
// then are the old directories deleted; any failure before that puts them
// back and starts the servers again. Grafana's dashboards, folders and
// datasources are re-imported last, through its API.
func Restore(ctx context.Context, o RestoreOptions) (*RestoreResult, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	res := &RestoreResult{}
	if o.Data == nil || o.Stack == nil {
		return nil, errors.New("restore: no data directories or stack to restore into")
	}
	stageParent, err := o.stageParent()
	if err != nil {
		return nil, err
	}
	// Every error until the servers are stopped leaves things as they
	// were; say so.
	unchanged := func(err error) error { return fmt.Errorf("%w\nnothing was changed", err) }
	if o.Verified {
		m, err := Inspect(ctx, o.Archive, o.Trust)
		if err != nil {
			return nil, unchanged(err)
		}
		if err := checkSpace(stageParent, m); err != nil {
			return nil, unchanged(err)
		}
	} else if _, err := Preflight(ctx, o); err != nil {
		return nil, unchanged(err)
	}
	if err := os.MkdirAll(stageParent, 0o700); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(stageParent, ".restore-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	m, err := Extract(ctx, o.Archive, stage, o.Trust)
	if err != nil {
		return nil, unchanged(err)
	}
	res.Manifest = m
	hasProm, hasAM := m.Has(dirSnapshot), m.Has(fileSilences) || m.Has(dirAMState)
	c, ok := m.Component(Prometheus)
	promEmpty := ok && c.Status == Saved && !hasProm && c.Samples == 0 && c.Series == 0
	if promEmpty {
		hasProm = true // an empty snapshot restores to an empty TSDB
	}
	if hasProm {
		// Before anything stops: a snapshot that would not load must not
		// replace a TSDB that does.
		if _, err := checkSnapshot(ctx, filepath.Join(stage, filepath.FromSlash(dirSnapshot)), promEmpty); err != nil {
			return nil, unchanged(err)
		}
	}
	var sils ammodels.GettableSilences
	if m.Has(fileSilences) {
		data, err := os.ReadFile(filepath.Join(stage, filepath.FromSlash(fileSilences)))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &sils); err != nil {
			return nil, fmt.Errorf("%s: %w", fileSilences, err)
		}
	}

	stamp := o.Now().UTC().Format("20060102T150405Z")
	var swaps []*swap
	if hasProm {
		swaps = append(swaps, &swap{component: Prometheus, from: filepath.Join(stage, filepath.FromSlash(dirSnapshot))})
	}
	if m.Has(dirAMState) {
		swaps = append(swaps, &swap{component: Alertmanager, from: filepath.Join(stage, filepath.FromSlash(dirAMState))})
	}
	// Components saved with spec.BackupFiles: their data directory
	// becomes the saved files.
	for _, c := range m.Components {
		if dir := path.Join(c.Name, dirDataFiles); m.Has(dir) {
			swaps = append(swaps, &swap{component: c.Name, from: filepath.Join(stage, filepath.FromSlash(dir))})
		}
	}
	if err := restoreData(ctx, o, swaps, stamp, stageParent); err != nil {
		return nil, err
	}
	res.PrometheusRestore = hasProm
	res.AlertmanagerState = m.Has(dirAMState)
	for _, s := range swaps {
		if s.component == Prometheus {
			res.Blocks = s.r.Entries
		}
	}

	// The restored servers are ready: from here on the restore is done,
	// whatever happens, and the old data goes.
	commit := func() {
		for _, s := range swaps {
			if err := s.r.Commit(context.WithoutCancel(ctx)); err != nil {
				res.Notes = append(res.Notes, fmt.Sprintf("could not remove the old %s data: %v", s.component, err))
				return // the journal stays: the next run finishes it
			}
		}
		if len(swaps) > 0 {
			os.Remove(journalPath(stageParent))
		}
	}
	if err := testhook.Pause(ctx, "restore:ready"); err != nil {
		commit()
		return res, fmt.Errorf("restore: interrupted after the data was restored and the servers were ready (kept); silences and Grafana were not re-imported: %w", err)
	}
	if hasAM {
		if err := recreateSilences(ctx, o, sils, res); err != nil {
			// The data is back; only silences are missing. Keep it.
			commit()
			return res, fmt.Errorf("restore: data restored, but re-creating silences failed: %w", err)
		}
	}
	commit()

	if m.Has("grafana") && (m.Has(fileFolders) || m.Has(dirDashboards) || m.Has(fileDatasrc)) {
		ir, err := restoreGrafana(ctx, o, stage)
		res.Grafana = ir
		if err != nil {
			return res, fmt.Errorf("restore: prometheus and alertmanager restored, but grafana was not: %w", err)
		}
	} else {
		res.Notes = append(res.Notes, "the archive holds no grafana export")
	}
	return res, nil
}

// swap is one data directory being replaced.
type swap struct {
	component, from string
	r               *Replaced
}

// restoreData stops the servers, swaps their data directories and starts
// them again, undoing everything when a step fails or ctx is cancelled (a
// signal). A journal in stageParent records the phase, for the next run
// should this process be killed outright (see Recover).
func restoreData(ctx context.Context, o RestoreOptions, swaps []*swap, stamp, stageParent string) (err error) {
	if len(swaps) == 0 {
		return nil
	}
	j := Journal{Stamp: stamp, Archive: o.Archive, Started: o.Now().UTC(), Phase: phaseSwapping}
	for _, s := range swaps {
		j.Components = append(j.Components, s.component)
	}
	if err := writeJournal(stageParent, j); err != nil {
		return fmt.Errorf("restore journal: %w\nnothing was changed", err)
	}
	var stopped []string
	defer func() {
		if err == nil {
			return
		}
		// Roll back with a context of its own: the caller's may be the
		// reason we are here.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*o.ReadyTimeout)
		defer cancel()
		var rerrs []error
		for _, c := range stopped {
			if _, e := o.Stack.Stop(rctx, c); e != nil {
				rerrs = append(rerrs, e)
			}
		}
		for _, s := range swaps {
			if s.r != nil {
				if e := s.r.Rollback(rctx); e != nil {
					rerrs = append(rerrs, e)
				}
			}
		}
		for _, c := range stopped {
			if e := o.Stack.Start(rctx, c); e != nil {
				rerrs = append(rerrs, e)
			}
		}
		if len(rerrs) > 0 {
			// The journal stays: the next restore or up tries again.
			err = fmt.Errorf("%w; rolling back also failed: %v", err, errors.Join(rerrs...))
		} else {
			os.Remove(journalPath(stageParent))
			err = fmt.Errorf("%w (the previous data was put back and the servers started again)", err)
		}
	}()
	for _, s := range swaps {
		o.Log.Info("stopping", "component", s.component)
		stopped = append(stopped, s.component)
		if _, err := o.Stack.Stop(ctx, s.component); err != nil {
			return fmt.Errorf("stop %s: %w", s.component, err)
		}
	}
	if err := testhook.Pause(ctx, "restore:stopped"); err != nil {
		return err
	}
	for i, s := range swaps {
		r, err := o.Data.Replace(ctx, s.component, s.from, stamp)
		s.r = r
		if err != nil {
			return fmt.Errorf("replace the %s data: %w", s.component, err)
		}
		if i == 0 {
			if err := testhook.Pause(ctx, "restore:swapping"); err != nil {
				return err
			}
		}
	}
	j.Phase = phaseSwapped
	if err := writeJournal(stageParent, j); err != nil {
		return err
	}
	if err := testhook.Pause(ctx, "restore:swapped"); err != nil {
		return err
	}
	for _, s := range swaps {
		o.Log.Info("starting", "component", s.component)
		rctx, cancel := context.WithTimeout(ctx, o.ReadyTimeout)
		err := o.Stack.Start(rctx, s.component)
		if err == nil {
			base := o.Endpoints.Prometheus
			if s.component == Alertmanager {
				base = o.Endpoints.Alertmanager
			}
			err = ready(rctx, o.Endpoints, base)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("start %s after the restore: %w", s.component, err)
		}
	}
	j.Phase = phaseReady
	return writeJournal(stageParent, j)
}

// recreateSilences posts every archived silence that has not expired and
// is not already there (restored state files usually bring them back),
// without its id, as Alertmanager wants for a new silence.
func recreateSilences(ctx context.Context, o RestoreOptions, sils ammodels.GettableSilences, res *RestoreResult) error {
	am, err := amAPI(o.Endpoints)
	if err != nil {
		return err
	}
	current, err := amSilences(ctx, am)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, s := range current {
		if s.Status != nil && s.Status.State != nil && *s.Status.State != ammodels.SilenceStatusStateExpired {
			have[silenceKey(&s.Silence)] = true
		}
	}
	now := o.Now()
	for _, s := range sils {
		if s.EndsAt == nil || !time.Time(*s.EndsAt).After(now) {
			res.SilencesExpired++
			continue
		}
		if have[silenceKey(&s.Silence)] {
			res.SilencesPresent++
			continue
		}
		if err := postSilence(ctx, am, s.Silence); err != nil {
			return err
		}
		res.SilencesCreated++
	}
	return nil
}

func postSilence(ctx context.Context, am *amclient.AlertmanagerAPI, s ammodels.Silence) error {
	p := silence.NewPostSilencesParamsWithContext(ctx)
	p.Silence = &ammodels.PostableSilence{Silence: s}
	if _, err := am.Silence.PostSilences(p); err != nil {
		return fmt.Errorf("POST /api/v2/silences: %w", err)
	}
	return nil
}

// silenceKey identifies a silence by what it does, not by its id, which a
// re-created silence does not keep.
func silenceKey(s *ammodels.Silence) string {
	var ms []string
	for _, m := range s.Matchers {
		eq := m.IsEqual == nil || *m.IsEqual
		ms = append(ms, fmt.Sprintf("%s|%v|%v|%s", deref(m.Name), deref(m.IsRegex), eq, deref(m.Value)))
	}
	slices.Sort(ms)
	end := ""
	if s.EndsAt != nil {
		end = time.Time(*s.EndsAt).UTC().Format(time.RFC3339)
	}
	return strings.Join(ms, ",") + "#" + end + "#" + deref(s.CreatedBy) + "#" + deref(s.Comment)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// restoreGrafana re-imports the API export into the running Grafana.
func restoreGrafana(ctx context.Context, o RestoreOptions, stage string) (*grafana.ImportResult, error) {
	if o.Endpoints.Grafana == "" {
		return nil, errors.New("the archive holds a grafana export but this stack has no grafana URL")
	}
	gc, err := grafana.New(o.Endpoints.Grafana, o.Endpoints.GrafanaUser, o.Endpoints.GrafanaPassword)
	if err != nil {
		return nil, err
	}
	var exp grafana.Export
	read := func(name string, v any) error {
		data, err := os.ReadFile(filepath.Join(stage, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := read(fileFolders, &exp.Folders); err != nil {
		return nil, err
	}
	if err := read(fileDatasrc, &exp.Datasources); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(stage, filepath.FromSlash(dirDashboards)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		var d models.DashboardFullWithMeta
		if err := read(dirDashboards+"/"+e.Name(), &d); err != nil {
			return nil, err
		}
		exp.Dashboards = append(exp.Dashboards, &d)
	}
	o.Log.Info("re-importing grafana dashboards, folders and datasources", "url", o.Endpoints.Grafana)
	return gc.Import(ctx, &exp)
}
