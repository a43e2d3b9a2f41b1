package docker

import (
	"context"
)

// Info is what an engine says about itself and its machine.
type Info struct {
	// ID identifies the engine (two endpoints with the same ID reach one engine).
	ID   string
	Name string // the machine's host name
	// ServerVersion is the engine's version, APIVersion the API version in use.
	ServerVersion, APIVersion string
	// CPUs and Memory (bytes) are the machine's, as the engine sees them.
	CPUs   int
	Memory int64
	// Containers counts every container of the engine, ContainersRunning the running ones.
	Containers, ContainersRunning int
	// OS and KernelVersion describe the machine.
	OS, KernelVersion string
}

// Info asks the engine about itself, in one round trip: it also tells whether the
// engine answers (the error wraps locations.ErrUnavailable when it does not).
func (e *Engine) Info(ctx context.Context) (Info, error) {
	i, err := e.cli.Info(ctx)
	if err != nil {
		return Info{}, wrap("info of engine "+e.id, err)
	}
	return Info{
		ID: i.ID, Name: i.Name, ServerVersion: i.ServerVersion, APIVersion: e.cli.ClientVersion(),
		CPUs: i.NCPU, Memory: i.MemTotal, Containers: i.Containers, ContainersRunning: i.ContainersRunning,
		OS: i.OperatingSystem, KernelVersion: i.KernelVersion,
	}, nil
}
