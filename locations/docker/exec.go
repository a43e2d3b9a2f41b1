package docker

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/gantry-dev/gantry/locations"
)

var _ locations.ContainerExecutor = (*Engine)(nil)

// ExecContainer runs cmd.Script with /bin/sh -c inside a running container, as
// `docker exec` does, streaming its output to cmd.Stdout and cmd.Stderr, and returns
// its exit code. When ctx is done it stops waiting and returns -1 with an error
// wrapping ctx.Err(); the engine offers no way to kill an exec'd process, which
// keeps running in the container until it ends.
func (e *Engine) ExecContainer(ctx context.Context, id string, cmd locations.Command) (int, error) {
	op := "exec in container " + short(id)
	if strings.TrimSpace(cmd.Script) == "" {
		return -1, fmt.Errorf("%s: empty script: %w", op, locations.ErrInvalid)
	}
	opts := container.ExecOptions{
		Cmd:          []string{"/bin/sh", "-c", cmd.Script},
		WorkingDir:   cmd.Dir,
		AttachStdout: true,
		AttachStderr: true,
	}
	for _, k := range slices.Sorted(maps.Keys(cmd.Env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return -1, fmt.Errorf("%s: bad environment variable name %q: %w", op, k, locations.ErrInvalid)
		}
		opts.Env = append(opts.Env, k+"="+cmd.Env[k])
	}
	created, err := e.cli.ContainerExecCreate(ctx, id, opts)
	if err != nil {
		return -1, wrap(op, err)
	}
	attached, err := e.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return -1, wrap(op+": attach", err)
	}
	defer attached.Close()
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(orDiscard(cmd.Stdout), orDiscard(cmd.Stderr), attached.Reader)
		copied <- err
	}()
	select {
	case err := <-copied:
		if err != nil && ctx.Err() == nil {
			return -1, fmt.Errorf("%s: read output: %w", op, err)
		}
	case <-ctx.Done():
		return -1, fmt.Errorf("%s: %w", op, ctx.Err())
	}
	// The output ends when the process does; the engine may take a moment more to
	// record its exit code.
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		info, err := e.cli.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			return -1, wrap(op+": inspect", err)
		}
		if !info.Running {
			return info.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("%s: %w", op, ctx.Err())
		case <-time.After(wait):
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
