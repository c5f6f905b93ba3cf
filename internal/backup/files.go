package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/investiq/investiq-mon/internal/proc"
	"github.com/investiq/investiq-mon/internal/stack"
	"github.com/investiq/investiq-mon/spec"
)

// Component names, as the manifest and DataFiles use them.
const (
	Prometheus   = spec.Prometheus
	Alertmanager = spec.Alertmanager
	Grafana      = spec.Grafana
	Config       = "config"
)

// DataFiles reaches the servers' data directories, wherever they live: a
// directory of the local backend, or a volume inside a compose container.
type DataFiles interface {
	// Fetch makes rel (a slash path inside the component's data dir)
	// available on the local disk and returns where, with a cleanup that
	// removes any copy it made. A missing rel is fs.ErrNotExist.
	Fetch(ctx context.Context, component, rel string) (local string, cleanup func(), err error)
	// Remove deletes rel inside the component's data dir.
	Remove(ctx context.Context, component, rel string) error
}

// LocalFiles are the local backend's data directories, by component.
type LocalFiles map[string]string

func (l LocalFiles) dir(component, rel string) (string, error) {
	d, ok := l[component]
	if !ok || d == "" {
		return "", fmt.Errorf("%s: no data directory configured", component)
	}
	if err := checkName(rel); err != nil {
		return "", err
	}
	return filepath.Join(d, filepath.FromSlash(rel)), nil
}

// Fetch returns the file in place: a Prometheus snapshot is already a
// consistent set of hard links, and copying it would double the disk use.
func (l LocalFiles) Fetch(_ context.Context, component, rel string) (string, func(), error) {
	p, err := l.dir(component, rel)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(p); err != nil {
		return "", nil, err
	}
	return p, func() {}, nil
}

