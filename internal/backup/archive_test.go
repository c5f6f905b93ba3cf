package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// writeTestArchive builds an archive with the real writer.
func writeTestArchive(t *testing.T, members map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	aw := newArchiveWriter(f, time.Unix(0, 0))
	for _, name := range []string{"prometheus/snapshot/01ABC/meta.json", "alertmanager/silences.json", "config/prometheus/prometheus.yml"} {
		if body, ok := members[name]; ok {
			if err := aw.addBytes(context.Background(), name, []byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := aw.finish(context.Background(), &Manifest{Format: Format, Tool: "investiq-mon"}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// rewrite copies an archive member by member through edit, which may
// change a member's body or drop it (nil), and may append extra members.
func rewrite(t *testing.T, src string, edit func(name string, body []byte) []byte, extra map[string]string) string {
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
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	put := func(name string, body []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if b := edit(hdr.Name, body); b != nil {
			put(hdr.Name, b)
		}
	}
	for name, body := range extra {
		put(name, []byte(body))
	}
	tw.Close()
	gw.Close()
	dst := filepath.Join(t.TempDir(), "edited.tar.gz")
	if err := os.WriteFile(dst, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

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
		data[len(data)/2] ^= 0x40
		p := path + ".flipped"
		os.WriteFile(p, data, 0o600)
		return p
	}
	tests := []struct {
		name    string
		archive func() string
		want    string // in the error; "" means valid
	}{
		{"an archive as written verifies", func() string { return good }, ""},
		{"one byte flipped in the compressed stream is caught", func() string { return flipByte(good) }, "archive failed verification"},
		{"a changed member fails its checksum", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "alertmanager/silences.json" {
					return []byte(`[{}]`)
				}
				return b
			}, nil)
		}, "alertmanager/silences.json: 4 bytes, manifest says 2"},
		{"a same-size change fails the sha256", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "config/prometheus/prometheus.yml" {
					return []byte("global: []\n")
				}
				return b
			}, nil)
		}, "config/prometheus/prometheus.yml: sha256"},
		{"a missing member is named", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == "alertmanager/silences.json" {
					return nil
				}
				return b
			}, nil)
		}, "alertmanager/silences.json: listed in the manifest but missing"},
		{"an extra member is refused", func() string {
			return rewrite(t, good, keep, map[string]string{"prometheus/snapshot/01XYZ/index": "x"})
		}, "prometheus/snapshot/01XYZ/index: not listed in the manifest"},
		{"a member escaping the extraction dir is refused", func() string {
			return rewrite(t, good, keep, map[string]string{"../evil": "x"})
		}, `unsafe archive member name "../evil"`},
		{"no manifest: not a backup", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == ManifestName {
					return nil
				}
				return b
			}, nil)
		}, "no manifest.json"},
		{"an unknown format is refused", func() string {
			return rewrite(t, good, func(n string, b []byte) []byte {
				if n == ManifestName {
					return bytes.Replace(b, []byte(`"format": 1`), []byte(`"format": 9`), 1)
				}
				return b
			}, nil)
		}, "format 9"},
		{"a file that is not gzip is refused", func() string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("hello"), 0o600)
			return p
		}, "not a gzip file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Verify(context.Background(), tt.archive())
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Files) != 3 {
					t.Errorf("manifest lists %d files, want 3", len(m.Files))
				}
				return
			}
			if err == nil || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v; want ErrCorrupt mentioning %q", err, tt.want)
			}
		})
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
