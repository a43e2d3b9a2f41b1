// Command gantrybench measures Gantry against its peers on this machine and writes the
// results down (bench/RESULTS.md and bench/results.json). bench/run.sh runs it; see
// bench/README.md for what is measured.
//
//	go run ./bench/cmd/gantrybench [-n 20,50] [-runs 5] [-apps 1000] [-breach-runs 5] ...
//
// A section that is skipped (-skip-deploy, -skip-scale, -skip-breach, -skip-placement, or a -sensors-via
// left out) is carried over from the previous results (-carry, by default the -json
// file), so that one section can be run again without losing the others; the report
// says which run each section comes from.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	dockerclient "github.com/docker/docker/client"
)

type config struct {
	gantryBin  string
	image      string
	compose    string
	ns         []int
	runs       int
	apps       int
	children   int
	configKeys int
	sensors    int
	restarts   int
	skipDeploy bool
	skipScale  bool
	skipBreach bool
	// The placement benchmark (placement.go): runs of each way.
	skipPlacement bool
	placementRuns int
	// The breach benchmark (breach.go): runs of each way, the autoscaler's
	// resizeUpStabilizationDelay, and how often the driver polls for the new member.
	breachRuns  int
	breachDelay time.Duration
	breachPoll  time.Duration
	carry       string // the previous results.json, whose skipped sections are carried over
	out         string
	jsonOut     string
	command     string
	keepWork    bool
	benchID     string
	pprof       string
	linger      time.Duration
	methods     []string
	floorConc   int
	sensorsVia  []string
}

type results struct {
	Date      time.Time        `json:"date"`
	Command   string           `json:"command"`
	Machine   machine          `json:"machine"`
	BenchID   string           `json:"bench_id"`
	Image     string           `json:"image"`
	Runs      int              `json:"runs"`
	Deploys   []deployRun      `json:"deploys,omitempty"`
	Scales    []*scaleResult   `json:"scales,omitempty"`
	Scale     *scaleResult     `json:"scale,omitempty"` // results.json of before 2026-11-22 11:20: one run, via rest
	Breach    *breachResult    `json:"breach,omitempty"`
	Placement *placementResult `json:"placement,omitempty"`
	Duration  time.Duration    `json:"duration_ns"`
	Errors    []string         `json:"errors,omitempty"`
	// Carried lists the sections that were not run this time but come from an earlier
	// run, and which one.
	Carried []carried `json:"carried,omitempty"`
}

// Sections of the results, as carried names them.
const (
	sectionDeploy = "deploy"
	sectionScale  = "scale-" // + the way the sensors were set: scale-rest, scale-blueprint
	sectionBreach = "breach"
)

