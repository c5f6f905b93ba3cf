// Package secrets keeps the stack's secrets in one place: the .env file
// beside the generated compose file, mode 0600, never overwritten once
// created and never printed. Compose hands its values to the containers as
// secret files; the local backend writes the same files into its own 0700
// state directory. Nothing else in the tree ever holds a secret.
package secrets

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/investiq/investiq-mon/internal/files"
	"github.com/investiq/investiq-mon/internal/render"
	"github.com/investiq/investiq-mon/spec"
)

// FileName is the env file compose reads from the project directory.
const FileName = ".env"

// Mode of every file that holds a secret.
const Mode fs.FileMode = 0o600

// ErrNoEnv is returned by Load when .env does not exist yet.
var ErrNoEnv = errors.New(".env not found: run `investiq-mon generate` to create it")

// Env is the parsed .env file.
type Env struct {
	Path string
	vals map[string]string
}

// Get returns a variable's value, or "" when it is not set.
func (e *Env) Get(key string) string { return e.vals[key] }

// BackupKeyEnv holds the key that signs backup archives (an HMAC key).
// It never leaves .env: not into the archive, the servers or a log. A
// restore on another machine needs the same value in that machine's .env.
const BackupKeyEnv = spec.EnvBackupKey

// BackupKey is the key backup archives are signed and checked with.
func (e *Env) BackupKey() []byte {
	if v := e.Get(BackupKeyEnv); v != "" {
		return []byte(v)
	}
	return nil
}

// StackPassword is the basic-auth password of Prometheus and Alertmanager.
func (e *Env) StackPassword() string { return e.Get(spec.EnvStackPassword) }

