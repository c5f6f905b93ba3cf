package stack

// ProcessRuns reports whether pid is alive and runs exactly path with
// args (the /proc cmdline check the pid files use), for other packages'
// records of a process, such as the stack lock's holder.
func ProcessRuns(pid int, path string, args []string) bool {
	return processRuns(pid, Process{Path: path, Args: args})
}
