package testenv

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/locations"
)

// ExecCase is one row of an Executor's table test: a command and what it must give.
type ExecCase struct {
	Name       string
	Cmd        locations.Command
	WantCode   int
	WantStdout string
	WantStderr string
	WantErr    error
}

// CommonExecCases are the rows every locations.Executor passes, whatever its machine;
// dir is a directory of the test's (the machine must share this machine's disk).
func CommonExecCases(dir string) []ExecCase {
	return []ExecCase{
		{Name: "success", Cmd: locations.Command{Script: "echo hello"}, WantStdout: "hello\n"},
		{Name: "exit code", Cmd: locations.Command{Script: "echo out; echo err >&2; exit 3"}, WantCode: 3, WantStdout: "out\n", WantStderr: "err\n"},
		{Name: "false", Cmd: locations.Command{Script: "false"}, WantCode: 1},
		{Name: "command not found", Cmd: locations.Command{Script: "gantry-no-such-command-xyz 2>/dev/null"}, WantCode: 127},
		{Name: "killed by signal", Cmd: locations.Command{Script: "kill -TERM $$"}, WantCode: 128 + int(syscall.SIGTERM)},
		{Name: "multi-line script", Cmd: locations.Command{Script: "set -e\nA=1\nB=2\necho $((A+B))\n"}, WantStdout: "3\n"},
		{Name: "dir", Cmd: locations.Command{Script: "pwd", Dir: dir}, WantStdout: dir + "\n"},
		{
			Name:       "dir created if missing",
			Cmd:        locations.Command{Script: "pwd; touch made", Dir: filepath.Join(dir, "a", "b c")},
			WantStdout: filepath.Join(dir, "a", "b c") + "\n",
		},
		{Name: "empty script", Cmd: locations.Command{Script: "  "}, WantCode: -1, WantErr: locations.ErrInvalid},
	}
}

// RunExecCases runs each case on x as a subtest.
func RunExecCases(t *testing.T, x locations.Executor, cases []ExecCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := tt.Cmd
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code, err := x.Exec(t.Context(), cmd)
			if !errors.Is(err, tt.WantErr) || (err == nil) != (tt.WantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.WantErr)
			}
			if code != tt.WantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.WantCode, stderr.String())
			}
			if stdout.String() != tt.WantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.WantStdout)
			}
			if stderr.String() != tt.WantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.WantStderr)
			}
		})
	}
}

// lineWriter records writes as they come, to show output is streamed.
type lineWriter struct {
	mu    sync.Mutex
	lines []string
	first chan struct{}
	once  sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.lines = append(w.lines, string(p))
	w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

// ExecStreamsOutput checks that x passes output on while the command still runs.
func ExecStreamsOutput(t *testing.T, x locations.Executor) {
	t.Helper()
	w := &lineWriter{first: make(chan struct{})}
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan error, 1)
	go func() {
		// The script only finishes once the test has seen its first line.
		_, err := x.Exec(t.Context(), locations.Command{
			Script: `echo first; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo second`,
			Env:    map[string]string{"RELEASE": release},
			Stdout: w,
		})
		done <- err
	}()
	select {
	case <-w.first:
	case <-time.After(15 * time.Second):
		t.Fatal("no output streamed while the script runs")
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := strings.Join(w.lines, ""); got != "first\nsecond\n" {
		t.Fatalf("output = %q", got)
	}
}

// ExecCancelKillsProcessGroup checks that cancelling Exec ends the command with every
// process it started, and that Exec then answers -1 and context.Canceled.
func ExecCancelKillsProcessGroup(t *testing.T, x locations.Executor) {
	t.Helper()
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// A child and a grandchild that would outlive the shell unless the whole
		// group is killed; the shell waits on them.
		code, err := x.Exec(ctx, locations.Command{
			Script: "sleep 300 & echo $! >> pids\nsh -c 'sleep 300 & echo $! >> pids; wait' &\necho $! >> pids\nwait",
			Dir:    dir,
		})
		done <- result{code, err}
	}()
	var list []int
	deadline := time.Now().Add(10 * time.Second)
	for len(list) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		list = ReadPids(pids)
	}
	if len(list) < 3 {
		t.Fatalf("script did not start its children: pids %v", list)
	}
	for _, pid := range list {
		if !Alive(pid) {
			t.Fatalf("child %d not running before cancel", pid)
		}
	}
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Exec did not return after cancel")
	}
	if r.code != -1 || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Exec after cancel = %d, %v; want -1, context.Canceled", r.code, r.err)
	}
	for _, pid := range list {
		deadline := time.Now().Add(5 * time.Second)
		for Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if Alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("child %d survived the cancellation", pid)
		}
	}
}

// ExecBackgroundChildHoldingOutput checks that a background process that keeps stdout
// open does not hold Exec, and survives the command's normal exit.
func ExecBackgroundChildHoldingOutput(t *testing.T, x locations.Executor) {
	t.Helper()
	dir := t.TempDir()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		code, err := x.Exec(t.Context(), locations.Command{
			Script: "sleep 300 & echo $! > pid; echo launched", Dir: dir, Stdout: &out,
		})
		if err == nil && code != 0 {
			err = errors.New("exit code " + strconv.Itoa(code))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Exec blocked on a background child holding stdout")
	}
	if out.String() != "launched\n" {
		t.Errorf("stdout = %q", out.String())
	}
	for _, pid := range ReadPids(filepath.Join(dir, "pid")) {
		if !Alive(pid) {
			t.Errorf("background child %d was killed; it should survive a normal exit", pid)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// ReadPids reads the process ids written one per line (or space) to path; none when the
// file is missing.
func ReadPids(path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3, after "pid (comm)", is the state.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
