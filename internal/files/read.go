package files

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

var (
	// ErrNotRegular is a path that is a device, FIFO, socket or
	// directory: reading /dev/zero never ends and a FIFO blocks until
	// someone writes to it.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is a file past the limit its reader set.
	ErrTooLarge = errors.New("file too large")
)

// CheckReadable says whether path is a regular file of at most limit
// bytes, without reading it.
func CheckReadable(path string, limit int64) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkInfo(fi, limit); err != nil {
		return nil, err
	}
	return fi, nil
}

func checkInfo(fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w (%s): only regular files are read", ErrNotRegular, modeName(fi.Mode()))
	}
	if fi.Size() > limit {
		return fmt.Errorf("%w: %d bytes, past the %s limit", ErrTooLarge, fi.Size(), SizeName(limit))
	}
	return nil
}

// ReadBounded reads a regular file of at most limit bytes: every reader
// of user input (validate, test, .env) goes through it, so a 100 MB file
// or a path like /dev/zero is an error at that file, not a read that
// exhausts memory or never ends. The limit holds for the bytes read as
// well as for the size stat reports, so a file that grows meanwhile is
// cut off at limit+1 bytes.
func ReadBounded(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would wait for a writer.
	// The checks are made on what was opened, so a path swapped for a
	// FIFO or device after a look at it is refused all the same.
	fd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		// A socket cannot be opened at all: say what it is.
		if _, serr := CheckReadable(path, limit); serr != nil && !errors.Is(serr, fs.ErrNotExist) {
			return nil, serr
		}
		return nil, err
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkInfo(fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(fd, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: past the %s limit", ErrTooLarge, SizeName(limit))
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

// SizeName writes a limit as people set it: 32 MiB, 64 KiB, 100 bytes.
func SizeName(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
