package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/store"
)

// Sentinel errors of the catalog; test with errors.Is. A BOM with mistakes wraps
// blueprints.ErrInvalid instead, with the line and column of each.
var (
	// ErrNotFound: no item of that id, or no such version of it.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a release version of an item is already in the catalog with another
	// definition, or a built-in type was to be deleted.
	ErrConflict = errors.New("conflict")
)

// keyPrefix starts the store keys of catalog items: catalog/items/<id>/<version>.
const keyPrefix = "catalog/items/"

// Item is a versioned catalog item: a definition (its plan) with the metadata people read.
type Item struct {
	SymbolicName string   `json:"symbolicName"`
	Version      string   `json:"version"`
	ItemType     ItemType `json:"itemType"`
	Name         string   `json:"name,omitempty"`
	Description  string   `json:"description,omitempty"`
	IconURL      string   `json:"iconUrl,omitempty"`
	Tags         []any    `json:"tags,omitempty"`
	Deprecated   bool     `json:"deprecated,omitempty"`
	Disabled     bool     `json:"disabled,omitempty"`
	// Bundle is the bundle the item came in, name:version: the BOM's bundle and version,
	// or for a BOM without one, a name made from its content.
	Bundle string `json:"bundle"`
	// Plan is the definition as YAML, Brooklyn's planYaml: a blueprint (services: ...)
	// for entity, application and template items; brooklyn.policies,
	// brooklyn.enrichers or brooklyn.locations with one entry for policy, enricher and
	// location items.
	Plan  string    `json:"plan"`
	Added time.Time `json:"added"`

	// Type is the type the item builds on: the type of its service (a built-in name,
	// docker:<image> or another item), of its policy or enricher, or its location spec.
	Type string `json:"type,omitempty"`
	// Kind is the built-in entity type an entity item deploys as, in the end (its Java
	// type, in Brooklyn's words); empty when unknown.
	Kind string `json:"-"`
	// BuiltIn marks the entries that stand for this server's built-in entity types.
	BuiltIn bool `json:"-"`
	// Aliases are the other names of a built-in type.
	Aliases []string `json:"-"`
}

// ID is symbolicName:version, as catalogItemId shows it.
func (it *Item) ID() string { return it.SymbolicName + ":" + it.Version }

func (it *Item) String() string { return it.ID() }

// sameDefinition says whether b defines what a does: the same plan and type. Metadata
// such as the name may differ.
func sameDefinition(a, b *Item) bool { return a.ItemType == b.ItemType && a.Plan == b.Plan }

// sameItem says whether b is a in every respect that is stored.
func sameItem(a, b *Item) bool {
	ja, _ := json.Marshal(persisted(a))
	jb, _ := json.Marshal(persisted(b))
	return string(ja) == string(jb)
}

func persisted(it *Item) Item {
	c := *it
	c.Added, c.Bundle, c.Kind = time.Time{}, "", ""
	return c
}

// Catalog holds the versioned items added with BOMs, persisted in the store, and lists
// the server's built-in entity types beside them. It is safe for concurrent use.
type Catalog struct {
	store   store.Store
	log     *slog.Logger
	builtin string // the version built-in types are listed with

	write sync.Mutex   // serialises Add and Delete
	mu    sync.RWMutex // guards items
	// items holds every version of each symbolic name, best first (see better).
	items map[string][]*Item
}

// Options configure a Catalog.
type Options struct {
	// Store persists the items; nil keeps them in memory only.
	Store store.Store
	// BuiltinVersion is the version the built-in types are listed with, the server's.
	BuiltinVersion string
	Logger         *slog.Logger
}

