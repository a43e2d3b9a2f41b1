package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/locations/ssh"
	"github.com/gantry-dev/gantry/store"
)

// locationPrefix holds, in the store, the definitions of the locations made from
// blueprints' specs (byon hosts, docker:tcp://... engines), with their state (which
// entity holds which byon machine), as JSON of locations.Definition, by location id.
//
// Entities keep the ids of their locations. An id is derived from the location's spec
// and config, so a restarted server makes every location again, with the same id, from
// these records before it loads the entities: they find their locations, and byon
// entities the machine they held.
const locationPrefix = "locations/"

// locationState is what the server keeps of the locations made at run time.
type locationState struct {
	dialer *ssh.Dialer

	mu      sync.Mutex
	engines []*docker.Engine // made from specs; watched once watch is set
	watch   func(*docker.Engine)
}

// setupLocations registers the byon and docker providers, the named locations of
// cfg.LocationsFile, and makes again the locations persisted under locationPrefix. It
// runs before the entities are loaded.
func (s *Server) setupLocations(ctx context.Context) error {
	s.locx = &locationState{dialer: ssh.NewDialer(ssh.Options{
		KnownHostsFile: filepath.Join(s.cfg.DataDir, "known_hosts"),
		Logger:         s.log.With("component", "ssh"),
	})}
	if err := ssh.Register(s.locs, s.locx.dialer); err != nil {
		return err
	}
	if err := s.locs.AddProvider(docker.Kind, docker.Provider(s.locx.addEngine)); err != nil {
		return err
	}
	if f := s.cfg.LocationsFile; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("named locations: %w", err)
		}
		named, err := locations.ParseNamedLocations(data)
		if err != nil {
			return fmt.Errorf("named locations in %s: %w", f, err)
		}
		for _, n := range named {
			if err := s.locs.AddNamed(n.Name, n.Spec, n.Config); err != nil {
				return fmt.Errorf("named locations in %s: %w", f, err)
			}
		}
		s.log.Info("named locations", "file", f, "count", len(named))
	}

	var defs []locations.Definition
	err := s.store.List(ctx, locationPrefix, func(key string, v []byte) error {
		var d locations.Definition
		if err := json.Unmarshal(v, &d); err != nil {
			s.log.Error("location record that cannot be read left out", "key", key, "err", err)
			return nil
		}
		defs = append(defs, d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load locations: %w", err)
	}
	if err := s.locs.Restore(ctx, defs); err != nil {
		// Entities on these locations report it when they use them.
		for _, e := range unjoin(err) {
			s.log.Warn("location not made again", "err", e)
		}
	}
	if len(defs) > 0 {
		s.log.Info("locations made again", "count", len(defs))
	}
	s.locs.SetPersist(s.persistLocation)
	return nil
}

// persistLocation writes a location's definition (and state) to the store, at once.
func (s *Server) persistLocation(d locations.Definition) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode location %s: %w", d.ID, err)
	}
	var b store.Batch
	b.Put(locationPrefix+d.ID, data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.store.Apply(ctx, &b)
}

// watchLocations starts watching the events of the engines made from specs, now and
// from now on, until ctx is done.
func (s *Server) watchLocations(ctx context.Context) {
	s.locx.mu.Lock()
	defer s.locx.mu.Unlock()
	s.locx.watch = func(eng *docker.Engine) {
		s.watchers.Add(1)
		go func() {
			defer s.watchers.Done()
			if err := container.Watch(ctx, s.mgmt, eng); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("watching Docker events stopped", "engine", eng.ID(), "err", err)
			}
		}()
	}
	for _, eng := range s.locx.engines {
		s.locx.watch(eng)
	}
}

func (l *locationState) addEngine(eng *docker.Engine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.engines = append(l.engines, eng)
	if l.watch != nil {
		l.watch(eng)
	}
}

// closeLocations closes the SSH connections and the engines made from specs.
func (s *Server) closeLocations() error {
	if s.locx == nil {
		return nil
	}
	errs := []error{s.locx.dialer.Close()}
	s.locx.mu.Lock()
	defer s.locx.mu.Unlock()
	for _, eng := range s.locx.engines {
		errs = append(errs, eng.Close())
	}
	return errors.Join(errs...)
}

// unjoin lists the errors of an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
