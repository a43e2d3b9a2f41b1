package ssh

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

// Kind of byon locations.
const Kind = "byon"

// DefaultPort is sshd's port.
const DefaultPort = 22

// Host is one machine of a byon location and how to log in to it.
type Host struct {
	User string `json:"user"`
	// Host is a host name or an IP address (without brackets).
	Host string `json:"host"`
	Port int    `json:"port"`
	// PrivateKeyFiles are tried in order; "~/" is the server user's home.
	PrivateKeyFiles []string `json:"privateKeyFiles,omitempty"`
	// PrivateKeyData is a PEM private key.
	PrivateKeyData string `json:"-"`
	// Passphrase decrypts the private keys.
	Passphrase string `json:"-"`
	Password   string `json:"-"`
}

// ID is "user@host:port" (the host in brackets when it is an IPv6 address).
func (h Host) ID() string { return h.User + "@" + h.Addr() }

// Addr is "host:port".
func (h Host) Addr() string { return net.JoinHostPort(h.Host, strconv.Itoa(h.Port)) }

// Config of a byon location.
type Config struct {
	// Name is the location's display name (displayName or name), if given.
	Name  string
	Hosts []Host
	// KnownHostsFile overrides the Dialer's known_hosts file.
	KnownHostsFile string
	// ConnectTimeout overrides the Dialer's dial and handshake timeouts.
	ConnectTimeout time.Duration
}

// Config keys of a byon location; hostKeys may also be given per host.
var (
	hostKeys     = []string{"user", "password", "privateKeyFile", "privateKeyData", "privateKeyPassphrase", "port"}
	locationKeys = append([]string{"hosts", "knownHostsFile", "connectTimeout", "displayName", "name"}, hostKeys...)
)

// ParseConfig reads the config of a byon location from its definition: spec
// "byon" (the Registry has moved the arguments of byon:(k=v,...) into the
// config), and config keys:
//
//	hosts                 required: a list, or a string of Brooklyn's host globs
//	                      ("10.0.0.{1-3}, u@h:2222"); each entry is
//	                      [user@]host[:port] ([v6addr]:port for IPv6), or a map
//	                      {ssh: "[user@]host[:port]", user, password, privateKeyFile, ...}
//	user                  default: defaultUser (the server's user)
//	password              password (and keyboard-interactive) authentication
//	privateKeyFile        a path, or several separated by commas
//	privateKeyData        a PEM private key
//	privateKeyPassphrase  for encrypted keys
//	port                  default 22
//	knownHostsFile        default: the Dialer's
//	connectTimeout        e.g. 10s
//
// Other keys are ignored, as Brooklyn ignores keys it does not know, except
// keys that differ from a known one only by case, which are errors. Errors
// wrap locations.ErrInvalid and say which key is wrong and how to write it.
func ParseConfig(def locations.Definition, defaultUser string) (Config, error) {
	spec, err := locations.ParseSpec(def.Spec)
	if err != nil {
		return Config{}, err
	}
	if spec.Provider != Kind || spec.Target != "" || len(spec.Positional) > 0 {
		return Config{}, invalid("byon location %q: write byon:(hosts=\"...\",user=...) or {byon: {hosts: [...]}}", def.Spec)
	}
	cfg := def.Config
	if err := checkKeys(cfg, locationKeys, "byon location"); err != nil {
		return Config{}, err
	}
	var out Config
	out.Name = firstString(cfg, "displayName", "name")
	base := Host{User: defaultUser, Port: DefaultPort}
	if err := applyHostKeys(&base, cfg, "byon"); err != nil {
		return Config{}, err
	}
	if v, ok := cfg["knownHostsFile"]; ok {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return Config{}, invalid("byon knownHostsFile: want a file path, not %v", v)
		}
		out.KnownHostsFile = s
	}
	if v, ok := cfg["connectTimeout"]; ok {
		d, err := duration(v)
		if err != nil {
			return Config{}, invalid("byon connectTimeout: %v (write e.g. 10s)", err)
		}
		out.ConnectTimeout = d
	}
	hostsVal, ok := cfg["hosts"]
	if !ok || hostsVal == nil {
		return Config{}, invalid("byon location needs hosts: add hosts: [\"10.0.0.1\", \"user@10.0.0.2:2222\"] or hosts=\"10.0.0.{1,2}\"")
	}
	var entries []any
	switch h := hostsVal.(type) {
	case string:
		entries = []any{h}
	case []any:
		entries = h
	case []string:
		for _, s := range h {
			entries = append(entries, s)
		}
	default:
		return Config{}, invalid("byon hosts: want a list or a string such as \"10.0.0.{1,2}\", not %T", hostsVal)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		hosts, err := hostEntry(base, e)
		if err != nil {
			return Config{}, fmt.Errorf("byon hosts[%d]: %w", i, err)
		}
		for _, h := range hosts {
			if seen[h.ID()] {
				return Config{}, invalid("byon hosts: %s is listed twice", h.ID())
			}
			seen[h.ID()] = true
			out.Hosts = append(out.Hosts, h)
		}
	}
	if len(out.Hosts) == 0 {
		return Config{}, invalid("byon hosts is empty: list at least one host")
	}
	for _, h := range out.Hosts {
		if h.User == "" {
			return Config{}, invalid("byon host %s: no user: set user on the location or write user@host", h.Addr())
		}
	}
	return out, nil
}

