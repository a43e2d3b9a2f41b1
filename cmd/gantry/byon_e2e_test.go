package main_test

// End-to-end: examples/byon-process.yaml on a byon location of two "machines",
// two OpenSSH servers on loopback ports, driven through the real binary.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestByonProcessOnSSHMachines(t *testing.T) {
	key := testenv.NewSSHKey(t, "gantry-e2e")
	m1 := testenv.StartSSHD(t, testenv.SSHDOptions{Name: "m1", Authorized: []testenv.SSHKey{key}})
	m2 := testenv.StartSSHD(t, testenv.SSHDOptions{Name: "m2", Authorized: []testenv.SSHKey{key}})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	example := string(readExample(t, "byon-process.yaml"))
	for _, s := range []string{"127.0.0.1:2222", "127.0.0.1:2223", "~/.ssh/id_ed25519", "name: byon-process-example"} {
		if strings.Count(example, s) != 1 {
			t.Fatalf("examples/byon-process.yaml no longer holds %q once; update this test", s)
		}
	}
	blueprint := func(name string) []byte {
		return []byte(strings.NewReplacer(
			"127.0.0.1:2222", m1.Addr, "127.0.0.1:2223", m2.Addr,
			"~/.ssh/id_ed25519", key.File, "name: byon-process-example", "name: "+name,
		).Replace(example))
	}
	// Whatever happens, the tickers the test started stop with it.
	var runDirs []string
	t.Cleanup(func() {
		for _, d := range runDirs {
			if b, err := os.ReadFile(filepath.Join(d, "pid.txt")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	})

	s := startServer(t, "")
	start := time.Now()
	app1 := deploy(t, ctx, s, blueprint("byon-1"))
	t.Logf("first deploy RUNNING after %s", time.Since(start))
	app2 := deploy(t, ctx, s, blueprint("byon-2"))

	// Each application's ticker holds one machine, and runs there.
	for _, c := range []struct {
		app string
		srv *testenv.SSHD
	}{{app1, m1}, {app2, m2}} {
		if got := sensor(t, ctx, s, c.app, "ticker", "service.state"); got != "RUNNING" {
			t.Fatalf("%s ticker: service.state %v", c.app, got)
		}
		if got := sensor(t, ctx, s, c.app, "ticker", "host.sshAddress"); got != c.srv.User+"@"+c.srv.Addr {
			t.Fatalf("%s ticker: host.sshAddress %v, want %s@%s", c.app, got, c.srv.User, c.srv.Addr)
		}
		if got := sensor(t, ctx, s, c.app, "ticker", "host.address"); got != "127.0.0.1" {
			t.Errorf("%s ticker: host.address %v", c.app, got)
		}
		runDir := sensor(t, ctx, s, c.app, "ticker", "run.dir").(string)
		runDirs = append(runDirs, runDir)
		// install ran through that sshd: its output names the server's port.
		out := taskOutput(t, ctx, s, c.app, "ticker", "install")
		if want := "via ssh to " + strconv.Itoa(c.srv.Port) + ","; !strings.Contains(out, want) {
			t.Errorf("%s install output %q lacks %q", c.app, out, want)
		}
		// launch started the ticker there (the "machines" share this disk).
		waitFor(t, 10*time.Second, "ticks written", func() bool {
			_, err := os.Stat(filepath.Join(runDir, "ticks"))
			return err == nil
		})
	}

	// A third deployment finds no machine free, and says so.
	app3, msg := deployFailing(t, ctx, s, blueprint("byon-3"))
	for _, want := range []string{"no machine free", "all 2 are in use", m1.Addr, m2.Addr} {
		if !strings.Contains(msg, want) {
			t.Errorf("third deploy's error lacks %q:\n%s", want, msg)
		}
	}
	deleteApp(t, ctx, s, app3)

	// The location is listed, with who holds what; host keys were trusted on first use.
	locs, err := s.c.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var byon *api.LocationSummary
	for i := range locs {
		if strings.HasPrefix(locs[i].ID, "byon-") {
			byon = &locs[i]
		}
	}
	if byon == nil {
		t.Fatalf("no byon location in %+v", locs)
	}
	known, _ := os.ReadFile(filepath.Join(s.data, "known_hosts"))
	for _, srv := range []*testenv.SSHD{m1, m2} {
		if !strings.Contains(string(known), "[127.0.0.1]:"+strconv.Itoa(srv.Port)+" ssh-ed25519 ") {
			t.Errorf("known_hosts lacks %s:\n%s", srv.Addr, known)
		}
	}

	// kill -9 the server and start it on the same data: the location is made again,
	// each ticker keeps its machine and is still watched there.
	time.Sleep(1200 * time.Millisecond) // the write-behind reaches the store within 1s
	s.kill()
	s2 := startServer(t, s.data)
	for _, c := range []struct {
		app string
		srv *testenv.SSHD
	}{{app1, m1}, {app2, m2}} {
		if got := sensor(t, ctx, s2, c.app, "ticker", "service.state"); got != "RUNNING" {
			t.Errorf("after restart %s ticker: service.state %v", c.app, got)
		}
		if got := sensor(t, ctx, s2, c.app, "ticker", "host.sshAddress"); got != c.srv.User+"@"+c.srv.Addr {
			t.Errorf("after restart %s ticker: host.sshAddress %v", c.app, got)
		}
	}
	app3, msg = deployFailing(t, ctx, s2, blueprint("byon-3b"))
	if !strings.Contains(msg, "no machine free") {
		t.Errorf("after restart the machines were free again: %s", msg)
	}
	deleteApp(t, ctx, s2, app3)
	// checkRunning is polled on the machine: kill the ticker of app1 -> ON_FIRE.
	pid1 := readPid(t, filepath.Join(runDirs[0], "pid.txt"))
	syscall.Kill(pid1, syscall.SIGKILL)
	took := waitFor(t, 15*time.Second, "app1 ticker on fire", func() bool {
		return sensor(t, ctx, s2, app1, "ticker", "service.state") == "ON_FIRE"
	})
	t.Logf("a killed process on a byon machine seen ON_FIRE after %s", took)
	if _, _, err := s2.c.InvokeEffector(ctx, app1, "ticker", "restart", nil, ""); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := sensor(t, ctx, s2, app1, "ticker", "service.state"); got != "RUNNING" {
		t.Fatalf("after restart effector: %v", got)
	}

	// m2 is re-installed: a new host key. Commands there are refused, clearly.
	m2.Restart(true)
	_, task, err := s2.c.InvokeEffector(ctx, app2, "ticker", "stop", nil, "")
	detail := fmt.Sprint(err)
	if task != nil {
		if done, werr := s2.c.WaitTask(ctx, task.ID); werr == nil {
			detail += fmt.Sprint(done.Result) + done.DetailedStatus
		}
	}
	t.Logf("stop on a machine whose host key changed: %s", detail)
	for _, want := range []string{"host key of " + m2.Addr + " changed", "ssh-keygen -R '[127.0.0.1]:" + strconv.Itoa(m2.Port) + "'"} {
		if !strings.Contains(detail, want) {
			t.Errorf("stop on a machine with a changed key: error lacks %q:\n%s", want, detail)
		}
	}

	// Deleting app1 stops its ticker on m1 and gives m1 back: a new deployment gets it.
	pid1 = readPid(t, filepath.Join(runDirs[0], "pid.txt"))
	deleteApp(t, ctx, s2, app1)
	waitFor(t, 5*time.Second, "app1 ticker stopped", func() bool { return !testenv.Alive(pid1) })
	app4 := deploy(t, ctx, s2, blueprint("byon-4"))
	if got := sensor(t, ctx, s2, app4, "ticker", "host.sshAddress"); got != m1.User+"@"+m1.Addr {
		t.Errorf("new deployment got %v, want the released %s", got, m1.Addr)
	}
	runDirs = append(runDirs, sensor(t, ctx, s2, app4, "ticker", "run.dir").(string))
	deleteApp(t, ctx, s2, app4)
	if _, err := os.Stat(runDirs[len(runDirs)-1]); !os.IsNotExist(err) {
		t.Errorf("run dir of a deleted entity left on the machine: %v", err)
	}
}

// deployFailing deploys a blueprint whose start must fail; it returns the application
// and the error the task tree tells.
func deployFailing(t *testing.T, ctx context.Context, s *server, blueprint []byte) (string, string) {
	t.Helper()
	task, err := s.c.Deploy(ctx, blueprint)
	if err != nil {
		return "", err.Error()
	}
	done, err := s.c.WaitTask(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !done.IsError {
		t.Fatalf("deploy succeeded; it should have failed")
	}
	return task.EntityID, fmt.Sprint(done.Result) + "\n" + done.DetailedStatus
}

func deleteApp(t *testing.T, ctx context.Context, s *server, app string) {
	t.Helper()
	task, err := s.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s.c.WaitTask(ctx, task.ID); err != nil || done.IsError {
		t.Fatalf("delete %s: %+v %v", app, done, err)
	}
}

// taskOutput is the stdout of the entity's task (or subtask) named name.
func taskOutput(t *testing.T, ctx context.Context, s *server, app, entity, name string) string {
	t.Helper()
	acts, err := s.c.Activities(ctx, app, entity)
	if err != nil {
		t.Fatal(err)
	}
	var walk func([]api.TaskSummary) string
	walk = func(tasks []api.TaskSummary) string {
		for _, task := range tasks {
			if task.DisplayName == name {
				out, err := s.c.Stream(ctx, task.ID, "stdout")
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			kids, err := s.c.ActivityChildren(ctx, task.ID)
			if err == nil {
				if out := walk(kids); out != "" {
					return out
				}
			}
		}
		return ""
	}
	return walk(acts)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
