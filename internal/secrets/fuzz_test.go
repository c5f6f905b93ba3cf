package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/investiq/investiq-mon/internal/secrets"
)

var envLineRE = regexp.MustCompile(`\.env:(\d+)`)

// FuzzEnvFile is the .env reader on any bytes (issue 17): the same file
// read twice gives the same answer; a refusal is ErrParse, names a line
// of the file and quotes no value from it (a .env holds passwords).
func FuzzEnvFile(f *testing.F) {
	fixtures, _ := filepath.Glob("testdata/*.env")
	for _, fx := range fixtures {
		data, err := os.ReadFile(fx)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if ex, err := os.ReadFile("../../monitoring/.env.example"); err == nil {
		f.Add(ex)
	}
	f.Add([]byte("A='secret-one\nB=\"open ${X\n"))
	f.Add([]byte("PASSWORD=hunter2-hunter2\\\nX=\"unterminated-secret-value\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		v1, err1 := secrets.LoadFile(p)
		v2, err2 := secrets.LoadFile(p)
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("unstable: %v, then %v", err1, err2)
		}
		if err1 == nil {
			for _, k := range v1.Keys() {
				if v1.Get(k) != v2.Get(k) {
					t.Fatalf("%s read differently twice", k)
				}
			}
			return
		}
		if !errors.Is(err1, secrets.ErrParse) {
			return // unreadable, not a parse error
		}
		msg := err1.Error()
		lines := strings.Split(string(data), "\n")
		if m := envLineRE.FindStringSubmatch(msg); m != nil {
			if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(lines) {
				t.Errorf("error names line %d of %d: %s", n, len(lines), msg)
			}
		}
		// No value of 8 characters or more shows in the error, unless it
		// is also a name or words of the message itself.
		rest := strings.ReplaceAll(msg, p, "")
		for _, l := range lines {
			_, v, ok := strings.Cut(l, "=")
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			if !ok || len(v) < 8 || !strings.Contains(rest, v) {
				continue
			}
			if strings.Contains(string(data), v+"=") || strings.Contains(secretsWords, v) {
				continue
			}
			t.Errorf("the error quotes a value from the file (%q): %s", v, msg)
		}
	})
}

// secretsWords is the fixed text of parse errors: a value that is a
// piece of it is no leak.
const secretsWords = "the value is not shown; fix the line by hand, or delete it and run `investiq-mon generate` to create it again " +
	"a quoted value is not closed (a value ending in a backslash escapes its closing quote) " +
	"not a NAME=value line (a name holds only letters, digits and _ . -) a variable name holds a space " +
	"a ${...} in a double-quoted or unquoted value is not valid (use single quotes, or \\$ for a literal $) the dotenv parser refuses it"
