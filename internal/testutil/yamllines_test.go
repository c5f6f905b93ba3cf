package testutil

import "testing"

func TestYAMLExtent(t *testing.T) {
	for _, tc := range []struct {
		in             string
		lines, longest int
	}{
		{"", 1, 0},
		{"ab", 1, 2},
		{"ab\n", 2, 2},
		{"a\r\nbcd\r\n", 3, 3},
		{" \r0", 2, 1},
		{"a\u0085bb\u2028ccc\u2029", 4, 3},
		{"\n\n\n", 4, 0},
	} {
		lines, longest := YAMLExtent([]byte(tc.in))
		if lines != tc.lines || longest != tc.longest {
			t.Errorf("YAMLExtent(%q) = %d lines, longest %d; want %d, %d", tc.in, lines, longest, tc.lines, tc.longest)
		}
	}
}

func TestNewlineExtent(t *testing.T) {
	for _, tc := range []struct {
		in             string
		lines, longest int
	}{
		{"", 1, 0},
		{"\"\r0", 1, 3},
		{"ab\ncde\n", 3, 3},
		{"a\r\nb", 2, 2},
	} {
		lines, longest := NewlineExtent([]byte(tc.in))
		if lines != tc.lines || longest != tc.longest {
			t.Errorf("NewlineExtent(%q) = %d lines, longest %d; want %d, %d", tc.in, lines, longest, tc.lines, tc.longest)
		}
	}
}
