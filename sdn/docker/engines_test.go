package docker_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	ldocker "github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sdn"
)

// TestSameNetworkOnSeveralEngines: on several engines (extra dockerd instances on this
// machine, one over TCP with TLS) a network is made with the same name and subnet on
// each, containers on each get addresses in it, and it is deleted from all. Whether
// containers on different engines reach each other is not claimed: bridges are local.
func TestSameNetworkOnSeveralEngines(t *testing.T) {
	ctx := t.Context()
	eps := testenv.Engines(t, 2)
	image := testenv.BusyboxImage(t)
	var hosts []locations.Location
	var engines []*ldocker.Engine
	var labels map[string]string
	for i, ep := range eps {
		o := ldocker.Options{Endpoint: ep.Host, TLSCA: ep.TLSCA, TLSCert: ep.TLSCert, TLSKey: ep.TLSKey}
		e, err := ldocker.Dial(ctx, fmt.Sprintf("engine-%d", i+1), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		if labels == nil {
			labels = testenv.NetworkLabels(t, ep.Client(t))
		} else {
			// The same label on every engine, each cleaning up its own: networks after
			// containers (cleanups run last registered first).
			testenv.CleanupNetworks(t, ep.Client(t), func() string { return labels[testenv.TestLabel] })
			testenv.CleanupContainers(t, ep.Client(t), labels[testenv.TestLabel])
		}
		hosts = append(hosts, e)
		engines = append(engines, e)
	}
	p, err := sdn.Open(ctx, "docker", sdn.Config{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	existing, err := p.(sdn.Inspector).Subnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The main engine's networks too: the engines share this machine's routes.
	main := setup(t)
	more, err := main.p.(sdn.Inspector).Subnets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := sdn.NewAllocator(sdn.DefaultPool, 24)
	cidr, err := a.Allocate(append(existing, more...)...)
	if err != nil {
		t.Fatal(err)
	}
	n := sdn.Network{ID: unique("net"), Name: unique("gantry-test"), CIDR: cidr, Labels: labels}
	if err := p.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	for _, e := range engines {
		got, err := e.InspectNetwork(ctx, n.Name)
		if err != nil || got.Subnet != cidr || got.Driver != "bridge" {
			t.Fatalf("on %s: %+v, %v", e.ID(), got, err)
		}
	}
	for _, e := range engines {
		spec := locations.ContainerSpec{Name: unique("box"), Image: image, Command: []string{"sleep", "60"}, Labels: labels, Init: true}
		att := sdn.Attachment{Network: n.Name, Host: e.ID(), Aliases: []string{"box"}}
		if err := p.(sdn.ContainerPreparer).PrepareContainer(n, att, &spec); err != nil {
			t.Fatal(err)
		}
		c, err := e.RunContainer(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		att.ContainerID = c.ID
		if err := p.Attach(ctx, n, &att); err != nil || !cidr.Contains(att.IP) {
			t.Fatalf("attach on %s: %v, %v", e.ID(), att.IP, err)
		}
		if err := p.DeleteNetwork(ctx, n); !errors.Is(err, sdn.ErrInUse) {
			t.Fatalf("delete while a container on %s uses it: %v", e.ID(), err)
		}
		if err := e.RemoveContainer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.DeleteNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	for _, e := range engines {
		if _, err := e.InspectNetwork(ctx, n.Name); !errors.Is(err, locations.ErrNotFound) {
			t.Errorf("on %s after delete: %v", e.ID(), err)
		}
	}
}
