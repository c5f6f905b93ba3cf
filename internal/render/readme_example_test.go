package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/spec"
)

// renderBlackbox is the README's "Adding a component" renderer, kept here
// word for word so that it compiles against render as it is:
// TestREADMERendererCompiles fails when the two part.
func renderBlackbox(s *spec.Spec) ([]File, error) {
	if _, ok := s.Component("blackbox"); !ok {
		return nil, nil
	}
	modules := map[string]any{"modules": map[string]any{"http_2xx": map[string]any{"prober": "http", "timeout": "5s"}}}
	f, err := yamlFile("blackbox/blackbox.yml", "Blackbox exporter modules.", modules)
	return []File{f.as("blackbox", ComponentConfig)}, err
}

// The README's worked example of a renderer is this file's, and it does
// what the README says: nothing without the component, one component
// config file marked with it otherwise.
func TestREADMERendererCompiles(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	want := funcSource(t, string(self), "func renderBlackbox(")
	if got := funcSource(t, string(readme), "func renderBlackbox("); got != want {
		t.Errorf("README's renderBlackbox differs from the compiled one in readme_example_test.go:\nREADME:\n%s\ncompiled:\n%s", got, want)
	}

	s := spec.Default()
	if fs, err := renderBlackbox(s); err != nil || len(fs) != 0 {
		t.Errorf("without the component: %d files, %v; want none", len(fs), err)
	}
	s.ExtraComponents = append(s.ExtraComponents, spec.Component{Name: "blackbox", Port: 9115, HostPort: 9115})
	fs, err := renderBlackbox(s)
	if err != nil || len(fs) != 1 {
		t.Fatalf("with the component: %d files, %v; want one", len(fs), err)
	}
	if f := fs[0]; f.Path != "blackbox/blackbox.yml" || f.Component != "blackbox" || f.Role != ComponentConfig || !strings.Contains(string(f.Data), "prober: http") {
		t.Errorf("rendered %s (component %q, role %q):\n%s", f.Path, f.Component, f.Role, f.Data)
	}
}

// funcSource is the text from the line starting with head to the first
// line that is a lone closing brace.
func funcSource(t *testing.T, text, head string) string {
	t.Helper()
	i := strings.Index(text, "\n"+head)
	if i < 0 {
		t.Fatalf("no %q in the text", head)
	}
	rest := text[i+1:]
	j := strings.Index(rest, "\n}\n")
	if j < 0 {
		t.Fatalf("%q has no closing brace", head)
	}
	return rest[:j+2]
}
