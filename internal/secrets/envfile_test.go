package secrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

// Values that once broke .env: a trailing backslash was written as
// '…\', which the dotenv parser reads as an escaped quote, leaving the
// quote open to the end of the file.
var awkwardValues = []string{
	`long-password-ending-in\`,
	`two-backslashes\\`,
	`back\slash-inside`,
	`it's-got-a-quote`,
	`"double-quoted"`,
	`dollar-$HOME-and-${X}`,
	`$2a$10$abcdefghijklmnopqrstuu8d8Mf4uOq1XG0F3iA6i6W3yE0eUCzZq`,
	`hash # not a comment`,
	` leading and trailing spaces `,
	`tab	inside`,
	`back\'quote`,
	`back\"dq`,
	`\n is not a newline`,
	`ünïcødé-pässwörd`,
	"\xffnot-utf8\\",
	``,
}

func TestSetRoundTripsEveryStorableValue(t *testing.T) {
	s := spec.Default()
	for _, v := range awkwardValues {
		t.Run(v, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := secrets.Ensure(dir, s); err != nil {
				t.Fatal(err)
			}
			env, err := secrets.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			stack := env.StackPassword()
			if err := env.Set(s, "GRAFANA_ADMIN_PASSWORD", v); err != nil {
				t.Fatalf("Set: %v", err)
			}
			again, err := secrets.Load(dir)
			if err != nil {
				t.Fatalf(".env no longer loads after Set: %v", err)
			}
			if got := again.Get("GRAFANA_ADMIN_PASSWORD"); got != v {
				t.Errorf("read back %q, wrote %q", got, v)
			}
			if again.StackPassword() != stack {
				t.Error("Set changed another variable")
			}
		})
	}
}

func TestSetRefusesUnstorableValuesAndKeepsTheFile(t *testing.T) {
	s := spec.Default()
	for _, v := range []string{"line\nbreak", "carriage\rreturn", "nul\x00byte"} {
		dir := t.TempDir()
		if _, err := secrets.Ensure(dir, s); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, secrets.FileName)
		before, _ := os.ReadFile(p)
		env, _ := secrets.Load(dir)
		err := env.Set(s, "GRAFANA_ADMIN_PASSWORD", v)
		if !errors.Is(err, secrets.ErrUnstorable) {
			t.Errorf("Set(%q) = %v, want ErrUnstorable", v, err)
		}
		if err != nil && strings.Contains(err.Error(), v) {
			t.Errorf("the error shows the value: %v", err)
		}
		if after, _ := os.ReadFile(p); string(after) != string(before) {
			t.Errorf("a refused value changed .env")
		}
	}
}

// A broken .env must be reported by line and variable name, never by
// value: the parser's own message quotes the value (a password, a bcrypt
// hash).
func TestLoadErrorsNeverShowAValue(t *testing.T) {
	tests := []struct {
		name, content, secret, want string
	}{
		{"an unterminated single quote (the old trailing backslash)",
			"# x\nINVESTIQ_STACK_USER=investiq\nGRAFANA_ADMIN_PASSWORD='hunter2-secret\\'\nINVESTIQ_STACK_PASSWORD_BCRYPT='$2a$10$hashhashhashhashhash'\n",
			"hunter2-secret", ":3: GRAFANA_ADMIN_PASSWORD: "},
		{"an unterminated double quote",
			"A=1\nWEBHOOK_URL=\"https://hooks.example/s3cr3t-token\n",
			"s3cr3t-token", ":2: WEBHOOK_URL: "},
		{"a bad interpolation in a double-quoted value",
			"A=1\nB=2\nSLACK_API_URL=\"https://x/${tok3n-secret-part\"\n",
			"tok3n-secret-part", ":3: SLACK_API_URL: "},
		{"a bad variable name on a line holding a value",
			"GOOD=1\nBAD!NAME=p4ssw0rd-value\n",
			"p4ssw0rd-value", ":2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, secrets.FileName)
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := secrets.Load(dir)
			if err == nil {
				t.Fatal("a broken .env loaded")
			}
			if strings.Contains(err.Error(), tt.secret) || strings.Contains(err.Error(), "$2a$") {
				t.Errorf("the error shows a value: %v", err)
			}
			if !strings.Contains(err.Error(), p+tt.want) {
				t.Errorf("error %q does not point at %s%s", err, p, tt.want)
			}
			if !errors.Is(err, secrets.ErrParse) {
				t.Errorf("error is not ErrParse: %v", err)
			}
		})
	}
}

