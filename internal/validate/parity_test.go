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
	"sync"
	"testing"

	"github.com/investiq/investiq-mon/internal/testutil"
	"github.com/investiq/investiq-mon/spec"
)

// The parity corpus: every file under testdata/parity is checked by
// validate and by the real promtool or amtool at the pinned versions, with
// and without --lint-fatal, and the exit codes must agree, with the house
// checks at their default (the corpus is not the project's) and with
// --profile promtool. A bad file has exactly one defect, and its
// `# want-line: N` comment says where it is (in the file `# want-path:`
// names, when the defect is in a rule file or file_sd file the config
// reads); every error validate reports must be there, and promtool's line
// too when it gives one. A `# want-lint-line: N` file (`# want-lint-path:`)
// is valid but trips promtool's default lint. An `# upstream-crashes` file
// makes the upstream tool panic: validate must report an error instead.

var (
	wantLineRE     = regexp.MustCompile(`(?m)^# want-line: (\d+)$`)
	wantLintLineRE = regexp.MustCompile(`(?m)^# want-lint-line: (\d+)$`)
	wantPathRE     = regexp.MustCompile(`(?m)^# want-path: (\S+)$`)
	wantLintPathRE = regexp.MustCompile(`(?m)^# want-lint-path: (\S+)$`)
	crashesRE      = regexp.MustCompile(`(?m)^# upstream-crashes$`)
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
	case strings.HasPrefix(name, "web-"):
		args = []string{"check", "web-config"}
	default:
		t.Fatalf("%s: parity files are named rules-*, prom-*, am-* or web-*", name)
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
	var agree, total int
	var mu sync.Mutex
	t.Cleanup(func() {
		t.Logf("parity: %d of %d files agree with promtool/amtool on the exit code, with and without --lint-fatal", agree, total)
	})
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
			wantPath := commentPath(wantPathRE, data, path)
			crashes := crashesRE.Match(data)

			upCode, upOut := upstream(t, name)
			upFatal, upFatalOut := upstream(t, name, lintFatalFlag(name)...)
			res, err := Run(context.Background(), []string{path}, Options{Spec: s})
			if err != nil {
				t.Fatal(err)
			}
			code, fatal := res.ExitCode(false), res.ExitCode(true)
			if crashes {
				if upCode != 2 || !strings.Contains(upOut, "panic") {
					t.Fatalf("upstream was expected to crash (exit 2, panic), exits %d:\n%s", upCode, upOut)
				}
				if code != 1 || len(findingsOf(res, path, "input/crash")) != 1 {
					t.Fatalf("validate must report the crash as an error at the file (exit 1), exits %d:\n%s", code, findingsText(res))
				}
				return
			}
			mu.Lock()
			total++
			mu.Unlock()
			if code != upCode {
				t.Fatalf("verdicts differ: validate exits %d, upstream %d\nvalidate:\n%s\nupstream:\n%s", code, upCode, findingsText(res), upOut)
			}
			if fatal != upFatal {
				t.Fatalf("with --lint-fatal: validate exits %d, upstream %d\nvalidate:\n%s\nupstream:\n%s", fatal, upFatal, findingsText(res), upFatalOut)
			}
			// --profile promtool is exactly promtool: the same codes.
			exact, err := Run(context.Background(), []string{path}, Options{Spec: s, Profile: ProfilePromtool})
			if err != nil {
				t.Fatal(err)
			}
			if exact.ExitCode(false) != upCode || exact.ExitCode(true) != upFatal {
				t.Fatalf("--profile promtool exits %d/%d, upstream %d/%d", exact.ExitCode(false), exact.ExitCode(true), upCode, upFatal)
			}
			if isBad != (upCode == 1) {
				t.Fatalf("upstream exits %d on a file named %s: the corpus is wrong\n%s", upCode, name, upOut)
			}
			mu.Lock()
			agree++
			mu.Unlock()

			var located int
			for _, fd := range res.Findings {
				if fd.Severity != Error {
					continue
				}
				if filepath.Clean(fd.Path) != wantPath || fd.Line != wantLine {
					t.Errorf("error at %s:%d, the defect is at %s:%d: %s", fd.Path, fd.Line, wantPath, wantLine, fd)
					continue
				}
				located++
			}
			if isBad && located == 0 {
				t.Errorf("no error located at the defect:\n%s", findingsText(res))
			}
			if m := upstreamLineRE.FindStringSubmatch(upOut); isBad && m != nil {
				l := m[1] + m[2]
				if n, _ := strconv.Atoi(l); n != 0 && n != wantLine {
					t.Errorf("upstream points at line %d, want-line says %d:\n%s", n, wantLine, upOut)
				}
			}

			if lint := commentLine(t, wantLintLineRE, data); lint > 0 {
				if upFatal != 3 || fatal != 3 {
					t.Errorf("with --lint-fatal: validate exits %d, upstream %d (want 3)\n%s", fatal, upFatal, upFatalOut)
				}
				lintPath := commentPath(wantLintPathRE, data, path)
				found := false
				for _, fd := range res.Findings {
					found = found || (fd.Check == "rules/duplicate" && filepath.Clean(fd.Path) == lintPath && fd.Line == lint)
				}
				if !found {
					t.Errorf("no rules/duplicate warning at %s:%d:\n%s", lintPath, lint, findingsText(res))
				}
			}
		})
	}
}

// commentPath is the file a `# want-path:` comment names, relative to the
// parity directory, or the file itself.
func commentPath(re *regexp.Regexp, data []byte, self string) string {
	if m := re.FindSubmatch(data); m != nil {
		return filepath.Join(filepath.Dir(self), string(m[1]))
	}
	return filepath.Clean(self)
}

// lintFatalFlag is --lint-fatal for promtool check rules and config;
// amtool and promtool check web-config have no lint.
func lintFatalFlag(name string) []string {
	if strings.HasPrefix(name, "am-") || strings.HasPrefix(name, "web-") {
		return nil
	}
	return []string{"--lint-fatal"}
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