// carried says which earlier run a section of the results comes from.
type carried struct {
	Section string    `json:"section"`
	Date    time.Time `json:"date"`
	Command string    `json:"command"`
	BenchID string    `json:"bench_id"`
	Machine machine   `json:"machine"`
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("gantrybench: ")
	cfg := &config{}
	var ns string
	flag.StringVar(&cfg.gantryBin, "gantry", "bin/gantry", "the gantry binary to run as the server")
	flag.StringVar(&cfg.image, "image", "gantry/busybox:latest", "image of the deployed containers (must be on the engine: nothing is pulled)")
	flag.StringVar(&cfg.compose, "compose", "/usr/bin/docker-compose", "docker-compose binary")
	flag.StringVar(&ns, "n", "20,50", "numbers of containers to deploy, comma-separated")
	methods := flag.String("methods", "gantry,compose,compose-same,floor", "ways of deploying to measure, comma-separated")
	flag.IntVar(&cfg.floorConc, "floor-concurrency", 0, "containers the floor makes at once (default: all N)")
	flag.IntVar(&cfg.runs, "runs", 5, "runs of each method at each N (the median is reported)")
	flag.IntVar(&cfg.apps, "apps", 1000, "applications of the scale benchmark")
	flag.IntVar(&cfg.children, "children", 10, "basic-entity children per application")
	flag.IntVar(&cfg.configKeys, "config", 20, "config keys per child, in brooklyn.config")
	flag.IntVar(&cfg.sensors, "sensors", 20, "sensors set on each child through the REST API")
	via := flag.String("sensors-via", "rest,blueprint", "how the scale benchmark sets its sensors, comma-separated, one run each: rest (one POST each) and/or blueprint (static-sensor initializers)")
	flag.IntVar(&cfg.restarts, "restarts", 3, "kill -9 and restart measurements of the scale benchmark")
	flag.BoolVar(&cfg.skipDeploy, "skip-deploy", false, "skip the container deploy benchmark")
	flag.BoolVar(&cfg.skipScale, "skip-scale", false, "skip the 10,000-entity benchmark")
	flag.BoolVar(&cfg.skipBreach, "skip-breach", false, "skip the metric breach -> new member RUNNING benchmark")
	flag.BoolVar(&cfg.skipPlacement, "skip-placement", false, "skip the placement decisions benchmark")
	flag.IntVar(&cfg.placementRuns, "placement-runs", 5, "runs of each way of the placement benchmark (the median is reported)")
	flag.IntVar(&cfg.breachRuns, "breach-runs", 5, "runs of each way of the breach benchmark (the median is reported)")
	flag.DurationVar(&cfg.breachDelay, "breach-delay", 0, "the autoscaler's resizeUpStabilizationDelay in the breach benchmark (its evaluation period: the goal is this plus one container start)")
	flag.DurationVar(&cfg.breachPoll, "breach-poll", 0, "how often the breach benchmark polls the REST API for the new member and its state; 0: it long-polls the autoscaler's resize task instead, which loads the machine less")
	flag.StringVar(&cfg.carry, "carry", "bench/results.json", "results.json of an earlier run: the sections skipped in this run are carried over from it into RESULTS.md and results.json (empty: none)")
	flag.StringVar(&cfg.out, "out", "bench/RESULTS.md", "where to write the results (empty: nowhere)")
	flag.StringVar(&cfg.jsonOut, "json", "bench/results.json", "where to write every raw measurement as JSON (empty: nowhere)")
	flag.StringVar(&cfg.command, "command", "", "the command line to record in the results (default: this program's)")
	flag.StringVar(&cfg.pprof, "pprof", "", "address of the server's pprof endpoints, passed as GANTRY_PPROF: use with -gantry pointing at a gantryprof binary; heap profiles are kept in the work directory (implies -keep)")
	flag.DurationVar(&cfg.linger, "linger", 0, "after the scale benchmark's server settled, watch its memory this much longer (every 5 s) before the kill")
	from := flag.String("from", "", "write RESULTS.md (-out) again from this results.json, without running anything")
	flag.BoolVar(&cfg.keepWork, "keep", false, "keep the work directory (server logs) after the run")
	flag.Parse()
	for _, f := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			log.Fatalf("-n: bad number %q", f)
		}
		cfg.ns = append(cfg.ns, n)
	}
	for _, m := range strings.Split(*methods, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains([]string{gantryM, composeM, composeSameM, floorM}, m) {
			log.Fatalf("-methods: unknown way %q", m)
		}
		cfg.methods = append(cfg.methods, m)
	}
	for _, v := range strings.Split(*via, ",") {
		if v = strings.TrimSpace(v); v != "rest" && v != "blueprint" {
			log.Fatalf("-sensors-via: %q, want rest or blueprint", v)
		}
		cfg.sensorsVia = append(cfg.sensorsVia, strings.TrimSpace(v))
	}
	if cfg.placementRuns < 1 {
		log.Fatal("-placement-runs must be at least 1")
	}
	if cfg.breachRuns < 1 || cfg.breachPoll < 0 || cfg.breachDelay < 0 {
		log.Fatal("-breach-runs must be at least 1, -breach-poll and -breach-delay not negative")
	}
	if cfg.pprof != "" {
		cfg.keepWork = true
		pprofAddr = cfg.pprof
	}
	if cfg.command == "" {
		cfg.command = strings.Join(os.Args, " ")
	}
	if *from != "" {
		if err := rerender(*from, cfg); err != nil {
			log.Fatal(err)
		}
		return
	}
	var id [4]byte
	rand.Read(id[:])
	cfg.benchID = hex.EncodeToString(id[:])
	if err := run(cfg); err != nil {
		log.Fatal(err)
	}
}

