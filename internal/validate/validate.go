// Package validate reads the files of a monitoring stack back through the
// upstream parsers (rulefmt, Prometheus' and Alertmanager's config loaders,
// compose-go, exporter-toolkit) and then checks what those parsers cannot:
// that every query names a metric, label and label value the spec declares,
// and that the stack is secure by default.
//
// It is the third step of the pipeline spec -> render -> validate: it takes
// the spec as input and never reaches into the renderer, so it judges
// hand-written files exactly as it judges generated ones.
//
// Every problem is a Finding located at path:line:col and named by a stable
// check id, so CI output is clickable and a check can be silenced on
// purpose (Options.Disable).
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/spec"
)

// Severity of a finding. Errors fail validation (exit 1); warnings are
// lint, which fails only with --lint-fatal (exit 3), as promtool does.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	// Info is a note that never changes the exit code, as promtool's
	// WARNING about a file_sd file that does not exist yet.
	Info Severity = "info"
)

// Finding is one problem in one file.
type Finding struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Check is a stable id such as promql/unknown-metric; --disable takes it.
	Check string `json:"check"`
}

func (f Finding) String() string {
	line, col := f.Line, f.Col
	// A finding about the file as a whole (unreadable, wrong mode) has no
	// position; 1:1 keeps the output parseable by editors and CI.
	if line < 1 {
		line, col = 1, 1
	}
	if col < 1 {
		col = 1
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", f.Path, line, col, f.Severity, f.Message, f.Check)
}

// Options control a validation run.
type Options struct {
	// Kind forces the kind of every file instead of detecting it.
	Kind Kind
	// IgnoreUnknownFields lets rule files carry fields rulefmt does not know.
	IgnoreUnknownFields bool
	// SyntaxOnly skips the checks that files referenced by a config exist
	// (rule files, credentials, TLS files, compose mounts), as promtool's
	// --syntax-only does.
	SyntaxOnly bool
	// Profile is the base selection of the house checks (Checks with
	// Class House): ProfileDefault (the zero value) runs them on the
	// project's own files only, ProfilePromtool nowhere, ProfileAll
	// everywhere. Upstream checks always run.
	Profile Profile
	// Enable turns house checks on for every file, Disable turns any check
	// off for every file: check ids, or prefixes ending in "/" (e.g.
	// "security/"). Disable wins.
	Enable, Disable []string
	// OwnDir is the project's directory (the spec's monitoring/): files
	// under it are the project's own, as are files anywhere that carry
	// GeneratedMarker.
	OwnDir string
	// Spec enables the cross-checks against the declared metrics, jobs and
	// alerts. Nil runs the upstream checks only.
	Spec *spec.Spec
	// Records are recording-rule outputs known to exist although no file
	// being validated defines them, and Alerts the alerts known to exist
	// (ALERTS{alertname}): the CLI passes what the rule files the spec
	// renders define (RuleNames), so a dashboard validated without the rule
	// files may query them. Used only with Spec.
	Records, Alerts []string
	// SpecRules, when set, gives more Records and Alerts: those of the
	// rule files the spec renders. It is called only when some file gets
	// the cross-checks, since rendering the spec costs a run that has none.
	SpecRules func() (records, alerts []string, err error)
	// Parallel is how many files are checked at once; zero means GOMAXPROCS.
	Parallel int
	// MaxFileSize bounds every read; zero means DefaultMaxFileSize.
	MaxFileSize int64
}

// ErrNoFiles is returned when the given paths hold no file to validate.
var ErrNoFiles = errors.New("no files to validate")

// Result is every finding of a run, sorted by path and position.
type Result struct {
	Files    []string  `json:"files"`
	Findings []Finding `json:"findings"`
}

// ExitCode is promtool's contract: 1 on any error, 3 on warnings alone
// when lintFatal, 0 otherwise.
func (r *Result) ExitCode(lintFatal bool) int {
	switch {
	case r.Errors() > 0:
		return 1
	case r.Warnings() > 0 && lintFatal:
		return 3
	}
	return 0
}

// Errors counts the error findings.
func (r *Result) Errors() int { return r.count(Error) }

// Warnings counts the warning findings.
func (r *Result) Warnings() int { return r.count(Warning) }

// Infos counts the notes.
func (r *Result) Infos() int { return r.count(Info) }

func (r *Result) count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// file is one input and what checking it produced.
type file struct {
	path string
	kind Kind
	// forced is set for files whose kind is known from how they were
	// reached (rule files named by a Prometheus config).
	forced bool
	// own is set for the project's own files (see ownership); via says
	// how a file reached through a config was reached, and is nil for the
	// inputs. A file reached through a config that is not the project's is
	// not the project's either.
	own      bool
	via      *file
	sel      selection
	data     []byte
	findings []Finding
	// ruleFiles are the rule files a Prometheus config names; they are
	// checked too, as promtool check config does. sdRefs are the file_sd
	// files it names, with the job that reads each.
	ruleFiles []string
	sdRefs    []sdRef
	// sd is a file_sd file's target groups, once loaded.
	sd *sdFile
	// records are the recording rules this file defines: their names are
	// series other files may query.
	records []string
	// alerts are the alerting rule names this file defines (ALERTS{alertname}).
	alerts []string
	// datasources are the uids a Grafana provisioning file defines.
	datasources []string
	// later runs once every file has been read, with what all of them
	// define (recording rules, datasource uids).
	later func(*universe) []Finding
}

// on says whether a check runs on this file.
func (f *file) on(check string) bool { return f.sel.on(check, f.own) }

// anyHouseOn says whether any house check under a prefix runs on this
// file.
func (f *file) anyHouseOn(prefix string) bool { return f.sel.anyHouseOn(prefix, f.own) }

// add records a finding unless its check is off for this file.
func (f *file) add(fd Finding) {
	if !f.on(fd.Check) {
		return
	}
	if fd.Path == "" {
		fd.Path = f.path
	}
	// The YAML scanner reports a problem at the end of an input without a
	// final newline one line past the last: point at the last line.
	if fd.Path == f.path && f.data != nil {
		if n := lastLine(f.data); fd.Line > n {
			fd.Line, fd.Col = n, 0
		}
	}
	f.findings = append(f.findings, fd)
}

// lastLine is the number of the last line of data, counting the empty
// one after a final newline: the end of the input, where a reader says
// a truncated file ends.
func lastLine(data []byte) int {
	return bytes.Count(data, []byte("\n")) + 1
}

func (f *file) errorf(line, col int, check, format string, args ...any) {
	f.add(Finding{Line: line, Col: col, Severity: Error, Check: check, Message: fmt.Sprintf(format, args...)})
}

func (f *file) warnf(line, col int, check, format string, args ...any) {
	f.add(Finding{Line: line, Col: col, Severity: Warning, Check: check, Message: fmt.Sprintf(format, args...)})
}

func (f *file) infof(line, col int, check, format string, args ...any) {
	f.add(Finding{Line: line, Col: col, Severity: Info, Check: check, Message: fmt.Sprintf(format, args...)})
}

// Run validates the files and directories in paths.
func Run(ctx context.Context, paths []string, opts Options) (*Result, error) {
	if opts.Kind != "" && !slices.Contains(Kinds, opts.Kind) {
		return nil, fmt.Errorf("unknown kind %q (want one of %s)", opts.Kind, kindList())
	}
	if opts.Profile != "" && !slices.Contains(Profiles, opts.Profile) {
		return nil, fmt.Errorf("unknown profile %q (want one of %s)", opts.Profile, profileList())
	}
	for _, p := range append(slices.Clone(opts.Enable), opts.Disable...) {
		if err := CheckPattern(p); err != nil {
			return nil, err
		}
	}
	sel := newSelection(opts)
	var files []*file
	seen := map[string]*file{}
	key := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	addFile := func(p string, k Kind, forced bool, via *file) {
		if seen[key(p)] != nil {
			return
		}
		f := &file{path: p, kind: k, forced: forced, via: via, sel: sel}
		seen[key(p)] = f
		files = append(files, f)
	}
	var walkErrs []Finding
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			walkErrs = append(walkErrs, Finding{Path: p, Severity: Error, Check: "input/unreadable", Message: cleanPathErr(err)})
			continue
		}
		if !fi.IsDir() {
			addFile(p, opts.Kind, opts.Kind != "", nil)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				walkErrs = append(walkErrs, Finding{Path: path, Severity: Error, Check: "input/unreadable", Message: cleanPathErr(err)})
				return nil
			}
			if d.IsDir() {
				// .git and friends hold nothing of the stack.
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if walked(d.Name()) {
				addFile(path, opts.Kind, opts.Kind != "", nil)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(files) == 0 && len(walkErrs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoFiles, strings.Join(paths, ", "))
	}

	own := newOwnership(opts.OwnDir)
	checkAll(ctx, files, opts, own)
	// A Prometheus config names rule files and file_sd files: check them
	// too (once), as promtool check config does, unless they were among
	// the inputs; then check each file_sd file's targets as each job that
	// reads it would get them.
	if !opts.SyntaxOnly {
		n := len(files)
		for _, f := range files[:n] {
			for _, rf := range f.ruleFiles {
				addFile(rf, KindRules, true, f)
			}
			for _, ref := range f.sdRefs {
				addFile(ref.path, KindFileSD, true, f)
			}
		}
		if len(files) > n {
			checkAll(ctx, files[n:], opts, own)
		}
		for _, f := range files[:n] {
			for _, ref := range f.sdRefs {
				if sd := seen[key(ref.path)]; sd != nil {
					for _, fd := range checkSDTargets(sd, ref) {
						sd.add(fd)
					}
				}
			}
		}
	}

	// The cross-file phase, and what the spec's own rule files define,
	// are only needed by files with house checks on.
	if !slices.ContainsFunc(files, func(f *file) bool { return f.later != nil }) {
		return finish(files, walkErrs, sel), nil
	}
	if opts.SpecRules != nil && opts.Spec != nil {
		records, alerts, err := opts.SpecRules()
		if err != nil {
			return nil, err
		}
		opts.Records = append(slices.Clone(opts.Records), records...)
		opts.Alerts = append(slices.Clone(opts.Alerts), alerts...)
	}
	u := newUniverse(opts, files)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel(opts))
	for _, f := range files {
		if f.later == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer recoverAsFinding(f)
			for _, fd := range f.later(u) {
				f.add(fd)
			}
		}()
	}
	wg.Wait()
	return finish(files, walkErrs, sel), nil
}

