package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"

	"github.com/investiq/investiq-mon/spec"
)

// testKey signs the archives the tests write; testTrust checks them.
var (
	testKey   = []byte("test-backup-key-0123456789-abcdefghijklmnop")
	testTrust = Trust{Key: testKey, KeySource: "the test"}
)

// readManifestJSON returns the manifest member's raw text.
func readManifestJSON(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return "", err
		}
		if hdr.Name == ManifestName {
			data, err := io.ReadAll(tr)
			return string(data), err
		}
	}
}

// writeTestArchive builds a signed archive with the real writer, members
// in name order, and returns its path.
func writeTestArchive(t *testing.T, members map[string]string) string {
	t.Helper()
	return writeArchiveWith(t, members, &Manifest{Format: Format, Tool: "investiq-mon"}, testKey)
}

func writeArchiveWith(t *testing.T, members map[string]string, m *Manifest, key []byte) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "a.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	aw, err := newArchiveWriter(dir, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := aw.addBytes(context.Background(), name, []byte(members[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.finish(context.Background(), f, m, key); err != nil {
		t.Fatal(err)
	}
	return p
}

// testBlock writes a real TSDB block (a few series, a few samples each)
// with Prometheus' own block writer and returns its ULID and files by
// slash path inside the block.
func testBlock(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	var series []storage.Series
	for _, route := range []string{"/api/quote", "/api/analyze"} {
		var samples []chunks.Sample
		for i := int64(0); i < 20; i++ {
			samples = append(samples, sample{t: 1_700_000_000_000 + i*15_000, v: float64(i)})
		}
		series = append(series, storage.NewListSeries(labels.FromStrings("__name__", "investiq_http_requests_total", "route", route), samples))
	}
	blockDir, err := tsdb.CreateBlock(series, dir, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err = filepath.WalkDir(blockDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(blockDir, p)
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(blockDir), files
}

// snapshotMembers puts a block's files where an archive keeps them.
func snapshotMembers(ulid string, files map[string]string, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for rel, data := range files {
		into[path.Join(dirSnapshot, ulid, rel)] = data
	}
	return into
}

type sample struct {
	t int64
	v float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) ST() int64                     { return 0 }
func (s sample) F() float64                    { return s.v }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }

// rawMember is one member of a hand-built archive: any header, any body.
type rawMember struct {
	hdr  tar.Header
	body []byte
}

// reg is a regular file member.
func reg(name string, body []byte) rawMember {
	return rawMember{hdr: tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}, body: body}
}

// manifestFor lists the given members (name, body) in a manifest.
func manifestFor(members ...rawMember) []byte {
	m := Manifest{Format: Format, Tool: "investiq-mon", Created: time.Unix(0, 0).UTC()}
	for _, mem := range members {
		sum := sha256.Sum256(mem.body)
		m.Files = append(m.Files, Member{Path: mem.hdr.Name, Size: int64(len(mem.body)), SHA256: hex.EncodeToString(sum[:])})
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	return append(data, '\n')
}

// signedHead is a manifest member and its signature with key (no
// signature when key is nil).
func signedHead(t *testing.T, manifest, key []byte) []rawMember {
	t.Helper()
	out := []rawMember{reg(ManifestName, manifest)}
	if key != nil {
		sig, err := sign(key, manifest)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, reg(SignatureName, sig))
	}
	return out
}

// paxSparse is a member in the PAX GNU sparse format 0.1, written by hand
// (Go's tar writer will not write one): a PAX header whose records say
// the file is realSize bytes, of which only data at the end is stored.
func paxSparse(name string, data []byte, realSize int64) []byte {
	records := ""
	for _, kv := range [][2]string{
		{"GNU.sparse.major", "0"}, {"GNU.sparse.minor", "1"}, {"GNU.sparse.name", name},
		{"GNU.sparse.size", fmt.Sprint(realSize)}, {"GNU.sparse.numblocks", "1"},
		{"GNU.sparse.map", fmt.Sprintf("%d,%d", realSize-int64(len(data)), len(data))},
	} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 1
		for len(fmt.Sprint(n))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		records += fmt.Sprint(n) + rec
	}
	var out []byte
	out = append(out, ustarHeader("PaxHeaders/x", 'x', int64(len(records)))...)
	out = append(out, pad([]byte(records))...)
	out = append(out, ustarHeader(name, '0', int64(len(data)))...)
	out = append(out, pad(data)...)
	return out
}

