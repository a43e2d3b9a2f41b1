package policies_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/policies"
	"github.com/gantry-dev/gantry/sensors"
)

// kill makes a service not up, as a dead container or process does.
func kill(e *entities.Entity) { e.SetNotUp(notUpKilled, "killed by the test") }

func TestDetectorAndRestarter(t *testing.T) {
	m := mgmt(t)
	failed := watch(t, m, policies.SensorEntityFailed)
	recovered := watch(t, m, policies.SensorEntityRecovered)
	gaveUp := watch(t, m, policies.SensorEntityRestartFailed)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{
		{Type: policies.FailureDetectorType, Config: map[string]any{"entityFailed.stabilizationDelay": "100ms"}},
		{Type: "restarter"},
	}})
	svc := childNamed(app, "svc")
	waitFor(t, "the service to be up", svc.IsUp)

	// A failure shorter than the stabilization delay is not reported.
	kill(svc)
	time.Sleep(30 * time.Millisecond)
	svc.SetNotUp(notUpKilled, "")
	stays(t, "no failure reported for a blip", 200*time.Millisecond, func() bool { return failed.count() == 0 })

	// A failure that lasts is reported, and the restarter restarts the service.
	kill(svc)
	waitFor(t, "a restart", func() bool { return count(svc, attrRestarts) == 1 })
	waitFor(t, "the service up again", func() bool { return svc.IsUp() && svc.State() == entities.Running })
	waitFor(t, "ha.entityRecovered", func() bool { return recovered.count() == 1 })
	if failed.count() != 1 {
		t.Errorf("%d ha.entityFailed, want 1", failed.count())
	}

	// It fails again within 3 minutes: the restarter gives up and the service is ON_FIRE.
	kill(svc)
	waitFor(t, "ha.entityFailed.restart", func() bool { return gaveUp.count() == 1 })
	waitFor(t, "ON_FIRE", func() bool { return svc.State() == entities.OnFire })
	stays(t, "no second restart", 200*time.Millisecond, func() bool { return count(svc, attrRestarts) == 1 })
}

func TestRestarterGivesUpWhenTheRestartFails(t *testing.T) {
	m := mgmt(t)
	gaveUp := watch(t, m, policies.SensorEntityRestartFailed)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Config: map[string]any{cfgFail: true}, Adjuncts: []entities.AdjunctSpec{
		{Type: "failure-detector"}, {Type: policies.RestarterType},
	}})
	svc := childNamed(app, "svc")
	waitFor(t, "the service to be up", svc.IsUp)
	kill(svc)
	waitFor(t, "ha.entityFailed.restart", func() bool { return gaveUp.count() == 1 })
	waitFor(t, "ON_FIRE", func() bool { return svc.State() == entities.OnFire })
	if n := count(svc, attrRestarts); n != 1 {
		t.Errorf("%d restarts, want 1", n)
	}
}

func TestDetectorDoesNotRepublishAfterRestart(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{{Type: "failure-detector"}}})
	svc := childNamed(app, "svc")
	waitFor(t, "the service to be up", svc.IsUp)
	failed := watch(t, m, policies.SensorEntityFailed)
	kill(svc)
	waitFor(t, "ha.entityFailed", func() bool { return failed.count() == 1 })
	a := svc.Adjuncts()[0]
	waitFor(t, "the failure remembered", func() bool {
		v, _ := a.Memory("detector")
		return v != nil
	})
	m.Close()
	s.Close()

	m2, s2 := open(t, dir)
	defer func() { m2.Close(); s2.Close() }()
	failed2 := watch(t, m2, policies.SensorEntityFailed)
	svc2, err := m2.Entity(svc.ID())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the detector to run again", func() bool { return len(svc2.Adjuncts()) == 1 && svc2.Adjuncts()[0].Running() })
	svc2.SetAttribute("unrelated", 1)
	stays(t, "no second ha.entityFailed", 200*time.Millisecond, func() bool { return failed2.count() == 0 })
}

