package validate

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The upstream loaders report YAML problems as text ("line 7: field foo
// not found"); these helpers turn that text, or a value named in it, back
// into a position using yaml.v3's node tree.

var yamlLineRE = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// yamlErrorPos is the first "line N[, column M]" in a YAML error.
func yamlErrorPos(err error) (int, int) {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, 0
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	return line, col
}

// locatedMsg is one message of a YAML error and where it points.
type locatedMsg struct {
	line, col int
	msg       string
}

// splitYAMLError splits "yaml: unmarshal errors:\n  line 3: a\n  line 9: b"
// into one message per line, so that each is reported where it is.
func splitYAMLError(msg string) []locatedMsg {
	const multi = "unmarshal errors:\n"
	if i := strings.Index(msg, multi); i >= 0 {
		var out []locatedMsg
		for _, l := range strings.Split(msg[i+len(multi):], "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			out = append(out, oneYAMLMsg(l))
		}
		return out
	}
	return []locatedMsg{oneYAMLMsg(msg)}
}

var yamlLinePrefixRE = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?:, column (\d+))?: `)

func oneYAMLMsg(s string) locatedMsg {
	s = strings.TrimSpace(s)
	if m := yamlLinePrefixRE.FindStringSubmatch(s); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return locatedMsg{line, col, "yaml: " + s[len(m[0]):]}
	}
	line, col := yamlErrorPos(errString(s))
	return locatedMsg{line, col, s}
}

type errString string

func (e errString) Error() string { return string(e) }

func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return docRoot(&doc), nil
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return doc.Content[0]
	}
	return doc
}

// mapGet returns the value of key in a mapping node.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	_, v := mapEntry(m, key)
	return v
}

// mapEntry returns the key and value nodes of key in a mapping node.
func mapEntry(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	if m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// walkYAML calls fn for every mapping entry below n, with the chain of
// keys leading to it (sequence items add no key).
func walkYAML(n *yaml.Node, path []string, fn func(path []string, k, v *yaml.Node)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkYAML(c, path, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(path[:len(path):len(path)], k.Value)
			fn(p, k, v)
			walkYAML(v, p, fn)
		}
	}
}

var quotedRE = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// locateByQuoted finds where an error without a position points, by the
// values it quotes: `undefined receiver "pager" used in route` is at the
// scalar "pager". Values beat keys; the most specific (last quoted) string
// that is found wins ties in order of appearance in the message.
//
// A message about a repeated value ("multiple scrape configs with job name
// \"api\"", "is not unique") points at its last occurrence: the first
// one was fine until another came along.
func locateByQuoted(root *yaml.Node, msg string) (int, int) {
	nth := 0
	lower := strings.ToLower(msg)
	for _, w := range []string{"multiple", "duplicate", "not unique", "repeated"} {
		if strings.Contains(lower, w) {
			nth = 1
		}
	}
	for _, m := range quotedRE.FindAllStringSubmatch(msg, -1) {
		want, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil || want == "" {
			continue
		}
		for _, keys := range []bool{false, true} {
			var found []*yaml.Node
			collectScalars(root, want, keys, &found)
			if len(found) > 0 {
				n := found[0]
				if nth > 0 {
					n = found[len(found)-1]
				}
				return n.Line, n.Column
			}
		}
	}
	return 0, 0
}

func collectScalars(n *yaml.Node, value string, keys bool, out *[]*yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if !keys && n.Value == value {
			*out = append(*out, n)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if keys && n.Content[i].Value == value {
				*out = append(*out, n.Content[i])
			}
			collectScalars(n.Content[i+1], value, keys, out)
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectScalars(c, value, keys, out)
		}
	}
}

// locateKey finds the first mapping key named key anywhere in the tree.
func locateKey(root *yaml.Node, key string) (int, int) {
	line, col := 0, 0
	walkYAML(root, nil, func(_ []string, k, _ *yaml.Node) {
		if line == 0 && k.Value == key {
			line, col = k.Line, k.Column
		}
	})
	return line, col
}

// findScalar returns the first scalar with the given value: a mapping key
// when keys is set, otherwise a value or sequence item.
func findScalar(n *yaml.Node, value string, keys bool) *yaml.Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if !keys && n.Value == value {
			return n
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if keys && n.Content[i].Value == value {
				return n.Content[i]
			}
			if r := findScalar(n.Content[i+1], value, keys); r != nil {
				return r
			}
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if r := findScalar(c, value, keys); r != nil {
				return r
			}
		}
	}
	return nil
}

// exprPos maps a byte offset inside a YAML scalar's value to a file
// position. Plain and quoted single-line scalars map exactly; block scalars
// map to the right line at the block's indentation.
func exprPos(data []byte, n *yaml.Node, offset int) (int, int) {
	if n == nil {
		return 0, 0
	}
	v := n.Value
	if offset > len(v) {
		offset = len(v)
	}
	if offset < 0 {
		offset = 0
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		before := v[:offset]
		nl := strings.Count(before, "\n")
		lastNL := strings.LastIndexByte(before, '\n')
		// A block's content starts on the line after its indicator, at
		// the indentation of its first line.
		return n.Line + 1 + nl, blockIndent(data, n.Line+1) + (offset - lastNL - 1)
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if !strings.Contains(v[:offset], "\n") {
			return n.Line, n.Column + 1 + offset
		}
	default:
		if !strings.Contains(v[:offset], "\n") {
			return n.Line, n.Column + offset
		}
	}
	return n.Line, n.Column
}

// blockIndent is the 1-based column where the text of a 1-based line starts.
func blockIndent(data []byte, line int) int {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return 1
		}
		data = data[j+1:]
	}
	return 1 + len(data) - len(bytes.TrimLeft(data, " \t"))
}

var fieldNotFoundRE = regexp.MustCompile(`field (\S+) not found`)

// at places one YAML loader message: its own line, with the column of the
// unknown field it names when it gives none.
func (lm locatedMsg) at(root *yaml.Node) (int, int) {
	line, col := lm.line, lm.col
	if line > 0 && col == 0 {
		if m := fieldNotFoundRE.FindStringSubmatch(lm.msg); m != nil {
			walkYAML(root, nil, func(_ []string, k, _ *yaml.Node) {
				if col == 0 && k.Line == line && k.Value == m[1] {
					col = k.Column
				}
			})
		}
	}
	return line, col
}

var wordRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*`)

