package validate

import "testing"

// The schema's unknown-key list comes from a map; sortedProperties gives
// one file one finding whatever the map's order, keys with quotes and
// commas of their own included (both found by FuzzCompose).
func TestSortedProperties(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`additional properties 'b', 'a' not allowed`, `additional properties 'a', 'b' not allowed`},
		{`x: additional properties '0790', 'n\'10', '0000' not allowed`, `x: additional properties '0000', '0790', 'n\'10' not allowed`},
		{`additional properties 'z', 'a, b' not allowed`, `additional properties 'a, b', 'z' not allowed`},
		{`no list here`, `no list here`},
	} {
		if got := sortedProperties(tc.in); got != tc.want {
			t.Errorf("sortedProperties(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
