// Command hostilegen writes the hostile inputs of issue 17's bounded
// resources tests into a directory: bench/hostile.sh and the tests of
// validate and test use the same files.
package main

import (
	"fmt"
	"os"

	"github.com/investiq/investiq-mon/internal/validate/hostile"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hostilegen DIR")
		os.Exit(2)
	}
	if err := hostile.WriteAll(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