// Values returns every secret value in .env, for leak checks: a value that
// shows up in a log, a manifest or a generated file is a leak.
func (e *Env) Values(s *spec.Spec) []string {
	var out []string
	for _, sec := range s.Secrets() {
		if v := e.Get(sec.Env); v != "" {
			out = append(out, v)
		}
	}
	for _, k := range []string{spec.EnvStackBcrypt, spec.EnvStackBcryptSum, BackupKeyEnv} {
		if v := e.Get(k); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ErrParse is a .env the dotenv parser refuses.
var ErrParse = errors.New("cannot be parsed")

// Keys lists the variables set, sorted.
func (e *Env) Keys() []string {
	return slices.Sorted(maps.Keys(e.vals))
}

// Load reads dir/.env.
func Load(dir string) (*Env, error) {
	return LoadFile(filepath.Join(dir, FileName))
}

// LoadFile reads an env file. A file the dotenv parser refuses is
// reported by line and variable name only (ErrParse): the parser's own
// messages quote the value, which here is a password or a hash.
func LoadFile(p string) (*Env, error) {
	data, err := readBounded(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", p, ErrNoEnv)
	}
	if err != nil {
		return nil, err
	}
	vals, err := parseEnv(p, data)
	if err != nil {
		return nil, err
	}
	return &Env{Path: p, vals: vals}, nil
}

// MaxFileSize bounds what LoadFile reads: a stack's .env is a few hundred
// bytes, so a file past 1 MiB is not one (a log redirected by mistake, a
// binary) and is refused before it is parsed.
const MaxFileSize = 1 << 20

// ErrTooLarge is returned for an env file past MaxFileSize.
var ErrTooLarge = files.ErrTooLarge

func readBounded(p string) ([]byte, error) {
	data, err := files.ReadBounded(p, MaxFileSize)
	if errors.Is(err, files.ErrNotRegular) || errors.Is(err, files.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w; a .env holds a few lines NAME=value: check that this is the right file", p, err)
	}
	return data, err
}

// NewKey returns a random backup key: 32 bytes, URL-safe base64 (43
// characters, safe unquoted in .env).
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewPassword returns a random password of 32 URL-safe characters
// (192 bits), safe to put unquoted in .env and in a URL.
func NewPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Result says what Ensure did, for the user; it never holds a value.
type Result struct {
	// Path is the .env Ensure looked after.
	Path    string
	Created bool
	// Updated lists the variables Ensure set in an existing .env.
	Updated []string
	// Warnings are problems the user should fix (a readable .env, a
	// Grafana password of admin).
	Warnings []string
}

// CreatedNote is what every command that may create .env says when it
// did, and "" when it did not.
func (r Result) CreatedNote() string {
	if !r.Created {
		return ""
	}
	return "created " + r.Path + " (mode 0600) with random passwords; it is never printed or overwritten"
}

// Ensure makes sure dir/.env exists with every variable the stack needs.
// A new .env gets random passwords; an existing one keeps every value and
// only gains what is missing, and the bcrypt hash follows the stack
// password when someone changes it by hand.
func Ensure(dir string, s *spec.Spec) (Result, error) {
	p := filepath.Join(dir, FileName)
	res := Result{Path: p}
	env, err := Load(dir)
	switch {
	case errors.Is(err, ErrNoEnv):
		res.Created = true
		env = &Env{Path: p, vals: map[string]string{}}
	case err != nil:
		return res, err
	default:
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s is mode %04o: other users can read its secrets; run chmod 600 %s", p, fi.Mode().Perm(), p))
		}
	}
	if err := checkStackUser(env, s); err != nil {
		return res, err
	}
	set := map[string]string{}
	setIfEmpty := func(key, value string) {
		if env.Get(key) == "" {
			set[key] = value
		}
	}
	setIfEmpty(spec.EnvStackUser, s.StackUser)
	setIfEmpty(spec.EnvGrafanaUser, "admin")
	if env.Get(BackupKeyEnv) == "" {
		k, err := NewKey()
		if err != nil {
			return res, fmt.Errorf("%s: %w", p, err)
		}
		set[BackupKeyEnv] = k
	}
	for _, sec := range s.Secrets() {
		if _, ok := env.vals[sec.Env]; ok {
			continue
		}
		v := ""
		if sec.Generated {
			if v, err = NewPassword(); err != nil {
				return res, fmt.Errorf("%s: %w", p, err)
			}
		}
		set[sec.Env] = v
	}
	pw := env.Get(spec.EnvStackPassword)
	if v, ok := set[spec.EnvStackPassword]; ok {
		pw = v
	}
	if pw != "" {
		// bcrypt is slow on purpose (tens of milliseconds), and generate
		// runs often: the sum of the password and its hash, kept beside
		// them, says the hash is current without it. It tells nothing
		// the file does not already hold in plain text.
		hash := env.Get(spec.EnvStackBcrypt)
		if hash == "" || env.Get(spec.EnvStackBcryptSum) != bcryptSum(pw, hash) {
			if hash == "" || bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) != nil {
				h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
				if err != nil {
					return res, err
				}
				hash = string(h)
				set[spec.EnvStackBcrypt] = hash
			}
			set[spec.EnvStackBcryptSum] = bcryptSum(pw, hash)
		}
	}
	var unset []string
	for _, sec := range s.Secrets() {
		if !sec.Generated && env.Get(sec.Env) == "" {
			unset = append(unset, sec.Env)
		}
	}
	if len(unset) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s not set yet; Alertmanager cannot deliver to those receivers until they are", p, strings.Join(unset, ", ")))
	}
	if env.Get(spec.EnvGrafanaPassword) == "admin" {
		res.Warnings = append(res.Warnings, spec.EnvGrafanaPassword+" in "+p+" is admin: `investiq-mon up` refuses it without --insecure-dev")
	}
	if len(set) == 0 {
		return res, nil
	}
	if !res.Created {
		res.Updated = orderedKeys(s, set)
	}
	return res, env.update(s, set, res.Created)
}

// CheckExisting refuses an existing dir/.env that Ensure would refuse
// (unreadable, or with another stack user), and says nothing of a
// missing one. generate and up run it before they write any file, so a
// refused run leaves the files as they were.
func CheckExisting(dir string, s *spec.Spec) error {
	env, err := Load(dir)
	if errors.Is(err, ErrNoEnv) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkStackUser(env, s)
}

// checkStackUser refuses a .env whose INVESTIQ_STACK_USER is not the
// spec's StackUser. The variable is written for reference only: the
// generated prometheus.yml (alerting and its own scrape jobs),
// promtool-http.yml, amtool-http.yml and Grafana's datasource all carry
// the spec's user, so a web config built from another one would lock
// each of them out, and alerts would stop reaching Alertmanager.
func checkStackUser(env *Env, s *spec.Spec) error {
	u := env.Get(spec.EnvStackUser)
	if u == "" || u == s.StackUser {
		return nil
	}
	at := env.Path
	if n := keyLine(env.Path, spec.EnvStackUser); n > 0 {
		at = fmt.Sprintf("%s:%d", env.Path, n)
	}
	return fmt.Errorf("%s: %s is %q, but the stack's basic-auth user is %q, which prometheus.yml, promtool-http.yml, amtool-http.yml "+
		"and Grafana's datasource authenticate as; a web config for another user would lock them out and stop alerts reaching Alertmanager. "+
		"The user is set in the spec (StackUser), not in .env: put %s=%s back, or delete the line",
		at, spec.EnvStackUser, u, s.StackUser, spec.EnvStackUser, s.StackUser)
}

