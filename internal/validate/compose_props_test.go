package validate

import (
	"fmt"
	"slices"
	"testing"
)

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

// compose-go names one service that is not a mapping, the first its map
// walk meets; validate names each, in the file's order, every run.
func TestEveryServiceThatIsNotAMappingIsNamedInOrder(t *testing.T) {
	data := []byte("services:\n    02B: 11\n    ok: {image: x}\n    empty:\n    0A: [1]\n")
	for range 5 {
		res := runKind(t, KindCompose, "docker-compose.yml", data)
		var got []string
		for _, fd := range res.Findings {
			got = append(got, fmt.Sprintf("%d:%d %s", fd.Line, fd.Col, fd.Message))
		}
		want := []string{
			"2:5 services.02B must be a mapping (a null entry is allowed)",
			"5:5 services.0A must be a mapping (a null entry is allowed)",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("findings %q, want %q", got, want)
		}
	}
}
