package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/api"
)

type scaleResult struct {
	Apps            int             `json:"apps"`
	ChildrenPerApp  int             `json:"children_per_app"`
	Entities        int             `json:"entities"` // including the applications
	ConfigPerEntity int             `json:"config_per_entity"`
	SensorsPerEnt   int             `json:"sensors_per_entity"`
	DeployTime      time.Duration   `json:"deploy_ns"`
	SensorTime      time.Duration   `json:"sensor_ns"`
	SensorCalls     int             `json:"sensor_calls"`
	SensorsVia      string          `json:"sensors_via"` // rest or blueprint
	SettleTime      time.Duration   `json:"settle_ns"`
	RSS             int64           `json:"rss_bytes"`
	HWM             int64           `json:"hwm_bytes"`
	RSSSamples      []int64         `json:"rss_samples"`
	ServerCPU       time.Duration   `json:"server_cpu_ns"` // CPU used by the server during setup
	StoreBytes      int64           `json:"store_bytes"`
	StoreAllocated  int64           `json:"store_allocated_bytes"`
	Restarts        []restartResult `json:"restarts"`
	RSSAfterRestart int64           `json:"rss_after_restart_bytes"`
	Settled         memStatus       `json:"settled"`
	Restarted       memStatus       `json:"restarted"`
	Store           *storeStats     `json:"store,omitempty"`
	Linger          []memStatus     `json:"linger,omitempty"` // every 5 s after settling, with -linger
}

type restartResult struct {
	Up    time.Duration `json:"up_ns"`    // exec -> /v1/server/up answers
	Ready time.Duration `json:"ready_ns"` // exec -> 1000 apps listed and sample sensors back
}

// entityRef names an entity of an application, by ids; key names it in sensor values.
type entityRef struct{ app, id, key string }

// entityKey is what the sensor values of child c of application a are made of.
func entityKey(a, c int) string { return fmt.Sprintf("a%04de%02d", a, c) }

type scaleBench struct {
	cfg     *config
	workDir string
	via     string // rest or blueprint: how the sensors are set
}

func sensorName(i int) string { return fmt.Sprintf("bench.sensor.%02d", i) }
func configKey(i int) string  { return fmt.Sprintf("bench.config.%02d", i) }

// sensorValue is the value of sensor i of the entity of key e: strings, integers,
// floats and booleans in turn, so that the model holds a realistic mix.
func sensorValue(i int, e string) any {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("sensor %02d of %s: some observed text", i, e)
	case 1:
		return float64(1000*i + int(e[len(e)-1]-'0'))
	case 2:
		return float64(i) + 0.25
	default:
		return i%8 == 3
	}
}

func (s *scaleBench) blueprint(app int) []byte {
	var y strings.Builder
	fmt.Fprintf(&y, "name: scale-%04d\nservices:\n", app)
	for c := range s.cfg.children {
		fmt.Fprintf(&y, "- type: basic-entity\n  name: e%02d\n  brooklyn.config:\n", c)
		for k := range s.cfg.configKeys {
			fmt.Fprintf(&y, "    %s: \"config value %02d of app %04d entity %02d\"\n", configKey(k), k, app, c)
		}
		if s.via == "blueprint" {
			y.WriteString("  brooklyn.initializers:\n")
			for i := range s.cfg.sensors {
				v, _ := json.Marshal(sensorValue(i, entityKey(app, c)))
				fmt.Fprintf(&y, "  - type: static-sensor\n    brooklyn.config:\n      name: %s\n      static.value: %s\n      targetType: %s\n",
					sensorName(i), v, sensorTarget(i))
			}
		}
	}
	return []byte(y.String())
}

