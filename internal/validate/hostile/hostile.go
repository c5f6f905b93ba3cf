// Package hostile makes the hostile inputs of the bounded-resources tests
// (issue 17): a 100 MB file, YAML alias bombs and 10,000-deep nesting, as
// rule files, a dashboard and rule-test files.
package hostile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BigSize is the size of the big files: 100 MB.
const BigSize = 100 << 20

// Depth is how deep the nested files nest.
const Depth = 10000

// Files maps each file name to the kind validate checks it as ("" for
// the rule-test files, which `test` reads).
var Files = map[string]string{
	"big-rules.yml":  "rules",
	"bomb-rules.yml": "rules",
	"deep-flow.yml":  "rules",
	"deep-block.yml": "rules",
	"deep.json":      "dashboard",
	"big-test.yml":   "",
	"bomb-test.yml":  "",
	"deep-test.yml":  "",
}

// Bomb is a YAML alias bomb: nine levels of nine aliases of the level
// below, 9^9 (387 million) strings once expanded, under key.
func Bomb(key string) string {
	var b strings.Builder
	b.WriteString("x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*x%d", i-1)
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "%s: *x9\n", key)
	return b.String()
}

// DeepFlow is key: followed by depth nested flow sequences.
func DeepFlow(key string, depth int) string {
	return key + ": " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
}

// DeepBlock is key: followed by depth nested block sequences on one line.
func DeepBlock(key string, depth int) string {
	return key + ":\n  " + strings.Repeat("- ", depth) + "x\n"
}

// WriteAll writes every file of Files into dir.
func WriteAll(dir string) error {
	small := map[string]string{
		"bomb-rules.yml": Bomb("groups"),
		"deep-flow.yml":  DeepFlow("groups", Depth),
		"deep-block.yml": DeepBlock("groups", Depth),
		"deep.json":      strings.Repeat("[", Depth) + strings.Repeat("]", Depth) + "\n",
		"bomb-test.yml":  Bomb("tests"),
		"deep-test.yml":  DeepFlow("tests", Depth),
	}
	for name, body := range small {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	if err := write(filepath.Join(dir, "big-rules.yml"), "groups:\n  - name: big\n    rules:\n", func(i int) string {
		return fmt.Sprintf("      - record: big:rule_%d:rate5m\n        expr: sum(rate(investiq_requests_total{endpoint=\"/api/%d\"}[5m]))\n", i, i)
	}); err != nil {
		return err
	}
	return write(filepath.Join(dir, "big-test.yml"), "tests:\n  - interval: 1m\n    input_series:\n", func(i int) string {
		return fmt.Sprintf("      - series: 'up{job=\"api\",instance=\"i%d\"}'\n        values: '1 1 1 1'\n", i)
	})
}

// write writes head, then unit(0), unit(1)... until the file holds
// BigSize bytes.
func write(p, head string, unit func(i int) string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, _ := w.WriteString(head)
	for i := 0; n < BigSize; i++ {
		m, _ := w.WriteString(unit(i))
		n += m
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
