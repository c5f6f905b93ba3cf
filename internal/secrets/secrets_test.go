package secrets_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/investiq/investiq-mon/internal/secrets"
	"github.com/investiq/investiq-mon/spec"
)

func TestEnsure(t *testing.T) {
	s := spec.Default()

	t.Run("a first run creates .env 0600 with random generated secrets", func(t *testing.T) {
		dir := t.TempDir()
		res, err := secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Created {
			t.Error("Created = false on a fresh directory")
		}
		fi, err := os.Stat(filepath.Join(dir, secrets.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf(".env mode %04o, want 0600", fi.Mode().Perm())
		}
		env, err := secrets.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range s.Secrets() {
			v := env.Get(sec.Env)
			if sec.Generated && len(v) < 24 {
				t.Errorf("%s = %d characters, want a random password of at least 24", sec.Env, len(v))
			}
			if !sec.Generated && v != "" {
				t.Errorf("%s is the operator's to fill in, got a value", sec.Env)
			}
		}
		if env.Get("GRAFANA_ADMIN_PASSWORD") == "admin" {
			t.Error("Grafana password is admin")
		}
		if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "DISCORD_WEBHOOK_URL, SLACK_API_URL") || !strings.Contains(w, "cannot deliver") {
			t.Errorf("no warning names the receiver secrets still to fill in: %q", w)
		}
		hash := env.Get(spec.EnvStackBcrypt)
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(env.StackPassword())); err != nil {
			t.Errorf("bcrypt hash does not match the stack password: %v", err)
		}
	})

	t.Run("two fresh directories get different passwords", func(t *testing.T) {
		a, b := t.TempDir(), t.TempDir()
		for _, d := range []string{a, b} {
			if _, err := secrets.Ensure(d, s); err != nil {
				t.Fatal(err)
			}
		}
		ea, _ := secrets.Load(a)
		eb, _ := secrets.Load(b)
		if ea.StackPassword() == eb.StackPassword() {
			t.Error("two .env files share a stack password")
		}
	})

	t.Run("a second run changes nothing", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := secrets.Ensure(dir, s); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(filepath.Join(dir, secrets.FileName))
		res, err := secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(filepath.Join(dir, secrets.FileName))
		if res.Created || len(res.Updated) > 0 || string(before) != string(after) {
			t.Errorf("second run rewrote .env (created %v, updated %v)", res.Created, res.Updated)
		}
	})

	t.Run("a hand-changed stack password gets a new bcrypt hash; other lines stay", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, secrets.FileName)
		if err := os.WriteFile(p, []byte("# mine\nINVESTIQ_STACK_PASSWORD=correct-horse-battery\nDISCORD_WEBHOOK_URL=https://discord.example/x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(res.Updated, " "), spec.EnvStackBcrypt) {
			t.Errorf("Updated = %v, want it to name %s", res.Updated, spec.EnvStackBcrypt)
		}
		data, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(data), "# mine\nINVESTIQ_STACK_PASSWORD=correct-horse-battery\nDISCORD_WEBHOOK_URL=https://discord.example/x\n") {
			t.Errorf("existing lines were not kept:\n%s", data)
		}
		env, _ := secrets.Load(dir)
		if err := bcrypt.CompareHashAndPassword([]byte(env.Get(spec.EnvStackBcrypt)), []byte("correct-horse-battery")); err != nil {
			t.Errorf("hash does not follow the hand-set password: %v", err)
		}
	})

	t.Run("the hash's sum: a changed password is re-hashed, an older .env gets its sum, a steady one no bcrypt", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := secrets.Ensure(dir, s); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, secrets.FileName)
		env, _ := secrets.Load(dir)
		oldPW, oldHash, oldSum := env.StackPassword(), env.Get(spec.EnvStackBcrypt), env.Get(spec.EnvStackBcryptSum)
		if len(oldSum) != 64 {
			t.Fatalf("%s = %q, want a hex SHA-256", spec.EnvStackBcryptSum, oldSum)
		}
		edit := func(from, to string) {
			t.Helper()
			data, _ := os.ReadFile(p)
			if !strings.Contains(string(data), from) {
				t.Fatalf(".env lacks %q", from)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(data), from, to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// The password changed by hand: the sum no longer matches, and
		// bcrypt confirms the hash is stale.
		edit("INVESTIQ_STACK_PASSWORD="+oldPW, "INVESTIQ_STACK_PASSWORD=correct-horse-battery")
		res, err := secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		env, _ = secrets.Load(dir)
		if err := bcrypt.CompareHashAndPassword([]byte(env.Get(spec.EnvStackBcrypt)), []byte("correct-horse-battery")); err != nil {
			t.Errorf("hash does not follow the hand-changed password: %v (updated %v)", err, res.Updated)
		}
		if env.Get(spec.EnvStackBcryptSum) == oldSum {
			t.Error("the sum did not follow the new password")
		}
		// An .env from before the sum: the hash is right, so it stays;
		// only the sum is added.
		hash := env.Get(spec.EnvStackBcrypt)
		edit(spec.EnvStackBcryptSum+"="+env.Get(spec.EnvStackBcryptSum), spec.EnvStackBcryptSum+"=")
		res, err = secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		env, _ = secrets.Load(dir)
		if env.Get(spec.EnvStackBcrypt) != hash || !slices.Equal(res.Updated, []string{spec.EnvStackBcryptSum}) {
			t.Errorf("an .env without the sum: updated %v, hash kept %v", res.Updated, env.Get(spec.EnvStackBcrypt) == hash)
		}
		// Steady: the sum matches, so the hash is trusted as it is (a
		// hash replaced by one of another password, sum left alone, is
		// caught: the sum covers the hash too).
		edit(spec.EnvStackBcrypt+"="+quoteForTest(hash), spec.EnvStackBcrypt+"="+quoteForTest(oldHash))
		if _, err = secrets.Ensure(dir, s); err != nil {
			t.Fatal(err)
		}
		env, _ = secrets.Load(dir)
		if err := bcrypt.CompareHashAndPassword([]byte(env.Get(spec.EnvStackBcrypt)), []byte("correct-horse-battery")); err != nil {
			t.Errorf("a swapped hash with a stale sum was kept: %v", err)
		}
	})

	t.Run("a readable .env and an admin password are warned about", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, secrets.FileName)
		if err := os.WriteFile(p, []byte("GRAFANA_ADMIN_PASSWORD=admin\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := secrets.Ensure(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(res.Warnings, "\n")
		if !strings.Contains(all, "chmod 600") || !strings.Contains(all, "is admin") {
			t.Errorf("warnings = %q", all)
		}
		if strings.Contains(all, "admin\n") {
			t.Error("a warning printed a value")
		}
	})

	// Every generated client file authenticates as the spec's user, so
	// another user in .env is refused at its line, and .env is left as it
	// was; the spec's own user (what generate writes) and none are fine.
	t.Run("a stack user in .env other than the spec's is refused", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, secrets.FileName)
		body := "# ops\nGRAFANA_ADMIN_USER=admin\nINVESTIQ_STACK_USER=ops\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := secrets.Ensure(dir, s)
		if err == nil {
			t.Fatal("Ensure accepted INVESTIQ_STACK_USER=ops")
		}
		for _, w := range []string{p + ":3:", `"ops"`, `"` + s.StackUser + `"`, "delete the line"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q: %v", w, err)
			}
		}
		if got, _ := os.ReadFile(p); string(got) != body {
			t.Errorf(".env changed by a refused run:\n%s", got)
		}
		for _, line := range []string{"INVESTIQ_STACK_USER=" + s.StackUser + "\n", ""} {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, secrets.FileName), []byte(line), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := secrets.Ensure(d, s); err != nil {
				t.Errorf(".env %q: %v", line, err)
			}
		}
	})
}

