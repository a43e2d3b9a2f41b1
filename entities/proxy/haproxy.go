package proxy

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-dev/gantry/entities"
)

// Where HAProxy keeps things in gantry/haproxy (images/haproxy), and how it runs there:
// the container's command is Command, HAProxy's master is its main process.
const (
	// Image is the image the load-balancer kind runs, built locally from images/haproxy.
	Image = "gantry/haproxy:latest"
	// ConfigPath is the config file HAProxy loads, at start and at each reload.
	ConfigPath = "/etc/haproxy/haproxy.cfg"
	// PIDFile holds the master's pid (1: the master is the container's main process).
	PIDFile = "/run/haproxy/haproxy.pid"
	// MasterCLI is the address of the master CLI inside the container, for `show proc`
	// through busybox nc. Nothing else may listen there.
	MasterCLI = "127.0.0.1:9999"

	// DefaultPort is the port HAProxy listens on for HTTP (Brooklyn's proxy.http.port).
	DefaultPort = 8000
	// DefaultStatsBind and DefaultStatsURI are where HAProxy serves its statistics
	// (HTML, and CSV at URI;csv): inside the container only.
	DefaultStatsBind = "127.0.0.1:8404"
	DefaultStatsURI  = "/stats"

	// Frontend and Backend name the proxies Render writes; their rows in the statistics
	// carry the load balancer's figures.
	Frontend = "http"
	Backend  = "pool"
)

// Command runs HAProxy in master-worker mode (-W) in the foreground (-db), with the master
// CLI on MasterCLI and the master's pid in PIDFile. SIGUSR2 to the master reloads: it
// re-executes itself on ConfigPath, and the new worker takes the listening sockets over
// from the old one through the master's socket pair (HAProxy 2.6 adds `-x sockpair@<fd>`
// by itself), so no connection is refused; the old worker finishes what it serves, within
// hard-stop-after. It is the CMD of images/haproxy/Dockerfile too.
func Command() []string {
	return []string{"/usr/sbin/haproxy", "-W", "-db", "-S", "ipv4@" + MasterCLI, "-p", PIDFile, "-f", ConfigPath}
}

// Member is a server of the pool: an entity, at an address and port the load balancer
// reaches.
type Member struct {
	ID      string // the member entity's id; it names the server in HAProxy's config
	Address string // IP address or host name
	Port    int
}

// HostPort is the member's address as "host:port".
func (m Member) HostPort() string { return net.JoinHostPort(m.Address, strconv.Itoa(m.Port)) }

// Stats says where HAProxy serves its statistics. Zero fields take the defaults.
type Stats struct {
	Bind string // host:port, DefaultStatsBind when empty
	URI  string // DefaultStatsURI when empty
}

func (s Stats) withDefaults() Stats {
	if s.Bind == "" {
		s.Bind = DefaultStatsBind
	}
	if s.URI == "" {
		s.URI = DefaultStatsURI
	}
	return s
}

// Config is what Render writes: an HTTP frontend on Port, round robin over Members.
type Config struct {
	Port    int
	Members []Member
	Stats   Stats
}

