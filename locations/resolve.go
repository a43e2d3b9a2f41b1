package locations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Definition is how a location made from a spec can be made again: after a
// server restart, the Registry's Restore rebuilds it from its Definition, with
// the same id, so that entities (which keep location ids) find it again.
type Definition struct {
	// ID is DefinitionID(kind, Spec, Config): the same spec and config always
	// give the same id, so two blueprints naming the same byon hosts share one
	// pool of machines.
	ID string `json:"id"`
	// Name is the named location or catalog item it was defined by, if any.
	Name string `json:"name,omitempty"`
	// Spec is the spec without its key=value arguments, e.g. "byon" or
	// "docker:tcp://10.0.0.5:2376".
	Spec string `json:"spec"`
	// Config is the location's config: the named location's, then the
	// blueprint's, then the spec's arguments, the later winning.
	Config map[string]any `json:"config,omitempty"`
	// State is what the location keeps while it is used (which entity holds
	// which machine of a pool), as it last saved it.
	State json.RawMessage `json:"state,omitempty"`
}

// Kind is the provider of the definition's spec ("byon", "docker", ...).
func (d Definition) Kind() string {
	s, err := ParseSpec(d.Spec)
	if err != nil {
		return ""
	}
	return s.Provider
}

// DefinitionID derives a location id from what defines it: kind, a dash and
// the first 12 hex digits of the SHA-256 of the JSON of [spec, config] (whose
// map keys are sorted), e.g. "byon-3f9a0c1d2e4b".
func DefinitionID(kind, spec string, config map[string]any) (string, error) {
	b, err := json.Marshal([]any{spec, config})
	if err != nil {
		return "", fmt.Errorf("location %s: config cannot be encoded: %v: %w", spec, err, ErrInvalid)
	}
	sum := sha256.Sum256(b)
	return kind + "-" + hex.EncodeToString(sum[:6]), nil
}

// SaveFunc records a location's new state (its Definition's State) in the
// server's store. A location calls it after each change of its state, in the
// order of the changes; when it fails, the change should be undone.
type SaveFunc func(state json.RawMessage) error

// Provider makes a location of one kind from its definition: def.ID is the
// id it must have, def.State is the state it last saved (empty for a new
// one). It checks the config (errors wrap ErrInvalid and say which key is
// wrong and how to write it) and should do little I/O: a byon pool connects
// to its hosts only when a command runs.
type Provider func(ctx context.Context, def Definition, save SaveFunc) (Location, error)

// Named is a location defined by name, as Brooklyn's
// brooklyn.location.named.<name>=<spec> with its config.
type Named struct {
	Name   string         `json:"name"`
	Spec   string         `json:"spec"`
	Config map[string]any `json:"config,omitempty"`
}

// Lookup finds a location defined elsewhere (the catalog's location items) by
// the name a blueprint uses: "my-item" or "my-item:1.0".
type Lookup func(name string) (spec string, config map[string]any, ok bool)

// resolveTimeout bounds the I/O a provider may do within Resolve.
const resolveTimeout = 30 * time.Second

// maxNamedDepth bounds chains of named locations naming named locations.
const maxNamedDepth = 16

// unsupported are Brooklyn providers Gantry knows of but does not implement.
var unsupported = []string{
	"jclouds", "aws-ec2", "google-compute-engine", "gce", "openstack-nova", "azurecompute-arm",
	"kubernetes", "openshift", "multi", "single", "pool", "jcloudsByon", "winrm", "host",
}

// AddProvider registers how locations of a kind are made from specs, e.g.
// "byon" (locations/ssh) or "docker" (locations/docker).
func (r *Registry) AddProvider(kind string, p Provider) error {
	if kind == "" || p == nil {
		return fmt.Errorf("add location provider %q: empty kind or nil provider: %w", kind, ErrInvalid)
	}
	if err := checkSpecProvider(kind, kind); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.providers[kind]; dup {
		return fmt.Errorf("add location provider %q: already registered: %w", kind, ErrInvalid)
	}
	r.providers[kind] = p
	return nil
}

// AddNamed defines a named location: a blueprint's `named:<name>` (or just
// `<name>`) then means spec with config, under the blueprint's own config.
// Redefining a name replaces it; locations already made from the old
// definition stay as they are.
func (r *Registry) AddNamed(name, spec string, config map[string]any) error {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return fmt.Errorf("named location %q: the name must be non-empty, without spaces: %w", name, ErrInvalid)
	}
	if _, err := ParseSpec(spec); err != nil {
		return fmt.Errorf("named location %q: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.named[name] = Named{Name: name, Spec: spec, Config: maps.Clone(config)}
	return nil
}

// NamedLocations returns the named locations, sorted by name.
func (r *Registry) NamedLocations() []Named {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Named, 0, len(r.named))
	for _, k := range sortedNames(r.named) {
		out = append(out, r.named[k])
	}
	return out
}

// SetLookup sets where names that are neither registered ids, named locations
// nor providers are looked up: the catalog's location items.
func (r *Registry) SetLookup(fn Lookup) {
	r.mu.Lock()
	r.lookup = fn
	r.mu.Unlock()
}