func (s *scaleBench) run(ctx context.Context) (*scaleResult, error) {
	res := &scaleResult{
		Apps: s.cfg.apps, ChildrenPerApp: s.cfg.children, Entities: s.cfg.apps * (s.cfg.children + 1),
		ConfigPerEntity: s.cfg.configKeys, SensorsPerEnt: s.cfg.sensors, SensorsVia: s.via,
	}
	data := filepath.Join(s.workDir, "data-scale-"+s.via)
	os.RemoveAll(data)
	if !s.cfg.keepWork {
		defer os.RemoveAll(data)
	}
	const workers = 16
	g, err := startGantry(s.cfg.gantryBin, data, s.workDir, "server-scale-"+s.via, workers)
	if err != nil {
		return nil, err
	}
	defer func() { g.kill9() }()
	if err := g.waitUp(ctx, 30*time.Second); err != nil {
		return nil, err
	}

	// Deploy the applications, a bounded number at a time.
	s.logf("deploying %d applications of %d basic-entity children", s.cfg.apps, s.cfg.children)
	children := make([][]entityRef, s.cfg.apps)
	start := time.Now()
	err = pool(ctx, s.cfg.apps, 8, func(ctx context.Context, i int) error {
		task, err := g.c.Deploy(ctx, s.blueprint(i))
		if err != nil {
			return fmt.Errorf("deploy app %d: %w", i, g.explain(err))
		}
		done, err := g.c.WaitTask(ctx, task.ID)
		if err != nil {
			return g.explain(err)
		}
		if done.IsError {
			return fmt.Errorf("start of app %d failed: %v", i, done.Result)
		}
		kids, err := g.c.Entities(ctx, task.EntityID)
		if err != nil {
			return err
		}
		for _, k := range kids {
			var c int
			if _, err := fmt.Sscanf(k.Name, "e%d", &c); err != nil {
				return fmt.Errorf("app %d: child named %q, want eNN", i, k.Name)
			}
			children[i] = append(children[i], entityRef{app: task.EntityID, id: k.ID, key: entityKey(i, c)})
		}
		if len(kids) != s.cfg.children {
			return fmt.Errorf("app %d has %d children, want %d", i, len(kids), s.cfg.children)
		}
		return nil
	})
	res.DeployTime = time.Since(start)
	if err != nil {
		return nil, err
	}
	s.logf("deployed in %s", res.DeployTime.Round(time.Millisecond))

	// Set the sensors through the REST API: one POST per sensor, from a bounded pool
	// (unless static-sensor initializers of the blueprints did it).
	var all []entityRef
	for _, cs := range children {
		all = append(all, cs...)
	}
	calls := len(all) * s.cfg.sensors
	if s.via == "blueprint" {
		calls = 0
	}
	var doneCalls atomic.Int64
	start = time.Now()
	// Sensor k of every entity, then sensor k+1 of every entity...: concurrent writers
	// touch different entities, and each entity changes every so often, as it would
	// under feeds.
	err = pool(ctx, calls, workers, func(ctx context.Context, i int) error {
		e, k := all[i%len(all)], i/len(all)
		if err := g.c.SetSensor(ctx, e.app, e.id, sensorName(k), sensorValue(k, e.key)); err != nil {
			return g.explain(err)
		}
		if n := doneCalls.Add(1); n%50000 == 0 {
			s.logf("%d/%d sensors set", n, calls)
		}
		return nil
	})
	res.SensorTime, res.SensorCalls = time.Since(start), calls
	if err != nil {
		return nil, err
	}
	if calls > 0 {
		s.logf("%d sensors set in %s (%.0f/s)", calls, res.SensorTime.Round(time.Millisecond), float64(calls)/res.SensorTime.Seconds())
	}
	g.hc.CloseIdleConnections()
	if cpu, err := g.cpuTime(); err == nil {
		res.ServerCPU = cpu
	}

	// Settle: wait until the server has been idle (under 2% of a core) for 3 seconds,
	// then sample its memory for a few more.
	start = time.Now()
	idle := 0
	last, _ := g.cpuTime()
	for idle < 3 && time.Since(start) < 60*time.Second {
		time.Sleep(time.Second)
		now, _ := g.cpuTime()
		if now-last < 20*time.Millisecond {
			idle++
		} else {
			idle = 0
		}
		last = now
	}
	for range 5 {
		m, err := procMemory(g.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		res.RSSSamples = append(res.RSSSamples, m.RSS)
		res.RSS, res.HWM, res.Settled = m.RSS, m.HWM, m
		time.Sleep(time.Second)
	}
	res.SettleTime = time.Since(start)
	s.saveProfile(ctx, "heap-settled")
	for t := 5 * time.Second; t <= s.cfg.linger; t += 5 * time.Second {
		time.Sleep(5 * time.Second)
		if m, err := procMemory(g.cmd.Process.Pid); err == nil {
			res.Linger = append(res.Linger, m)
			s.logf("%s later: VmRSS %s (anon %s, file %s)", t, mib(m.RSS), mib(m.RSSAnon), mib(m.RSSFile))
		}
	}
	if s.cfg.linger > 0 {
		s.saveProfile(ctx, "heap-lingered")
	}
	s.logf("settled after %s: VmRSS %s, VmHWM %s", res.SettleTime.Round(time.Second), mib(res.RSS), mib(res.HWM))

	// Check what a restart must bring back, while the first server still runs.
	samples := []entityRef{all[0], all[len(all)/2], all[len(all)-1]}
	if err := checkSensors(ctx, g, samples[0], s.cfg.sensors); err != nil {
		return nil, fmt.Errorf("before restart: %w", err)
	}

	g.kill9()
	if fi, err := os.Stat(filepath.Join(data, "gantry.db")); err == nil {
		res.StoreBytes = fi.Size()
		res.StoreAllocated = allocated(fi)
	}
	s.logf("killed with -9; store %s (%s on disk)", mib(res.StoreBytes), mib(res.StoreAllocated))
	if st, err := readStoreStats(filepath.Join(data, "gantry.db")); err != nil {
		s.logf("store statistics: %v", err)
	} else {
		res.Store = st
		s.logf("store holds %d entity records (%s) and %d task records (%s) in %d of its %d pages",
			st.Entities, mib(st.EntityBytes), st.Tasks, mib(st.TaskBytes), st.DataPages, st.Pages)
	}

	// Restart on the same data, kill -9, again: time from exec until everything is served.
	for r := range s.cfg.restarts {
		rr, g2, err := s.restart(ctx, data, r, samples)
		if err != nil {
			if g2 != nil {
				g2.kill9()
			}
			return nil, err
		}
		res.Restarts = append(res.Restarts, rr)
		s.logf("restart %d: up after %s, all served after %s", r+1, rr.Up.Round(time.Millisecond), rr.Ready.Round(time.Millisecond))
		if r == 0 {
			time.Sleep(5 * time.Second)
			if m, err := procMemory(g2.cmd.Process.Pid); err == nil {
				res.RSSAfterRestart, res.Restarted = m.RSS, m
			}
			s.saveProfile(ctx, "heap-restarted")
		}
		g2.kill9()
	}
	return res, nil
}

// restart execs the server on data and polls, every 5ms, until it lists every application
// and the sample entities have their sensors back.
func (s *scaleBench) restart(ctx context.Context, data string, r int, samples []entityRef) (restartResult, *gantry, error) {
	var rr restartResult
	g, err := startGantry(s.cfg.gantryBin, data, s.workDir, fmt.Sprintf("server-scale-%s-restart-%d", s.via, r+1), 4)
	if err != nil {
		return rr, nil, err
	}
	if err := g.waitUp(ctx, 60*time.Second); err != nil {
		return rr, g, err
	}
	rr.Up = time.Since(g.started)
	deadline := time.Now().Add(60 * time.Second)
	for {
		apps, err := g.c.Applications(ctx)
		if err == nil && len(apps) == s.cfg.apps && allRunning(apps) {
			ok := true
			for _, smp := range samples {
				if checkSensors(ctx, g, smp, s.cfg.sensors) != nil {
					ok = false
					break
				}
			}
			if ok {
				rr.Ready = time.Since(g.started)
				return rr, g, nil
			}
		}
		if time.Now().After(deadline) {
			n := -1
			if apps != nil {
				n = len(apps)
			}
			return rr, g, fmt.Errorf("restart %d: not everything served within 60s (%d applications listed, last error %v)", r+1, n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allRunning(apps []api.ApplicationSummary) bool {
	for _, a := range apps {
		if a.Status != api.StatusRunning {
			return false
		}
	}
	return true
}

func checkSensors(ctx context.Context, g *gantry, e entityRef, n int) error {
	vals, err := g.c.SensorValues(ctx, e.app, e.id)
	if err != nil {
		return err
	}
	for i := range n {
		want := sensorValue(i, e.key)
		if got, ok := vals[sensorName(i)]; !ok || got != want {
			return fmt.Errorf("entity %s: sensor %s = %v, want %v", e.id, sensorName(i), got, want)
		}
	}
	return nil
}

// sensorTarget is the targetType of a static sensor holding sensorValue(i, ...).
func sensorTarget(i int) string {
	return [...]string{"String", "Integer", "Double", "Boolean"}[i%4]
}

// pool runs fn(0..n-1) on workers goroutines and returns the first error (the rest of
// the work is abandoned).
func pool(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(slices.Clip(errs[:1])...)
	}
	return ctx.Err()
}

// saveProfile keeps a heap profile of the server (after a GC) in the work directory,
// when the server is gantryprof (-pprof).
func (s *scaleBench) saveProfile(ctx context.Context, name string) {
	if s.cfg.pprof == "" {
		return
	}
	path := filepath.Join(s.workDir, name+"-"+s.via+".pb.gz")
	if err := fetchTo(ctx, "http://"+s.cfg.pprof+"/debug/pprof/heap?gc=1", path); err != nil {
		log.Printf("heap profile: %v", err)
		return
	}
	log.Printf("heap profile: %s", path)
}

// logf logs a line of progress, saying which way the sensors are set.
func (s *scaleBench) logf(format string, args ...any) {
	log.Printf("scale/%s: "+format, append([]any{s.via}, args...)...)
}
