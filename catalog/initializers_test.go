package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
)

func TestInitializers(t *testing.T) {
	got, err := resolve(t, `
location: localhost
services:
- type: vanilla-software-process
  brooklyn.initializers:
  - type: org.apache.brooklyn.core.sensor.ssh.SshCommandSensor
    brooklyn.config:
      name: disk.used
      command: df -h . | tail -1
      period: 10s
  - type: ssh-command-effector
    name: greet
    command: echo "hello $who"
    parameters:
      who: {description: Who to greet, defaultValue: world}
  - type: java:org.apache.brooklyn.core.sensor.http.HttpRequestSensor
    name: status
    uri: http://127.0.0.1:8080/status
    jsonPath: $.status
    headers: {Accept: application/json}
  - type: static-sensor
    name: tier
    static.value: web
brooklyn.initializers:
- {type: static-sensor, name: owner, static.value: ops}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`{"type":"org.apache.brooklyn.core.sensor.ssh.SshCommandSensor","config":{"command":"df -h . | tail -1","name":"disk.used","period":"10s"}}`,
		`{"type":"org.apache.brooklyn.core.effector.ssh.SshCommandEffector","config":{"command":"echo \"hello $who\"","name":"greet","parameters":{"who":{"defaultValue":"world","description":"Who to greet"}}}}`,
		`{"type":"org.apache.brooklyn.core.sensor.http.HttpRequestSensor","config":{"headers":{"Accept":"application/json"},"jsonPath":"$.status","name":"status","uri":"http://127.0.0.1:8080/status"}}`,
		`{"type":"org.apache.brooklyn.core.sensor.StaticSensor","config":{"name":"tier","static.value":"web"}}`,
		`"initializers":[{"type":"org.apache.brooklyn.core.sensor.StaticSensor","config":{"name":"owner","static.value":"ops"}}]`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("spec lacks %s\n%s", w, got)
		}
	}
}

func TestInitializerErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown type at its line", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: ssh-command-sensr
    name: x
`, `line 6, column 11: services[0].brooklyn.initializers[0].type: unknown initializer type "ssh-command-sensr"; did you mean "ssh-command-sensor"?`},
		{"unknown class name", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: com.example.MyInitializer
`, `line 6, column 11: services[0].brooklyn.initializers[0].type: unknown initializer type "com.example.MyInitializer" (known: `},
		{"no type", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - name: x
`, `line 6, column 5: services[0].brooklyn.initializers[0]: an initializer needs a type`},
		{"missing command", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: ssh-command-sensor
    name: x
`, `line 6, column 5: services[0].brooklyn.initializers[0]: ssh-command-sensor: ssh-command-sensor needs command`},
		{"bad period at its key", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: ssh-command-sensor
    brooklyn.config: {name: x, command: date, period: often}
`, `line 7, column 55: services[0].brooklyn.initializers[0].brooklyn.config.period: ssh-command-sensor: period: "often" is not a duration`},
		{"misspelt key", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: ssh-command-sensor
    name: x
    comand: date
`, `line 8, column 13: services[0].brooklyn.initializers[0].comand: ssh-command-sensor: comand: ssh-command-sensor has no config key "comand"; did you mean "command"?`},
		{"bad target type", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - {type: ssh-command-sensor, name: x, command: date, targetType: java.net.URL}
`, `services[0].brooklyn.initializers[0].targetType: ssh-command-sensor: targetType: unknown target type "java.net.URL"`},
		{"bad json path", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - {type: http-request-sensor, name: x, uri: "http://h/", jsonPath: "$..x"}
`, `services[0].brooklyn.initializers[0].jsonPath: http-request-sensor: jsonPath: json path "$..x": deep scan`},
		{"key given twice", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: static-sensor
    name: a
    brooklyn.config: {name: b}
`, `"name" is also given at`},
		{"not a map", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers: [ssh-command-sensor]
`, `line 5, column 27: services[0].brooklyn.initializers[0]: an initializer is a map with a type and its config, not a string`},
		{"effector parameters of the wrong shape", `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - {type: ssh-command-effector, name: e, command: date, parameters: 3}
`, `services[0].brooklyn.initializers[0].parameters: ssh-command-effector: parameters: must be a map`},
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

func TestInitializerDSLSyntaxIsChecked(t *testing.T) {
	_, err := resolve(t, `
location: localhost
services:
- type: basic-entity
  brooklyn.initializers:
  - type: static-sensor
    name: x
    static.value: $brooklyn:config("a"
`)
	if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), "services[0].brooklyn.initializers[0].static.value: bad $brooklyn: expression") {
		t.Errorf("error %v", err)
	}
}
