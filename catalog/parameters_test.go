package catalog

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/store"
)

func TestParameters(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the JSON of the spec
	}{
		{"declared keys with defaults and coerced values", `
location: localhost
services:
- type: vanilla-software-process
  brooklyn.parameters:
  - name: app.port
    label: Port
    description: Where the app listens
    type: port
    default: 8000+
    pinned: true
  - name: workers
    type: integer
    default: "4"
  - name: ratio
    type: double
  - name: debug
    type: boolean
  - name: grace
    type: duration
    default: 1m
  - name: since
    type: timestamp
    default: 2026-01-31
  - bare.name
  ratio: "0.5"
  brooklyn.config:
    debug: "true"
`, []string{
			`{"name":"app.port","type":"port","description":"Where the app listens","default":"8000+","label":"Port","pinned":true}`,
			`{"name":"workers","type":"integer","default":4}`,
			`{"name":"ratio","type":"number"}`,
			`{"name":"grace","type":"duration","default":"1m0s"}`,
			`{"name":"since","type":"timestamp","default":"2026-01-31T00:00:00Z"}`,
			`{"name":"bare.name"}`,
			`"ratio":0.5`, `"debug":true`,
		}},
		{"java type names", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: a, type: java.lang.Integer, default: 3}
  - {name: b, type: org.apache.brooklyn.api.location.PortRange, default: 8080}
  - {name: c, type: com.example.Custom}
`, []string{`{"name":"a","type":"integer","default":3}`, `{"name":"b","type":"port","default":8080}`, `{"name":"c","type":"object"}`}},
		{"a parameter redeclaring a key of the type", `
location: localhost
services:
- type: vanilla-software-process
  brooklyn.parameters:
  - name: launch.command
    label: Launch
  launch.command: echo hi
`, []string{`{"name":"launch.command","label":"Launch"}`, `"launch.command":"echo hi"`}},
		{"required satisfied by an ancestor's config", `
location: localhost
brooklyn.config:
  db.password: s3cret
services:
- type: basic-entity
  brooklyn.children:
  - type: basic-entity
    brooklyn.parameters:
    - name: db.password
      constraints: [required]
`, []string{`"constraints":["required"]`}},
		{"required satisfied by a default", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: size, type: integer, default: 2, constraints: [required]}
`, []string{`"default":2`}},
		{"root parameters go on the application, coercing root config", `
location: localhost
brooklyn.parameters:
- {name: replicas, type: integer}
brooklyn.config:
  replicas: "3"
services:
- type: basic-entity
- type: basic-entity
`, []string{`"parameters":[{"name":"replicas","type":"integer"}]`, `"replicas":3`}},
		{"root parameters follow an unwrapped application", `
location: localhost
brooklyn.parameters: [greeting]
services:
- type: basic-application
`, []string{`"type":"org.apache.brooklyn.entity.stock.BasicApplication","name":"basic-application"`, `"parameters":[{"name":"greeting"}]`}},
		{"regex and glob constraints hold", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: env, constraints: [{regex: "dev|prod"}, {glob: "p*"}], default: prod}
`, []string{`"constraints":[{"regex":"dev|prod"},{"glob":"p*"}]`}},
		{"a DSL value is checked at run time", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: n, type: integer, constraints: [required, {regex: "[0-9]+"}]}
  n: $brooklyn:config("x")
`, []string{`"n":"$brooklyn:config(\"x\")"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolve(t, c.yaml)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("spec lacks %s\n%s", w, got)
				}
			}
		})
	}
}

func TestParameterErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"missing required names the parameter at its line", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - name: ok
  - name: db.password
    constraints: [required]
`, `line 7, column 5: services[0].brooklyn.parameters[1]: parameter "db.password" is required`},
		{"required given null", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: a, constraints: required}
  brooklyn.config: {a: null}
`, `line 6, column 5: services[0].brooklyn.parameters[0]: parameter "a" is required`},
		{"value of the wrong type", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: workers, type: integer}
  workers: many
`, `line 7, column 12: services[0].workers: must be a whole number, not "many"`},
		{"default of the wrong type", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: p, type: port, default: lots}
