package proxy_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/proxy"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
)

// Only members that are up and have both sensors are routed to; the sensors are the
// ones the load balancer is told to read.
func TestTargets(t *testing.T) {
	m := testenv.Management(t, entities.Options{FlushInterval: time.Hour})
	names := []string{"ok", "port-string", "port-json-number", "down", "no-host", "port-zero", "port-word", "custom"}
	spec := &entities.Spec{Type: "basic-application", Name: "targets"}
	for _, n := range names {
		spec.Children = append(spec.Children, &entities.Spec{Type: "basic-entity", Name: n})
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	kids := app.Children()
	set := func(i int, host, port any) {
		if host != nil {
			kids[i].SetAttribute(sensors.HostAddress, host)
		}
		if port != nil {
			kids[i].SetAttribute(sensors.HTTPPort, port)
		}
	}
	set(0, "10.0.0.1", 8080)
	set(1, "10.0.0.2", "8081")
	set(2, "10.0.0.3", 8082.0)
	set(3, "10.0.0.4", 8080)
	kids[3].SetNotUp("test", "down for the test")
	set(4, nil, 8080)
	set(5, "10.0.0.6", 0)
	set(6, "10.0.0.7", "http")
	kids[7].SetAttribute("ip", "10.0.0.8")
	kids[7].SetAttribute("web.port", 9000)

	got := proxy.Targets(kids, sensors.HostAddress, sensors.HTTPPort)
	want := []proxy.Member{
		{ID: kids[0].ID(), Address: "10.0.0.1", Port: 8080},
		{ID: kids[1].ID(), Address: "10.0.0.2", Port: 8081},
		{ID: kids[2].ID(), Address: "10.0.0.3", Port: 8082},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Targets = %+v\nwant %+v", got, want)
	}
	got = proxy.Targets(kids, "ip", "web.port")
	if want := []proxy.Member{{ID: kids[7].ID(), Address: "10.0.0.8", Port: 9000}}; !slices.Equal(got, want) {
		t.Errorf("Targets with other sensors = %+v, want %+v", got, want)
	}
}

func TestKindDeclaration(t *testing.T) {
	for _, name := range []string{"load-balancer", "haproxy", "NginxController", proxy.TypeName} {
		lt, err := entities.LookupType(name)
		if err != nil {
			t.Fatal(err)
		}
		if lt.Name != proxy.TypeName {
			t.Errorf("%s is %s", name, lt.Name)
		}
	}
	lt, _ := entities.LookupType("load-balancer")
	for key, def := range map[string]any{
		proxy.KeyServerPool:     nil,
		proxy.KeyPort:           proxy.DefaultPort,
		proxy.KeyHostnameSensor: sensors.HostAddress,
		proxy.KeyPortSensor:     sensors.HTTPPort,
		"image":                 proxy.Image,
		"labels":                nil,
		"portBindings":          nil,
	} {
		k, ok := lt.ConfigKey(key)
		if !ok {
			t.Errorf("no config key %s", key)
			continue
		}
		if k.Default != def {
			t.Errorf("%s defaults to %v, want %v", key, k.Default, def)
		}
	}
	for _, key := range []string{"command", "init"} {
		if _, ok := lt.ConfigKey(key); ok {
			t.Errorf("config key %s: the kind decides it", key)
		}
	}
	var declared []string
	for _, s := range lt.Sensors {
		declared = append(declared, s.Name)
	}
	for _, s := range []string{proxy.SensorTargets, proxy.SensorReqsPerSec, proxy.SensorReqsInFlight, proxy.SensorReqsTotal, sensors.MainURI, sensors.MappedPrefix + "<port>"} {
		if !slices.Contains(declared, s) {
			t.Errorf("sensor %s not declared: %v", s, declared)
		}
	}
}
