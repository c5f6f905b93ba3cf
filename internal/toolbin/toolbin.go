// Package toolbin finds the Prometheus and Alertmanager binaries: on PATH,
// or in .tools/bin where `make tools` builds them at the pinned versions.
package toolbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// EnvDir names a directory searched before anything else.
const EnvDir = "INVESTIQ_TOOLS_BIN"

// ErrNotFound is returned when a binary is nowhere to be found.
var ErrNotFound = errors.New("not found")

// Find returns the path of the named binary (prometheus, promtool,
// alertmanager, amtool), preferring the pinned build in .tools/bin.
func Find(name string) (string, error) {
	var dirs []string
	if d := os.Getenv(EnvDir); d != "" {
		dirs = append(dirs, d)
	}
	if root, ok := ModuleRoot(); ok {
		dirs = append(dirs, filepath.Join(root, ".tools", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s %w on PATH or in .tools/bin: run `make tools` in the investiq-mon checkout (builds the pinned versions), or install %s", name, ErrNotFound, name)
}

// ModuleRoot walks up from the working directory to the investiq-mon
// checkout (the folder holding tools/prometheus/go.mod).
func ModuleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "prometheus", "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
