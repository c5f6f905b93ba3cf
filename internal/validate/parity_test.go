package validate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The parity corpus: every file under testdata/parity is checked by
// validate and by the real promtool or amtool at the pinned versions, and
// the verdicts must agree. A bad file has exactly one defect, and its
// `# want-line: N` comment says where it is; every error validate reports
// must be on that line, and so must promtool's when it gives one. A
// `# want-lint-line: N` file is valid but trips promtool's default lint.

var (
	wantLineRE     = regexp.MustCompile(`(?m)^# want-line: (\d+)$`)
	wantLintLineRE = regexp.MustCompile(`(?m)^# want-lint-line: (\d+)$`)
	// "file: 7:15: group ..." (rulefmt) or "line 3: field ..." (YAML).
	upstreamLineRE = regexp.MustCompile(`(?m)(?:^\S+: (\d+):\d+: |\bline (\d+)\b)`)
)

func commentLine(t *testing.T, re *regexp.Regexp, data []byte) int {
	t.Helper()
	m := re.FindSubmatch(data)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// upstream runs promtool or amtool on a parity file from inside the
// corpus directory, as a user would, and returns its exit code and output.
func upstream(t *testing.T, name string, extra ...string) (int, string) {
	t.Helper()
	var args []string
	tool := "promtool"
	switch {
	case strings.HasPrefix(name, "rules-"):
		args = []string{"check", "rules"}
	case strings.HasPrefix(name, "prom-"):
		args = []string{"check", "config"}
	case strings.HasPrefix(name, "am-"):
		tool, args = "amtool", []string{"check-config"}
	default:
		t.Fatalf("%s: parity files are named rules-*, prom-* or am-*", name)
	}
	args = append(append(args, extra...), name)
	cmd := exec.Command(testutil.Bin(t, tool), args...)
	cmd.Dir = filepath.Join("testdata", "parity")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatalf("%s %v: %v", tool, args, err)
	return 0, ""
}

func TestParityWithPromtoolAndAmtool(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "parity", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var good, bad int
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".good.yml"):
			good++
		case strings.HasSuffix(f, ".bad.yml"):
			bad++
		default:
			t.Errorf("%s: parity files end in .good.yml or .bad.yml", f)
		}
	}
	if good+bad < 40 || good == 0 || bad == 0 {
		t.Fatalf("the parity corpus needs at least 40 good and bad files, has %d good and %d bad", good, bad)
	}
	s := spec.Default()
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			isBad := strings.HasSuffix(name, ".bad.yml")
			wantLine := commentLine(t, wantLineRE, data)
			if isBad && wantLine == 0 {
				t.Fatalf("a bad parity file needs a `# want-line: N` comment")
			}

			upCode, upOut := upstream(t, name)
			res, err := Run(context.Background(), []string{path}, Options{Spec: s})
			if err != nil {
				t.Fatal(err)
			}
			code := res.ExitCode(false)
			if code != upCode {
				t.Fatalf("verdicts differ: validate exits %d, upstream %d\nvalidate:\n%s\nupstream:\n%s", code, upCode, findingsText(res), upOut)
			}
			if isBad != (upCode == 1) {
				t.Fatalf("upstream exits %d on a file named %s: the corpus is wrong\n%s", upCode, name, upOut)
			}

			var located int
			for _, fd := range res.Findings {
				if fd.Path != path || fd.Severity != Error {
					continue
				}
				if fd.Line != wantLine {
					t.Errorf("error at line %d, the defect is on line %d: %s", fd.Line, wantLine, fd)
				}
				located++
			}
			if isBad && located == 0 {
				t.Errorf("no error located in the file itself:\n%s", findingsText(res))
			}
			if m := upstreamLineRE.FindStringSubmatch(upOut); isBad && m != nil {
				l := m[1] + m[2]
				if n, _ := strconv.Atoi(l); n != 0 && n != wantLine {
					t.Errorf("upstream points at line %d, want-line says %d:\n%s", n, wantLine, upOut)
				}
			}

			if lint := commentLine(t, wantLintLineRE, data); lint > 0 {
				upCode, upOut := upstream(t, name, "--lint-fatal")
				if upCode != 3 || res.ExitCode(true) != 3 {
					t.Errorf("with --lint-fatal: validate exits %d, upstream %d (want 3)\n%s", res.ExitCode(true), upCode, upOut)
				}
				found := false
				for _, fd := range res.Findings {
					found = found || (fd.Check == "rules/duplicate" && fd.Line == lint)
				}
				if !found {
					t.Errorf("no rules/duplicate warning on line %d:\n%s", lint, findingsText(res))
				}
			}
		})
	}
}

func findingsText(r *Result) string {
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		return err.Error()
	}
	if b.Len() == 0 {
		return "(no findings)\n"
	}
	return b.String()
}
