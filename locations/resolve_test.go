package locations_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/locations"
)

// made is a location made by the fake provider: it keeps its definition.
type made struct {
	def  locations.Definition
	save locations.SaveFunc
}

func (m *made) ID() string             { return m.def.ID }
func (m *made) Kind() string           { return m.def.Kind() }
func (m *made) DisplayName() string    { return m.def.ID }
func (m *made) Spec() string           { return m.def.Spec }
func (m *made) Config() map[string]any { return maps.Clone(m.def.Config) }

// fakeProvider makes `made` locations, counting them; config {fail: why}
// makes it fail.
type fakeProvider struct {
	mu    sync.Mutex
	count int
}

func (f *fakeProvider) make(_ context.Context, def locations.Definition, save locations.SaveFunc) (locations.Location, error) {
	if why, ok := def.Config["fail"].(string); ok {
		return nil, fmt.Errorf("bad config: %s: %w", why, locations.ErrInvalid)
	}
	f.mu.Lock()
	f.count++
	f.mu.Unlock()
	return &made{def: def, save: save}, nil
}

func newResolveRegistry(t *testing.T) (*locations.Registry, *fakeProvider) {
	t.Helper()
	r := locations.NewRegistry()
	for _, id := range []string{"localhost", "docker"} {
		if err := r.Add(loc(id)); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeProvider{}
	if err := r.AddProvider("byon", f.make); err != nil {
		t.Fatal(err)
	}
	return r, f
}

func TestResolve(t *testing.T) {
	byonCfg := map[string]any{"hosts": []any{"10.0.0.1"}, "user": "u"}
	tests := []struct {
		name     string
		named    map[string]locations.Named
		catalog  map[string]locations.Named
		spec     string
		config   map[string]any
		wantID   string // exact, or a prefix ending in "-" for made locations
		wantDef  *locations.Definition
		wantErr  error
		wantText []string
	}{
		{name: "registered id", spec: "localhost", wantID: "localhost"},
		{name: "registered id with empty config", spec: "docker", config: map[string]any{}, wantID: "docker"},
		{name: "id: prefix", spec: "id:docker", wantID: "docker"},
		{name: "registered id with config", spec: "localhost", config: map[string]any{"user": "x"},
			wantErr: locations.ErrInvalid, wantText: []string{`"localhost" is defined by the server`, "user"}},
		{name: "byon map form", spec: "byon", config: byonCfg, wantID: "byon-",
			wantDef: &locations.Definition{Spec: "byon", Config: byonCfg}},
		{name: "byon string form", spec: `byon:(hosts="10.0.0.{1,2}",user=u)`, wantID: "byon-",
			wantDef: &locations.Definition{Spec: "byon", Config: map[string]any{"hosts": "10.0.0.{1,2}", "user": "u"}}},
		{name: "spec arguments win over config", spec: `byon:(user=a)`, config: map[string]any{"user": "b", "hosts": "h"}, wantID: "byon-",
			wantDef: &locations.Definition{Spec: "byon", Config: map[string]any{"hosts": "h", "user": "a"}}},
		{name: "provider error", spec: "byon", config: map[string]any{"fail": "no hosts"},
			wantErr: locations.ErrInvalid, wantText: []string{"no hosts"}},
		{name: "named", named: map[string]locations.Named{"lab": {Spec: "byon", Config: byonCfg}},
			spec: "named:lab", wantID: "byon-",
			wantDef: &locations.Definition{Name: "lab", Spec: "byon", Config: byonCfg}},
		{name: "bare named", named: map[string]locations.Named{"lab": {Spec: "byon", Config: byonCfg}},
			spec: "lab", wantID: "byon-"},
		{name: "named config under the blueprint's", named: map[string]locations.Named{"lab": {Spec: "byon", Config: byonCfg}},
			spec: "named:lab", config: map[string]any{"user": "override"}, wantID: "byon-",
			wantDef: &locations.Definition{Name: "lab", Spec: "byon", Config: map[string]any{"hosts": []any{"10.0.0.1"}, "user": "override"}}},
		{name: "named of named", named: map[string]locations.Named{
			"a": {Spec: "named:b", Config: map[string]any{"user": "from-a"}},
			"b": {Spec: `byon:(hosts="h")`, Config: map[string]any{"user": "from-b", "port": 2222}}},
			spec: "named:a", wantID: "byon-",
			wantDef: &locations.Definition{Name: "a", Spec: "byon", Config: map[string]any{"hosts": "h", "user": "from-a", "port": 2222}}},
		{name: "named to a registered location", named: map[string]locations.Named{"here": {Spec: "localhost"}},
			spec: "named:here", wantID: "localhost"},
		{name: "named cycle", named: map[string]locations.Named{"a": {Spec: "named:b"}, "b": {Spec: "named:a"}},
			spec: "named:a", wantErr: locations.ErrInvalid, wantText: []string{"cycle", "a -> b -> a"}},
		{name: "named missing", named: map[string]locations.Named{"lab": {Spec: "localhost"}},
			spec: "named:nope", wantErr: locations.ErrNotFound, wantText: []string{`"nope"`, "named locations: lab", "--locations"}},
		{name: "catalog item", catalog: map[string]locations.Named{"my-byon:1.0": {Spec: "byon", Config: byonCfg}},
			spec: "my-byon:1.0", wantID: "byon-"},
		{name: "catalog item by named:", catalog: map[string]locations.Named{"my-byon": {Spec: "byon", Config: byonCfg}},
			spec: "named:my-byon", wantID: "byon-"},
		{name: "brooklyn.catalog: prefix", catalog: map[string]locations.Named{"my-byon": {Spec: "byon", Config: byonCfg}},
			spec: "brooklyn.catalog:my-byon", wantID: "byon-"},
		{name: "brooklyn.catalog: missing", spec: "brooklyn.catalog:nope", wantErr: locations.ErrNotFound},
		{name: "named shadows nothing registered", named: map[string]locations.Named{"localhost": {Spec: "docker"}},
			spec: "localhost", wantID: "localhost"},
		{name: "unknown", spec: "moon", wantErr: locations.ErrNotFound,
			wantText: []string{`"moon"`, "docker, localhost", "byon:..."}},
		{name: "unsupported Brooklyn provider", spec: "jclouds:aws-ec2:eu-west-1", wantErr: locations.ErrNotFound,
			wantText: []string{"jclouds locations are not supported"}},
		{name: "malformed", spec: `byon:(hosts="x`, wantErr: locations.ErrInvalid, wantText: []string{"must end with ')'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newResolveRegistry(t)
			for name, n := range tt.named {
				if err := r.AddNamed(name, n.Spec, n.Config); err != nil {
					t.Fatal(err)
				}
			}
			r.SetLookup(func(name string) (string, map[string]any, bool) {
				n, ok := tt.catalog[name]
				return n.Spec, n.Config, ok
			})
			got, err := r.Resolve(tt.spec, tt.config)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) error = %v, want %v", tt.spec, err, tt.wantErr)
				}
				for _, s := range tt.wantText {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.spec, err)
			}
			if strings.HasSuffix(tt.wantID, "-") {
				if !strings.HasPrefix(got.ID(), tt.wantID) || len(got.ID()) != len(tt.wantID)+12 {
					t.Fatalf("id = %q, want %s<12 hex digits>", got.ID(), tt.wantID)
				}
			} else if got.ID() != tt.wantID {
				t.Fatalf("id = %q, want %q", got.ID(), tt.wantID)
			}
			if tt.wantDef != nil {
				d := got.(*made).def
				want := *tt.wantDef
				want.ID = got.ID()
				if !reflect.DeepEqual(d, want) {
					t.Fatalf("definition = %#v, want %#v", d, want)
				}
			}
			// Resolved locations are registered: Get finds them.
			if l, err := r.Get(got.ID()); err != nil || l != got {
				t.Fatalf("Get(%q) = %v, %v", got.ID(), l, err)
			}
		})
	}
}

