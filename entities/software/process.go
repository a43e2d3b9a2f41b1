package software

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// TypeName is Brooklyn's name for the kind.
const TypeName = "org.apache.brooklyn.entity.software.base.VanillaSoftwareProcess"

const (
	indicator = "process"
	feedName  = "checkRunning"
)

// phases run in this order on start; each is skipped when its command is empty.
var phases = []struct{ key, title string }{
	{"install.command", "install"},
	{"customize.command", "customize"},
	{"launch.command", "launch"},
}

func init() {
	entities.Register(&entities.Type{
		Name:        TypeName,
		Aliases:     []string{"vanilla-software-process", "VanillaSoftwareProcess"},
		Description: "A process set up and run by shell commands on a machine",
		Config: append([]entities.ConfigKey{
			{Name: "install.command", Type: "string", Description: "Run first, once per start"},
			{Name: "customize.command", Type: "string", Description: "Run after install"},
			{Name: "launch.command", Type: "string", Description: "Starts the process (background it, e.g. with nohup ... &)"},
			{Name: "checkRunning.command", Type: "string", Description: "Exit 0 while the process runs; polled every checkRunning.period. Without it, the process whose pid launch.command wrote to $PID_FILE is checked; without that either, the process is up once launch succeeds"},
			{Name: "checkRunning.period", Type: "duration", Default: "5s", Description: "How often checkRunning.command runs"},
			{Name: "stop.command", Type: "string", Description: "Stops the process (default: the process in $PID_FILE gets SIGTERM, then SIGKILL after 10s)"},
			{Name: "shell.env", Aliases: []string{"env"}, Type: "stringmap", Description: "Environment of every command"},
			{Name: "run.dir", Type: "string", Description: "Working directory of the commands (default: a directory of the entity's under the system's temporary directory)"},
			{Name: "start.timeout", Type: "duration", Default: "2m", Description: "How long checkRunning may fail after launch before start fails"},
		}, conventionKeys...),
		Sensors:  machineSensors(),
		Location: runsCommands, // localhost, or a byon pool's machine (machine.go)
		Start:    start,
		Stop:     stop,
		Rebind:   rebind,
		Destroy:  destroy,
		Exec:     execHook,
	})
}

// machineSensors are the sensors of the kinds that run commands on a machine.
func machineSensors() []entities.SensorType {
	return append(append([]entities.SensorType{
		{Name: "run.dir", Type: "java.lang.String", Description: "Where the commands run"},
	}, conventionSensors...), hostSensors...)
}

func executor(e *entities.Entity) (locations.Executor, error) {
	return machineExecutor(context.Background(), e) // machine.go
}

func runDir(e *entities.Entity) string {
	if d := e.ConfigString("run.dir"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "gantry-processes", e.Application().ID(), e.ID())
}

func env(e *entities.Entity) map[string]string {
	out := conventionEnv(e) // RUN_DIR, INSTALL_DIR, PID_FILE and the ports chosen
	if v, ok := e.Config("shell.env"); ok {
		m, _ := v.(map[string]any)
		for k, x := range m {
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

// run runs one command of the entity as a subtask, its output and environment captured.
func run(ctx context.Context, e *entities.Entity, x locations.Executor, title, script string) error {
	return entities.Step(ctx, title, func(ctx context.Context) error {
		t := entities.TaskFrom(ctx)
		vars := env(e)
		cmd := locations.Command{Script: script, Env: vars, Dir: runDir(e)}
		if t != nil {
			t.SetEnv(vars)
			cmd.Stdout, cmd.Stderr = t.Stdout(), t.Stderr()
		}
		code, err := x.Exec(ctx, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		if code != 0 {
			return fmt.Errorf("%s exited with code %d (see its stderr)", title, code)
		}
		return nil
	})
}

// startMachine begins the start of a kind that runs commands on a machine: it publishes
// the run directory and the host, and runs setUp (the phases too if withPhases); the
// entity is left not up ("starting").
func startMachine(ctx context.Context, e *entities.Entity, withPhases bool) (locations.Executor, error) {
	x, err := executor(e)
	if err != nil {
		return nil, err
	}
	e.SetAttribute("run.dir", runDir(e))
	publishHost(e, x)
	e.SetProblem(indicator, "")
	e.SetNotUp(indicator, "starting")
	if err := setUp(ctx, e, x, withPhases); err != nil {
		return nil, err
	}
	return x, nil
}

func start(ctx context.Context, e *entities.Entity) error {
	x, err := startMachine(ctx, e, true)
	if err != nil {
		return err
	}
	check := checkCommand(ctx, e, x)
	if check == "" {
		e.SetNotUp(indicator, "")
		return nil
	}
	timeout := e.ConfigDuration("start.timeout", 2*time.Minute)
	err = entities.Step(ctx, "wait for checkRunning", func(ctx context.Context) error {
		deadline := time.Now().Add(timeout)
		for {
			code, err := x.Exec(ctx, locations.Command{Script: check, Env: env(e), Dir: runDir(e)})
			if err == nil && code == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("checkRunning still fails (exit code %d) %s after launch", code, timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	if err != nil {
		return err
	}
	e.SetNotUp(indicator, "")
	poll(e, x, check)
	return nil
}

// poll runs checkRunning every period while the entity runs: a failure while it is
// expected to run puts it on fire; a later success brings it back.
func poll(e *entities.Entity, x locations.Executor, check string) {
	e.Management().StartFeed(e, feedName, e.ConfigDuration("checkRunning.period", 5*time.Second), func(ctx context.Context) {
		code, err := x.Exec(ctx, locations.Command{Script: check, Env: env(e), Dir: runDir(e)})
		if ctx.Err() != nil {
			return
		}
		if err == nil && code == 0 {
			e.SetNotUp(indicator, "")
			e.SetProblem(indicator, "")
			return
		}
		msg := fmt.Sprintf("checkRunning exited with code %d", code)
		if err != nil {
			msg = "checkRunning could not run: " + err.Error()
		}
		e.SetNotUp(indicator, msg)
		if e.Expected() == entities.Running {
			e.SetProblem(indicator, msg)
		}
	})
}

func stop(ctx context.Context, e *entities.Entity) error {
	e.SetProblem(indicator, "")
	script := stopCommand(e)
	if script == "" {
		e.SetNotUp(indicator, "stopped")
		return nil
	}
	x, err := executor(e)
	if err != nil {
		return err
	}
	err = run(ctx, e, x, "stop", script)
	e.SetNotUp(indicator, "stopped")
	return err
}

// rebind resumes polling of a process that was running: nothing is re-run.
func rebind(ctx context.Context, e *entities.Entity) error {
	if e.Expected() != entities.Running {
		return nil
	}
	x, err := executor(e)
	if err != nil {
		return err
	}
	if check := checkCommand(ctx, e, x); check != "" {
		poll(e, x, check)
	}
	return nil
}

func destroy(ctx context.Context, e *entities.Entity) error {
	if p, ok := inPool(e); ok {
		return destroyOnMachine(ctx, e, p) // machine.go
	}
	if e.ConfigString("run.dir") != "" {
		return nil // the user's directory: leave it
	}
	dir := runDir(e)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	os.Remove(filepath.Dir(dir)) // the application's directory, once it is empty
	return nil
}
