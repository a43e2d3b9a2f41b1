package catalog

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
)

func TestFindCycle(t *testing.T) {
	tests := []struct {
		name string
		next [][]int
		want []int
	}{
		{"empty", nil, nil},
		{"one node", [][]int{{}}, nil},
		{"self loop", [][]int{{0}}, []int{0}},
		{"chain", [][]int{{1}, {2}, {}}, nil},
		{"two", [][]int{{1}, {0}}, []int{0, 1}},
		{"three, entered from outside", [][]int{{1}, {2}, {3}, {1}}, []int{1, 2, 3}},
		{"diamond, no cycle", [][]int{{1, 2}, {3}, {3}, {}}, nil},
		{"cycle behind a finished branch", [][]int{{1, 2}, {}, {3}, {2}}, []int{2, 3}},
		{"later root", [][]int{{}, {2}, {1}}, []int{1, 2}},
		{"first edge first", [][]int{{1, 2}, {0}, {0}}, []int{0, 1}},
		{"edges out of range are ignored", [][]int{{5, -1}}, nil},
	}
	for _, tt := range tests {
		if got := findCycle(tt.next); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: findCycle(%v) = %v, want %v", tt.name, tt.next, got, tt.want)
		}
	}
}

func TestDSLChecks(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"syntax error at its column", `
services:
- type: basic-entity
  brooklyn.config:
    url: $brooklyn:formatString("%s", entity("db").atributeWhenReady("x"))
`, `line 5, column 52: services[0].brooklyn.config.url: bad $brooklyn: expression: atributeWhenReady cannot follow an entity`},
		{"unknown function in a quoted env value", `
location: docker
services:
- type: docker:x
  env:
    DB: "$brooklyn:entty(\"db\").attributeWhenReady(\"host.address\")"
`, `line 6, column 20: services[0].env.DB: bad $brooklyn: expression: unknown function entty; did you mean entity?`},
		{"syntax errors are reported with the other errors", `
services:
- type: basic-entitee
- type: basic-entity
  brooklyn.config: {a: "$brooklyn:config("}
`, "line 3, column 9: services[0].type: unknown type \"basic-entitee\": did you mean \"basic-entity\"?\nline 5, column 42: services[1].brooklyn.config.a: bad $brooklyn: expression: expected a value, not the end of the text"},
		{"root config", `
brooklyn.config:
  x: $brooklyn:nope()
services:
- type: basic-entity
`, `line 3, column 16: brooklyn.config.x: bad $brooklyn: expression: unknown function nope`},
		{"unknown provider", `
services:
- type: basic-entity
  brooklyn.config:
    password: $brooklyn:external("vault", "db/password")
`, `line 5, column 34: services[0].brooklyn.config.password: bad $brooklyn: expression: external: unknown provider "vault" (this server has: env)`},
		{"no such entity", `
services:
- type: basic-entity
  id: web
  brooklyn.config:
    url: $brooklyn:entity("dbb").attributeWhenReady("host.address")
- type: basic-entity
  id: db
`, `line 6, column 20: services[0].brooklyn.config.url: bad $brooklyn: expression: entity("dbb"): no entity with id "dbb" in application Application: no such entity (ids in this blueprint: db, web)`},
		{"no such sibling", `
services:
- type: basic-entity
  brooklyn.children:
  - type: basic-entity
    brooklyn.config:
      x: $brooklyn:sibling("other").config("y")
`, `line 7, column 20: services[0].brooklyn.children[0].brooklyn.config.x: bad $brooklyn: expression: sibling("other"): no entity with id "other" among the siblings of basic-entity: no such entity`},
		{"parent of the application", `
services:
- type: basic-application
  brooklyn.config:
    x: $brooklyn:parent().config("y")
`, `line 5, column 18: services[0].brooklyn.config.x: bad $brooklyn: expression: parent(): basic-application is an application and has no parent`},
		{"siblings waiting for each other", `
services:
- type: basic-entity
  name: web
  brooklyn.config:
    db.url: $brooklyn:entity("db").attributeWhenReady("host.address")
- type: basic-entity
  name: database
  id: db
  brooklyn.config:
    web.url: $brooklyn:formatString("http://%s", $brooklyn:entity("web-id").attributeWhenReady("main.uri"))
- type: basic-entity
  id: web-id
  name: web2
`, ""},
		{"a wait cycle", `
services:
- type: basic-entity
  name: web
  id: web
  brooklyn.config:
    db.url: $brooklyn:entity("db").attributeWhenReady("host.address")
- type: basic-entity
  name: database
  id: db
  brooklyn.config:
    web.url: $brooklyn:formatString("http://%s", $brooklyn:entity("web").attributeWhenReady("main.uri"))
`, `line 7, column 13: services[0].brooklyn.config.db.url: start-order cycle between web, database (id db): web waits for sensor host.address of database (id db) (services[0].brooklyn.config.db.url), database (id db) waits for sensor main.uri of web (services[1].brooklyn.config.web.url); none of them could start`},
		{"a parent waiting for its child", `
location: docker
services:
- type: docker:x
  name: front
  env:
    BACKEND: $brooklyn:child("back").attributeWhenReady("host.address")
  brooklyn.children:
  - type: docker:y
    id: back
    name: back
`, `line 7, column 14: services[0].env.BACKEND: start-order cycle between front, back: front waits for sensor host.address of back (services[0].env.BACKEND), back starts after its parent front; none of them could start`},
		{"a cycle through config()", `
services:
- type: basic-entity
  id: a
  brooklyn.config:
    url: $brooklyn:config("y")
    y: $brooklyn:entity("b").attributeWhenReady("ready")
- type: basic-entity
  id: b
  brooklyn.config:
    z: $brooklyn:entity("a").attributeWhenReady("ready")
`, `start-order cycle between a, b: a waits for sensor ready of b (services[0].brooklyn.config.url)`},
		{"map form", `
services:
- type: basic-entity
  id: a
  brooklyn.config:
    url:
      $brooklyn:formatString: ["%s", "$brooklyn:entity(\"b\").attributeWhenReady(\"ready\")"]
- type: basic-entity
  id: b
  brooklyn.config:
    z: {$brooklyn:attributeWhenReady: [ready], $brooklyn:entity: a}
`, `line 11, column 8: services[1].brooklyn.config.z: bad $brooklyn: expression: a map with the key`},
		{"map form cycle", `
services:
- type: basic-entity
  id: a
  brooklyn.config:
    url:
      $brooklyn:formatString: ["%s", "$brooklyn:entity(\"b\").attributeWhenReady(\"ready\")"]
- type: basic-entity
  id: b
  brooklyn.config:
    z: {$brooklyn:formatString: ["%s", "$brooklyn:entity(\"a\").attributeWhenReady(\"ready\")"]}
`, `line 7, column 7: services[0].brooklyn.config.url: start-order cycle between a, b`},
		// What is not a cycle.
		{"the application's config waits for a child", `
brooklyn.config:
  db.url: $brooklyn:formatString("jdbc:%s", $brooklyn:entity("db").attributeWhenReady("host.address"))
location: docker
services:
- type: docker:db
  id: db
- type: docker:web
  env:
    DB: $brooklyn:config("db.url")
`, ""},
		{"inherited declared keys wait in the entity that holds them", `
location: docker
brooklyn.config:
  env:
    DB: $brooklyn:entity("db").attributeWhenReady("host.address")
services:
- type: docker:db
  id: db
  env: {}
- type: docker:web
`, ""},
		{"waiting for itself", `
services:
- type: vanilla-software-process
  location: localhost
  launch.command: $brooklyn:formatString("serve %s", $brooklyn:attributeWhenReady("http.port"))
`, ""},
		{"a child waits for its parent", `
services:
- type: basic-entity
  id: top
  brooklyn.children:
  - type: basic-entity
    brooklyn.config:
      x: $brooklyn:parent().attributeWhenReady("ready")
      y: $brooklyn:ancestor("top").attributeWhenReady("ready")
`, ""},
		{"an undeclared key of a parent waiting for a child", `
services:
- type: basic-entity
  brooklyn.config:
    x: $brooklyn:child("kid").attributeWhenReady("ready")
  brooklyn.children:
  - type: basic-entity
    id: kid
`, ""},
		{"ids of entities made at run time", `
services:
- type: basic-entity
  brooklyn.config:
    spec: '$brooklyn:entitySpec({id: member, type: basic-entity})' 
    x: $brooklyn:entity("member").attributeWhenReady("ready")
`, ""},
		{"other applications", `
services:
- type: basic-entity
  brooklyn.config:
    x: $brooklyn:application("elsewhere").attributeWhenReady("ready")
    y: $brooklyn:entity($brooklyn:config("target")).attributeWhenReady("ready")
`, ""},
	}
	for _, c := range cases {
		_, err := resolve(t, c.yaml)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: resolved, want error %q", c.name, c.want)
			continue
		}
		if !errors.Is(err, blueprints.ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, err, c.want)
		}
	}
}
