package settings_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/investiq/investiq-mon/internal/settings"
	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// FuzzSettings: the settings file (investiq-mon.yaml), as every command
// reads it. Beyond "no panic", like the other targets: the same input
// gives the same verdict twice, and every problem names a position inside
// the input (a line no further than its last, a column no further than
// its longest line). A file that is accepted builds a spec.
func FuzzSettings(f *testing.F) {
	// The project's own settings files: the committed one, and those of
	// the CLI scripts.
	if data, err := os.ReadFile("../../monitoring/" + settings.FileName); err == nil {
		f.Add(data)
	}
	scripts, _ := filepath.Glob("../../cmd/investiq-mon/testdata/script/*.txtar")
	for _, s := range scripts {
		ar, err := txtar.ParseFile(s)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".yaml") {
				f.Add(file.Data)
			}
		}
	}
	for _, s := range []string{
		"retention: 30d\nretension: 30d\n",
		"retention: 0s\nml_address: ml\npublish_address: localhost\n",
		"ports:\n  prometheus: 9000\n  grafana: 9000\n",
		"ports:\n  prometheus: high\n",
		"- retention: 30d\n",
		"retention: [30d\n",
		"retention: 30d", // no final newline
		"  000: \n  0",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
		strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n",
		"ports: {prometheus: 99999999999999999999}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set1, err1 := settings.Parse("s.yaml", data)
		set2, err2 := settings.Parse("s.yaml", data)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) || set1 != set2 {
			t.Fatalf("unstable verdict: %v / %+v, then %v / %+v", err1, set1, err2, set2)
		}
		if err1 == nil {
			spec.InvestIQ(set1)
			return
		}
		var se *settings.Error
		if !errors.As(err1, &se) {
			t.Fatalf("not a *settings.Error: %v", err1)
		}
		if len(se.Problems) == 0 {
			t.Fatalf("an error with no problem: %v", err1)
		}
		lines, longest := testutil.YAMLExtent(data)
		for _, p := range se.Problems {
			if p.Line < 0 || p.Line > lines || p.Col < 0 || p.Col > longest+1 {
				t.Errorf("problem at %d:%d, outside the input (%d lines, the longest %d bytes): %s", p.Line, p.Col, lines, longest, p.Message)
			}
			if p.Message == "" {
				t.Errorf("problem at %d:%d without a message", p.Line, p.Col)
			}
		}
	})
}
