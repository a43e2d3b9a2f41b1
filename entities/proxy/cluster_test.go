package proxy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/cluster"
	"github.com/gantry-dev/gantry/entities/proxy"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
)

// Acceptance 1 of the issue: a cluster of containers behind the load balancer. Requests
// through it reach every member; resize 2 -> 4 -> 1 and it follows, without a failed
// request while the cluster grows and shrinks.
func TestLoadBalancerInFrontOfACluster(t *testing.T) {
	k := newKindEnv(t)
	m := testenv.Management(t, entities.Options{Locations: k.reg})
	// Each member answers its container's host name, which it publishes as host.name.
	// Like a real web server it stops gracefully on SIGTERM: it finishes what it serves
	// (busybox httpd alone would cut a response in the middle, which no load balancer
	// can mend), here by serving half a second more.
	member := &entities.Spec{Type: "docker-container", Name: "web", Config: map[string]any{
		"image": testenv.BusyboxTag,
		"command": "mkdir -p /www && hostname > /www/index.html; httpd -f -p 8080 -h /www & pid=$!; " +
			"trap 'sleep 0.5; kill $pid; exit 0' TERM; wait $pid",
		"labels":    k.labels,
		"http.port": 8080,
	}}
	spec := &entities.Spec{
		Type: "basic-application", Name: "web", Locations: []string{"docker"},
		Children: []*entities.Spec{
			{Type: "cluster", Name: "pool", BlueprintID: "pool",
				Config:      map[string]any{cluster.KeyInitialSize: 2},
				EntitySpecs: map[string]*entities.Spec{cluster.KeyMemberSpec: member}},
			{Type: "load-balancer", Name: "lb", Config: map[string]any{
				proxy.KeyServerPool:   `$brooklyn:entity("pool")`,
				"labels":              k.labels,
				proxy.KeyDebounce:     "50ms",
				"docker.stats.period": "0",
			}},
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	app, task, err := m.Deploy(ctx, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(ctx); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	pool, lb := app.Children()[0], app.Children()[1]
	url := mainURI(t, lb)

	// every checks that the load balancer routes to exactly the cluster's members, and
	// that each of them answers through it.
	every := func(size int) {
		t.Helper()
		members := pool.Members()
		if len(members) != size {
			t.Fatalf("the cluster has %d members, want %d", len(members), size)
		}
		waitTargets(t, lb, members...)
		names := map[string]bool{}
		for _, mem := range members {
			names[fmt.Sprint(attr(mem, sensors.HostName))] = true
		}
		seen := answers(t, url, 4*size)
		for name := range names {
			if seen[name] != 4 {
				t.Errorf("size %d: member %s answered %d of %d requests: %v", size, name, seen[name], 4*size, seen)
			}
		}
		for name := range seen {
			if !names[name] {
				t.Errorf("size %d: %q answered, not a member", size, name)
			}
		}
	}
	every(2)

	l := startLoad(url, 4)
	for _, size := range []int{4, 1} {
		task, err := m.Invoke(ctx, pool, "resize", map[string]any{"desiredSize": size})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := task.Wait(ctx); err != nil {
			l.stop()
			t.Fatalf("resize to %d: %v", size, err)
		}
		waitTargets(t, lb, pool.Members()...)
		time.Sleep(200 * time.Millisecond)
	}
	l.stop()
	t.Logf("%d requests while resizing 2 -> 4 -> 1, %d failed: %v", l.ok.Load(), l.failed.Load(), l.seen)
	if n := l.failed.Load(); n != 0 {
		t.Errorf("%d requests failed while the cluster was resized, e.g. %v", n, l.errs)
	}
	if len(l.seen) < 4 {
		t.Errorf("only %d members answered while the cluster had up to 4: %v", len(l.seen), l.seen)
	}
	every(1)
}

func attr(e *entities.Entity, name string) any {
	v, _ := e.Attribute(name)
	return v
}
