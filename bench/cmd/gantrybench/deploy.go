package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
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
	gantryM      = "gantry"
	composeM     = "compose"      // the file as one writes it: its project network, no init
	composeSameM = "compose-same" // the same containers as Gantry's: default bridge, init
	floorM       = "floor"
)

// orders alternates the order of the methods from run to run (a balanced Latin square:
// each method is in each position once, and follows each other method once, in four
// runs), so that none is always first on a quiet engine or always after the same one.
var orders = [][]string{
	{gantryM, composeM, floorM, composeSameM},
	{composeM, composeSameM, gantryM, floorM},
	{composeSameM, floorM, composeM, gantryM},
	{floorM, gantryM, composeSameM, composeM},
}

type deployRun struct {
	Method  string        `json:"method"`
	N       int           `json:"n"`
	Run     int           `json:"run"`
	Order   int           `json:"order"` // 1..3: position in its run
	Elapsed time.Duration `json:"elapsed_ns"`
	// ServerCPU is the CPU time the Gantry server used from the POST to the end of the
	// start task (Gantry runs only).
	ServerCPU time.Duration `json:"server_cpu_ns,omitempty"`
	// CPUBusy is the share of the machine's CPUs that was busy (anything but idle and
	// iowait, whatever the process) while the clock ran.
	CPUBusy float64 `json:"cpu_busy"`
	Err     string  `json:"error,omitempty"`
}

type deployBench struct {
	cfg      *config
	docker   *dockerclient.Client
	workDir  string
	networks []string // made by compose, removed with the containers
	lastCPU  time.Duration
	stat0    cpuStat // /proc/stat when the clock started
	busy     float64 // share of all CPUs busy while the clock ran
}

// clockStart starts the clock of a run and notes how busy the machine's CPUs are.
func (b *deployBench) clockStart() time.Time {
	b.stat0 = readCPUStat()
	return time.Now()
}

// clockStop stops the clock and works out the share of the CPUs that was busy meanwhile.
func (b *deployBench) clockStop(start time.Time) time.Duration {
	d := time.Since(start)
	b.busy = readCPUStat().busySince(b.stat0)
	return d
}

