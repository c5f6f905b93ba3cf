// Package backup writes, verifies and restores investiq-mon archives: one
// tar.gz holding a consistent Prometheus TSDB snapshot (taken through the
// admin API, never a copy of the live data dir), Alertmanager's silences
// and state files, Grafana's dashboards, folders and datasources (through
// its API) plus its database, and the generated config. A manifest inside
// lists every member with its sha256; it never holds a secret.
package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	amclient "github.com/prometheus/alertmanager/api/v2/client"

	"github.com/investiq/investiq-mon/internal/grafana"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/internal/testhook"
	"github.com/investiq/investiq-mon/spec"
)

// Options of Create.
type Options struct {
	// Output is the archive to write; it must not exist yet.
	Output string
	// Endpoints is the running stack, with credentials.
	Endpoints stack.Endpoints
	// Files reaches the servers' data directories.
	Files DataFiles
	// MonitoringDir is the generated monitoring/ directory (--dir); .env
	// and secrets are never taken from it. Not stack.Layout.ConfigDir,
	// the local backend's copy of the servers' files.
	MonitoringDir string
	// Secrets are values that must never end up in the archive: a config
	// file holding one is left out (and said so), and the test suite
	// greps manifests and logs for them.
	Secrets []string
	// Key signs the archive's manifest (INVESTIQ_BACKUP_KEY from .env);
	// it is required, and never written anywhere.
	Key []byte
	// Components are the spec's (Spec.Components): each is saved as its
	// Backup kind says. Nil means the three servers every stack has.
	Components []spec.Component
	// AllowPartial writes an archive even when a component is down.
	AllowPartial bool
	Log          *slog.Logger
	// Progress, when set, returns a writer counting the bytes of a long
	// step (a progress bar); Finish is called when the step ends.
	Progress func(desc string, total int64) ProgressBar
	Now      func() time.Time
	// Journal, when set, records what a killed backup would leave behind
	// (leftovers.go); the next backup removes it.
	Journal string
}

// ProgressBar is what Options.Progress returns.
type ProgressBar interface {
	io.Writer
	Finish() error
}

// ErrPartial is returned when a component is down and AllowPartial is off.
var ErrPartial = errors.New("a component of the stack is down: nothing was written (use --allow-partial to back up the rest)")

// Create writes the archive. It goes to a temporary file beside Output
// that is renamed only once complete and synced, so a failed or
// interrupted backup never leaves a file that looks like a backup.
func Create(ctx context.Context, o Options) (*Manifest, error) {
	m, err := create(ctx, o)
	if diskFull(err) {
		// By now the deferred cleanups of create have removed the
		// temporary files and the snapshot: say so, and what to do.
		err = fmt.Errorf("%w: the disk holding %s is full (or a file size limit, ulimit -f, was reached): nothing was written to %s and the partial files are removed; free space there or choose another --output",
			err, filepath.Dir(o.Output), o.Output)
	}
	return m, err
}

// diskFull reports a write refused for want of room.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

