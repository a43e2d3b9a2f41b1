package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
)

// Test kinds, so that these tests do not depend on package policies or on the cluster
// kind: a policy with Brooklyn-like keys and a Check, an enricher, and an entity type
// with config keys of type "spec".
func init() {
	entities.RegisterAdjunct(&entities.AdjunctKind{
		Name: "test.policy", Aliases: []string{"test-policy"}, Category: entities.PolicyCategory,
		Config: []entities.ConfigKey{
			{Name: "metric", Type: "string"},
			{Name: "entityWithMetric", Aliases: []string{"autoscaler.entityWithMetric"}},
			{Name: "upper", Aliases: []string{"metricUpperBound"}, Type: "number"},
			{Name: "period", Type: "duration"},
			{Name: "sensor.of.its.own", Type: "sensor"}, // a type Coerce does not know
		},
		Check: func(cfg map[string]any) error {
			if _, ok := cfg["metric"]; !ok {
				return &entities.KeyError{Err: errors.New("test-policy needs metric")}
			}
			if f, ok := cfg["upper"].(float64); ok && f < 0 {
				return &entities.KeyError{Key: "metricUpperBound", Err: errors.New("must not be negative")}
			}
			return nil
		},
	})
	entities.RegisterAdjunct(&entities.AdjunctKind{
		Name: "org.example.TestEnricher", Aliases: []string{"test-enricher"}, Category: entities.EnricherCategory,
		Config: []entities.ConfigKey{
			{Name: "enricher.sourceSensor", Aliases: []string{"sourceSensor"}, Type: "string"},
			{Name: "enricher.producer"},
		},
	})
	entities.Register(&entities.Type{
		Name: "test.cluster", Aliases: []string{"test-cluster"}, Group: true,
		Config: []entities.ConfigKey{
			{Name: "dynamiccluster.memberspec", Aliases: []string{"memberSpec"}, Type: "spec"},
			{Name: "dynamiccluster.firstmemberspec", Type: "spec"},
			{Name: "cluster.initial.size", Type: "integer"},
		},
	})
}

