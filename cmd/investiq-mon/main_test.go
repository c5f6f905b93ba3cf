package main

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"syscall"
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
		if n := os.Getenv(fileSizeLimitEnv); n != "" {
			limitFileSize(n)
		}
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

// fileSizeLimitEnv, with runMainEnv, runs main() under RLIMIT_FSIZE of
// that many bytes, with SIGXFSZ ignored so that a write past the limit
// fails with EFBIG as on a full disk, instead of killing the process:
// the disk-full test where no small file system can be mounted.
const fileSizeLimitEnv = "INVESTIQ_MON_TEST_FSIZE"

func limitFileSize(n string) {
	limit, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		panic(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		panic(err)
	}
}

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
