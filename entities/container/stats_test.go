package container

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sensors"
)

func TestHTTPPort(t *testing.T) {
	one := map[int]int{8080: 32768}
	two := map[int]int{80: 32770, 443: 32771}
	cases := []struct {
		name       string
		configured any
		published  map[int]int
		want       int
		ok         bool
	}{
		{"the only published port", nil, one, 8080, true},
		{"several ports: none chosen", nil, two, 0, false},
		{"no ports", nil, nil, 0, false},
		{"configured wins", 443, two, 443, true},
		{"configured as a string", "8443", one, 8443, true},
		{"configured as a JSON number", 9000.0, nil, 9000, true},
		{"empty configuration is none", "", one, 8080, true},
		{"configured, not a port", "http", one, 0, false},
		{"configured, out of range", 70000, one, 0, false},
		{"configured, a fraction", 80.5, one, 0, false},
	}
	for _, c := range cases {
		got, ok := httpPort(c.configured, c.published)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: httpPort(%v, %v) = %v, %v; want %v, %v", c.name, c.configured, c.published, got, ok, c.want, c.ok)
		}
	}
}

// TestStatsAndHTTPPort runs containers on the real engine: a busy loop shows CPU and
// memory in use within seconds; http.port comes from the only port or from config.
func TestStatsAndHTTPPort(t *testing.T) {
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	eng, err := docker.New(ctx, "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	reg := locations.NewRegistry()
	if err := reg.Add(eng); err != nil {
		t.Fatal(err)
	}
	labels := map[string]any{}
	for k, v := range testenv.ContainerLabels(t, cli) {
		labels[k] = v
	}
	m := testenv.Management(t, entities.Options{Locations: reg})
	app, task, err := m.Deploy(ctx, &entities.Spec{
		Type: "basic-application", Name: "stats", Locations: []string{"docker"},
		Children: []*entities.Spec{
			{Type: "docker-container", Name: "busy", Config: map[string]any{
				"image": image, "command": "while :; do :; done", "labels": labels,
				"openPorts": []any{8080}, "docker.stats.period": "500ms",
			}},
			{Type: "docker-container", Name: "quiet", Config: map[string]any{
				"image": image, "command": []any{"sleep", "3600"}, "labels": labels,
				"openPorts": []any{80, 8081}, "http.port": "8081", "docker.stats.period": "0",
			}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	busy, quiet := app.Children()[0], app.Children()[1]

	deadline := time.Now().Add(10 * time.Second)
	for {
		cpu, _ := busy.Attribute(sensors.MachineCPU)
		mem, _ := busy.Attribute(sensors.MachineMemoryUsed)
		f, _ := sensors.Number(cpu)
		n, _ := sensors.Number(mem)
		if f > 0 && n > 0 {
			t.Logf("machine.cpu %.2f, machine.memory.used %v", f, mem)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CPU and memory figures within 10s: %v", busy.Attributes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range []string{sensors.MachineMemoryTotal, sensors.MachineMemoryPercent, sensors.MachineNetworkIn, sensors.MachineNetworkOut} {
		if _, ok := busy.Attribute(s); !ok {
			t.Errorf("busy has no %s", s)
		}
	}
	if p, _ := busy.Attribute(sensors.HTTPPort); p != 8080 {
		t.Errorf("busy: http.port = %v; want its only port, 8080", p)
	}

	if p, _ := quiet.Attribute(sensors.HTTPPort); p != 8081 {
		t.Errorf("quiet: http.port = %v; want the configured 8081", p)
	}
	hp, _ := quiet.Attribute(sensors.MappedPrefix + "8081")
	if uri, _ := quiet.Attribute(sensors.MainURI); hp == nil || uri != fmt.Sprintf("http://127.0.0.1:%v/", hp) {
		t.Errorf("quiet: main.uri = %v; want the host port of 8081 (%v)", uri, hp)
	}
	time.Sleep(700 * time.Millisecond)
	if _, ok := quiet.Attribute(sensors.MachineMemoryUsed); ok {
		t.Error("quiet has stats, with docker.stats.period 0")
	}

	// A container that stops behind Gantry's back uses nothing: its CPU and memory
	// figures are cleared at the next reading.
	if err := eng.StopContainer(ctx, containerID(busy), 0); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for _, ok := busy.Attribute(sensors.MachineCPU); ok; _, ok = busy.Attribute(sensors.MachineCPU) {
		if time.Now().After(deadline) {
			t.Fatal("machine.cpu still set 10s after the container stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := busy.Attribute(sensors.MachineMemoryUsed); ok {
		t.Error("machine.memory.used still set after the container stopped")
	}

	// Once the entity is stopped, the feed is stopped: the figures stay as they were.
	stop, err := m.Invoke(ctx, busy, "stop", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stop.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := busy.Attribute(sensors.MachineNetworkIn)
	time.Sleep(time.Second)
	if after, _ := busy.Attribute(sensors.MachineNetworkIn); after != before {
		t.Errorf("stats still read after stop: %v -> %v", before, after)
	}
}
