package server

// The users file: who may log in, with which role. `gantry server --users FILE` reads
// it (and reads it again when it changes); `gantry users ...` writes it.
//
//	# Gantry users (gantry users add|token|remove|revoke FILE ...)
//	users:
//	- name: admin
//	  role: root
//	  password: $2a$10$...        # bcrypt
//	  tokens:
//	  - id: 3f9a2c41d07b         # what `gantry users revoke` takes
//	    label: ci
//	    hash: sha256:...          # of the token; the token itself is shown once
//	    created: 2026-01-02T03:04:05Z
//
// Roles are Brooklyn's entitlements (auth.go): root, poweruser, user, readonly.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// ErrUsers marks a users file, user or role that is not right.
var ErrUsers = errors.New("users")

// Users is the content of a users file.
type Users struct {
	Users []User `yaml:"users"`
}

// User may log in with a password (HTTP Basic) or one of its tokens (Bearer).
type User struct {
	Name     string  `yaml:"name"`
	Role     string  `yaml:"role"`
	Password string  `yaml:"password,omitempty"` // bcrypt hash
	Tokens   []Token `yaml:"tokens,omitempty"`
}

// Token is an API token of a user, kept as the SHA-256 of the token.
type Token struct {
	ID      string    `yaml:"id"`
	Label   string    `yaml:"label,omitempty"`
	Hash    string    `yaml:"hash"`
	Created time.Time `yaml:"created"`
}

// tokenPrefix starts every token, so that a token is recognisable (in a leaked file,
// by a secret scanner) and told apart from a password.
const tokenPrefix = "gantry_"

const usersHeader = "# Gantry users: edit with `gantry users add|token|remove|revoke FILE ...`.\n" +
	"# Passwords are bcrypt hashes, tokens SHA-256 hashes. Keep this file mode 0600.\n"

// ReadUsers reads and checks a users file.
func ReadUsers(path string) (*Users, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}
	var u Users
	if err := yaml.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("users file %s: %w: %w", path, err, ErrUsers)
	}
	if err := u.check(); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	return &u, nil
}

// ReadOrNewUsers reads a users file, or starts an empty one when there is none.
func ReadOrNewUsers(path string) (*Users, error) {
	u, err := ReadUsers(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Users{}, nil
	}
	return u, err
}

// Write writes the users file with mode 0600, replacing it whole (a reader never sees
// half of it).
func (u *Users) Write(path string) error {
	if err := u.check(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(usersHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(u); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write users file: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write users file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write users file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write users file: %w", err)
	}
	return nil
}

// check says what is wrong with the users, if anything.
func (u *Users) check() error {
	seen := map[string]bool{}
	for i, usr := range u.Users {
		if err := checkUserName(usr.Name); err != nil {
			return fmt.Errorf("user %d: %w", i+1, err)
		}
		if seen[usr.Name] {
			return fmt.Errorf("user %q is there twice: %w", usr.Name, ErrUsers)
		}
		seen[usr.Name] = true
		if _, err := ParseRole(usr.Role); err != nil {
			return fmt.Errorf("user %q: %w", usr.Name, err)
		}
		if usr.Password != "" {
			if _, err := bcrypt.Cost([]byte(usr.Password)); err != nil {
				return fmt.Errorf("user %q: the password is not a bcrypt hash (use `gantry users add` to set it): %w", usr.Name, ErrUsers)
			}
		}
		for _, t := range usr.Tokens {
			if !strings.HasPrefix(t.Hash, "sha256:") || len(t.Hash) != len("sha256:")+64 {
				return fmt.Errorf("user %q, token %q: the hash is not sha256:<64 hex digits>: %w", usr.Name, t.ID, ErrUsers)
			}
		}
	}
	return nil
}

func checkUserName(name string) error {
	if name == "" {
		return fmt.Errorf("a user needs a name: %w", ErrUsers)
	}
	if strings.ContainsRune(name, ':') {
		return fmt.Errorf("user name %q has a ':', which HTTP Basic cannot carry: %w", name, ErrUsers)
	}
	if strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("user name %q has spaces or control characters: %w", name, ErrUsers)
	}
	return nil
}

// Find returns the user of that name, or nil.
func (u *Users) Find(name string) *User {
	for i := range u.Users {
		if u.Users[i].Name == name {
			return &u.Users[i]
		}
	}
	return nil
}

// SetPassword adds the user, or changes its password and role; it says whether the
// user is new. The password is kept as a bcrypt hash.
func (u *Users) SetPassword(name, role, password string) (added bool, err error) {
	if err := checkUserName(name); err != nil {
		return false, err
	}
	r, err := ParseRole(role)
	if err != nil {
		return false, err
	}
	if password == "" {
		return false, fmt.Errorf("the password is empty: %w", ErrUsers)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return false, fmt.Errorf("hash the password: %w: %w", err, ErrUsers) // longer than 72 bytes
	}
	if usr := u.Find(name); usr != nil {
		usr.Role, usr.Password = string(r), string(hash)
		return false, nil
	}
	u.Users = append(u.Users, User{Name: name, Role: string(r), Password: string(hash)})
	return true, nil
}

// NewToken makes an API token for a user and keeps its hash. The token is returned
// once and cannot be found again.
func (u *Users) NewToken(name, label string) (token string, t Token, err error) {
	usr := u.Find(name)
	if usr == nil {
		return "", Token{}, fmt.Errorf("no user %q: add it first with `gantry users add`: %w", name, ErrUsers)
	}
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, err
	}
	token = tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	hash := tokenHash(token)
	t = Token{ID: hash[len("sha256:") : len("sha256:")+12], Label: label, Hash: hash, Created: time.Now().UTC().Truncate(time.Second)}
	usr.Tokens = append(usr.Tokens, t)
	return token, t, nil
}

// Remove removes a user; it says whether there was one.
func (u *Users) Remove(name string) bool {
	n := len(u.Users)
	u.Users = slices.DeleteFunc(u.Users, func(x User) bool { return x.Name == name })
	return len(u.Users) != n
}

// RevokeToken removes a user's token by id (or a prefix of it naming only one); it
// says whether there was one.
func (u *Users) RevokeToken(name, id string) (bool, error) {
	usr := u.Find(name)
	if usr == nil {
		return false, fmt.Errorf("no user %q: %w", name, ErrUsers)
	}
	if id == "" {
		return false, fmt.Errorf("which token? give its id: %w", ErrUsers)
	}
	var found []int
	for i, t := range usr.Tokens {
		if strings.HasPrefix(t.ID, id) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return false, nil
	case 1:
		usr.Tokens = slices.Delete(usr.Tokens, found[0], found[0]+1)
		return true, nil
	}
	return false, fmt.Errorf("%d tokens of %s start with %q: give more of the id: %w", len(found), name, id, ErrUsers)
}

// tokenHash is how a token is kept: "sha256:" and the hex digest. Tokens are long and
// random, so a fast hash is enough (unlike passwords).
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])
}
