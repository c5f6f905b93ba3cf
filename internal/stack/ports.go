package stack

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrPortBusy is returned when a port the stack needs is taken.
var ErrPortBusy = errors.New("port in use")

// checkPort fails when addr (127.0.0.1:port) cannot be bound, naming what
// holds it when /proc tells: "port 9090 is in use by pid 812 (prometheus)".
// flag is the option that moves the component elsewhere.
func checkPort(addr, flag string) error {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return nil
	}
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	who := "another program"
	if pid, name, ok := portHolder(port); ok {
		who = fmt.Sprintf("pid %d (%s)", pid, name)
	}
	return fmt.Errorf("%w: %s is held by %s: stop it, or choose another port with %s", ErrPortBusy, addr, who, flag)
}

// portHolder finds the process listening on a TCP port: the socket's inode
// from /proc/net/tcp{,6}, then the process whose fd links to that inode.
// Processes of other users cannot be inspected; then ok is false.
func portHolder(port int) (pid int, name string, ok bool) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listeningInodes(f, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return 0, "", false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, err := os.ReadDir(filepath.Join(p, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pid, _ := strconv.Atoi(filepath.Base(p))
				comm, _ := os.ReadFile(filepath.Join(p, "comm"))
				return pid, strings.TrimSpace(string(comm)), true
			}
		}
	}
	return 0, "", false
}

// listeningInodes parses one /proc/net/tcp table: local_address is
// HEXIP:HEXPORT, st 0A is LISTEN, inode is the tenth column.
func listeningInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}
