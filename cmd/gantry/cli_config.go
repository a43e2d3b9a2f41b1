package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/client"
)

// defaultServer is the server a client command talks to when nothing names another.
const defaultServer = "http://127.0.0.1:8081"

// savedConfig is the file `gantry login` writes, ~/.gantry/config or $GANTRY_CONFIG,
// mode 0600 since it holds passwords (as br's ~/.brooklyn_cli does):
//
//	current: http://127.0.0.1:8081
//	servers:
//	  http://127.0.0.1:8081:
//	    user: admin
//	    password: secret
type savedConfig struct {
	Current string                 `yaml:"current,omitempty"`
	Servers map[string]savedServer `yaml:"servers,omitempty"`
}

// savedServer holds the credentials of one server.
type savedServer struct {
	User     string `yaml:"user,omitempty"`
	Password string `yaml:"password,omitempty"`
	Token    string `yaml:"token,omitempty"` // an API token, sent as "Authorization: Bearer"
	// CACert is a PEM file of the certificate authority an https server's certificate
	// is checked against (instead of the system's); Insecure skips the check.
	CACert   string `yaml:"caCert,omitempty"`
	Insecure bool   `yaml:"insecure,omitempty"`
}

func configPath() (string, error) {
	if p := os.Getenv("GANTRY_CONFIG"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the saved login: %w (set GANTRY_CONFIG)", err)
	}
	return filepath.Join(home, ".gantry", "config"), nil
}

// loadConfig reads the saved login; a missing file is an empty one.
func loadConfig() (*savedConfig, string, error) {
	path, err := configPath()
	if err != nil {
		return nil, "", err
	}
	cfg := &savedConfig{}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the saved login: %w", err)
	}
	if err := yaml.Unmarshal(b, cfg); err != nil {
		return nil, path, fmt.Errorf("read the saved login %s: %w", path, err)
	}
	return cfg, path, nil
}

// save writes the file with mode 0600, its directory 0700, replacing it whole.
func (cfg *savedConfig) save(path string) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	b := buf.Bytes()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save the login: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*")
	if err != nil {
		return fmt.Errorf("save the login: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save the login: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save the login: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the login: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save the login: %w", err)
	}
	return nil
}

// connection is the server a command talks to, with the credentials it sends.
type connection struct {
	url string
	savedServer
	c *client.Client
}

// normalizeURL gives a server URL without its trailing slash, http:// when no scheme.
func normalizeURL(u string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	return u
}

// client resolves the server once: --server, else $GANTRY_URL, else the saved login,
// else the default. Credentials are $GANTRY_TOKEN, else $GANTRY_USER and
// $GANTRY_PASSWORD, else those saved for that server; $GANTRY_CA_CERT is the
// certificate authority of an https server, else the one saved.
func (c *cli) client() (*client.Client, error) {
	if c.conn != nil {
		return c.conn.c, nil
	}
	cfg, _, err := loadConfig()
	if err != nil {
		return nil, err
	}
	conn := &connection{}
	switch {
	case c.server != "":
		conn.url = normalizeURL(c.server)
	case os.Getenv("GANTRY_URL") != "":
		conn.url = normalizeURL(os.Getenv("GANTRY_URL"))
	case cfg.Current != "":
		conn.url = cfg.Current
	default:
		conn.url = defaultServer
	}
	conn.savedServer = cfg.Servers[conn.url]
	switch {
	case os.Getenv("GANTRY_TOKEN") != "":
		conn.User, conn.Password, conn.Token = "", "", os.Getenv("GANTRY_TOKEN")
	case os.Getenv("GANTRY_USER") != "":
		conn.User, conn.Password, conn.Token = os.Getenv("GANTRY_USER"), os.Getenv("GANTRY_PASSWORD"), ""
	}
	if ca := os.Getenv("GANTRY_CA_CERT"); ca != "" {
		conn.CACert = ca
	}
	if conn.c, err = newAPIClient(conn.url, conn.savedServer); err != nil {
		return nil, err
	}
	c.conn = conn
	return conn.c, nil
}

