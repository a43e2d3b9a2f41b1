package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/locations/localhost"
	"github.com/gantry-dev/gantry/store"

	// The built-in kinds, policies and enrichers register themselves.
	_ "github.com/gantry-dev/gantry/entities/cluster"
	_ "github.com/gantry-dev/gantry/entities/dockercloud"
	_ "github.com/gantry-dev/gantry/entities/proxy"
	_ "github.com/gantry-dev/gantry/entities/software"
	_ "github.com/gantry-dev/gantry/entities/stock"
	_ "github.com/gantry-dev/gantry/policies"
	_ "github.com/gantry-dev/gantry/sdn/calico"
)

// Version is the server's version, as /v1/server/version reports it.
const Version = "0.1.0-SNAPSHOT"

// Config says how to run a server.
type Config struct {
	Bind    string // address to listen on, e.g. 127.0.0.1:8081
	DataDir string // where the embedded store lives
	// DockerHost overrides DOCKER_HOST for the `docker` location. The location is
	// registered only when an engine answers at start.
	DockerHost string
	// LocationsFile defines named locations (YAML, or Brooklyn's
	// brooklyn.location.named.* properties); see locations.ParseNamedLocations.
	LocationsFile string
	// UsersFile, when set, is the users file (users.go): every request to /v1 must
	// then carry a user's credentials, and the user's role must allow it (auth.go).
	// Without it the server only listens on loopback.
	UsersFile string
	// TLSCert and TLSKey, when set, are PEM files: the server then serves HTTPS.
	TLSCert, TLSKey string
	Logger          *slog.Logger
}

// Server is a running Gantry: its store, locations, Management and HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	locs    *locations.Registry
	catalog *catalog.Catalog
	mgmt    *entities.Management
	started time.Time
	engines []*docker.Engine
	locx    *locationState // locations made from specs (locations.go)
	users   *userStore     // nil: no users file, nothing checked (auth.go)
	events  *eventHub      // GET /v1/events (events.go)

	watchCancel context.CancelFunc
	watchers    sync.WaitGroup
}

// New opens the store, registers the locations, loads and rebinds what was deployed, and
// starts watching the Docker engines. Serve it with Handler or ListenAndServe.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Secrets never reach the logs (secrets.go).
	cfg.Logger = slog.New(MaskSecrets(cfg.Logger.Handler()))
	s := &Server{cfg: cfg, log: cfg.Logger, started: time.Now(), locs: locations.NewRegistry()}
	if err := checkBind(cfg.Bind, cfg.UsersFile != ""); err != nil {
		return nil, err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("TLS needs both a certificate and its key (--tls-cert and --tls-key)")
	}
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, fmt.Errorf("TLS certificate and key: %w", err)
		}
	}
	if cfg.UsersFile != "" {
		users, err := openUsers(cfg.UsersFile, s.log)
		if err != nil {
			return nil, err
		}
		s.users = users
	}
	st, err := store.OpenBolt(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.store = st
	if s.catalog, err = catalog.New(ctx, catalog.Options{Store: st, BuiltinVersion: Version, Logger: s.log}); err != nil {
		st.Close()
		return nil, err
	}
	s.locs.SetLookup(s.catalog.LocationLookup) // location items are named locations
	if err := s.locs.Add(localhost.New()); err != nil {
		st.Close()
		return nil, err
	}
	if eng, err := docker.New(ctx, "docker", cfg.DockerHost); err != nil {
		s.log.Warn("no Docker Engine answered: the docker location is not registered", "err", err)
	} else {
		s.engines = append(s.engines, eng)
		if err := s.locs.Add(eng); err != nil {
			st.Close()
			return nil, err
		}
	}
	if err := s.setupLocations(ctx); err != nil { // byon, docker:tcp://, named (locations.go)
		s.closeLocations()
		st.Close()
		return nil, err
	}
	s.mgmt, err = entities.New(ctx, entities.Options{Store: st, Locations: s.locs, Logger: s.log})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.events = newEventHub(s.mgmt, eventRingSize)
	wctx, cancel := context.WithCancel(context.Background())
	s.watchCancel = cancel
	s.watchLocations(wctx)
	for _, eng := range s.engines {
		s.watchers.Add(1)
		go func() {
			defer s.watchers.Done()
			if err := container.Watch(wctx, s.mgmt, eng); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("watching Docker events stopped", "engine", eng.ID(), "err", err)
			}
		}()
	}
	s.mgmt.Rebind(ctx)
	s.reportOrphans(ctx)
	return s, nil
}

// reportOrphans logs the containers that carry this server's labels but no entity claims.
func (s *Server) reportOrphans(ctx context.Context) {
	for _, eng := range s.engines {
		orphans, err := container.Orphans(ctx, s.mgmt, eng)
		if err != nil {
			s.log.Warn("could not list containers to look for orphans", "engine", eng.ID(), "err", err)
			continue
		}
		for _, c := range orphans {
			s.log.Warn("container with this server's labels that no entity claims; remove it with `docker rm -f` if it is not needed",
				"container", c.ID, "name", c.Name, "entity", c.Labels[container.LabelEntity], "app", c.Labels[container.LabelApp])
		}
	}
}

// Management gives access to the entity model, for tests and embedding.
func (s *Server) Management() *entities.Management { return s.mgmt }

// ListenAndServe serves the API on cfg.Bind until ctx is done, then shuts down cleanly.
// ready, if not nil, receives the address once the server listens.
func (s *Server) ListenAndServe(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Bind)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Bind, err)
	}
	if err := checkExposure(ln.Addr(), s.users != nil); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(httpErrorLog{s.log}, "", 0)}
	srv.RegisterOnShutdown(s.events.endStreams) // event streams never end by themselves
	scheme := "http"
	errc := make(chan error, 1)
	if s.cfg.TLSCert != "" {
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
		if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
			s.log.Warn("serving without TLS on a network address: passwords and tokens cross the network in clear; use --tls-cert and --tls-key", "addr", ln.Addr().String())
		}
	}
	s.log.Info("gantry server listening", "addr", scheme+"://"+ln.Addr().String(), "data", s.cfg.DataDir,
		"server", s.mgmt.ServerID(), "applications", len(s.mgmt.Applications()), "users", s.cfg.UsersFile != "")
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// httpErrorLog writes the HTTP server's own messages to the log: failed TLS
// handshakes at debug level (br opens and closes a plain connection before each
// command), the others as warnings.
type httpErrorLog struct{ log *slog.Logger }

func (l httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") {
		l.log.Debug(msg)
	} else {
		l.log.Warn(msg)
	}
	return len(p), nil
}

// Close stops watching, writes every pending change and closes the store.
func (s *Server) Close() error {
	s.events.close()
	s.watchCancel()
	s.watchers.Wait()
	err := s.mgmt.Close()
	for _, eng := range s.engines {
		eng.Close()
	}
	s.closeLocations()
	return errors.Join(err, s.store.Close())
}
