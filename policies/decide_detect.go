package policies

import (
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/entities"
)

// DetectorConfig is the configuration of a failure detector (Brooklyn's
// ServiceFailureDetector).
type DetectorConfig struct {
	// FailedStabilizationDelay (entityFailed.stabilizationDelay): how long the entity
	// must be failing without a break before ha.entityFailed is emitted.
	FailedStabilizationDelay time.Duration
	// RecoveredStabilizationDelay (entityRecovered.stabilizationDelay): how long a failed
	// entity must be healthy without a break before ha.entityRecovered is emitted.
	RecoveredStabilizationDelay time.Duration
	// FailedRepublishTime (entityFailed.republishTime): while the entity stays failed,
	// ha.entityFailed is emitted again this often; 0 means once.
	FailedRepublishTime time.Duration
	// OnlyReportIfPreviouslyUp (onlyReportIfPreviouslyUp, Brooklyn's default true): no
	// failure is reported for an entity that was never up (it failed while starting).
	OnlyReportIfPreviouslyUp bool
}

// DefaultDetectorConfig returns Brooklyn's defaults: no delays, no republishing, and
// failures reported only for entities that have been up.
func DefaultDetectorConfig() DetectorConfig {
	return DetectorConfig{OnlyReportIfPreviouslyUp: true}
}

// Observation is what the detector sees of its entity: the expected state
// (service.state.expected), service.isUp, and how many service.problems it reports.
type Observation struct {
	Expected entities.Lifecycle
	Up       bool
	Problems int
}

// Health is the detector's reading of an observation.
type Health int

const (
	// Unconfirmed: the entity is not meant to be running (starting, stopping, stopped ...)
	// so it is neither failing nor healthy.
	Unconfirmed Health = iota
	Healthy
	Failing
)

// HealthOf reads an observation as Brooklyn's ComputeServiceState does: an entity
// expected to run is healthy when up without problems and failing otherwise; one
// expected ON_FIRE (a restarter gave up) is failing; one with no expected state is read
// from up and problems; any other expected state is unconfirmed.
func HealthOf(o Observation) Health {
	switch o.Expected {
	case entities.Running:
		if o.Up && o.Problems == 0 {
			return Healthy
		}
		return Failing
	case entities.OnFire:
		return Failing
	case "":
		switch {
		case o.Up && o.Problems == 0:
			return Healthy
		case o.Up && o.Problems > 0:
			return Failing
		}
	}
	return Unconfirmed
}

// Published is the last event a detector emitted.
type Published string

const (
	PublishedNone      Published = ""
	PublishedFailed    Published = "failed"
	PublishedRecovered Published = "recovered"
)

// DetectorState is a failure detector's memory between steps. Persist it (at least
// LastPublished, as Brooklyn does) so that a restarted server publishes nothing twice.
type DetectorState struct {
	LastPublished Published `json:"lastPublished,omitempty"`
	// EverUp: the entity has been seen up.
	EverUp bool `json:"everUp,omitempty"`
	// FailureStart and RecoveryStart: when the current run of failing (or, after a
	// published failure, healthy) observations began; zero when there is none.
	FailureStart  time.Time `json:"failureStart,omitzero"`
	RecoveryStart time.Time `json:"recoveryStart,omitzero"`
	// PublishFailedAt and PublishRecoveredAt: when the pending event is due.
	PublishFailedAt    time.Time `json:"publishFailedAt,omitzero"`
	PublishRecoveredAt time.Time `json:"publishRecoveredAt,omitzero"`
}

// DetectorEvent is an event the detector emits: a sensor (SensorEntityFailed or
// SensorEntityRecovered) and a description of the failure.
type DetectorEvent struct {
	Sensor      string
	Description string
}

// StepDetector is Brooklyn's ServiceFailureDetector as a step function: given the state,
// what is observed now, and the time, it returns the next state, the events to emit now,
// and when to step again if nothing changes (zero: only on the next observation).
//
// A failing entity is reported (ha.entityFailed) once it has been failing for
// FailedStabilizationDelay without a break, then every FailedRepublishTime if set; a
// reported entity that is healthy again for RecoveredStabilizationDelay without a break
// is reported recovered (ha.entityRecovered). One difference from Brooklyn: an
// unconfirmed observation (the entity is being started, stopped or restarted) cancels a
// failure or recovery still waiting for its delay, where Brooklyn lets it fire in the
// middle of a restart.
func StepDetector(cfg DetectorConfig, st DetectorState, obs Observation, now time.Time) (DetectorState, []DetectorEvent, time.Time) {
	if obs.Up {
		st.EverUp = true
	}
	switch HealthOf(obs) {
	case Failing:
		if st.LastPublished != PublishedFailed && st.FailureStart.IsZero() && (st.EverUp || !cfg.OnlyReportIfPreviouslyUp) {
			st.FailureStart = now
			st.PublishFailedAt = now.Add(cfg.FailedStabilizationDelay)
		}
		st.RecoveryStart, st.PublishRecoveredAt = time.Time{}, time.Time{}
	case Healthy:
		if st.LastPublished == PublishedFailed && st.RecoveryStart.IsZero() {
			st.RecoveryStart = now
			st.PublishRecoveredAt = now.Add(cfg.RecoveredStabilizationDelay)
		}
		st.FailureStart, st.PublishFailedAt = time.Time{}, time.Time{}
	case Unconfirmed:
		st.FailureStart, st.PublishFailedAt = time.Time{}, time.Time{}
		st.RecoveryStart, st.PublishRecoveredAt = time.Time{}, time.Time{}
	}

	var events []DetectorEvent
	var wake time.Time
	switch {
	case !st.PublishFailedAt.IsZero():
		if now.Before(st.PublishFailedAt) {
			wake = st.PublishFailedAt
			break
		}
		events = append(events, DetectorEvent{Sensor: SensorEntityFailed, Description: failureText(obs, st, now)})
		st.LastPublished = PublishedFailed
		st.PublishFailedAt = time.Time{}
		if cfg.FailedRepublishTime > 0 {
			st.PublishFailedAt = now.Add(cfg.FailedRepublishTime)
			wake = st.PublishFailedAt
		}
	case !st.PublishRecoveredAt.IsZero():
		if now.Before(st.PublishRecoveredAt) {
			wake = st.PublishRecoveredAt
			break
		}
		events = append(events, DetectorEvent{Sensor: SensorEntityRecovered, Description: fmt.Sprintf("service recovered (healthy for %s)", now.Sub(st.RecoveryStart))})
		st.LastPublished = PublishedRecovered
		st.PublishRecoveredAt, st.RecoveryStart = time.Time{}, time.Time{}
	}
	return st, events, wake
}

// failureText describes a failure as Brooklyn does: the problems, else "service not up".
func failureText(obs Observation, st DetectorState, now time.Time) string {
	var s string
	switch {
	case obs.Problems == 1:
		s = "service problem"
	case obs.Problems > 1:
		s = fmt.Sprintf("%d service problems", obs.Problems)
	case !obs.Up:
		s = "service not up"
	case obs.Expected == entities.OnFire:
		s = "service expected on fire"
	default:
		s = "service failure detected"
	}
	if !st.FailureStart.IsZero() && now.After(st.FailureStart) {
		s += fmt.Sprintf(" (for %s)", now.Sub(st.FailureStart))
	}
	return s
}