func create(ctx context.Context, o Options) (*Manifest, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if _, err := os.Lstat(o.Output); err == nil {
		return nil, fmt.Errorf("%s exists: choose another --output, backups are never overwritten", o.Output)
	}
	if len(o.Key) < MinKeyLen {
		return nil, fmt.Errorf("backup: no signing key: %s is missing from .env or shorter than %d characters; run `investiq-mon generate` to create it", secrets.BackupKeyEnv, MinKeyLen)
	}
	if note, err := removeLeftovers(ctx, o); err != nil {
		return nil, err
	} else if note != "" {
		o.Log.Warn(note)
	}
	dir := filepath.Dir(o.Output)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(o.Output)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// An archive holds grafana.db (user password hashes, encrypted
	// datasource secrets): only its owner may read it.
	if err := tmp.Chmod(0o600); err != nil {
		return nil, err
	}
	b := &builder{o: o, m: &Manifest{Format: Format, Tool: "investiq-mon", Created: o.Now().UTC().Truncate(time.Second), Backend: o.Endpoints.Backend}}
	if b.aw, err = newArchiveWriter(dir, b.m.Created); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer b.aw.abort()
	defer b.clearJournal() // a kill before this leaves the journal for the next backup
	if err := errors.Join(b.noteLeftover("", tmp.Name()), b.noteLeftover("", b.aw.body.Name())); err != nil {
		return nil, err
	}
	if df, ok := o.Files.(DockerFiles); ok {
		// Copies out of the containers go into one folder of this
		// backup's, journalled: a kill while one is made or archived
		// left a full copy of the snapshot beside the archive that no
		// later backup removed.
		scratch, err := os.MkdirTemp(dir, ".investiq-backup-copy-*")
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		defer os.RemoveAll(scratch)
		if err := b.noteLeftover("", scratch); err != nil {
			return nil, err
		}
		df.TempDir = scratch
		b.o.Files = df
	}
	if err := b.run(ctx); err != nil {
		return nil, err
	}
	if err := b.aw.finish(ctx, tmp, b.m, o.Key); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := testhook.Pause(ctx, "backup:archived"); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Link, not rename: it fails instead of replacing an Output created
	// meanwhile, and the deferred cleanup then removes the temp name.
	if err := os.Link(tmp.Name(), o.Output); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s appeared while the backup ran: not overwritten", o.Output)
		}
		// A file system without hard links: rename, after checking again.
		if _, serr := os.Lstat(o.Output); serr == nil {
			return nil, fmt.Errorf("%s appeared while the backup ran: not overwritten", o.Output)
		}
		if err := os.Rename(tmp.Name(), o.Output); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	done = true
	os.Remove(tmp.Name())
	return b.m, nil
}

type builder struct {
	o       Options
	m       *Manifest
	aw      *archiveWriter
	journal *backupJournal
	// keepSnapshot is a snapshot this backup could not delete: the
	// journal keeps it for the next backup.
	keepSnapshot string
}

func (b *builder) run(ctx context.Context) error {
	// Probe every component with data first, so a down one is reported
	// before any work (and before a snapshot is taken only to be thrown
	// away). Then save each as its Backup kind says.
	comps := b.o.Components
	if comps == nil {
		comps = (&spec.Spec{}).Components()
	}
	type probed struct {
		c    spec.Component
		save func(context.Context) error // nil: down
	}
	var todo []probed
	var down []string
	// why is each down component's reason, for its note in the manifest.
	why := map[string]string{}
	for _, c := range comps {
		if c.Backup == spec.BackupNone {
			continue
		}
		u := b.o.Endpoints.URL(c.Name)
		if u == "" && c.Optional {
			b.add(Component{Name: c.Name, Status: Skipped, Notes: []string{c.Name + " is not part of this stack (no URL)"}})
			continue
		}
		save, err := b.probe(ctx, c, u)
		var fatal *fatalProbe
		if errors.As(err, &fatal) {
			return fatal.err
		}
		if err != nil {
			why[c.Name] = stack.Explain(err, stack.RequestTimeout).Error()
			down = append(down, fmt.Sprintf("%s at %s: %s", c.Name, u, why[c.Name]))
		}
		todo = append(todo, probed{c, save})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(down) > 0 && !b.o.AllowPartial {
		return fmt.Errorf("%w:\n  %s", ErrPartial, strings.Join(down, "\n  "))
	}
	for _, p := range todo {
		if p.save == nil {
			b.add(Component{Name: p.c.Name, Status: Skipped, Notes: []string{"down at backup time: " + why[p.c.Name]}})
			continue
		}
		before := len(b.aw.seen)
		if err := p.save(ctx); err != nil {
			// With AllowPartial, a component that fails before anything
			// of it was written into the archive (it went down during
			// the backup: a container stopped with docker kill, a crash)
			// is recorded as skipped, and the backup goes on; after a
			// member of it was written, the backup fails.
			if b.o.AllowPartial && ctx.Err() == nil && len(b.aw.seen) == before {
				b.o.Log.Warn(p.c.Name+" not saved: it failed during the backup", "err", err)
				b.add(Component{Name: p.c.Name, Status: Skipped, Notes: []string{"went down during the backup: " + err.Error()}})
				continue
			}
			// The stack works without an optional component: with
			// --allow-partial its failed export does not stop the rest.
			if !p.c.Optional || !b.o.AllowPartial {
				return err
			}
			b.o.Log.Warn(p.c.Name+" not saved", "err", err)
			b.add(Component{Name: p.c.Name, Status: Skipped, Notes: []string{"export failed: " + err.Error()}})
		}
	}
	return b.config(ctx)
}

// fatalProbe is a probe that cannot even be set up (a malformed URL):
// the backup stops, --allow-partial or not.
type fatalProbe struct{ err error }

func (f *fatalProbe) Error() string { return f.err.Error() }

// probe asks component c, at base URL u, whether it answers, the way its
// Backup kind will talk to it, and returns how to save it then.
func (b *builder) probe(ctx context.Context, c spec.Component, u string) (func(context.Context) error, error) {
	if u == "" {
		return nil, fmt.Errorf("no URL for %s", c.Name)
	}
	switch c.Backup {
	case spec.BackupTSDBSnapshot:
		prom, err := promAPI(b.o.Endpoints)
		if err != nil {
			return nil, &fatalProbe{err}
		}
		bi, err := prom.Buildinfo(ctx)
		if err != nil {
			return nil, err
		}
		v := stack.BuildVersion(bi.Version, bi.GoVersion)
		return func(ctx context.Context) error { return b.prometheus(ctx, v) }, nil
	case spec.BackupSilences:
		am, err := amAPI(b.o.Endpoints)
		if err != nil {
			return nil, &fatalProbe{err}
		}
		v, err := amVersion(ctx, am)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return b.alertmanager(ctx, am, v) }, nil
	case spec.BackupGrafanaAPI:
		gc, err := grafana.New(u, b.o.Endpoints.GrafanaUser, b.o.Endpoints.GrafanaPassword)
		if err != nil {
			return nil, &fatalProbe{err}
		}
		v, err := gc.Health(ctx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return b.grafana(ctx, gc, v) }, nil
	case spec.BackupFiles:
		hc := stack.HTTPClient("", "", stack.RequestTimeout)
		if c.Auth {
			hc = stack.HTTPClient(b.o.Endpoints.User, b.o.Endpoints.Password, stack.RequestTimeout)
		}
		if err := stack.Ready(ctx, hc, strings.TrimSuffix(u, "/")+c.ReadyPath); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return b.dataFiles(ctx, c) }, nil
	}
	return nil, &fatalProbe{fmt.Errorf("%s: unknown backup kind %q (spec/topology.go lists them)", c.Name, c.Backup)}
}

