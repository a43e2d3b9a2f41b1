package locations

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Machine is one computer that runs commands: the localhost location, or a
// machine handed out by a MachinePool (an SSH host of a byon location).
type Machine interface {
	Executor
	// MachineID names the machine within its location, e.g. "deploy@10.0.0.5:22".
	MachineID() string
	// Address is the address others reach the machine at; entities publish it
	// as host.address.
	Address() string
	// Hostname is the machine's host name as the location knows it (for a
	// byon host, as written in the blueprint); entities publish it as host.name.
	Hostname() string
}

// MachinePool is implemented by locations that hand one machine to each entity
// that starts on them (byon: a fixed list of SSH hosts). The pool remembers
// which entity holds which machine, across server restarts, so that an entity
// rebinds to the machine it had.
type MachinePool interface {
	Location
	// Obtain returns the machine entityID holds, or else hands it a free one.
	// When every machine is held by another entity the error wraps
	// ErrNoCapacity and says who holds what.
	Obtain(ctx context.Context, entityID string) (Machine, error)
	// Release gives the machine entityID holds back to the pool. Releasing
	// when it holds none is not an error.
	Release(ctx context.Context, entityID string) error
	// Holding returns the machine entityID holds, without handing it one.
	Holding(entityID string) (Machine, bool)
}

// FileCopier is implemented by machines that can receive files.
type FileCopier interface {
	// CopyFile writes what r holds to path on the machine with permissions
	// mode (0 means 0644), creating the parent directories, and replaces any
	// file there only once everything was written.
	CopyFile(ctx context.Context, r io.Reader, path string, mode fs.FileMode) error
}

// CopyLocalFile copies the local file src to path on c, with mode, or with
// the local file's permissions when mode is 0.
func CopyLocalFile(ctx context.Context, c FileCopier, src, path string, mode fs.FileMode) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer f.Close()
	if mode == 0 {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if fi.IsDir() {
			return fmt.Errorf("copy %s: is a directory: %w", src, ErrInvalid)
		}
		mode = fi.Mode().Perm()
	}
	return c.CopyFile(ctx, f, path, mode)
}

// RunsCommands reports whether entities can run commands in loc: it is an
// Executor itself (localhost) or hands out machines (byon).
func RunsCommands(loc Location) bool {
	switch loc.(type) {
	case Executor, MachinePool:
		return true
	}
	return false
}

// ExecutorFor returns what runs the commands of entity entityID in loc: loc
// itself when it is an Executor (localhost), or else the machine the entity
// holds in loc when loc is a MachinePool, obtaining a free one when it holds
// none. The result is a Machine when the location knows the machine's address
// (test with a type assertion), and a FileCopier when it can receive files.
func ExecutorFor(ctx context.Context, loc Location, entityID string) (Executor, error) {
	switch l := loc.(type) {
	case MachinePool:
		m, err := l.Obtain(ctx, entityID)
		if err != nil {
			return nil, err
		}
		return m, nil
	case Executor:
		return l, nil
	case nil:
		return nil, fmt.Errorf("no location: %w", ErrInvalid)
	}
	return nil, fmt.Errorf("location %s is a %s location, which cannot run commands: %w", loc.ID(), loc.Kind(), ErrInvalid)
}

// ReleaseFor gives back the machine entityID holds in loc, when loc is a
// MachinePool; for other locations it does nothing.
func ReleaseFor(ctx context.Context, loc Location, entityID string) error {
	if p, ok := loc.(MachinePool); ok {
		return p.Release(ctx, entityID)
	}
	return nil
}
