package testutil

import "unicode/utf8"

// YAMLExtent is how many lines data has and how long (in bytes) its
// longest is, counting every line break YAML 1.1 knows (\n, \r\n, \r,
// NEL, LS, PS): yaml.v3 counts lines by them, so a position may rightly
// be on line 2 of " \r0". Fuzz targets use it to check that a reported
// position lies inside the input.
func YAMLExtent(data []byte) (lines, longest int) {
	start := 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		brk := 0
		switch {
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
			brk = 2
		case r == '\n' || r == '\r':
			brk = 1
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			brk = size
		}
		if brk > 0 {
			lines++
			longest = max(longest, i-start)
			i += brk
			start = i
			continue
		}
		i += size
	}
	return lines + 1, max(longest, len(data)-start)
}

// NewlineExtent is YAMLExtent for formats that break lines at \n only,
// as JSON's positions are counted (a raw \r sits inside a line there).
func NewlineExtent(data []byte) (lines, longest int) {
	start := 0
	for i, b := range data {
		if b == '\n' {
			lines++
			longest = max(longest, i-start)
			start = i + 1
		}
	}
	return lines + 1, max(longest, len(data)-start)
}
