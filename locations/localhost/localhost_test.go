package localhost_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
)

func TestLocation(t *testing.T) {
	var l locations.Location = localhost.New()
	if l.ID() != "localhost" || l.Kind() != "localhost" || l.Spec() != "localhost" {
		t.Fatalf("ID/Kind/Spec = %q/%q/%q", l.ID(), l.Kind(), l.Spec())
	}
	if _, ok := l.(locations.Executor); !ok {
		t.Fatal("localhost is not an Executor")
	}
	if l.Config()["hostname"] == "" {
		t.Fatalf("Config = %v", l.Config())
	}
}

func TestExec(t *testing.T) {
	t.Setenv("GANTRY_TEST_INHERITED", "from-parent")
	t.Setenv("GANTRY_TEST_OVERRIDDEN", "parent")
	tmp := t.TempDir()
	tests := []struct {
		name       string
		cmd        locations.Command
		wantCode   int
		wantStdout string
		wantStderr string
		wantErr    error
	}{
		{name: "success", cmd: locations.Command{Script: "echo hello"}, wantStdout: "hello\n"},
		{name: "exit code", cmd: locations.Command{Script: "echo out; echo err >&2; exit 3"}, wantCode: 3, wantStdout: "out\n", wantStderr: "err\n"},
		{name: "false", cmd: locations.Command{Script: "false"}, wantCode: 1},
		{name: "command not found", cmd: locations.Command{Script: "gantry-no-such-command-xyz 2>/dev/null"}, wantCode: 127},
		{name: "killed by signal", cmd: locations.Command{Script: "kill -TERM $$"}, wantCode: 128 + int(syscall.SIGTERM)},
		{name: "multi-line script", cmd: locations.Command{Script: "set -e\nA=1\nB=2\necho $((A+B))\n"}, wantStdout: "3\n"},
		{
			name: "env merged over environment",
			cmd: locations.Command{
				Script: `echo "$GANTRY_TEST_INHERITED $GANTRY_TEST_OVERRIDDEN $GANTRY_TEST_NEW"`,
				Env:    map[string]string{"GANTRY_TEST_OVERRIDDEN": "child", "GANTRY_TEST_NEW": "with space"},
			},
			wantStdout: "from-parent child with space\n",
		},
		{name: "dir", cmd: locations.Command{Script: "pwd", Dir: tmp}, wantStdout: tmp + "\n"},
		{
			name:       "dir created if missing",
			cmd:        locations.Command{Script: "pwd; touch made", Dir: filepath.Join(tmp, "a", "b")},
			wantStdout: filepath.Join(tmp, "a", "b") + "\n",
		},
		{name: "empty script", cmd: locations.Command{Script: "  "}, wantCode: -1, wantErr: locations.ErrInvalid},
	}
	h := localhost.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := tt.cmd
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code, err := h.Exec(t.Context(), cmd)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "a", "b", "made")); err != nil {
		t.Errorf("script did not run in the created dir: %v", err)
	}
}

func TestExecNilWriters(t *testing.T) {
	code, err := localhost.New().Exec(t.Context(), locations.Command{Script: "echo discarded; echo discarded >&2"})
	if code != 0 || err != nil {
		t.Fatalf("Exec = %d, %v", code, err)
	}
}

// lineWriter records when each write arrives, to show output is streamed.
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

func TestExecStreamsOutput(t *testing.T) {
	w := &lineWriter{first: make(chan struct{})}
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan error, 1)
	go func() {
		// The script only finishes once the test has seen its first line.
		_, err := localhost.New().Exec(t.Context(), locations.Command{
			Script: `echo first; while [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo second`,
			Env:    map[string]string{"RELEASE": release},
			Stdout: w,
		})
		done <- err
	}()
	select {
	case <-w.first:
	case <-time.After(10 * time.Second):
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

func TestExecCancelKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	var out bytes.Buffer
	go func() {
		// A child and a grandchild that would outlive the shell unless the whole
		// group is killed; the shell waits on them.
		code, err := localhost.New().Exec(ctx, locations.Command{
			Script: `sleep 300 & echo $! >> pids
sh -c 'sleep 300 & echo $! >> pids; wait' &
echo $! >> pids
echo started
wait`,
			Dir:    dir,
			Stdout: &out,
		})
		done <- result{code, err}
	}()

	var pidList []int
	deadline := time.Now().Add(10 * time.Second)
	for len(pidList) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		pidList = readPids(t, pids)
	}
	if len(pidList) < 3 {
		t.Fatalf("script did not start its children: pids %v", pidList)
	}
	for _, pid := range pidList {
		if !alive(pid) {
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
	for _, pid := range pidList {
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("child %d survived the cancellation", pid)
		}
	}
}

func TestExecCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code, err := localhost.New().Exec(ctx, locations.Command{Script: "echo never"})
	if code != -1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %d, %v", code, err)
	}
}

// A background process that keeps stdout open must not hold Exec forever.
func TestExecBackgroundChildHoldingOutput(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		code, err := localhost.New().Exec(t.Context(), locations.Command{
			Script: "sleep 300 & echo $! > pid; echo launched",
			Dir:    dir,
			Stdout: &out,
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
	for _, pid := range readPids(t, filepath.Join(dir, "pid")) {
		if !alive(pid) {
			t.Errorf("background child %d was killed; it should survive a normal exit", pid)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name string
		base []string
		over map[string]string
		want []string
	}{
		{name: "empty", want: []string{}},
		{name: "base only sorted", base: []string{"B=2", "A=1"}, want: []string{"A=1", "B=2"}},
		{name: "override", base: []string{"A=1", "B=2"}, over: map[string]string{"A": "x", "C": "3"}, want: []string{"A=x", "B=2", "C=3"}},
		{name: "value with equals", base: []string{"A=b=c"}, want: []string{"A=b=c"}},
		{name: "later duplicate wins", base: []string{"A=1", "A=2"}, want: []string{"A=2"}},
		{name: "malformed dropped", base: []string{"novalue", "=x", "A="}, want: []string{"A="}},
		{name: "empty value set", over: map[string]string{"A": ""}, want: []string{"A="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := localhost.MergeEnv(tt.base, tt.over); !slices.Equal(got, tt.want) {
				t.Fatalf("MergeEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

func readPids(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("bad pid %q in %s", f, path)
		}
		out = append(out, pid)
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Field 3, after "pid (comm)", is the state.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
