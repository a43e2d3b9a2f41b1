package docker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/gantry-dev/gantry/locations"
)

// cleanupTimeout bounds the removal of a half-made container, which runs even
// when the caller's context is already done.
const cleanupTimeout = 30 * time.Second

// RunContainer creates, starts and inspects a container: three API round
// trips. The image must be on the engine; when it is not, the error wraps
// ErrImageNotFound and locations.ErrNotFound. If start or inspect fails the
// container is removed again.
func (e *Engine) RunContainer(ctx context.Context, spec locations.ContainerSpec) (*locations.Container, error) {
	op := "run container"
	if spec.Name != "" {
		op += " " + spec.Name
	}
	cfg, hc, err := createConfig(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	created, err := e.cli.ContainerCreate(ctx, cfg, hc, networkingConfig(spec, hc), nil, spec.Name)
	if err != nil {
		return nil, e.createError(ctx, op, spec.Image, err)
	}
	for _, w := range created.Warnings {
		slog.Warn("docker create warning", "engine", e.id, "container", created.ID, "warning", w)
	}
	if err := e.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		e.removeHalfMade(ctx, created.ID)
		return nil, wrap(fmt.Sprintf("%s: start %s", op, short(created.ID)), err)
	}
	info, err := e.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		e.removeHalfMade(ctx, created.ID)
		return nil, wrap(fmt.Sprintf("%s: inspect %s", op, short(created.ID)), err)
	}
	return fromInspect(info), nil
}

// createError explains a failed create. Only here, on the error path, does it
// spend a round trip to check whether the image is missing.
func (e *Engine) createError(ctx context.Context, op, image string, err error) error {
	if cerrdefs.IsNotFound(err) && ctx.Err() == nil {
		if _, ierr := e.cli.ImageInspect(ctx, image); cerrdefs.IsNotFound(ierr) {
			return fmt.Errorf("%s: %w", op, &imageNotFoundError{image: image, engine: e.id, host: e.cli.DaemonHost()})
		}
	}
	return wrap(op+": create", err)
}

func (e *Engine) removeHalfMade(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		slog.Error("remove half-made container", "engine", e.id, "container", id, "err", err)
	}
}

// StartContainer starts a container and inspects it.
func (e *Engine) StartContainer(ctx context.Context, id string) (*locations.Container, error) {
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return nil, wrap("start container "+id, err)
	}
	info, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, wrap("start container "+id+": inspect", err)
	}
	return fromInspect(info), nil
}

// StopContainer stops a container, killing it once timeout (rounded up to
// whole seconds) has passed; a negative timeout uses the container's default.
func (e *Engine) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	var opts container.StopOptions
	if timeout >= 0 {
		secs := int(math.Ceil(timeout.Seconds()))
		opts.Timeout = &secs
	}
	return wrap("stop container "+id, e.cli.ContainerStop(ctx, id, opts))
}

// RemoveContainer force-removes a container and its anonymous volumes; a
// missing container is not an error.
func (e *Engine) RemoveContainer(ctx context.Context, id string) error {
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap("remove container "+id, err)
}

// InspectContainer returns the container with that id or name.
func (e *Engine) InspectContainer(ctx context.Context, id string) (*locations.Container, error) {
	info, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, wrap("inspect container "+id, err)
	}
	return fromInspect(info), nil
}

// ListContainers returns the containers, running or not, that carry all the
// labels, sorted by name, from one list call (Hostname is not filled in).
func (e *Engine) ListContainers(ctx context.Context, labels map[string]string) ([]*locations.Container, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: labelFilters(labels)})
	if err != nil {
		return nil, wrap("list containers", err)
	}
	out := make([]*locations.Container, 0, len(list))
	for _, s := range list {
		out = append(out, fromSummary(s))
	}
	slices.SortFunc(out, func(a, b *locations.Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func labelFilters(labels map[string]string) filters.Args {
	f := filters.NewArgs()
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
