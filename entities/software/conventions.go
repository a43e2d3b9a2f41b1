package software

import (
	"context"
	"fmt"
	"maps"
	"path"
	"strings"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Brooklyn's software-process conventions, as its users rely on them: every command
// runs in $RUN_DIR with $RUN_DIR, $INSTALL_DIR and $PID_FILE in its environment;
// download.url is fetched and unpacked into $INSTALL_DIR; files.install and
// files.runtime are copied; port ranges are resolved to free ports and published; and
// without checkRunning.command or stop.command the process whose pid launch.command
// wrote to $PID_FILE is checked and stopped.

// pidFileName is Brooklyn's name of the pid file in the run directory.
const pidFileName = "pid.txt"

// conventionKeys are declared by VanillaSoftwareProcess and EmptySoftwareProcess.
var conventionKeys = []entities.ConfigKey{
	{Name: "install.dir", Type: "string", Description: "Where the software is installed, $INSTALL_DIR (default: install in the run directory)"},
	{Name: "download.url", Type: "string", Description: "An archive (tar.gz, tgz, tar.bz2, tar.xz, tar, zip) or a file, fetched by the server and unpacked into $INSTALL_DIR before the install commands"},
	{Name: "files.install", Type: "stringmap", Description: "Files copied before the install commands: source (an http(s) URL, or a path on the server) -> destination (relative to $INSTALL_DIR)"},
	{Name: "files.runtime", Type: "stringmap", Description: "Files copied before the launch commands: source -> destination (relative to $RUN_DIR)"},
	{Name: "skip.install", Type: "boolean", Description: "Skip download.url, files.install and the install commands"},
	{Name: "pre.install.command", Type: "string", Description: "Run before install.command"},
	{Name: "post.install.command", Type: "string", Description: "Run after install.command"},
	{Name: "pre.customize.command", Type: "string", Description: "Run before customize.command"},
	{Name: "post.customize.command", Type: "string", Description: "Run after customize.command"},
	{Name: "pre.launch.command", Type: "string", Description: "Run before launch.command"},
	{Name: "post.launch.command", Type: "string", Description: "Run after launch.command"},
}

// conventionSensors are published by both kinds.
var conventionSensors = []entities.SensorType{
	{Name: "install.dir", Type: "java.lang.String", Description: "Where the software is installed"},
	{Name: sensors.PID, Type: "java.lang.Integer", Description: "The pid launch.command wrote to $PID_FILE"},
	{Name: "<name>.port", Type: "java.lang.Integer", Description: "The port chosen for a port config key or parameter (a range such as 8000+ gives the first free port)"},
}

// installDir is install.dir, or "install" in the run directory.
func installDir(e *entities.Entity) string {
	if d := e.ConfigString("install.dir"); d != "" {
		return d
	}
	return path.Join(runDir(e), "install")
}

func pidFile(e *entities.Entity) string { return path.Join(runDir(e), pidFileName) }

// conventionEnv is the environment every command of the entity gets before its
// shell.env: the directories, the pid file, and the ports chosen (http.port as
// HTTP_PORT).
func conventionEnv(e *entities.Entity) map[string]string {
	out := map[string]string{
		"RUN_DIR":     runDir(e),
		"INSTALL_DIR": installDir(e),
		"PID_FILE":    pidFile(e),
	}
	for _, k := range portKeys(e) {
		if v, ok := e.Attribute(k); ok {
			if p, ok := v.(int); ok {
				out[envName(k)] = fmt.Sprint(p)
			}
		}
	}
	return out
}

// envName turns a config key into an environment variable name: http.port -> HTTP_PORT.
func envName(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, key)
}

