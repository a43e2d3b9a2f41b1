package policies_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/policies"
	"github.com/gantry-dev/gantry/sensors"
)

// pool deploys an application with one pool of n members and returns the pool.
func pool(t *testing.T, m *entities.Management, n int, config map[string]any) *entities.Entity {
	t.Helper()
	app := deployApp(t, m, &entities.Spec{Type: poolType, Name: "pool", Config: config})
	p := childNamed(app, "pool")
	invoke(t, p, "resize", map[string]any{"desiredSize": n})
	waitFor(t, "the pool to be up", p.IsUp)
	return p
}

func autoscale(t *testing.T, m *entities.Management, p *entities.Entity, config map[string]any) *entities.Adjunct {
	t.Helper()
	a, err := m.AddAdjunct(p, entities.AdjunctSpec{Type: "autoscaler", Config: config})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func size(p *entities.Entity) int { return len(p.Members()) }

func TestAutoscalerGrowsAndShrinks(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	a := autoscale(t, m, p, map[string]any{
		"metric": "load", "metricLowerBound": 20, "metricUpperBound": 100,
		"minPoolSize": 1, "maxPoolSize": 5,
		"resizeUpStabilizationDelay": "150ms", "resizeDownStabilizationDelay": "150ms",
	})
	resizesBefore := count(p, attrResizes)

	// 150 per member of 2 is a total of 300: 3 members at 100 each. The value is published
	// once: the policy looks again when the stabilization delay has passed.
	p.SetAttribute("load", 150)
	stays(t, "no resize before the delay", 100*time.Millisecond, func() bool { return size(p) == 2 })
	waitFor(t, "the pool to grow to 3", func() bool { return size(p) == 3 })
	// The same value, seen at size 2, still asks for 3: nothing is resized twice.
	stays(t, "the pool staying at 3", 400*time.Millisecond, func() bool { return size(p) == 3 })
	if n := count(p, attrResizes) - resizesBefore; n != 1 {
		t.Errorf("%d resizes, want 1", n)
	}

	// 10 per member of 3 is 30: one member at 30 is within bounds.
	p.SetAttribute("load", 10)
	waitFor(t, "the pool to shrink to 1", func() bool { return size(p) == 1 })
	if n := count(p, attrResizes) - resizesBefore; n != 2 {
		t.Errorf("%d resizes, want 2", n)
	}
	h := a.Highlights()
	if h["lastAction"].TaskID == "" || h["triggers"].Description == "" {
		t.Errorf("highlights %+v", h)
	}
}

func TestAutoscalerStaysWithinMinAndMax(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 6, nil)
	// A pool found above its maximum is brought back at once, whatever the metric.
	autoscale(t, m, p, map[string]any{"metric": "load", "metricUpperBound": 100, "minPoolSize": 2, "maxPoolSize": 4})
	waitFor(t, "the pool to shrink to its maximum", func() bool { return size(p) == 4 })
	p.SetAttribute("load", 1e6)
	stays(t, "the pool at its maximum", 300*time.Millisecond, func() bool { return size(p) == 4 })
}

func TestAutoscalerBoundsAreLive(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	a := autoscale(t, m, p, map[string]any{"metric": "load", "metricUpperBound": 200})
	p.SetAttribute("load", 150)
	stays(t, "no resize within bounds", 200*time.Millisecond, func() bool { return size(p) == 2 })
	// Lowering the bound re-reads the history: the value already seen is now too hot.
	if err := a.SetConfig("metricUpperBound", 100); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to grow with the new bound", func() bool { return size(p) == 3 })
	if !a.Running() {
		t.Error("the policy stopped on reconfiguration")
	}
}

func TestAutoscalerConfigChecked(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 1, nil)
	for _, cfg := range []map[string]any{
		{"minPoolSize": 3, "maxPoolSize": 2},
		{"metricUpperBound": "lots"},
		{"resizeUpStabilizationDelay": "soon"},
		{"metricLowerBound": 10, "metricUpperBound": 5},
		{"minPoolSize": 1.5},
	} {
		if _, err := m.AddAdjunct(p, entities.AdjunctSpec{Type: policies.AutoScalerType, Config: cfg}); !errors.Is(err, entities.ErrInvalid) {
			t.Errorf("config %v: %v, want ErrInvalid", cfg, err)
		}
	}
	a := autoscale(t, m, p, map[string]any{"metric": "load", "maxPoolSize": 3})
	if err := a.SetConfig("minPoolSize", 4); !errors.Is(err, entities.ErrInvalid) {
		t.Errorf("min above max through reconfiguration: %v", err)
	}
}

func TestAutoscalerResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	p := pool(t, m, 2, nil)
	autoscale(t, m, p, map[string]any{"metric": "load", "metricUpperBound": 100, "minPeriodBetweenExecs": "1h"})
	p.SetAttribute("load", 150)
	waitFor(t, "the pool to grow to 3", func() bool { return size(p) == 3 })
	resizes := count(p, attrResizes)
	// The load is hotter still, but the next resize may only come an hour after the last.
	p.SetAttribute("load", 400)
	stays(t, "no second resize within the min period", 200*time.Millisecond, func() bool { return size(p) == 3 })
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	s.Close()

	m2, s2 := open(t, dir)
	defer func() { m2.Close(); s2.Close() }()
	p2, err := m2.Entity(p.ID())
	if err != nil {
		t.Fatal(err)
	}
	as := p2.Adjuncts()
	if len(as) != 1 || !as[0].Running() {
		t.Fatalf("adjuncts after restart: %v", as)
	}
	if as[0].MemoryTime("lastResize").IsZero() {
		t.Error("the last resize was not remembered")
	}
	stays(t, "nothing resized after the restart", 300*time.Millisecond, func() bool {
		return len(p2.Members()) == 3 && count(p2, attrResizes) == resizes
	})
}