// dataFiles copies the DataFiles of c's data directory as they are: a
// component whose state is a few small files it rewrites whole.
func (b *builder) dataFiles(ctx context.Context, c spec.Component) error {
	b.o.Log.Info("copying data files", "component", c.Name)
	mc := Component{Name: c.Name, Status: Saved}
	n := 0
	for _, f := range c.DataFiles {
		local, cleanup, err := b.o.Files.Fetch(ctx, c.Name, f)
		switch {
		case err == nil:
			err = b.aw.addFile(ctx, path.Join(c.Name, dirDataFiles, f), local, nil)
			cleanup()
			if err != nil {
				return err
			}
			n++
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, fs.ErrNotExist):
			mc.Notes = append(mc.Notes, "data file "+f+" not written yet")
		default:
			return fmt.Errorf("%s data file %s: %w", c.Name, f, err)
		}
	}
	mc.Notes = append(mc.Notes, fmt.Sprintf("%d of %d data files", n, len(c.DataFiles)))
	b.add(mc)
	return nil
}

func (b *builder) add(c Component) { b.m.Components = append(b.m.Components, c) }

// prometheus takes a TSDB snapshot through the admin API, which writes a
// consistent set of blocks (the head included) as hard links, archives it
// and deletes it again, also when the backup fails or is cancelled.
func (b *builder) prometheus(ctx context.Context, version string) error {
	b.o.Log.Info("taking a prometheus snapshot", "url", b.o.Endpoints.Prometheus)
	// Writing the head block can take longer than an ordinary request.
	snapAPI, err := promAPIWithin(b.o.Endpoints, stack.SnapshotTimeout)
	if err != nil {
		return err
	}
	snap, err := snapAPI.Snapshot(ctx, false)
	if err != nil {
		return fmt.Errorf("prometheus snapshot (POST %s/api/v1/admin/tsdb/snapshot): %w", b.o.Endpoints.Prometheus, stack.Explain(err, stack.SnapshotTimeout))
	}
	if snap.Name == "" || strings.ContainsAny(snap.Name, "/\\") || snap.Name == ".." {
		return fmt.Errorf("prometheus snapshot: unexpected name %q", snap.Name)
	}
	rel := "snapshots/" + snap.Name
	if err := b.noteLeftover(rel, ""); err != nil {
		return err
	}
	defer func() {
		// A leftover snapshot pins disk space: its hard links keep blocks
		// alive that compaction has deleted. So remove it even when ctx
		// is already cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := b.o.Files.Remove(rctx, Prometheus, rel); err != nil {
			b.o.Log.Warn("could not delete the prometheus snapshot: the next backup tries again", "snapshot", rel, "err", err)
			b.keepSnapshot = rel
		}
	}()
	if err := testhook.Pause(ctx, "backup:snapshot-taken"); err != nil {
		return err
	}
	local, cleanup, err := b.o.Files.Fetch(ctx, Prometheus, rel)
	if err != nil {
		return fmt.Errorf("prometheus snapshot %s: %w", snap.Name, err)
	}
	defer cleanup()
	type file struct {
		src, name string
		size      int64
	}
	var files []file
	var total int64
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		files = append(files, file{p, path.Join(dirSnapshot, filepath.ToSlash(rel)), fi.Size()})
		total += fi.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("prometheus snapshot %s: %w", snap.Name, err)
	}
	c := Component{Name: Prometheus, Status: Saved, Version: version}
	var bar ProgressBar
	if b.o.Progress != nil {
		bar = b.o.Progress("prometheus snapshot", total)
	}
	for _, f := range files {
		var w io.Writer
		if bar != nil {
			w = bar
		}
		if err := b.aw.addFile(ctx, f.name, f.src, w); err != nil {
			return err
		}
		if path.Base(f.name) == "meta.json" {
			blockStats(&c, f.src)
		}
	}
	if bar != nil {
		bar.Finish()
	}
	if len(files) == 0 {
		c.Notes = append(c.Notes, "the snapshot is empty: prometheus held no samples")
	}
	b.o.Log.Info("prometheus snapshot archived", "files", len(files), "bytes", total, "series", c.Series, "samples", c.Samples)
	b.add(c)
	return nil
}