// FuzzEnvRoundTrip: whatever value Set accepts reads back unchanged, and
// every other variable stays as it was; what it refuses is refused with
// ErrUnstorable, leaves .env as it was and is never quoted in the error.
func FuzzEnvRoundTrip(f *testing.F) {
	for _, v := range awkwardValues {
		f.Add(v)
	}
	// Seeds from the fixtures: every value of testdata/*.env.
	fixtures, _ := filepath.Glob("testdata/*.env")
	for _, fx := range fixtures {
		vals, err := secrets.LoadFile(fx)
		if err != nil {
			f.Fatalf("%s: %v", fx, err)
		}
		for _, k := range vals.Keys() {
			f.Add(vals.Get(k))
		}
	}
	s := spec.Default()
	base := f.TempDir()
	if _, err := secrets.Ensure(base, s); err != nil {
		f.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(base, secrets.FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		dir := t.TempDir()
		p := filepath.Join(dir, secrets.FileName)
		if err := os.WriteFile(p, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		env, err := secrets.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		stack := env.StackPassword()
		err = env.Set(s, "GRAFANA_ADMIN_PASSWORD", v)
		if err != nil {
			if !errors.Is(err, secrets.ErrUnstorable) {
				t.Fatalf("Set failed with %v, want ErrUnstorable", err)
			}
			if len(v) >= 6 && strings.Contains(err.Error(), v) {
				t.Fatalf("the error shows the value: %v", err)
			}
			if now, _ := os.ReadFile(p); string(now) != string(orig) {
				t.Fatal("a refused value changed .env")
			}
			return
		}
		again, err := secrets.Load(dir)
		if err != nil {
			t.Fatalf(".env does not load after Set: %v", err)
		}
		if got := again.Get("GRAFANA_ADMIN_PASSWORD"); got != v {
			t.Fatalf("read back %q, wrote %q", got, v)
		}
		if again.StackPassword() != stack {
			t.Fatal("Set changed another variable")
		}
	})
}

func TestBackupKey(t *testing.T) {
	s := spec.Default()
	t.Run("a new .env gets a random backup key of 32 bytes", func(t *testing.T) {
		a, b := t.TempDir(), t.TempDir()
		for _, d := range []string{a, b} {
			if _, err := secrets.Ensure(d, s); err != nil {
				t.Fatal(err)
			}
		}
		ea, _ := secrets.Load(a)
		eb, _ := secrets.Load(b)
		if len(ea.BackupKey()) != 43 || string(ea.BackupKey()) == string(eb.BackupKey()) {
			t.Errorf("keys %d and %d characters, equal %v; want 43 and different", len(ea.BackupKey()), len(eb.BackupKey()), string(ea.BackupKey()) == string(eb.BackupKey()))
		}
		found := false
		for _, v := range ea.Values(s) {
			found = found || v == string(ea.BackupKey())
		}
		if !found {
			t.Error("the backup key is not among the values leak checks look for")
		}
	})
	t.Run("an older .env gains a key and keeps every line", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, secrets.FileName)
		old := "# mine\nINVESTIQ_STACK_PASSWORD=correct-horse-battery\n"
		os.WriteFile(p, []byte(old), 0o600)
		env, err := secrets.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		added, err := env.EnsureBackupKey(s)
		if err != nil || !added {
			t.Fatalf("EnsureBackupKey: %v, added %v", err, added)
		}
		data, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(data), old) || len(env.BackupKey()) != 43 {
			t.Errorf(".env after: %d bytes, key %d characters", len(data), len(env.BackupKey()))
		}
		if added, _ := env.EnsureBackupKey(s); added {
			t.Error("a second call added another key")
		}
	})
}

// brokenEnv is a file of about size bytes: valid variables, then an
// unterminated quote on its last line, the worst case for finding the
// failing line (every line before it parses).
func brokenEnv(size int) ([]byte, int) {
	var b strings.Builder
	line := 0
	for b.Len() < size-40 {
		line++
		b.WriteString("VAR_" + strings.Repeat("X", 8) + "_" + strconv.Itoa(line) + "=plain-value-" + strconv.Itoa(line) + "\n")
	}
	b.WriteString("BROKEN='never closed\n")
	return []byte(b.String()), line + 1
}

// A broken line at the end of a large file is found, and named by its
// number; the file is read once per line, not once per prefix.
func TestLoadFindsTheBrokenLineOfALargeFile(t *testing.T) {
	data, want := brokenEnv(900 << 10)
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := secrets.LoadFile(p)
	if !errors.Is(err, secrets.ErrParse) || !strings.Contains(err.Error(), p+":"+strconv.Itoa(want)+": BROKEN") {
		t.Errorf("got %v, want a parse error at %s:%d: BROKEN", err, p, want)
	}
}

// A file past MaxFileSize is refused before it is parsed, with the limit.
func TestLoadRefusesAFilePastTheLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(strings.Repeat("A=b\n", secrets.MaxFileSize/4+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := secrets.LoadFile(p)
	if !errors.Is(err, secrets.ErrTooLarge) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("got %v, want ErrTooLarge naming %s and the limit", err, p)
	}
	// At the limit exactly, it is read.
	if err := os.WriteFile(p, []byte(strings.Repeat("A=b\n", secrets.MaxFileSize/4)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.LoadFile(p); err != nil {
		t.Errorf("a file of exactly %d bytes: %v", secrets.MaxFileSize, err)
	}
}

// A .env that is a named pipe (or a directory) is refused at once, not
// read: reading a FIFO blocks until someone writes to it.
func TestLoadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for p, kind := range map[string]string{fifo: "a named pipe", dir: "a directory"} {
		_, err := secrets.LoadFile(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not a regular file ("+kind+")") {
			t.Errorf("%s: got %v, want a refusal naming the file and %s", p, err, kind)
		}
	}
}

// go test -bench BenchmarkLoadBrokenEnv ./internal/secrets: ns/op of the
// 1 MB case over the 1 KB one is the growth factor; linear is ~1000x.
func BenchmarkLoadBrokenEnv(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KB", 1000}, {"1MB", 1000000}} {
		data, _ := brokenEnv(size.n)
		p := filepath.Join(b.TempDir(), ".env")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				if _, err := secrets.LoadFile(p); !errors.Is(err, secrets.ErrParse) {
					b.Fatal(err)
				}
			}
		})
	}
}
