package cluster_test

import (
	"reflect"
	"testing"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/locations"
)

// A blueprint in Brooklyn's words: the keys by their flags, the member spec with
// $brooklyn:entitySpec, resolved by the catalog and deployed.
func TestBlueprint(t *testing.T) {
	plan, err := blueprints.Parse([]byte(`
name: shop
services:
- type: org.apache.brooklyn.entity.group.DynamicCluster
  id: pool
  name: pool
  initialSize: 2
  maxSize: 3
  removalStrategy: oldest-first
  memberSpec:
    $brooklyn:entitySpec:
      type: test.cluster.member
      name: worker
- type: dynamic-group
  name: started
  brooklyn.config:
    entityFilter: 'sensors.started == true'
- type: group
  name: empty
`))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := catalog.Resolve(plan, locations.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	m := newManagement(t)
	app, c, err := deploy(t, m, spec)
	if err != nil {
		t.Fatal(err)
	}
	checkCluster(t, c, 2)
	if got := names(c.Members()); !reflect.DeepEqual(got, []string{"worker 0", "worker 1"}) {
		t.Errorf("members %v", got)
	}
	if v, _ := c.Config(cluster.KeyMaxSize); v != 3 {
		t.Errorf("max size %v", v)
	}
	g := app.Children()[1]
	awaitMembers(t, g, "worker 0", "worker 1")
}
