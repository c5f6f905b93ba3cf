package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/investiq/investiq-mon/internal/backup"
	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/internal/testutil"
)

// Issue 18 item 2 and issue 17 (bounded resources), as an attacker who
// can write an archive but not read .env would try them: each archive is
// refused by `backup verify` or `restore --yes` before anything changes.
// The archives are built here, byte by byte where Go's tar writer would
// not write them, and are small on disk.

// hostileStack is a generated stack dir and a local state dir with data
// that must survive every refused restore.
type hostileStack struct {
	t          *testing.T
	dir, state string
	key        []byte
}

func newHostileStack(t *testing.T) *hostileStack {
	t.Helper()
	root := t.TempDir()
	h := &hostileStack{t: t, dir: filepath.Join(root, "monitoring"), state: filepath.Join(root, "st")}
	if code, _, errOut := h.run("generate", "--dir", h.dir); code != 0 {
		t.Fatalf("generate: %s", errOut)
	}
	env, err := secrets.Load(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	h.key = []byte(env.Get("INVESTIQ_BACKUP_KEY"))
	for p, body := range map[string]string{
		"state.json":                     `{"backend": "local", "prometheus": "http://127.0.0.1:1", "alertmanager": "http://127.0.0.1:1"}`,
		"data/prometheus/01OLD/marker":   "live data",
		"data/alertmanager/silences":     "live silences",
		"data/alertmanager/nflog":        "live nflog",
		"data/prometheus/chunks_head/x1": "head",
	} {
		p = filepath.Join(h.state, p)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *hostileStack) run(args ...string) (int, string, string) {
	var out, errOut testutil.LockedBuffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return Main(context.Background(), args, f), out.String(), errOut.String()
}

// tree lists every file under the state dir with its content.
func (h *hostileStack) tree() []string {
	var out []string
	filepath.Walk(h.state, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(h.state, p)
			if rel == StateLockName && len(data) == 0 {
				return nil // a released stack lock (lock.go): no data, no record
			}
			out = append(out, rel+"="+string(data))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// manifest lists members (name -> size, sha256) in a format-current
// manifest; realSize overrides a member's listed size and sum with those
// of size zero bytes followed by its body (what a sparse member expands
// to).
type listed struct {
	name string
	body []byte
	// expandsTo, when set, is the size the member really has once
	// expanded: zeros, then body.
	expandsTo int64
	// size, when set, is what the manifest lists whatever the body.
	size int64
}

func manifestJSON(t *testing.T, members ...listed) []byte {
	t.Helper()
	type member struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	}
	m := map[string]any{"format": backup.Format, "tool": "investiq-mon", "created": time.Unix(0, 0).UTC(), "backend": "local",
		"components": []map[string]any{{"name": "alertmanager", "status": "saved"}}}
	var files []member
	for _, l := range members {
		h := sha256.New()
		size := int64(len(l.body))
		if l.expandsTo > 0 {
			zero := make([]byte, 1<<20)
			for n := l.expandsTo - int64(len(l.body)); n > 0; n -= int64(len(zero)) {
				h.Write(zero[:min(n, int64(len(zero)))])
			}
			size = l.expandsTo
		}
		h.Write(l.body)
		if l.size > 0 {
			size = l.size
		}
		files = append(files, member{l.name, size, hex.EncodeToString(h.Sum(nil))})
	}
	m["files"] = files
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// signature is manifest.sig for manifest with key, as the archive format
// defines it: HMAC-SHA256 over a fixed prefix and the manifest's bytes.
func signature(key, manifest []byte) []byte {
	id := hmac.New(sha256.New, key)
	id.Write([]byte("investiq-mon backup key id"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("investiq-mon backup manifest v2\n"))
	m.Write(manifest)
	data, _ := json.Marshal(map[string]string{"algorithm": "HMAC-SHA256", "keyId": hex.EncodeToString(id.Sum(nil))[:16], "mac": hex.EncodeToString(m.Sum(nil))})
	return data
}

type tarBuf struct {
	t  *testing.T
	b  bytes.Buffer
	tw *tar.Writer
}

func newTarBuf(t *testing.T) *tarBuf {
	tb := &tarBuf{t: t}
	tb.tw = tar.NewWriter(&tb.b)
	return tb
}

func (tb *tarBuf) file(name string, body []byte) *tarBuf {
	if err := tb.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		tb.t.Fatal(err)
	}
	tb.tw.Write(body)
	tb.tw.Flush()
	return tb
}

// raw appends hand-written tar blocks.
func (tb *tarBuf) raw(b []byte) *tarBuf { tb.b.Write(b); return tb }

// write gzips the blocks, the end-of-archive blocks, and tail.
func (tb *tarBuf) write(tail []byte) string {
	p := filepath.Join(tb.t.TempDir(), "archive.tar.gz")
	var out bytes.Buffer
	gz := gzip.NewWriter(&out)
	gz.Write(tb.b.Bytes())
	gz.Write(make([]byte, 1024))
	gz.Close()
	out.Write(tail)
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		tb.t.Fatal(err)
	}
	return p
}

// header is a ustar header block with its checksum, for what Go's tar
// writer refuses to write.
func header(name string, typeflag byte, size int64) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000600\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:], "ustar\x0000")
	copy(h[148:], "        ")
	sum := 0
	for _, b := range h {
		sum += int(b)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

func padded(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// paxSparse is a PAX GNU sparse 0.1 member: realSize bytes of which only
// body, at the end, is stored.
func paxSparse(name string, body []byte, realSize int64) []byte {
	var recs string
	for _, kv := range [][2]string{{"GNU.sparse.major", "0"}, {"GNU.sparse.minor", "1"}, {"GNU.sparse.name", name},
		{"GNU.sparse.size", fmt.Sprint(realSize)}, {"GNU.sparse.numblocks", "1"},
		{"GNU.sparse.map", fmt.Sprintf("%d,%d", realSize-int64(len(body)), len(body))}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 2
		for len(fmt.Sprint(n))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		recs += fmt.Sprint(n) + rec
	}
	out := append(header("PaxHeaders/0", 'x', int64(len(recs))), padded([]byte(recs))...)
	out = append(out, header(name, '0', int64(len(body)))...)
	return append(out, padded(body)...)
}

// zeroStreams is n gzip streams of size zero bytes each: appended to an
// archive, gzip readers read them as its continuation.
func zeroStreams(size, n int) []byte {
	var one bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < size>>20; i++ {
		gz.Write(zero)
	}
	gz.Close()
	return bytes.Repeat(one.Bytes(), n)
}

func TestHostileArchivesAreRefused(t *testing.T) {
	h := newHostileStack(t)
	silence := []byte(`[{"id":"0","matchers":[{"name":"alertname","value":".+","isRegex":true,"isEqual":true}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"ops","comment":"maintenance"}]`)
	signed := func(m []byte) *tarBuf {
		return newTarBuf(t).file(backup.ManifestName, m).file("manifest.sig", signature(h.key, m))
	}
	junkBlock := "prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ"
	junk := map[string][]byte{junkBlock + "/meta.json": []byte(`{"ulid":"01HZZZZZZZZZZZZZZZZZZZZZZZ","version":1}`),
		junkBlock + "/index": []byte("not an index"), junkBlock + "/chunks/000001": []byte("junk")}
	var junkListed []listed
	for _, n := range []string{junkBlock + "/chunks/000001", junkBlock + "/index", junkBlock + "/meta.json"} {
		junkListed = append(junkListed, listed{name: n, body: junk[n]})
	}
	junkArchive := signed(manifestJSON(t, junkListed...))
	for _, l := range junkListed {
		junkArchive.file(l.name, l.body)
	}

	tests := []struct {
		name    string
		archive string
		// verifyWant is in verify's stderr, restoreWant in restore's
		// (verify passes when verifyWant is empty).
		verifyWant, restoreWant string
	}{
		{
			"a hand-made unsigned archive with a silence that mutes every alert",
			newTarBuf(t).file(backup.ManifestName, manifestJSON(t, listed{name: "alertmanager/silences.json", body: silence})).
				file("alertmanager/silences.json", silence).write(nil),
			"archive is not authenticated: it has no manifest.sig", "archive is not authenticated",
		},
		{
			"a signed archive whose manifest was edited afterwards",
			newTarBuf(t).file(backup.ManifestName, manifestJSON(t, listed{name: "alertmanager/silences.json", body: silence})).
				file("manifest.sig", signature(h.key, []byte("the manifest as it was"))).
				file("alertmanager/silences.json", silence).write(nil),
			"the signature does not match the manifest", "the signature does not match the manifest",
		},
		{
			"a PAX-sparse member whose manifest honestly lists its 256 MiB",
			signed(manifestJSON(t, listed{name: "prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001", body: []byte("data"), expandsTo: 256 << 20})).
				raw(paxSparse("prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001", []byte("data"), 256<<20)).write(nil),
			"a sparse file: refused", "a sparse file: refused",
		},
		{
			"a signed archive whose snapshot is not a TSDB block",
			junkArchive.write(nil),
			"", "not a set of valid TSDB blocks",
		},
		{
			"a gzip bomb: 8 GiB of zeros after the end, a few MB on disk",
			signed(manifestJSON(t, listed{name: "alertmanager/silences.json", body: silence})).
				file("alertmanager/silences.json", silence).write(zeroStreams(64<<20, 128)),
			"gzip bomb", "gzip bomb",
		},
		{
			"a signed manifest listing more than the disk holds",
			signed(manifestJSON(t, listed{name: "prometheus/snapshot/01HZZZZZZZZZZZZZZZZZZZZZZZ/chunks/000001", size: 512 << 40})).write(nil),
			"", "not enough free space to unpack the archive: it unpacks to 512.0 TiB",
		},
	}
	before := h.tree()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fi, err := os.Stat(tt.archive); err != nil || fi.Size() > 16<<20 {
				t.Fatalf("archive: %v, %d bytes; the test wants a small one", err, fi.Size())
			}
			code, out, errOut := h.run("backup", "verify", tt.archive, "--dir", h.dir)
			if tt.verifyWant != "" && (code != ExitError || !strings.Contains(errOut, tt.verifyWant)) {
				t.Errorf("backup verify: exit %d, stdout %q\nstderr %s\nwant exit 1 saying %q", code, out, errOut, tt.verifyWant)
			}
			code, _, errOut = h.run("restore", tt.archive, "--yes", "--dir", h.dir, "--state", h.state)
			if code != ExitError || !strings.Contains(errOut, tt.restoreWant) || !strings.Contains(errOut, "nothing was changed") {
				t.Errorf("restore: exit %d\n%s\nwant exit 1 saying %q and that nothing was changed", code, errOut, tt.restoreWant)
			}
			if strings.Contains(errOut, "stopping") {
				t.Errorf("restore stopped a server:\n%s", errOut)
			}
			if after := h.tree(); !slices.Equal(after, before) {
				t.Errorf("the state dir changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}

	t.Run("an archive from another machine needs that machine's key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "old-machine.env")
		otherKey := []byte("old-machine-key-0123456789-abcdefghijklmnopq")
		os.WriteFile(other, []byte("INVESTIQ_STACK_USER=investiq\nINVESTIQ_BACKUP_KEY="+string(otherKey)+"\n"), 0o600)
		m := manifestJSON(t, listed{name: "alertmanager/silences.json", body: silence})
		archive := newTarBuf(t).file(backup.ManifestName, m).file("manifest.sig", signature(otherKey, m)).
			file("alertmanager/silences.json", silence).write(nil)
		code, _, errOut := h.run("backup", "verify", archive, "--dir", h.dir)
		if code != ExitError || !strings.Contains(errOut, "signed with key "+backup.KeyID(otherKey)) || !strings.Contains(errOut, "--key-file") {
			t.Errorf("verify with this machine's key: exit %d\n%s", code, errOut)
		}
		if strings.Contains(errOut, string(otherKey)) || strings.Contains(errOut, string(h.key)) {
			t.Error("an error shows a key")
		}
		code, out, errOut := h.run("backup", "verify", archive, "--dir", h.dir, "--key-file", other)
		if code != 0 || !strings.Contains(out, "signed with key "+backup.KeyID(otherKey)) {
			t.Errorf("verify --key-file: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("--allow-unsigned reads an unsigned archive and says so loudly", func(t *testing.T) {
		archive := newTarBuf(t).file(backup.ManifestName, manifestJSON(t, listed{name: "alertmanager/silences.json", body: silence})).
			file("alertmanager/silences.json", silence).write(nil)
		code, out, errOut := h.run("backup", "verify", archive, "--dir", h.dir, "--allow-unsigned")
		if code != 0 || !strings.Contains(errOut, "WARNING: --allow-unsigned: this archive is NOT authenticated") || !strings.Contains(out, "NOT authenticated") {
			t.Errorf("verify --allow-unsigned: exit %d\nstdout %s\nstderr %s", code, out, errOut)
		}
	})
}
