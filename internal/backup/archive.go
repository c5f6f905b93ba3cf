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

	"github.com/investiq/investiq-mon/internal/textsafe"
)

// ManifestName is the archive member describing the others. It is the
// first member, followed by its signature (SignatureName), so a reader
// knows and has authenticated every member's name, size and sha256
// before it reads one byte of them.
const ManifestName = "manifest.json"

// Format is the archive layout version; the reader refuses any other.
// Format 1 (investiq-mon before signed archives) had its manifest last
// and no signature.
const Format = 2

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
	// dirDataFiles, under a component's name, holds the DataFiles of a
	// component saved with spec.BackupFiles.
	dirDataFiles = "files"
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
	// Auth is what the reader found out about the archive's origin;
	// never serialised.
	Auth Authenticity `json:"-"`
}

// Total is the sum of the members' sizes: what the archive unpacks to.
func (m *Manifest) Total() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
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

// ErrOversize is an archive that holds or expands to more than its
// manifest lists (a gzip bomb, a sparse or lying member); it also wraps
// ErrCorrupt.
var ErrOversize = errors.New("archive expands beyond what its manifest lists")

// archiveWriter streams members into a tar.gz and remembers their sums.
// The members go to a temporary body file first: the manifest, which
// comes first in the archive, is only known once they are all written.
// finish then writes the manifest and its signature as one gzip stream
// and appends the body's gzip stream after it; gzip readers (Go's, gzip
// -d, tar xz) read concatenated streams as one.
type archiveWriter struct {
	body    *os.File
	gz      *gzip.Writer
	tw      *tar.Writer
	modTime time.Time
	members []Member
	seen    map[string]bool
}

// newArchiveWriter starts an archive; its body waits in a hidden file in
// tmpDir (beside the output, so a large backup does not fill /tmp) that
// finish or abort removes.
func newArchiveWriter(tmpDir string, modTime time.Time) (*archiveWriter, error) {
	body, err := os.CreateTemp(tmpDir, ".investiq-backup-body-*")
	if err != nil {
		return nil, err
	}
	gz := gzip.NewWriter(body)
	return &archiveWriter{body: body, gz: gz, tw: tar.NewWriter(gz), modTime: modTime, seen: map[string]bool{}}, nil
}

// abort removes the body file.
func (a *archiveWriter) abort() {
	a.body.Close()
	os.Remove(a.body.Name())
}