// finish gathers every finding, sorted by path and position.
func finish(files []*file, walkErrs []Finding, sel selection) *Result {
	res := &Result{Findings: slices.DeleteFunc(walkErrs, func(f Finding) bool { return !sel.on(f.Check, false) })}
	for _, f := range files {
		res.Files = append(res.Files, f.path)
		res.Findings = append(res.Findings, f.findings...)
	}
	slices.SortStableFunc(res.Findings, func(a, b Finding) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return res
}

func parallel(opts Options) int {
	if opts.Parallel > 0 {
		return opts.Parallel
	}
	return runtime.GOMAXPROCS(0)
}

// checkAll reads and checks files in parallel: each file is independent
// until the cross-file phase.
func checkAll(ctx context.Context, files []*file, opts Options, own ownership) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel(opts))
	for _, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				f.errorf(0, 0, "input/unreadable", "not checked: %v", ctx.Err())
				return
			}
			checkFile(f, opts, own)
		}()
	}
	wg.Wait()
}

func checkFile(f *file, opts Options, own ownership) {
	// An upstream loader that panics on a file (Alertmanager's does on a
	// route list with an empty item) costs that file, not the run.
	defer recoverAsFinding(f)
	data, err := files.ReadBounded(f.path, maxFileSize(opts))
	if err != nil {
		f.errorf(0, 0, "input/unreadable", "%s", cleanPathErr(err))
		return
	}
	f.data = data
	f.own = own.owns(f.path, data) && (f.via == nil || f.via.own)
	if isEnvFile(f.path) && !f.forced {
		checkSecretFileMode(f)
		return
	}
	if f.kind == "" {
		k, err := Detect(f.path, data)
		if err != nil {
			line, col := 0, 0
			var pe *posError
			if errors.As(err, &pe) {
				line, col = pe.line, pe.col
			}
			f.errorf(line, col, "input/kind", "%v", err)
			return
		}
		f.kind = k
	}
	switch f.kind {
	case KindRules:
		checkRules(f, opts)
	case KindPrometheus:
		checkPrometheus(f, opts)
	case KindAlertmanager:
		checkAlertmanager(f, opts)
	case KindRuleTest:
		checkRuleTest(f, opts)
	case KindFileSD:
		checkFileSD(f, opts)
	case KindDashboard:
		checkDashboard(f, opts)
	case KindProvisioning:
		checkProvisioning(f, opts)
	case KindCompose:
		checkCompose(f, opts)
	case KindWebConfig:
		checkWebConfig(f, opts)
	case KindHTTPConfig:
		checkHTTPConfig(f, opts)
	case KindEnv:
		checkSecretFileMode(f)
	case KindKubernetes:
		checkKubernetes(f, opts)
	case KindSettings:
		checkSettings(f)
	}
}

// walked says whether a file met while walking a directory is one of the
// stack's: YAML and JSON files, and .env for its mode. Files named
// explicitly are always checked.
func walked(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yml", ".yaml", ".json":
		return true
	}
	return name == ".env"
}

func isEnvFile(path string) bool {
	b := filepath.Base(path)
	return b == ".env" || strings.HasSuffix(b, ".env")
}

func profileList() string {
	s := make([]string, len(Profiles))
	for i, p := range Profiles {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// cleanPathErr drops the "open <path>:" prefix of an *fs.PathError: the
// finding already names the path.
func cleanPathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}