func (l LocalFiles) Remove(_ context.Context, component, rel string) error {
	p, err := l.dir(component, rel)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

// DockerFiles reaches data inside the compose stack's containers with
// `docker cp` (which also works on a stopped container) and `docker exec`.
type DockerFiles struct {
	// Docker is the docker client binary ("docker" on PATH when empty).
	Docker string
	// Containers and DataDirs name, by component, the container and the
	// data directory inside it (investiq-prometheus, /prometheus).
	Containers map[string]string
	DataDirs   map[string]string
	// Images and Owners, by component, are the image a restore runs its
	// helper container from and the user:group owning the data
	// (prom/prometheus and prom/alertmanager run as nobody).
	Images map[string]string
	Owners map[string]string
	// TempDir is where copies are made (beside the archive, so a large
	// snapshot does not fill /tmp).
	TempDir string
}

func (d DockerFiles) docker() string {
	if d.Docker == "" {
		return "docker"
	}
	return d.Docker
}

func (d DockerFiles) target(component, rel string) (container, p string, err error) {
	container, dir := d.Containers[component], d.DataDirs[component]
	if container == "" || dir == "" {
		return "", "", fmt.Errorf("%s: no container configured", component)
	}
	if err := checkName(rel); err != nil {
		return "", "", err
	}
	return container, path.Join(dir, rel), nil
}

func (d DockerFiles) Fetch(ctx context.Context, component, rel string) (string, func(), error) {
	container, src, err := d.target(component, rel)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp(d.TempDir, ".investiq-backup-copy-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	dst := filepath.Join(tmp, path.Base(src))
	if err := d.run(ctx, "cp", container+":"+src, dst); err != nil {
		cleanup()
		return "", nil, err
	}
	return dst, cleanup, nil
}

// Remove deletes inside the running container, or, when it is stopped
// (killed during a backup), through a helper container on its volumes.
func (d DockerFiles) Remove(ctx context.Context, component, rel string) error {
	container, p, err := d.target(component, rel)
	if err != nil {
		return err
	}
	err = d.run(ctx, "exec", container, "rm", "-rf", "--", p)
	if errors.Is(err, ErrDown) && d.Images[component] != "" {
		return d.helper(ctx, component, "rm -rf -- "+shellQuote(p))
	}
	return err
}

// run runs docker, turning "not found" answers into fs.ErrNotExist so
// callers can tell a missing state file from a broken docker.
func (d DockerFiles) run(ctx context.Context, args ...string) error {
	// Bounded even when ctx is not: a hung engine must not hang a backup
	// or a restore's rollback for good. Copies and the helper's moves
	// scale with the data, hence the generous bound.
	limit := dockerCopyTimeout
	if args[0] == "exec" {
		limit = stack.DockerStopTimeout
	}
	parent := ctx
	ctx, cancel := stack.DockerContext(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.docker(), args...)
	proc.DieWithParent(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if parent.Err() != nil {
			return parent.Err()
		}
		if ctx.Err() != nil {
			return stack.DockerTimedOut(ctx, err, args)
		}
		if strings.Contains(msg, "Could not find the file") || strings.Contains(msg, "No such file or directory") {
			return fmt.Errorf("docker %s: %s: %w", strings.Join(args, " "), msg, fs.ErrNotExist)
		}
		if strings.Contains(msg, "No such container") || strings.Contains(msg, "is not running") {
			return fmt.Errorf("docker %s: %s: %w", strings.Join(args, " "), msg, ErrDown)
		}
		var ee *exec.Error
		if errors.As(err, &ee) {
			return fmt.Errorf("docker client not found (%v): the compose backend needs docker on PATH", err)
		}
		return fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return nil
}

// dockerCopyTimeout bounds one docker cp, or one helper container moving
// or chowning a data directory, when the caller set no deadline.
const dockerCopyTimeout = time.Hour

// ErrDown is a component that does not answer.
var ErrDown = errors.New("not running")

// DataStore is where a backend keeps the components' data: read by a
// backup, replaced by a restore.
type DataStore interface {
	DataFiles
	DataDirs
}

// Swapped names the components whose data a restore puts back by
// replacing their data directory (spec.Component.RestoresDataDir), the
// ones a restore's DataStore must reach.
func Swapped(comps []spec.Component) []string {
	var out []string
	for _, c := range comps {
		if c.RestoresDataDir() {
			out = append(out, c.Name)
		}
	}
	return out
}

// FilesOf reaches the data of components where the backend keeps it:
// LocalFiles for directories on this machine, DockerFiles for volumes
// inside containers. tempDir is where DockerFiles makes its copies.
func FilesOf(b stack.Backend, tempDir string, components ...string) DataStore {
	local := LocalFiles{}
	docker := DockerFiles{TempDir: tempDir, Containers: map[string]string{}, DataDirs: map[string]string{},
		Images: map[string]string{}, Owners: map[string]string{}}
	for _, c := range components {
		p := b.Data(c)
		if p.Dir != "" {
			local[c] = p.Dir
			continue
		}
		docker.Containers[c], docker.DataDirs[c], docker.Images[c], docker.Owners[c] = p.Container, p.Path, p.Image, p.Owner
	}
	if len(local) > 0 {
		return local
	}
	return docker
}

// DataDirs replaces a stopped server's data directory during a restore.
type DataDirs interface {
	// Replace moves the component's current data aside and fills its
	// data dir with the entries of src (a local directory; a missing src
	// means an empty data dir). stamp names the aside copy. The result's
	// Rollback undoes whatever was done, also after a failed Replace.
	Replace(ctx context.Context, component, src, stamp string) (*Replaced, error)
}

// Replaced is one data directory replaced by DataDirs.
type Replaced struct {
	Entries int
	// Rollback puts the previous data back; Commit deletes it.
	Rollback, Commit func(context.Context) error
}

// Replace renames the data dir aside (<dir>.pre-restore-<stamp>) and
// renames src's entries into a new empty one: every step is a rename on
// one file system, so nothing is ever half copied.
func (l LocalFiles) Replace(_ context.Context, component, src, stamp string) (*Replaced, error) {
	dir, ok := l[component]
	if !ok || dir == "" {
		return nil, fmt.Errorf("%s: no data directory configured", component)
	}
	aside := dir + ".pre-restore-" + stamp
	movedAside, created := false, false
	r := &Replaced{
		Rollback: func(context.Context) error {
			if created {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
			}
			if movedAside {
				return os.Rename(aside, dir)
			}
			return nil
		},
		Commit: func(context.Context) error { return os.RemoveAll(aside) },
	}
	mode := fs.FileMode(0o700)
	if fi, err := os.Stat(dir); err == nil {
		mode = fi.Mode().Perm()
		if err := os.Rename(dir, aside); err != nil {
			return r, fmt.Errorf("move %s aside: %w", dir, err)
		}
		movedAside = true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return r, err
	}
	if err := os.Mkdir(dir, mode); err != nil {
		return r, err
	}
	created = true
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return r, fmt.Errorf("restore %s: %w", e.Name(), err)
		}
		r.Entries++
	}
	return r, nil
}

// Replace swaps the data inside a stopped container's volume. A volume's
// mount point cannot be renamed, so the old data moves into
// <data dir>/.pre-restore-<stamp> (Prometheus loads only directories named
// like blocks, Alertmanager only its two files, so both ignore it), the
// new data is copied in with `docker cp`, and ownership is given back to
// the image's user. The shell steps run in a throwaway container of the
// server's own image with the stopped container's volumes.
func (d DockerFiles) Replace(ctx context.Context, component, src, stamp string) (*Replaced, error) {
	r, err := d.replaced(component, stamp)
	if err != nil {
		return nil, err
	}
	container, dir := d.Containers[component], path.Clean(d.DataDirs[component])
	aside := path.Join(dir, ".pre-restore-"+stamp)
	helper := func(ctx context.Context, script string) error { return d.helper(ctx, component, script) }
	if err := helper(ctx, fmt.Sprintf(`set -e; mkdir %[2]s; find %[1]s -mindepth 1 -maxdepth 1 ! -path %[2]s -exec mv {} %[2]s/ \;`, dir, aside)); err != nil {
		return r, fmt.Errorf("move the old data aside: %w", err)
	}
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if len(entries) > 0 {
		if err := d.run(ctx, "cp", src+"/.", container+":"+dir+"/"); err != nil {
			return r, err
		}
	}
	r.Entries = len(entries)
	if owner := d.Owners[component]; owner != "" {
		if err := helper(ctx, "chown -R "+owner+" "+dir); err != nil {
			return r, err
		}
	}
	return r, nil
}

// replaced is the Rollback and Commit of a swap with stamp, also for a
// later run that finds it interrupted (both can run again safely).
func (d DockerFiles) replaced(component, stamp string) (*Replaced, error) {
	container, dir := d.Containers[component], d.DataDirs[component]
	if container == "" || dir == "" {
		return nil, fmt.Errorf("%s: no container configured", component)
	}
	if d.Images[component] == "" {
		return nil, fmt.Errorf("%s: no image configured", component)
	}
	dir = path.Clean(dir)
	aside := path.Join(dir, ".pre-restore-"+stamp)
	return &Replaced{
		// Only when the aside copy exists is there anything to put back;
		// without that guard a failed first step would empty the volume.
		Rollback: func(ctx context.Context) error {
			return d.helper(ctx, component, fmt.Sprintf(`set -e; [ -d %[2]s ] || exit 0; find %[1]s -mindepth 1 -maxdepth 1 ! -path %[2]s -exec rm -rf {} \;; find %[2]s -mindepth 1 -maxdepth 1 -exec mv {} %[1]s/ \;; rmdir %[2]s`, dir, aside))
		},
		Commit: func(ctx context.Context) error { return d.helper(ctx, component, "rm -rf "+aside) },
	}, nil
}

// shellQuote quotes s for sh: rel comes from Prometheus' answer.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// helper runs a shell script in a throwaway container of the component's
// image with its stopped container's volumes.
func (d DockerFiles) helper(ctx context.Context, component, script string) error {
	return d.run(ctx, "run", "--rm", "--network", "none", "--volumes-from", d.Containers[component], "--user", "0",
		"--entrypoint", "sh", d.Images[component], "-c", script)
}
