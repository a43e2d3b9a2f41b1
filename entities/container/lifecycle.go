package container

import (
	"context"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// Lifecycle is the container kind's lifecycle, for other kinds whose entity is one
// container on a Docker engine location (entities/proxy's load balancer): the entity has
// this kind's sensors and labels, the engine's event stream (Watch) follows its
// container, and it is re-adopted by id on rebind. Start creates the container from
// Spec(e), changed by Adjust when it is set (another command, more ports); the other
// methods are the container kind's own.
type Lifecycle struct {
	Adjust func(e *entities.Entity, spec *locations.ContainerSpec) error
}

// Start starts the entity's container, creating it when there is none.
func (l Lifecycle) Start(ctx context.Context, e *entities.Entity) error {
	return startWith(ctx, e, l.Adjust)
}

// Stop stops the container (SIGTERM, then SIGKILL after stop.timeout); it stays, to be
// started again.
func (Lifecycle) Stop(ctx context.Context, e *entities.Entity) error { return stop(ctx, e) }

// Restart stops and starts the container.
func (l Lifecycle) Restart(ctx context.Context, e *entities.Entity) error {
	if err := stop(ctx, e); err != nil {
		return err
	}
	return l.Start(ctx, e)
}

// Rebind re-adopts the container by id after a server restart.
func (Lifecycle) Rebind(ctx context.Context, e *entities.Entity) error { return rebind(ctx, e) }

// Destroy removes the container.
func (Lifecycle) Destroy(ctx context.Context, e *entities.Entity) error { return destroy(ctx, e) }

// Exec runs a command in the running container, as docker exec does.
func (Lifecycle) Exec(ctx context.Context, e *entities.Entity, cmd locations.Command) (int, error) {
	return execIn(ctx, e, cmd)
}

// ContainerID is the id of the entity's container ("" when it has none).
func ContainerID(e *entities.Entity) string { return containerID(e) }
