package localhost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

// ID, Kind and Spec of the localhost location.
const (
	ID   = "localhost"
	Kind = "localhost"
)

// Shell runs scripts.
const Shell = "/bin/sh"

// outputGrace is how long Exec keeps copying output after the shell exited (or
// was killed) while something it left in the background still holds the
// output pipes open. After it the pipes are closed and Exec returns.
const outputGrace = time.Second

// Host is the local machine. The zero value is not usable; call New.
type Host struct {
	hostname string
}

var (
	_ locations.Location = (*Host)(nil)
	_ locations.Executor = (*Host)(nil)
)

// New returns the localhost location.
func New() *Host {
	name, err := os.Hostname()
	if err != nil {
		name = "localhost"
	}
	return &Host{hostname: name}
}

func (h *Host) ID() string          { return ID }
func (h *Host) Kind() string        { return Kind }
func (h *Host) Spec() string        { return ID }
func (h *Host) DisplayName() string { return "localhost (" + h.hostname + ")" }

// Config shows the hostname, OS and architecture.
func (h *Host) Config() map[string]any {
	return map[string]any{
		"hostname": h.hostname,
		"os":       runtime.GOOS,
		"arch":     runtime.GOARCH,
		"shell":    Shell,
	}
}

// Exec runs cmd.Script with /bin/sh -c in a new process group, with cmd.Env
// merged over this process's environment, in cmd.Dir (created if missing).
// Output is streamed to cmd.Stdout and cmd.Stderr. When ctx is done the whole
// process group is killed with SIGKILL and Exec returns -1 and an error
// wrapping ctx.Err().
//
// Processes the script leaves running in the background survive it (like a
// daemon started with nohup); if they keep the output writers' pipes open,
// Exec stops copying their output one second after the shell exits.
func (h *Host) Exec(ctx context.Context, cmd locations.Command) (int, error) {
	if strings.TrimSpace(cmd.Script) == "" {
		return -1, fmt.Errorf("exec on localhost: empty script: %w", locations.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("exec on localhost: %w", err)
	}
	if cmd.Dir != "" {
		if err := os.MkdirAll(cmd.Dir, 0o755); err != nil {
			return -1, fmt.Errorf("exec on localhost: create dir: %w", err)
		}
	}

	c := exec.CommandContext(ctx, Shell, "-c", cmd.Script)
	c.Dir = cmd.Dir
	c.Env = MergeEnv(os.Environ(), cmd.Env)
	c.Stdout = cmd.Stdout
	c.Stderr = cmd.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		// The shell leads its own group (pgid == pid): kill all of it.
		err := syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	c.WaitDelay = outputGrace

	err := c.Run()
	if ctxErr := ctx.Err(); ctxErr != nil && c.ProcessState != nil && !c.ProcessState.Success() {
		return -1, fmt.Errorf("exec on localhost: %w", ctxErr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.Is(err, exec.ErrWaitDelay):
		// The shell succeeded; a background child held the output open.
		return c.ProcessState.ExitCode(), nil
	case errors.As(err, &exitErr):
		if code := exitErr.ExitCode(); code >= 0 {
			return code, nil
		}
		// Killed by a signal: report it the way a shell does, 128+signal.
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return -1, fmt.Errorf("exec on localhost: %w", err)
	default:
		return -1, fmt.Errorf("exec on localhost: %w", err)
	}
}

// MergeEnv returns base ("KEY=value" entries, as from os.Environ) with the
// entries of over set on top, sorted by key. Later duplicates in base win,
// as they do for exec.
func MergeEnv(base []string, over map[string]string) []string {
	m := make(map[string]string, len(base)+len(over))
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		m[k] = v
	}
	maps.Copy(m, over)
	keys := slices.Sorted(maps.Keys(m))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}
