package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README tells users what to run in CI; `make test` runs .ci/recipe.
// They must be the same commands, in the same order.
func TestREADMECIRecipeIsTheOneMakeTestRuns(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, ".ci", "recipe"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Running the checks in CI\n")
	if !ok {
		t.Fatal(`README has no "## Running the checks in CI" section`)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal("the CI section has no sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	_, recipe, ok := strings.Cut(string(script), "# BEGIN CI RECIPE\n")
	if !ok {
		t.Fatal(".ci/recipe has no BEGIN CI RECIPE marker")
	}
	recipe, _, ok = strings.Cut(recipe, "# END CI RECIPE")
	if !ok {
		t.Fatal(".ci/recipe has no END CI RECIPE marker")
	}
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	want, got := lines(block), lines(recipe)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("README's CI recipe:\n%s\n.ci/recipe runs:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	for _, cmd := range []string{"generate --check", "validate --lint-fatal monitoring/", "test"} {
		found := false
		for _, l := range got {
			found = found || l == "investiq-mon "+cmd
		}
		if !found {
			t.Errorf("the recipe lacks `investiq-mon %s`", cmd)
		}
	}
}
