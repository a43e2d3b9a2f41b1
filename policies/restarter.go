package policies

import (
	"fmt"
	"slices"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// RestarterType is Brooklyn's name of the restarter; "restarter" is its alias.
const RestarterType = "org.apache.brooklyn.policy.ha.ServiceRestarter"

const (
	keyRecurringDuration = "failOnRecurringFailuresInThisDuration"
	keySetOnFire         = "setOnFireOnFailure"
	keyFailureSensor     = "failureSensorToMonitor"
	memFailures          = "failures"
)

var restarterKind = &entities.AdjunctKind{
	Name:     RestarterType,
	Aliases:  []string{"restarter", "ServiceRestarter"},
	Category: entities.PolicyCategory,
	Description: "Restarts its entity when it fails (ha.entityFailed); gives up, sets it ON_FIRE and emits " +
		"ha.entityFailed.restart when it fails again within a time or the restart fails",
	Config: []entities.ConfigKey{
		{Name: keyRecurringDuration, Type: "duration", Default: "3m", Description: "A failure within this time of the previous one is not restarted"},
		{Name: keySetOnFire, Type: "boolean", Default: true, Description: "Set the entity ON_FIRE when giving up"},
		{Name: keyFailureSensor, Type: "string", Default: SensorEntityFailed, Description: "The notification that triggers a restart"},
	},
}

func init() {
	restarterKind.Check = func(cfg map[string]any) error {
		_, _, err := readRestarter(view{restarterKind, cfg})
		return err
	}
	restarterKind.Start = startRestarter
	entities.RegisterAdjunct(restarterKind)
}

func readRestarter(src configSource) (RestartConfig, string, error) {
	r := &reader{src: src}
	c := RestartConfig{
		FailOnRecurringFailuresInThisDuration: r.duration(keyRecurringDuration),
		SetOnFireOnFailure:                    r.bool(keySetOnFire, true),
	}
	sensor := r.sensor(keyFailureSensor)
	if sensor == "" {
		sensor = SensorEntityFailed // unset, or a $brooklyn: value not evaluated yet (in a check)
	}
	return c, sensor, r.err
}

func startRestarter(a *entities.Adjunct) error {
	cfg, sensor, err := readRestarter(a)
	if err != nil {
		return err
	}
	e := a.Entity()
	a.Highlight(hlTriggers, fmt.Sprintf("Listening for %s on %s", sensor, e.Name()), "")
	// Failures are handled one at a time, in order, on the subscription's goroutine, as
	// Brooklyn's synchronized onDetectedFailure does.
	a.SubscribeSensor(sensor, func(ev sensors.Event) {
		ctx := a.Context()
		now := time.Now()
		var seen []time.Time
		recall(a, memFailures, &seen)
		d := DecideRestart(cfg, seen, now)
		// Every failure counts, restarted or not; only the latest few matter.
		seen = append(seen, now)
		a.Remember(memFailures, lastN(seen, 5))
		if d.Restart {
			a.Highlight(hlViolation, "Failure detected and restart triggered", "")
			if _, err := invokeAndWait(ctx, a, e, "restart", nil); err != nil {
				if ctx.Err() != nil {
					return
				}
				d = GiveUpRestart(cfg, fmt.Sprintf("restart failed: %v", err))
			}
		}
		if !d.Restart {
			giveUpRestart(a, e, d)
		}
	}, e)
	return nil
}

// giveUpRestart does what Brooklyn's onRestartFailed does.
func giveUpRestart(a *entities.Adjunct, e *entities.Entity, d RestartDecision) {
	a.Logger().Warn("restarter gave up", "entity", e.ID(), "reason", d.Reason)
	a.Highlight(hlViolation, d.Reason, "")
	if d.OnFire {
		e.SetExpected(entities.OnFire)
	}
	emit(e, SensorEntityRestartFailed, failureDescriptor(e, d.Reason))
}

// lastN keeps the last n times.
func lastN(ts []time.Time, n int) []time.Time { return slices.Clone(ts[max(0, len(ts)-n):]) }
