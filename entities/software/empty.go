package software

import (
	"context"

	"github.com/gantry-dev/gantry/entities"
)

// EmptyTypeName is Brooklyn's name for a bare machine.
const EmptyTypeName = "org.apache.brooklyn.entity.software.base.EmptySoftwareProcess"

func init() {
	entities.Register(&entities.Type{
		Name:        EmptyTypeName,
		Aliases:     []string{"server", "empty-software-process", "EmptySoftwareProcess"},
		Description: "A bare machine: nothing is installed or launched; files, downloads and the pre. and post. commands run, and initializers' commands run there",
		Config: append([]entities.ConfigKey{
			{Name: "shell.env", Aliases: []string{"env"}, Type: "stringmap", Description: "Environment of every command"},
			{Name: "run.dir", Type: "string", Description: "Working directory of the commands (default: a directory of the entity's under the system's temporary directory)"},
		}, conventionKeys...),
		Sensors:  machineSensors(),
		Location: runsCommands, // localhost, or a byon pool's machine (machine.go)
		Start:    startEmpty,
		Stop:     stopEmpty,
		Destroy:  destroy,
		Exec:     execHook,
	})
}

// startEmpty runs what an EmptySoftwareProcess has: ports, files, download and the
// pre. and post. commands; the machine is then up.
func startEmpty(ctx context.Context, e *entities.Entity) error {
	if _, err := startMachine(ctx, e, false); err != nil {
		return err
	}
	e.SetNotUp(indicator, "")
	return nil
}

func stopEmpty(_ context.Context, e *entities.Entity) error {
	e.SetProblem(indicator, "")
	e.SetNotUp(indicator, "stopped")
	return nil
}
