package validate

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/spec"
)

// Good and bad Kubernetes manifests, hand-written: a good one has no
// finding at all, a bad one exactly the findings testdata/kube/want.txt
// lists for it, at the line of the defect in the manifest (also for a
// defect inside a PrometheusRule's PromQL or a ConfigMap's dashboard).
func TestKubernetesFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "kube")
	want := map[string][]string{}
	f, err := os.Open(filepath.Join(dir, "want.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 4 {
			t.Fatalf("want.txt: %q is not `file line check severity`", sc.Text())
		}
		want[fields[0]] = append(want[fields[0]], strings.Join(fields[1:], " "))
	}
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 10 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		t.Run(rel, func(t *testing.T) {
			// The house checks too: these files are not the project's own.
			res, err := Run(context.Background(), []string{p}, Options{Spec: spec.Default(), Profile: ProfileAll})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fd := range res.Findings {
				got = append(got, fmt.Sprintf("%d %s %s", fd.Line, fd.Check, fd.Severity))
			}
			slices.Sort(got)
			w := want[filepath.ToSlash(rel)]
			slices.Sort(w)
			if strings.Contains(rel, ".good.") && len(w) > 0 {
				t.Fatalf("want.txt lists findings for a good fixture")
			}
			if !slices.Equal(got, w) {
				t.Errorf("findings %q, want %q", got, w)
				for _, fd := range res.Findings {
					t.Log(fd)
				}
			}
		})
	}
}

func TestKubernetesIsDetected(t *testing.T) {
	k, err := Detect("x.yaml", []byte("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: a}\nspec: {groups: []}\n"))
	if err != nil || k != KindKubernetes {
		t.Errorf("Detect = %q, %v; want %q", k, err, KindKubernetes)
	}
}