// keyLine is the 1-based line of p where key is assigned, or 0.
func keyLine(p, key string) int {
	data, err := readBounded(p)
	if err != nil {
		return 0
	}
	for i, line := range strings.Split(string(data), "\n") {
		if m := lineKey.FindStringSubmatch(line); m != nil && m[1] == key {
			return i + 1
		}
	}
	return 0
}

// EnsureBackupKey adds a backup key to a .env made before backups were
// signed, and reports whether it did. Nothing else changes.
func (e *Env) EnsureBackupKey(s *spec.Spec) (bool, error) {
	if e.Get(BackupKeyEnv) != "" {
		return false, nil
	}
	k, err := NewKey()
	if err != nil {
		return false, err
	}
	return true, e.update(s, map[string]string{BackupKeyEnv: k}, false)
}

// Set changes one variable in .env, keeping every other line as it was.
func (e *Env) Set(s *spec.Spec, key, value string) error {
	return e.update(s, map[string]string{key: value}, false)
}

var lineKey = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=`)

// update rewrites .env atomically with the given variables set: existing
// lines are edited in place, new ones appended (a new file gets comments
// from the spec).
func (e *Env) update(s *spec.Spec, set map[string]string, fresh bool) error {
	for k, v := range set {
		if err := CheckValue(v); err != nil {
			return fmt.Errorf("%s: %s: %w", e.Path, k, err)
		}
	}
	want := maps.Clone(e.vals)
	maps.Copy(want, set)
	var out bytes.Buffer
	if fresh {
		out.WriteString("# Secrets of the monitoring stack, created by `investiq-mon generate`.\n")
		out.WriteString("# Mode 0600; ignored by git; never printed. See .env.example for what each is.\n")
	} else {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := lineKey.FindStringSubmatch(line); m != nil {
				if v, ok := set[m[1]]; ok {
					line = m[1] + "=" + quote(v)
					delete(set, m[1])
				}
			}
			out.WriteString(line + "\n")
		}
	}
	for _, k := range orderedKeys(s, set) {
		fmt.Fprintf(&out, "%s=%s\n", k, quote(set[k]))
	}
	// Read the new file back with the parser every later command uses
	// before it replaces the old one: a value the encoding got wrong
	// would otherwise break every command (and the parser's error would
	// print it).
	if err := roundTrips(e.Path, out.Bytes(), want); err != nil {
		return err
	}
	if err := files.WriteFileAtomic(e.Path, out.Bytes(), Mode); err != nil {
		return err
	}
	loaded, err := Load(filepath.Dir(e.Path))
	if err != nil {
		return err
	}
	e.vals = loaded.vals
	return nil
}

// bcryptSum binds a password to its bcrypt hash: SHA-256 of both, hex.
func bcryptSum(password, hash string) string {
	sum := sha256.Sum256([]byte("investiq-mon bcrypt sum\x00" + password + "\x00" + hash))
	return hex.EncodeToString(sum[:])
}

// orderedKeys lists keys in the order .env.example documents them.
func orderedKeys(s *spec.Spec, set map[string]string) []string {
	order := []string{spec.EnvStackUser, spec.EnvGrafanaUser}
	for _, sec := range s.Secrets() {
		order = append(order, sec.Env)
	}
	order = append(order, spec.EnvStackBcrypt, spec.EnvStackBcryptSum, BackupKeyEnv)
	var out []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := set[k]; ok && !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range set {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// WriteFiles materialises the secrets as files under dir (mode 0700, files
// 0600), the way compose does at /run/secrets, plus the web config with the
// bcrypt hash: what the local backend's processes read.
func (e *Env) WriteFiles(s *spec.Spec, dir, webConfig string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	for _, sec := range s.Secrets() {
		if err := files.WriteFileAtomic(filepath.Join(dir, sec.File), []byte(e.Get(sec.Env)), Mode); err != nil {
			return err
		}
	}
	web, err := render.WebConfig(s.StackUser, e.Get(spec.EnvStackBcrypt))
	if err != nil {
		return err
	}
	return files.WriteFileAtomic(webConfig, web, Mode)
}