// stopWords are the words of loader messages that say nothing about where
// the problem is.
var stopWords = map[string]bool{"the": true, "and": true, "for": true, "with": true, "must": true,
	"not": true, "set": true, "only": true, "one": true, "most": true, "requires": true, "value": true,
	"config": true, "configuration": true, "fields": true, "other": true, "empty": true, "null": true,
	"section": true, "either": true, "inline": true, "file": true, "missing": true, "configured": true,
	"nor": true, "can": true, "cannot": true, "are": true, "has": true, "have": true, "name": true}

// locateByWords is the last resort for a message without a position or a
// quoted value: the first key it names (slack_api_url, or "scrape config"
// for scrape_configs), else the first value it names (an action such as
// dropequal).
func locateByWords(root *yaml.Node, msg string) (int, int) {
	var words []string
	for _, w := range wordRE.FindAllString(msg, -1) {
		if len(w) >= 3 && !stopWords[strings.ToLower(w)] {
			words = append(words, strings.ToLower(w))
		}
	}
	all := wordRE.FindAllString(strings.ToLower(msg), -1)
	var keys []string
	keys = append(keys, words...)
	for i := 0; i+1 < len(all); i++ {
		k := all[i] + "_" + all[i+1]
		keys = append(keys, k, k+"s")
	}
	for _, k := range keys {
		if line, col := locateKey(root, k); line > 0 {
			return line, col
		}
	}
	for _, w := range words {
		if n := findScalar(root, w, false); n != nil {
			return n.Line, n.Column
		}
	}
	return 0, 0
}
