package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/store"
)

func newCatalog(t *testing.T, st store.Store) *Catalog {
	t.Helper()
	c, err := New(context.Background(), Options{Store: st, BuiltinVersion: "0.1.0-SNAPSHOT", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func add(t *testing.T, c *Catalog, bom string) *AddResult {
	t.Helper()
	res, err := c.Add(context.Background(), []byte(bom), false)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	return res
}

// deploySpec resolves a blueprint with the catalog's items.
func deploySpec(t *testing.T, c *Catalog, yaml string) (*entities.Spec, error) {
	t.Helper()
	plan, err := blueprints.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c.Resolve(plan, testLocations(t))
}

func mustDeploySpec(t *testing.T, c *Catalog, yaml string) *entities.Spec {
	t.Helper()
	spec, err := deploySpec(t, c, yaml)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return spec
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The example BOM: two versions of one item; `type: id` gets the highest and records
// it, `type: id:version` pins.
func TestCatalogExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/catalog-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalog examples: %v", err)
	}
	c := newCatalog(t, nil)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Add(context.Background(), data, false); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	vs := c.Versions("gantry-greeter")
	if len(vs) != 2 || vs[0].Version != "2.0" || vs[1].Version != "1.0" {
		t.Fatalf("versions %v, want 2.0 then 1.0", vs)
	}
	if vs[0].Kind != "org.apache.brooklyn.container.entity.docker.DockerContainer" && !strings.Contains(vs[0].Kind, "DockerContainer") {
		t.Errorf("kind of 2.0: %q", vs[0].Kind)
	}
	spec := mustDeploySpec(t, c, "location: docker\nservices:\n- type: gantry-greeter\n- type: gantry-greeter:1.0\n  name: old\n")
	latest, pinned := spec.Children[0], spec.Children[1]
	if latest.CatalogItemID != "gantry-greeter:2.0" || pinned.CatalogItemID != "gantry-greeter:1.0" {
		t.Errorf("catalog items %q and %q", latest.CatalogItemID, pinned.CatalogItemID)
	}
	if got := jsonOf(latest.Config["env"]); got != `{"GREETING":"hello from greeter 2.0"}` {
		t.Errorf("env of the latest: %s", got)
	}
	if got := jsonOf(pinned.Config["env"]); got != `{"GREETING":"hello from greeter 1.0"}` {
		t.Errorf("env of the pinned: %s", got)
	}
	for _, s := range []*entities.Spec{latest, pinned} {
		if s.Config["image"] != "gantry/busybox" || jsonOf(s.Config["openPorts"]) != "[80]" {
			t.Errorf("%s: config %s", s.CatalogItemID, jsonOf(s.Config))
		}
	}
	if latest.Name != "Greeter" || pinned.Name != "old" {
		t.Errorf("names %q, %q", latest.Name, pinned.Name)
	}
}

const twoVersions = `
brooklyn.catalog:
  id: thing
  itemType: entity
  items:
  - version: "1.0"
    item:
      type: basic-entity
      brooklyn.config: {color: red, size: 1}
  - version: "1.10"
    item:
      type: basic-entity
      brooklyn.config: {color: blue, size: 10}
  - version: "1.9"
    item:
      type: basic-entity
      brooklyn.config: {color: green, size: 9}
  - version: "2.0-SNAPSHOT"
    item:
      type: basic-entity
      brooklyn.config: {color: grey, size: 20}
`

func TestResolveVersions(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, twoVersions)
	cases := []struct{ typ, item, color string }{
		{"thing", "thing:1.10", "blue"}, // numeric order; SNAPSHOT below releases
		{"thing:1.9", "thing:1.9", "green"},
		{"thing:1.0.0", "thing:1.0", "red"}, // OSGi-equal
		{"thing:latest", "thing:1.10", "blue"},
		{"thing:2.0-SNAPSHOT", "thing:2.0-SNAPSHOT", "grey"},
		{"thing:2.0.0.SNAPSHOT", "thing:2.0-SNAPSHOT", "grey"},
	}
	for _, cs := range cases {
		spec := mustDeploySpec(t, c, "services:\n- type: "+cs.typ+"\n")
		if spec.Children[0].CatalogItemID != cs.item || spec.Children[0].Config["color"] != cs.color {
			t.Errorf("type %s: %s %v, want %s %s", cs.typ, spec.Children[0].CatalogItemID, spec.Children[0].Config, cs.item, cs.color)
		}
	}
	_, err := deploySpec(t, c, "services:\n- name: x\n  type: thing:3.0\n")
	want := `line 3, column 9: services[0].type: catalog item thing has no version 3.0 (available: 1.10, 1.9, 1.0, 2.0-SNAPSHOT)`
	if err == nil || err.Error() != want || !errors.Is(err, blueprints.ErrInvalid) {
		t.Errorf("unknown version: %v\nwant: %s", err, want)
	}
}

// What the blueprint says where it uses an item wins over the item; children, tags and
// parameters of both come along.
func TestResolveOverrides(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  version: "1.0"
  itemType: entity
  items:
  - id: web
    name: Web server
    item:
      type: docker:gantry/busybox
      id: web
      env: {A: from-item, B: from-item}
      command: httpd
      brooklyn.tags: [item-tag]
      brooklyn.parameters:
      - name: greeting
        default: hi
      - name: colour
        default: red
      brooklyn.children:
      - type: basic-entity
        name: sidecar
  - id: web-plus
    item:
      type: web
      brooklyn.config:
        docker.container.command: httpd -v
        colour: blue
`)
	spec := mustDeploySpec(t, c, `
location: docker
services:
- type: web-plus
  name: front
  image: gantry/other
  environment: {A: mine}
  greeting: hello
  brooklyn.parameters:
  - name: colour
    default: green
  brooklyn.tags: [my-tag]
  brooklyn.children:
  - type: basic-entity
    name: mine
`)
	s := spec.Children[0]
	if s.CatalogItemID != "web-plus:1.0" || s.Name != "front" || s.BlueprintID != "web" {
		t.Fatalf("spec %s", jsonOf(s))
	}
	for k, want := range map[string]string{
		"image":     `"gantry/other"`,
		"env":       `{"A":"mine"}`,
		"command":   `["httpd -v"]`,
		"greeting":  `"hello"`,
		"colour":    `"blue"`,
		"__absent_": `null`,
	} {
		if got := jsonOf(s.Config[k]); got != want && !(k == "command" && got == `"httpd -v"`) {
			t.Errorf("config %s = %s, want %s", k, got, want)
		}
	}
	var names []string
	for _, ch := range s.Children {
		names = append(names, ch.Name)
	}
	if !slices.Equal(names, []string{"sidecar", "mine"}) {
		t.Errorf("children %v", names)
	}
	if jsonOf(s.Tags) != `["item-tag","my-tag"]` {
		t.Errorf("tags %s", jsonOf(s.Tags))
	}
	var params []string
	for _, p := range s.Parameters {
		params = append(params, p.Name+"="+jsonOf(p.Default))
	}
	if !slices.Equal(params, []string{`greeting="hi"`, `colour="green"`}) {
		t.Errorf("parameters %v", params)
	}
}

// An application item with several services becomes the application when it is the
// only service; its name is the item's.
func TestResolveApplicationItem(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  id: pair
  version: "1"
  name: A pair
  item:
    brooklyn.config: {shared: true}
    services:
    - type: basic-entity
      name: left
    - type: basic-entity
      name: right
`)
	spec := mustDeploySpec(t, c, "services:\n- type: pair\n")
	if spec.CatalogItemID != "pair:1" || spec.Name != "A pair" || len(spec.Children) != 2 || spec.Config["shared"] != true {
		t.Fatalf("spec %s", jsonOf(spec))
	}
	if _, wrapper := spec.Config["brooklyn.wrapper_app"]; wrapper {
		t.Errorf("the item's application should not be wrapped: %s", jsonOf(spec))
	}
	named := mustDeploySpec(t, c, "name: mine\nservices:\n- type: pair\n")
	if named.Name != "mine" {
		t.Errorf("name %q", named.Name)
	}
}

