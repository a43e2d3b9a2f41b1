package software

import (
	"context"
	"fmt"
	"path"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// hostSensors are published once the entity has its machine.
var hostSensors = []entities.SensorType{
	{Name: "host.address", Type: "java.lang.String", Description: "Address of the machine the process runs on"},
	{Name: "host.name", Type: "java.lang.String", Description: "Host name of the machine the process runs on"},
	{Name: "host.sshAddress", Type: "java.lang.String", Description: "user@host:port of an SSH machine"},
}

// runsCommands is the Location check of the kinds of this package: a location
// that runs commands itself (localhost) or hands out machines that do (byon).
func runsCommands(l locations.Location) error {
	if !locations.RunsCommands(l) {
		return fmt.Errorf("it is a %s location, which cannot run commands", l.Kind())
	}
	return nil
}

// machineExecutor returns what runs the entity's commands: its location when
// that is an Executor, else the machine it holds in its location's pool
// (obtained on first use, kept across restarts until destroy releases it).
func machineExecutor(ctx context.Context, e *entities.Entity) (locations.Executor, error) {
	l, err := entities.LocationOf[locations.Location](e, "a location")
	if err != nil {
		return nil, err
	}
	return locations.ExecutorFor(ctx, l, e.ID())
}

// publishHost sets the host.* sensors of the machine x, when it is one.
func publishHost(e *entities.Entity, x locations.Executor) {
	m, ok := x.(locations.Machine)
	if !ok {
		return
	}
	e.SetAttribute("host.address", m.Address())
	e.SetAttribute("host.name", m.Hostname())
	if s, ok := m.(interface{ SSHAddress() string }); ok {
		e.SetAttribute("host.sshAddress", s.SSHAddress())
	}
}

// inPool reports whether the entity's location hands out machines.
func inPool(e *entities.Entity) (locations.MachinePool, bool) {
	p, err := entities.LocationOf[locations.MachinePool](e, "a pool of machines")
	return p, err == nil
}

// destroyOnMachine removes the entity's run directory on its pool machine
// (unless run.dir was given), as destroy does on localhost, then gives the
// machine back to the pool. An unreachable machine is still given back: its
// directory stays.
func destroyOnMachine(ctx context.Context, e *entities.Entity, p locations.MachinePool) error {
	if e.ConfigString("run.dir") == "" {
		if m, ok := p.Holding(e.ID()); ok {
			dir := runDir(e)
			code, err := m.Exec(ctx, locations.Command{
				Script: `rm -rf -- "$GANTRY_RUN_DIR" && rmdir -- "$GANTRY_APP_DIR" 2>/dev/null; exit 0`,
				Env:    map[string]string{"GANTRY_RUN_DIR": dir, "GANTRY_APP_DIR": path.Dir(dir)},
			})
			if err != nil || code != 0 {
				e.Management().Logger().Warn("could not remove the run directory on the machine", "entity", e.ID(),
					"machine", m.MachineID(), "dir", dir, "code", code, "err", err)
			}
		}
	}
	return p.Release(ctx, e.ID())
}