// blockStats adds one block's time range and counts to c, from its
// meta.json, for the manifest (and the user deciding which backup to use).
func blockStats(c *Component, metaFile string) {
	data, err := os.ReadFile(metaFile)
	if err != nil {
		return
	}
	var meta struct {
		MinTime, MaxTime int64
		Stats            struct{ NumSamples, NumSeries int64 }
	}
	if json.Unmarshal(data, &meta) != nil {
		return
	}
	minT, maxT := time.UnixMilli(meta.MinTime).UTC(), time.UnixMilli(meta.MaxTime).UTC()
	if c.MinTime == nil || minT.Before(*c.MinTime) {
		c.MinTime = &minT
	}
	if c.MaxTime == nil || maxT.After(*c.MaxTime) {
		c.MaxTime = &maxT
	}
	c.Samples += meta.Stats.NumSamples
	c.Series += meta.Stats.NumSeries
}

// alertmanager saves the silences through the API (the authoritative
// copy: the state files are rewritten only every 15 minutes and at
// shutdown) and the state files nflog and silences when they exist.
func (b *builder) alertmanager(ctx context.Context, am *amclient.AlertmanagerAPI, version string) error {
	b.o.Log.Info("saving alertmanager silences and state", "url", b.o.Endpoints.Alertmanager)
	sils, err := amSilences(ctx, am)
	if err != nil {
		return fmt.Errorf("alertmanager silences (GET %s/api/v2/silences): %w", b.o.Endpoints.Alertmanager, stack.Explain(err, stack.RequestTimeout))
	}
	if err := b.addJSON(ctx, fileSilences, sils); err != nil {
		return err
	}
	c := Component{Name: Alertmanager, Status: Saved, Version: version, Notes: []string{fmt.Sprintf("%d silences", len(sils))}}
	for _, f := range []string{"nflog", "silences"} {
		local, cleanup, err := b.o.Files.Fetch(ctx, Alertmanager, f)
		switch {
		case err == nil:
			err = b.aw.addFile(ctx, path.Join(dirAMState, f), local, nil)
			cleanup()
			if err != nil {
				return err
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, fs.ErrNotExist):
			c.Notes = append(c.Notes, "state file "+f+" not written yet (Alertmanager writes it every 15 minutes and at shutdown); silences are in silences.json")
		default:
			return fmt.Errorf("alertmanager state file %s: %w", f, err)
		}
	}
	b.add(c)
	return nil
}

