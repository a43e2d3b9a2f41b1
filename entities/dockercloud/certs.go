package dockercloud

// TLS of the engines Gantry installs on machines: per infrastructure a CA and one client
// certificate for Gantry, per host a server certificate for its address(es). All keys
// are ECDSA P-256. These functions are pure (no I/O besides the random source): they
// make and check PEM text, which the kinds keep in the store as sensors (provision.go).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// Validity of what is made, and how long before its end a certificate is made again.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 5 * 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
	// clockSkew backdates certificates, for machines whose clock is a little behind.
	clockSkew = time.Hour
)

// certPair is a certificate and its private key, both PEM: "CERTIFICATE" and PKCS #8
// "PRIVATE KEY".
type certPair struct {
	Cert string
	Key  string
}

// certUse is what a leaf certificate is for.
type certUse int

const (
	useServer certUse = iota // an engine's: TLS server, for its addresses
	useClient                // Gantry's: TLS client of the engines
)

func (u certUse) extKeyUsage() x509.ExtKeyUsage {
	if u == useServer {
		return x509.ExtKeyUsageServerAuth
	}
	return x509.ExtKeyUsageClientAuth
}

func (u certUse) String() string {
	if u == useServer {
		return "server"
	}
	return "client"
}

var errCert = errors.New("certificate")

// newCA makes a self-signed CA that signs leaf certificates only (path length 0).
func newCA(commonName string, now time.Time) (certPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certPair{}, fmt.Errorf("make a CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return certPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Gantry"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return certPair{}, fmt.Errorf("make a CA certificate: %w", err)
	}
	return encodePair(der, key)
}

// issue makes a leaf certificate signed by ca: for a server, valid for hosts (IP
// addresses and DNS names; at least one); for a client, hosts are not used.
func issue(ca certPair, use certUse, commonName string, hosts []string, now time.Time) (certPair, error) {
	caCert, caKey, err := parsePair(ca)
	if err != nil {
		return certPair{}, fmt.Errorf("the CA: %w", err)
	}
	if !caCert.IsCA {
		return certPair{}, fmt.Errorf("%s is not a CA: %w", caCert.Subject.CommonName, errCert)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certPair{}, fmt.Errorf("make a %s key: %w", use, err)
	}
	serial, err := newSerial()
	if err != nil {
		return certPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Gantry"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(leafValidity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{use.extKeyUsage()},
	}
	if tmpl.NotAfter.After(caCert.NotAfter) {
		tmpl.NotAfter = caCert.NotAfter
	}
	if use == useServer {
		ips, dns := splitHosts(hosts)
		if len(ips)+len(dns) == 0 {
			return certPair{}, fmt.Errorf("a server certificate needs an address or a host name: %w", errCert)
		}
		tmpl.IPAddresses, tmpl.DNSNames = ips, dns
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return certPair{}, fmt.Errorf("sign a %s certificate: %w", use, err)
	}
	return encodePair(der, key)
}

// checkLeaf says why the leaf certificate does not do (nil when it does): it must
// parse, be signed by ca, be for use, cover every one of hosts (servers), and stay valid
// for renewBefore after now. Its key must match it.
func checkLeaf(ca string, leaf certPair, use certUse, hosts []string, now time.Time) error {
	cert, _, err := parsePair(leaf)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(ca)) {
		return fmt.Errorf("no CA certificate: %w", errCert)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{use.extKeyUsage()}}); err != nil {
		return fmt.Errorf("%s certificate: %v: %w", use, err, errCert)
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return fmt.Errorf("%s certificate ends %s: %w", use, cert.NotAfter.UTC().Format(time.DateOnly), errCert)
	}
	if use == useServer {
		for _, h := range hosts {
			if err := cert.VerifyHostname(h); err != nil {
				return fmt.Errorf("%s certificate: %v: %w", use, err, errCert)
			}
		}
	}
	return nil
}

// checkCA says why a CA does not do (nil when it does): it must parse with its key,
// be a CA, and stay valid for renewBefore after now.
func checkCA(ca certPair, now time.Time) error {
	cert, _, err := parsePair(ca)
	if err != nil {
		return err
	}
	if !cert.IsCA {
		return fmt.Errorf("not a CA: %w", errCert)
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return fmt.Errorf("the CA ends %s: %w", cert.NotAfter.UTC().Format(time.DateOnly), errCert)
	}
	return nil
}

// parsePair reads a certificate and its key, and checks that they belong together.
func parsePair(p certPair) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode([]byte(p.Cert))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("no PEM certificate: %w", errCert)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%v: %w", err, errCert)
	}
	kb, _ := pem.Decode([]byte(p.Key))
	if kb == nil || !strings.HasSuffix(kb.Type, "PRIVATE KEY") {
		return nil, nil, fmt.Errorf("no PEM private key: %w", errCert)
	}
	var key *ecdsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		key, _ = k.(*ecdsa.PrivateKey)
	} else if k, err := x509.ParseECPrivateKey(kb.Bytes); err == nil {
		key = k
	}
	if key == nil {
		return nil, nil, fmt.Errorf("the private key is not an ECDSA key: %w", errCert)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("the private key is not the certificate's: %w", errCert)
	}
	return cert, key, nil
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (certPair, error) {
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return certPair{}, err
	}
	return certPair{
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})),
	}, nil
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("make a serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// splitHosts sorts hosts into IP addresses and DNS names, without duplicates or blanks.
func splitHosts(hosts []string) (ips []net.IP, dns []string) {
	seen := map[string]bool{}
	for _, h := range hosts {
		h = strings.TrimSpace(strings.Trim(strings.TrimSpace(h), "[]"))
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return ips, dns
}

// certHosts are the names a host's server certificate covers: the address Gantry
// dials and the machine's address and host name, without duplicates or blanks.
func certHosts(names ...string) []string {
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(strings.Trim(strings.TrimSpace(n), "[]"))
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
