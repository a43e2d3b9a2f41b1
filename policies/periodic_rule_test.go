package policies_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/policies"
)

func TestPeriodicEffector(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{{
		Type:   policies.PeriodicEffectorType,
		Config: map[string]any{"effector": "tick", "args": map[string]any{"by": 5}, "period": "100ms", "time": "now", "enabled.sensor": "ticking"},
	}}})
	svc := childNamed(app, "svc")
	waitFor(t, "three ticks", func() bool { return count(svc, attrTicks) >= 3 })
	if v, _ := svc.Attribute("test.tickedBy"); v != 5 && v != 5.0 {
		t.Errorf("ticked by %v, want the args' 5", v)
	}
	// The enabled sensor suspends the schedule, and resumes it.
	svc.SetAttribute("ticking", false)
	time.Sleep(150 * time.Millisecond)
	n := count(svc, attrTicks)
	stays(t, "no tick while suspended", 300*time.Millisecond, func() bool { return count(svc, attrTicks) == n })
	svc.SetAttribute("ticking", true)
	waitFor(t, "ticks again", func() bool { return count(svc, attrTicks) > n })
}

func TestPeriodicEffectorWaitsForTheEntity(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{{
		Type:   "periodic",
		Config: map[string]any{"effector": "tick", "period": "50ms", "wait": "50ms", "start.sensor": "ready"},
	}}})
	svc := childNamed(app, "svc")
	stays(t, "no tick before start.sensor", 200*time.Millisecond, func() bool { return count(svc, attrTicks) == 0 })
	svc.SetAttribute("ready", true)
	waitFor(t, "a tick", func() bool { return count(svc, attrTicks) >= 1 })
}

func TestPeriodicEffectorConfigChecked(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc"})
	svc := childNamed(app, "svc")
	for _, cfg := range []map[string]any{
		{"period": "1h"},
		{"effector": "tick", "period": "0s"},
		{"effector": "tick", "time": "teatime"},
		{"effector": "nope"},
	} {
		if _, err := m.AddAdjunct(svc, entities.AdjunctSpec{Type: "periodic", Config: cfg}); !errors.Is(err, entities.ErrInvalid) {
			t.Errorf("%v: %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestRulePolicy(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{{
		Type: "rule",
		Config: map[string]any{
			"condition": `(sensors["cpu"] ?? 0) > 0.9 && config.tier == "web"`,
			"triggers":  []any{"cpu"},
			"effector":  "tick", "args": map[string]any{"by": 2},
		},
	}}, Config: map[string]any{"tier": "web"}})
	svc := childNamed(app, "svc")
	svc.SetAttribute("cpu", 0.5)
	stays(t, "no firing while false", 100*time.Millisecond, func() bool { return count(svc, attrTicks) == 0 })
	svc.SetAttribute("cpu", 0.95)
	waitFor(t, "the rule to fire", func() bool { return count(svc, attrTicks) == 1 })
	// Still true: it fired on the edge, not again.
	svc.SetAttribute("cpu", 0.97)
	stays(t, "no second firing while true", 150*time.Millisecond, func() bool { return count(svc, attrTicks) == 1 })
	svc.SetAttribute("cpu", 0.2)
	svc.SetAttribute("cpu", 0.99)
	waitFor(t, "a second firing after false", func() bool { return count(svc, attrTicks) == 2 })
}

func TestRuleDoesNotFireAgainAfterRestart(t *testing.T) {
	dir := t.TempDir()
	m, s := open(t, dir)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc", Adjuncts: []entities.AdjunctSpec{{
		Type: policies.RuleType, Config: map[string]any{"condition": `sensors.hot == true`, "effector": "tick"},
	}}})
	svc := childNamed(app, "svc")
	svc.SetAttribute("hot", true)
	waitFor(t, "the rule to fire", func() bool { return count(svc, attrTicks) == 1 })
	waitFor(t, "the condition remembered", func() bool {
		v, _ := svc.Adjuncts()[0].Memory("conditionTrue")
		return v == true
	})
	m.Close()
	s.Close()
	m2, s2 := open(t, dir)
	defer func() { m2.Close(); s2.Close() }()
	svc2, err := m2.Entity(svc.ID())
	if err != nil {
		t.Fatal(err)
	}
	svc2.SetAttribute("other", 1)
	stays(t, "no second firing after the restart", 200*time.Millisecond, func() bool { return count(svc2, attrTicks) == 1 })
}

func TestRuleConfigChecked(t *testing.T) {
	m := mgmt(t)
	app := deployApp(t, m, &entities.Spec{Type: serviceType, Name: "svc"})
	svc := childNamed(app, "svc")
	for _, cfg := range []map[string]any{
		{"effector": "tick"},
		{"condition": "true"},
		{"condition": "sensors[", "effector": "tick"},
		{"condition": "nosuchvar > 1", "effector": "tick"},
		{"condition": "true", "effector": "nope"},
		{"condition": "true", "effector": "tick", "triggers": 5},
	} {
		if _, err := m.AddAdjunct(svc, entities.AdjunctSpec{Type: "rule", Config: cfg}); !errors.Is(err, entities.ErrInvalid) {
			t.Errorf("%v: %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestRuleFires(t *testing.T) {
	now := time.Now()
	tests := []struct {
		was, is   bool
		lastFired time.Time
		cooldown  time.Duration
		want      bool
	}{
		{false, true, time.Time{}, 0, true},
		{true, true, time.Time{}, 0, false},
		{false, false, time.Time{}, 0, false},
		{true, false, time.Time{}, 0, false},
		{false, true, now.Add(-time.Second), time.Minute, false},
		{false, true, now.Add(-time.Minute), time.Minute, true},
	}
	for _, tt := range tests {
		if got := policies.RuleFires(tt.was, tt.is, tt.lastFired, tt.cooldown, now); got != tt.want {
			t.Errorf("RuleFires(%+v) = %v", tt, got)
		}
	}
}

func TestPolicyKindsRegistered(t *testing.T) {
	for _, name := range []string{
		policies.AutoScalerType, "autoscaler", policies.FailureDetectorType, policies.RestarterType,
		policies.ReplacerType, policies.PeriodicEffectorType, policies.RuleType, "rule", "java:" + policies.RestarterType,
	} {
		if _, err := entities.LookupAdjunct(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