// setUp does what start does before checking the process: ports, directories,
// download, files and the commands of each phase, each as a subtask. With main false
// (EmptySoftwareProcess) only the pre. and post. commands run.
func setUp(ctx context.Context, e *entities.Entity, x locations.Executor, main bool) error {
	if err := choosePorts(ctx, e, x); err != nil {
		return err
	}
	e.SetAttribute("install.dir", installDir(e))
	if code, err := x.Exec(ctx, locations.Command{Script: `mkdir -p "$INSTALL_DIR"`, Env: env(e), Dir: runDir(e)}); err != nil || code != 0 {
		return fmt.Errorf("create %s: exit code %d: %v", installDir(e), code, err)
	}
	skip, _ := e.Config("skip.install")
	commands := func(phase string) error {
		keys := []string{"pre." + phase + ".command", phase + ".command", "post." + phase + ".command"}
		if !main {
			keys = []string{keys[0], keys[2]}
		}
		for _, k := range keys {
			if script := e.ConfigString(k); script != "" {
				if err := run(ctx, e, x, strings.TrimSuffix(k, ".command"), script); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if skip != true {
		if err := download(ctx, e, x); err != nil {
			return err
		}
		if err := copyFiles(ctx, e, x, "files.install", installDir(e)); err != nil {
			return err
		}
		if err := commands("install"); err != nil {
			return err
		}
	}
	if err := commands("customize"); err != nil {
		return err
	}
	if err := copyFiles(ctx, e, x, "files.runtime", runDir(e)); err != nil {
		return err
	}
	e.SetAttribute(sensors.PID, nil)
	if err := commands("launch"); err != nil {
		return err
	}
	publishPID(ctx, e, x)
	return nil
}

// publishPID sets the pid sensor from $PID_FILE, when launch wrote one.
func publishPID(ctx context.Context, e *entities.Entity, x locations.Executor) {
	var out strings.Builder
	code, err := x.Exec(ctx, locations.Command{Script: `cat "$PID_FILE" 2>/dev/null`, Env: env(e), Dir: runDir(e), Stdout: &out})
	if err != nil || code != 0 {
		return
	}
	var pid int
	if _, err := fmt.Sscan(out.String(), &pid); err == nil && pid > 0 {
		e.SetAttribute(sensors.PID, pid)
	}
}

// pidCheck is Brooklyn's default checkRunning: the process in $PID_FILE is alive.
const pidCheck = `[ -s "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null`

// pidStop is Brooklyn's default stop: SIGTERM to the process in $PID_FILE, SIGKILL
// when it is still there ten seconds later.
const pidStop = `if [ -s "$PID_FILE" ]; then
  pid=$(cat "$PID_FILE")
  if kill -0 "$pid" 2>/dev/null; then
    echo "stopping pid $pid"
    kill "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    if kill -0 "$pid" 2>/dev/null; then echo "pid $pid still runs: killing it"; kill -9 "$pid"; fi
  fi
  rm -f "$PID_FILE"
fi`

// checkCommand is checkRunning.command or, when launch.command wrote $PID_FILE,
// Brooklyn's default check of that process. It is "" when there is nothing to check:
// the process is then up once launch succeeds, and not watched.
func checkCommand(ctx context.Context, e *entities.Entity, x locations.Executor) string {
	if c := e.ConfigString("checkRunning.command"); c != "" {
		return c
	}
	if e.ConfigString("launch.command") == "" {
		return ""
	}
	code, err := x.Exec(ctx, locations.Command{Script: `[ -s "$PID_FILE" ]`, Env: env(e), Dir: runDir(e)})
	if err != nil || code != 0 {
		entities.Logf(ctx, "launch.command wrote no $PID_FILE (%s) and there is no checkRunning.command: the process is not watched", pidFile(e))
		return ""
	}
	return pidCheck
}

// stopCommand is stop.command or, for a launched process, Brooklyn's default stop by
// $PID_FILE.
func stopCommand(e *entities.Entity) string {
	if c := e.ConfigString("stop.command"); c != "" {
		return c
	}
	if e.ConfigString("launch.command") == "" {
		return ""
	}
	return pidStop
}

// execHook runs a command of an initializer (a command sensor or effector) on the
// process's machine, with the process's environment, in its run directory (or in
// cmd.Dir, relative to it).
func execHook(ctx context.Context, e *entities.Entity, cmd locations.Command) (int, error) {
	x, err := executor(e)
	if err != nil {
		return -1, err
	}
	vars := env(e)
	maps.Copy(vars, cmd.Env)
	cmd.Env = vars
	switch {
	case cmd.Dir == "":
		cmd.Dir = runDir(e)
	case !path.IsAbs(cmd.Dir):
		cmd.Dir = path.Join(runDir(e), cmd.Dir)
	}
	return x.Exec(ctx, cmd)
}
