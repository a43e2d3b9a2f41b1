package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/api"
)

// The two ways of benchmark 3.
const (
	breachGantryM = "gantry" // metric breach -> the autoscaler's new member RUNNING
	breachPeerM   = "peer"   // one container start on the engine: create, start, inspect
)

// The breach benchmark's autoscaler: the metric is a per-member value; above the upper
// bound the pool grows, below the lower bound it shrinks (which resets it between runs).
const (
	breachMetric    = "bench.load"
	breachUpper     = 50.0
	breachLower     = 10.0
	breachStartSize = 1
	breachMaxPool   = 100
	breachLow       = 0.0 // pushed between runs: the pool shrinks back to minPoolSize
	breachCommand   = "sleep 3600"
	breachRunLabel  = "breach-gantry" // dev.gantry.bench.run of the cluster's members
)

// breachValue is the metric value that makes a pool of size members want exactly one
// more: ceil(size*value/upper) = size+1.
func breachValue(size int) float64 {
	return breachUpper * (float64(size) + 0.5) / float64(size)
}

type breachResult struct {
	Metric     string        `json:"metric"`
	Upper      float64       `json:"metric_upper_bound"`
	Lower      float64       `json:"metric_lower_bound"`
	Value      float64       `json:"breach_value"` // pushed to breach: one more member wanted
	StartSize  int           `json:"start_size"`
	MaxPool    int           `json:"max_pool_size"`
	Command    string        `json:"command"`
	Image      string        `json:"image"`
	RunsAsked  int           `json:"runs"`
	WarmUp     bool          `json:"warm_up"` // one untimed run of each way came first
	BreachPoll time.Duration `json:"poll_ns"`
	// UpDelay is the autoscaler's resizeUpStabilizationDelay: how long the metric must ask
	// for a bigger pool before it grows. The autoscaler evaluates on every metric event
	// (and on timers only to re-check when a window or minPeriodBetweenExecs ends), so
	// this is its evaluation period: the goal is UpDelay + one container start.
	UpDelay   time.Duration `json:"resize_up_stabilization_delay_ns"`
	MinPeriod time.Duration `json:"min_period_between_execs_ns"`
	Deploy    time.Duration `json:"deploy_ns"` // of the application, before the runs
	Runs      []breachRun   `json:"every_run"`
}

type breachRun struct {
	Way     string        `json:"way"`
	Run     int           `json:"run"`
	Order   int           `json:"order"`      // 1 or 2: position in its run
	Elapsed time.Duration `json:"elapsed_ns"` // gantry: POST -> RUNNING seen; peer: create -> running
	// Gantry only, from the server's task times (epoch milliseconds, so +-1 ms each):
	// when the resize task started, when the new member's container step started and
	// ended, and when the member's start step ended (it ends once the member is RUNNING).
	Decided        time.Duration `json:"decided_ns,omitempty"`         // POST -> resize task started
	ContainerBegan time.Duration `json:"container_began_ns,omitempty"` // POST -> create and start container step started
	ContainerRan   time.Duration `json:"container_ran_ns,omitempty"`   // POST -> that step ended (container running, inspected)
	MemberRunning  time.Duration `json:"member_running_ns,omitempty"`  // POST -> the member's start step ended
	SetSensor      time.Duration `json:"set_sensor_ns,omitempty"`      // the POST's round trip
	Member         string        `json:"member,omitempty"`
	ServerCPU      time.Duration `json:"server_cpu_ns,omitempty"`
	CPUBusy        float64       `json:"cpu_busy"`
	Err            string        `json:"error,omitempty"`
}

type breachBench struct {
	cfg     *config
	docker  *dockerclient.Client
	peer    *dockerclient.Client // API version negotiated before any clock starts
	workDir string
	g       *gantry
	app     string // application id
	pool    string // the cluster's id
	policy  string // the autoscaler's id
}

func (b *breachBench) logf(format string, args ...any) {
	log.Printf("breach: "+format, args...)
}

func (b *breachBench) blueprint() []byte {
	return fmt.Appendf(nil, `name: bench-breach
location: docker
services:
- type: cluster
  name: pool
  brooklyn.config:
    initialSize: %d
    memberSpec:
      $brooklyn:entitySpec:
        type: docker:%s
        name: member
        brooklyn.config:
          command: %s
          labels:
            %s: %q
            %s: %q
  brooklyn.policies:
  - type: autoscaler
    brooklyn.config:
      metric: %s
      metricUpperBound: %g
      metricLowerBound: %g
      minPoolSize: %d
      maxPoolSize: %d
      resizeUpStabilizationDelay: %s
      resizeDownStabilizationDelay: 0s
`, breachStartSize, b.cfg.image, breachCommand, labelBench, b.cfg.benchID, labelRun, breachRunLabel,
		breachMetric, breachUpper, breachLower, breachStartSize, breachMaxPool, b.cfg.breachDelay)
}

