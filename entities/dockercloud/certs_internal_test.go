package dockercloud

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func mustCA(t *testing.T, now time.Time) certPair {
	t.Helper()
	ca, err := newCA("test CA", now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustIssue(t *testing.T, ca certPair, use certUse, hosts []string, now time.Time) certPair {
	t.Helper()
	c, err := issue(ca, use, "test "+use.String(), hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificates(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca := mustCA(t, now)
	other := mustCA(t, now)
	server := mustIssue(t, ca, useServer, []string{"10.0.0.5", "docker-1.example.com", " 10.0.0.5 ", "[::1]"}, now)
	client := mustIssue(t, ca, useClient, nil, now)
	foreign := mustIssue(t, other, useServer, []string{"10.0.0.5"}, now)

	cert, key, err := parsePair(ca)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || !cert.MaxPathLenZero || cert.KeyUsage&x509.KeyUsageCertSign == 0 || key.Curve.Params().Name != "P-256" {
		t.Errorf("CA: IsCA %v, MaxPathLenZero %v, usage %v, curve %s", cert.IsCA, cert.MaxPathLenZero, cert.KeyUsage, key.Curve.Params().Name)
	}
	if !strings.Contains(ca.Key, "-----BEGIN PRIVATE KEY-----") || !strings.Contains(ca.Cert, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("not PEM (PKCS #8 key, certificate):\n%s\n%s", ca.Cert, ca.Key)
	}
	sc, _, _ := parsePair(server)
	if len(sc.IPAddresses) != 2 || len(sc.DNSNames) != 1 || sc.DNSNames[0] != "docker-1.example.com" {
		t.Errorf("server certificate for %v and %v, want 10.0.0.5 and ::1, and docker-1.example.com", sc.IPAddresses, sc.DNSNames)
	}
	if !sc.NotBefore.Before(now) || sc.NotAfter.After(cert.NotAfter) {
		t.Errorf("server certificate valid %s to %s; the CA to %s", sc.NotBefore, sc.NotAfter, cert.NotAfter)
	}

	cases := []struct {
		name  string
		leaf  certPair
		ca    string
		use   certUse
		hosts []string
		now   time.Time
		err   string // "" when it does
	}{
		{name: "server for its address", leaf: server, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.5"}, now: now},
		{name: "server for all its names", leaf: server, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.5", "docker-1.example.com", "::1"}, now: now},
		{name: "server for another address", leaf: server, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.6"}, now: now, err: "10.0.0.6"},
		{name: "server for another name", leaf: server, ca: ca.Cert, use: useServer, hosts: []string{"docker-2.example.com"}, now: now, err: "docker-2"},
		{name: "server used as a client", leaf: server, ca: ca.Cert, use: useClient, now: now, err: "usage"},
		{name: "client", leaf: client, ca: ca.Cert, use: useClient, now: now},
		{name: "client used as a server", leaf: client, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.5"}, now: now, err: "usage"},
		{name: "signed by another CA", leaf: foreign, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.5"}, now: now, err: "unknown authority"},
		{name: "about to end", leaf: server, ca: ca.Cert, use: useServer, hosts: []string{"10.0.0.5"}, now: now.Add(leafValidity - renewBefore + time.Hour), err: "ends"},
		{name: "ended", leaf: server, ca: ca.Cert, use: useServer, now: now.Add(leafValidity + time.Hour), err: "expired"},
		{name: "not yet valid (clock far behind)", leaf: server, ca: ca.Cert, use: useServer, now: now.Add(-2 * clockSkew), err: "expired or is not yet valid"},
		{name: "key of another certificate", leaf: certPair{Cert: server.Cert, Key: client.Key}, ca: ca.Cert, use: useServer, now: now, err: "not the certificate's"},
		{name: "no certificate", leaf: certPair{Cert: "junk", Key: server.Key}, ca: ca.Cert, use: useServer, now: now, err: "no PEM certificate"},
		{name: "no key", leaf: certPair{Cert: server.Cert}, ca: ca.Cert, use: useServer, now: now, err: "no PEM private key"},
		{name: "no CA", leaf: server, ca: "", use: useServer, now: now, err: "no CA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkLeaf(c.ca, c.leaf, c.use, c.hosts, c.now)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("checkLeaf: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, errCert)):
				t.Fatalf("checkLeaf: %v, want an error saying %q", err, c.err)
			}
		})
	}

	if err := checkCA(ca, now); err != nil {
		t.Errorf("checkCA: %v", err)
	}
	if err := checkCA(ca, now.Add(caValidity-renewBefore+time.Hour)); err == nil {
		t.Error("checkCA of a CA about to end: no error")
	}
	if err := checkCA(server, now); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("checkCA of a server certificate: %v", err)
	}
	if _, err := issue(server, useClient, "x", nil, now); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("issue with a server certificate as the CA: %v", err)
	}
	if _, err := issue(ca, useServer, "x", []string{" ", ""}, now); err == nil || !strings.Contains(err.Error(), "needs an address") {
		t.Errorf("issue a server certificate for no name: %v", err)
	}
	// A CA near its end signs certificates that end with it.
	late := now.Add(caValidity - 24*time.Hour)
	s2 := mustIssue(t, ca, useServer, []string{"10.0.0.5"}, late)
	if c2, _, _ := parsePair(s2); !c2.NotAfter.Equal(cert.NotAfter) {
		t.Errorf("a certificate issued a day before the CA ends ends %s, the CA %s", c2.NotAfter, cert.NotAfter)
	}
}

func TestCertHosts(t *testing.T) {
	got := certHosts("10.0.0.5", " 10.0.0.5", "", "[::1]", "docker-1", "docker-1")
	want := []string{"10.0.0.5", "::1", "docker-1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("certHosts = %v, want %v", got, want)
	}
}

// The certificates do what dockerd's --tlsverify and Gantry's client need: a TLS
// handshake in which each side verifies the other against the CA, the client the
// server's address too.
func TestTLSHandshake(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, now)
	other := mustCA(t, now)
	server := mustIssue(t, ca, useServer, []string{"10.0.0.5", "docker-1"}, now)
	client := mustIssue(t, ca, useClient, nil, now)
	stranger := mustIssue(t, other, useClient, nil, now)

	pool := func(pems ...string) *x509.CertPool {
		p := x509.NewCertPool()
		for _, s := range pems {
			p.AppendCertsFromPEM([]byte(s))
		}
		return p
	}
	pair := func(p certPair) tls.Certificate {
		c, err := tls.X509KeyPair([]byte(p.Cert), []byte(p.Key))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name       string
		client     *certPair
		serverName string
		ok         bool
	}{
		{name: "Gantry's client, the server's address", client: &client, serverName: "10.0.0.5", ok: true},
		{name: "Gantry's client, the server's name", client: &client, serverName: "docker-1", ok: true},
		{name: "another address", client: &client, serverName: "10.0.0.9"},
		{name: "no client certificate", serverName: "10.0.0.5"},
		{name: "a client certificate of another CA", client: &stranger, serverName: "10.0.0.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, cc := net.Pipe()
			defer sc.Close()
			defer cc.Close()
			srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{pair(server)}, ClientCAs: pool(ca.Cert),
				ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
			cfg := &tls.Config{RootCAs: pool(ca.Cert), ServerName: c.serverName, MinVersion: tls.VersionTLS12}
			if c.client != nil {
				cfg.Certificates = []tls.Certificate{pair(*c.client)}
			}
			cl := tls.Client(cc, cfg)
			done := make(chan error, 1)
			go func() {
				err := srv.Handshake()
				if err == nil {
					_, err = srv.Write([]byte("x")) // TLS 1.3: the client learns the verdict here
				}
				if err != nil {
					sc.Close()
				}
				done <- err
			}()
			cerr := cl.Handshake()
			if cerr == nil {
				_, cerr = io.ReadFull(cl, make([]byte, 1))
			}
			if cerr != nil {
				cc.Close()
			}
			serr := <-done
			ok := serr == nil && cerr == nil
			if ok != c.ok {
				t.Fatalf("handshake: server %v, client %v; want ok %v", serr, cerr, c.ok)
			}
		})
	}
}