func newAPIClient(url string, s savedServer) (*client.Client, error) {
	var opts []client.Option
	switch {
	case s.Token != "":
		opts = append(opts, client.WithToken(s.Token))
	case s.User != "":
		opts = append(opts, client.WithBasicAuth(s.User, s.Password))
	}
	if s.CACert != "" || s.Insecure {
		tc := &tls.Config{InsecureSkipVerify: s.Insecure}
		if s.CACert != "" {
			pem, err := os.ReadFile(s.CACert)
			if err != nil {
				return nil, &exitError{code: exitUsage, msg: fmt.Sprintf("certificate authority: %v", err)}
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, &exitError{code: exitUsage, msg: fmt.Sprintf("certificate authority %s: no PEM certificate in it", s.CACert)}
			}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		opts = append(opts, client.WithHTTPClient(&http.Client{Transport: tr}))
	}
	return client.New(url, opts...), nil
}

func runLogin(c *cli, args []string) error {
	fs := c.flags()
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	token := fs.String("token", "", "log in with an API `token` instead of a user and password")
	caCert := fs.String("ca-cert", "", "check the https server's certificate against this certificate authority (a PEM `file`) instead of the system's")
	insecure := fs.Bool("insecure", false, "do not check the https server's certificate (for tests only)")
	args, err := c.parse(fs, args, 1, 3)
	if err != nil {
		return err
	}
	conn := &connection{url: normalizeURL(args[0])}
	conn.Insecure = *insecure
	if *caCert != "" {
		if conn.CACert, err = filepath.Abs(*caCert); err != nil {
			return err
		}
	}
	if len(args) > 1 {
		conn.User = args[1]
	}
	switch {
	case *token != "":
		if len(args) > 1 || *fromStdin {
			return usageErrorf("login: give a token or a user, not both")
		}
		conn.Token = *token
	case len(args) == 3:
		if *fromStdin {
			return usageErrorf("login: give the password as an argument or with --password-stdin, not both")
		}
		conn.Password = args[2]
	case conn.User != "":
		if conn.Password, err = c.readPassword(*fromStdin); err != nil {
			return err
		}
	case *fromStdin:
		return usageErrorf("login: --password-stdin needs a user")
	}
	if conn.c, err = newAPIClient(conn.url, conn.savedServer); err != nil {
		return err
	}
	c.conn = conn
	v, err := conn.c.Version(c.ctx)
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && ce.StatusCode == http.StatusUnauthorized {
			what := "wrong user or password"
			switch {
			case conn.Token != "":
				what = "the token is not valid"
			case conn.User == "":
				what = "this server wants a user and password (gantry login URL USER)"
			}
			return &exitError{code: exitUnauthorized, msg: fmt.Sprintf("login to %s refused: %s", conn.url, what)}
		}
		return err
	}
	cfg, path, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.Servers == nil {
		cfg.Servers = map[string]savedServer{}
	}
	cfg.Current = conn.url
	cfg.Servers[conn.url] = conn.savedServer
	if err := cfg.save(path); err != nil {
		return err
	}
	if c.structured() {
		return c.emit(map[string]any{"server": conn.url, "user": conn.User, "version": v.Version})
	}
	who := ""
	switch {
	case conn.User != "":
		who = " as " + conn.User
	case conn.Token != "":
		who = " with a token"
	}
	fmt.Fprintf(c.stdout, "Connected to Gantry %s at %s%s (saved in %s)\n", v.Version, conn.url, who, path)
	return nil
}

// readPassword reads a password from standard input: a prompt without echo on a
// terminal, else its first line.
func (c *cli) readPassword(fromStdin bool) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && !fromStdin && isTerminal(f) {
		fmt.Fprint(c.stderr, "Password: ")
		p, err := readNoEcho(f)
		fmt.Fprintln(c.stderr)
		return p, err
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageErrorf("login: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
