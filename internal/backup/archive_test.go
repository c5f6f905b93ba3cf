package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	good := writeTestArchive(t, map[string]string{
		"prometheus/snapshot/01ABC/meta.json": `{"ulid":"01ABC"}`,
		"alertmanager/silences.json":          `[]`,
		"config/prometheus/prometheus.yml":    "global: {}\n",
	})
	keep := func(_ string, b []byte) []byte { return b }
	flipByte := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-20] ^= 0x40 // in the members' stream
		p := path + ".flipped"
		os.WriteFile(p, data, 0o600)
		return p
	}
	tests := []struct {
		name    string
		archive func() string
		want    string // in the error; "" means valid
		sentry  error
	}{
		{"an archive as written verifies", func() string { return good }, "", nil},
		{"one byte flipped in the members' compressed stream is caught", func() string { return flipByte(good) }, "archive failed verification", ErrCorrupt},
		{"a changed member fails its checksum", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "alertmanager/silences.json" {
					return []byte(`[{}]`)
				}
				return b
			}, nil, false)
		}, "alertmanager/silences.json: 4 bytes, manifest says 2", ErrCorrupt},
		{"a same-size change fails the sha256", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "config/prometheus/prometheus.yml" {
					return []byte("global: []\n")
				}
				return b
			}, nil, false)
		}, "config/prometheus/prometheus.yml: sha256", ErrCorrupt},
		{"a missing member is named", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "alertmanager/silences.json" {
					return nil
				}
				return b
			}, nil, false)
		}, "alertmanager/silences.json: listed in the manifest but missing", ErrCorrupt},
		{"an extra member is refused", func() string {
			return rewrite(t, good, keep, map[string]string{"prometheus/snapshot/01XYZ/index": "x"}, false)
		}, "prometheus/snapshot/01XYZ/index: not listed in the manifest", ErrCorrupt},
		{"a member escaping the extraction dir is refused", func() string {
			return rewrite(t, good, keep, map[string]string{"../evil": "x"}, false)
		}, `unsafe archive member name "../evil"`, ErrCorrupt},
		{"no manifest: not a backup", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == ManifestName {
					return nil
				}
				return b
			}, nil, false)
		}, "no manifest.json", ErrCorrupt},
		{"an unknown format is refused, even signed", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == ManifestName {
					return bytes.Replace(b, []byte(`"format": 2`), []byte(`"format": 9`), 1)
				}
				return b
			}, nil, true)
		}, "format 9", ErrCorrupt},
		{"a file that is not gzip is refused", func() string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("hello"), 0o600)
			return p
		}, "not a gzip file", ErrCorrupt},
		{"a manifest changed after signing is refused", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == ManifestName {
					return bytes.Replace(b, []byte(`"tool": "investiq-mon"`), []byte(`"tool": "investiq-mom"`), 1)
				}
				return b
			}, nil, false)
		}, "the signature does not match the manifest", ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Verify(context.Background(), tt.archive(), testTrust)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Files) != 3 || !m.Auth.Signed || m.Auth.KeyID != KeyID(testKey) {
					t.Errorf("manifest lists %d files, auth %+v; want 3, signed with the test key", len(m.Files), m.Auth)
				}
				return
			}
			if err == nil || !errors.Is(err, tt.sentry) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v; want %v mentioning %q", err, tt.sentry, tt.want)
			}
		})
	}
}