// ustarHeader is one 512-byte tar header block with its checksum.
func ustarHeader(name string, typeflag byte, size int64) []byte {
	h := make([]byte, blockSize)
	copy(h[0:100], name)
	copy(h[100:108], "0000600\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:263], "ustar\x00")
	copy(h[263:265], "00")
	copy(h[148:156], "        ")
	sum := 0
	for _, b := range h {
		sum += int(b)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

func pad(b []byte) []byte {
	return append(b, make([]byte, roundBlock(int64(len(b)))-int64(len(b)))...)
}

// buildRawArchive gzips tar blocks written by hand, then two zero
// blocks.
func buildRawArchive(t *testing.T, blocks ...[]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "raw.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	for _, b := range blocks {
		gz.Write(b)
	}
	gz.Write(make([]byte, 2*blockSize))
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// tarBytes is members as plain tar blocks, without the end blocks.
func tarBytes(t *testing.T, members []rawMember) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		hdr := m.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.body)
	}
	tw.Flush()
	return b.Bytes()
}

// buildArchive writes members as given, then tail (bytes appended to
// the uncompressed stream after the end of the tar archive, or nil).
func buildArchive(t *testing.T, members []rawMember, tail func(w io.Writer)) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hostile.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		hdr := m.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if len(m.body) > 0 {
			if _, err := tw.Write(m.body); err != nil && !errors.Is(err, tar.ErrWriteTooLong) {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if tail != nil {
		tail(gz)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// rewrite copies an archive member by member through edit, which may
// change a member's body or drop it (nil), and may append extra members.
// With resign, the manifest's signature is made again over the (edited)
// manifest, as someone holding the key could.
func rewrite(t *testing.T, src string, edit func(name string, body []byte) []byte, extra map[string]string, resign bool) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var members []rawMember
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		b := edit(hdr.Name, body)
		if hdr.Name == ManifestName {
			manifest = b
		}
		if hdr.Name == SignatureName && resign && manifest != nil {
			b, _ = sign(testKey, manifest)
		}
		if b != nil {
			members = append(members, reg(hdr.Name, b))
		}
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		members = append(members, reg(n, []byte(extra[n])))
	}
	return buildArchive(t, members, nil)
}

// Stop and Start make DockerFiles a Stack for the tests that drive a
// restore against fake containers; the CLI uses the compose backend.
func (d DockerFiles) Stop(ctx context.Context, component string) (bool, error) {
	c, ok := d.Containers[component]
	if !ok {
		return false, fmt.Errorf("%s: no container configured", component)
	}
	return true, d.run(ctx, "stop", c)
}

func (d DockerFiles) Start(ctx context.Context, component string) error {
	c, ok := d.Containers[component]
	if !ok {
		return fmt.Errorf("%s: no container configured", component)
	}
	return d.run(ctx, "start", c)
}

// ComposeFiles reaches the compose stack's data volumes through its
// containers, with the names and mounts of the spec's topology, as
// FilesOf does from the compose backend (tests build it without one).
func ComposeFiles(s *spec.Spec, docker, tempDir string) DockerFiles {
	d := DockerFiles{
		Docker: docker, TempDir: tempDir,
		Containers: map[string]string{}, DataDirs: map[string]string{},
		Images: map[string]string{}, Owners: map[string]string{},
	}
	for _, c := range s.Components() {
		d.Containers[c.Name], d.DataDirs[c.Name] = c.Container, c.DataMount
		d.Images[c.Name], d.Owners[c.Name] = c.Image, c.Owner
	}
	return d
}
