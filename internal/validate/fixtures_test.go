package validate

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/spec"
)

// wantFinding is one line of testdata/fixtures/want.txt.
type wantFinding struct {
	line     int
	check    string
	severity Severity
}

func readWant(t *testing.T) map[string][]wantFinding {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "fixtures", "want.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]wantFinding{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 4 {
			t.Fatalf("want.txt: %q is not `file line check severity`", line)
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil {
			t.Fatalf("want.txt: %q: %v", line, err)
		}
		want[fields[0]] = append(want[fields[0]], wantFinding{n, fields[2], Severity(fields[3])})
	}
	return want
}

// Good/bad fixture pairs for the kinds the parity corpus does not cover
// (dashboards, provisioning, compose, web configs, rule tests) and for the
// security checks of every kind. A good fixture has no finding at all; a
// bad one has every finding want.txt lists for it.
func TestFixtures(t *testing.T) {
	want := readWant(t)
	files, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.*.*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	s := spec.Default()
	for _, path := range files {
		name := filepath.Base(path)
		if !strings.Contains(name, ".good.") && !strings.Contains(name, ".bad.") {
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			res, err := Run(context.Background(), []string{path}, Options{Spec: s, Profile: ProfileAll})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(name, ".good.") {
				if len(res.Findings) > 0 {
					t.Fatalf("a good fixture has findings:\n%s", findingsText(res))
				}
				return
			}
			ws := want[name]
			if len(ws) == 0 {
				t.Fatalf("bad fixture without an entry in want.txt")
			}
			for _, w := range ws {
				found := false
				for _, f := range res.Findings {
					found = found || (f.Check == w.check && f.Line == w.line && f.Severity == w.severity)
				}
				if !found {
					t.Errorf("want %s %s on line %d, got:\n%s", w.severity, w.check, w.line, findingsText(res))
				}
			}
			if wantsError := ws[0].severity == Error; wantsError != (res.Errors() > 0) {
				t.Errorf("errors: %d, want.txt expects errors: %v", res.Errors(), wantsError)
			}
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("want.txt names %s, which is not a fixture", name)
		}
	}
}