// add writes one member of the given size from r, checking ctx between
// reads so a cancelled backup stops promptly.
func (a *archiveWriter) add(ctx context.Context, name string, size int64, r io.Reader, progress io.Writer) error {
	if err := checkName(name); err != nil {
		return err
	}
	if name == ManifestName || name == SignatureName {
		return fmt.Errorf("archive member %s: reserved name", name)
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

// finish writes the archive to out: the manifest (with every member's
// sum) and its signature with key first, then the members. It removes
// the body file.
func (a *archiveWriter) finish(ctx context.Context, out io.Writer, m *Manifest, key []byte) error {
	defer a.abort()
	if err := a.tw.Close(); err != nil {
		return err
	}
	if err := a.gz.Close(); err != nil {
		return err
	}
	m.Files = slices.Clone(a.members)
	slices.SortFunc(m.Files, func(x, y Member) int { return strings.Compare(x.Path, y.Path) })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	sig, err := sign(key, data)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	for _, mem := range []struct {
		name string
		data []byte
	}{{ManifestName, data}, {SignatureName, sig}} {
		hdr := &tar.Header{Name: mem.name, Mode: 0o600, Size: int64(len(mem.data)), ModTime: a.modTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(mem.data); err != nil {
			return err
		}
	}
	// Flush, not Close: the end-of-archive blocks come at the end of the
	// body, which continues this tar stream.
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	if _, err := a.body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(out, ctxReader{ctx, a.body})
	return err
}

// checkName refuses member names that could escape the directory they are
// extracted into, or that a tar tool would treat specially.
func checkName(name string) error {
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == "." || strings.HasPrefix(name, "../") || name == ".." || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("unsafe archive member name %q", name)
	}
	return nil
}

// Bounds of what a reader accepts.
const (
	// maxManifest bounds the manifest read into memory (about 150,000
	// members); maxSignature the signature.
	maxManifest  = 32 << 20
	maxSignature = 4 << 10
	// maxMember and maxTotal refuse sizes no backup has, before any
	// arithmetic on them can overflow.
	maxMember = 1 << 50
	maxTotal  = 1 << 52
	blockSize = 512
)

// Verify checks an archive's authenticity, structure and every checksum
// without writing anything: a readable gzip stream (its CRC included),
// the manifest first and signed with trust.Key (unless
// trust.AllowUnsigned), only regular files with safe names, every member
// listed in the manifest, at the size it lists, with its sha256, and
// nothing else. The decompressed stream may not be larger than the
// manifest's total plus the tar headers: a gzip bomb stops as soon as
// it passes that. Problems are wrapped in ErrCorrupt or
// ErrUnauthenticated.
func Verify(ctx context.Context, file string, trust Trust) (*Manifest, error) {
	return walkArchive(ctx, file, trust, walkHooks{})
}

// Inspect reads and authenticates only the manifest: what a restore
// needs to know before it reads the members (their total, for the free
// space check).
func Inspect(ctx context.Context, file string, trust Trust) (*Manifest, error) {
	var got *Manifest
	_, err := walkArchive(ctx, file, trust, walkHooks{manifest: func(m *Manifest) error {
		got = m
		return errStop
	}})
	if errors.Is(err, errStop) {
		return got, nil
	}
	return nil, err
}

var errStop = errors.New("stop")

// walkHooks let callers act during the walk: manifest runs once the
// manifest is authenticated and checked, before any member is read (an
// error stops the walk); extract gets every member's content, never more
// than the manifest lists (the checksums are only known at the end: a
// caller extracting must discard its output when the walk fails).
type walkHooks struct {
	manifest func(*Manifest) error
	extract  func(name string, r io.Reader) error
}

// walkArchive reads the archive as Verify describes.
func walkArchive(ctx context.Context, file string, trust Trust, hooks walkHooks) (*Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", file, ErrCorrupt, fmt.Sprintf(format, args...))
	}
	oversize := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %w: %s", file, ErrCorrupt, ErrOversize, fmt.Sprintf(format, args...))
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, corrupt("not a gzip file: %v", err)
	}
	// Until the manifest is read, only it and its signature may come.
	bound := &boundReader{r: ctxReader{ctx, gz}, limit: maxManifest + maxSignature + 16*blockSize}
	tr := tar.NewReader(bound)
	readErr := func(what string, err error) error {
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errBound):
			return oversize("%s: the archive decompresses to more than the %d bytes its manifest allows for: refused (a gzip bomb, or not an investiq-mon backup)", what, bound.limit)
		}
		return corrupt("%s: %v", what, err)
	}
	next := func() (*tar.Header, error) {
		hdr, err := tr.Next()
		if err != nil {
			return nil, err
		}
		return hdr, checkHeader(hdr)
	}

	// 1. The manifest, first.
	hdr, err := next()
	switch {
	case errors.Is(err, io.EOF):
		return nil, corrupt("no %s: not an investiq-mon backup, or cut short", ManifestName)
	case err != nil && hdr == nil:
		return nil, readErr("reading the archive", err)
	case err != nil:
		return nil, corrupt("%v", err)
	case hdr.Name != ManifestName:
		return nil, corrupt("no %s at the start (the first member is %s): not an investiq-mon backup of format %d; an archive written by an investiq-mon before %d needs that version to read it", ManifestName, textsafe.Line(hdr.Name), Format, Format)
	case hdr.Size > maxManifest:
		return nil, oversize("%s declares %d bytes, more than the %d a manifest may have", ManifestName, hdr.Size, maxManifest)
	}
	manifestData, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
	if err != nil {
		return nil, readErr("reading "+ManifestName, err)
	}

	// 2. Its signature, if any; without one the first member follows.
	var sigData []byte
	hdr, err = next()
	var pending *tar.Header
	switch {
	case errors.Is(err, io.EOF):
	case err != nil && hdr == nil:
		return nil, readErr("reading the archive", err)
	case err != nil:
		return nil, corrupt("%v", err)
	case hdr.Name == SignatureName:
		if hdr.Size > maxSignature {
			return nil, oversize("%s declares %d bytes, more than the %d a signature may have", SignatureName, hdr.Size, maxSignature)
		}
		if sigData, err = io.ReadAll(io.LimitReader(tr, hdr.Size)); err != nil {
			return nil, readErr("reading "+SignatureName, err)
		}
	default:
		pending = hdr
	}

	// 3. Authenticate before trusting anything the manifest says.
	auth, authErr := authenticate(trust, manifestData, sigData)
	if authErr != nil && !trust.AllowUnsigned {
		return nil, fmt.Errorf("%s: %w (--allow-unsigned reads it anyway, checking its structure and checksums only)", file, authErr)
	}
	auth.Problem = authErr
	var m Manifest
	if err := json.Unmarshal(manifestData, &m); err != nil {
		return nil, corrupt("%s: %v", ManifestName, err)
	}
	m.Auth = auth
	if m.Format != Format {
		return nil, corrupt("%s: format %d, this investiq-mon reads format %d", ManifestName, m.Format, Format)
	}
	listed, err := checkManifest(&m)
	if err != nil {
		return nil, corrupt("%s: %v", ManifestName, err)
	}
	if hooks.manifest != nil {
		if err := hooks.manifest(&m); err != nil {
			return nil, err
		}
	}

	// 4. The members: each listed, at its listed size, read no further.
	bound.limit = bound.n + streamAllowance(&m)
	got := map[string]bool{}
	var problems []string
	for {
		if pending != nil {
			hdr, err, pending = pending, nil, nil
		} else {
			hdr, err = next()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && hdr == nil {
			return nil, readErr("reading the archive", err)
		}
		if err != nil {
			return nil, corrupt("%v", err)
		}
		want, ok := listed[hdr.Name]
		switch {
		case hdr.Name == ManifestName || hdr.Name == SignatureName || got[hdr.Name]:
			return nil, corrupt("%s: appears twice", textsafe.Line(hdr.Name))
		case !ok:
			return nil, corrupt("%s: not listed in the manifest: refused before reading it", textsafe.Line(hdr.Name))
		case hdr.Size > want.Size:
			return nil, oversize("%s: %d bytes, manifest says %d: refused before reading it", textsafe.Line(hdr.Name), hdr.Size, want.Size)
		}
		got[hdr.Name] = true
		h := sha256.New()
		cr := &countReader{r: io.TeeReader(io.LimitReader(tr, want.Size), h)}
		if hooks.extract != nil {
			if err := hooks.extract(hdr.Name, cr); err != nil {
				if errors.Is(err, errBound) || errors.Is(err, io.ErrUnexpectedEOF) || ctx.Err() != nil {
					return nil, readErr("reading "+textsafe.Line(hdr.Name), err)
				}
				return nil, err
			}
		}
		// Drain what extract left, so the sum covers the whole member.
		if _, err := io.Copy(io.Discard, cr); err != nil {
			return nil, readErr("reading "+textsafe.Line(hdr.Name), err)
		}
		switch sum := hex.EncodeToString(h.Sum(nil)); {
		case cr.n != want.Size:
			problems = append(problems, fmt.Sprintf("%s: %d bytes, manifest says %d", want.Path, cr.n, want.Size))
		case sum != want.SHA256:
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, manifest says %s", want.Path, sum, want.SHA256))
		}
	}
	// tar stops at its end-of-archive blocks, before gzip has read its
	// trailer: read the rest so gzip checks its CRC and length too. A
	// flipped byte anywhere in the file fails here at the latest, and a
	// bomb appended after the end stops at the bound.
	if _, err := io.Copy(io.Discard, bound); err != nil {
		if errors.Is(err, errBound) || ctx.Err() != nil {
			return nil, readErr("after the last member", err)
		}
		return nil, corrupt("gzip stream: %v", err)
	}
	for _, want := range m.Files {
		if !got[want.Path] {
			problems = append(problems, want.Path+": listed in the manifest but missing")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, corrupt("%s", strings.Join(problems, "; "))
	}
	return &m, nil
}

// checkHeader refuses every member that is not a plain regular file:
// links (which could point outside the restore directory), devices,
// fifos, directories, and sparse files (whose holes expand to any size
// from a few bytes).
func checkHeader(hdr *tar.Header) error {
	name := textsafe.Line(hdr.Name)
	if err := checkName(hdr.Name); err != nil {
		return fmt.Errorf("%s", textsafe.Line(err.Error()))
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("%s: a sparse file: refused (its holes would expand when extracted)", name)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		if hdr.Size < 0 || hdr.Size > maxMember {
			return fmt.Errorf("%s: declares %d bytes: refused", name, hdr.Size)
		}
		return nil
	case tar.TypeGNUSparse:
		return fmt.Errorf("%s: a sparse file: refused (its holes would expand when extracted)", name)
	case tar.TypeLink, tar.TypeSymlink:
		return fmt.Errorf("%s: a link to %s: refused, a backup holds only regular files", name, textsafe.Line(hdr.Linkname))
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return fmt.Errorf("%s: a device or fifo: refused, a backup holds only regular files", name)
	}
	return fmt.Errorf("%s: not a regular file (type %q): refused", name, hdr.Typeflag)
}

// checkManifest checks the member list before anything relies on it and
// returns it by name.
func checkManifest(m *Manifest) (map[string]Member, error) {
	listed := map[string]Member{}
	var total int64
	for _, f := range m.Files {
		switch {
		case checkName(f.Path) != nil:
			return nil, fmt.Errorf("unsafe member name %q", f.Path)
		case f.Path == ManifestName || f.Path == SignatureName:
			return nil, fmt.Errorf("lists itself (%s)", f.Path)
		case listed[f.Path] != Member{}:
			return nil, fmt.Errorf("lists %s twice", textsafe.Line(f.Path))
		case f.Size < 0 || f.Size > maxMember:
			return nil, fmt.Errorf("%s: size %d", textsafe.Line(f.Path), f.Size)
		case len(f.SHA256) != 2*sha256.Size || !isHex(f.SHA256):
			return nil, fmt.Errorf("%s: not a sha256", textsafe.Line(f.Path))
		}
		listed[f.Path] = f
		if total += f.Size; total > maxTotal {
			return nil, fmt.Errorf("members total more than %d bytes", int64(maxTotal))
		}
	}
	return listed, nil
}

// streamAllowance is how many decompressed bytes the members may take:
// their sizes rounded up to tar blocks, plus per member its header and
// a PAX header with its name, plus the end of the archive and the
// record padding other tar writers add.
func streamAllowance(m *Manifest) int64 {
	n := int64(2*blockSize + 20*blockSize)
	for _, f := range m.Files {
		n += roundBlock(f.Size) + 2*blockSize + roundBlock(int64(2*len(f.Path)+256))
	}
	return n
}

func roundBlock(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// errBound is a read past a boundReader's limit.
var errBound = errors.New("read past the bound")

// boundReader fails once more than limit bytes would be read: a stream
// that is exactly limit bytes long reads to its EOF.
type boundReader struct {
	r        io.Reader
	n, limit int64
}

func (b *boundReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.n >= b.limit {
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, errBound
		}
		return 0, err
	}
	if rest := b.limit - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// Extract verifies the archive while writing its members below dir (which
// must exist). A member that fails its checksum fails the extraction; the
// caller removes dir. No member is written beyond the size its manifest
// lists.
func Extract(ctx context.Context, file, dir string, trust Trust) (*Manifest, error) {
	return walkArchive(ctx, file, trust, walkHooks{extract: func(name string, r io.Reader) error {
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
	}})
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