// SetPersist sets fn to be called, synchronously, with the definition of each
// location Resolve makes, and again each time such a location saves its
// state. The server stores the definitions and gives them back to Restore
// when it starts again. When fn fails, Resolve fails (and forgets the
// location), and a location's state change is undone.
func (r *Registry) SetPersist(fn func(Definition) error) {
	r.mu.Lock()
	r.persist = fn
	r.mu.Unlock()
}

// Definitions returns the definitions of the locations made from specs,
// sorted by id.
func (r *Registry) Definitions() []Definition {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Definition, 0, len(r.defs))
	for _, id := range sortedNames(r.defs) {
		out = append(out, r.defs[id])
	}
	return out
}

// Restore makes again, with their ids and saved state, the locations of defs
// (as SetPersist's function received them), skipping ids already registered.
// Each failure is reported (joined in the error, each naming its id) without
// stopping the others; entities on a location that could not be made fail
// when they use it.
func (r *Registry) Restore(ctx context.Context, defs []Definition) error {
	var errs []error
	for _, d := range defs {
		if err := r.restore(ctx, d); err != nil {
			errs = append(errs, fmt.Errorf("restore location %s (%s): %w", d.ID, d.Spec, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) restore(ctx context.Context, d Definition) error {
	r.create.Lock()
	defer r.create.Unlock()
	r.mu.RLock()
	_, exists := r.byID[d.ID]
	p := r.providers[d.Kind()]
	r.mu.RUnlock()
	switch {
	case d.ID == "":
		return fmt.Errorf("no id: %w", ErrInvalid)
	case exists:
		return nil
	case p == nil:
		return fmt.Errorf("no provider of kind %q on this server: %w", d.Kind(), ErrNotFound)
	}
	loc, err := p(ctx, d, r.saver(d.ID))
	if err != nil {
		return err
	}
	if loc.ID() != d.ID {
		return fmt.Errorf("provider %s made location %q, not %q: %w", d.Kind(), loc.ID(), d.ID, ErrInvalid)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[d.ID] = loc
	r.defs[d.ID] = d
	return nil
}

// saver is the SaveFunc of location id: it records the state in the
// definition and persists it.
func (r *Registry) saver(id string) SaveFunc {
	return func(state json.RawMessage) error {
		r.mu.Lock()
		d, ok := r.defs[id]
		if !ok {
			// Still being made (Restore, Resolve): the definition is recorded
			// just after the provider returns.
			d = Definition{ID: id}
		}
		d.State = slices.Clone(state)
		if ok {
			r.defs[id] = d
		}
		persist := r.persist
		r.mu.Unlock()
		if persist == nil || !ok {
			return nil
		}
		if err := persist(d); err != nil {
			return fmt.Errorf("save the state of location %s: %w", id, err)
		}
		return nil
	}
}

// Resolve finds or makes the location a blueprint names, with the config the
// blueprint gives it (nil or empty for none). Specs, in the order they are
// tried:
//
//   - a registered id (localhost, docker, or the id of a location made from a
//     spec), when there is no config; `id:<id>` too;
//   - `named:<name>`: a named location (AddNamed) or else a catalog location
//     item (SetLookup); `brooklyn.catalog:<id>[:<version>]`: a catalog item;
//   - `<provider>`, `<provider>:<target>`, `<provider>:(k=v,...)` for a
//     provider added with AddProvider: byon, docker; the arguments are config
//     too, and win over the config given;
//   - a bare name of a named location or catalog item.
//
// A location made from a spec gets an id derived from its spec and config
// (see DefinitionID): resolving the same spec and config again returns the
// same location. Errors wrap ErrNotFound (nothing of that name; the message
// lists what there is) or ErrInvalid (a malformed spec or config; the message
// says what is wrong and how to write it).
func (r *Registry) Resolve(spec string, config map[string]any) (Location, error) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	return r.ResolveContext(ctx, spec, config)
}

// ResolveContext is Resolve with a context for the I/O a provider may do.
func (r *Registry) ResolveContext(ctx context.Context, spec string, config map[string]any) (Location, error) {
	return r.resolve(ctx, spec, config, "", nil)
}

func (r *Registry) resolve(ctx context.Context, spec string, config map[string]any, name string, seen []string) (Location, error) {
	s := strings.TrimSpace(spec)
	if len(seen) > maxNamedDepth {
		return nil, fmt.Errorf("location %q: named locations nest deeper than %d: %w", spec, maxNamedDepth, ErrInvalid)
	}
	r.mu.RLock()
	loc, registered := r.byID[s]
	r.mu.RUnlock()
	if registered {
		if len(config) > 0 {
			return nil, fmt.Errorf("location %q is defined by the server and takes no config here (got %s): remove the config, or use a named location: %w",
				s, strings.Join(sortedNames(config), ", "), ErrInvalid)
		}
		return loc, nil
	}
	p, err := ParseSpec(s)
	if err != nil {
		return nil, err
	}
	switch p.Provider {
	case "id":
		if len(config) > 0 {
			return nil, fmt.Errorf("location %q takes no config: %w", s, ErrInvalid)
		}
		return r.Get(p.Target)
	case "named":
		if p.Target == "" {
			return nil, fmt.Errorf("location %q: write named:<name>: %w", s, ErrInvalid)
		}
		n, ok := r.findNamed(p.Target, true)
		if !ok {
			return nil, fmt.Errorf("no named location %q (named locations: %s); define it in the server's --locations file or add a location item to the catalog: %w",
				p.Target, r.namedList(), ErrNotFound)
		}
		return r.expandNamed(ctx, n, config, seen)
	case "brooklyn.catalog":
		if p.Target == "" {
			return nil, fmt.Errorf("location %q: write brooklyn.catalog:<id>[:<version>]: %w", s, ErrInvalid)
		}
		n, ok := r.findNamed(p.Target, false)
		if !ok {
			return nil, fmt.Errorf("no location item %q in the catalog: %w", p.Target, ErrNotFound)
		}
		return r.expandNamed(ctx, n, config, seen)
	}
	r.mu.RLock()
	prov := r.providers[p.Provider]
	r.mu.RUnlock()
	if prov != nil {
		return r.make(ctx, prov, p, config, name)
	}
	if n, ok := r.findNamed(s, true); ok {
		return r.expandNamed(ctx, n, config, seen)
	}
	if slices.Contains(unsupported, p.Provider) {
		return nil, fmt.Errorf("location %q: %s locations are not supported by this server (it has: %s): %w",
			s, p.Provider, r.knownText(), ErrNotFound)
	}
	return nil, fmt.Errorf("location %q (this server has: %s): %w", s, r.knownText(), ErrNotFound)
}

// findNamed looks name up in the named locations (when named is true) and
// then through the lookup function.
func (r *Registry) findNamed(name string, named bool) (Named, bool) {
	r.mu.RLock()
	n, ok := r.named[name]
	lookup := r.lookup
	r.mu.RUnlock()
	if ok && named {
		return n, true
	}
	if lookup != nil {
		if spec, cfg, ok := lookup(name); ok {
			return Named{Name: name, Spec: spec, Config: cfg}, true
		}
	}
	return Named{}, false
}

func (r *Registry) expandNamed(ctx context.Context, n Named, config map[string]any, seen []string) (Location, error) {
	if slices.Contains(seen, n.Name) {
		return nil, fmt.Errorf("named locations form a cycle: %s -> %s: %w", strings.Join(seen, " -> "), n.Name, ErrInvalid)
	}
	merged := maps.Clone(n.Config)
	if merged == nil && len(config) > 0 {
		merged = make(map[string]any, len(config))
	}
	maps.Copy(merged, config)
	name := n.Name // the outermost name is the one the blueprint wrote
	if len(seen) > 0 {
		name = seen[0]
	}
	loc, err := r.resolve(ctx, n.Spec, merged, name, append(seen, n.Name))
	if err != nil && len(seen) == 0 {
		return nil, fmt.Errorf("named location %q (%s): %w", n.Name, n.Spec, err)
	}
	return loc, err
}

// make returns the location of provider p for spec and config, making it
// when there is none of that definition yet.
func (r *Registry) make(ctx context.Context, prov Provider, p Spec, config map[string]any, name string) (Location, error) {
	cfg := maps.Clone(config)
	for k, v := range p.Args {
		if cfg == nil {
			cfg = make(map[string]any, len(p.Args))
		}
		cfg[k] = v
	}
	canonical := Spec{Provider: p.Provider, Target: p.Target, Positional: p.Positional}.String()
	id, err := DefinitionID(p.Provider, canonical, cfg)
	if err != nil {
		return nil, err
	}
	def := Definition{ID: id, Name: name, Spec: canonical, Config: cfg}

	r.create.Lock()
	defer r.create.Unlock()
	r.mu.RLock()
	existing, ok := r.byID[id]
	r.mu.RUnlock()
	if ok {
		return existing, nil
	}
	loc, err := prov(ctx, def, r.saver(id))
	if err != nil {
		return nil, err
	}
	if loc.ID() != id {
		return nil, fmt.Errorf("provider %s made location %q, not %q: %w", p.Provider, loc.ID(), id, ErrInvalid)
	}
	r.mu.Lock()
	r.byID[id] = loc
	r.defs[id] = def
	persist := r.persist
	r.mu.Unlock()
	if persist != nil {
		if err := persist(def); err != nil {
			r.mu.Lock()
			delete(r.byID, id)
			delete(r.defs, id)
			r.mu.Unlock()
			return nil, fmt.Errorf("location %s: save its definition: %w", canonical, err)
		}
	}
	return loc, nil
}

// knownText lists what a spec may name: ids, providers and named locations.
func (r *Registry) knownText() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var parts []string
	if len(r.byID) > 0 {
		parts = append(parts, r.knownLocked())
	}
	for _, k := range sortedNames(r.providers) {
		parts = append(parts, k+":...")
	}
	for _, k := range sortedNames(r.named) {
		parts = append(parts, "named:"+k)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r *Registry) namedList() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.named) == 0 {
		return "none"
	}
	return strings.Join(sortedNames(r.named), ", ")
}

func sortedNames[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
