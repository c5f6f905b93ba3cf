package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/investiq/investiq-mon/internal/cli"
)

// TestMain registers the CLI as the command `investiq-mon` inside the
// scripts under testdata/script, which run it as a user would.
func TestMain(m *testing.M) {
	// Tests that signal or kill a real investiq-mon process run this
	// binary as the command itself, through main and its signal handling.
	if os.Getenv(runMainEnv) == "1" {
		if os.Getenv(composeStackEnv) != "" {
			composeMain() // compose_kill_test.go: main with the test's project
			return
		}
		main()
		return
	}
	testscript.Main(m, map[string]func(){
		"investiq-mon": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], cli.System())) },
	})
}

// runMainEnv makes the test binary run main() instead of the tests.
const runMainEnv = "INVESTIQ_MON_RUN_MAIN"

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			// Scripts that need the pinned servers find them here.
			env.Setenv("INVESTIQ_TOOLS_BIN", os.Getenv("INVESTIQ_TOOLS_BIN"))
			return nil
		},
	})
}