func TestSet(t *testing.T) {
	s := spec.Default()
	dir := t.TempDir()
	if _, err := secrets.Ensure(dir, s); err != nil {
		t.Fatal(err)
	}
	env, _ := secrets.Load(dir)
	stack := env.StackPassword()
	if err := env.Set(s, "GRAFANA_ADMIN_PASSWORD", "n3w-Pass.word"); err != nil {
		t.Fatal(err)
	}
	again, _ := secrets.Load(dir)
	if again.Get("GRAFANA_ADMIN_PASSWORD") != "n3w-Pass.word" || again.StackPassword() != stack {
		t.Error("Set did not change exactly one variable")
	}
	if err := env.Set(s, "GRAFANA_ADMIN_PASSWORD", "two\nlines"); err == nil {
		t.Error("a value with a line break was accepted; .env cannot hold it verbatim")
	}
	if fi, _ := os.Stat(env.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after Set %04o, want 0600", fi.Mode().Perm())
	}
}

func TestWriteFiles(t *testing.T) {
	s := spec.Default()
	dir := t.TempDir()
	if _, err := secrets.Ensure(dir, s); err != nil {
		t.Fatal(err)
	}
	env, _ := secrets.Load(dir)
	sdir := filepath.Join(t.TempDir(), "secrets")
	web := filepath.Join(sdir, "web.yml")
	if err := env.WriteFiles(s, sdir, web); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(sdir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("secrets dir mode %04o, want 0700", fi.Mode().Perm())
	}
	got, _ := os.ReadFile(filepath.Join(sdir, spec.SecretStackPassword))
	if string(got) != env.StackPassword() {
		t.Error("stack_password file does not hold the .env value")
	}
	webData, _ := os.ReadFile(web)
	if strings.Contains(string(webData), env.StackPassword()) {
		t.Error("web config holds the plain password")
	}
	if !strings.Contains(string(webData), "$2") {
		t.Errorf("web config has no bcrypt hash: %s", webData)
	}
}

// quoteForTest is how .env stores a bcrypt hash: single-quoted, since it
// holds $ signs.
func quoteForTest(v string) string { return "'" + v + "'" }