// New returns a catalog with the items found in the store.
func New(ctx context.Context, opts Options) (*Catalog, error) {
	c := &Catalog{store: opts.Store, log: opts.Logger, builtin: opts.BuiltinVersion, items: map[string][]*Item{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.builtin == "" {
		c.builtin = NoVersion
	}
	if c.store == nil {
		return c, nil
	}
	var loaded []*Item
	err := c.store.List(ctx, keyPrefix, func(key string, v []byte) error {
		var it Item
		if err := json.Unmarshal(v, &it); err != nil {
			c.log.Error("catalog item in the store cannot be read; skipped", "key", key, "err", err)
			return nil
		}
		loaded = append(loaded, &it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	for _, it := range loaded {
		c.items[it.SymbolicName] = append(c.items[it.SymbolicName], it)
	}
	for _, vs := range c.items {
		slices.SortFunc(vs, better)
	}
	// Kinds depend on other items: work them out once all are there.
	snap := c.snapshot()
	for _, it := range loaded {
		if it.ItemType == EntityItem || it.ItemType == ApplicationItem || it.ItemType == TemplateItem {
			it.Kind = snap.kindOf(it)
		}
	}
	return c, nil
}

// better orders versions of an item best first: enabled before disabled, current
// before deprecated, then the highest version.
func better(a, b *Item) int {
	if a.Disabled != b.Disabled {
		if a.Disabled {
			return 1
		}
		return -1
	}
	if a.Deprecated != b.Deprecated {
		if a.Deprecated {
			return 1
		}
		return -1
	}
	return CompareVersions(b.Version, a.Version)
}

func storeKey(name, version string) string {
	return keyPrefix + url.PathEscape(name) + "/" + url.PathEscape(OSGiVersion(version))
}

// AddResult says what adding a BOM did, in the words of Brooklyn's bundle installation.
type AddResult struct {
	// Code is INSTALLED_NEW_BUNDLE, UPDATED_EXISTING_BUNDLE or
	// IGNORING_BUNDLE_AREADY_INSTALLED (sic, as Brooklyn spells it).
	Code    string
	Message string
	Bundle  string
	// Items are the items of the BOM, in its order, as they are now in the catalog.
	Items []*Item
	// Changed is false when every item was already there, the same.
	Changed bool
}

// Result codes of AddResult.
const (
	InstalledNew     = "INSTALLED_NEW_BUNDLE"
	UpdatedExisting  = "UPDATED_EXISTING_BUNDLE"
	AlreadyInstalled = "IGNORING_BUNDLE_AREADY_INSTALLED"
)

// Add reads a BOM and adds its items, all or none. Entity and application items are
// checked as blueprints against the catalog and the items of the BOM before them (no
// forward references); policy and enricher items likewise, as entries of
// brooklyn.policies or brooklyn.enrichers, when this server has their kind. An item whose id and version are in the catalog already
// replaces it when the definitions are the same, when the version is a SNAPSHOT, or
// when force is set; otherwise it is an error wrapping ErrConflict. Errors in the BOM
// wrap blueprints.ErrInvalid and give their line and column.
func (c *Catalog) Add(ctx context.Context, data []byte, force bool) (*AddResult, error) {
	b, err := parseBOM(data)
	if err != nil {
		return nil, err
	}
	c.write.Lock()
	defer c.write.Unlock()
	snap := c.snapshot()
	var errs blueprints.Errors
	var conflicts []string
	var overlay []*bomItem
	res := &AddResult{Bundle: b.bundle}
	var batch store.Batch
	replaced, added := 0, 0
	now := time.Now().UTC()
	for _, bi := range b.items {
		it := bi.item
		it.Added = now
		dup := false
		for _, o := range overlay {
			if o.item.SymbolicName == it.SymbolicName && SameVersion(o.item.Version, it.Version) {
				errs = append(errs, blueprints.Errorf(bi.pos, bi.path, "%s is defined twice in this BOM (first at %s, %s)", it.ID(), o.pos, o.path))
				dup = true
			}
		}
		if dup {
			continue
		}
		overlay = append(overlay, bi)
		switch it.ItemType {
		case EntityItem, ApplicationItem:
			errs = append(errs, snap.check(bi, overlay)...)
		case TemplateItem:
			it.Kind = snap.with(overlay).kindOf(it)
		case PolicyItem, EnricherItem:
			errs = append(errs, snap.checkAdjunct(bi, overlay)...) // adjuncts.go
		}
		old := snap.find(it.SymbolicName, it.Version)
		switch {
		case old == nil:
			added++
		case sameItem(old, it):
			it.Added, it.Bundle = old.Added, old.Bundle
			res.Items = append(res.Items, it)
			continue
		case sameDefinition(old, it) || IsSnapshot(it.Version) || force:
			replaced++
		default:
			conflicts = append(conflicts, fmt.Sprintf("%s: %s: cannot add %s: the catalog has a different %s (added %s); a release version cannot change: give the item a new version (or a SNAPSHOT version while it changes)",
				bi.pos, bi.path, it.ID(), old.ID(), old.Added.Format(time.RFC3339)))
			continue
		}
		v, err := json.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("encode catalog item %s: %w", it.ID(), err)
		}
		if old != nil {
			batch.Delete(storeKey(old.SymbolicName, old.Version))
		}
		batch.Put(storeKey(it.SymbolicName, it.Version), v)
		res.Items = append(res.Items, it)
	}
	if err := sortErrors(errs); err != nil {
		return nil, err
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%s: %w", strings.Join(conflicts, "\n"), ErrConflict)
	}
	// A replaced item's old key may be its new key: keep the put.
	batch.Deletes = slices.DeleteFunc(batch.Deletes, func(k string) bool { _, put := batch.Puts[k]; return put })
	if c.store != nil && batch.Len() > 0 {
		if err := c.store.Apply(ctx, &batch); err != nil {
			return nil, fmt.Errorf("store catalog items: %w", err)
		}
	}
	c.mu.Lock()
	for _, it := range res.Items {
		vs := slices.DeleteFunc(c.items[it.SymbolicName], func(o *Item) bool { return SameVersion(o.Version, it.Version) })
		vs = append(vs, it)
		slices.SortFunc(vs, better)
		c.items[it.SymbolicName] = vs
	}
	c.mu.Unlock()
	res.Changed = added+replaced > 0
	switch {
	case !res.Changed:
		res.Code = AlreadyInstalled
		res.Message = fmt.Sprintf("Bundle %s already installed: its %d item(s) are in the catalog, unchanged", b.bundle, len(res.Items))
	case replaced > 0:
		res.Code = UpdatedExisting
		res.Message = fmt.Sprintf("Updated catalog bundle %s: %d item(s) added, %d replaced", b.bundle, added, replaced)
	default:
		res.Code = InstalledNew
		res.Message = fmt.Sprintf("Installed catalog bundle %s: %d item(s) added", b.bundle, added)
	}
	c.log.Info("catalog BOM added", "bundle", b.bundle, "code", res.Code, "items", len(res.Items), "added", added, "replaced", replaced)
	return res, nil
}

// Get returns an item: version "" or "latest" is the best version (see Versions).
// Built-in types are found by name or alias, with their version or none.
func (c *Catalog) Get(name, version string) (*Item, error) {
	return c.snapshot().get(name, version)
}

// Versions lists every version of an item, best first: enabled before disabled,
// current before deprecated, then highest version first. A built-in type has one.
func (c *Catalog) Versions(name string) []*Item {
	s := c.snapshot()
	if vs := s.versions(name); len(vs) > 0 {
		return vs
	}
	if b := s.builtinItem(name); b != nil {
		return []*Item{b}
	}
	return nil
}

// List returns the items added with BOMs and, when builtins is set, the built-in
// entity types; with all, every version, else the best version of each. They are
// sorted by symbolic name (natural order), then best first.
func (c *Catalog) List(builtins, all bool) []*Item {
	s := c.snapshot()
	var out []*Item
	for _, vs := range s.items {
		if all {
			out = append(out, vs...)
		} else if len(vs) > 0 {
			out = append(out, vs[0])
		}
	}
	if builtins {
		for _, t := range entities.Types() {
			if _, shadowed := s.items[t.Name]; !shadowed {
				out = append(out, s.builtin(t))
			}
		}
	}
	slices.SortFunc(out, func(a, b *Item) int {
		if c := naturalCompare(a.SymbolicName, b.SymbolicName); c != 0 {
			return c
		}
		return better(a, b)
	})
	return out
}

// Delete removes one version of an item ("latest": the best). Deployed entities keep
// what they were made from; the item can no longer be referenced. Built-in types
// cannot be deleted (ErrConflict).
func (c *Catalog) Delete(ctx context.Context, name, version string) (*Item, error) {
	c.write.Lock()
	defer c.write.Unlock()
	it, err := c.snapshot().get(name, version)
	if err != nil {
		return nil, err
	}
	if it.BuiltIn {
		return nil, fmt.Errorf("%s is a built-in type of this server and cannot be deleted: %w", it.ID(), ErrConflict)
	}
	if c.store != nil {
		var b store.Batch
		b.Delete(storeKey(it.SymbolicName, it.Version))
		if err := c.store.Apply(ctx, &b); err != nil {
			return nil, fmt.Errorf("delete catalog item %s: %w", it.ID(), err)
		}
	}
	c.mu.Lock()
	vs := slices.DeleteFunc(slices.Clone(c.items[it.SymbolicName]), func(o *Item) bool { return o == it })
	if len(vs) == 0 {
		delete(c.items, it.SymbolicName)
	} else {
		c.items[it.SymbolicName] = vs
	}
	c.mu.Unlock()
	c.log.Info("catalog item deleted", "item", it.ID())
	return it, nil
}

// LocationSpec returns what a location item defines: its location spec (the item's
// type, e.g. "localhost", "docker" or "byon") and config (brooklyn.config and the other
// keys of its definition). ref is "id" (the best version) or "id:version". The error
// wraps ErrNotFound when there is no such location item.
func (c *Catalog) LocationSpec(ref string) (spec string, config map[string]any, it *Item, err error) {
	name, version, _ := strings.Cut(ref, ":")
	it, err = c.snapshot().get(name, version)
	if err != nil {
		return "", nil, nil, err
	}
	if it.ItemType != LocationItem {
		return "", nil, nil, fmt.Errorf("catalog item %s is a %s, not a location: %w", it.ID(), it.ItemType, ErrNotFound)
	}
	var plan struct {
		Locations []map[string]any `yaml:"brooklyn.locations"`
	}
	if err := yaml.Unmarshal([]byte(it.Plan), &plan); err != nil || len(plan.Locations) != 1 {
		return "", nil, nil, fmt.Errorf("catalog item %s: its plan is not a location: %v", it.ID(), err)
	}
	def := plan.Locations[0]
	config = map[string]any{}
	for k, v := range def {
		switch k {
		case "type", "brooklyn.config":
		default:
			config[k] = v
		}
	}
	if bc, ok := def["brooklyn.config"].(map[string]any); ok {
		maps.Copy(config, bc)
	}
	spec, _ = def["type"].(string)
	return spec, config, it, nil
}

// LocationLookup is LocationSpec in the shape of locations.Lookup, for
// locations.Registry.SetLookup: ok is false when ref names no location item.
func (c *Catalog) LocationLookup(ref string) (spec string, config map[string]any, ok bool) {
	spec, config, _, err := c.LocationSpec(ref)
	return spec, config, err == nil
}

// Resolve is Resolve with this catalog's items: `type: <id>` takes the best version of
// the item and `type: <id>:<version>` that version; the entity it makes records
// which (Spec.CatalogItemID), so that later versions do not change it.
func (c *Catalog) Resolve(plan *blueprints.Plan, locs *locations.Registry) (*entities.Spec, error) {
	return resolveWith(plan, locs, &view{snap: c.snapshot()})
}

// snapshot is what the catalog holds now; later changes do not show in it.
func (c *Catalog) snapshot() *snapshot {
	if c == nil {
		return &snapshot{builtinVersion: NoVersion}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return &snapshot{items: maps.Clone(c.items), builtinVersion: c.builtin}
}

// snapshot is the items of a catalog at one moment, with (while a BOM is added) the
// items of that BOM defined so far, which win over the catalog's.
type snapshot struct {
	items          map[string][]*Item
	builtinVersion string
}

// with returns the snapshot with the items of a BOM added.
func (s *snapshot) with(overlay []*bomItem) *snapshot {
	out := &snapshot{items: maps.Clone(s.items), builtinVersion: s.builtinVersion}
	if out.items == nil {
		out.items = map[string][]*Item{}
	}
	for _, bi := range overlay {
		it := bi.item
		vs := slices.DeleteFunc(slices.Clone(out.items[it.SymbolicName]), func(o *Item) bool { return SameVersion(o.Version, it.Version) })
		vs = append(vs, it)
		slices.SortFunc(vs, better)
		out.items[it.SymbolicName] = vs
	}
	return out
}

func (s *snapshot) versions(name string) []*Item { return slices.Clone(s.items[name]) }

// find returns the item of that name and version (OSGi-equal), or nil.
func (s *snapshot) find(name, version string) *Item {
	for _, it := range s.items[name] {
		if SameVersion(it.Version, version) {
			return it
		}
	}
	return nil
}

func (s *snapshot) get(name, version string) (*Item, error) {
	if strings.EqualFold(version, "latest") {
		version = ""
	}
	vs := s.items[name]
	if len(vs) == 0 {
		if b := s.builtinItem(name); b != nil && (version == "" || SameVersion(version, b.Version)) {
			return b, nil
		}
		return nil, fmt.Errorf("no catalog item %q: %w", name, ErrNotFound)
	}
	if version == "" {
		return vs[0], nil
	}
	if it := s.find(name, version); it != nil {
		return it, nil
	}
	return nil, fmt.Errorf("catalog item %s has no version %s (it has: %s): %w", name, version, versionList(vs), ErrNotFound)
}

func versionList(vs []*Item) string {
	names := make([]string, len(vs))
	for i, it := range vs {
		names[i] = it.Version
	}
	return strings.Join(names, ", ")
}

// builtinItem is the entry of the built-in type with that name or alias, or nil.
func (s *snapshot) builtinItem(name string) *Item {
	t, err := entities.LookupType(name)
	if err != nil {
		return nil
	}
	return s.builtin(t)
}

func (s *snapshot) builtin(t *entities.Type) *Item {
	it := &Item{
		SymbolicName: t.Name, Version: s.builtinVersion, ItemType: EntityItem,
		Description: t.Description, Type: t.Name, Kind: t.Name, BuiltIn: true,
		Aliases: slices.Clone(t.Aliases), Bundle: "gantry-core:" + s.builtinVersion,
		Plan: "services:\n- type: " + t.Name + "\n",
	}
	it.Name = t.Name
	if len(t.Aliases) > 0 {
		it.Name = t.Aliases[0]
	}
	return it
}
