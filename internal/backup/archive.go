package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ManifestName is the archive member describing the others. It is written
// last, once every member's checksum is known.
const ManifestName = "manifest.json"

// Format is the archive layout version; Verify refuses any other.
const Format = 1

// Archive member prefixes.
const (
	dirSnapshot   = "prometheus/snapshot"
	fileSilences  = "alertmanager/silences.json"
	dirAMState    = "alertmanager/state"
	fileFolders   = "grafana/folders.json"
	fileDatasrc   = "grafana/datasources.json"
	dirDashboards = "grafana/dashboards"
	fileGrafanaDB = "grafana/grafana.db"
	dirConfig     = "config"
)

// Manifest records what an archive holds. It never holds a secret: no
// password, no .env value, no credential-bearing URL.
type Manifest struct {
	Format     int         `json:"format"`
	Tool       string      `json:"tool"`
	Created    time.Time   `json:"created"`
	Backend    string      `json:"backend"`
	Components []Component `json:"components"`
	Files      []Member    `json:"files"`
}

// Component is one part of the stack and what became of it.
type Component struct {
	Name    string   `json:"name"`   // prometheus, alertmanager, grafana, config
	Status  string   `json:"status"` // saved, partial, skipped
	Version string   `json:"version,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Prometheus only: the time range the snapshot's blocks cover.
	MinTime *time.Time `json:"minTime,omitempty"`
	MaxTime *time.Time `json:"maxTime,omitempty"`
	Series  int64      `json:"series,omitempty"`
	Samples int64      `json:"samples,omitempty"`
}

// Component statuses.
const (
	Saved   = "saved"
	Partial = "partial"
	Skipped = "skipped"
)

// Member is one file of the archive.
type Member struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Component returns the named component, if the manifest has it.
func (m *Manifest) Component(name string) (Component, bool) {
	for _, c := range m.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// Has reports whether the archive holds a member at p or below it.
func (m *Manifest) Has(p string) bool {
	for _, f := range m.Files {
		if f.Path == p || strings.HasPrefix(f.Path, p+"/") {
			return true
		}
	}
	return false
}

// ErrCorrupt wraps every reason an archive fails verification.
var ErrCorrupt = errors.New("archive failed verification")

// archiveWriter streams members into a tar.gz and remembers their sums.
type archiveWriter struct {
	gz      *gzip.Writer
	tw      *tar.Writer
	modTime time.Time
	members []Member
	seen    map[string]bool
}

func newArchiveWriter(w io.Writer, modTime time.Time) *archiveWriter {
	gz := gzip.NewWriter(w)
	return &archiveWriter{gz: gz, tw: tar.NewWriter(gz), modTime: modTime, seen: map[string]bool{}}
}

// add writes one member of the given size from r, checking ctx between
// reads so a cancelled backup stops promptly.
func (a *archiveWriter) add(ctx context.Context, name string, size int64, r io.Reader, progress io.Writer) error {
	if err := checkName(name); err != nil {
		return err
	}
	if a.seen[name] {
		return fmt.Errorf("archive member %s written twice", name)
	}
	a.seen[name] = true
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: a.modTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	h := sha256.New()
	dst := io.MultiWriter(a.tw, h)
	if progress != nil {
		dst = io.MultiWriter(dst, progress)
	}
	n, err := io.Copy(dst, ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("archive %s: %d bytes, expected %d (file changed while being read)", name, n, size)
	}
	a.members = append(a.members, Member{Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

func (a *archiveWriter) addBytes(ctx context.Context, name string, data []byte) error {
	return a.add(ctx, name, int64(len(data)), strings.NewReader(string(data)), nil)
}

func (a *archiveWriter) addFile(ctx context.Context, name, src string, progress io.Writer) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return a.add(ctx, name, fi.Size(), f, progress)
}

// finish writes the manifest (with every member's sum) and closes the
// streams. The manifest lists itself nowhere: it is the root of trust.
func (a *archiveWriter) finish(ctx context.Context, m *Manifest) error {
	m.Files = slices.Clone(a.members)
	slices.SortFunc(m.Files, func(x, y Member) int { return strings.Compare(x.Path, y.Path) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(data) + 1), ModTime: a.modTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := a.tw.Write(append(data, '\n')); err != nil {
		return err
	}
	if err := a.tw.Close(); err != nil {
		return err
	}
	return a.gz.Close()
}

// checkName refuses member names that could escape the directory they are
// extracted into, or that a tar tool would treat specially.
func checkName(name string) error {
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == "." || strings.HasPrefix(name, "../") || name == ".." || strings.Contains(name, "\\") {
		return fmt.Errorf("unsafe archive member name %q", name)
	}
	return nil
}

// maxManifest bounds how much of a member called manifest.json Verify
// reads into memory.
const maxManifest = 64 << 20

// Verify checks an archive's structure and every checksum: a readable
// gzip stream (its CRC included), only regular files with safe names, a
// manifest of a known format, and every member present exactly once with
// the size and sha256 the manifest records, and nothing else. Every
// problem found is reported, wrapped in ErrCorrupt.
func Verify(ctx context.Context, file string) (*Manifest, error) {
	return walkArchive(ctx, file, nil)
}

// walkArchive reads the whole archive, checking it as Verify describes;
// when extract is set, it gets every member's content as it is read (the
// checksums are only known at the end: a caller extracting must discard
// its output when walkArchive fails).
func walkArchive(ctx context.Context, file string, extract func(name string, r io.Reader) error) (*Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", file, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, corrupt("not a gzip file: %v", err)
	}
	tr := tar.NewReader(gz)
	got := map[string]Member{}
	var manifestData []byte
	var problems []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, corrupt("reading the archive: %v", err)
		}
		if err := checkName(hdr.Name); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			problems = append(problems, fmt.Sprintf("%s: not a regular file (type %q)", hdr.Name, hdr.Typeflag))
			continue
		}
		if _, dup := got[hdr.Name]; dup || (hdr.Name == ManifestName && manifestData != nil) {
			problems = append(problems, hdr.Name+": appears twice")
			continue
		}
		if hdr.Name == ManifestName {
			manifestData, err = io.ReadAll(io.LimitReader(ctxReader{ctx, tr}, maxManifest))
			if err != nil {
				return nil, corrupt("reading %s: %v", ManifestName, err)
			}
			continue
		}
		h := sha256.New()
		var r io.Reader = io.TeeReader(ctxReader{ctx, tr}, h)
		var n int64
		if extract != nil {
			cr := &countReader{r: r}
			if err := extract(hdr.Name, cr); err != nil {
				return nil, err
			}
			// Drain what extract left, so the sum covers the whole member.
			if _, err := io.Copy(io.Discard, cr); err != nil {
				return nil, corrupt("reading %s: %v", hdr.Name, err)
			}
			n = cr.n
		} else if n, err = io.Copy(io.Discard, r); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, corrupt("reading %s: %v", hdr.Name, err)
		}
		got[hdr.Name] = Member{Path: hdr.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	}
	// tar stops at its end-of-archive blocks, before gzip has read its
	// trailer: read the rest so gzip checks its CRC and length too. A
	// flipped byte anywhere in the file fails here at the latest.
	if _, err := io.Copy(io.Discard, ctxReader{ctx, gz}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, corrupt("gzip stream: %v", err)
	}
	if manifestData == nil {
		return nil, corrupt("no %s: not an investiq-mon backup, or cut short", ManifestName)
	}
	var m Manifest
	if err := json.Unmarshal(manifestData, &m); err != nil {
		return nil, corrupt("%s: %v", ManifestName, err)
	}
	if m.Format != Format {
		return nil, corrupt("%s: format %d, this investiq-mon reads format %d", ManifestName, m.Format, Format)
	}
	listed := map[string]bool{}
	for _, want := range m.Files {
		listed[want.Path] = true
		have, ok := got[want.Path]
		switch {
		case !ok:
			problems = append(problems, want.Path+": listed in the manifest but missing")
		case have.Size != want.Size:
			problems = append(problems, fmt.Sprintf("%s: %d bytes, manifest says %d", want.Path, have.Size, want.Size))
		case have.SHA256 != want.SHA256:
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, manifest says %s", want.Path, have.SHA256, want.SHA256))
		}
	}
	for name := range got {
		if !listed[name] {
			problems = append(problems, name+": not listed in the manifest")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, corrupt("%s", strings.Join(problems, "; "))
	}
	return &m, nil
}

// Extract verifies the archive while writing its members below dir (which
// must exist). A member that fails its checksum fails the extraction; the
// caller removes dir.
func Extract(ctx context.Context, file, dir string) (*Manifest, error) {
	return walkArchive(ctx, file, func(name string, r io.Reader) error {
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, r)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		return nil
	})
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
