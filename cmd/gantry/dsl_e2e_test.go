package main_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// A consumer container's environment holds the producer's real address, built by
// $brooklyn:formatString from attributeWhenReady; the value survives a restart of the
// server; a wait cycle and a bad expression are 400s that start nothing.
func TestDSLConsumerGetsProducersAddress(t *testing.T) {
	ctx, s, docker, serverID := dockerServer(t, 3*time.Minute)

	for _, c := range []struct{ name, yaml, want string }{
		{"wait cycle", `
location: docker
services:
- type: docker:gantry/busybox
  id: a
  command: [sleep, "3600"]
  env: {B: $brooklyn:entity("b").attributeWhenReady("host.address")}
- type: docker:gantry/busybox
  id: b
  command: [sleep, "3600"]
  env: {A: $brooklyn:entity("a").attributeWhenReady("host.address")}
`, `line 7, column 12: services[0].env.B: start-order cycle between a, b: a waits for sensor host.address of b (services[0].env.B), b waits for sensor host.address of a (services[1].env.A)`},
		{"bad expression", `
location: docker
services:
- type: docker:gantry/busybox
  env: {B: $brooklyn:entity("b").attributeWhenReady(host.address)}
`, `line 5, column 53: services[0].env.B: bad $brooklyn: expression: host is neither a function call nor a value`},
	} {
		_, err := s.c.Deploy(ctx, []byte(c.yaml))
		var cerr *client.Error
		if !errors.As(err, &cerr) || cerr.StatusCode != http.StatusBadRequest || !strings.Contains(cerr.Message, c.want) {
			t.Errorf("%s: %v, want a 400 with %q", c.name, err, c.want)
		}
	}
	if n := len(containers(t, docker, serverID)); n != 0 {
		t.Fatalf("%d containers after rejected blueprints", n)
	}

	app := deploy(t, ctx, s, []byte(`
name: linked
location: docker
services:
- type: docker:gantry/busybox
  id: db
  name: db
  command: [sleep, "3600"]
- type: docker:gantry/busybox
  id: web
  name: web
  command: [sleep, "3600"]
  env:
    DB_URL: $brooklyn:formatString("redis://%s:%s", $brooklyn:entity("db").attributeWhenReady("host.address"), 6379)
`))
	dbAddr, _ := sensor(t, ctx, s, app, "db", "host.address").(string)
	if dbAddr == "" {
		t.Fatal("db has no host.address")
	}
	want := "DB_URL=redis://" + dbAddr + ":6379"
	webEntity, err := s.c.Entity(ctx, app, "web")
	if err != nil {
		t.Fatal(err)
	}
	inspect, err := docker.ContainerInspect(ctx, containers(t, docker, serverID)[webEntity.ID].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(inspect.Config.Env, want) {
		t.Errorf("web's container env %v, want %s", inspect.Config.Env, want)
	}
	env, err := s.c.ConfigValue(ctx, app, "web", "env")
	if m, _ := env.(map[string]any); err != nil || m["DB_URL"] != "redis://"+dbAddr+":6379" {
		t.Errorf("web's env config %v %v", env, err)
	}
	// The start of web waited for db, and its task says so.
	acts, err := s.c.Activities(ctx, app, "web")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	var walk func(id string)
	walk = func(id string) {
		kids, err := s.c.ActivityChildren(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kids {
			found = found || k.DisplayName == "Waiting for db host.address"
			walk(k.ID)
		}
	}
	for _, a := range acts {
		found = found || a.DisplayName == "Waiting for db host.address"
		walk(a.ID)
	}
	if !found {
		t.Log("no waiting step: db was up before web looked") // parallel starts may race; not an error
	}

	// kill -9 and restart: web keeps the values it was started with.
	time.Sleep(1200 * time.Millisecond)
	s.kill()
	s2 := startServer(t, s.data)
	env, err = s2.c.ConfigValue(ctx, app, "web", "env")
	if m, _ := env.(map[string]any); err != nil || m["DB_URL"] != "redis://"+dbAddr+":6379" {
		t.Errorf("after restart web's env config %v %v", env, err)
	}
	if st, _ := s2.c.Application(ctx, app); st.Status != api.StatusRunning {
		t.Errorf("after restart application %s", st.Status)
	}
}
