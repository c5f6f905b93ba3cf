package validate

import (
	"runtime/debug"
	"strings"

	"github.com/investiq/investiq-mon/internal/files"
)

// DefaultMaxFileSize bounds every file validate reads (inputs, rule files
// and file_sd files a config names, templates): far above any real rule
// file or config (a 10,000-rule file is about 1.3 MiB), far below what
// would exhaust memory once parsed.
const DefaultMaxFileSize = 32 << 20

var (
	// ErrNotRegular is returned for a path that is a device, FIFO,
	// socket or directory.
	ErrNotRegular = files.ErrNotRegular
	// ErrTooLarge is returned for a file past the size limit.
	ErrTooLarge = files.ErrTooLarge
)

func maxFileSize(opts Options) int64 {
	if opts.MaxFileSize > 0 {
		return opts.MaxFileSize
	}
	return DefaultMaxFileSize
}

// recoverAsFinding turns a panic while checking f into an error at f.
// Deferred by each per-file goroutine.
func recoverAsFinding(f *file) {
	r := recover()
	if r == nil {
		return
	}
	what := "the checker"
	if f.kind != "" {
		what = "the " + string(f.kind) + " checker"
	}
	// The first frames below the panic name the code that crashed, which
	// is what a bug report needs; the rest is noise here.
	where := ""
	for _, l := range strings.Split(string(debug.Stack()), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "github.com/prometheus/") || strings.HasPrefix(l, "github.com/compose-spec/") {
			where = " in " + l
			if i := strings.LastIndexByte(where, '('); i > 0 {
				where = where[:i]
			}
			break
		}
	}
	f.errorf(0, 0, "input/crash", "%s crashed on this file: %v%s. That is a bug (upstream or here), usually set off by a malformed file: check the file, and please report the crash", what, r, where)
}
