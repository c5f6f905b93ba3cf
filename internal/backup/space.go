package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrNoSpace is an archive that does not fit where it would be unpacked.
var ErrNoSpace = errors.New("not enough free space to unpack the archive")

// spaceHeadroom is left free beyond the archive's total: file system
// metadata, and room for the servers to keep writing meanwhile.
const spaceHeadroom = 64 << 20

// freeBytes is the space an unprivileged process may still use on the
// file system holding dir (or its nearest existing parent); tests
// replace it.
var freeBytes = func(dir string) (uint64, error) {
	for {
		var st unix.Statfs_t
		err := unix.Statfs(dir, &st)
		if err == nil {
			return st.Bavail * uint64(st.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, os.ErrNotExist) || parent == dir {
			return 0, err
		}
		dir = parent
	}
}

// checkSpace refuses, with the numbers, an archive whose members do not
// fit in dir's file system with some headroom left.
func checkSpace(dir string, m *Manifest) error {
	free, err := freeBytes(dir)
	if err != nil {
		return fmt.Errorf("free space at %s: %w", dir, err)
	}
	need := uint64(m.Total()) + spaceHeadroom
	if need > free {
		return fmt.Errorf("%w: it unpacks to %s (%d bytes in %d files) plus %s of headroom, and %s has %s free; free some space there first",
			ErrNoSpace, human(uint64(m.Total())), m.Total(), len(m.Files), human(spaceHeadroom), dir, human(free))
	}
	return nil
}

// human writes a byte count in binary units.
func human(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
