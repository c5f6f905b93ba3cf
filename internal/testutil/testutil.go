// Package testutil holds what several packages' tests need: the pinned
// Prometheus and Alertmanager binaries, and free loopback ports.
package testutil

import (
	"net"
	"os"
	"testing"

	"github.com/investiq/investiq-mon/internal/toolbin"
)

// RequireEnv is set by `make test`: a missing binary then fails the test
// instead of skipping it, so CI can never pass by running nothing.
const RequireEnv = "INVESTIQ_REQUIRE_TOOLS"

// Bin returns the path of a pinned tool, or skips (fails under make test)
// when it has not been built.
func Bin(t testing.TB, name string) string {
	t.Helper()
	p, err := toolbin.Find(name)
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%v", err)
		}
		t.Skipf("%v", err)
	}
	return p
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