// Issue 18, item 2: archives are authenticated. A hand-made archive
// holding a silence that mutes every alert passed verify and restore
// re-created it.
func TestVerifyRefusesUnauthenticatedArchives(t *testing.T) {
	silence := reg(fileSilences, []byte(`[{"id":"x","matchers":[{"name":"alertname","value":".+","isRegex":true}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"x","comment":"x"}]`))
	handMade := func(key []byte) string {
		return buildArchive(t, append(signedHead(t, manifestFor(silence), key), silence), nil)
	}
	otherKey := []byte("another-machine-key-0123456789-abcdefghijk")
	tests := []struct {
		name, archive string
		trust         Trust
		want          string
	}{
		{"an unsigned archive", handMade(nil), testTrust, "it has no manifest.sig"},
		{"an archive signed with another key names both keys", handMade(otherKey), testTrust, "signed with key " + KeyID(otherKey) + ", and the key in the test is " + KeyID(testKey)},
		{"no key at hand", handMade(testKey), Trust{KeySource: "monitoring/.env"}, "INVESTIQ_BACKUP_KEY is not set in monitoring/.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tt.archive, tt.trust)
			if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v; want ErrUnauthenticated saying %q", err, tt.want)
			}
			for _, k := range [][]byte{testKey, otherKey} {
				if strings.Contains(err.Error(), string(k)) {
					t.Error("the error shows a key")
				}
			}
			// --allow-unsigned reads it, and says it is not authenticated.
			tt.trust.AllowUnsigned = true
			m, err := Verify(context.Background(), tt.archive, tt.trust)
			if err != nil {
				t.Fatalf("with AllowUnsigned: %v", err)
			}
			if m.Auth.Signed || !errors.Is(m.Auth.Problem, ErrUnauthenticated) {
				t.Errorf("Auth = %+v, want unsigned with the reason", m.Auth)
			}
		})
	}
}

// Members that are not plain files are refused by type, whatever the
// manifest says, before their content is read.
func TestVerifyRefusesMembersThatAreNotPlainFiles(t *testing.T) {
	body := []byte("data")
	tests := []struct {
		name string
		hdr  tar.Header
		want string
	}{
		{"a symlink out of the restore directory", tar.Header{Name: "prometheus/snapshot/01ABC/index", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, "a link to /etc/passwd: refused"},
		{"a hard link", tar.Header{Name: "prometheus/snapshot/01ABC/index", Typeflag: tar.TypeLink, Linkname: "../../../../etc/shadow"}, "a link to ../../../../etc/shadow: refused"},
		{"a character device", tar.Header{Name: "prometheus/snapshot/01ABC/index", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}, "a device or fifo: refused"},
		{"a fifo", tar.Header{Name: "prometheus/snapshot/01ABC/index", Typeflag: tar.TypeFifo}, "a device or fifo: refused"},
		{"a directory entry", tar.Header{Name: "prometheus/snapshot/01ABC/index", Typeflag: tar.TypeDir, Mode: 0o700}, "not a regular file (type '5'): refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The manifest honestly lists it, and is signed.
			listed := reg(tt.hdr.Name, body)
			member := rawMember{hdr: tt.hdr}
			if tt.hdr.Typeflag == tar.TypeReg {
				member.body = body
			}
			archive := buildArchive(t, append(signedHead(t, manifestFor(listed), testKey), member), nil)
			var extracted int64
			_, err := walkArchive(context.Background(), archive, testTrust, walkHooks{extract: func(_ string, r io.Reader) error {
				n, err := io.Copy(io.Discard, r)
				extracted += n
				return err
			}})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v; want ErrCorrupt saying %q", err, tt.want)
			}
			if extracted != 0 {
				t.Errorf("%d bytes of the member were handed to extraction", extracted)
			}
		})
	}
}

// Issue 18 item 2: a 566-byte PAX-sparse archive declaring a 2 GiB member
// passed verify, and restore wrote 2 GiB before stopping Prometheus.
func TestVerifyRefusesSparseMembers(t *testing.T) {
	name := "prometheus/snapshot/01ABC/chunks/000001"
	data := []byte("data")
	// Even a manifest that lists the 2 GiB does not make it acceptable.
	listed := Member{Path: name, Size: 2 << 30, SHA256: strings.Repeat("0", 64)}
	m := Manifest{Format: Format, Files: []Member{listed}}
	mdata, _ := json.MarshalIndent(m, "", "  ")
	head := tarBytes(t, signedHead(t, append(mdata, '\n'), testKey))
	archive := buildRawArchive(t, head, paxSparse(name, data, 2<<30))
	if fi, _ := os.Stat(archive); fi.Size() > 2048 {
		t.Fatalf("the sparse archive is %d bytes; want a small one", fi.Size())
	}
	var extracted int64
	_, err := walkArchive(context.Background(), archive, testTrust, walkHooks{extract: func(_ string, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		extracted += n
		return err
	}})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name+": a sparse file: refused") {
		t.Fatalf("Verify: %v; want the sparse member refused", err)
	}
	if extracted != 0 {
		t.Errorf("%d bytes handed to extraction", extracted)
	}
}

