package cluster_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/sensors"
)

func controlledApp(size int, controller *entities.Spec) *entities.Spec {
	specs := map[string]*entities.Spec{cluster.KeyMemberSpec: memberSpec(nil)}
	if controller != nil {
		specs[cluster.KeyControllerSpec] = controller
	}
	return &entities.Spec{Type: "basic-application", Name: "web", Children: []*entities.Spec{{
		Type: "controlled-cluster", Name: "web-cluster",
		Config:      map[string]any{cluster.KeyInitialSize: size},
		EntitySpecs: specs,
	}}}
}

// sameMembers waits until the view's members are the cluster's.
func sameMembers(t *testing.T, view, c *entities.Entity, n int) {
	t.Helper()
	waitFor(t, "the view to follow the cluster", func() bool {
		return len(c.Members()) == n && reflect.DeepEqual(ids(view.Members()), ids(c.Members()))
	})
}

func TestControlledCluster(t *testing.T) {
	dir := t.TempDir()
	one := startServer(t, dir)
	_, cc, err := deploy(t, one.m, controlledApp(2, &entities.Spec{Type: lbType, Name: "lb"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(cc.Children()); !reflect.DeepEqual(got, []string{"cluster", "lb"}) {
		t.Fatalf("children %v", got)
	}
	c, lb := cc.Children()[0], cc.Children()[1]
	if c.Type().Name != cluster.ClusterType || c.State() != entities.Running || cc.State() != entities.Running {
		t.Fatalf("cluster %s %s, view %s", c.Type().Name, c.State(), cc.State())
	}
	checkCluster(t, c, 2)
	if v, _ := lb.Config(cluster.KeyServerPool); v != c.ID() {
		t.Errorf("%s = %v, want the cluster's id", cluster.KeyServerPool, v)
	}
	if v, _ := cc.Attribute(cluster.SensorCluster); v != c.ID() {
		t.Errorf("cluster sensor %v", v)
	}
	if v, _ := cc.Attribute(cluster.SensorController); v != lb.ID() {
		t.Errorf("controller sensor %v", v)
	}
	waitFor(t, "main.uri", func() bool { v, _ := cc.Attribute(sensors.MainURI); return v == "http://lb.example:8000/" })
	sameMembers(t, cc, c, 2)

	if size, err := invoke(t, cc, "resize", map[string]any{"desiredSize": 3}); err != nil || size != 3 {
		t.Fatalf("resize = %v, %v", size, err)
	}
	sameMembers(t, cc, c, 3)
	if got, err := invoke(t, cc, "resizeByDelta", map[string]any{"delta": -2}); err != nil || len(got.([]string)) != 2 {
		t.Fatalf("resizeByDelta = %v, %v", got, err)
	}
	sameMembers(t, cc, c, 1)
	old := c.Members()[0]
	nid, err := invoke(t, cc, "replaceMember", map[string]any{"memberId": old.ID()})
	if err != nil {
		t.Fatal(err)
	}
	sameMembers(t, cc, c, 1)
	if c.Members()[0].ID() != nid {
		t.Errorf("member %s, want the replacement %v", c.Members()[0].ID(), nid)
	}

	// Stopped and started again, it makes nothing new.
	if _, err := invoke(t, cc, "stop", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(t, cc, "start", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(cc.Children()); n != 2 {
		t.Errorf("%d children after a restart", n)
	}
	sameMembers(t, cc, c, 1)

	// After a server restart it follows the cluster again.
	one.kill(t)
	two := startServer(t, dir)
	cc2, _ := two.m.Entity(cc.ID())
	c2, _ := two.m.Entity(c.ID())
	if _, err := cluster.Resize(context.Background(), c2, 2); err != nil {
		t.Fatal(err)
	}
	sameMembers(t, cc2, c2, 2)
}