// run starts a fresh server, deploys the cluster, then times each way cfg.breachRuns
// times, alternating which goes first, after one untimed warm-up of each.
func (b *breachBench) run(ctx context.Context) (*breachResult, error) {
	res := &breachResult{
		Metric: breachMetric, Upper: breachUpper, Lower: breachLower, Value: breachValue(breachStartSize),
		StartSize: breachStartSize, MaxPool: breachMaxPool, Command: breachCommand, Image: b.cfg.image,
		RunsAsked: b.cfg.breachRuns, WarmUp: true, BreachPoll: b.cfg.breachPoll, UpDelay: b.cfg.breachDelay,
		MinPeriod: 100 * time.Millisecond, // the autoscaler's default, not set in the blueprint
	}
	if err := removeBenchContainers(ctx, b.docker); err != nil {
		return nil, err
	}
	peer, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	if _, err := peer.Ping(ctx); err != nil {
		return nil, err
	}
	b.peer = peer

	data := filepath.Join(b.workDir, "data-breach")
	os.RemoveAll(data)
	if !b.cfg.keepWork {
		defer os.RemoveAll(data)
	}
	g, err := startGantry(b.cfg.gantryBin, data, b.workDir, "server-breach", 4)
	if err != nil {
		return nil, err
	}
	b.g = g
	defer g.stop()
	if err := g.waitUp(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := b.deploy(ctx); err != nil {
		return nil, g.explain(err)
	}
	res.Deploy = time.Since(start)
	b.logf("cluster of %d deployed in %s; the autoscaler grows it when %s > %g (resizeUpStabilizationDelay %s)",
		breachStartSize, res.Deploy.Round(time.Millisecond), breachMetric, breachUpper, b.cfg.breachDelay)
	defer b.undeploy()

	for r := 0; r <= b.cfg.breachRuns; r++ { // r = 0 is the warm-up
		order := []string{breachGantryM, breachPeerM}
		if r%2 == 0 {
			order = []string{breachPeerM, breachGantryM}
		}
		for pos, way := range order {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			time.Sleep(time.Second) // let the engine finish tearing down what the last run removed
			var run breachRun
			var err error
			if way == breachGantryM {
				run, err = b.gantryRun(ctx, r)
			} else {
				run, err = b.peerRun(ctx, r)
			}
			run.Way, run.Run, run.Order = way, r, pos+1
			if err != nil {
				run.Err = err.Error()
			}
			what := fmt.Sprintf("run %d", r)
			if r == 0 {
				what = "warm-up"
			}
			switch {
			case err != nil:
				b.logf("%s %s: FAILED after %s: %v", what, way, run.Elapsed.Round(time.Millisecond), err)
			case way == breachGantryM:
				b.logf("%s %s: %s (decided %s, container %s..%s, member RUNNING %s; CPUs %.0f%% busy, server CPU %s)", what, way,
					msec(run.Elapsed), msec(run.Decided), msec(run.ContainerBegan), msec(run.ContainerRan), msec(run.MemberRunning),
					100*run.CPUBusy, run.ServerCPU.Round(10*time.Millisecond))
			default:
				b.logf("%s %s: %s (CPUs %.0f%% busy)", what, way, msec(run.Elapsed), 100*run.CPUBusy)
			}
			if r > 0 {
				res.Runs = append(res.Runs, run)
			}
			// Back to where the run started, not timed, whether it failed or not.
			if rerr := b.reset(ctx, way); rerr != nil {
				return res, fmt.Errorf("after %s %s: %w", what, way, g.explain(rerr))
			}
		}
	}
	return res, nil
}

func msec(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// deploy deploys the cluster and its autoscaler and waits until the application runs.
func (b *breachBench) deploy(ctx context.Context) error {
	task, err := b.g.c.Deploy(ctx, b.blueprint())
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	done, err := b.g.c.WaitTask(ctx, task.ID)
	if err != nil {
		return err
	}
	if done.IsError {
		return fmt.Errorf("start task failed: %v", done.Result)
	}
	b.app = task.EntityID
	app, err := b.g.c.Application(ctx, b.app)
	if err != nil {
		return err
	}
	if app.Status != api.StatusRunning {
		return fmt.Errorf("application is %s after its start task, want RUNNING", app.Status)
	}
	all, err := b.g.c.Descendants(ctx, b.app)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.Name == "pool" {
			b.pool = e.ID
		}
	}
	if b.pool == "" {
		return errors.New("no entity named pool in the application")
	}
	pols, err := b.g.c.Adjuncts(ctx, b.app, b.pool, "policy")
	if err != nil {
		return err
	}
	if len(pols) != 1 {
		return fmt.Errorf("the cluster has %d policies, want the autoscaler", len(pols))
	}
	b.policy = pols[0].ID
	_, err = b.waitPool(ctx, breachStartSize)
	return err
}

// undeploy deletes the application, so that the server removes its containers; what
// is left is removed by the driver's cleanup.
func (b *breachBench) undeploy() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	task, err := b.g.c.DeleteApplication(ctx, b.app)
	if err == nil {
		_, err = b.g.c.WaitTask(ctx, task.ID)
	}
	if err != nil {
		b.logf("delete the application: %v", err)
	}
}

