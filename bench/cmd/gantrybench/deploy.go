package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/gantry-dev/gantry/api"
)

// Labels every container of the benchmark carries, whichever way it was created.
const (
	labelBench = "dev.gantry.bench"     // the id of this invocation of the benchmark
	labelRun   = "dev.gantry.bench.run" // method-N-run, to count one run's containers
)

const (
	gantryM  = "gantry"
	composeM = "compose"
	floorM   = "floor"
)

// orders alternates the order of the three methods from run to run, so that none is
// always first (on a cold engine) or last.
var orders = [][]string{
	{gantryM, composeM, floorM},
	{composeM, floorM, gantryM},
	{floorM, gantryM, composeM},
	{floorM, composeM, gantryM},
	{gantryM, floorM, composeM},
	{composeM, gantryM, floorM},
}

type deployRun struct {
	Method  string        `json:"method"`
	N       int           `json:"n"`
	Run     int           `json:"run"`
	Order   int           `json:"order"` // 1..3: position in its run
	Elapsed time.Duration `json:"elapsed_ns"`
	Err     string        `json:"error,omitempty"`
}

type deployBench struct {
	cfg     *config
	docker  *dockerclient.Client
	workDir string
}

// run deploys n containers each way, runs times, and returns every run.
func (b *deployBench) run(ctx context.Context, n int) ([]deployRun, error) {
	var out []deployRun
	for r := 0; r < b.cfg.runs; r++ {
		for pos, m := range orders[r%len(orders)] {
			if err := b.cleanup(ctx); err != nil {
				return out, err
			}
			tag := fmt.Sprintf("%s-%d-%d", m, n, r+1)
			var d time.Duration
			var err error
			switch m {
			case gantryM:
				d, err = b.gantry(ctx, n, tag)
			case composeM:
				d, err = b.compose(ctx, n, tag)
			case floorM:
				d, err = b.floor(ctx, n, tag)
			}
			if err == nil {
				err = b.verify(ctx, n, tag)
			}
			run := deployRun{Method: m, N: n, Run: r + 1, Order: pos + 1, Elapsed: d}
			if err != nil {
				run.Err = err.Error()
				log.Printf("N=%d run %d %s: FAILED after %s: %v", n, r+1, m, d.Round(time.Millisecond), err)
			} else {
				log.Printf("N=%d run %d %s: %s", n, r+1, m, d.Round(time.Millisecond))
			}
			out = append(out, run)
		}
	}
	return out, b.cleanup(ctx)
}

// gantry starts a fresh server (not timed), then times from the POST of a blueprint of n
// containers until its start task has ended.
func (b *deployBench) gantry(ctx context.Context, n int, tag string) (time.Duration, error) {
	data := filepath.Join(b.workDir, "data-"+tag)
	g, err := startGantry(b.cfg.gantryBin, data, b.workDir, "server-"+tag, 8)
	if err != nil {
		return 0, err
	}
	defer func() {
		g.stop()
		os.RemoveAll(data)
	}()
	if err := g.waitUp(ctx, 30*time.Second); err != nil {
		return 0, err
	}
	var y strings.Builder
	fmt.Fprintf(&y, "name: bench-%s\nlocation: docker\nservices:\n", tag)
	for i := range n {
		fmt.Fprintf(&y, `- type: docker:%s
  name: c%02d
  command: [sleep, "3600"]
  openPorts: [80]
  labels:
    %s: %q
    %s: %q
`, b.cfg.image, i, labelBench, b.cfg.benchID, labelRun, tag)
	}
	blueprint := []byte(y.String())

	start := time.Now()
	task, err := g.c.Deploy(ctx, blueprint)
	if err != nil {
		return time.Since(start), fmt.Errorf("deploy: %w", err)
	}
	done, err := g.c.WaitTask(ctx, task.ID)
	elapsed := time.Since(start)
	if err != nil {
		return elapsed, fmt.Errorf("wait for start task: %w", err)
	}
	if done.IsError {
		return elapsed, fmt.Errorf("start task failed: %v", done.Result)
	}
	app, err := g.c.Application(ctx, task.EntityID)
	if err != nil {
		return elapsed, err
	}
	if app.Status != api.StatusRunning {
		return elapsed, fmt.Errorf("application is %s after its start task, want RUNNING", app.Status)
	}
	return elapsed, nil
}

