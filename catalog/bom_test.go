package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
)

func TestParseBOM(t *testing.T) {
	cases := []struct {
		name, bom string
		want      []string // per item: "id itemType name|description|iconUrl|tags"
		plans     []string // substrings of each item's plan, when given
	}{
		{"one item", `
brooklyn.catalog:
  id: redis
  version: "1.10"
  itemType: entity
  name: Redis
  description: a key-value store
  iconUrl: http://example.com/redis.png
  item:
    type: docker:redis:7
    openPorts: [6379]
`, []string{"redis:1.10 entity Redis|a key-value store|http://example.com/redis.png|[]"},
			[]string{"services:\n  - type: docker:redis:7\n    openPorts: [6379]\n"}},

		{"items inherit metadata, depth first", `
brooklyn.catalog:
  version: 2.0.0
  itemType: entity
  description: shared
  tags: [a]
  items:
  - id: one
    item: {type: basic-entity}
  - version: 3.0.0
    tags: [b, a]
    items:
    - id: two
      name: Two
      item: {type: basic-entity}
    - id: three
      itemType: template
      item:
        services: [{type: basic-entity}]
  - id: four
    item: {type: basic-entity}
`, []string{
			"one:2.0.0 entity |shared||[a]",
			"two:3.0.0 entity Two|shared||[a b]",
			"three:3.0.0 template |shared||[a b]",
			"four:2.0.0 entity |shared||[a]",
		}, nil},

		{"id with version, no version means 0.0.0-SNAPSHOT", `
brooklyn.catalog:
  items:
  - id: a:1.0-rc1
    item: {type: basic-entity}
  - id: b
    item: {type: basic-entity}
`, []string{"a:1.0-rc1 entity |||[]", "b:0.0.0-SNAPSHOT entity |||[]"}, nil},

		{"item type inferred; name and description from the definition", `
brooklyn.catalog:
  version: "1"
  items:
  - id: app
    item:
      name: My app
      services: [{type: basic-entity}, {type: basic-entity}]
  - id: svc
    item: {type: basic-entity, name: Svc, description: from the item}
  - id: pol
    item:
      brooklyn.policies: [{type: autoscaler, brooklyn.config: {metric: x}}]
  - id: loc
    item:
      brooklyn.locations: [{type: localhost}]
`, []string{"app:1 application My app|||[]", "svc:1 entity Svc|from the item||[]", "pol:1 policy |||[]", "loc:1 location |||[]"},
			[]string{"name: My app\nservices:", "services:\n  - type: basic-entity", "brooklyn.policies:\n  - type: autoscaler", "brooklyn.locations:\n  - type: localhost"}},

		{"location item in Brooklyn's form", `
brooklyn.catalog:
  id: my-box
  version: "1.0"
  itemType: location
  name: My box
  item:
    type: byon
    brooklyn.config:
      user: deploy
      hosts: [10.0.0.1]
`, []string{"my-box:1.0 location My box|||[]"}, []string{"brooklyn.locations:\n  - type: byon\n    brooklyn.config:\n      user: deploy"}},

		{"older form: the rest of the document is the item", `
brooklyn.catalog:
  id: old
  version: "1"
services:
- type: basic-entity
`, []string{"old:1 application |||[]"}, []string{"services:\n  - type: basic-entity"}},

		{"aliases and merge keys are expanded", `
brooklyn.catalog:
  version: "1"
  itemType: entity
  items:
  - id: base
    item: &base
      type: basic-entity
      brooklyn.config: {color: red}
  - id: derived
    item:
      <<: *base
      name: Derived
`, []string{"base:1 entity |||[]", "derived:1 entity Derived|||[]"},
			[]string{"brooklyn.config: {color: red}", "name: Derived\n    type: basic-entity\n    brooklyn.config: {color: red}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := parseBOM([]byte(c.bom))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var got []string
			for _, bi := range b.items {
				it := bi.item
				got = append(got, strings.Join([]string{it.ID(), string(it.ItemType), it.Name + "|" + it.Description + "|" + it.IconURL + "|" + stringOf(it.Tags)}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			for i, p := range c.plans {
				if i < len(b.items) && !strings.Contains(b.items[i].item.Plan, p) {
					t.Errorf("plan of %s:\n%s\nwant it to contain:\n%s", b.items[i].item.ID(), b.items[i].item.Plan, p)
				}
			}
			if !strings.HasPrefix(b.bundle, "catalog-bom-") {
				t.Errorf("bundle %q", b.bundle)
			}
		})
	}
}

func stringOf(tags []any) string {
	var s []string
	for _, t := range tags {
		s = append(s, t.(string))
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestParseBOMBundle(t *testing.T) {
	b, err := parseBOM([]byte("brooklyn.catalog:\n  bundle: my-bundle\n  version: 1.2.0\n  id: x\n  item: {type: basic-entity}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b.bundle != "my-bundle:1.2.0" || b.items[0].item.Bundle != "my-bundle:1.2.0" {
		t.Errorf("bundle %q, item's %q", b.bundle, b.items[0].item.Bundle)
	}
}

// Errors name the line, column and key path in the BOM, also for problems in an item's
// definition, which is read as a blueprint.
func TestParseBOMErrors(t *testing.T) {
	cases := []struct{ name, bom, want string }{
		{"not yaml", "brooklyn.catalog:\n  id: [x\n", "line 2, column 1: invalid yaml"},
		{"empty", "", "line 1, column 1: empty catalog BOM"},
		{"a blueprint", "services:\n- type: basic-entity\n", "line 1, column 1: a catalog BOM needs brooklyn.catalog at its root, with the item's id, version and item; this looks like an application blueprint"},
		{"not a map", "brooklyn.catalog: [x]\n", "line 1, column 19: brooklyn.catalog: must be a map of catalog metadata"},
		{"no item", "brooklyn.catalog:\n  id: x\n", "line 2, column 3: brooklyn.catalog: needs item (the definition of the item) or items"},
		{"item and items", "brooklyn.catalog:\n  id: x\n  item: {type: a}\n  items: []\n", "line 4, column 3: brooklyn.catalog.items: give item or items, not both"},
		{"typo in a key", "brooklyn.catalog:\n  id: x\n  verison: 1\n  item: {type: basic-entity}\n", `line 3, column 3: brooklyn.catalog.verison: unknown catalog metadata key; did you mean "version"?`},
		{"duplicate key", "brooklyn.catalog:\n  id: x\n  id: y\n  item: {type: basic-entity}\n", `line 3, column 3: brooklyn.catalog.id: duplicate key "id" (first at line 2, column 3)`},
		{"unknown item type", "brooklyn.catalog:\n  id: x\n  itemType: widget\n  item: {type: a}\n", `line 3, column 13: brooklyn.catalog.itemType: unknown itemType "widget"`},
		{"bean", "brooklyn.catalog:\n  id: x\n  itemType: bean\n  item: {type: a}\n", `line 3, column 13: brooklyn.catalog.itemType: itemType bean is not supported`},
		{"no id", "brooklyn.catalog:\n  version: 1\n  item: {type: a}\n", "line 3, column 9: brooklyn.catalog.item: the item needs an id"},
		{"colon in a version", "brooklyn.catalog:\n  id: x\n  version: 'a:b'\n  item: {type: a}\n", `line 3, column 12: brooklyn.catalog.version: version "a:b" must not contain ":"`},
		{"versions differ", "brooklyn.catalog:\n  id: x:1.0\n  version: 2.0\n  item: {type: a}\n", `line 3, column 12: brooklyn.catalog.version: version "2.0" differs from the version in id "x:1.0"`},
		{"slash in an id", "brooklyn.catalog:\n  id: a/b\n  item: {type: a}\n", `line 2, column 7: brooklyn.catalog.id: id "a/b" must not contain "/"`},
		{"libraries", "brooklyn.catalog:\n  id: x\n  brooklyn.libraries: [a.jar]\n  item: {type: a}\n", "line 3, column 3: brooklyn.catalog.brooklyn.libraries: brooklyn.libraries is not supported"},
		{"an item URL", "brooklyn.catalog:\n  id: x\n  item: classpath://x.yaml\n", `line 3, column 9: brooklyn.catalog.item: must be the item's definition, a map such as {type: ..., brooklyn.config: {...}}; Gantry does not fetch "classpath://x.yaml"`},
		{"an items URL", "brooklyn.catalog:\n  items:\n  - classpath://more.bom\n", `line 3, column 5: brooklyn.catalog.items[0]: an entry of items must be a map`},
		{"an entity without type", "brooklyn.catalog:\n  id: x\n  itemType: entity\n  item: {name: a}\n", "line 4, column 9: brooklyn.catalog.item: an entity item is a service (a map with a type) or a blueprint with services"},
		{"cannot tell", "brooklyn.catalog:\n  id: x\n  item: {name: a}\n", "line 3, column 9: brooklyn.catalog.item: cannot tell what this item is: give itemType"},
		{"policy without type", "brooklyn.catalog:\n  id: x\n  itemType: policy\n  item: {brooklyn.config: {a: 1}}\n", "line 4, column 9: brooklyn.catalog.item: a policy item needs a type"},
		{"bad blueprint in an item", "brooklyn.catalog:\n  id: x\n  items:\n  - version: 1\n    item:\n      type: basic-entity\n      brooklyn.config: [a]\n",
			"line 7, column 24: brooklyn.catalog.items[0].item.brooklyn.config: must be a map of config keys to values, not a list"},
		{"bad service in an application item", "brooklyn.catalog:\n  id: x\n  item:\n    services:\n    - name: a\n",
			"line 5, column 7: brooklyn.catalog.item.services[0]: a service needs a type"},
		{"several errors", "brooklyn.catalog:\n  id: x\n  colour: red\n  items:\n  - item: {type: a}\n    versoin: 1\n",
			"line 3, column 3: brooklyn.catalog.colour: unknown catalog metadata key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseBOM([]byte(c.bom))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !errors.Is(err, blueprints.ErrInvalid) {
				t.Errorf("%v does not wrap blueprints.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
}

func TestParseBOMAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("brooklyn.catalog:\n  id: x\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("  a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("  item: {type: basic-entity}\n")
	_, err := parseBOM([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too large once aliases are expanded") {
		t.Fatalf("error %v, want too large", err)
	}
}
