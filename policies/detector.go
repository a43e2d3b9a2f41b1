package policies

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// FailureDetectorType is Brooklyn's name of the failure detector (an enricher there, and
// here); "failure-detector" is its alias.
const FailureDetectorType = "org.apache.brooklyn.policy.ha.ServiceFailureDetector"

const (
	keyFailedDelay      = "entityFailed.stabilizationDelay"
	keyRecoveredDelay   = "entityRecovered.stabilizationDelay"
	keyRepublish        = "entityFailed.republishTime"
	keyOnlyIfPreviousUp = "onlyReportIfPreviouslyUp"
	memDetector         = "detector"
)

var detectorKind = &entities.AdjunctKind{
	Name:     FailureDetectorType,
	Aliases:  []string{"failure-detector", "ServiceFailureDetector"},
	Category: entities.EnricherCategory,
	Description: "Emits ha.entityFailed when its entity, expected to run, is not up or has problems for a " +
		"stabilization delay, and ha.entityRecovered when it is healthy again for another",
	Config: []entities.ConfigKey{
		{Name: keyFailedDelay, Aliases: []string{"entityFailedStabilizationDelay"}, Type: "duration", Default: "0s", Description: "How long the entity must be failing without a break before ha.entityFailed"},
		{Name: keyRecoveredDelay, Aliases: []string{"entityRecoveredStabilizationDelay"}, Type: "duration", Default: "0s", Description: "How long a failed entity must be healthy without a break before ha.entityRecovered"},
		{Name: keyRepublish, Aliases: []string{"entityFailedRepublishTime"}, Type: "duration", Description: "Emit ha.entityFailed again this often while the entity stays failed (default: once)"},
		{Name: keyOnlyIfPreviousUp, Type: "boolean", Default: true, Description: "Report no failure for an entity that was never up"},
	},
}

func init() {
	detectorKind.Check = func(cfg map[string]any) error {
		_, err := readDetector(view{detectorKind, cfg})
		return err
	}
	detectorKind.Start = startDetector
	entities.RegisterAdjunct(detectorKind)
}

func readDetector(src configSource) (DetectorConfig, error) {
	r := &reader{src: src}
	c := DetectorConfig{
		FailedStabilizationDelay:    r.duration(keyFailedDelay),
		RecoveredStabilizationDelay: r.duration(keyRecoveredDelay),
		FailedRepublishTime:         r.duration(keyRepublish),
		OnlyReportIfPreviouslyUp:    r.bool(keyOnlyIfPreviousUp, true),
	}
	return c, r.err
}

// The sensors a failure detector watches.
var detectorInputs = map[string]bool{
	sensors.ServiceUp: true, sensors.Problems: true, sensors.ServiceStateExpected: true, sensors.ServiceState: true,
}

func startDetector(a *entities.Adjunct) error {
	cfg, err := readDetector(a)
	if err != nil {
		return err
	}
	e := a.Entity()
	var st DetectorState
	recall(a, memDetector, &st)
	// The detector reads the entity as it is when it steps; an up that came and went
	// before that still counts as having been up (Brooklyn's firstUpTime, taken from the
	// event).
	var sawUp atomic.Bool
	d := startDecider(a.Context(), func(_ context.Context, now time.Time) time.Time {
		cur := st
		if sawUp.Swap(false) {
			cur.EverUp = true
		}
		next, events, wake := StepDetector(cfg, cur, observe(e), now)
		for _, ev := range events {
			a.Logger().Warn("failure detector", "sensor", ev.Sensor, "description", ev.Description)
			emit(e, ev.Sensor, failureDescriptor(e, ev.Description))
			name := hlViolation
			if ev.Sensor == SensorEntityRecovered {
				name = hlConfirmation
			}
			a.Highlight(name, ev.Sensor+": "+ev.Description, "")
		}
		if next != st {
			st = next
			a.Remember(memDetector, st)
		}
		return wake
	})
	a.Subscribe(func(ev sensors.Event) bool {
		return ev.Entity == e.ID() && detectorInputs[ev.Sensor]
	}, func(ev sensors.Event) {
		if ev.Sensor == sensors.ServiceUp && ev.Value == true {
			sawUp.Store(true)
		}
		d.poke()
	})
	a.Highlight(hlTriggers, "Listening for service.isUp, service.problems and service.state.expected", "")
	d.poke()
	return nil
}
