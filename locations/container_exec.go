package locations

import "context"

// ContainerExecutor is implemented by container hosts that can run a command inside a
// running container, as `docker exec` does.
type ContainerExecutor interface {
	// ExecContainer runs cmd.Script with /bin/sh -c in the container with that id or
	// name, with cmd.Env added to the container's environment, in cmd.Dir (the
	// container's working directory when empty; it is not created), and returns its
	// exit code. Errors follow Executor.Exec; a missing or stopped container is an
	// error wrapping ErrNotFound or ErrInvalid.
	ExecContainer(ctx context.Context, id string, cmd Command) (exitCode int, err error)
}