// run deploys n containers each way, runs times, and returns every run.
func (b *deployBench) run(ctx context.Context, n int) ([]deployRun, error) {
	var out []deployRun
	for r := 0; r < b.cfg.runs; r++ {
		pos := -1
		for _, m := range orders[r%len(orders)] {
			if !slices.Contains(b.cfg.methods, m) {
				continue
			}
			pos++
			if err := b.cleanup(ctx); err != nil {
				return out, err
			}
			tag := fmt.Sprintf("%s-%d-%d", m, n, r+1)
			b.busy, b.lastCPU = 0, 0
			var d time.Duration
			var err error
			switch m {
			case gantryM:
				d, err = b.gantry(ctx, n, tag)
			case composeM:
				d, err = b.compose(ctx, n, tag, false)
			case composeSameM:
				d, err = b.compose(ctx, n, tag, true)
			case floorM:
				d, err = b.floor(ctx, n, tag)
			}
			if err == nil {
				err = b.verify(ctx, n, tag)
			}
			run := deployRun{Method: m, N: n, Run: r + 1, Order: pos + 1, Elapsed: d, CPUBusy: b.busy}
			if m == gantryM {
				run.ServerCPU = b.lastCPU
			}
			if err != nil {
				run.Err = err.Error()
				log.Printf("N=%d run %d %s: FAILED after %s: %v", n, r+1, m, d.Round(time.Millisecond), err)
			} else {
				log.Printf("N=%d run %d %s: %s%s", n, r+1, m, d.Round(time.Millisecond), cpuNote(run))
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

	cpu0, _ := g.cpuTime()
	start := b.clockStart()
	task, err := g.c.Deploy(ctx, blueprint)
	if err != nil {
		return time.Since(start), fmt.Errorf("deploy: %w", err)
	}
	done, err := g.c.WaitTask(ctx, task.ID)
	elapsed := b.clockStop(start)
	if cpu1, cerr := g.cpuTime(); cerr == nil {
		b.lastCPU = cpu1 - cpu0
	}
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
// As one writes such a file (same), the services get the project's network, which
// compose creates, and no init process. With same, they are the very containers Gantry
// and the floor make: on the default bridge network (network_mode: bridge), with an init
// process (init: true), so that all do the same work on the engine.
func (b *deployBench) compose(ctx context.Context, n int, tag string, same bool) (time.Duration, error) {
	dir := filepath.Join(b.workDir, "compose-"+tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	extra := ""
	if same {
		extra = "    network_mode: bridge\n    init: true\n"
	}
	var y strings.Builder
	y.WriteString("version: \"2.4\"\nservices:\n")
	for i := range n {
		fmt.Fprintf(&y, `  c%02d:
    image: %s
    command: ["sleep", "3600"]
    ports: ["80"]
%s    labels:
      %s: %q
      %s: %q
`, i, b.cfg.image, extra, labelBench, b.cfg.benchID, labelRun, tag)
	}
	file := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		return 0, err
	}
	project := "gbench" + strings.ReplaceAll(tag, "-", "")
	cmd := exec.CommandContext(ctx, b.cfg.compose, "-p", project, "-f", file, "--no-ansi", "up", "-d")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COMPOSE_INTERACTIVE_NO_CLI=1")
	start := b.clockStart()
	outb, err := cmd.CombinedOutput()
	elapsed := b.clockStop(start)
	if err != nil {
		return elapsed, fmt.Errorf("docker-compose up: %w\n%s", err, outb)
	}
	if !same {
		b.networks = append(b.networks, project+"_default")
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
	yes := true // Gantry runs an init process in its containers by default; so do the others
	conc := n
	if b.cfg.floorConc > 0 {
		conc = b.cfg.floorConc
	}
	sem := make(chan struct{}, conc)
	start := b.clockStart()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cfg := &container.Config{
				Image:        b.cfg.image,
				Cmd:          []string{"sleep", "3600"},
				Labels:       map[string]string{labelBench: b.cfg.benchID, labelRun: tag},
				ExposedPorts: nat.PortSet{"80/tcp": {}},
			}
			hc := &container.HostConfig{PortBindings: nat.PortMap{"80/tcp": {{HostPort: ""}}}, Init: &yes}
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
	elapsed := b.clockStop(start)
	return elapsed, errors.Join(errs...)
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
	if err := removeBenchContainers(ctx, b.docker); err != nil {
		return err
	}
	for _, nw := range b.networks {
		// The engine may still be tearing down the endpoints of the removed containers.
		for attempt := 1; ; attempt++ {
			err := b.docker.NetworkRemove(ctx, nw)
			if err == nil || cerrdefs.IsNotFound(err) {
				break
			}
			if attempt == 10 {
				// Docker 20.10 can leak a network's endpoint count when containers are
				// force-removed concurrently; then only a restart of dockerd removes it.
				log.Printf("warning: could not remove compose network %s (left behind): %v", nw, err)
				break
			}
			time.Sleep(time.Second)
		}
	}
	b.networks = nil
	return nil
}

// removeComposeNetworks removes the project networks an interrupted run of compose left.
func removeComposeNetworks(ctx context.Context, cli *dockerclient.Client) {
	list, err := cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "gbench"))})
	if err != nil {
		return
	}
	for _, nw := range list {
		if strings.HasPrefix(nw.Name, "gbench") && strings.HasSuffix(nw.Name, "_default") {
			_ = cli.NetworkRemove(ctx, nw.ID)
		}
	}
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

func cpuNote(r deployRun) string {
	note := fmt.Sprintf(" (CPUs %.0f%% busy", 100*r.CPUBusy)
	if r.ServerCPU > 0 {
		note += fmt.Sprintf(", server CPU %s", r.ServerCPU.Round(10*time.Millisecond))
	}
	return note + ")"
}

// cpuStat is the first line of /proc/stat: time spent by all CPUs, in ticks.
type cpuStat struct{ busy, total int64 }

func readCPUStat() cpuStat {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	var st cpuStat
	for i, f := range fields[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		if i >= 8 { // guest time is already counted in user time
			break
		}
		st.total += v
		if i != 3 && i != 4 { // idle, iowait
			st.busy += v
		}
	}
	return st
}

func (s cpuStat) busySince(before cpuStat) float64 {
	if s.total <= before.total {
		return 0
	}
	return float64(s.busy-before.busy) / float64(s.total-before.total)
}
