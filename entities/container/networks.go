package container

import (
	"context"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/network"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Virtual networks (package sdn, entities/network): with sdn.enable, a container is
// created on its first network (its application's, by default) instead of the engine's
// default bridge, attached to the others, and reached on the first. Without it nothing
// here does anything.

// joinNetworks makes ready the networks the entity's container joins and lets the first
// one's provider change the spec; it returns nil when sdn is not enabled.
func joinNetworks(ctx context.Context, e *entities.Entity, spec *locations.ContainerSpec) (*network.Joining, error) {
	if !network.Enabled(e) {
		return nil, nil
	}
	loc, err := entities.LocationOf[locations.Location](e, "a location")
	if err != nil {
		return nil, err
	}
	j, err := network.Join(ctx, e, loc)
	if err != nil || j == nil {
		return nil, err
	}
	return j, j.Prepare(ctx, e, spec)
}

// attachNetworks attaches the new container to its networks and inspects it again
// when it joined more than one: the engine maps its published ports anew when a running
// container joins a network. When attaching fails the container is recorded all the
// same (it exists), and the start fails.
func attachNetworks(ctx context.Context, h locations.ContainerHost, e *entities.Entity, j *network.Joining, c *locations.Container) (*locations.Container, error) {
	if j == nil {
		return c, nil
	}
	if err := j.Attach(ctx, e, c.ID); err != nil {
		e.SetAttribute(sensors.ContainerID, c.ID)
		return c, err
	}
	if len(j.Networks()) < 2 {
		return c, nil
	}
	again, err := h.InspectContainer(ctx, c.ID)
	if err != nil {
		e.SetAttribute(sensors.ContainerID, c.ID)
		return c, err
	}
	return again, nil
}

// address is where the container is reached: on its first network when it joined
// networks, else the engine's address for it.
func address(e *entities.Entity, c *locations.Container) string {
	if ip, ok := network.Address(e); ok {
		return ip
	}
	return c.IP
}

// leaveNetworks records that the removed container left its networks.
func leaveNetworks(ctx context.Context, e *entities.Entity, id string) error {
	if _, ok := e.Attribute(network.SensorAttachments); !ok {
		return nil
	}
	return network.Leave(ctx, e, id)
}
