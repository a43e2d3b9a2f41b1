package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrHostKeyChanged is wrapped by the error of a connection refused because
// the host presented another key than the one recorded in the known_hosts file.
var ErrHostKeyChanged = errors.New("host key changed")

// HostKeyError says that a host's key is not the one recorded.
type HostKeyError struct {
	// Host is the address as dialled, host:port.
	Host string
	// File is the known_hosts file.
	File string
	// Expected are the keys recorded for the host, as "file:line: type SHA256:...".
	Expected []string
	// Presented is the fingerprint of the key the host presented, "type SHA256:...".
	Presented string
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("host key of %s changed: expected %s, presented %s. "+
		"If the machine was re-installed or its key was replaced on purpose, remove the old key with "+
		"`ssh-keygen -R '%s' -f %s` and try again (the new key is then trusted on first use); "+
		"otherwise someone may be intercepting the connection",
		e.Host, strings.Join(e.Expected, " or "), e.Presented, knownhosts.Normalize(e.Host), e.File)
}

func (e *HostKeyError) Is(target error) bool { return target == ErrHostKeyChanged }

// knownHosts checks host keys against one known_hosts file, recording the
// keys of hosts seen for the first time.
type knownHosts struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex // serialises reading and appending
}

// probeKey is a key no host has: checking it tells which keys a host has.
var probeKey = sync.OnceValue(func() xssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	k, err := xssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// load reads the file, creating it (and its directory) when missing.
func (k *knownHosts) load() (xssh.HostKeyCallback, error) {
	if _, err := os.Stat(k.path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
			return nil, fmt.Errorf("known hosts file %s: %w", k.path, err)
		}
		f, err := os.OpenFile(k.path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("known hosts file %s: %w", k.path, err)
		}
		f.Close()
	}
	cb, err := knownhosts.New(k.path)
	if err != nil {
		return nil, fmt.Errorf("known hosts file %s: %w", k.path, err)
	}
	return cb, nil
}

// algorithms returns the host key algorithms to ask addr for: those of the
// keys recorded for it, so that a host known by its ed25519 key is not asked
// for its RSA key (which would look like a changed key). Nil when the host
// is not known: then any algorithm will do.
func (k *knownHosts) algorithms(addr string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return nil, err
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, fakeAddr(addr), probeKey()); !errors.As(err, &ke) {
		return nil, nil
	}
	var algos []string
	for _, w := range ke.Want {
		for _, a := range algorithmsOf(w.Key.Type()) {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	return algos, nil
}

func algorithmsOf(keyType string) []string {
	switch keyType {
	case xssh.KeyAlgoRSA:
		return []string{xssh.KeyAlgoRSASHA512, xssh.KeyAlgoRSASHA256, xssh.KeyAlgoRSA}
	case xssh.CertAlgoRSAv01:
		return []string{xssh.CertAlgoRSASHA512v01, xssh.CertAlgoRSASHA256v01, xssh.CertAlgoRSAv01}
	}
	return []string{keyType}
}

// check is the HostKeyCallback: a known key passes, an unknown host is
// recorded (trust on first use), a changed key is a *HostKeyError.
func (k *knownHosts) check(hostname string, remote net.Addr, key xssh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cb, err := k.load()
	if err != nil {
		return err
	}
	err = cb(hostname, remote, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("host key of %s is marked revoked in %s: %w", hostname, k.path, ErrHostKeyChanged)
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return k.record(hostname, key)
	case errors.As(err, &ke):
		e := &HostKeyError{Host: hostname, File: k.path, Presented: fingerprint(key)}
		for _, w := range ke.Want {
			e.Expected = append(e.Expected, fmt.Sprintf("%s (%s:%d)", fingerprint(w.Key), w.Filename, w.Line))
		}
		return e
	}
	return fmt.Errorf("check host key of %s against %s: %w", hostname, k.path, err)
}

func (k *knownHosts) record(hostname string, key xssh.PublicKey) error {
	f, err := os.OpenFile(k.path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record host key of %s: %w", hostname, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("record host key of %s in %s: %w", hostname, k.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("record host key of %s in %s: %w", hostname, k.path, err)
	}
	if k.log != nil {
		k.log.Info("trusting the host key of a new host (trust on first use)", "host", hostname,
			"key", fingerprint(key), "file", k.path)
	}
	return nil
}

func fingerprint(key xssh.PublicKey) string {
	return key.Type() + " " + xssh.FingerprintSHA256(key)
}

// fakeAddr makes the net.Addr knownhosts wants from "host:port".
func fakeAddr(addr string) net.Addr {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &net.TCPAddr{}
	}
	var p int
	fmt.Sscan(port, &p)
	return &net.TCPAddr{IP: net.ParseIP(host), Port: p}
}