// hostEntry reads one entry of hosts: a glob string or a map.
func hostEntry(base Host, e any) ([]Host, error) {
	switch v := e.(type) {
	case string:
		names, err := locations.ExpandHosts(v)
		if err != nil {
			return nil, err
		}
		var out []Host
		for _, n := range names {
			h := base
			if err := ParseHostString(&h, n); err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		return out, nil
	case map[string]any:
		if err := checkKeys(v, append([]string{"ssh", "host", "address"}, hostKeys...), "host"); err != nil {
			return nil, err
		}
		addr := firstString(v, "ssh", "host", "address")
		if addr == "" {
			return nil, invalid("a host map needs ssh: \"[user@]host[:port]\"")
		}
		h := base
		if err := applyHostKeys(&h, v, "host"); err != nil {
			return nil, err
		}
		if err := ParseHostString(&h, addr); err != nil {
			return nil, err
		}
		return []Host{h}, nil
	}
	return nil, invalid("want \"[user@]host[:port]\" or {ssh: ..., user: ...}, not %T", e)
}

// applyHostKeys sets the login keys of cfg on h.
func applyHostKeys(h *Host, cfg map[string]any, what string) error {
	for _, k := range []string{"user", "password", "privateKeyData", "privateKeyPassphrase"} {
		v, ok := cfg[k]
		if !ok {
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			return invalid("%s %s: want a string, not %T", what, k, v)
		}
		switch k {
		case "user":
			if strings.ContainsAny(s, "@ \t") || s == "" {
				return invalid("%s user %q: want a user name", what, s)
			}
			h.User = s
		case "password":
			h.Password = s
		case "privateKeyData":
			h.PrivateKeyData = s
		case "privateKeyPassphrase":
			h.Passphrase = s
		}
	}
	if v, ok := cfg["privateKeyFile"]; ok {
		var files []string
		switch f := v.(type) {
		case string:
			for p := range strings.SplitSeq(f, ",") {
				if p = strings.TrimSpace(p); p != "" {
					files = append(files, p)
				}
			}
		case []any:
			for _, x := range f {
				s, ok := x.(string)
				if !ok || strings.TrimSpace(s) == "" {
					return invalid("%s privateKeyFile: want file paths, not %v", what, x)
				}
				files = append(files, strings.TrimSpace(s))
			}
		}
		if len(files) == 0 {
			return invalid("%s privateKeyFile: want a file path such as ~/.ssh/id_ed25519, not %v", what, v)
		}
		h.PrivateKeyFiles = files
	}
	if v, ok := cfg["port"]; ok {
		p, err := port(v)
		if err != nil {
			return invalid("%s port: %v", what, err)
		}
		h.Port = p
	}
	return nil
}

// ParseHostString reads "[user@]host[:port]" into h: what it gives replaces
// h's user and port. An IPv6 address with a port is written [addr]:port.
func ParseHostString(h *Host, s string) error {
	s = strings.TrimSpace(s)
	orig := s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user := s[:i]
		if user == "" || strings.ContainsAny(user, "@ \t") {
			return invalid("host %q: bad user before '@'", orig)
		}
		h.User, s = user, s[i+1:]
	}
	host, portStr := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return invalid("host %q: '[' without ']'", orig)
		}
		host, rest := s[1:end], s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return invalid("host %q: want [address]:port", orig)
			}
			portStr = rest[1:]
		}
		s = host
		if net.ParseIP(host) == nil {
			return invalid("host %q: %q in brackets is not an IPv6 address", orig, host)
		}
	case strings.Count(s, ":") == 1:
		host, portStr, _ = strings.Cut(s, ":")
		s = host
	case strings.Count(s, ":") > 1:
		if net.ParseIP(s) == nil {
			return invalid("host %q: not an address; write [IPv6-address]:port", orig)
		}
	}
	if s == "" || strings.ContainsAny(s, " \t/\\{},\"'") {
		return invalid("host %q: want [user@]host[:port]", orig)
	}
	h.Host = s
	if portStr != "" {
		p, err := port(portStr)
		if err != nil {
			return invalid("host %q: %v", orig, err)
		}
		h.Port = p
	}
	return nil
}

func port(v any) (int, error) {
	var p int
	switch x := v.(type) {
	case int:
		p = x
	case int64:
		p = int(x)
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("%v is not a port number", v)
		}
		p = int(x)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not a port number", x)
		}
		p = n
	default:
		return 0, fmt.Errorf("%v is not a port number", v)
	}
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %d is outside 1-65535", p)
	}
	return p, nil
}

func duration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, err
		}
		if d <= 0 {
			return 0, fmt.Errorf("%s is not positive", x)
		}
		return d, nil
	case int:
		if x > 0 {
			return time.Duration(x) * time.Millisecond, nil // Brooklyn's numbers are milliseconds
		}
	case float64:
		if x > 0 {
			return time.Duration(x * float64(time.Millisecond)), nil
		}
	}
	return 0, fmt.Errorf("%v is not a duration", v)
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, float64, bool:
		return fmt.Sprint(x), true
	}
	return "", false
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// checkKeys refuses keys that differ from a known key only by case, or that
// are the singular of one (host for hosts): likely typos that would
// otherwise be ignored.
func checkKeys(cfg map[string]any, known []string, what string) error {
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		if slices.Contains(known, k) {
			continue
		}
		for _, want := range known {
			if strings.EqualFold(k, want) || k+"s" == want {
				return invalid("%s: unknown key %q: did you mean %q?", what, k, want)
			}
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), locations.ErrInvalid)
}