func run(cfg *config) error {
	if _, err := os.Stat(cfg.gantryBin); err != nil {
		return fmt.Errorf("gantry binary: %w (build it with make build)", err)
	}
	bin, err := filepath.Abs(cfg.gantryBin)
	if err != nil {
		return err
	}
	cfg.gantryBin = bin
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	docker, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer docker.Close()
	// Containers are removed on every way out, even an interrupted one.
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := removeBenchContainers(cctx, docker); err != nil {
			log.Printf("cleanup: %v", err)
		}
		removeComposeNetworks(cctx, docker)
	}()
	if !cfg.skipDeploy || !cfg.skipBreach {
		if _, err := docker.ImageInspect(ctx, cfg.image); err != nil {
			return fmt.Errorf("image %s: %w (build it with scripts/build-images.sh; nothing is pulled)", cfg.image, err)
		}
	}

	work, err := os.MkdirTemp("", "gantrybench-")
	if err != nil {
		return err
	}
	if cfg.keepWork {
		log.Printf("work directory (kept): %s", work)
	}

	// Read before anything runs: the run overwrites it at the end.
	prev := previous(cfg.carry)
	res := &results{Date: time.Now().UTC(), Command: cfg.command, BenchID: cfg.benchID, Image: cfg.image, Runs: cfg.runs}
	res.Machine = describeMachine(ctx, docker, cfg)
	begin := time.Now()
	if !cfg.skipPlacement {
		pr, err := runPlacement(cfg)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			log.Print(err)
		}
		res.Placement = pr
	}
	if !cfg.skipDeploy {
		if err := removeBenchContainers(ctx, docker); err != nil {
			return err
		}
		b := &deployBench{cfg: cfg, docker: docker, workDir: work}
		for _, n := range cfg.ns {
			runs, err := b.run(ctx, n)
			res.Deploys = append(res.Deploys, runs...)
			if err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("deploy N=%d: %v", n, err))
				log.Printf("deploy N=%d: %v", n, err)
				break
			}
		}
	}
	if !cfg.skipBreach && ctx.Err() == nil {
		b := &breachBench{cfg: cfg, docker: docker, workDir: work}
		br, err := b.run(ctx)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("breach: %v", err))
			log.Printf("breach: %v", err)
		}
		if br != nil && len(br.Runs) > 0 {
			res.Breach = br
		}
	}
	for _, via := range cfg.sensorsVia {
		if cfg.skipScale || ctx.Err() != nil {
			break
		}
		s := &scaleBench{cfg: cfg, workDir: work, via: via}
		sr, err := s.run(ctx)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("scale (sensors via %s): %v", via, err))
			log.Printf("scale (sensors via %s): %v", via, err)
		}
		if sr != nil {
			res.Scales = append(res.Scales, sr)
		}
	}
	res.Duration = time.Since(begin)
	if prev != nil {
		carryOver(res, prev, cfg)
	}
	switch {
	case cfg.keepWork:
	case len(res.Errors) > 0:
		log.Printf("something failed: the work directory, with the servers' logs, is kept: %s", work)
	default:
		os.RemoveAll(work)
	}
	res.Machine.OtherContainersAfter = otherContainers(context.Background(), docker)
	res.Machine.LoadAvgEnd = loadAvg()

	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	report := markdown(res, cfg)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
		log.Printf("results written to %s", cfg.out)
	} else {
		fmt.Print(report)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d part(s) failed: %s", len(res.Errors), strings.Join(res.Errors, "; "))
	}
	return nil
}

// rerender writes the report of an earlier run again, from its raw measurements.
func rerender(path string, cfg *config) error {
	res, err := readResults(path)
	if err != nil {
		return err
	}
	report := markdown(res, cfg)
	if cfg.out == "" {
		fmt.Print(report)
		return nil
	}
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}

// readResults reads a results.json, of this driver or an older one.
func readResults(path string) (*results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if res.Scale != nil {
		if res.Scale.SensorsVia == "" {
			res.Scale.SensorsVia = "rest"
		}
		res.Scales, res.Scale = append(res.Scales, res.Scale), nil
	}
	return &res, nil
}

// previous reads the results of an earlier run to carry skipped sections over from;
// nil when there are none.
func previous(path string) *results {
	if path == "" {
		return nil
	}
	res, err := readResults(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		log.Printf("-carry: %v; no section is carried over", err)
		return nil
	}
	return res
}

// origin is where section of prev comes from: prev's run, or the run prev carried it
// over from.
func (prev *results) origin(section string) carried {
	for _, c := range prev.Carried {
		if c.Section == section {
			return c
		}
	}
	return carried{Section: section, Date: prev.Date, Command: prev.Command, BenchID: prev.BenchID, Machine: prev.Machine}
}

// carryOver copies into res the sections of prev that this run skipped: the deploy
// benchmark, each way of setting the scale benchmark's sensors, the breach benchmark.
// A section that ran, even if it failed, is not carried over.
func carryOver(res, prev *results, cfg *config) {
	if cfg.skipDeploy && len(prev.Deploys) > 0 {
		res.Deploys = prev.Deploys
		res.Carried = append(res.Carried, prev.origin(sectionDeploy))
	}
	for _, s := range prev.Scales {
		if !cfg.skipScale && slices.Contains(cfg.sensorsVia, s.SensorsVia) {
			continue
		}
		if slices.ContainsFunc(res.Scales, func(x *scaleResult) bool { return x.SensorsVia == s.SensorsVia }) {
			continue
		}
		res.Scales = append(res.Scales, s)
		res.Carried = append(res.Carried, prev.origin(sectionScale+s.SensorsVia))
	}
	// The report letters them 2a, 2b, ... in this order.
	slices.SortStableFunc(res.Scales, func(a, b *scaleResult) int {
		return slices.Index(viaOrder, a.SensorsVia) - slices.Index(viaOrder, b.SensorsVia)
	})
	if cfg.skipBreach && prev.Breach != nil {
		res.Breach = prev.Breach
		res.Carried = append(res.Carried, prev.origin(sectionBreach))
	}
	carryPlacement(res, prev, cfg)
	for _, c := range res.Carried {
		log.Printf("section %s carried over from the run of %s (%s)", c.Section, c.Date.Format("2006-01-02 15:04 MST"), c.Command)
	}
}

// viaOrder is the order of the scale benchmark's ways in the report.
var viaOrder = []string{"rest", "blueprint"}

// from says where a section of res comes from, nil when from this run.
func (res *results) from(section string) *carried {
	for i := range res.Carried {
		if res.Carried[i].Section == section {
			return &res.Carried[i]
		}
	}
	return nil
}
