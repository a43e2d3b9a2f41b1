package docker_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		config  map[string]any
		want    docker.Options
		wantErr error
		errText string
	}{
		{name: "target", spec: "docker:tcp://10.0.0.5:2375", want: docker.Options{Endpoint: "tcp://10.0.0.5:2375"}},
		{name: "unix target", spec: "docker:unix:///var/run/docker.sock", want: docker.Options{Endpoint: "unix:///var/run/docker.sock"}},
		{name: "config with TLS", spec: "docker", config: map[string]any{"endpoint": "tcp://h:2376", "tls.cert": "/c.pem", "tls.key": "/k.pem", "tls.ca": "/ca.pem"},
			want: docker.Options{Endpoint: "tcp://h:2376", TLSCert: "/c.pem", TLSKey: "/k.pem", TLSCA: "/ca.pem"}},
		{name: "certPath", spec: "docker:tcp://h:2376", config: map[string]any{"tls.certPath": "/certs"},
			want: docker.Options{Endpoint: "tcp://h:2376", TLSCert: "/certs/cert.pem", TLSKey: "/certs/key.pem", TLSCA: "/certs/ca.pem"}},
		{name: "host alias", spec: "docker", config: map[string]any{"host": "tcp://h:2375"}, want: docker.Options{Endpoint: "tcp://h:2375"}},
		{name: "same endpoint twice", spec: "docker:tcp://h:1", config: map[string]any{"endpoint": "tcp://h:1"}, want: docker.Options{Endpoint: "tcp://h:1"}},
		{name: "no endpoint", spec: "docker", config: map[string]any{}, wantErr: locations.ErrNotFound, errText: "docker:tcp://HOST:2376"},
		{name: "endpoint conflict", spec: "docker:tcp://a:1", config: map[string]any{"endpoint": "tcp://b:1"}, wantErr: locations.ErrInvalid, errText: "give one"},
		{name: "bad scheme", spec: "docker:http://h:2375", wantErr: locations.ErrInvalid, errText: "tcp://HOST:PORT"},
		{name: "no host", spec: "docker:tcp://", wantErr: locations.ErrInvalid, errText: "tcp://HOST:PORT"},
		{name: "partial TLS", spec: "docker:tcp://h:2376", config: map[string]any{"tls.cert": "/c.pem"}, wantErr: locations.ErrInvalid, errText: "needs tls.cert, tls.key and tls.ca"},
		{name: "TLS on unix", spec: "docker:unix:///s", config: map[string]any{"tls.certPath": "/certs"}, wantErr: locations.ErrInvalid, errText: "TLS is for tcp://"},
		{name: "both TLS forms", spec: "docker:tcp://h:1", config: map[string]any{"tls.certPath": "/c", "tls.ca": "/ca"}, wantErr: locations.ErrInvalid, errText: "not both"},
		{name: "unknown key", spec: "docker:tcp://h:1", config: map[string]any{"tlscert": "/c"}, wantErr: locations.ErrInvalid, errText: `"tlscert"`},
		{name: "not a string", spec: "docker", config: map[string]any{"endpoint": 3}, wantErr: locations.ErrInvalid, errText: "want a string"},
		{name: "args", spec: `docker:("x")`, wantErr: locations.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := docker.ParseOptions(locations.Definition{ID: "docker-1", Spec: tt.spec, Config: tt.config})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.errText)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseOptions = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// pemFile writes a PEM block to dir/name.
func pemFile(t *testing.T, dir, name, typ string, der []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsFiles makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as `docker --tlsverify` uses them.
func tlsFiles(t *testing.T) (dir string, server tls.Certificate, pool *x509.CertPool) {
	dir = t.TempDir()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	pemFile(t, dir, "ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	pemFile(t, dir, "cert.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	pemFile(t, dir, "key.pem", "EC PRIVATE KEY", keyDER)
	return dir, server, pool
}

// A docker location on a tcp:// engine with TLS client certificates: an engine
// (the documented /_ping route) that accepts only clients with a certificate of
// its CA.
func TestProviderTLS(t *testing.T) {
	dir, serverCert, pool := tlsFiles(t)
	var pinged atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			pinged.Add(1)
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		http.NotFound(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	endpoint := "tcp://" + srv.Listener.Addr().String()

	r := locations.NewRegistry()
	var made []*docker.Engine
	if err := r.AddProvider(docker.Kind, docker.Provider(func(e *docker.Engine) { made = append(made, e) })); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"endpoint": endpoint, "tls.cert": filepath.Join(dir, "cert.pem"),
		"tls.key": filepath.Join(dir, "key.pem"), "tls.ca": filepath.Join(dir, "ca.pem")}
	l, err := r.Resolve("docker", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.ID(), "docker-") || l.Kind() != "docker" || len(made) != 1 || pinged.Load() != 1 {
		t.Fatalf("location %s (%s), made %d, pinged %d", l.ID(), l.Kind(), len(made), pinged.Load())
	}
	if _, ok := l.(locations.ContainerHost); !ok {
		t.Fatal("not a ContainerHost")
	}
	if got := l.Config()["host"]; got != endpoint {
		t.Errorf("Config host = %v", got)
	}
	made[0].Close()
	// The same engine through tls.certPath is the same kind of location.
	if _, err := r.Resolve("docker:"+endpoint, map[string]any{"tls.certPath": dir}); err != nil {
		t.Fatalf("certPath: %v", err)
	}
	// Without a client certificate the engine refuses: unavailable.
	if _, err := r.Resolve("docker:"+endpoint, nil); !errors.Is(err, locations.ErrUnavailable) {
		t.Fatalf("without TLS: %v", err)
	}
	// The PEM text itself, as a server keeps it in its store, rather than files.
	pemCfg := map[string]any{"endpoint": endpoint}
	for _, k := range []string{"tls.cert", "tls.key", "tls.ca"} {
		b, err := os.ReadFile(cfg[k].(string))
		if err != nil {
			t.Fatal(err)
		}
		pemCfg[k] = string(b)
	}
	before := pinged.Load()
	if _, err := r.Resolve("docker", pemCfg); err != nil || pinged.Load() != before+1 {
		t.Fatalf("PEM text: %v (pinged %d)", err, pinged.Load()-before)
	}
	// PEM that does not parse is a config error naming the key.
	pemCfg["tls.ca"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
	if _, err := r.Resolve("docker", pemCfg); !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), "tls.ca") {
		t.Fatalf("bad PEM: %v", err)
	}
	// Missing certificate files are a config error.
	cfg["tls.cert"] = filepath.Join(dir, "missing.pem")
	if _, err := r.Resolve("docker", cfg); !errors.Is(err, locations.ErrInvalid) || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("missing cert: %v", err)
	}
	for _, e := range made {
		e.Close()
	}
}

// docker:unix://... makes a location of the real engine.
func TestProviderRealEngine(t *testing.T) {
	cli := testenv.RequireDocker(t)
	r := locations.NewRegistry()
	if err := r.AddProvider(docker.Kind, docker.Provider(nil)); err != nil {
		t.Fatal(err)
	}
	l, err := r.Resolve("docker:"+cli.DaemonHost(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := l.(*docker.Engine)
	defer e.Close()
	if e.Spec() != "docker:"+cli.DaemonHost() {
		t.Errorf("Spec = %q", e.Spec())
	}
	if _, err := e.ListContainers(t.Context(), map[string]string{testenv.TestLabel: "none"}); err != nil {
		t.Fatal(err)
	}
}