func TestAdjuncts(t *testing.T) {
	got, err := resolve(t, `
location: localhost
services:
- type: basic-entity
  id: db
- type: basic-entity
  id: web
  brooklyn.policies:
  - type: test-policy
    name: scaler
    brooklyn.config:
      metric: load
      metricUpperBound: "80"
      period: 1500
      entityWithMetric: $brooklyn:entity("db")
  - policyType: java:test.policy
    metric: cpu
    sensor.of.its.own: $brooklyn:sensor("x.y")
  - {type: test.policy, id: by-id, brooklyn.config: {metric: m, undeclared: [1, 2]}}
  brooklyn.enrichers:
  - enricherType: test-enricher
    brooklyn.config:
      sourceSensor: requests
      enricher.producer: {$brooklyn:entity: db}
brooklyn.policies:
- {type: test-policy, metric: root}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		// Enrichers first; names, ids; keys under their names, values of their types.
		`"blueprintId":"web","adjuncts":[{"type":"org.example.TestEnricher","config":{"enricher.producer":{"$brooklyn:entity":"db"},"enricher.sourceSensor":"requests"}},` +
			`{"type":"test.policy","name":"scaler","config":{"entityWithMetric":"$brooklyn:entity(\"db\")","metric":"load","period":"1.5s","upper":80}},` +
			`{"type":"test.policy","config":{"metric":"cpu","sensor.of.its.own":"$brooklyn:sensor(\"x.y\")"}},` +
			`{"type":"test.policy","name":"by-id","config":{"metric":"m","undeclared":[1,2]}}]`,
		// The root's go on the (wrapper) application.
		`"adjuncts":[{"type":"test.policy","config":{"metric":"root"}}],"entitySpecs"`,
	} {
		if !strings.Contains(got, strings.TrimSuffix(w, `,"entitySpecs"`)) {
			t.Errorf("spec lacks %s\n%s", w, got)
		}
	}
	if !strings.HasPrefix(got, `{"type":"org.apache.brooklyn.entity.stock.BasicApplication"`) || !strings.Contains(got, `"config":{"brooklyn.wrapper_app":true},"locations":["localhost"],"children"`) {
		t.Errorf("root: %s", got)
	}
	if !strings.Contains(got, `"adjuncts":[{"type":"test.policy","config":{"metric":"root"}}]}`) {
		t.Errorf("root adjuncts are not the application's:\n%s", got)
	}
}

func TestRootAdjunctsFollowAnUnwrappedApplication(t *testing.T) {
	got, err := resolve(t, `
brooklyn.enrichers: [{type: test-enricher, sourceSensor: a}]
services:
- type: basic-application
  brooklyn.enrichers: [{type: test-enricher, sourceSensor: b}]
  brooklyn.children:
  - type: basic-entity
    id: x
brooklyn.policies:
- {type: test-policy, metric: m, entityWithMetric: $brooklyn:entity("x")}
`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"org.apache.brooklyn.entity.stock.BasicApplication","name":"basic-application",` +
		`"children":[{"type":"org.apache.brooklyn.entity.stock.BasicEntity","name":"basic-entity","blueprintId":"x"}],"adjuncts":[{"type":"org.example.TestEnricher","config":{"enricher.sourceSensor":"a"}},` +
		`{"type":"test.policy","config":{"entityWithMetric":"$brooklyn:entity(\"x\")","metric":"m"}},` +
		`{"type":"org.example.TestEnricher","config":{"enricher.sourceSensor":"b"}}]`
	if !strings.Contains(got, want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", got, want)
	}
}

func TestAdjunctErrors(t *testing.T) {
	svc := "location: localhost\nservices:\n- type: basic-entity\n  id: web\n"
	cases := []struct{ name, yaml, want string }{
		{"unknown type, with the closest", svc + "  brooklyn.policies:\n  - type: test-polcy\n",
			`line 6, column 11: services[0].brooklyn.policies[0].type: unknown policy type "test-polcy"; did you mean "test-policy"?`},
		{"unknown type, with the known ones", svc + "  brooklyn.policies:\n  - type: com.example.Nothing\n",
			`line 6, column 11: services[0].brooklyn.policies[0].type: unknown policy type "com.example.Nothing" (known: `},
		{"unknown enricher, at the root", "brooklyn.enrichers:\n- enricherType: test-enricher2\n" + svc,
			`line 2, column 17: brooklyn.enrichers[0].enricherType: unknown enricher type "test-enricher2"; did you mean "test-enricher"?`},
		{"an enricher under policies", svc + "  brooklyn.policies:\n  - type: test-enricher\n",
			`line 6, column 11: services[0].brooklyn.policies[0].type: test-enricher is an enricher, not a policy: put it under brooklyn.enrichers`},
		{"a policy under enrichers", svc + "  brooklyn.enrichers:\n  - type: test.policy\n",
			`services[0].brooklyn.enrichers[0].type: test.policy is a policy, not an enricher: put it under brooklyn.policies`},
		{"an entity type", svc + "  brooklyn.policies:\n  - type: basic-entity\n",
			`line 6, column 11: services[0].brooklyn.policies[0].type: basic-entity is an entity type, not a policy (known: `},
		{"two types", svc + "  brooklyn.policies:\n  - type: test-policy\n    policyType: test-policy\n",
			`line 6, column 11: services[0].brooklyn.policies[0].type: both "policyType" and "type" give the type; use one`},
		{"no type", svc + "  brooklyn.policies:\n  - name: x\n",
			`line 6, column 5: services[0].brooklyn.policies[0]: a policy needs a type, such as `},
		{"type not a string", svc + "  brooklyn.policies:\n  - type: [a]\n",
			`services[0].brooklyn.policies[0].type: must be a string naming the policy type, not a list`},
		{"not a map", svc + "  brooklyn.enrichers: [test-enricher]\n",
			`line 5, column 24: services[0].brooklyn.enrichers[0]: an enricher is a map with a type and its config, not a string`},
		{"brooklyn.config not a map", svc + "  brooklyn.policies:\n  - {type: test-policy, brooklyn.config: [metric]}\n",
			`services[0].brooklyn.policies[0].brooklyn.config: must be a map of config keys to values, not a list`},
		{"undeclared key at the top level", svc + "  brooklyn.policies:\n  - type: test-policy\n    metrc: load\n",
			`line 7, column 12: services[0].brooklyn.policies[0].metrc: "metrc" is not a config key of test-policy (did you mean "metric"?); put it under brooklyn.config to pass it anyway`},
		{"check: a key missing", svc + "  brooklyn.policies:\n  - type: test-policy\n",
			`line 6, column 5: services[0].brooklyn.policies[0]: test-policy: test-policy needs metric`},
		{"check: at the key, under an alias", svc + "  brooklyn.policies:\n  - type: test-policy\n    brooklyn.config: {metric: m, upper: -1}\n",
			`line 7, column 41: services[0].brooklyn.policies[0].brooklyn.config.upper: test-policy: metricUpperBound: must not be negative`},
		{"a value of the wrong type", svc + "  brooklyn.policies:\n  - {type: test-policy, metric: m, period: soon}\n",
			`line 6, column 44: services[0].brooklyn.policies[0].period: test-policy: period: must be a duration such as 30s or 5m, not "soon"`},
		{"a key under two names", svc + "  brooklyn.policies:\n  - type: test-policy\n    brooklyn.config: {metric: m, upper: 1, metricUpperBound: 2}\n",
			`line 7, column 41: services[0].brooklyn.policies[0].brooklyn.config.upper: "upper" is also given at line 7, column 62 (services[0].brooklyn.policies[0].brooklyn.config.metricUpperBound), as "upper"`},
		{"bad DSL", svc + "  brooklyn.policies:\n  - {type: test-policy, metric: m, entityWithMetric: $brooklyn:entity(\"db\"}\n",
			`services[0].brooklyn.policies[0].entityWithMetric: bad $brooklyn: expression`},
		{"an entity that is not there", svc + "  brooklyn.policies:\n  - type: test-policy\n    metric: m\n    entityWithMetric: $brooklyn:entity(\"db\")\n",
			`line 8, column 33: services[0].brooklyn.policies[0].entityWithMetric: bad $brooklyn: expression: entity("db"): no entity with id "db" in application basic-entity: no such entity (ids in this blueprint: web)`},
		{"an entity that is not there, in an enricher", svc + "  brooklyn.enrichers:\n  - type: test-enricher\n    brooklyn.config:\n      enricher.producer: $brooklyn:child(\"x\")\n",
			`services[0].brooklyn.enrichers[0].brooklyn.config.enricher.producer: bad $brooklyn: expression: child("x"): no entity with id "x" among the children of web`},
		{"an unknown external provider", svc + "  brooklyn.policies:\n  - type: test-policy\n    metric: $brooklyn:external(\"vault\", \"k\")\n",
			`external: unknown provider "vault"`},
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

func TestAdjunctItems(t *testing.T) {
	c := newCatalog(t, nil)
	res := add(t, c, `
brooklyn.catalog:
  version: "1.0"
  items:
  - id: my-scaler
    name: My scaler
    itemType: policy
    item:
      type: test-policy
      brooklyn.config: {metric: load, upper: 10, period: 5s}
  - id: busy-scaler
    item:
      brooklyn.policies:
      - type: my-scaler
        brooklyn.config: {upper: 5}
  - id: test.policy
    description: an item named as the kind it builds on
    itemType: policy
    item: {type: test.policy, metric: from-item}
  - id: counter
    item:
      brooklyn.enrichers: [{type: test-enricher, brooklyn.config: {sourceSensor: hits}}]
  - id: scaled
    item:
      type: basic-entity
      brooklyn.policies: [{type: busy-scaler}]
`)
	var kinds []string
	for _, it := range res.Items {
		kinds = append(kinds, it.ID()+" "+string(it.ItemType))
	}
	if got := strings.Join(kinds, ", "); got != "my-scaler:1.0 policy, busy-scaler:1.0 policy, test.policy:1.0 policy, counter:1.0 enricher, scaled:1.0 entity" {
		t.Errorf("items: %s", got)
	}
	spec := mustDeploySpec(t, c, `
location: localhost
services:
- type: scaled
  brooklyn.policies:
  - {type: "my-scaler:1.0", name: mine, brooklyn.config: {period: 1m}}
  - type: test.policy
  brooklyn.enrichers:
  - {type: counter, sourceSensor: requests}
`)
	got := jsonOf(spec.Children[0].Adjuncts)
	want := `[{"type":"org.example.TestEnricher","config":{"enricher.sourceSensor":"requests"}},` +
		`{"type":"test.policy","name":"My scaler","config":{"metric":"load","period":"5s","upper":5}},` +
		`{"type":"test.policy","name":"mine","config":{"metric":"load","period":"1m0s","upper":10}},` +
		`{"type":"test.policy","config":{"metric":"from-item"}}]`
	if got != want {
		t.Errorf("adjuncts\n%s\nwant\n%s", got, want)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"a policy item under enrichers", "services:\n- type: basic-entity\n  brooklyn.enrichers: [{type: my-scaler}]\n",
			`line 3, column 31: services[0].brooklyn.enrichers[0].type: catalog item my-scaler:1.0 is a policy item, not an enricher: put it under brooklyn.policies`},
		{"an entity item as a policy", "services:\n- type: basic-entity\n  brooklyn.policies: [{type: scaled}]\n",
			`services[0].brooklyn.policies[0].type: catalog item scaled:1.0 is an entity item, not a policy: it cannot be the type of an entry of brooklyn.policies`},
		{"an entity type with a version", "services:\n- type: basic-entity\n  brooklyn.policies: [{type: \"basic-entity:0.1.0-SNAPSHOT\"}]\n",
			`catalog item org.apache.brooklyn.entity.stock.BasicEntity:0.1.0-SNAPSHOT is an entity item, not a policy`},
		{"a version the item does not have", "services:\n- type: basic-entity\n  brooklyn.policies: [{type: \"my-scaler:2.0\"}]\n",
			`catalog item my-scaler has no version 2.0 (available: 1.0)`},
		{"a bad value for an item's key", "services:\n- type: basic-entity\n  brooklyn.policies: [{type: my-scaler, upper: -3}]\n",
			`line 3, column 48: services[0].brooklyn.policies[0].upper: test-policy: metricUpperBound: must not be negative`},
		{"the closest item", "services:\n- type: basic-entity\n  brooklyn.policies: [{type: my-scalr}]\n",
			`unknown policy type "my-scalr"; did you mean "my-scaler"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deploySpec(t, c, tc.yaml)
			if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}

func TestAddChecksAdjunctItems(t *testing.T) {
	for _, tc := range []struct{ name, bom, want string }{
		{"bad config of a known kind", `
brooklyn.catalog:
  id: p
  itemType: policy
  item:
    type: test-policy
    brooklyn.config: {metric: m, upper: -1}
`, `line 7, column 41: brooklyn.catalog.item.brooklyn.config.upper: test-policy: metricUpperBound: must not be negative`},
		{"a kind of the other category", `
brooklyn.catalog:
  id: e
  item:
    brooklyn.enrichers:
    - type: test-policy
`, `line 6, column 13: brooklyn.catalog.item.brooklyn.enrichers[0].type: test-policy is a policy, not an enricher: put it under brooklyn.policies`},
		{"an item built on an item", `
brooklyn.catalog:
  items:
  - id: base
    itemType: policy
    item: {type: test-policy, metric: m}
  - id: derived
    itemType: policy
    item: {type: base, upper: -1}
`, `line 9, column 31: brooklyn.catalog.items[1].item.upper: test-policy: metricUpperBound: must not be negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newCatalog(t, nil).Add(t.Context(), []byte(tc.bom), false)
			if !errors.Is(err, blueprints.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
	// A kind this server does not have is checked when the item is used.
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  version: "1.0"
  items:
  - id: restarter
    itemType: policy
    item: {type: org.example.NoSuchPolicy}
  - id: other
    item:
      brooklyn.enrichers: [{type: org.example.Nothing, brooklyn.config: {x: 1}}]
  - id: older-form
    itemType: policy
    item: {policyType: test-policy, metric: m}
`)
	if spec := mustDeploySpec(t, c, "services:\n- type: basic-entity\n  brooklyn.policies: [{type: older-form}]\n"); jsonOf(spec.Children[0].Adjuncts) != `[{"type":"test.policy","config":{"metric":"m"}}]` {
		t.Errorf("policyType in an item: %s", jsonOf(spec.Children[0].Adjuncts))
	}
	_, err := deploySpec(t, c, "services:\n- type: basic-entity\n  brooklyn.policies: [{type: restarter}]\n")
	if want := `services[0].brooklyn.policies[0].type(restarter:1.0).type: unknown policy type "org.example.NoSuchPolicy"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestEntitySpecs(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, `
brooklyn.catalog:
  version: "1.0"
  items:
  - id: web-member
    item:
      type: docker:gantry/web
      openPorts: [8080]
`)
	spec := mustDeploySpec(t, c, `
location: docker
services:
- type: basic-entity
  id: db
- type: test-cluster
  id: cluster
  cluster.initial.size: 2
  memberSpec:
    $brooklyn:entitySpec:
      type: web-member
      id: member
      env: {DB: $brooklyn:entity("db").attributeWhenReady("host.address"), N: 1}
      brooklyn.parameters: [{name: tier, default: web}]
      brooklyn.children:
      - type: basic-entity
        id: sidecar
        brooklyn.config: {up: $brooklyn:parent().attributeWhenReady("service.isUp")}
      brooklyn.policies:
      - {type: test-policy, metric: load, entityWithMetric: $brooklyn:parent()}
  brooklyn.config:
    dynamiccluster.firstmemberspec:
      type: docker:gantry/first
      name: first
- type: basic-entity
  id: lb
  brooklyn.config:
    servers: $brooklyn:entity("member").attributeWhenReady("host.address")
    pool: $brooklyn:entity("cluster")
`)
	cluster := spec.Children[1]
	if got := jsonOf(cluster.Config); got != `{"cluster.initial.size":2,"dynamiccluster.firstmemberspec":{"name":"first","type":"docker:gantry/first"},`+
		`"dynamiccluster.memberspec":{"$brooklyn:entitySpec":{"brooklyn.children":[{"brooklyn.config":{"up":"$brooklyn:parent().attributeWhenReady(\"service.isUp\")"},"id":"sidecar","type":"basic-entity"}],`+
		`"brooklyn.parameters":[{"default":"web","name":"tier"}],"brooklyn.policies":[{"entityWithMetric":"$brooklyn:parent()","metric":"load","type":"test-policy"}],`+
		`"env":{"DB":"$brooklyn:entity(\"db\").attributeWhenReady(\"host.address\")","N":1},"id":"member","type":"web-member"}}}` {
		t.Errorf("config is not as written: %s", got)
	}
	member := cluster.EntitySpecs["dynamiccluster.memberspec"]
	first := cluster.EntitySpecs["dynamiccluster.firstmemberspec"]
	if member == nil || first == nil || len(cluster.EntitySpecs) != 2 {
		t.Fatalf("entity specs: %s", jsonOf(cluster.EntitySpecs))
	}
	want := `{"type":"org.apache.brooklyn.container.entity.docker.DockerContainer","name":"gantry/web","blueprintId":"member","catalogItemId":"web-member:1.0",` +
		`"config":{"env":{"DB":"$brooklyn:entity(\"db\").attributeWhenReady(\"host.address\")","N":"1"},"image":"gantry/web","openPorts":[8080]},` +
		`"children":[{"type":"org.apache.brooklyn.entity.stock.BasicEntity","name":"basic-entity","blueprintId":"sidecar","config":{"up":"$brooklyn:parent().attributeWhenReady(\"service.isUp\")"}}],` +
		`"parameters":[{"name":"tier","default":"web"}],` +
		`"adjuncts":[{"type":"test.policy","config":{"entityWithMetric":"$brooklyn:parent()","metric":"load"}}]}`
	if got := jsonOf(member); got != want {
		t.Errorf("member spec\n%s\nwant\n%s", got, want)
	}
	if got := jsonOf(first); got != `{"type":"org.apache.brooklyn.container.entity.docker.DockerContainer","name":"first","config":{"image":"gantry/first"}}` {
		t.Errorf("first member spec %s", got)
	}

	// The string form, and an item of the catalog as a member.
	spec = mustDeploySpec(t, c, `
location: docker
services:
- type: test-cluster
  memberSpec: '$brooklyn:entitySpec({type: web-member, name: w})'
`)
	if got := jsonOf(spec.Children[0].EntitySpecs); !strings.Contains(got, `{"dynamiccluster.memberspec":{"type":"org.apache.brooklyn.container.entity.docker.DockerContainer","name":"w"`) {
		t.Errorf("string form: %s", got)
	}
}

func TestEntitySpecErrors(t *testing.T) {
	cluster := "location: docker\nservices:\n- type: test-cluster\n  id: cluster\n"
	cases := []struct{ name, yaml, want string }{
		{"unknown type of a member", cluster + "  brooklyn.config:\n    dyniccluster.x: 1\n    dynamiccluster.memberspec:\n      $brooklyn:entitySpec:\n        type: basic-entitee\n",
			`line 9, column 15: services[0].brooklyn.config.dynamiccluster.memberspec.$brooklyn:entitySpec.type: unknown type "basic-entitee": did you mean "basic-entity"?`},
		{"at the top level, under an alias", cluster + "  memberSpec:\n    $brooklyn:entitySpec:\n      type: docker:x\n      openPort: [80]\n",
			`line 8, column 17: services[0].memberSpec.$brooklyn:entitySpec.openPort: "openPort" is not a config key of docker:x (did you mean "openPorts"?)`},
		{"the argument as a list of one", cluster + "  memberSpec:\n    $brooklyn:entitySpec:\n    - type: nope\n",
			`line 7, column 13: services[0].memberSpec.$brooklyn:entitySpec[0].type: unknown type "nope"`},
		{"a member without a type", cluster + "  memberSpec: {$brooklyn:entitySpec: {name: x}}\n",
			`line 5, column 38: services[0].memberSpec.$brooklyn:entitySpec: a service needs a type`},
		{"not a spec", cluster + "  memberSpec: 3\n",
			`line 5, column 15: services[0].memberSpec: must be an entity spec, $brooklyn:entitySpec: {type: ..., brooklyn.config: {...}}, or a service map with a type; not a number`},
		{"a value only known at run time", cluster + "  memberSpec: $brooklyn:config(\"x\")\n",
			`services[0].memberSpec: must be an entity spec, $brooklyn:entitySpec: {type: ..., brooklyn.config: {...}}, or a service map with a type; $brooklyn:config("x") is only known at run time`},
		{"a member that cannot run where the cluster is", "location: localhost\nservices:\n- type: test-cluster\n  memberSpec: {type: docker:x}\n",
			`line 4, column 15: services[0].memberSpec: cannot run in location "localhost": it is a localhost location, not a Docker engine`},
		{"a policy of a member", cluster + "  memberSpec:\n    type: basic-entity\n    brooklyn.policies: [{type: test-polcy}]\n",
			`line 7, column 32: services[0].memberSpec.brooklyn.policies[0].type: unknown policy type "test-polcy"; did you mean "test-policy"?`},
		{"DSL in a member naming no entity", cluster + "  memberSpec:\n    $brooklyn:entitySpec:\n      type: basic-entity\n      brooklyn.config: {a: $brooklyn:entity(\"nope\")}\n",
			`line 8, column 38: services[0].memberSpec.$brooklyn:entitySpec.brooklyn.config.a: bad $brooklyn: expression: entity("nope"): no entity with id "nope" in application test-cluster: no such entity (ids in this blueprint: cluster)`},
		{"DSL in a member, evaluated as a child of the cluster", cluster + "  memberSpec:\n    type: basic-entity\n    id: m\n    brooklyn.config:\n      a: $brooklyn:sibling(\"m\")\n      b: $brooklyn:ancestor(\"cluster\").attributeWhenReady(\"x\")\n      c: $brooklyn:parent().config(\"cluster.initial.size\")\n",
			``},
		{"DSL in a member, below the cluster", cluster + "  memberSpec:\n    type: basic-entity\n    brooklyn.config:\n      a: $brooklyn:child(\"cluster\")\n",
			`line 8, column 20: services[0].memberSpec.brooklyn.config.a: bad $brooklyn: expression: child("cluster"): no entity with id "cluster" among the children of basic-entity`},
		{"bad DSL in a member", cluster + "  memberSpec:\n    type: basic-entity\n    brooklyn.config: {a: $brooklyn:entity(\"x\"}\n",
			`services[0].memberSpec.brooklyn.config.a: bad $brooklyn: expression`},
		{"a start that waits for a member that it starts", "location: docker\nservices:\n- type: test-cluster\n  id: cluster\n  memberSpec: {type: basic-entity, id: m, brooklyn.config: {x: $brooklyn:parent().attributeWhenReady(\"ready\")}}\n  brooklyn.config:\n    y: $brooklyn:entity(\"m\").attributeWhenReady(\"up\")\n",
			``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := resolve(t, c.yaml)
			if c.want == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if !errors.Is(err, blueprints.ErrInvalid) {
				t.Fatalf("error %v, want a blueprint error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
		})
	}
}

// member() sees what only becomes a member at run time: an error only where no group
// could have it as a member.
func TestMemberScope(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"services:\n- type: test-cluster\n  brooklyn.config: {a: $brooklyn:member(\"anything\")}\n", ""},
		{"services:\n- type: basic-entity\n  brooklyn.children: [{type: test-cluster}]\n  brooklyn.config: {a: $brooklyn:member(\"anything\")}\n", ""},
		{"services:\n- type: basic-entity\n  brooklyn.children: [{type: basic-entity, id: c}]\n  brooklyn.config: {a: $brooklyn:member(\"c\")}\n", ""},
		{"services:\n- type: basic-entity\n  brooklyn.config: {a: $brooklyn:member(\"anything\")}\n",
			`services[0].brooklyn.config.a: bad $brooklyn: expression: member("anything"): no entity with id "anything" among the descendants and members of basic-entity`},
	} {
		_, err := resolve(t, tc.yaml)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// A bad $brooklyn: value in an entity spec is reported once, where it is written.
func TestEntitySpecDSLSyntaxReportedOnce(t *testing.T) {
	_, err := resolve(t, `
location: docker
services:
- type: test-cluster
  memberSpec:
    $brooklyn:entitySpec:
      type: basic-entity
      brooklyn.config: {a: $brooklyn:config("x"}
      brooklyn.policies:
      - type: test-policy
        metric: $brooklyn:self(
- type: docker:x
  env: {B: $brooklyn:config("y"}
`)
	if err == nil {
		t.Fatal("resolved")
	}
	got := err.Error()
	for _, w := range []string{
		"services[0].memberSpec.$brooklyn:entitySpec.brooklyn.config.a: bad $brooklyn: expression",
		"services[0].memberSpec.$brooklyn:entitySpec.brooklyn.policies[0].metric: bad $brooklyn: expression",
		"services[1].env.B: bad $brooklyn: expression",
	} {
		if strings.Count(got, w) != 1 {
			t.Errorf("error\n%s\nwant once: %s", got, w)
		}
	}
	if n := strings.Count(got, "bad $brooklyn"); n != 3 {
		t.Errorf("%d errors about $brooklyn: values, want 3:\n%s", n, got)
	}
}

func TestCatalogAdjunct(t *testing.T) {
	c := newCatalog(t, nil)
	add(t, c, "brooklyn.catalog:\n  id: my-scaler\n  itemType: policy\n  item: {type: test-policy, metric: load}\n")
	a, err := c.Adjunct(entities.PolicyCategory, map[string]any{"type": "my-scaler", "name": "s", "brooklyn.config": map[string]any{"upper": "7"}})
	if err != nil || jsonOf(a) != `{"type":"test.policy","name":"s","config":{"metric":"load","upper":7}}` {
		t.Errorf("%s, %v", jsonOf(a), err)
	}
	_, err = c.Adjunct(entities.EnricherCategory, map[string]any{"type": "test-policy"})
	if want := "type: test-policy is a policy, not an enricher: put it under brooklyn.policies"; !errors.Is(err, blueprints.ErrInvalid) || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	_, err = c.Adjunct(entities.PolicyCategory, map[string]any{"type": "test-policy", "metric": "m", "upper": -2})
	if want := "upper: test-policy: metricUpperBound: must not be negative"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
