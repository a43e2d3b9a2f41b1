package main_test

// End-to-end test of the Docker cloud (issue 5's acceptance 1 and 5): the real binary, a
// cloud of 3 extra real Docker Engines (one over TCP with TLS), killed with SIGKILL.

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/gantry-dev/gantry/internal/testenv"
)

// A blueprint deploys into a Docker cloud like into any location: 6 containers spread
// 2/2/2 over 3 engines; the server is killed with SIGKILL and started again: the same
// hosts, the same placements, the same containers (nothing recreated, nothing removed),
// and the cloud places more containers as before.
func TestDockerCloudSpreadAndRebind(t *testing.T) {
	engines := testenv.Engines(t, 3)
	main := testenv.RequireDocker(t)
	label := testenv.ContainerLabels(t, main)[testenv.TestLabel]
	for _, e := range engines {
		testenv.CleanupContainers(t, e.Client(t), label)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startServer(t, "")
	t.Cleanup(s.kill) // before the containers go: its policies would act on them
	name := fmt.Sprintf("e2e-%d", time.Now().UnixNano())

	var hosts strings.Builder
	for _, e := range engines {
		if e.TLS() {
			fmt.Fprintf(&hosts, "    - {endpoint: %q, tls.ca: %q, tls.cert: %q, tls.key: %q}\n", e.Host, e.TLSCA, e.TLSCert, e.TLSKey)
		} else {
			fmt.Fprintf(&hosts, "    - %s\n", e.Host)
		}
	}
	infraApp := deploy(t, ctx, s, fmt.Appendf(nil, `
name: docker-cloud
services:
- type: docker-infrastructure
  name: cloud
  brooklyn.config:
    docker.cloud.name: %s
    docker.host.poll.period: 1s
    docker.container.strategies: [{type: max-containers, max: 2}, {type: breadth-first}]
    docker.hosts:
%s`, name, hosts.String()))
	web := deploy(t, ctx, s, fmt.Appendf(nil, `
name: web
location: docker-cloud:%s
services:
- type: cluster
  name: pool
  initialSize: 6
  memberSpec:
    $brooklyn:entitySpec:
      type: docker-container
      name: web
      brooklyn.config:
        image: gantry/busybox:latest
        command: exec sleep 3600
        stop.timeout: 1s
        labels:
          %s: %s
`, name, testenv.TestLabel, label))

	onEngines := func() map[string][]string {
		out := map[string][]string{}
		for _, e := range engines {
			list, err := e.Client(t).ContainerList(ctx, container.ListOptions{
				All: true, Filters: filters.NewArgs(filters.Arg("label", testenv.TestLabel+"="+label)),
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				if c.State != "running" {
					t.Errorf("container %.12s on %s is %s", c.ID, e.Host, c.State)
				}
				out[e.Host] = append(out[e.Host], c.ID)
			}
			slices.Sort(out[e.Host])
		}
		return out
	}
	before := onEngines()
	for _, e := range engines {
		if n := len(before[e.Host]); n != 2 {
			t.Errorf("%d containers on %s, want 2 (2/2/2)", n, e.Host)
		}
	}
	cloud := entityNamed(t, ctx, s, infraApp, "cloud")
	placements := func(s *server) map[string]any {
		v, _ := sensor(t, ctx, s, infraApp, cloud.ID, "docker.container.placements").(map[string]any)
		out := map[string]any{}
		for id, p := range v {
			out[id] = p.(map[string]any)["host"]
		}
		return out
	}
	placedBefore := placements(s)
	hostsBefore := members(t, ctx, s, infraApp, cloud.ID)
	if len(placedBefore) != 6 || len(hostsBefore) != 3 {
		t.Fatalf("placements %v on hosts %v", placedBefore, hostsBefore)
	}

	// The store is written behind, within a second: let it have what the deploy did (a
	// kill within that second is a restart mid-deploy, which the cluster finishes).
	time.Sleep(1500 * time.Millisecond)
	s.kill()
	two := startServer(t, s.data)
	t.Cleanup(two.kill)
	t.Cleanup(func() {
		if t.Failed() {
			ctx := context.Background()
			for _, app := range []string{infraApp, web} {
				all, _ := two.c.Descendants(ctx, app)
				for _, e := range all {
					p, _ := two.c.Sensor(ctx, app, e.ID, "service.problems")
					n, _ := two.c.Sensor(ctx, app, e.ID, "service.notUp.indicators")
					t.Logf("%s %s (%s): %s problems %v notUp %v", app, e.Name, e.ID, state(ctx, two, app, e.ID), p, n)
				}
			}
		}
	})
	waitFor(t, 30*time.Second, "the web app running again", func() bool { return state(ctx, two, web, web) == "RUNNING" })
	waitFor(t, 30*time.Second, "the cloud running again", func() bool { return state(ctx, two, infraApp, cloud.ID) == "RUNNING" })
	if got := members(t, ctx, two, infraApp, cloud.ID); !reflect.DeepEqual(got, hostsBefore) {
		t.Errorf("hosts %v after the restart, want %v", got, hostsBefore)
	}
	if got := placements(two); !maps.Equal(got, placedBefore) {
		t.Errorf("placements %v after the restart, want %v", got, placedBefore)
	}
	if got := onEngines(); !reflect.DeepEqual(got, before) {
		t.Errorf("containers %v after the restart, want the same %v", got, before)
	}
	for _, m := range members(t, ctx, two, web, entityNamed(t, ctx, two, web, "pool").ID) {
		if st := state(ctx, two, web, m); st != "RUNNING" {
			t.Errorf("member %s is %s", m, st)
		}
	}

	// The cloud places as before: with 2 slots per host all taken, a 7th finds no host
	// and no pool, and fails saying why.
	_, _, err := two.c.InvokeEffector(ctx, web, entityNamed(t, ctx, two, web, "pool").ID, "resize", map[string]any{"desiredSize": 7}, "")
	for _, want := range []string{"max-containers 2: all 3 hosts full", "no host can be added"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a 7th container: %v, want a failure saying %q", err, want)
		}
	}
	if got := onEngines(); !reflect.DeepEqual(got, before) {
		t.Errorf("containers %v after the failed 7th, want the same %v", got, before)
	}
}