// grafana exports dashboards, folders and datasources through the API and
// copies grafana.db when it can be reached.
func (b *builder) grafana(ctx context.Context, gc *grafana.Client, version string) error {
	b.o.Log.Info("exporting grafana dashboards, folders and datasources", "url", gc.URL())
	exp, err := gc.Export(ctx)
	if err != nil {
		return err
	}
	c := Component{Name: Grafana, Status: Saved, Version: version}
	if err := b.addJSON(ctx, fileFolders, exp.Folders); err != nil {
		return err
	}
	if err := b.addJSON(ctx, fileDatasrc, exp.Datasources); err != nil {
		return err
	}
	for _, d := range exp.Dashboards {
		dash, _ := d.Dashboard.(map[string]any)
		uid, _ := dash["uid"].(string)
		if checkName(uid) != nil || strings.Contains(uid, "/") {
			c.Notes = append(c.Notes, fmt.Sprintf("dashboard with unusable uid %q not saved", uid))
			c.Status = Partial
			continue
		}
		if err := b.addJSON(ctx, path.Join(dirDashboards, uid+".json"), d); err != nil {
			return err
		}
	}
	c.Notes = append(c.Notes, fmt.Sprintf("%d dashboards, %d folders, %d datasources (secure fields are never exported)", len(exp.Dashboards), len(exp.Folders), len(exp.Datasources)))
	local, cleanup, err := b.o.Files.Fetch(ctx, Grafana, "grafana.db")
	switch {
	case err == nil:
		defer cleanup()
		err = b.aw.addFile(ctx, fileGrafanaDB, local, nil)
		if err != nil {
			return err
		}
		c.Notes = append(c.Notes, "grafana.db copied while Grafana ran: the API export above is the consistent part")
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		c.Notes = append(c.Notes, "grafana.db not reachable: "+err.Error())
	}
	b.add(c)
	return nil
}

// addJSON archives v as indented JSON, refusing it when it holds a secret.
func (b *builder) addJSON(ctx context.Context, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if b.leaks(data) {
		return fmt.Errorf("%s would hold one of the stack's secrets: not archived", name)
	}
	return b.aw.addBytes(ctx, name, append(data, '\n'))
}

func (b *builder) leaks(data []byte) bool {
	for _, s := range b.o.Secrets {
		if s != "" && bytes.Contains(data, []byte(s)) {
			return true
		}
	}
	return false
}

// config archives the generated monitoring/ tree, minus .env and any
// secrets directory, and minus any file that holds a secret value.
func (b *builder) config(ctx context.Context) error {
	c := Component{Name: Config, Status: Saved}
	if b.o.MonitoringDir == "" {
		c.Status, c.Notes = Skipped, []string{"no config directory given"}
		b.add(c)
		return nil
	}
	var files []string
	err := filepath.WalkDir(b.o.MonitoringDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != b.o.MonitoringDir && (name == "secrets" || name == ".git") {
				return filepath.SkipDir
			}
			return nil
		}
		if excludedConfig(name) || !d.Type().IsRegular() {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		c.Status, c.Notes = Skipped, []string{b.o.MonitoringDir + " does not exist"}
		b.add(c)
		return nil
	}
	if err != nil {
		return err
	}
	for _, p := range files {
		rel, err := filepath.Rel(b.o.MonitoringDir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if b.leaks(data) {
			c.Status = Partial
			c.Notes = append(c.Notes, rel+" holds a secret value: left out (use the *_file form)")
			b.o.Log.Warn("config file holds a secret: not archived", "file", p)
			continue
		}
		if err := b.aw.addBytes(ctx, path.Join(dirConfig, filepath.ToSlash(rel)), data); err != nil {
			return err
		}
	}
	b.add(c)
	return nil
}

// excludedConfig: .env and its backups or variants hold the secrets;
// .env.example holds none. Temporary files of an interrupted write are
// not config.
func excludedConfig(name string) bool {
	if name == ".env.example" {
		return false
	}
	return name == ".env" || strings.HasPrefix(name, ".env.") || strings.Contains(name, ".tmp-") || strings.HasSuffix(name, "~")
}
