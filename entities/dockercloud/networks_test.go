package dockercloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sdn"
)

// The cloud passes its sdn.* config on and routes the sdn provider's network calls: an
// application with sdn.enable whose two containers land on two engines has its network
// made on both (one name, one subnet), each container created on it on its own engine;
// the network goes from every engine with the last container.
func TestVirtualNetworksAcrossHosts(t *testing.T) {
	f := newFixture(t, 3)
	sv := f.open(t, t.TempDir())
	for _, cli := range f.clis[1:] {
		t.Cleanup(func() { // after a failure: the test's containers, then its networks
			ctx := context.Background()
			cs, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", testenv.TestLabel+"="+f.label))})
			for _, c := range cs {
				_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
			}
			list, _ := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("label", sdn.LabelServer+"="+sv.m.ServerID()))})
			for _, n := range list {
				_ = cli.NetworkRemove(ctx, n.ID)
			}
		})
	}
	infra := f.deployInfra(t, sv, map[string]any{
		dockercloud.KeyHosts:      []any{f.endpoint(t, 1, false), f.endpoint(t, 2, false)},
		dockercloud.KeyStrategies: []any{map[string]any{"type": "max-containers", "max": 1}},
		dockercloud.KeySDNEnable:  true,
	})
	c, _ := dockercloud.CloudOf(infra)
	if v := c.Config()[dockercloud.KeySDNEnable]; v != true {
		t.Fatalf("the cloud does not pass sdn.enable on: %v", c.Config())
	}
	app, err := sv.deploy(t, sv.resolve(t, f.webApp(2)))
	if err != nil {
		t.Fatalf("deploy 2 containers on virtual networks: %v", err)
	}
	name := "gantry-" + app.ID()
	subnets := map[string]bool{}
	for i, cli := range f.clis[1:] {
		n, err := cli.NetworkInspect(context.Background(), name, network.InspectOptions{})
		if err != nil {
			t.Fatalf("engine %d has no network %s: %v", i+2, name, err)
		}
		if len(n.IPAM.Config) == 1 {
			subnets[n.IPAM.Config[0].Subnet] = true
		}
		if len(n.Containers) != 1 {
			t.Errorf("engine %d: %d containers on %s, want its 1", i+2, len(n.Containers), name)
		}
	}
	if len(subnets) != 1 {
		t.Errorf("subnets %v: want one subnet on both engines", subnets)
	}
	noProblems(t, app.Children()[0].Members()...)

	unmanage(t, sv.m, app)
	waitFor(t, 20*time.Second, "the network gone from both engines", func() bool {
		for _, cli := range f.clis[1:] {
			if _, err := cli.NetworkInspect(context.Background(), name, network.InspectOptions{}); err == nil {
				return false
			}
		}
		return true
	})
}
