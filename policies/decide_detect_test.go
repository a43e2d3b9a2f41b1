package policies

import (
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
)

func TestHealthOf(t *testing.T) {
	tests := []struct {
		obs  Observation
		want Health
	}{
		{Observation{Expected: entities.Running, Up: true}, Healthy},
		{Observation{Expected: entities.Running, Up: false}, Failing},
		{Observation{Expected: entities.Running, Up: true, Problems: 1}, Failing},
		{Observation{Expected: entities.OnFire, Up: true}, Failing},
		{Observation{Expected: entities.Starting, Up: false, Problems: 2}, Unconfirmed},
		{Observation{Expected: entities.Stopping, Up: false}, Unconfirmed},
		{Observation{Expected: entities.Stopped}, Unconfirmed},
		{Observation{Up: true}, Healthy},
		{Observation{Up: true, Problems: 1}, Failing},
		{Observation{Up: false, Problems: 1}, Unconfirmed},
		{Observation{}, Unconfirmed},
	}
	for _, tt := range tests {
		if got := HealthOf(tt.obs); got != tt.want {
			t.Errorf("HealthOf(%+v) = %v, want %v", tt.obs, got, tt.want)
		}
	}
}

func TestStepDetector(t *testing.T) {
	up := Observation{Expected: entities.Running, Up: true}
	down := Observation{Expected: entities.Running, Up: false}
	problem := Observation{Expected: entities.Running, Up: true, Problems: 1}
	starting := Observation{Expected: entities.Starting}
	const none = time.Duration(-1)
	type step struct {
		d      time.Duration // when, after t0
		obs    Observation
		events string // sensors emitted, space-separated
		wake   time.Duration
	}
	delays := DetectorConfig{FailedStabilizationDelay: 30 * time.Second, RecoveredStabilizationDelay: time.Minute, OnlyReportIfPreviouslyUp: true}
	republish := DefaultDetectorConfig()
	republish.FailedRepublishTime = time.Minute
	s := time.Second
	tests := []struct {
		name  string
		cfg   DetectorConfig
		start DetectorState
		steps []step
	}{
		{
			name: "no delay: failed at once, recovered at once",
			cfg:  DefaultDetectorConfig(),
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "ha.entityFailed", none},
				{20 * s, down, "", none},
				{30 * s, up, "ha.entityRecovered", none},
				{40 * s, up, "", none},
			},
		},
		{
			name: "never up: failures are not reported",
			cfg:  DefaultDetectorConfig(),
			steps: []step{
				{0, starting, "", none},
				{10 * s, down, "", none},
				{20 * s, Observation{Expected: entities.Running, Problems: 1}, "", none},
			},
		},
		{
			name: "never up, reporting anyway",
			cfg:  DetectorConfig{},
			steps: []step{
				{0, down, "ha.entityFailed", none},
			},
		},
		{
			name: "failure stabilization: reported after 30s down without a break",
			cfg:  delays,
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "", 40 * s},
				{25 * s, down, "", 40 * s},
				{40 * s, down, "ha.entityFailed", none},
			},
		},
		{
			name: "down-up-down restarts the failure delay",
			cfg:  delays,
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "", 40 * s},
				{20 * s, up, "", none},
				{30 * s, down, "", 60 * s},
				{40 * s, down, "", 60 * s},
				{60 * s, problem, "ha.entityFailed", none},
			},
		},
		{
			name: "recovery stabilization: up-down-up restarts the recovery delay",
			cfg:  delays,
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "", 40 * s},
				{40 * s, down, "ha.entityFailed", none},
				{50 * s, up, "", 110 * s},
				{70 * s, down, "", none},
				{80 * s, up, "", 140 * s},
				{140 * s, up, "ha.entityRecovered", none},
				{150 * s, up, "", none},
			},
		},
		{
			name: "republish while failed, stop once recovered",
			cfg:  republish,
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "ha.entityFailed", 70 * s},
				{30 * s, down, "", 70 * s},
				{70 * s, down, "ha.entityFailed", 130 * s},
				{100 * s, up, "ha.entityRecovered", none},
				{130 * s, up, "", none},
			},
		},
		{
			name: "a restart in the middle cancels a pending failure",
			cfg:  delays,
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "", 40 * s},
				{20 * s, starting, "", none},
				{40 * s, starting, "", none},
				{50 * s, up, "", none},
			},
		},
		{
			name: "a restarter giving up (expected ON_FIRE) is still failed: no duplicate",
			cfg:  DefaultDetectorConfig(),
			steps: []step{
				{0, up, "", none},
				{10 * s, down, "ha.entityFailed", none},
				{20 * s, Observation{Expected: entities.OnFire}, "", none},
			},
		},
		{
			name:  "after a server restart: a failure already published is not published again",
			cfg:   DefaultDetectorConfig(),
			start: DetectorState{LastPublished: PublishedFailed, EverUp: true},
			steps: []step{
				{0, down, "", none},
				{10 * s, up, "ha.entityRecovered", none},
			},
		},
		{
			name:  "after a server restart: a pending failure is still due",
			cfg:   delays,
			start: DetectorState{EverUp: true, FailureStart: at(-20 * s), PublishFailedAt: at(10 * s)},
			steps: []step{
				{0, down, "", 10 * s},
				{10 * s, down, "ha.entityFailed", none},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.start
			for _, sp := range tt.steps {
				var evs []DetectorEvent
				var wake time.Time
				st, evs, wake = StepDetector(tt.cfg, st, sp.obs, at(sp.d))
				var names []string
				for _, e := range evs {
					names = append(names, e.Sensor)
					if e.Description == "" {
						t.Errorf("at %v: event %s without a description", sp.d, e.Sensor)
					}
				}
				if got := strings.Join(names, " "); got != sp.events {
					t.Errorf("at %v (%+v): events %q, want %q", sp.d, sp.obs, got, sp.events)
				}
				wantWake := time.Time{}
				if sp.wake != none {
					wantWake = at(sp.wake)
				}
				if !wake.Equal(wantWake) {
					t.Errorf("at %v: wake at %v, want %v", sp.d, wake.Sub(t0), sp.wake)
				}
			}
		})
	}
}

func TestDetectorDescription(t *testing.T) {
	cfg := DetectorConfig{FailedStabilizationDelay: 10 * time.Second}
	st, _, _ := StepDetector(cfg, DetectorState{EverUp: true}, Observation{Expected: entities.Running, Up: true, Problems: 2}, t0)
	_, evs, _ := StepDetector(cfg, st, Observation{Expected: entities.Running, Up: true, Problems: 2}, at(10*time.Second))
	if len(evs) != 1 || evs[0].Description != "2 service problems (for 10s)" {
		t.Errorf("events %+v", evs)
	}
}