// memberFailed publishes what a member's restarter emits when it gives up.
func memberFailed(member *entities.Entity) {
	member.Management().Bus().Publish(sensors.Event{Entity: member.ID(), App: member.Application().ID(), Sensor: policies.SensorEntityRestartFailed, Value: "gave up"})
}

func TestReplacer(t *testing.T) {
	m := mgmt(t)
	p := pool(t, m, 2, nil)
	if _, err := m.AddAdjunct(p, entities.AdjunctSpec{Type: "replacer"}); err != nil {
		t.Fatal(err)
	}
	first := p.Members()[0]
	memberFailed(first)
	waitFor(t, "the member replaced", func() bool { return !p.HasMember(first) && size(p) == 2 })

	// A member that keeps dying: each new one fails in turn. The third recurrence gives up.
	for i := 0; i < 3; i++ {
		newest := p.Members()[len(p.Members())-1]
		memberFailed(newest)
		if i < 2 {
			waitFor(t, "the newest member replaced", func() bool { return !p.HasMember(newest) && size(p) == 2 })
		}
	}
	waitFor(t, "the cluster ON_FIRE", func() bool { return p.State() == entities.OnFire })
	if n := count(p, attrResizes); n != 1 {
		t.Errorf("resize ran %d times; replacements are not resizes", n)
	}

	// Failures of entities that are not members are none of its business.
	other := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "other"})
	memberFailed(childNamed(other, "other"))
}

func TestReplacerFailing(t *testing.T) {
	m := mgmt(t)
	replacementFailed := watch(t, m, policies.SensorEntityReplacementFailed)
	p := pool(t, m, 2, map[string]any{cfgFail: true})
	if _, err := m.AddAdjunct(p, entities.AdjunctSpec{Type: policies.ReplacerType, Config: map[string]any{"failOnNumRecurringFailures": 2}}); err != nil {
		t.Fatal(err)
	}
	memberFailed(p.Members()[0])
	waitFor(t, "ha.entityFailed.replacement", func() bool { return replacementFailed.count() == 1 })
	waitFor(t, "the cluster ON_FIRE", func() bool { return p.State() == entities.OnFire })
	memberFailed(p.Members()[1])
	waitFor(t, "a second failed replacement", func() bool { return replacementFailed.count() == 2 })
	// Two failed replacements within 5 minutes: the third failure is not acted on.
	memberFailed(p.Members()[0])
	stays(t, "no third attempt", 200*time.Millisecond, func() bool { return replacementFailed.count() == 2 })
}

func TestHAConfigChecked(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc"})
	svc := childNamed(app, "svc")
	for _, spec := range []entities.AdjunctSpec{
		{Type: "restarter", Config: map[string]any{"failOnRecurringFailuresInThisDuration": "a while"}},
		{Type: "restarter", Config: map[string]any{"setOnFireOnFailure": "perhaps"}},
		{Type: "replacer", Config: map[string]any{"failOnNumRecurringFailures": -1}},
		{Type: "failure-detector", Config: map[string]any{"entityRecoveredStabilizationDelay": "x"}},
	} {
		if _, err := m.AddAdjunct(svc, spec); !errors.Is(err, entities.ErrInvalid) {
			t.Errorf("%v: %v, want ErrInvalid", spec, err)
		}
	}
	// Brooklyn's forms are accepted: a number of milliseconds, a duration in words.
	for _, spec := range []entities.AdjunctSpec{
		{Type: "replacer", Config: map[string]any{"failOnRecurringFailuresInThisDuration": 300000}},
		{Type: "restarter", Config: map[string]any{"failOnRecurringFailuresInThisDuration": "5 minutes"}},
	} {
		if _, err := m.AddAdjunct(svc, spec); err != nil {
			t.Errorf("%v: %v", spec, err)
		}
	}
}
