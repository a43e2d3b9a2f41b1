package main_test

// End-to-end tests of clusters, policies and the load balancer (issue 4's acceptance):
// the real binary, the real Docker Engine, the real HAProxy image.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/internal/testenv"
)

// entityNamed finds the entity of app with that name.
func entityNamed(t *testing.T, ctx context.Context, s *server, app, name string) api.EntitySummary {
	t.Helper()
	all, err := s.c.Descendants(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entity named %q in %s", name, app)
	return api.EntitySummary{}
}

// members returns the ids in a group's group.members sensor.
func members(t *testing.T, ctx context.Context, s *server, app, group string) []string {
	t.Helper()
	v, err := s.c.Sensor(ctx, app, group, "group.members")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// answers sends n requests to url and returns the distinct bodies, failing on an error.
func answers(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	out := map[string]int{}
	c := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < n; i++ {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s %s", url, resp.Status, b)
		}
		out[strings.TrimSpace(string(b))]++
	}
	return out
}

// invoke calls an effector and waits for its task; it fails the test when the call fails.
func invoke(t *testing.T, ctx context.Context, s *server, app, entity, effector string, params map[string]any) any {
	t.Helper()
	res, task, err := s.c.InvokeEffector(ctx, app, entity, effector, params, "")
	if err != nil {
		t.Fatalf("%s: %v", effector, err)
	}
	if task != nil {
		done, err := s.c.WaitTask(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.IsError {
			t.Fatalf("%s failed: %v", effector, done.Result)
		}
		return done.Result
	}
	return res
}

// restarts counts the restart effector calls of an entity.
func restarts(t *testing.T, ctx context.Context, s *server, app, entity string) int {
	t.Helper()
	tasks, err := s.c.Activities(ctx, app, entity)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		if slices.Contains(task.Tags, "effector:restart") {
			n++
		}
	}
	return n
}

func state(ctx context.Context, s *server, app, entity string) string {
	v, _ := s.c.Sensor(ctx, app, entity, "service.state")
	return fmt.Sprint(v)
}

// Acceptance 1 and 3: the example's cluster behind HAProxy; every member answers through
// the load balancer as the cluster is resized 2 -> 4 -> 1; a killed member is restarted,
// and one killed again soon after is replaced.
func TestElasticWebExample(t *testing.T) {
	testenv.HAProxyImage(t)
	ctx, s, docker, serverID := dockerServer(t, 5*time.Minute)
	app := deploy(t, ctx, s, readExample(t, "elastic-web.yaml"))
	web := entityNamed(t, ctx, s, app, "web").ID

	// The autoscaler would shrink an idle pool after a minute: stop it while resizing by
	// hand, through the policy routes.
	pols, err := s.c.Policies(ctx, app, web)
	if err != nil {
		t.Fatal(err)
	}
	var autoscaler string
	for _, p := range pols {
		if p.Name == "autoscaler" {
			autoscaler = p.ID
		}
	}
	if autoscaler == "" {
		t.Fatalf("no autoscaler among %+v", pols)
	}
	if err := s.c.StopPolicy(ctx, app, web, autoscaler); err != nil {
		t.Fatal(err)
	}

	uri := fmt.Sprint(sensor(t, ctx, s, app, web, "main.uri"))
	lb := fmt.Sprint(sensor(t, ctx, s, app, web, "controlleddynamicwebappcluster.controller"))
	for _, size := range []int{2, 4, 1} {
		invoke(t, ctx, s, app, web, "resize", map[string]any{"desiredSize": size})
		// The load balancer follows: its targets, then the answers.
		waitFor(t, 30*time.Second, fmt.Sprintf("load balancer routing to %d members", size), func() bool {
			v, _ := s.c.Sensor(ctx, app, lb, "serverpool.targets")
			l, _ := v.([]any)
			return len(l) == size
		})
		got := answers(t, uri, 20*size)
		if len(got) != size {
			t.Fatalf("size %d: %d members answered through %s: %v", size, len(got), uri, got)
		}
		if n := len(members(t, ctx, s, app, web)); n != size {
			t.Fatalf("size %d: %d members", size, n)
		}
	}
	if got := len(containers(t, docker, serverID)); got != 2 { // one member, the load balancer
		t.Fatalf("%d containers at size 1, want 2", got)
	}

	// docker kill of the member: the failure detector tells the restarter, which restarts it.
	member := members(t, ctx, s, app, web)[0]
	kill := func(id string) {
		cid := fmt.Sprint(sensor(t, ctx, s, app, id, "container.id"))
		if err := docker.ContainerKill(ctx, cid, "KILL"); err != nil {
			t.Fatal(err)
		}
	}
	kill(member)
	took := waitFor(t, 60*time.Second, "killed member restarted", func() bool {
		return restarts(t, ctx, s, app, member) == 1 && state(ctx, s, app, member) == "RUNNING"
	})
	t.Logf("member restarted and running %s after docker kill", took)
	waitFor(t, 30*time.Second, "the load balancer answering again", func() bool {
		resp, err := http.Get(uri)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Killed again within the restarter's window: it gives up, and the replacer puts a new
	// member in its place.
	kill(member)
	waitFor(t, 90*time.Second, "failed member replaced and removed", func() bool {
		ms := members(t, ctx, s, app, web)
		_, err := s.c.Entity(ctx, app, member)
		return len(ms) == 1 && ms[0] != member && state(ctx, s, app, ms[0]) == "RUNNING" && err != nil
	})
	waitFor(t, 30*time.Second, "the new member answering through the load balancer", func() bool {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(uri)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	deleteApp(t, ctx, s, app)
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Fatalf("%d containers left after delete", n)
	}
}

// Acceptance 3, the other half: a container that keeps failing is restarted once, then
// left ON_FIRE: no loop.
func TestRecurringFailureEndsOnFire(t *testing.T) {
	ctx, s, docker, serverID := dockerServer(t, 3*time.Minute)
	app := deploy(t, ctx, s, []byte(`
name: flaky
location: docker
services:
- type: docker:gantry/busybox
  name: svc
  command: sleep 3600
  brooklyn.enrichers:
  - type: failure-detector
  brooklyn.policies:
  - type: restarter
`))
	svc := entityNamed(t, ctx, s, app, "svc").ID
	kill := func() {
		cid := fmt.Sprint(sensor(t, ctx, s, app, svc, "container.id"))
		if err := docker.ContainerKill(ctx, cid, "KILL"); err != nil {
			t.Fatal(err)
		}
	}
	kill()
	waitFor(t, 60*time.Second, "restarted after the first kill", func() bool {
		v, _ := s.c.Sensor(ctx, app, svc, "service.isUp")
		return state(ctx, s, app, svc) == "RUNNING" && v == true
	})
	kill()
	waitFor(t, 30*time.Second, "on fire after the second kill", func() bool { return state(ctx, s, app, svc) == "ON_FIRE" })
	before := restarts(t, ctx, s, app, svc)
	time.Sleep(3 * time.Second)
	if st, after := state(ctx, s, app, svc), restarts(t, ctx, s, app, svc); st != "ON_FIRE" || after != before || after != 1 {
		t.Fatalf("after giving up: state %s, restarts %d then %d (want ON_FIRE and 1 restart)", st, before, after)
	}
	deleteApp(t, ctx, s, app)
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Fatalf("%d containers left", n)
	}
}

// autoscaled is a cluster of idle containers whose autoscaler watches a metric the test
// pushes through REST (load.perMember, on the cluster).
const autoscaled = `
name: scaled
location: docker
services:
- type: cluster
  name: pool
  brooklyn.config:
    initialSize: 1
    memberSpec:
      $brooklyn:entitySpec:
        type: docker:gantry/busybox
        name: worker
        brooklyn.config:
          command: sleep 3600
  brooklyn.policies:
  - type: autoscaler
    brooklyn.config:
      metric: load.perMember
      metricLowerBound: 10
      metricUpperBound: 50
      minPoolSize: 1
      maxPoolSize: 3
      resizeUpStabilizationDelay: 1s
      resizeDownStabilizationDelay: 2s
`

// Acceptance 2 and 4: a metric above the upper bound grows the pool within the
// stabilization delay, one evaluation and the container starts, never beyond the max;
// below the lower bound it shrinks, never below the min. A kill -9 of the server while
// the pool grows: after the restart the policy resumes, the cluster converges to what
// was asked, and nothing is resized twice.
func TestAutoscalingAndRebind(t *testing.T) {
	ctx, s, docker, serverID := dockerServer(t, 5*time.Minute)
	app := deploy(t, ctx, s, []byte(autoscaled))
	pool := entityNamed(t, ctx, s, app, "pool").ID
	size := func(s *server) int {
		v, _ := s.c.Sensor(ctx, app, pool, "group.members.count")
		f, _ := v.(float64)
		return int(f)
	}
	push := func(s *server, v float64) {
		if err := s.c.SetSensor(ctx, app, pool, "load.perMember", v); err != nil {
			t.Fatal(err)
		}
	}
	// Above the bound: 1 -> 3 (ceil(1*200/50) = 4, clamped by maxPoolSize).
	push(s, 200)
	took := waitFor(t, 60*time.Second, "pool grown to 3", func() bool { return size(s) == 3 })
	t.Logf("grew 1 -> 3 in %s (stabilization 1s)", took)
	// The members are made as soon as the policy acts: the stabilization delay and one
	// evaluation, with a wide margin for a loaded machine (the benchmark measures it).
	if took > 6*time.Second {
		t.Fatalf("the pool grew %s after the breach, want about the 1s stabilization delay", took)
	}
	waitFor(t, 60*time.Second, "pool running", func() bool { return state(ctx, s, app, pool) == "RUNNING" })
	time.Sleep(2 * time.Second)
	if n := size(s); n != 3 {
		t.Fatalf("pool of %d beyond maxPoolSize 3", n)
	}
	// Below the bound: down to the minimum, 1.
	push(s, 0)
	waitFor(t, 60*time.Second, "pool shrunk to 1", func() bool { return size(s) == 1 })
	time.Sleep(3 * time.Second)
	if n := size(s); n != 1 {
		t.Fatalf("pool of %d below minPoolSize 1", n)
	}

	// Grow again and kill -9 the server as soon as the resize is under way.
	push(s, 200)
	waitFor(t, 30*time.Second, "the resize under way", func() bool {
		v, _ := s.c.Sensor(ctx, app, pool, "cluster.resizing")
		return v == true || size(s) > 1
	})
	s.kill()
	s2 := startServer(t, s.data)
	waitFor(t, 90*time.Second, "pool converged to 3 after the restart", func() bool {
		return size(s2) == 3 && state(ctx, s2, app, pool) == "RUNNING"
	})
	time.Sleep(3 * time.Second)
	if n := size(s2); n != 3 {
		t.Fatalf("pool of %d after the restart, want 3", n)
	}
	if n := len(containers(t, docker, serverID)); n != 3 {
		t.Fatalf("%d containers after the restart, want 3 (no duplicates, none orphaned)", n)
	}
	// The autoscaler resized three times in all (up, down, up): the breach before the kill
	// was not acted on again after it.
	adj, err := s2.c.Adjuncts(ctx, app, pool, "policy")
	if err != nil || len(adj) != 1 {
		t.Fatalf("policies after restart: %v %+v", err, adj)
	}
	acts, err := s2.c.AdjunctActivities(ctx, app, pool, adj[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 3 {
		var names []string
		for _, a := range acts {
			names = append(names, a.DisplayName+" "+fmt.Sprint(a.Result))
		}
		t.Fatalf("the autoscaler acted %d times, want 3: %v", len(acts), names)
	}
	// It still works after the restart.
	push(s2, 0)
	waitFor(t, 60*time.Second, "pool shrunk to 1 after the restart", func() bool { return size(s2) == 1 })
	deleteApp(t, ctx, s2, app)
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Fatalf("%d containers left", n)
	}
}
