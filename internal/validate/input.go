package validate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
)

// DefaultMaxFileSize bounds every file validate reads (inputs, rule files
// and file_sd files a config names, templates): far above any real rule
// file or config (a 10,000-rule file is about 1.3 MiB), far below what
// would exhaust memory once parsed.
const DefaultMaxFileSize = 32 << 20

var (
	// ErrNotRegular is returned for a path that is a device, FIFO, socket
	// or directory: reading /dev/zero never ends and a FIFO blocks until
	// someone writes to it.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is returned for a file past the size limit.
	ErrTooLarge = errors.New("file too large")
)

func maxFileSize(opts Options) int64 {
	if opts.MaxFileSize > 0 {
		return opts.MaxFileSize
	}
	return DefaultMaxFileSize
}

// checkReadable says whether path is a regular file within the limit,
// without reading it.
func checkReadable(path string, limit int64) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s): only regular files are read", ErrNotRegular, modeName(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %d bytes, past the %s limit", ErrTooLarge, fi.Size(), sizeName(limit))
	}
	return fi, nil
}

// readInput reads a regular file of at most limit bytes. The limit is
// enforced on the bytes read as well as on the size stat reports, so a
// file that grows while being read is cut off too.
func readInput(path string, limit int64) ([]byte, error) {
	if _, err := checkReadable(path, limit); err != nil {
		return nil, err
	}
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	data, err := io.ReadAll(io.LimitReader(fd, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: past the %s limit", ErrTooLarge, sizeName(limit))
	}
	return data, nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

func sizeName(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
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
