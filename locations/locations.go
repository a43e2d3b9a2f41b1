package locations

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Sentinel errors. Implementations wrap them (with %w) so callers can use errors.Is.
var (
	// ErrNotFound: the location, container, image, ... does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the request is malformed (bad spec, duplicate id, ...).
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the location does not answer (engine down, host unreachable).
	ErrUnavailable = errors.New("unavailable")
	// ErrNoCapacity: the location has no room left (every machine of a pool is in use).
	ErrNoCapacity = errors.New("no capacity")
)

// Location is a place entities run on.
type Location interface {
	// ID is unique within a Registry, e.g. "localhost", "docker".
	ID() string
	// Kind names the provider, e.g. "localhost", "docker".
	Kind() string
	// DisplayName is for people.
	DisplayName() string
	// Spec is the location spec string that names it in a blueprint, e.g. "docker".
	Spec() string
	// Config is what the REST API shows about the location, e.g.
	// {"host": "unix:///var/run/docker.sock", "apiVersion": "1.41"}.
	// Implementations return a fresh map each call.
	Config() map[string]any
}

// Registry holds the locations a server knows, by id. It is safe for concurrent use.
// The zero value is not usable; call NewRegistry.
type Registry struct {
	mu   sync.RWMutex
	byID map[string]Location

	// What Resolve needs (resolve.go), guarded by mu.
	providers map[string]Provider
	named     map[string]Named
	lookup    Lookup
	defs      map[string]Definition // of the locations made from specs
	persist   func(Definition) error
	// create serialises the making of locations from specs, which may do I/O,
	// without holding mu.
	create sync.Mutex
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byID:      make(map[string]Location),
		providers: make(map[string]Provider),
		named:     make(map[string]Named),
		defs:      make(map[string]Definition),
	}
}

// Add registers loc. A nil location, an empty id or an id already registered is
// an error wrapping ErrInvalid.
func (r *Registry) Add(loc Location) error {
	if loc == nil {
		return fmt.Errorf("add location: nil location: %w", ErrInvalid)
	}
	id := loc.ID()
	if id == "" {
		return fmt.Errorf("add location of kind %q: empty id: %w", loc.Kind(), ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byID[id]; dup {
		return fmt.Errorf("add location %q: id already registered: %w", id, ErrInvalid)
	}
	r.byID[id] = loc
	return nil
}

// Get returns the location with that id, or an error wrapping ErrNotFound that
// lists the known ids.
func (r *Registry) Get(id string) (Location, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if loc, ok := r.byID[id]; ok {
		return loc, nil
	}
	return nil, fmt.Errorf("location %q: %w (known: %s)", id, ErrNotFound, r.knownLocked())
}

// Remove unregisters the location with that id; an unknown id is an error
// wrapping ErrNotFound. It does not close or release anything. A location made
// from a spec (see Resolve) is forgotten with its definition.
func (r *Registry) Remove(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; !ok {
		return fmt.Errorf("remove location %q: %w (known: %s)", id, ErrNotFound, r.knownLocked())
	}
	delete(r.byID, id)
	delete(r.defs, id)
	return nil
}

// List returns all locations sorted by id.
func (r *Registry) List() []Location {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Location, 0, len(r.byID))
	for _, loc := range r.byID {
		out = append(out, loc)
	}
	slices.SortFunc(out, func(a, b Location) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}

func (r *Registry) knownLocked() string {
	if len(r.byID) == 0 {
		return "none"
	}
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ", ")
}
