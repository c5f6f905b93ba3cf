package backup

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/investiq/investiq-mon/internal/secrets"
)

// An archive is authenticated by an HMAC-SHA256 over the exact bytes of
// its manifest, keyed by INVESTIQ_BACKUP_KEY from .env. The manifest
// records every other member's size and sha256, so the MAC covers the
// whole archive; the key never enters the archive, the manifest or a log.
// Anyone who can write archives but not read .env (a shared backup
// bucket, a file handed over in a ticket) cannot make one that restore
// accepts.

// SignatureName is the member after the manifest holding its MAC.
const SignatureName = "manifest.sig"

// SignatureAlgorithm is the only MAC this version writes and accepts.
const SignatureAlgorithm = "HMAC-SHA256"

// MinKeyLen is the shortest key accepted: generate makes 43 characters
// (32 random bytes), and a short hand-made key is a weak one.
const MinKeyLen = 32

// ErrUnauthenticated is an archive whose manifest is not signed with the
// key at hand: unsigned, signed with another key, or changed since.
var ErrUnauthenticated = errors.New("archive is not authenticated")

// Trust is how an archive is authenticated.
type Trust struct {
	// Key is the HMAC key; nil when none could be found.
	Key []byte
	// KeySource names where Key came from (or was looked for), for
	// messages: "monitoring/.env", "--key-file k".
	KeySource string
	// AllowUnsigned reads an archive that fails authentication anyway,
	// checking its structure and checksums only. Manifest.Auth says why
	// it was not authenticated.
	AllowUnsigned bool
}

// Authenticity is what the reader found out about an archive's origin.
type Authenticity struct {
	// Signed: the manifest's MAC matches Trust.Key.
	Signed bool
	// KeyID identifies the key the archive says it was signed with (a
	// one-way function of the key: it reveals nothing of it).
	KeyID string
	// Problem is why the archive is not authenticated, when
	// Trust.AllowUnsigned let it through.
	Problem error
}

// signature is the content of manifest.sig.
type signature struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"keyId"`
	MAC       string `json:"mac"`
}

// KeyID is a short public name for a key, so a user can tell which key an
// archive needs without anyone printing the key.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("investiq-mon backup key id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

func mac(key, manifest []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("investiq-mon backup manifest v2\n"))
	m.Write(manifest)
	return m.Sum(nil)
}

// sign returns manifest.sig's content for the manifest's bytes.
func sign(key, manifest []byte) ([]byte, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("the backup key is shorter than %d characters: run `investiq-mon generate` to create %s in .env", MinKeyLen, secrets.BackupKeyEnv)
	}
	data, err := json.MarshalIndent(signature{Algorithm: SignatureAlgorithm, KeyID: KeyID(key), MAC: hex.EncodeToString(mac(key, manifest))}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// authenticate checks the manifest's MAC. sig is nil when the archive has
// no manifest.sig. The error says why the archive is not authenticated
// and what to do; it never shows a key.
func authenticate(t Trust, manifest, sig []byte) (Authenticity, error) {
	var a Authenticity
	if sig == nil {
		return a, fmt.Errorf("%w: it has no %s (made by hand, or by an investiq-mon that did not sign backups)", ErrUnauthenticated, SignatureName)
	}
	var s signature
	if err := json.Unmarshal(sig, &s); err != nil || s.Algorithm != SignatureAlgorithm || len(s.MAC) != 2*sha256.Size {
		return a, fmt.Errorf("%w: %s is not an %s signature", ErrUnauthenticated, SignatureName, SignatureAlgorithm)
	}
	if len(s.KeyID) == 16 && isHex(s.KeyID) {
		a.KeyID = s.KeyID
	}
	if len(t.Key) == 0 {
		return a, fmt.Errorf("%w: no key to check its signature: %s is not set in %s (on a new machine, copy that line from the machine that made the backup, or pass --key-file)", ErrUnauthenticated, secrets.BackupKeyEnv, orUnknown(t.KeySource))
	}
	got, err := hex.DecodeString(s.MAC)
	if err != nil || !hmac.Equal(got, mac(t.Key, manifest)) {
		if a.KeyID != "" && a.KeyID != KeyID(t.Key) {
			return a, fmt.Errorf("%w: it was signed with key %s, and the key in %s is %s: it was made on another machine or before the key changed; pass that key with --key-file", ErrUnauthenticated, a.KeyID, orUnknown(t.KeySource), KeyID(t.Key))
		}
		return a, fmt.Errorf("%w: the signature does not match the manifest: the archive was changed after it was written", ErrUnauthenticated)
	}
	a.Signed = true
	return a, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func orUnknown(s string) string {
	if s == "" {
		return "the configuration"
	}
	return s
}

// ReadKeyFile reads a backup key kept apart from .env: either a file
// holding just the key, or an env file with an INVESTIQ_BACKUP_KEY line
// (a copy of the old machine's .env will do).
func ReadKeyFile(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(string(data))
	if strings.Contains(key, secrets.BackupKeyEnv) {
		env, err := secrets.LoadFile(p)
		if err != nil {
			return nil, err
		}
		key = env.Get(secrets.BackupKeyEnv)
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("%s: no backup key of at least %d characters (a file with the key alone, or an env file with %s=)", p, MinKeyLen, secrets.BackupKeyEnv)
	}
	return []byte(key), nil
}