func TestAddChecksItems(t *testing.T) {
	cases := []struct{ name, bom, want string }{
		{"unknown type", `
brooklyn.catalog:
  id: x
  item:
    type: no-such-thing
`, `line 5, column 11: brooklyn.catalog.item.type: unknown type "no-such-thing"`},
		{"undeclared key", `
brooklyn.catalog:
  id: x
  items:
  - version: 1
    item:
      type: docker:gantry/busybox
      colour: red
`, `line 8, column 15: brooklyn.catalog.items[0].item.colour: "colour" is not a config key of docker:gantry/busybox`},
		{"bad value", `
brooklyn.catalog:
  id: x
  item:
    type: docker:gantry/busybox
    openPorts: {80: 80}
`, `line 6, column 16: brooklyn.catalog.item.openPorts`},
		{"forward reference", `
brooklyn.catalog:
  version: 1
  items:
  - id: first
    item: {type: second}
  - id: second
    item: {type: basic-entity}
`, `line 6, column 18: brooklyn.catalog.items[0].item.type: unknown type "second"`},
		{"its own name is not itself", `
brooklyn.catalog:
  id: loop
  version: 1
  item: {type: loop}
`, `line 5, column 16: brooklyn.catalog.item.type: unknown type "loop"`},
		{"its own version", `
brooklyn.catalog:
  id: loop
  version: 1
  item: {type: "loop:1"}
`, `line 5, column 16: brooklyn.catalog.item.type: catalog item loop:1 refers to itself`},
		{"a policy is no entity", `
brooklyn.catalog:
  version: 1
  items:
  - id: pol
    itemType: policy
    item: {type: autoscaler}
  - id: ent
    item: {type: pol}
`, `line 9, column 18: brooklyn.catalog.items[1].item.type: catalog item pol:1 is a policy item, not an entity`},
		{"twice", `
brooklyn.catalog:
  version: 1
  items:
  - {id: a, item: {type: basic-entity}}
  - {id: a, item: {type: basic-entity}}
`, `line 6, column 19: brooklyn.catalog.items[1].item: a:1 is defined twice in this BOM`},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			c := newCatalog(t, nil)
			_, err := c.Add(context.Background(), []byte(cs.bom), false)
			if err == nil || !strings.Contains(err.Error(), cs.want) || !errors.Is(err, blueprints.ErrInvalid) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, cs.want)
			}
			if len(c.List(false, true)) != 0 {
				t.Errorf("a BOM with errors added items: %v", c.List(false, true))
			}
		})
	}
}

