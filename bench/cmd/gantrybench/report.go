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
	p("- Whole run: %s\n", res.Duration.Round(time.Second))
	if len(res.Carried) > 0 {
		var ran []string
		if res.from(sectionDeploy) == nil && len(res.Deploys) > 0 {
			ran = append(ran, "1")
		}
		for i, s := range res.Scales {
			if res.from(sectionScale+s.SensorsVia) == nil {
				ran = append(ran, fmt.Sprintf("2%c", 'a'+i))
			}
		}
		if res.from(sectionBreach) == nil && res.Breach != nil {
			ran = append(ran, "3")
		}
		if res.from(sectionPlacement) == nil && res.Placement != nil {
			ran = append(ran, "4")
		}
		p("- Sections run this time: %s. Carried over from earlier runs (skipped in this one, copied from the previous `results.json`):\n", orNone(strings.Join(ran, ", ")))
		for _, c := range res.Carried {
			p("  - %s: %s\n", sectionTitle(res, c.Section), provenance(c))
		}
	}
	p("\n")
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
		runs = 0
		for _, r := range res.Deploys {
			runs = max(runs, r.Run)
		}
		med := func(m string, n int) time.Duration { return median(times(res.Deploys, m, n)) }
		p("## 1. Deploying N containers\n\n")
		if c := res.from(sectionDeploy); c != nil {
			p("*Carried over: %s.*\n\n", provenance(*c))
		}
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
		if c := res.from(sectionScale + s.SensorsVia); c != nil {
			p("*Carried over: %s.*\n\n", provenance(*c))
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
	if res.Breach != nil {
		p("%s", breachReport(res))
	}
	p("%s", placementReport(res))
	return b.String()
}

