package entities

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/sensors"
)

// attributeWhenReady is the value of target's sensor once it is ready (truthy, unless
// told otherwise), waiting for it on the event bus.
func (ev *evaluator) attributeWhenReady(ctx context.Context, target *Entity, sensor string, opts blueprints.WaitOptions) (any, error) {
	if v, ok := ready(target, sensor, opts); ok {
		return v, nil
	}
	if s := ev.starting; s != nil && (target == s || isBelow(target, s)) {
		return nil, errDeferred
	}
	if err := waitProblem(target, sensor, opts); err != nil {
		return nil, err
	}
	if ev.noWait {
		return nil, errNotReady
	}
	return ev.m.awaitAttribute(ctx, target, sensor, opts)
}

// ready returns the sensor's value and whether it is what attributeWhenReady waits for.
func ready(target *Entity, sensor string, opts blueprints.WaitOptions) (any, bool) {
	v, ok := target.Attribute(sensor)
	if opts.WaitForTruthy {
		return v, blueprints.Truthy(v)
	}
	return v, ok && v != nil
}

// waitProblem says why waiting for target's sensor is pointless: it is on fire (when
// abort_if_on_fire) or unmanaged.
func waitProblem(target *Entity, sensor string, opts blueprints.WaitOptions) error {
	if target.Expected() == Destroyed {
		return fmt.Errorf("gave up waiting for sensor %s of %s: the entity was unmanaged", sensor, target)
	}
	if opts.AbortIfOnFire && target.State() == OnFire {
		why := ""
		if p, _ := target.Attribute(sensors.Problems); p != nil {
			if m, _ := p.(map[string]any); len(m) > 0 {
				var parts []string
				for _, k := range slices.Sorted(maps.Keys(m)) {
					parts = append(parts, fmt.Sprint(m[k]))
				}
				why = " (" + strings.Join(parts, "; ") + ")"
			}
		}
		return fmt.Errorf("gave up waiting for sensor %s of %s: the entity is on fire%s; abort_if_on_fire: false waits anyway", sensor, target, why)
	}
	return nil
}

// isDown reports whether target is stopping or stopped, when timeout_if_down applies.
func isDown(target *Entity) bool {
	switch target.Expected() {
	case Stopping, Stopped:
		return true
	}
	return false
}

// awaitAttribute waits, as a step of the task in ctx, until target's sensor is ready,
// the target is on fire or unmanaged, a timeout passes or ctx ends. It is woken by the
// sensor's events (and those of the target's state), never by polling.
func (m *Management) awaitAttribute(ctx context.Context, target *Entity, sensor string, opts blueprints.WaitOptions) (any, error) {
	wake := make(chan struct{}, 1)
	cancel := m.bus.Subscribe(func(ev sensors.Event) bool {
		return ev.Entity == target.id &&
			(ev.Sensor == sensor || ev.Sensor == sensors.ServiceState || ev.Sensor == sensors.ServiceStateExpected)
	}, func(sensors.Event) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer cancel()
	var result any
	err := Step(ctx, "Waiting for "+target.Name()+" "+sensor, func(ctx context.Context) error {
		what := "truthy"
		if !opts.WaitForTruthy {
			what = "set"
		}
		limit := "no time limit"
		var deadline <-chan time.Time
		if opts.Timeout >= 0 {
			limit = "at most " + opts.Timeout.String()
			t := time.NewTimer(opts.Timeout)
			defer t.Stop()
			deadline = t.C
		}
		Logf(ctx, "waiting for sensor %s of %s to be %s (%s)", sensor, target, what, limit)
		started := time.Now()
		var down *time.Timer
		defer func() {
			if down != nil {
				down.Stop()
			}
		}()
		var downC <-chan time.Time
		for {
			if v, ok := ready(target, sensor, opts); ok {
				result = v
				Logf(ctx, "%s of %s is %s, after %s", sensor, target.Name(), blueprints.Text(v), time.Since(started).Round(time.Millisecond))
				return nil
			}
			if err := waitProblem(target, sensor, opts); err != nil {
				return err
			}
			switch {
			case isDown(target) && down == nil && opts.TimeoutIfDown >= 0:
				down = time.NewTimer(opts.TimeoutIfDown)
				downC = down.C
			case !isDown(target) && down != nil:
				down.Stop()
				down, downC = nil, nil
			}
			select {
			case <-wake:
			case <-deadline:
				return fmt.Errorf("gave up waiting for sensor %s of %s after %s (timeout)", sensor, target, opts.Timeout)
			case <-downC:
				return fmt.Errorf("gave up waiting for sensor %s of %s: the entity is %s (timeout_if_down %s)", sensor, target, strings.ToLower(string(target.Expected())), opts.TimeoutIfDown)
			case <-ctx.Done():
				return fmt.Errorf("stopped waiting for sensor %s of %s: %w", sensor, target, ctx.Err())
			}
		}
	})
	return result, err
}