// Render writes HAProxy's config for c: a frontend on c.Port balancing round robin over
// the members, sorted by id so that the same pool always gives the same text, with TCP
// health checks, and retries on another server when a connection to one fails; and the
// statistics frontend. A member that stops before the config drops it costs no request
// that may be repeated (GET, HEAD, OPTIONS): those are retried on another member, and
// the first failed connection marks it down. A member's address may be a host name: one
// that does not resolve leaves that server out (in maintenance) rather than failing the
// whole config. With no members the backend has no server and HAProxy answers
// every request 503 Service Unavailable. Invalid input is an error wrapping
// entities.ErrInvalid.
func Render(c Config) ([]byte, error) {
	stats := c.Stats.withDefaults()
	if err := checkPort("port", c.Port); err != nil {
		return nil, err
	}
	if c.Port == masterCLIPort {
		return nil, fmt.Errorf("port %d is the master CLI's: %w", c.Port, entities.ErrInvalid)
	}
	if err := checkStats(stats, c.Port); err != nil {
		return nil, err
	}
	members := slices.Clone(c.Members)
	slices.SortFunc(members, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	names := make(map[string]string, len(members))
	for _, m := range members {
		name := serverName(m.ID)
		if other, dup := names[name]; dup {
			return nil, fmt.Errorf("members %q and %q: same server name %q: %w", other, m.ID, name, entities.ErrInvalid)
		}
		names[name] = m.ID
		if err := checkPort("member "+m.ID+" port", m.Port); err != nil {
			return nil, err
		}
		if m.Address == "" || strings.ContainsAny(m.Address, " \t\r\n#'\"\\") {
			return nil, fmt.Errorf("member %s: address %q: %w", m.ID, m.Address, entities.ErrInvalid)
		}
	}

	var b bytes.Buffer
	b.WriteString(`# Written by Gantry (entities/proxy): rewritten and reloaded when the pool changes.
global
	maxconn 4096
	hard-stop-after 30s

defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout http-request 10s
	timeout queue 10s
	retries 3
	option redispatch 1

`)
	fmt.Fprintf(&b, "frontend stats\n\tbind %s\n\tstats enable\n\tstats uri %s\n\tstats refresh 10s\n\n", stats.Bind, stats.URI)
	fmt.Fprintf(&b, "frontend %s\n\tbind :%d\n\tdefault_backend %s\n\n", Frontend, c.Port, Backend)
	if len(members) == 0 {
		b.WriteString("# no members: every request gets 503 Service Unavailable\n")
	}
	fmt.Fprintf(&b, "backend %s\n\tbalance roundrobin\n", Backend)
	if len(members) > 0 {
		// A member may go away before the config says so (a cluster that shrinks stops
		// it at once): a request that finds it gone is tried on another member, again
		// after an empty or broken response unless it may not be repeated, and the first
		// failed connection marks it down until its health check passes again.
		b.WriteString("\tretry-on conn-failure empty-response junk-response response-timeout\n")
		b.WriteString("\thttp-request disable-l7-retry unless METH_GET || METH_OPTIONS\n")
		b.WriteString("\tdefault-server init-addr libc,none check inter 2s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down\n")
	}
	for _, m := range members {
		fmt.Fprintf(&b, "\tserver %s %s\n", serverName(m.ID), m.HostPort())
	}
	return b.Bytes(), nil
}

// serverName is a member id as HAProxy accepts it in a server name (letters, digits,
// '-', '_', '.' and ':'); other characters become '_'.
func serverName(id string) string {
	if id == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.', r == ':':
			return r
		}
		return '_'
	}, id)
}

// masterCLIPort is MasterCLI's port: HAProxy would let a frontend bind it too (its
// sockets are SO_REUSEPORT), and the master CLI would stop answering.
const masterCLIPort = 9999

func checkPort(what string, p int) error {
	if p < 1 || p > 65535 {
		return fmt.Errorf("%s %d is not a TCP port: %w", what, p, entities.ErrInvalid)
	}
	return nil
}

func checkStats(s Stats, port int) error {
	host, ps, err := net.SplitHostPort(s.Bind)
	if err != nil {
		return fmt.Errorf("stats bind %q: %v: %w", s.Bind, err, entities.ErrInvalid)
	}
	p, err := strconv.Atoi(ps)
	if err != nil {
		return fmt.Errorf("stats bind %q: port: %w", s.Bind, entities.ErrInvalid)
	}
	if err := checkPort("stats port", p); err != nil {
		return err
	}
	if p == port {
		return fmt.Errorf("stats port %d is the HTTP port: %w", p, entities.ErrInvalid)
	}
	if p == masterCLIPort {
		return fmt.Errorf("stats port %d is the master CLI's: %w", p, entities.ErrInvalid)
	}
	if host == "" {
		return fmt.Errorf("stats bind %q: give an address (127.0.0.1 keeps the statistics inside the container): %w", s.Bind, entities.ErrInvalid)
	}
	if !strings.HasPrefix(s.URI, "/") || strings.ContainsAny(s.URI, " \t\r\n#;") {
		return fmt.Errorf("stats uri %q: %w", s.URI, entities.ErrInvalid)
	}
	return nil
}