// breachReport is section 3 of the report.
func breachReport(res *results) string {
	br := res.Breach
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := summarizeBreach(br)
	p("## 3. From a metric breach to the new member RUNNING\n\n")
	if c := res.from(sectionBreach); c != nil {
		p("*Carried over: %s.*\n\n", provenance(*c))
	}
	p("A fresh server runs one application: a `cluster` (DynamicCluster) of `initialSize: %d` whose members are\n", br.StartSize)
	p("`docker:%s` running `command: %s` (a string, so `/bin/sh -c`; with the container kind's init process, no ports),\n", br.Image, br.Command)
	p("and an `autoscaler` on the cluster: `metric: %s` (a per-member value), `metricUpperBound: %g`, `metricLowerBound: %g`,\n", br.Metric, br.Upper, br.Lower)
	p("`minPoolSize: %d`, `maxPoolSize: %d`, `resizeUpStabilizationDelay: %s`, `resizeDownStabilizationDelay: 0s`,\n", br.StartSize, br.MaxPool, br.UpDelay)
	p("`minPeriodBetweenExecs` left at its default (%s). Two ways, on the same engine, %d runs each:\n\n", br.MinPeriod, br.RunsAsked)
	p("- **Gantry**: the clock starts just before `POST .../entities/pool/sensors/%s` of %g (a pool of %d at %g per member\n", br.Metric, br.Value, br.StartSize, br.Value)
	p("  wants ceil(%d x %g / %g) = %d members: exactly one more) and stops when the driver learns that the new member is RUNNING:\n",
		br.StartSize, br.Value, br.Upper, br.StartSize+1)
	if br.BreachPoll > 0 {
		p("  polling the REST API every %s, it has seen a new id in the cluster's `group.members` and then that member's\n", br.BreachPoll)
		p("  `service.state` RUNNING.")
	} else {
		p("  it finds the autoscaler's resize task among the policy's activities (within a few ms of the POST) and long-polls it\n")
		p("  (`GET /v1/activities/{id}?timeout=5s`, answered the moment the task ends); the task ends once the new member's start\n")
		p("  has ended, RUNNING. After the clock the driver checks that the pool has one more member and that it is RUNNING.\n")
		p("  (Polling every 5 ms instead costs about a millisecond of CPU per request, client and server, on these 2 cores, and\n")
		p("  slowed the container start it watches: `bench/FINDINGS.md`; `-breach-poll 5ms` does that.)")
	}
	p(" Afterwards, not timed,\n  %g is pushed, the autoscaler shrinks the pool back to %d, and the driver waits until the engine has only that member's container.\n", breachLow, br.StartSize)
	p("- **peer**: one container start: create, start and inspect (until `State.Running`) of the container Gantry makes for a\n")
	p("  member (same image, command, init process, labels, no ports), with a Docker API client whose version was negotiated\n")
	p("  beforehand; removed afterwards, not timed.\n\n")
	p("The two ways alternate which goes first; one untimed warm-up of each comes before the runs, and the engine gets a\n")
	p("second between runs. The cluster's first member runs throughout, as in any pool that grows.\n\n")
	p("**One evaluation period.** The autoscaler has no period of its own: it evaluates on every event of its metric (it\n")
	p("subscribes to the sensor), and otherwise only on timers it sets for when a stabilization window or\n")
	p("`minPeriodBetweenExecs` ends (`policies/autoscaler.go`, `policies/decide_autoscale.go`; `autoscaler.factors.period`,\n")
	p("5 s, applies only to the Stratos factors, which are not set here). The one wait it adds by design is\n")
	p("`resizeUpStabilizationDelay`, how long the metric must ask for a bigger pool: %s here. So one evaluation period is\n", br.UpDelay)
	p("%s, and the goal is breach -> RUNNING <= %s + one container start (the peer's median).\n\n", secsMS(br.UpDelay), secsMS(br.UpDelay))

	p("| Measure | Median | Goal | |\n|---|---|---|---|\n")
	if s.n > 0 && s.peer > 0 {
		p("| Gantry: breach -> new member RUNNING, seen by the driver (median of %d) | %s | <= %s + %s = %s | %s (%s) |\n",
			s.n, secsMS(s.gantry), secsMS(br.UpDelay), secsMS(s.peer), secsMS(s.goal), met(s.gantry <= s.goal), ratio(s.gantry, s.goal))
	}
	p("| Gantry: breach -> the member's start step ended (the server's task times) | %s | | |\n", secsMS(s.running))
	p("| peer: one container start (create + start + inspect) | %s | | |\n", secsMS(s.peer))
	p("| Gantry's own part: breach -> RUNNING seen, minus its container step (create + start + inspect) and the stabilization delay | %s | | |\n\n", secsMS(s.own))

	p("Where Gantry's time goes, from the server's task times (epoch milliseconds, so +-1 ms each); medians of each\n")
	p("part over the runs, which need not add up to the median of the whole:\n\n")
	p("| Part | Median |\n|---|---|\n")
	part := func(f func(breachRun) time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range br.Runs {
			if r.Way == breachGantryM && r.Err == "" && r.ContainerBegan > 0 {
				ds = append(ds, f(r))
			}
		}
		return median(ds)
	}
	p("| POST -> the autoscaler's resize task started (sensor set, event delivered, decided, policy memory saved) | %s |\n", secsMS(part(func(r breachRun) time.Duration { return r.Decided })))
	p("| resize task started -> the new member's container step started (member made and saved) | %s |\n", secsMS(part(func(r breachRun) time.Duration { return r.ContainerBegan - r.Decided })))
	p("| the container step: create + start + inspect on the engine, inside Gantry | %s |\n", secsMS(part(breachRun.containerStep)))
	p("| container step ended -> the member's start step ended (member RUNNING) | %s |\n", secsMS(part(func(r breachRun) time.Duration { return r.MemberRunning - r.ContainerRan })))
	how := "the long poll's answer"
	if br.BreachPoll > 0 {
		how = "polling every " + br.BreachPoll.String()
	}
	p("| member RUNNING -> seen by the driver (%s) | %s |\n", how, secsMS(part(func(r breachRun) time.Duration { return r.Elapsed - r.MemberRunning })))
	p("| Gantry minus peer, run by run (Gantry's run against the peer's run of the same number) | %s |\n\n", secsMS(pairedOverhead(br)))

	p("### Every run\n\n")
	p("Times from the POST (Gantry) or the create (peer). Decided, container step, member RUNNING: the server's task times.\n")
	p("CPUs busy: the share of the machine's %d CPUs busy (any process) while the clock ran.\n\n", res.Machine.NProc)
	p("| run | order | way | time | decided | container step (from - to) | member RUNNING | CPUs busy | server CPU |\n")
	p("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range br.Runs {
		t := secsMS(r.Elapsed)
		if r.Err != "" {
			t += " (failed: " + strings.ReplaceAll(firstLine(r.Err), "|", "/") + ")"
		}
		if r.Way == breachPeerM {
			p("| %d | %d | %s | %s | | | | %.0f%% | |\n", r.Run, r.Order, r.Way, t, 100*r.CPUBusy)
			continue
		}
		p("| %d | %d | %s | %s | %s | %s - %s | %s | %.0f%% | %s |\n", r.Run, r.Order, r.Way, t,
			secsMS(r.Decided), secsMS(r.ContainerBegan), secsMS(r.ContainerRan), secsMS(r.MemberRunning), 100*r.CPUBusy, secsMS(r.ServerCPU))
	}
	p("\n")
	return b.String()
}