// Items build on items added before, and on earlier items of the same BOM; a version
// builds on another version of itself.
func TestItemsBuildOnItems(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  id: base
  version: "1.0"
  item: {type: basic-entity, brooklyn.config: {level: 1}}
`)
	add(t, c, `
brooklyn.catalog:
  items:
  - id: base
    version: "2.0"
    item: {type: "base:1.0", brooklyn.config: {level: 2}}
  - id: top
    version: "1.0"
    item: {type: base}
`)
	spec := mustDeploySpec(t, c, "services:\n- type: top\n")
	s := spec.Children[0]
	if s.CatalogItemID != "top:1.0" || s.Config["level"] != 2 || s.Type != "org.apache.brooklyn.entity.stock.BasicEntity" {
		t.Errorf("spec %s", jsonOf(s))
	}
	// Deleting what an item builds on shows at deploy time, where the item is used.
	if _, err := c.Delete(context.Background(), "base", "1.0"); err != nil {
		t.Fatal(err)
	}
	_, err := deploySpec(t, c, "services:\n- type: top\n")
	want := `line 2, column 9: services[0].type(top:1.0).type(base:2.0).type: catalog item base has no version 1.0 (available: 2.0)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func TestReAdd(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t, nil)
	release := "brooklyn.catalog:\n  id: r\n  version: '1.0'\n  item: {type: basic-entity, brooklyn.config: {v: 1}}\n"
	res := add(t, c, release)
	if res.Code != InstalledNew || !res.Changed || len(res.Items) != 1 {
		t.Errorf("first add: %+v", res)
	}
	// The same again: nothing changes.
	if res := add(t, c, release); res.Code != AlreadyInstalled || res.Changed {
		t.Errorf("same again: %+v", res)
	}
	// The same definition with other metadata: replaced.
	if res := add(t, c, strings.Replace(release, "version:", "name: R\n  version:", 1)); res.Code != UpdatedExisting {
		t.Errorf("new name: %+v", res)
	}
	if it, _ := c.Get("r", "1.0"); it.Name != "R" {
		t.Errorf("name after update: %q", it.Name)
	}
	// Another definition of a release version: a conflict, and nothing changes.
	changed := strings.Replace(release, "v: 1", "v: 2", 1)
	_, err := c.Add(ctx, []byte(changed), false)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "line 4, column 9: brooklyn.catalog.item: cannot add r:1.0: the catalog has a different r:1.0") {
		t.Errorf("changed release: %v", err)
	}
	if spec := mustDeploySpec(t, c, "services:\n- type: r\n"); spec.Children[0].Config["v"] != 1 {
		t.Errorf("the conflicting BOM changed the item")
	}
	// Forced, it replaces.
	if _, err := c.Add(ctx, []byte(changed), true); err != nil {
		t.Errorf("forced: %v", err)
	}
	// A SNAPSHOT may change.
	snap := "brooklyn.catalog:\n  id: s\n  item: {type: basic-entity, brooklyn.config: {v: 1}}\n"
	add(t, c, snap)
	if res := add(t, c, strings.Replace(snap, "v: 1", "v: 2", 1)); res.Code != UpdatedExisting {
		t.Errorf("snapshot changed: %+v", res)
	}
	if it, _ := c.Get("s", ""); it.Version != NoVersion {
		t.Errorf("version %q", it.Version)
	}
	if spec := mustDeploySpec(t, c, "services:\n- type: s\n"); spec.Children[0].Config["v"] != 2 {
		t.Errorf("snapshot not replaced: %v", spec.Children[0].Config)
	}
}

