package container

import (
	"context"
	"errors"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// adoptUnrecorded handles a create that failed because a container of that name exists:
// when it carries this entity's label, the server stopped between creating it and
// recording its id (a cluster member caught mid-start, started again after the rebind).
// That container is started and returned rather than a second one made; when it cannot
// be started (caught half-made), it is removed and the container made again, once. It
// returns nil when there is nothing to adopt, and the create's error stands.
func adoptUnrecorded(ctx context.Context, h locations.ContainerHost, e *entities.Entity, spec locations.ContainerSpec, createErr error) *locations.Container {
	if !errors.Is(createErr, locations.ErrInvalid) || spec.Name == "" {
		return nil
	}
	old, err := h.InspectContainer(ctx, spec.Name)
	if err != nil {
		entities.Logf(ctx, "no container %s to adopt: %v", spec.Name, err)
		return nil
	}
	if old.Labels[LabelEntity] != e.ID() {
		entities.Logf(ctx, "container %s belongs to entity %q, not this one", spec.Name, old.Labels[LabelEntity])
		return nil
	}
	var c *locations.Container
	err = entities.Step(ctx, "Start container "+short(old.ID)+", made before a restart", func(ctx context.Context) error {
		c, err = h.StartContainer(ctx, old.ID)
		return err
	})
	if err == nil {
		return c
	}
	err = entities.Step(ctx, "Make container "+spec.Name+" again", func(ctx context.Context) error {
		if err := h.RemoveContainer(ctx, old.ID); err != nil {
			return err
		}
		c, err = h.RunContainer(ctx, spec)
		return err
	})
	if err != nil {
		return nil
	}
	return c
}
