package container

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// Watch follows the engine's event stream for the containers of this server and keeps
// their entities' state true: a container that dies puts its entity on fire at once, one
// that starts again brings it back. It returns when ctx is done.
func Watch(ctx context.Context, m *entities.Management, h locations.ContainerHost) error {
	return h.WatchContainers(ctx, map[string]string{LabelServer: m.ServerID()}, func(ev locations.ContainerEvent) {
		e, err := m.Entity(ev.Labels[LabelEntity])
		if err != nil || containerID(e) != ev.ID {
			return // not ours any more, or replaced by a newer container
		}
		switch ev.Action {
		case locations.EventDie, locations.EventOOM:
			died(e, ev.ExitCode)
		case locations.EventStart:
			if c, err := h.InspectContainer(ctx, ev.ID); err == nil {
				markRunning(e, c)
			}
		case locations.EventDestroy:
			msg := fmt.Sprintf("container %s was removed", short(ev.ID))
			e.SetNotUp(indicator, msg)
			if e.Expected() == entities.Running {
				e.SetProblem(indicator, msg)
			}
		}
	})
}

// Orphans lists the containers that carry this server's label but that no entity claims:
// left behind by a crash between creating a container and recording it, or by a bug.
func Orphans(ctx context.Context, m *entities.Management, h locations.ContainerHost) ([]*locations.Container, error) {
	cs, err := h.ListContainers(ctx, map[string]string{LabelServer: m.ServerID()})
	if err != nil {
		return nil, err
	}
	var out []*locations.Container
	for _, c := range cs {
		e, err := m.Entity(c.Labels[LabelEntity])
		if err != nil || containerID(e) != c.ID {
			out = append(out, c)
		}
	}
	return out, nil
}
