package docker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/locations"
)

// Options say how to reach an engine other than the environment's.
type Options struct {
	// Endpoint is the engine's address: tcp://host:port or unix:///path.
	Endpoint string
	// TLSCert and TLSKey are the client's certificate and key, TLSCA the CA
	// that signed the engine's certificate: each a PEM file, or the PEM text
	// itself (what a server keeps in its store rather than in files). All
	// three are needed for TLS, as `docker --tlsverify` needs them; the
	// engine's certificate is verified against TLSCA only.
	TLSCert, TLSKey, TLSCA string
}

// TLS reports whether the options use TLS.
func (o Options) TLS() bool { return o.TLSCert != "" || o.TLSKey != "" || o.TLSCA != "" }

// ParseOptions reads the options of a docker location from its definition:
// spec "docker:<endpoint>" or "docker" with config
//
//	endpoint   tcp://host:port or unix:///path (alias: host)
//	tls.cert   client certificate: a PEM file, or the PEM text
//	tls.key    client key: a PEM file, or the PEM text
//	tls.ca     CA certificate: a PEM file, or the PEM text
//	tls.certPath  a directory holding cert.pem, key.pem and ca.pem, as DOCKER_CERT_PATH
//
// It only checks the syntax (errors wrap locations.ErrInvalid and say how to
// write it).
func ParseOptions(def locations.Definition) (Options, error) {
	spec, err := locations.ParseSpec(def.Spec)
	if err != nil {
		return Options{}, err
	}
	if spec.Provider != Kind || len(spec.Positional) > 0 {
		return Options{}, optionsInvalid("docker location %q: write docker:tcp://HOST:2376 or {docker: {endpoint: tcp://HOST:2376, tls.cert: ..., tls.key: ..., tls.ca: ...}}", def.Spec)
	}
	var o Options
	str := func(k string) (string, error) {
		v, ok := def.Config[k]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return "", optionsInvalid("docker %s: want a string, not %v", k, v)
		}
		return strings.TrimSpace(s), nil
	}
	for _, k := range sortedConfigKeys(def.Config) {
		switch k {
		case "endpoint", "host", "tls.cert", "tls.key", "tls.ca", "tls.certPath", "displayName", "name":
		default:
			return Options{}, optionsInvalid("docker location: unknown config key %q (known: endpoint, tls.cert, tls.key, tls.ca, tls.certPath)", k)
		}
	}
	ep, err := str("endpoint")
	if err != nil {
		return Options{}, err
	}
	if h, err := str("host"); err != nil {
		return Options{}, err
	} else if h != "" {
		if ep != "" && ep != h {
			return Options{}, optionsInvalid("docker location: endpoint and host differ; give one")
		}
		ep = h
	}
	if spec.Target != "" {
		if ep != "" && ep != spec.Target {
			return Options{}, optionsInvalid("docker location: the spec names %s and the config's endpoint %s; give one", spec.Target, ep)
		}
		ep = spec.Target
	}
	if ep == "" {
		return Options{}, fmt.Errorf("docker location without an endpoint: the server's own engine is the location `docker` (registered when it answered at start); for another engine write docker:tcp://HOST:2376: %w", locations.ErrNotFound)
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "unix") || (u.Scheme == "tcp" && u.Host == "") || (u.Scheme == "unix" && u.Path == "") {
		return Options{}, optionsInvalid("docker endpoint %q: write tcp://HOST:PORT or unix:///PATH", ep)
	}
	o.Endpoint = ep
	if o.TLSCert, err = str("tls.cert"); err != nil {
		return Options{}, err
	}
	if o.TLSKey, err = str("tls.key"); err != nil {
		return Options{}, err
	}
	if o.TLSCA, err = str("tls.ca"); err != nil {
		return Options{}, err
	}
	dir, err := str("tls.certPath")
	if err != nil {
		return Options{}, err
	}
	if dir != "" {
		if o.TLS() {
			return Options{}, optionsInvalid("docker location: give tls.certPath or tls.cert, tls.key and tls.ca, not both")
		}
		o.TLSCert, o.TLSKey, o.TLSCA = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	}
	if o.TLS() {
		if o.TLSCert == "" || o.TLSKey == "" || o.TLSCA == "" {
			return Options{}, optionsInvalid("docker location: TLS needs tls.cert, tls.key and tls.ca (the client certificate, its key and the CA of the engine's certificate)")
		}
		if u.Scheme != "tcp" {
			return Options{}, optionsInvalid("docker location: TLS is for tcp:// endpoints, not %s", ep)
		}
	}
	return o, nil
}

// Dial connects to the engine of o and checks that it answers (see New); the
// environment's DOCKER_* settings are not used. Missing certificate files, or
// PEM that does not parse, are an error wrapping locations.ErrInvalid.
func Dial(ctx context.Context, id string, o Options) (*Engine, error) {
	if id == "" {
		return nil, fmt.Errorf("docker engine: empty id: %w", locations.ErrInvalid)
	}
	var opts []client.Opt
	if o.TLS() {
		cfg, err := o.tlsConfig()
		if err != nil {
			return nil, fmt.Errorf("docker engine %s: %w", id, err)
		}
		opts = append(opts, client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}))
	}
	opts = append(opts, client.WithHost(o.Endpoint))
	return connect(ctx, id, o.Endpoint, opts)
}

// Provider makes docker locations from specs such as docker:tcp://HOST:2376.
// onNew, when not nil, is called with each engine made (the server watches
// its events).
func Provider(onNew func(*Engine)) locations.Provider {
	return func(ctx context.Context, def locations.Definition, _ locations.SaveFunc) (locations.Location, error) {
		o, err := ParseOptions(def)
		if err != nil {
			return nil, err
		}
		e, err := Dial(ctx, def.ID, o)
		if err != nil {
			return nil, err
		}
		e.spec = def.Spec
		if onNew != nil {
			onNew(e)
		}
		return e, nil
	}
}

func sortedConfigKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func optionsInvalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), locations.ErrInvalid)
}

// isPEM says whether a TLS option holds PEM text rather than a file name.
func isPEM(s string) bool { return strings.Contains(s, "-----BEGIN ") }

// pemOf reads a TLS option: the PEM text itself, or the file it names.
func pemOf(what, v string) ([]byte, error) {
	if isPEM(v) {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("TLS %s: %v: %w", what, err, locations.ErrInvalid)
	}
	return b, nil
}

// tlsConfig is the client TLS config of o: its certificate and key, and the engine's
// certificate verified against o's CA only.
func (o Options) tlsConfig() (*tls.Config, error) {
	ca, err := pemOf("CA (tls.ca)", o.TLSCA)
	if err != nil {
		return nil, err
	}
	cert, err := pemOf("certificate (tls.cert)", o.TLSCert)
	if err != nil {
		return nil, err
	}
	key, err := pemOf("key (tls.key)", o.TLSKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("TLS CA (tls.ca): no PEM certificate in it: %w", locations.ErrInvalid)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate and key (tls.cert, tls.key): %v: %w", err, locations.ErrInvalid)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
