package locations

import (
	"context"
	"io"
)

// Command is a shell script to run on a location.
type Command struct {
	// Script is run by the location's shell (/bin/sh -c on POSIX machines).
	Script string
	// Env is merged over the location's environment.
	Env map[string]string
	// Dir is the working directory; it is created if missing. Empty means the
	// location's default.
	Dir string
	// Stdout and Stderr receive the output as it is produced; nil discards it.
	Stdout, Stderr io.Writer
}

// Executor is implemented by locations that can run commands.
type Executor interface {
	// Exec runs cmd and returns its exit code. err is non-nil only when the
	// command could not be run or did not finish (for example ctx was cancelled,
	// in which case err wraps ctx.Err() and exitCode is -1); a command that ran
	// and failed returns its non-zero exitCode and a nil error.
	Exec(ctx context.Context, cmd Command) (exitCode int, err error)
}
