package dockercloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	containerkind "github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sensors"
)

// A host publishes what its engine says, what its containers use, and reports (does not
// adopt) a container with this server's labels that no entity claims.
func TestHostSensorsAndUnclaimedContainers(t *testing.T) {
	f := newFixture(t, 2)
	sv := f.open(t, t.TempDir())
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts: []any{f.endpoint(t, 0, false), f.endpoint(t, 1, false)},
	})
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(2)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmanage(t, sv.m, app) })
	for _, h := range hosts(infra) {
		for _, s := range []string{dockercloud.SensorVersion, dockercloud.SensorCPUs, sensors.MachineMemoryTotal, dockercloud.SensorEngineID, dockercloud.SensorEndpoint} {
			if v, ok := h.Attribute(s); !ok || v == "" || v == 0 {
				t.Errorf("%s: %s = %v", h, s, v)
			}
		}
		if v, _ := h.Attribute(sensors.DockerContainerCount); v != 1 {
			t.Errorf("%s holds %v containers, want 1 (breadth-first)", h, v)
		}
		waitFor(t, 20*time.Second, h.Name()+"'s memory use", func() bool {
			v, ok := h.Attribute(sensors.MachineMemoryUsed)
			n, _ := v.(int64)
			return ok && n > 0
		})
		if !h.IsUp() {
			t.Errorf("%s is not up", h)
		}
	}

	// A container left by this server that no entity claims, on the second engine.
	cli := f.clis[1]
	created, err := cli.ContainerCreate(context.Background(), &container.Config{
		Image: testenv.BusyboxTag, Cmd: []string{"sleep", "600"},
		Labels: map[string]string{testenv.TestLabel: f.label, containerkind.LabelServer: sv.m.ServerID(), containerkind.LabelEntity: "gone", containerkind.LabelApp: "gone"},
	}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	h := hosts(infra)[1]
	waitFor(t, 20*time.Second, "the unclaimed container reported", func() bool {
		v, _ := h.Attribute(dockercloud.SensorUnclaimed)
		l, _ := v.([]any)
		return len(l) == 1 && l[0].(map[string]any)["id"] == created.ID
	})
	c, _ := dockercloud.CloudOf(infra)
	if c.HostOf(created.ID) != "" {
		t.Error("the unclaimed container was adopted by the cloud")
	}
	if v, _ := h.Attribute(sensors.DockerContainerCount); v != 1 {
		t.Errorf("%s counts %v containers, want its 1 placed", h, v)
	}
	if err := cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the report cleared", func() bool {
		_, ok := h.Attribute(dockercloud.SensorUnclaimed)
		return !ok
	})
	noProblems(t, h)
}
