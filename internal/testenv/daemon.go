package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startDaemon starts cmd in a process group of its own and waits until ready says it
// answers, at most within. It returns the process and a channel that receives once the
// process was waited for; when the daemon exits or does not answer in time it is an error
// naming it, and nothing is left running.
func startDaemon(name string, cmd *exec.Cmd, within, poll time.Duration, ready func() bool) (*os.Process, chan error, error) {
	// Processes the daemon starts may inherit its output and outlive it: do not wait for
	// them to close it once the daemon itself has exited.
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(within)
	for {
		if ready() {
			return cmd.Process, exited, nil
		}
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("%s exited: %v", name, err)
		case <-time.After(poll):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return nil, nil, errors.New(name + " does not answer within " + within.String())
		}
	}
}

// findDaemon returns the path of a server binary: $env when it is set, else the first of
// paths that exists, else name on PATH. When there is none it returns "" and the places
// it looked.
func findDaemon(env, name string, paths []string) (string, []string) {
	if p := os.Getenv(env); p != "" {
		paths = []string{p}
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	if os.Getenv(env) == "" {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", paths
}