func TestAutoscalerPendingResizeCountsAfterRestart(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	a := autoscale(t, m, p, map[string]any{"metric": "load", "metricUpperBound": 100, "minPeriodBetweenExecs": "1h"})
	a.Stop()
	// As if the server had stopped in the middle of a resize to 3, a moment ago.
	a.Remember("pending", map[string]any{"from": 2, "to": 3, "at": time.Now().Add(-time.Second)})
	p.SetAttribute("load", 400)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	stays(t, "no resize within the min period of the interrupted one", 300*time.Millisecond, func() bool { return size(p) == 2 })
	if _, ok := a.Memory("pending"); ok {
		t.Error("the pending resize was not taken as the last one")
	}
}

func TestAutoscalerPoolHotEvent(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	autoscale(t, m, p, nil)
	// Brooklyn's pool-hot notification: a total work rate of 300 against 100 per member.
	p.Management().Bus().Publish(poolEvent(p, policies.SensorPoolHot, 300, 2, 200, 50))
	waitFor(t, "the pool to grow to 3", func() bool { return size(p) == 3 })
}

func poolEvent(p *entities.Entity, sensor string, workrate float64, size int, high, low float64) sensors.Event {
	return sensors.Event{Entity: p.ID(), App: p.Application().ID(), Sensor: sensor, Value: map[string]any{
		policies.PoolCurrentWorkrate: workrate, policies.PoolCurrentSize: size,
		policies.PoolHighThreshold: high, policies.PoolLowThreshold: low,
	}}
}

func TestAutoscalerMultiFactor(t *testing.T) {
	m := mgmt(t)
	rising := pool(t, m, 2, nil)
	flat := pool(t, m, 2, nil)
	cfg := map[string]any{
		"loadAverageThreshold": 0.8, "loadAverageSensor": "la", "minPoolSize": 2,
		"autoscaler.factors.period": "50ms", "autoscaler.factors.window": "1s", "autoscaler.factors.horizon": "1s",
	}
	autoscale(t, m, rising, cfg)
	autoscale(t, m, flat, cfg)
	stop := make(chan struct{})
	done := make(chan struct{})
	var crossed time.Time
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			v := 0.3 + 0.015*float64(i) // +0.3 a second
			if v >= 0.8 && crossed.IsZero() {
				crossed = time.Now()
			}
			rising.SetAttribute("la", v)
			flat.SetAttribute("la", 0.6+0.01*float64(i%2))
		}
	}()
	waitFor(t, "the rising pool to grow", func() bool { return size(rising) > 2 })
	grew := time.Now()
	close(stop)
	<-done
	if !crossed.IsZero() && !grew.Before(crossed) {
		t.Errorf("grew at %v, after the load crossed its threshold at %v", grew, crossed)
	}
	if size(flat) != 2 {
		t.Errorf("the flat pool was resized to %d", size(flat))
	}
}

func TestAutoscalerMetricOnAnotherEntity(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m,
		&entities.Spec{Type: poolType, Name: "pool"},
		&entities.Spec{Type: serviceType, Name: "lb", BlueprintID: "lb"})
	p, lb := childNamed(app, "pool"), childNamed(app, "lb")
	invoke(t, p, "resize", map[string]any{"desiredSize": 2})
	waitFor(t, "the pool to be up", p.IsUp)
	autoscale(t, m, p, map[string]any{
		"metric": `$brooklyn:sensor("reqs.perNode")`, "entityWithMetric": `$brooklyn:entity("lb")`, "metricUpperBound": 100,
	})
	p.SetAttribute("reqs.perNode", 1000) // the pool's own value is not the metric
	stays(t, "no resize on the pool's own sensor", 150*time.Millisecond, func() bool { return size(p) == 2 })
	lb.SetAttribute("reqs.perNode", 150)
	waitFor(t, "the pool to grow on the load balancer's metric", func() bool { return size(p) == 3 })
}

func TestAutoscalerSquareWaveDoesNotOscillate(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	autoscale(t, m, p, map[string]any{
		"metric": "load", "metricLowerBound": 20, "metricUpperBound": 100,
		"resizeUpStabilizationDelay": "300ms", "resizeDownStabilizationDelay": "300ms",
	})
	before := count(p, attrResizes)
	// Hot and cold in turn, faster than the stabilization delays, for a second and a half.
	for i := 0; i < 15; i++ {
		v := 150.0
		if i%2 == 1 {
			v = 5
		}
		p.SetAttribute("load", v)
		time.Sleep(100 * time.Millisecond)
	}
	if n := count(p, attrResizes) - before; n != 0 || size(p) != 2 {
		t.Errorf("%d resizes under a square wave (size %d)", n, size(p))
	}
}
