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
// That container is started and returned rather than a second one made. It returns nil
// when there is nothing to adopt, and the create's error stands.
func adoptUnrecorded(ctx context.Context, h locations.ContainerHost, e *entities.Entity, name string, createErr error) *locations.Container {
	if !errors.Is(createErr, locations.ErrInvalid) || name == "" {
		return nil
	}
	old, err := h.InspectContainer(ctx, name)
	if err != nil || old.Labels[LabelEntity] != e.ID() {
		return nil
	}
	var c *locations.Container
	err = entities.Step(ctx, "Start container "+short(old.ID)+", made before a restart", func(ctx context.Context) error {
		c, err = h.StartContainer(ctx, old.ID)
		return err
	})
	if err != nil {
		return nil
	}
	return c
}
