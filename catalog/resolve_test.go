package catalog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	_ "github.com/gantry-dev/gantry/entities/container"
	_ "github.com/gantry-dev/gantry/entities/software"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
	"github.com/gantry-dev/gantry/locations/ssh"
)

// engine stands for a Docker engine location: resolution only asks what it is.
type engine struct{ locations.ContainerHost }

func (engine) ID() string             { return "docker" }
func (engine) Kind() string           { return "docker" }
func (engine) DisplayName() string    { return "docker" }
func (engine) Spec() string           { return "docker" }
func (engine) Config() map[string]any { return nil }

func testLocations(t *testing.T) *locations.Registry {
	r := locations.NewRegistry()
	if err := r.Add(localhost.New()); err != nil {
		t.Fatal(err)
	}
	if err := r.Add(engine{}); err != nil {
		t.Fatal(err)
	}
	// byon specs resolve to pools, which connect only when a command runs.
	if err := ssh.Register(r, ssh.NewDialer(ssh.Options{})); err != nil {
		t.Fatal(err)
	}
	return r
}

func resolve(t *testing.T, yaml string) (string, error) {
	t.Helper()
	plan, err := blueprints.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	spec, err := Resolve(plan, testLocations(t))
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(spec)
	return string(b), nil
}

func TestResolve(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the JSON of the spec
	}{
		{"wrapper app with docker prefix", `
name: hello
location: docker
services:
- type: docker:gantry/busybox
  openPorts: [80]
  env: {GREETING: hi, N: 1}
`, []string{`"type":"org.apache.brooklyn.entity.stock.BasicApplication","name":"hello"`, `"brooklyn.wrapper_app":true`,
			`"type":"org.apache.brooklyn.container.entity.docker.DockerContainer","name":"gantry/busybox"`,
			`"image":"gantry/busybox"`, `"openPorts":[80]`, `"env":{"GREETING":"hi","N":"1"}`, `"locations":["docker"]`}},
		{"clocker long names are aliases", `
location: docker
services:
- type: docker-container
  brooklyn.config:
    docker.image.name: gantry/busybox
    docker.container.openPorts: ["8080"]
    docker.container.environment: {A: b}
`, []string{`"image":"gantry/busybox"`, `"openPorts":[8080]`, `"env":{"A":"b"}`}},
		{"single application is unwrapped", `
name: outer
location: localhost
brooklyn.config: {region: eu}
services:
- type: basic-application
  id: inner
  brooklyn.children:
  - type: basic-entity
`, []string{`{"type":"org.apache.brooklyn.entity.stock.BasicApplication","name":"outer","blueprintId":"inner","config":{"region":"eu"},"locations":["localhost"]`}},
		{"process on localhost", `
location: localhost
services:
- type: vanilla-software-process
  launch.command: echo hi
  shell.env: {PORT: 8080}
`, []string{`"launch.command":"echo hi"`, `"shell.env":{"PORT":"8080"}`, `"name":"vanilla-software-process"`}},
		{"java type names", `
services:
- type: org.apache.brooklyn.entity.stock.BasicEntity
  name: plain
`, []string{`"name":"plain"`, `"type":"org.apache.brooklyn.entity.stock.BasicEntity"`}},
	}
	for _, c := range cases {
		got, err := resolve(t, c.yaml)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: spec lacks %s\n%s", c.name, w, got)
			}
		}
	}
}

func TestResolveErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown type", "services:\n- type: basic-entitee\n",
			`line 2, column 9: services[0].type: unknown type "basic-entitee": did you mean "basic-entity"?`},
		{"unknown location", "location: moon\nservices:\n- type: basic-entity\n",
			`line 1, column 11: location: unknown location "moon" (this server has: docker, localhost)`},
		{"undeclared top-level key", "location: docker\nservices:\n- type: docker:x\n  openPort: [80]\n",
			`line 4, column 13: services[0].openPort: "openPort" is not a config key of docker:x (did you mean "openPorts"?); put it under brooklyn.config to pass it anyway`},
		{"wrong value type", "location: docker\nservices:\n- type: docker:x\n  env: [A=1]\n",
			`line 4, column 8: services[0].env: must be a map of names to values, not a list`},
		{"bad port", "location: docker\nservices:\n- type: docker:x\n  openPorts: [99999]\n",
			`services[0].openPorts: item 0: port 99999 is out of range 1-65535`},
		{"container without location", "services:\n- type: docker:x\n",
			"line 2, column 3: services[0]: a docker:x needs a location: add `location: docker` to it or to the blueprint's root"},
		{"container on localhost", "location: localhost\nservices:\n- type: docker:x\n",
			`line 3, column 3: services[0]: cannot run in location "localhost": it is a localhost location, not a Docker engine`},
		{"process on docker", "location: docker\nservices:\n- type: vanilla-software-process\n",
			`services[0]: cannot run in location "docker": it is a docker location, which cannot run commands`},
		{"alias and name both set", "location: docker\nservices:\n- type: docker-container\n  image: a\n  brooklyn.config:\n    docker.image.name: b\n",
			`line 4, column 10: services[0].image: "image" is already set (by services[0].brooklyn.config.docker.image.name), as "image"`},
		{"prefix and image both set", "location: docker\nservices:\n- type: docker:x\n  image: a\n",
			`"image" is already set (by type docker:x), as "image"`},
	}
	for _, c := range cases {
		_, err := resolve(t, c.yaml)
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
