package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/internal/validate"
	"github.com/investiq/investiq-mon/spec"
)

// ErrInvalid is returned when a rendered file does not load in the server
// that would read it; such a file is never applied.
var ErrInvalid = errors.New("invalid configuration")

// Local defaults: the InvestIQ API and ML service as a developer runs them,
// and the servers' usual ports, all on loopback.
const (
	LocalAPIAddress       = "127.0.0.1:3000"
	LocalMLAddress        = "127.0.0.1:8000"
	DefaultPrometheusPort = spec.DefaultPrometheusPort
	DefaultAlertmanager   = spec.DefaultAlertmanagerPort
	DefaultGrafanaPort    = spec.DefaultGrafanaPort
)

// LocalSpec is the spec as the local backend runs it: targets and servers
// on 127.0.0.1, secrets and web config in the state directory (absolute
// paths, since the servers resolve them from their own working directory).
func LocalSpec(load func(spec.Settings) (*spec.Spec, error), set spec.Settings, l Layout, promPort, amPort, grafanaPort int) (*spec.Spec, error) {
	if set.APIAddress == "" {
		set.APIAddress = LocalAPIAddress
	}
	if set.MLAddress == "" {
		set.MLAddress = LocalMLAddress
	}
	set.PrometheusAddress = fmt.Sprintf("127.0.0.1:%d", promPort)
	set.AlertmanagerAddress = fmt.Sprintf("127.0.0.1:%d", amPort)
	set.PublishAddress = "127.0.0.1"
	if load == nil {
		load = func(set spec.Settings) (*spec.Spec, error) {
			s := spec.InvestIQ(set)
			return s, s.Check()
		}
	}
	s, err := load(set)
	if err != nil {
		return nil, err
	}
	s.SecretsDir = l.SecretsDir()
	s.WebConfigFile = l.WebConfig()
	s.GrafanaDashboardsDir = filepath.Join(l.ConfigDir(), filepath.FromSlash(render.DashboardsDir))
	s.ExternalURL = "http://" + set.AlertmanagerAddress
	s.Ports = spec.Ports{Prometheus: promPort, Alertmanager: amPort, Grafana: grafanaPort}
	return s, nil
}

// localFiles renders what the local servers read: Prometheus,
// Alertmanager and Grafana files (not the compose file or .env.example).
func localFiles(s *spec.Spec) ([]render.File, error) {
	all, err := render.Render(s)
	if err != nil {
		return nil, err
	}
	var out []render.File
	for _, f := range all {
		if f.Component != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// snapshotFiles reads what dir holds at the paths of files and returns a
// function that puts it back: files that existed get their old bytes,
// files that did not are removed.
func snapshotFiles(dir string, rendered []render.File) (func() error, error) {
	var old []render.File
	var created []string
	for _, f := range rendered {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			created = append(created, p)
		case err != nil:
			return nil, err
		default:
			mode := f.Mode
			if fi, err := os.Stat(p); err == nil {
				mode = fi.Mode().Perm()
			}
			old = append(old, render.File{Path: f.Path, Data: data, Mode: mode})
		}
	}
	return func() error {
		var errs []error
		if len(old) > 0 {
			errs = append(errs, files.Write(dir, old))
		}
		for _, p := range created {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}, nil
}

func hashes(rendered []render.File) map[string]string {
	h := map[string]string{}
	for _, f := range rendered {
		sum := sha256.Sum256(f.Data)
		h[f.Path] = hex.EncodeToString(sum[:])
	}
	return h
}

// changedComponents names the components whose files differ from the
// applied hashes. A file applied before and rendered no more belongs to
// the component whose folder holds it (the state file records paths
// only).
func changedComponents(applied map[string]string, next []render.File) map[string]bool {
	out := map[string]bool{}
	rendered := map[string]bool{}
	for _, f := range next {
		rendered[f.Path] = true
		sum := sha256.Sum256(f.Data)
		if applied[f.Path] != hex.EncodeToString(sum[:]) {
			out[f.Component] = true
		}
	}
	for p := range applied {
		if !rendered[p] {
			out[strings.SplitN(p, "/", 2)[0]] = true
		}
	}
	return out
}

// validateFiles loads files back through internal/validate, which runs
// the servers' own loaders (Prometheus' config.LoadFile and rulefmt,
// Alertmanager's config.LoadFile), from a scratch copy so that relative
// rule_files resolve as they will in place. Every error is reported at
// path:line:col relative to the config directory; warnings (lint) do not
// stop `up`, since the servers would load the file.
//
// The scratch copy lives in the state directory (l.Root), not in /tmp: an
// up killed while it validates leaves it there, and the next up, holding
// the stack's lock, removes it and says so (removeScratch).
func validateFiles(ctx context.Context, l Layout, out io.Writer, rendered []render.File) error {
	parent := l.Root
	if parent == "" {
		parent = os.TempDir() // no state dir (a test's bare Options)
	} else {
		removeScratch(l, out)
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp(parent, scratchPrefix+"*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := files.Write(dir, rendered); err != nil {
		return err
	}
	var paths []string
	for _, f := range rendered {
		// The servers' own files: not the client configs of the
		// healthchecks, nor the rule unit tests (`investiq-mon test`).
		if f.LoadedByServer() {
			paths = append(paths, filepath.Join(dir, filepath.FromSlash(f.Path)))
		}
	}
	if len(paths) == 0 {
		return nil
	}
	// SyntaxOnly: the secret files the configs name are written only once
	// validation has passed.
	res, err := validate.Run(ctx, paths, validate.Options{SyntaxOnly: true})
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range res.Findings {
		if f.Severity == validate.Error {
			errs = append(errs, errors.New(strings.ReplaceAll(f.String(), dir+string(filepath.Separator), "")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w, nothing applied:\n%w", ErrInvalid, err)
	}
	return nil
}

// scratchPrefix names validateFiles' scratch copies in the state dir.
const scratchPrefix = ".validate-"

// removeScratch removes the scratch copies an earlier up left when it was
// killed while validating. The caller holds the stack's lock, so no other
// up of this state dir is validating now.
func removeScratch(l Layout, out io.Writer) {
	left, _ := filepath.Glob(filepath.Join(l.Root, scratchPrefix+"*"))
	for _, d := range left {
		if err := os.RemoveAll(d); err == nil && out != nil {
			fmt.Fprintf(out, "removed %s: the scratch copy of an up killed while it validated the files\n", d)
		}
	}
}
