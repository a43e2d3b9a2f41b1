package policies

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// PeriodicEffectorType is Brooklyn's name of the periodic effector policy; "periodic" is
// its alias.
const PeriodicEffectorType = "org.apache.brooklyn.policy.action.PeriodicEffectorPolicy"

const (
	keyEffector      = "effector"
	keyArgs          = "args"
	keyPeriod        = "period"
	keyTime          = "time"
	keyWait          = "wait"
	keyStartSensor   = "start.sensor"
	keyEnabledSensor = "enabled.sensor"
	memLastRun       = "lastRun" // when the last run was due (ms)
	memNextRun       = "nextRun" // when the next run is due (ms)
	memStarted       = "started" // the start sensor was seen true
)

var periodicKind = &entities.AdjunctKind{
	Name:        PeriodicEffectorType,
	Aliases:     []string{"periodic", "PeriodicEffectorPolicy"},
	Category:    entities.PolicyCategory,
	Description: "Invokes an effector of its entity every period, from a time of day or after a wait, once the entity is up",
	Config: []entities.ConfigKey{
		{Name: keyEffector, Type: "string", Description: "The effector to invoke (required)"},
		{Name: keyArgs, Type: "map", Description: "The effector's arguments ($brooklyn: values are evaluated at each run)"},
		{Name: keyPeriod, Type: "duration", Default: "1h", Description: "The time between runs"},
		{Name: keyTime, Type: "string", Description: "The first run: a time of day (HH:mm:ss, server time), now, or seconds since the epoch"},
		{Name: keyWait, Type: "duration", Description: "The first run after this wait (when time is not set; default: one period)"},
		{Name: keyStartSensor, Type: "string", Default: sensors.ServiceUp, Description: "The schedule starts when this sensor is first true"},
		{Name: keyEnabledSensor, Type: "string", Description: "A sensor that suspends (false) and resumes (true) the schedule"},
	},
}

func init() {
	periodicKind.Check = func(cfg map[string]any) error {
		_, err := readPeriodic(view{periodicKind, cfg})
		return err
	}
	periodicKind.Start = startPeriodic
	entities.RegisterAdjunct(periodicKind)
}

type periodicSettings struct {
	schedule      PeriodicConfig
	effector      string
	startSensor   string
	enabledSensor string
}

func readPeriodic(src configSource) (periodicSettings, error) {
	r := &reader{src: src}
	s := periodicSettings{
		schedule: PeriodicConfig{
			Period:   r.duration(keyPeriod),
			Time:     r.str(keyTime),
			Wait:     r.duration(keyWait),
			Location: time.Local,
		},
		effector:      r.str(keyEffector),
		startSensor:   r.sensor(keyStartSensor),
		enabledSensor: r.sensor(keyEnabledSensor),
	}
	if r.err != nil {
		return s, r.err
	}
	if s.effector == "" {
		return s, &entities.KeyError{Key: keyEffector, Err: fmt.Errorf("is required: %w", ErrInvalid)}
	}
	if err := s.schedule.Validate(); err != nil {
		key := keyPeriod
		if s.schedule.Period > 0 && s.schedule.Wait >= 0 {
			key = keyTime
		}
		return s, &entities.KeyError{Key: key, Err: err}
	}
	return s, nil
}

func startPeriodic(a *entities.Adjunct) error {
	s, err := readPeriodic(a)
	if err != nil {
		return err
	}
	e := a.Entity()
	if _, ok := e.Type().Effector(s.effector); !ok {
		return &entities.KeyError{Key: keyEffector, Err: invalid("entity %s has no effector %q", e.ID(), s.effector)}
	}
	var started, enabled atomic.Bool
	enabled.Store(true)
	if b, ok := a.Memory(memStarted); ok && b == true {
		started.Store(true)
	}
	check := func() {
		if v, _ := e.Attribute(s.startSensor); v == true && !started.Load() {
			started.Store(true)
			a.Remember(memStarted, true)
			a.Highlight(hlConfirmation, "Starting effector invocation schedule", "")
		}
		if s.enabledSensor != "" {
			v, ok := e.Attribute(s.enabledSensor)
			on := !ok || v == true
			if enabled.Swap(on) != on {
				if on {
					a.Highlight(hlConfirmation, "Resuming effector invocation schedule", "")
				} else {
					a.Highlight(hlViolation, "Suspending effector invocation", "")
				}
			}
		}
	}
	// A run that fell due while the policy was not running is not caught up (Brooklyn
	// drops it too): the schedule goes on from now.
	next := a.MemoryTime(memNextRun)
	if next.Before(time.Now()) {
		next = time.Time{}
	}
	d := startDecider(a.Context(), func(ctx context.Context, now time.Time) time.Time {
		check()
		if !started.Load() {
			return time.Time{}
		}
		if next.IsZero() {
			n, err := NextRun(s.schedule, a.MemoryTime(memLastRun), now)
			if err != nil {
				a.Highlight(hlViolation, err.Error(), "")
				return time.Time{}
			}
			next = n
			a.Remember(memNextRun, next)
		}
		if now.Before(next) {
			return next
		}
		if enabled.Load() {
			run(ctx, a, e, s.effector)
			if ctx.Err() != nil {
				return time.Time{}
			}
		}
		a.Remember(memLastRun, next)
		n, err := NextRun(s.schedule, next, time.Now())
		if err != nil {
			return time.Time{}
		}
		next = n
		a.Remember(memNextRun, next)
		return next
	})
	watch := []string{s.startSensor, s.enabledSensor}
	a.Subscribe(func(ev sensors.Event) bool {
		return ev.Entity == e.ID() && (ev.Sensor == watch[0] || (watch[1] != "" && ev.Sensor == watch[1]))
	}, func(sensors.Event) { d.poke() })
	a.Highlight(hlTriggers, fmt.Sprintf("Invoking %s every %s once %s is true", s.effector, s.schedule.Period, s.startSensor), "")
	d.poke()
	return nil
}

// run invokes the effector with its arguments, evaluated now.
func run(ctx context.Context, a *entities.Adjunct, e *entities.Entity, effector string) {
	args, err := resolveArgs(a, keyArgs)
	if err != nil {
		a.Highlight(hlViolation, fmt.Sprintf("Arguments of %s: %v", effector, err), "")
		return
	}
	if _, err := invokeAndWait(ctx, a, e, effector, args); err != nil && ctx.Err() == nil {
		a.Logger().Warn("periodic effector failed", "entity", e.ID(), "effector", effector, "err", err)
		a.Highlight("lastFailure", fmt.Sprintf("%s failed: %v", effector, err), "")
	}
}

// resolveArgs reads a map config key with its $brooklyn: values evaluated.
func resolveArgs(a *entities.Adjunct, key string) (map[string]any, error) {
	v, err := a.Resolve(key)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("%s: %v is not a map: %w", key, v, ErrInvalid)
}