// The same spec and config give the same location; other config another.
func TestResolveSameDefinitionSameLocation(t *testing.T) {
	r, f := newResolveRegistry(t)
	cfg := map[string]any{"hosts": []any{"a", "b"}, "user": "u"}
	a, err := r.Resolve("byon", cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Resolve("byon", map[string]any{"user": "u", "hosts": []any{"a", "b"}})
	if err != nil || b != a {
		t.Fatalf("second Resolve = %v, %v; want the same location %s", b, err, a.ID())
	}
	// By its id, as an entity record names it.
	if c, err := r.Resolve(a.ID(), nil); err != nil || c != a {
		t.Fatalf("Resolve(id) = %v, %v", c, err)
	}
	d, err := r.Resolve("byon", map[string]any{"hosts": []any{"a"}, "user": "u"})
	if err != nil || d == a {
		t.Fatalf("other config: %v, %v", d, err)
	}
	if f.count != 2 {
		t.Fatalf("provider called %d times, want 2", f.count)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l, err := r.Resolve("byon", map[string]any{"hosts": "x,y"}); err != nil || !strings.HasPrefix(l.ID(), "byon-") {
				t.Error(l, err)
			}
		}()
	}
	wg.Wait()
	if f.count != 3 {
		t.Fatalf("concurrent Resolve of one definition made %d locations, want 1", f.count-2)
	}
}