// compose times `docker-compose -p <project> up -d` of a generated file of n services.
// The services use the default bridge network (network_mode: bridge), as Gantry's
// containers and the floor's do, so that all three do the same work on the engine.
func (b *deployBench) compose(ctx context.Context, n int, tag string) (time.Duration, error) {
	dir := filepath.Join(b.workDir, "compose-"+tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var y strings.Builder
	y.WriteString("version: \"2.4\"\nservices:\n")
	for i := range n {
		fmt.Fprintf(&y, `  c%02d:
    image: %s
    command: ["sleep", "3600"]
    ports: ["80"]
    network_mode: bridge
    labels:
      %s: %q
      %s: %q
`, i, b.cfg.image, labelBench, b.cfg.benchID, labelRun, tag)
	}
	file := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		return 0, err
	}
	project := "gbench" + strings.ReplaceAll(tag, "-", "")
	cmd := exec.CommandContext(ctx, b.cfg.compose, "-p", project, "-f", file, "--no-ansi", "up", "-d")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COMPOSE_INTERACTIVE_NO_CLI=1")
	start := time.Now()
	outb, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		return elapsed, fmt.Errorf("docker-compose up: %w\n%s", err, outb)
	}
	return elapsed, nil
}

// floor is the engine's floor: a tight loop on the Docker API that creates, starts and
// inspects the n containers with n-way concurrency, as Gantry starts all children in
// parallel. The client has negotiated its API version before the clock starts, as
// Gantry's has when the server starts.
func (b *deployBench) floor(ctx context.Context, n int, tag string) (time.Duration, error) {
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cfg := &container.Config{
				Image:        b.cfg.image,
				Cmd:          []string{"sleep", "3600"},
				Labels:       map[string]string{labelBench: b.cfg.benchID, labelRun: tag},
				ExposedPorts: nat.PortSet{"80/tcp": {}},
			}
			hc := &container.HostConfig{PortBindings: nat.PortMap{"80/tcp": {{HostPort: ""}}}}
			name := fmt.Sprintf("gbench-%s-c%02d", tag, i)
			created, err := cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
			if err != nil {
				errs[i] = fmt.Errorf("create %s: %w", name, err)
				return
			}
			if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
				errs[i] = fmt.Errorf("start %s: %w", name, err)
				return
			}
			info, err := cli.ContainerInspect(ctx, created.ID)
			if err != nil {
				errs[i] = fmt.Errorf("inspect %s: %w", name, err)
				return
			}
			if info.State == nil || !info.State.Running {
				errs[i] = fmt.Errorf("%s is not running after start", name)
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

// verify checks, after the clock stopped, that the run left exactly n running containers.
func (b *deployBench) verify(ctx context.Context, n int, tag string) error {
	list, err := b.docker.ContainerList(ctx, container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", labelRun+"="+tag)),
	})
	if err != nil {
		return err
	}
	running := 0
	for _, c := range list {
		if c.State == container.StateRunning {
			running++
		}
	}
	if running != n || len(list) != n {
		return fmt.Errorf("%d containers, %d running, want %d running", len(list), running, n)
	}
	return nil
}

// cleanup removes every container that carries the benchmark's label (of this run or of
// an earlier, interrupted one) and waits until the engine lists none.
func (b *deployBench) cleanup(ctx context.Context) error {
	return removeBenchContainers(ctx, b.docker)
}

func removeBenchContainers(ctx context.Context, cli *dockerclient.Client) error {
	f := filters.NewArgs(filters.Arg("label", labelBench))
	for attempt := 0; ; attempt++ {
		list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			return fmt.Errorf("list benchmark containers: %w", err)
		}
		if len(list) == 0 {
			return nil
		}
		if attempt == 5 {
			return fmt.Errorf("%d benchmark containers are still there after 5 attempts to remove them", len(list))
		}
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for _, c := range list {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			})
		}
		wg.Wait()
		// Let the engine finish tearing down (network endpoints, port proxies) before
		// the next run starts its clock.
		time.Sleep(time.Second)
	}
}
