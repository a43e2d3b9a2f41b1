package main

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Goals, from the project's brief.
const (
	goalVsCompose = 0.8 // Gantry <= 0.8x docker-compose at the largest N
	goalVsFloor   = 1.2 // Gantry <= 1.2x the engine's floor at the largest N
	goalRSS       = 150 << 20
	goalRestart   = 2 * time.Second
)

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// times returns the successful runs' times of a method at n.
func times(runs []deployRun, method string, n int) []time.Duration {
	var out []time.Duration
	for _, r := range runs {
		if r.Method == method && r.N == n && r.Err == "" {
			out = append(out, r.Elapsed)
		}
	}
	return out
}

func markdown(res *results, cfg *config) string {
	image, runs := res.Image, res.Runs
	if image == "" {
		image, runs = cfg.image, cfg.runs
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	m := res.Machine
	p("# Gantry benchmark results\n\n")
	p("Written by `bench/cmd/gantrybench` (see `bench/README.md` for what is measured and how).\n")
	p("Analysis of the goals that are missed: `bench/FINDINGS.md`.\n\n")
	p("- Date: %s\n", res.Date.Format("2006-01-02 15:04 MST"))
	p("- Command: `%s`\n", res.Command)
	p("- Machine: %d CPUs (%s), %s RAM, Linux %s\n", m.NProc, m.CPU, mib(m.MemTotal), m.Kernel)
	p("- Docker Engine %s (API %s, storage driver %s); docker-compose %s; %s\n", m.Docker, m.DockerAPI, m.StorageDriver, m.Compose, m.Go)
	p("- Gantry: %s\n", m.Gantry)
	p("- Load average (1, 5, 15 min) at start: %s, at the end: %s; running containers of others on the engine: %d at start, %d at the end\n", m.LoadAvg, m.LoadAvgEnd, m.OtherContainersBefore, m.OtherContainersAfter)
	p("- Whole run: %s\n\n", res.Duration.Round(time.Second))
	for _, e := range res.Errors {
		p("**Error:** %s\n\n", e)
	}
	p("%s", glance(res))

	if len(res.Deploys) > 0 {
		var ns []int
		for _, r := range res.Deploys {
			if !slices.Contains(ns, r.N) {
				ns = append(ns, r.N)
			}
		}
		largest := slices.Max(ns)
		med := func(m string, n int) time.Duration { return median(times(res.Deploys, m, n)) }
		p("## 1. Deploying N containers\n\n")
		p("N identical containers of `%s` running `sleep 3600` with port 80 published on a random host port,\n", image)
		p("on the same engine, four ways; median of %d runs, the order of the four ways changing from run to run\n", runs)
		p("(balanced Latin square), every container removed between runs (not timed).\n\n")
		p("- **Gantry**: `POST /v1/applications` of one blueprint of N `docker:` services, until its start task has ended (all containers running, app RUNNING).\n")
		p("- **compose**: `docker-compose -p <project> up -d` of N services of the same image, command and port, as one writes the file: compose creates the project's network.\n")
		p("- **compose-same**: the same, with `network_mode: bridge` and `init: true`, so that the containers are exactly Gantry's (default bridge, init process, which Gantry's `init` config key turns on by default).\n")
		p("- **floor**: a Go loop on the Docker API (API version negotiated beforehand) that creates, starts and inspects the same containers as Gantry's, N at once.\n\n")
		p("| N | Gantry | compose | compose-same | floor | Gantry / compose | Gantry / compose-same | Gantry / floor |\n")
		p("|---|---|---|---|---|---|---|---|\n")
		for _, n := range ns {
			g, c, cs, f := med(gantryM, n), med(composeM, n), med(composeSameM, n), med(floorM, n)
			p("| %d | %s | %s | %s | %s | %s | %s | %s |\n", n, secs(g), secs(c), secs(cs), secs(f), ratio(g, c), ratio(g, cs), ratio(g, f))
		}
		c, cs, f := med(composeM, largest), med(composeSameM, largest), med(floorM, largest)
		if c > 0 && cs > 0 && f > 0 {
			p("\nAt N=%d the engine sets the floor: compose / floor = %s and compose-same / floor = %s, so Gantry <= %.1fx compose\n", largest, ratio(c, f), ratio(cs, f), goalVsCompose)
			p("means Gantry <= %.2fx the floor, and Gantry <= %.1fx compose-same means Gantry <= %.2fx the floor.\n",
				goalVsCompose*float64(c)/float64(f), goalVsCompose, goalVsCompose*float64(cs)/float64(f))
		}
		p("\n### Every run\n\n")
		p("CPUs busy: the share of the machine's %d CPUs busy (any process) while the clock ran. Server CPU: the CPU time the Gantry server used meanwhile.\n\n", res.Machine.NProc)
		p("| N | run | order | method | time | CPUs busy | server CPU |\n|---|---|---|---|---|---|---|\n")
		for _, r := range res.Deploys {
			t := secs(r.Elapsed)
			if r.Err != "" {
				t += " (failed: " + strings.ReplaceAll(firstLine(r.Err), "|", "/") + ")"
			}
			server := ""
			if r.ServerCPU > 0 {
				server = secs(r.ServerCPU)
			}
			p("| %d | %d | %d | %s | %s | %.0f%% | %s |\n", r.N, r.Run, r.Order, r.Method, t, 100*r.CPUBusy, server)
		}
		p("\n")
	}

	for i, s := range res.Scales {
		if i == 0 {
			p("## 2. %d applications, %d entities\n\n", s.Apps, s.Entities)
		}
		if s.SensorsVia == "blueprint" {
			p("### 2%c. Sensors set by the blueprint\n\n", 'a'+i)
		} else {
			p("### 2%c. Sensors set through the REST API\n\n", 'a'+i)
		}
		p("%d applications of %d `basic-entity` children, each child with %d config keys in `brooklyn.config`\n", s.Apps, s.ChildrenPerApp, s.ConfigPerEntity)
		if s.SensorsVia == "blueprint" {
			p("and %d sensors set by as many `static-sensor` initializers in its `brooklyn.initializers`.", s.SensorsPerEnt)
		} else {
			p("and %d sensors set through `POST /v1/applications/{app}/entities/{e}/sensors/{name}` (%d calls, sensor 0 of every entity,\n", s.SensorsPerEnt, s.SensorCalls)
			p("then sensor 1, ...).")
		}
		p(" Memory is read once the server has been idle for 3 s; the restart is timed from exec after a `kill -9`.\n\n")
		var ready, up []time.Duration
		for _, r := range s.Restarts {
			ready, up = append(ready, r.Ready), append(up, r.Up)
		}
		p("| Measure | Value | Goal | |\n|---|---|---|---|\n")
		p("| VmRSS, deployed and settled | %s | <= %s | %s |\n", mib(s.RSS), mib(goalRSS), met(s.RSS <= goalRSS))
		if len(ready) > 0 {
			p("| Restart after kill -9: exec to all served (median of %d) | %s | <= %s | %s |\n", len(ready), secs(median(ready)), secs(goalRestart), met(median(ready) <= goalRestart))
		}
		p("| Store on disk (gantry.db size / allocated) | %s / %s | | |\n", mib(s.StoreBytes), mib(s.StoreAllocated))
		p("\n| Detail | Value |\n|---|---|\n")
		p("| VmRSS settled = RssAnon (Go heap, stacks) + RssFile (mapped files: binary, bbolt's mmap of the store) | %s = %s + %s |\n", mib(s.Settled.RSS), mib(s.Settled.RSSAnon), mib(s.Settled.RSSFile))
		if s.Restarted.RSS > 0 {
			p("| VmRSS 5 s after the first restart served everything = RssAnon + RssFile | %s = %s + %s |\n", mib(s.Restarted.RSS), mib(s.Restarted.RSSAnon), mib(s.Restarted.RSSFile))
		}
		p("| VmHWM (peak RSS) during setup | %s |\n", mib(s.HWM))
		if len(s.Linger) > 0 {
			var l []string
			for _, m := range s.Linger {
				l = append(l, fmt.Sprintf("%.0f", float64(m.RSS)/(1<<20)))
			}
			p("| VmRSS every 5 s after settling (MiB) | %s |\n", strings.Join(l, ", "))
		}
		if st := s.Store; st != nil {
			p("| Store content: entity records | %d, %s (largest %d bytes) |\n", st.Entities, mib(st.EntityBytes), st.MaxEntity)
			p("| Store content: task records | %d, %s (largest %d bytes) |\n", st.Tasks, mib(st.TaskBytes), st.MaxTask)
			p("| Store file pages / pages holding records (%d bytes each) | %d / %d |\n", st.PageSize, st.Pages, st.DataPages)
		}
		samples := make([]string, len(s.RSSSamples))
		for i, v := range s.RSSSamples {
			samples[i] = fmt.Sprintf("%.1f", float64(v)/(1<<20))
		}
		p("| VmRSS samples after settling, 1 s apart (MiB) | %s |\n", strings.Join(samples, ", "))
		p("| Deploy of the %d applications (8 at a time, each to the end of its start task) | %s |\n", s.Apps, secs(s.DeployTime))
		if s.SensorCalls > 0 {
			p("| %d sensor POSTs (16 concurrent clients) | %s (%.0f/s) |\n", s.SensorCalls, secs(s.SensorTime), float64(s.SensorCalls)/s.SensorTime.Seconds())
		}
		p("| Server CPU time for deploy + sensors | %s |\n", secs(s.ServerCPU))
		for i, r := range s.Restarts {
			p("| Restart %d: exec to /v1/server/up / to all served | %s / %s |\n", i+1, secs(r.Up), secs(r.Ready))
		}
		p("\n\"All served\" is the moment `GET /v1/applications` lists all %d applications RUNNING and three sample\n", s.Apps)
		p("entities (first, middle, last) return their %d sensors with the values set before the kill.\n\n", s.SensorsPerEnt)
	}
	return b.String()
}

func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// glance is the table of every goal, measured, first in the report.
func glance(res *results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Goals\n\n| Goal | Measured | |\n|---|---|---|\n")
	if len(res.Deploys) > 0 {
		n := 0
		for _, r := range res.Deploys {
			n = max(n, r.N)
		}
		med := func(m string) time.Duration { return median(times(res.Deploys, m, n)) }
		g, c, cs, f := med(gantryM), med(composeM), med(composeSameM), med(floorM)
		if g > 0 && c > 0 {
			p("| N=%d: Gantry <= %.1fx docker-compose (compose as written) | %s | %s |\n", n, goalVsCompose, ratio(g, c), met(float64(g) <= goalVsCompose*float64(c)))
		}
		if g > 0 && cs > 0 {
			p("| N=%d: Gantry <= %.1fx docker-compose (compose-same: the same containers) | %s | %s |\n", n, goalVsCompose, ratio(g, cs), met(float64(g) <= goalVsCompose*float64(cs)))
		}
		if g > 0 && f > 0 {
			p("| N=%d: Gantry <= %.1fx the engine's floor | %s | %s |\n", n, goalVsFloor, ratio(g, f), met(float64(g) <= goalVsFloor*float64(f)))
		}
	}
	for _, s := range res.Scales {
		p("| %d entities, sensors via %s: VmRSS settled <= %s | %s | %s |\n", s.Entities, s.SensorsVia, mib(goalRSS), mib(s.RSS), met(s.RSS <= goalRSS))
		var ready []time.Duration
		for _, r := range s.Restarts {
			ready = append(ready, r.Ready)
		}
		if len(ready) > 0 {
			p("| %d entities, sensors via %s: restart after kill -9 <= %s | %s | %s |\n", s.Entities, s.SensorsVia, secs(goalRestart), secs(median(ready)), met(median(ready) <= goalRestart))
		}
	}
	p("\n")
	return b.String()
}
