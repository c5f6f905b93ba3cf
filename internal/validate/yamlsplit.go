package validate

import (
	"bytes"
	"sync"

	yamlr "go.yaml.in/yaml/v3"
)

// splitRuleGroupsMin is the size below which a rule file is parsed in one
// piece: splitting pays only on big files.
const splitRuleGroupsMin = 256 << 10

// parseGroupsSplit parses a big block-style rule file in parts, one per
// CPU, and joins them into the node tree a whole parse gives (positions
// included). The YAML parser is single-threaded and is the largest cost
// of checking a big rule file that is not spread over the CPUs.
//
// The file is cut only before the items of its top-level `groups:` list
// (lines that start with the list's indentation and "- "), and only when
// `groups` is its one top-level key and nothing in it marks documents or
// directives. A cut that lands inside a multi-line quoted or flow scalar,
// or that separates an alias from its anchor, leaves a part that does not
// parse; any part that fails, or does not come out as a plain list, makes
// the caller parse the file whole. TestSplitParseMatchesWholeParse holds
// the joined tree to the whole one.
func parseGroupsSplit(data []byte, parts int) (*yamlr.Node, bool) {
	if parts < 2 || len(data) < splitRuleGroupsMin {
		return nil, false
	}
	cuts, ok := groupItemStarts(data)
	if !ok || len(cuts) < 2 {
		return nil, false
	}
	// Pick parts-1 cut points that split the bytes evenly.
	bounds := []int{0}
	for p := 1; p < parts; p++ {
		target := len(data) * p / parts
		best := -1
		for _, c := range cuts[1:] {
			if c > bounds[len(bounds)-1] && (best < 0 || abs(c-target) < abs(best-target)) {
				best = c
			}
		}
		if best > bounds[len(bounds)-1] {
			bounds = append(bounds, best)
		}
	}
	bounds = append(bounds, len(data))
	n := len(bounds) - 1
	if n < 2 {
		return nil, false
	}
	docs := make([]yamlr.Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = yamlr.Unmarshal(data[bounds[i]:bounds[i+1]], &docs[i]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, false
		}
	}
	// The first part holds `groups:` and the first items; the others are
	// lists of items, each parsed from its first line.
	first := &docs[0]
	if first.Kind != yamlr.DocumentNode || len(first.Content) != 1 {
		return nil, false
	}
	root := first.Content[0]
	if root.Kind != yamlr.MappingNode || len(root.Content) != 2 || root.Content[0].Value != "groups" {
		return nil, false
	}
	list := root.Content[1]
	if list.Kind != yamlr.SequenceNode || list.Style&yamlr.FlowStyle != 0 {
		return nil, false
	}
	for i := 1; i < n; i++ {
		d := &docs[i]
		if d.Kind != yamlr.DocumentNode || len(d.Content) != 1 {
			return nil, false
		}
		items := d.Content[0]
		if items.Kind != yamlr.SequenceNode || items.Style&yamlr.FlowStyle != 0 || items.Column != list.Column {
			return nil, false
		}
		offset := bytes.Count(data[:bounds[i]], []byte{'\n'})
		for _, it := range items.Content {
			shiftLines(it, offset)
		}
		list.Content = append(list.Content, items.Content...)
	}
	return first, true
}

// groupItemStarts returns the byte offsets of the lines that start an item
// of the top-level groups list, or false when the file is not the plain
// block-style shape parseGroupsSplit cuts.
func groupItemStarts(data []byte) ([]int, bool) {
	var starts []int
	indent := -1
	seenGroups := false
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		line := data[off:end]
		switch {
		case len(line) == 0 || line[0] == '#':
		case line[0] == '%' || bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")):
			return nil, false // directives and document markers
		case line[0] != ' ' && line[0] != '-':
			// A top-level key: only `groups:` with its list below.
			if seenGroups || !bytes.Equal(bytes.TrimRight(line, " \r"), []byte("groups:")) {
				return nil, false
			}
			seenGroups = true
		default:
			if !seenGroups {
				return nil, false
			}
			sp := 0
			for sp < len(line) && line[sp] == ' ' {
				sp++
			}
			if sp < len(line) && line[sp] == '-' && (sp+1 == len(line) || line[sp+1] == ' ') {
				if indent < 0 {
					indent = sp
				}
				if sp == indent {
					starts = append(starts, off)
				}
			}
		}
		off = end + 1
	}
	return starts, seenGroups && indent >= 0
}

func shiftLines(n *yamlr.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