// pairedOverhead is the median, over the run numbers where both ways worked, of
// Gantry's time minus the peer's.
func pairedOverhead(br *breachResult) time.Duration {
	peer := map[int]time.Duration{}
	for _, r := range br.Runs {
		if r.Way == breachPeerM && r.Err == "" {
			peer[r.Run] = r.Elapsed
		}
	}
	var ds []time.Duration
	for _, r := range br.Runs {
		if p, ok := peer[r.Run]; ok && r.Way == breachGantryM && r.Err == "" {
			ds = append(ds, r.Elapsed-p)
		}
	}
	return median(ds)
}

// secsMS writes a short duration in milliseconds, a longer one in seconds.
func secsMS(d time.Duration) string {
	if d < 10*time.Second && d > -10*time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return secs(d)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sectionTitle names a section of the report, as carried names it.
func sectionTitle(res *results, section string) string {
	switch {
	case section == sectionDeploy:
		return "1 (deploying N containers)"
	case section == sectionBreach:
		return "3 (metric breach -> new member RUNNING)"
	case section == sectionPlacement:
		return "4 (placement decisions per second)"
	case strings.HasPrefix(section, sectionScale):
		via := strings.TrimPrefix(section, sectionScale)
		for i, s := range res.Scales {
			if s.SensorsVia == via {
				return fmt.Sprintf("2%c (%d entities, sensors via %s)", 'a'+i, s.Entities, via)
			}
		}
	}
	return section
}

// provenance says which run a carried section comes from.
func provenance(c carried) string {
	return fmt.Sprintf("from the run of %s, `%s`, %s; load average at its start %s, at its end %s",
		c.Date.Format("2006-01-02 15:04 MST"), c.Command, c.Machine.Gantry, c.Machine.LoadAvg, c.Machine.LoadAvgEnd)
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
	p("## Goals\n\n| Goal | Measured | | Run |\n|---|---|---|---|\n")
	when := func(section string) string {
		if c := res.from(section); c != nil {
			return c.Date.Format("2006-01-02 15:04 MST")
		}
		return "this one"
	}
	if len(res.Deploys) > 0 {
		dw := when(sectionDeploy)
		n := 0
		for _, r := range res.Deploys {
			n = max(n, r.N)
		}
		med := func(m string) time.Duration { return median(times(res.Deploys, m, n)) }
		g, c, cs, f := med(gantryM), med(composeM), med(composeSameM), med(floorM)
		if g > 0 && c > 0 {
			p("| N=%d: Gantry <= %.1fx docker-compose (compose as written) | %s | %s | %s |\n", n, goalVsCompose, ratio(g, c), met(float64(g) <= goalVsCompose*float64(c)), dw)
		}
		if g > 0 && cs > 0 {
			p("| N=%d: Gantry <= %.1fx docker-compose (compose-same: the same containers) | %s | %s | %s |\n", n, goalVsCompose, ratio(g, cs), met(float64(g) <= goalVsCompose*float64(cs)), dw)
		}
		if g > 0 && f > 0 {
			p("| N=%d: Gantry <= %.1fx the engine's floor | %s | %s | %s |\n", n, goalVsFloor, ratio(g, f), met(float64(g) <= goalVsFloor*float64(f)), dw)
		}
	}
	for _, s := range res.Scales {
		sw := when(sectionScale + s.SensorsVia)
		p("| %d entities, sensors via %s: VmRSS settled <= %s | %s | %s | %s |\n", s.Entities, s.SensorsVia, mib(goalRSS), mib(s.RSS), met(s.RSS <= goalRSS), sw)
		var ready []time.Duration
		for _, r := range s.Restarts {
			ready = append(ready, r.Ready)
		}
		if len(ready) > 0 {
			p("| %d entities, sensors via %s: restart after kill -9 <= %s | %s | %s | %s |\n", s.Entities, s.SensorsVia, secs(goalRestart), secs(median(ready)), met(median(ready) <= goalRestart), sw)
		}
	}
	if br := res.Breach; br != nil {
		if s := summarizeBreach(br); s.n > 0 && s.peer > 0 {
			p("| Metric breach -> new member RUNNING <= one evaluation period (%s: resizeUpStabilizationDelay) + one container start (%s) | %s = %s of the goal; Gantry's own part %s | %s | %s |\n",
				secsMS(br.UpDelay), secsMS(s.peer), secsMS(s.gantry), ratio(s.gantry, s.goal), secsMS(s.own), met(s.gantry <= s.goal), when(sectionBreach))
		}
	}
	p("%s", placementGlance(res, when))
	p("\n")
	return b.String()
}
