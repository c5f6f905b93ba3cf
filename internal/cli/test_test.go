package cli

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestTestCmdFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		files []string
		run   []string
		junit string
	}{
		{"no argument tests the spec", nil, nil, nil, ""},
		{"files are positional", []string{"a_test.yml", "b_test.yml"}, []string{"a_test.yml", "b_test.yml"}, nil, ""},
		{"--run repeats", []string{"--run", "^A/", "--run", "B", "x.yml"}, []string{"x.yml"}, []string{"^A/", "B"}, ""},
		{"--junit names the report", []string{"--junit", "out.xml"}, nil, nil, "out.xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *testOptions
			cmd := newCmdTest(NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}), func(o *testOptions) error {
				got = o
				return nil
			})
			cmd.SetArgs(tc.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Files, tc.files) || !slices.Equal(got.Run, tc.run) || got.JUnit != tc.junit {
				t.Errorf("files %q run %q junit %q; want %q %q %q", got.Files, got.Run, got.JUnit, tc.files, tc.run, tc.junit)
			}
		})
	}
}

func TestTestBadRunPatternIsAUsageError(t *testing.T) {
	f := NewFactory(&IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	err := testRun(&testOptions{f: f, Run: []string{"("}, Files: []string{"x.yml"}})
	if !errors.Is(err, errUsage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
}
