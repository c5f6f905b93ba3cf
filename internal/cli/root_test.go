package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Exit codes are a contract scripts rely on (promtool's): usage errors are
// 2 however cobra reports them.
func TestMainExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"an unknown command is a usage error", []string{"bogus"}, ExitUsage, `unknown command "bogus"`},
		{"an unknown flag is a usage error", []string{"generate", "--nope"}, ExitUsage, "unknown flag: --nope"},
		{"a flag without its partner is a usage error", []string{"generate", "--diff"}, ExitUsage, "--diff goes with --check"},
		{"an extra argument is a usage error", []string{"generate", "extra"}, ExitUsage, "unknown command"},
		{"a bad retention is a usage error", []string{"--retention", "soon", "generate"}, ExitUsage, `invalid argument "soon"`},
		{"a drift check on an empty directory fails with 1", []string{"generate", "--check", "--dir", t.TempDir()}, ExitError, "files differ from the spec"},
		{"help is fine", []string{"--help"}, ExitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			if got := Main(context.Background(), tc.args, f); got != tc.want {
				t.Errorf("exit %d, want %d\nstderr: %s", got, tc.want, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.msg) {
				t.Errorf("stderr %q does not say %q", errOut.String(), tc.msg)
			}
		})
	}
}
