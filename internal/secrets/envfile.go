package secrets

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
)

// .env is read by compose-go's dotenv parser, here and by docker compose
// itself, so this file writes values in the forms that parser reads back
// verbatim, and checks that it does before anything is written.

// ErrUnstorable is returned for a value .env cannot hold verbatim.
var ErrUnstorable = errors.New("value cannot be stored in .env verbatim")

// CheckValue refuses what no quoting can carry through a line-based file
// and the environment of a process. Every other value is stored so that
// it reads back verbatim.
func CheckValue(v string) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return fmt.Errorf("%w: it holds a line break or a NUL byte", ErrUnstorable)
	}
	return nil
}

var plainValue = regexp.MustCompile(`^[A-Za-z0-9_./:@+-]*$`)

// quote writes v so the dotenv parser reads v back:
//   - plain characters unquoted;
//   - otherwise single quotes, which keep $ literal (bcrypt hashes are full
//     of $, which compose would interpolate); inside them the parser
//     still treats a backslash before a quote as an escape, so a value
//     with a backslash or a single quote cannot use them;
//   - otherwise double quotes, with \, " and $ escaped (the parser
//     expands \\, \" and \$ back; \$ stops interpolation).
func quote(v string) string {
	switch {
	case plainValue.MatchString(v):
		return v
	case !strings.ContainsAny(v, `'\`):
		return "'" + v + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ { // bytes: a value need not be UTF-8
		switch v[i] {
		case '\\', '"', '$':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// roundTrips parses the text about to be written and compares every
// variable with want. The error names variables, never values.
func roundTrips(path string, data []byte, want map[string]string) error {
	got, err := parseEnv(path, data)
	if err != nil {
		return fmt.Errorf("%w (the file was not written)", errors.Join(ErrUnstorable, err))
	}
	var bad []string
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("%s: %s would not read back as written: %w (the file was not written)", path, strings.Join(bad, ", "), ErrUnstorable)
	}
	return nil
}

// noLookup: a .env value never takes anything from the environment of
// the process reading it.
func noLookup(string) (string, bool) { return "", false }

var parserLine = regexp.MustCompile(`^line (\d+): `)

// parseEnv parses an env file. The parser's errors quote the offending
// text (a password, a hash), so they are replaced by one that names the
// line and, when that line starts a variable, its name.
func parseEnv(path string, data []byte) (map[string]string, error) {
	vals, err := dotenv.UnmarshalBytesWithLookup(data, noLookup)
	if err == nil {
		return vals, nil
	}
	line := failingLine(data)
	where := path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", path, line)
		lines := strings.Split(string(data), "\n")
		if m := lineKey.FindStringSubmatch(lines[line-1]); m != nil {
			where += ": " + m[1]
		}
	}
	return nil, fmt.Errorf("%s: %w: %s (the value is not shown; fix the line by hand, or delete it and run `investiq-mon generate` to create it again)", where, ErrParse, parseProblem(err))
}

// maxStatementLines is how many lines failingLine lets one variable span
// (a quoted value may hold line breaks; the values generate writes never
// do). A longer one is reported at its first line.
const maxStatementLines = 64

// failingLine finds the line a parse error starts at: the first line at
// which no variable of at most maxStatementLines lines parses, reading
// the file one variable at a time with the values before it as its
// lookup, as the whole-file parse sees them. The parser's own line
// number is of no use: for an open quote it counts to the end of the
// file. Linear in the file's size (each line is parsed at most
// maxStatementLines times over); it once parsed every prefix of the file,
// which took minutes on a broken 1 MB file.
func failingLine(data []byte) int {
	lines := strings.SplitAfter(string(data), "\n")
	seen := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := seen[k]; return v, ok }
	for s := 0; s < len(lines); {
		e := s + 1
		var vals map[string]string
		parsed := false
		for ; e <= len(lines) && e-s <= maxStatementLines; e++ {
			var err error
			if vals, err = dotenv.UnmarshalWithLookup(strings.Join(lines[s:e], ""), lookup); err == nil {
				parsed = true
				break
			}
		}
		if !parsed {
			return s + 1
		}
		for k, v := range vals {
			seen[k] = v
		}
		s = e
	}
	return 0
}

// parseProblem says what kind of error the parser found, in words that
// hold nothing from the file.
func parseProblem(err error) string {
	msg := parserLine.ReplaceAllString(err.Error(), "")
	switch {
	case strings.HasPrefix(msg, "unterminated quoted value"):
		return "a quoted value is not closed (a value ending in a backslash escapes its closing quote)"
	case strings.HasPrefix(msg, "unexpected character"):
		return "not a NAME=value line (a name holds only letters, digits and _ . -)"
	case strings.HasPrefix(msg, "key cannot contain a space"):
		return "a variable name holds a space"
	case strings.Contains(strings.ToLower(msg), "template"), strings.Contains(msg, "required variable"):
		return "a ${...} in a double-quoted or unquoted value is not valid (use single quotes, or \\$ for a literal $)"
	}
	return "the dotenv parser refuses it"
}