// Issue 17, bounded resources: nothing is read past what the manifest
// lists. zeros is a gzip stream of n zero bytes, made once per size.
func TestVerifyBoundsDecompression(t *testing.T) {
	small := reg("config/prometheus/prometheus.yml", []byte("global: {}\n"))
	head := signedHead(t, manifestFor(small), testKey)

	t.Run("a member larger than its manifest lists is cut off at its header", func(t *testing.T) {
		// The tar header says 1 GiB of zeros (1 MB compressed); the
		// manifest lists 11 bytes.
		archive := bigMemberArchive(t, head, small.hdr.Name, 1<<30)
		var extracted int64
		_, err := walkArchive(context.Background(), archive, testTrust, walkHooks{extract: func(_ string, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			extracted += n
			return err
		}})
		if !errors.Is(err, ErrOversize) || !strings.Contains(err.Error(), "1073741824 bytes, manifest says 11: refused before reading it") {
			t.Fatalf("Verify: %v; want ErrOversize", err)
		}
		if extracted != 0 {
			t.Errorf("%d bytes handed to extraction", extracted)
		}
	})

	t.Run("a gzip bomb after the end of the archive is refused at the manifest's total", func(t *testing.T) {
		// 8 GiB of zeros from a few MB on disk: the same small gzip
		// stream of 64 MiB of zeros, appended 128 times (gzip readers
		// read concatenated streams as one).
		archive := buildArchive(t, append(head, small), nil)
		appendZeroStreams(t, archive, 64<<20, 128)
		fi, _ := os.Stat(archive)
		if fi.Size() > 16<<20 {
			t.Fatalf("the bomb is %d bytes on disk; the test wants a small one", fi.Size())
		}
		_, err := Verify(context.Background(), archive, testTrust)
		if !errors.Is(err, ErrOversize) || !strings.Contains(err.Error(), "gzip bomb") {
			t.Fatalf("Verify: %v; want ErrOversize", err)
		}
	})

	t.Run("a manifest declaring 10 GiB is refused at its header", func(t *testing.T) {
		archive := bigMemberArchive(t, nil, ManifestName, 10<<30)
		_, err := Verify(context.Background(), archive, testTrust)
		if !errors.Is(err, ErrOversize) || !strings.Contains(err.Error(), "manifest.json declares 10737418240 bytes") {
			t.Fatalf("Verify: %v; want ErrOversize", err)
		}
	})
}

// bigMemberArchive writes head, then a header for name declaring size
// bytes, then only the first 4 MiB of its zeros.
func bigMemberArchive(t *testing.T, head []rawMember, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, m := range head {
		hdr := m.hdr
		tw.WriteHeader(&hdr)
		tw.Write(m.body)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600, Size: size}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	// The content: only the first 4 MiB are written; a reader that
	// stops at the header never notices, and one that does not stop
	// fails on a short archive instead of hanging the test.
	zero := make([]byte, 1<<20)
	for i := 0; i < 4; i++ {
		gz.Write(zero)
	}
	gz.Close()
	return p
}

// appendZeroStreams appends n gzip streams of size zeros each to file.
func appendZeroStreams(t *testing.T, file string, size, n int) {
	t.Helper()
	var one bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < size>>20; i++ {
		gz.Write(zero)
	}
	gz.Close()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 0; i < n; i++ {
		if _, err := f.Write(one.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExcludedConfig(t *testing.T) {
	for name, excluded := range map[string]bool{
		".env": true, ".env.bak": true, ".env.example": false, "prometheus.yml": false,
		".prometheus.yml.tmp-123": true, "docker-compose.yml": false,
	} {
		if got := excludedConfig(name); got != excluded {
			t.Errorf("excludedConfig(%q) = %v, want %v", name, got, excluded)
		}
	}
}