func TestPersisted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := newCatalog(t, st)
	add(t, c, twoVersions)
	add(t, c, "brooklyn.catalog:\n  id: gone\n  version: '1'\n  item: {type: basic-entity}\n")
	if _, err := c.Delete(ctx, "gone", "latest"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c = newCatalog(t, st)
	var ids []string
	for _, it := range c.List(false, true) {
		ids = append(ids, it.ID())
	}
	if want := []string{"thing:1.10", "thing:1.9", "thing:1.0", "thing:2.0-SNAPSHOT"}; !slices.Equal(ids, want) {
		t.Errorf("after reopening: %v, want %v", ids, want)
	}
	if it, err := c.Get("thing", ""); err != nil || it.Kind != "org.apache.brooklyn.entity.stock.BasicEntity" || it.Added.IsZero() {
		t.Errorf("best thing: %+v %v", it, err)
	}
	if spec := mustDeploySpec(t, c, "services:\n- type: thing\n"); spec.Children[0].CatalogItemID != "thing:1.10" {
		t.Errorf("after reopening: %s", spec.Children[0].CatalogItemID)
	}
}

func TestListAndGet(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, twoVersions)
	best := c.List(true, false)
	var thing, basic *Item
	for _, it := range best {
		switch it.SymbolicName {
		case "thing":
			if thing != nil {
				t.Errorf("two versions of thing without allVersions")
			}
			thing = it
		case "org.apache.brooklyn.entity.stock.BasicEntity":
			basic = it
		}
	}
	if thing == nil || thing.Version != "1.10" {
		t.Errorf("best thing %+v", thing)
	}
	if basic == nil || !basic.BuiltIn || basic.Version != "0.1.0-SNAPSHOT" || basic.Name != "basic-entity" {
		t.Errorf("built-in basic-entity %+v", basic)
	}
	if it, err := c.Get("basic-entity", ""); err != nil || !it.BuiltIn {
		t.Errorf("get built-in by alias: %+v %v", it, err)
	}
	if _, err := c.Get("thing", "7"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "1.10, 1.9, 1.0, 2.0-SNAPSHOT") {
		t.Errorf("get unknown version: %v", err)
	}
	if _, err := c.Get("nothing", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
	if _, err := c.Delete(context.Background(), "basic-entity", ""); !errors.Is(err, ErrConflict) {
		t.Errorf("delete built-in: %v", err)
	}
	// A built-in type with this server's version is the built-in type.
	spec := mustDeploySpec(t, c, "services:\n- type: basic-entity:0.1.0-SNAPSHOT\n")
	if spec.Children[0].Type != "org.apache.brooklyn.entity.stock.BasicEntity" {
		t.Errorf("built-in with version: %s", jsonOf(spec))
	}
}