// members returns the ids in the cluster's group.members.
func (b *breachBench) members(ctx context.Context) ([]string, error) {
	v, err := b.g.c.Sensor(ctx, b.app, b.pool, "group.members")
	if err != nil {
		return nil, err
	}
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out, nil
}

// waitPool waits until the cluster has n members, all RUNNING, no resize runs, and the
// engine has exactly n of its containers; it returns the members.
func (b *breachBench) waitPool(ctx context.Context, n int) ([]string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	var why string
	for {
		members, err := b.members(ctx)
		why = fmt.Sprint(err)
		if err == nil {
			why = b.poolNot(ctx, members, n)
			if why == "" {
				return members, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the pool did not settle at %d members within 2 minutes: %s", n, why)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// poolNot says why the pool is not n members, all RUNNING, with their n containers.
func (b *breachBench) poolNot(ctx context.Context, members []string, n int) string {
	if len(members) != n {
		return fmt.Sprintf("%d members", len(members))
	}
	if v, _ := b.g.c.Sensor(ctx, b.app, b.pool, "cluster.resizing"); v == true {
		return "resizing"
	}
	for _, m := range members {
		if st, err := b.g.c.Sensor(ctx, b.app, m, "service.state"); err != nil || st != "RUNNING" {
			return fmt.Sprintf("member %s is %v (%v)", m, st, err)
		}
	}
	list, err := b.docker.ContainerList(ctx, container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", labelRun+"="+breachRunLabel)),
	})
	if err != nil {
		return err.Error()
	}
	if len(list) != n {
		return fmt.Sprintf("%d containers", len(list))
	}
	return ""
}

// gantryRun pushes the metric over the bound and times from the POST until a new member
// of the cluster is RUNNING, polling every cfg.breachPoll.
func (b *breachBench) gantryRun(ctx context.Context, r int) (breachRun, error) {
	var run breachRun
	before, err := b.members(ctx)
	if err != nil {
		return run, err
	}
	if len(before) != breachStartSize {
		return run, fmt.Errorf("the pool has %d members before the run, want %d", len(before), breachStartSize)
	}
	cpu0, _ := b.g.cpuTime()
	stat0 := readCPUStat()
	t0 := time.Now()
	err = b.g.c.SetSensor(ctx, b.app, b.pool, breachMetric, breachValue(len(before)))
	run.SetSensor = time.Since(t0)
	if err != nil {
		return run, fmt.Errorf("set %s: %w", breachMetric, err)
	}
	var member string
	if b.cfg.breachPoll > 0 {
		member, err = b.waitNewMember(ctx, before, time.Minute)
	} else {
		member, err = b.waitResize(ctx, t0, before, time.Minute)
	}
	run.Elapsed = time.Since(t0)
	run.CPUBusy = readCPUStat().busySince(stat0)
	if cpu1, cerr := b.g.cpuTime(); cerr == nil {
		run.ServerCPU = cpu1 - cpu0
	}
	run.Member = member
	if err != nil {
		return run, err
	}
	// After the clock: the server's own times of the steps.
	if err := b.steps(ctx, t0, &run); err != nil {
		b.logf("run %d: no step times: %v", r, err)
	}
	after, err := b.members(ctx)
	if err != nil {
		return run, err
	}
	if len(after) != len(before)+1 {
		return run, fmt.Errorf("%d members after the breach, want %d", len(after), len(before)+1)
	}
	return run, nil
}

// waitResize finds the autoscaler's resize task (polling its activities every
// millisecond: it starts within a few), then long-polls it until it ends, which it does
// once the new member's start has ended, RUNNING. The server answers the long poll the
// moment the task ends, so the driver does not load the machine while the container
// starts. The clock has stopped when it returns; then it checks that a new member is
// there and RUNNING.
func (b *breachBench) waitResize(ctx context.Context, t0 time.Time, before []string, within time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	// The autoscaler waits the stabilization delay on purpose: the driver does too, rather
	// than load the machine with requests meanwhile; then it looks every millisecond for a
	// while, then every 10.
	time.Sleep(time.Until(t0.Add(b.cfg.breachDelay - 5*time.Millisecond)))
	var task *api.TaskSummary
	for i := 0; task == nil; i++ {
		acts, err := b.g.c.AdjunctActivities(ctx, b.app, b.pool, b.policy)
		if err != nil {
			return "", fmt.Errorf("no resize task: %w", err)
		}
		task = resizeAfter(acts, t0)
		if task == nil {
			time.Sleep(time.Millisecond + time.Duration(min(i/50, 1))*9*time.Millisecond)
		}
	}
	done, err := b.g.c.WaitTask(ctx, task.ID)
	if err != nil {
		return "", err
	}
	// After the clock: what the resize did.
	if done.IsError {
		return "", fmt.Errorf("the resize task failed: %v", done.Result)
	}
	after, err := b.members(ctx)
	if err != nil {
		return "", err
	}
	var member string
	for _, m := range after {
		if !slices.Contains(before, m) {
			member = m
		}
	}
	if member == "" {
		return "", fmt.Errorf("the resize task ended, and the pool has no new member: %v", after)
	}
	if st, err := b.g.c.Sensor(ctx, b.app, member, "service.state"); err != nil || st != "RUNNING" {
		return member, fmt.Errorf("the resize task ended, and the new member %s is %v (%v)", member, st, err)
	}
	return member, nil
}

// resizeAfter returns the first resize task of acts (an adjunct's activities, newest
// first) that started at or after t, nil when there is none.
func resizeAfter(acts []api.TaskSummary, t time.Time) *api.TaskSummary {
	var out *api.TaskSummary
	for i := range acts {
		if acts[i].StartTimeUTC >= t.UnixMilli() && slices.ContainsFunc(acts[i].Tags, func(t any) bool { return t == "effector:resize" }) {
			out = &acts[i]
		}
	}
	return out
}

// waitNewMember polls the cluster's members until one that is not in before appears,
// then its service.state until it is RUNNING, and returns its id.
func (b *breachBench) waitNewMember(ctx context.Context, before []string, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(b.cfg.breachPoll)
	defer tick.Stop()
	var member string
	for {
		if member == "" {
			ms, err := b.members(ctx)
			if err != nil {
				return "", err
			}
			for _, m := range ms {
				if !slices.Contains(before, m) {
					member = m
				}
			}
		}
		if member != "" {
			st, err := b.g.c.Sensor(ctx, b.app, member, "service.state")
			if err != nil {
				return member, err
			}
			switch st {
			case "RUNNING":
				return member, nil
			case "ON_FIRE":
				return member, fmt.Errorf("new member %s is ON_FIRE", member)
			}
		}
		if time.Now().After(deadline) {
			return member, fmt.Errorf("no new RUNNING member within %s (new member: %q)", within, member)
		}
		select {
		case <-ctx.Done():
			return member, ctx.Err()
		case <-tick.C:
		}
	}
}

// steps reads, from the autoscaler's resize task, when the server decided, made the
// container and had the member RUNNING.
func (b *breachBench) steps(ctx context.Context, t0 time.Time, run *breachRun) error {
	acts, err := b.g.c.AdjunctActivities(ctx, b.app, b.pool, b.policy)
	if err != nil {
		return err
	}
	resize := resizeAfter(acts, t0)
	if resize == nil {
		return errors.New("no resize task of the autoscaler after the POST")
	}
	since := func(t int64) time.Duration {
		return time.UnixMilli(t).Sub(t0.Truncate(time.Millisecond))
	}
	run.Decided = since(resize.StartTimeUTC)
	kids, err := b.g.c.ActivityChildren(ctx, resize.ID)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if k.EntityID != run.Member || !strings.HasPrefix(k.DisplayName, "Starting ") {
			continue
		}
		if k.EndTimeUTC > 0 {
			run.MemberRunning = since(k.EndTimeUTC)
		}
		steps, err := b.g.c.ActivityChildren(ctx, k.ID)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if strings.HasPrefix(s.DisplayName, "Create and start container") {
				run.ContainerBegan = since(s.StartTimeUTC)
				if s.EndTimeUTC > 0 {
					run.ContainerRan = since(s.EndTimeUTC)
				}
			}
		}
	}
	if run.ContainerBegan == 0 {
		return fmt.Errorf("no container step of %s under resize task %s", run.Member, resize.ID)
	}
	return nil
}

// peerRun times one container start on the same engine: create, start and inspect
// (again until it runs) the container Gantry makes for a member: same image, command
// (a string, so /bin/sh -c), init process and no ports.
func (b *breachBench) peerRun(ctx context.Context, r int) (breachRun, error) {
	var run breachRun
	yes := true
	tag := fmt.Sprintf("breach-peer-%d", r)
	cfg := &container.Config{
		Image:  b.cfg.image,
		Cmd:    []string{"/bin/sh", "-c", breachCommand},
		Labels: map[string]string{labelBench: b.cfg.benchID, labelRun: tag},
	}
	hc := &container.HostConfig{Init: &yes}
	name := fmt.Sprintf("gbench-%s-%s", b.cfg.benchID, tag)
	stat0 := readCPUStat()
	t0 := time.Now()
	created, err := b.peer.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if err != nil {
		return run, fmt.Errorf("create %s: %w", name, err)
	}
	err = b.peer.ContainerStart(ctx, created.ID, container.StartOptions{})
	for err == nil {
		var info container.InspectResponse
		info, err = b.peer.ContainerInspect(ctx, created.ID)
		if err == nil && info.State != nil && info.State.Running {
			break
		}
		if err == nil && info.State != nil && info.State.Status != container.StateCreated {
			err = fmt.Errorf("%s is %s", name, info.State.Status)
		}
	}
	run.Elapsed = time.Since(t0)
	run.CPUBusy = readCPUStat().busySince(stat0)
	return run, err
}

// reset brings the engine and the pool back to where a run starts, not timed: the peer's
// container removed; the metric pushed below the lower bound, so that the autoscaler
// shrinks the pool back to its start size.
func (b *breachBench) reset(ctx context.Context, way string) error {
	if way == breachPeerM {
		list, err := b.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", labelBench))})
		if err != nil {
			return err
		}
		for _, c := range list {
			if strings.HasPrefix(c.Labels[labelRun], "breach-peer-") {
				if err := b.docker.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := b.g.c.SetSensor(ctx, b.app, b.pool, breachMetric, breachLow); err != nil {
		return err
	}
	_, err := b.waitPool(ctx, breachStartSize)
	return err
}

// breachSummary is what the report says of benchmark 3: medians of the runs that worked.
type breachSummary struct {
	gantry, peer, goal                      time.Duration
	decided, began, ran, running, setSensor time.Duration
	// own is Gantry's own part: breach -> RUNNING seen, minus its container step and the
	// stabilization delay.
	own time.Duration
	n   int
}

func summarizeBreach(br *breachResult) breachSummary {
	var s breachSummary
	pick := func(way string, f func(breachRun) time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range br.Runs {
			if r.Way == way && r.Err == "" {
				ds = append(ds, f(r))
			}
		}
		return median(ds)
	}
	s.gantry = pick(breachGantryM, func(r breachRun) time.Duration { return r.Elapsed })
	s.peer = pick(breachPeerM, func(r breachRun) time.Duration { return r.Elapsed })
	s.decided = pick(breachGantryM, func(r breachRun) time.Duration { return r.Decided })
	s.began = pick(breachGantryM, func(r breachRun) time.Duration { return r.ContainerBegan })
	s.ran = pick(breachGantryM, func(r breachRun) time.Duration { return r.ContainerRan })
	s.running = pick(breachGantryM, func(r breachRun) time.Duration { return r.MemberRunning })
	s.setSensor = pick(breachGantryM, func(r breachRun) time.Duration { return r.SetSensor })
	s.own = pick(breachGantryM, func(r breachRun) time.Duration { return r.Elapsed - r.containerStep() - br.UpDelay })
	s.goal = br.UpDelay + s.peer
	for _, r := range br.Runs {
		if r.Way == breachGantryM && r.Err == "" {
			s.n++
		}
	}
	return s
}

// within is the container step's own duration inside Gantry (its end minus its start).
func (r breachRun) containerStep() time.Duration {
	if r.ContainerRan == 0 {
		return 0
	}
	return r.ContainerRan - r.ContainerBegan
}
