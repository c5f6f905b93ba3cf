package ruletest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

var lineRE = regexp.MustCompile(`line (\d+)`)

// FuzzTestFile is how `investiq-mon test` reads a promtool rule-test file
// (issue 17), up to running it: the same bytes give the same answer, and
// a refusal names the file and a line inside it.
func FuzzTestFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	more, _ := filepath.Glob("../../monitoring/prometheus/*_test.yml")
	for _, s := range append(seeds, more...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rule_files: [r.yml]\ntests:\n  - input_series:\n      - series: 'up{a=\"b\"}'\n        values: '1 2 _ stale'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := FS{fstest.MapFS{"t.yml": {Data: data}, "r.yml": {Data: []byte("groups: []\n")}}}
		p1, err1 := prepare(src, "t.yml", nil)
		p2, err2 := prepare(src, "t.yml", nil)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("unstable: %v, then %v", err1, err2)
		}
		if err1 != nil {
			if !strings.HasPrefix(err1.Error(), "t.yml: ") {
				t.Errorf("refusal does not name the file: %v", err1)
			}
			lines := len(strings.Split(strings.ReplaceAll(string(data), "\r", "\n"), "\n"))
			for _, m := range lineRE.FindAllStringSubmatch(err1.Error(), -1) {
				if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
					t.Errorf("names line %d of %d: %v", n, lines, err1)
				}
			}
			return
		}
		if len(p1.groups) != len(p2.groups) || strings.Join(p1.ruleFiles, ",") != strings.Join(p2.ruleFiles, ",") {
			t.Fatal("unstable preparation")
		}
	})
}
