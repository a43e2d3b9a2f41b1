// Command gantrybench measures Gantry against its peers on this machine and writes the
// results down (bench/RESULTS.md and bench/results.json). bench/run.sh runs it; see
// bench/README.md for what is measured.
//
//	go run ./bench/cmd/gantrybench [-n 20,50] [-runs 5] [-apps 1000] ...
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
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
	out        string
	jsonOut    string
	command    string
	keepWork   bool
	benchID    string
	pprof      string
	linger     time.Duration
	methods    []string
	floorConc  int
	sensorsVia []string
}

type results struct {
	Date     time.Time      `json:"date"`
	Command  string         `json:"command"`
	Machine  machine        `json:"machine"`
	BenchID  string         `json:"bench_id"`
	Image    string         `json:"image"`
	Runs     int            `json:"runs"`
	Deploys  []deployRun    `json:"deploys,omitempty"`
	Scales   []*scaleResult `json:"scales,omitempty"`
	Scale    *scaleResult   `json:"scale,omitempty"` // results.json of before 2026-11-22 11:20: one run, via rest
	Duration time.Duration  `json:"duration_ns"`
	Errors   []string       `json:"errors,omitempty"`
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
	if !cfg.skipDeploy {
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

	res := &results{Date: time.Now().UTC(), Command: cfg.command, BenchID: cfg.benchID, Image: cfg.image, Runs: cfg.runs}
	res.Machine = describeMachine(ctx, docker, cfg)
	begin := time.Now()
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
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if res.Scale != nil {
		if res.Scale.SensorsVia == "" {
			res.Scale.SensorsVia = "rest"
		}
		res.Scales, res.Scale = append(res.Scales, res.Scale), nil
	}
	report := markdown(&res, cfg)
	if cfg.out == "" {
		fmt.Print(report)
		return nil
	}
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}