func TestLocationItem(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  version: "1.0"
  items:
  - id: lab
    itemType: location
    item:
      type: byon
      user: deploy
      brooklyn.config:
        hosts: [10.0.0.1, 10.0.0.2]
  - id: lab
    version: "2.0"
    itemType: location
    item:
      brooklyn.locations:
      - type: localhost
`)
	spec, cfg, it, err := c.LocationSpec("lab:1.0")
	if err != nil || spec != "byon" || jsonOf(cfg) != `{"hosts":["10.0.0.1","10.0.0.2"],"user":"deploy"}` || it.ID() != "lab:1.0" {
		t.Errorf("lab:1.0: %q %v %v %v", spec, cfg, it, err)
	}
	if spec, _, ok := c.LocationLookup("lab"); !ok || spec != "localhost" {
		t.Errorf("lab: %q %v", spec, ok)
	}
	if _, _, ok := c.LocationLookup("nothing"); ok {
		t.Errorf("nothing found")
	}
	add(t, c, "brooklyn.catalog:\n  id: ent\n  item: {type: basic-entity}\n")
	if _, _, _, err := c.LocationSpec("ent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an entity as a location: %v", err)
	}
	// A location item is no type for a service.
	_, err = deploySpec(t, c, "services:\n- type: lab\n")
	if err == nil || !strings.Contains(err.Error(), "catalog item lab:2.0 is a location item, not an entity") {
		t.Errorf("location as type: %v", err)
	}
}

// Templates are kept as written, valid or not; a problem shows where one is used, with
// the path inside the item.
func TestTemplateProblemsShowWhereUsed(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  id: draft
  version: "0.1"
  itemType: template
  item:
    services:
    - type: basic-entity
    - type: not-yet-written
`)
	_, err := deploySpec(t, c, "name: x\nservices:\n- type: draft\n")
	want := `line 3, column 9: services[0].type(draft:0.1).services[1].type: unknown type "not-yet-written"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// $brooklyn: DSL in an item is checked when the item is added, at its place in the BOM.
func TestItemDSLChecked(t *testing.T) {
	c := newCatalog(t, nil)
	_, err := c.Add(context.Background(), []byte(`
brooklyn.catalog:
  id: dsl
  version: "1"
  item:
    type: basic-entity
    brooklyn.config:
      url: $brooklyn:formatString("http://%s", $brooklyn:attributeWhenReady("host")
`), false)
	if err == nil || !strings.Contains(err.Error(), "line 8, column") || !strings.Contains(err.Error(), "brooklyn.catalog.item.brooklyn.config.url: bad $brooklyn: expression") {
		t.Errorf("error %v", err)
	}
	add(t, c, `
brooklyn.catalog:
  id: dsl
  version: "1"
  item:
    type: basic-entity
    brooklyn.config:
      url: $brooklyn:formatString("http://%s", $brooklyn:attributeWhenReady("host"))
`)
}