`, `line 6, column 36: services[0].brooklyn.parameters[0].default: default of parameter "p": must be a port or a port range`},
		{"unknown type", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: p, type: integr}
`, `line 6, column 21: services[0].brooklyn.parameters[0].type: unknown parameter type "integr"; did you mean "integer"?`},
		{"unknown key", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: p, defualt: 1}
`, `services[0].brooklyn.parameters[0].defualt: unknown key "defualt" of a parameter; did you mean "default"?`},
		{"no name", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {type: string}
`, `line 6, column 5: services[0].brooklyn.parameters[0]: a parameter needs a name`},
		{"declared twice", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters: [a, a]
`, `services[0].brooklyn.parameters[1]: parameter "a" is declared twice`},
		{"unsupported constraint", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: a, constraints: [{forbiddenIf: b}]}
`, `services[0].brooklyn.parameters[0].constraints[0]: parameter "a": constraint a map is not supported`},
		{"regex not matched", `
location: localhost
services:
- type: basic-entity
  brooklyn.parameters:
  - {name: env, constraints: [{regex: "dev|prod"}]}
  env: test
`, `parameter "env" must match regex "dev|prod", not "test"`},
		{"bad root value", `
location: localhost
brooklyn.parameters: [{name: n, type: integer}]
brooklyn.config: {n: x}
services:
- type: basic-entity
`, `line 4, column 22: brooklyn.config.n: must be a whole number, not "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := resolve(t, c.yaml)
			if !errors.Is(err, blueprints.ErrInvalid) {
				t.Fatalf("error %v, want a blueprint error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
		})
	}
}

func TestCoercePortAndTimestamp(t *testing.T) {
	cases := []struct {
		typ  string
		in   any
		want any
		bad  bool
	}{
		{typ: "port", in: 8080, want: 8080},
		{typ: "port", in: "8080", want: 8080},
		{typ: "port", in: "8000+", want: "8000+"},
		{typ: "port", in: "8000-8010, 9000", want: "8000-8010,9000"},
		{typ: "port", in: 0, bad: true},
		{typ: "port", in: "http", bad: true},
		{typ: "timestamp", in: "2026-01-31T10:00:00+01:00", want: "2026-01-31T09:00:00Z"},
		{typ: "timestamp", in: "2026-01-31", want: "2026-01-31T00:00:00Z"},
		{typ: "timestamp", in: 0, want: "1970-01-01T00:00:00Z"},
		{typ: "timestamp", in: "yesterday", bad: true},
	}
	for _, c := range cases {
		got, err := Coerce(c.typ, c.in)
		if c.bad {
			if err == nil {
				t.Errorf("Coerce(%s, %#v) = %#v, want an error", c.typ, c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Coerce(%s, %#v) = %#v, %v; want %#v", c.typ, c.in, got, err, c.want)
		}
	}
}

// A catalog item declares a required parameter; the blueprint using the item gives it.
func TestRequiredParameterOfACatalogItem(t *testing.T) {
	st, err := store.OpenBolt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := New(context.Background(), Options{Store: st, BuiltinVersion: "0.1.0-SNAPSHOT", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(context.Background(), []byte(`
brooklyn.catalog:
  id: greeter
  version: 1.0.0
  itemType: entity
  item:
    type: basic-entity
    brooklyn.parameters:
    - name: greeting
      constraints: [required]
`), false); err != nil {
		t.Fatalf("add an item with a required parameter: %v", err)
	}
	resolveWith := func(yaml string) error {
		plan, err := blueprints.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Resolve(plan, testLocations(t))
		return err
	}
	if err := resolveWith("location: localhost\nservices:\n- type: greeter\n  greeting: hi\n"); err != nil {
		t.Errorf("the item with its parameter given: %v", err)
	}
	err = resolveWith("location: localhost\nservices:\n- type: greeter\n")
	if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), `parameter "greeting" is required`) {
		t.Errorf("the item without its parameter: %v", err)
	}
}