// Definitions are persisted when made and when their state changes, and
// Restore makes them again, with their ids and state, on a new registry.
func TestResolvePersistAndRestore(t *testing.T) {
	r, _ := newResolveRegistry(t)
	var mu sync.Mutex
	stored := map[string]locations.Definition{}
	r.SetPersist(func(d locations.Definition) error {
		mu.Lock()
		defer mu.Unlock()
		stored[d.ID] = d
		return nil
	})
	l, err := r.Resolve(`byon:(hosts="h1,h2")`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := stored[l.ID()]; !ok || d.Spec != "byon" || d.Config["hosts"] != "h1,h2" {
		t.Fatalf("stored = %#v", stored)
	}
	if err := l.(*made).save(json.RawMessage(`{"leases":{"e1":"h1"}}`)); err != nil {
		t.Fatal(err)
	}
	if got := string(stored[l.ID()].State); got != `{"leases":{"e1":"h1"}}` {
		t.Fatalf("stored state = %s", got)
	}
	if defs := r.Definitions(); len(defs) != 1 || string(defs[0].State) != `{"leases":{"e1":"h1"}}` {
		t.Fatalf("Definitions = %#v", defs)
	}

	// A new server: the same definitions, and one whose provider is gone.
	r2, f2 := newResolveRegistry(t)
	defs := []locations.Definition{stored[l.ID()], {ID: "aws-1234", Spec: "aws-ec2:eu-west-1"}}
	err = r2.Restore(t.Context(), defs)
	if !errors.Is(err, locations.ErrNotFound) || !strings.Contains(err.Error(), "aws-1234") {
		t.Fatalf("Restore error = %v, want one naming aws-1234", err)
	}
	got, err := r2.Get(l.ID())
	if err != nil {
		t.Fatal(err)
	}
	if d := got.(*made).def; string(d.State) != `{"leases":{"e1":"h1"}}` || d.Config["hosts"] != "h1,h2" {
		t.Fatalf("restored definition = %#v", d)
	}
	// Resolving the same spec finds the restored location.
	again, err := r2.Resolve(`byon:(hosts="h1,h2")`, nil)
	if err != nil || again != got || f2.count != 1 {
		t.Fatalf("Resolve after Restore = %v, %v (made %d)", again, err, f2.count)
	}
}

// A definition that cannot be stored is not kept: Resolve fails.
func TestResolvePersistFailure(t *testing.T) {
	r, _ := newResolveRegistry(t)
	r.SetPersist(func(locations.Definition) error { return errors.New("disk full") })
	_, err := r.Resolve(`byon:(hosts="h")`, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if n := len(r.Definitions()); n != 0 {
		t.Fatalf("%d definitions kept", n)
	}
	if n := len(r.List()); n != 2 {
		t.Fatalf("%d locations registered, want 2", n)
	}
}

func TestAddProviderAndNamedErrors(t *testing.T) {
	r, f := newResolveRegistry(t)
	if err := r.AddProvider("byon", f.make); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("duplicate provider: %v", err)
	}
	if err := r.AddProvider("", f.make); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("empty kind: %v", err)
	}
	if err := r.AddNamed("has space", "localhost", nil); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	if err := r.AddNamed("x", `byon:(`, nil); !errors.Is(err, locations.ErrInvalid) {
		t.Errorf("bad spec: %v", err)
	}
	if err := r.AddNamed("b", "localhost", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.AddNamed("a", "docker", nil); err != nil {
		t.Fatal(err)
	}
	if got := r.NamedLocations(); len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("NamedLocations = %v", got)
	}
}

func TestDefinitionID(t *testing.T) {
	a, _ := locations.DefinitionID("byon", "byon", map[string]any{"a": 1, "b": []any{"x"}})
	b, _ := locations.DefinitionID("byon", "byon", map[string]any{"b": []any{"x"}, "a": 1})
	c, _ := locations.DefinitionID("byon", "byon", map[string]any{"a": 2, "b": []any{"x"}})
	if a != b || a == c || !strings.HasPrefix(a, "byon-") || len(a) != len("byon-")+12 {
		t.Fatalf("ids %s %s %s", a, b, c)
	}
	if _, err := locations.DefinitionID("byon", "byon", map[string]any{"f": func() {}}); !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("unencodable config: %v", err)
	}
}
