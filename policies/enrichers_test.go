package policies_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/policies"
	"github.com/gantry-dev/gantry/sensors"
)

// deploy makes an application with basic entities as children, named as given, and the
// enrichers of the application; it waits for the start.
func deploy(t *testing.T, m *entities.Management, adjuncts []entities.AdjunctSpec, children ...string) *entities.Entity {
	t.Helper()
	spec := &entities.Spec{Type: "basic-application", Name: "enrich", Adjuncts: adjuncts}
	for _, c := range children {
		spec.Children = append(spec.Children, &entities.Spec{Type: "basic-entity", Name: c})
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range app.Adjuncts() {
		if !a.Running() {
			t.Fatalf("enricher %s is not running: %v", a, a.Highlights())
		}
	}
	return app
}

func child(t *testing.T, app *entities.Entity, name string) *entities.Entity {
	t.Helper()
	for _, c := range app.Children() {
		if c.Name() == name {
			return c
		}
	}
	t.Fatalf("no child %s", name)
	return nil
}

// waitAttr waits up to 5s for sensor of e to equal want (nil: to have no value).
func waitAttr(t *testing.T, e *entities.Entity, sensor string, want any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := e.Attribute(sensor)
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s = %#v; want %#v", sensor, e.Name(), got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNumber waits up to 5s for sensor of e to be a number for which ok says yes.
func waitNumber(t *testing.T, e *entities.Entity, sensor string, what string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := e.Attribute(sensor)
		if f, isNum := sensors.Number(v); isNum && ok(f) {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s of %s = %#v; want %s", sensor, e.Name(), v, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func enricher(typ string, cfg map[string]any) entities.AdjunctSpec {
	return entities.AdjunctSpec{Type: typ, Config: cfg}
}

func TestAggregatorFromChildren(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, []entities.AdjunctSpec{
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "load", "enricher.targetSensor": "load.total", "transformation": "sum"}),
		enricher(policies.AggregatorType, map[string]any{"sourceSensor": `$brooklyn:sensor("load")`, "targetSensor": "load.avg", "transformation": "average"}),
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "load", "enricher.targetSensor": "load.avg.all", "transformation": "average",
			"enricher.defaultMemberValue": 0}),
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "load", "enricher.targetSensor": "load.max", "transformation": "max",
			"enricher.aggregator.valueToReportIfNoSensors": -1}),
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "load", "enricher.targetSensor": "load.list", "excludeBlank": true}),
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "ok", "enricher.targetSensor": "quorate", "transformation": "isQuorate",
			"quorum.check.type": "atLeastOne"}),
		enricher("aggregator", map[string]any{"enricher.sourceSensor": "load", "enricher.targetSensor": "load.web", "transformation": "sum",
			"enricher.aggregating.entityFilter": `name startsWith "web"`}),
	}, "web1", "web2", "db")
	web1, web2, db := child(t, app, "web1"), child(t, app, "web2"), child(t, app, "db")

	// Nothing reported yet.
	waitAttr(t, app, "load.max", -1.0)
	waitAttr(t, app, "load.list", []any{})
	waitAttr(t, app, "quorate", false)
	if _, ok := app.Attribute("load.total"); ok {
		t.Error("load.total set before any child reported")
	}

	web1.SetAttribute("load", 1)
	web2.SetAttribute("load", 2.5)
	waitAttr(t, app, "load.total", 3.5)
	waitAttr(t, app, "load.avg", 1.75)
	waitAttr(t, app, "load.avg.all", 3.5/3) // db counts as 0
	waitAttr(t, app, "load.max", 2.5)
	waitAttr(t, app, "load.list", []any{1, 2.5})
	db.SetAttribute("load", "10") // a string holding a number counts
	waitAttr(t, app, "load.total", 13.5)
	waitAttr(t, app, "load.web", 3.5)
	db.SetAttribute("ok", true)
	waitAttr(t, app, "quorate", true)

	// A child that goes, and one that comes.
	if err := m.RemoveChild(context.Background(), web2); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, app, "load.total", 11.0)
	web3, err := m.AddChild(context.Background(), app, &entities.Spec{Type: "basic-entity", Name: "web3"})
	if err != nil {
		t.Fatal(err)
	}
	web3.SetAttribute("load", 4)
	waitAttr(t, app, "load.total", 15.0)
	waitAttr(t, app, "load.web", 5.0)

	// A value that is not a number leaves the sum as it was.
	db.SetAttribute("load", "lots")
	web1.SetAttribute("load", 2)
	waitAttr(t, app, "load.list", []any{2, "lots", 4})
	if v, _ := app.Attribute("load.total"); v != 15.0 {
		t.Errorf("load.total = %v after a value that is not a number; want it unchanged, 15", v)
	}
}

func TestAggregatorFromMembers(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, nil, "group", "a", "b", "c")
	group, a, b, c := child(t, app, "group"), child(t, app, "a"), child(t, app, "b"), child(t, app, "c")
	if _, err := m.AddAdjunct(group, enricher("aggregator", map[string]any{
		"enricher.sourceSensor": "up", "enricher.targetSensor": "all.up", "fromMembers": true,
		"transformation": "isQuorate", "quorum.check.type": "all",
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddAdjunct(group, enricher("aggregator", map[string]any{
		"enricher.sourceSensor": "n", "enricher.targetSensor": "n.sum", "enricher.aggregating.fromMembers": "true", "transformation": "sum",
	})); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, group, "all.up", true) // no members: all of none
	group.AddMember(a)
	group.AddMember(b)
	waitAttr(t, group, "all.up", false)
	a.SetAttribute("up", true)
	a.SetAttribute("n", 1)
	b.SetAttribute("n", 2)
	c.SetAttribute("n", 100) // not a member
	waitAttr(t, group, "n.sum", 3.0)
	b.SetAttribute("up", true)
	waitAttr(t, group, "all.up", true)
	group.AddMember(c)
	waitAttr(t, group, "all.up", false)
	waitAttr(t, group, "n.sum", 103.0)
	group.RemoveMember(c)
	group.RemoveMember(a)
	waitAttr(t, group, "n.sum", 2.0)
	waitAttr(t, group, "all.up", true)
}

func TestTransformer(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, nil, "web")
	web := child(t, app, "web")
	web.SetAttribute("host.address", "10.0.0.7")
	add := func(e *entities.Entity, typ string, cfg map[string]any) {
		t.Helper()
		if _, err := m.AddAdjunct(e, enricher(typ, cfg)); err != nil {
			t.Fatal(err)
		}
	}
	add(web, "transformer", map[string]any{"enricher.sourceSensor": "cpu", "enricher.targetSensor": "cpu.percent",
		"enricher.transformation": "value * 100"})
	add(app, policies.TransformerType, map[string]any{"enricher.producer": web.ID(), "enricher.sourceSensor": "http.port",
		"enricher.targetSensor": "web.url", "transformation": `"http://" + sensors["host.address"] + ":" + string(value) + "/"`})
	add(app, "transformer", map[string]any{"producer": `$brooklyn:entity("` + web.ID() + `")`, "enricher.triggerSensors": []any{"a", "b"},
		"enricher.targetSensor": "ab", "enricher.targetValue": `$brooklyn:formatString("%s-%s", $brooklyn:entity("` + web.ID() + `").attributeWhenReady("a"), "x")`})

	web.SetAttribute("cpu", 0.25)
	waitAttr(t, web, "cpu.percent", 25.0)
	web.SetAttribute("http.port", 8080)
	waitAttr(t, app, "web.url", "http://10.0.0.7:8080/")
	web.SetAttribute("a", "one")
	waitAttr(t, app, "ab", "one-x")
	web.SetAttribute("b", 2)
	web.SetAttribute("a", "two")
	waitAttr(t, app, "ab", "two-x")

	// An expression that fails at run time leaves the target as it was.
	web.SetAttribute("cpu", "busy")
	web.SetAttribute("cpu", 0.5)
	waitAttr(t, web, "cpu.percent", 50.0)

	// At start, the current value is transformed at once.
	add(web, "transformer", map[string]any{"enricher.sourceSensor": "cpu", "enricher.targetSensor": "cpu.half", "enricher.transformation": "value / 2"})
	waitAttr(t, web, "cpu.half", 0.25)
}

func TestPropagator(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, nil, "web", "db")
	web, db := child(t, app, "web"), child(t, app, "db")
	web.SetAttribute("main.uri", "http://10.0.0.1/")
	db.SetAttribute("db.url", "postgres://x")
	db.SetAttribute("db.secret", "s3cr3t")
	add := func(e *entities.Entity, typ string, cfg map[string]any) error {
		_, err := m.AddAdjunct(e, enricher(typ, cfg))
		return err
	}
	if err := add(app, "propagator", map[string]any{"producer": web.ID(), "propagating": []any{"main.uri", `$brooklyn:sensor("load")`},
		"sensorMapping": map[string]any{"load": "web.load"}}); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, app, "main.uri", "http://10.0.0.1/") // the current value, at start
	web.SetAttribute("load", 3)
	waitAttr(t, app, "web.load", 3) // the mapping wins over the plain name
	web.SetAttribute("main.uri", nil)
	waitAttr(t, app, "main.uri", nil)

	dbMirror, err := m.AddChild(context.Background(), app, &entities.Spec{Type: "basic-entity", Name: "mirror"})
	if err != nil {
		t.Fatal(err)
	}
	if err := add(dbMirror, policies.PropagatorType, map[string]any{"enricher.producer": db.ID(),
		"enricher.propagating.propagatingAllBut": []any{"db.secret"}}); err != nil {
		t.Fatal(err)
	}
	waitAttr(t, dbMirror, "db.url", "postgres://x")
	db.SetAttribute("db.port", 5432)
	waitAttr(t, dbMirror, "db.port", 5432)
	db.SetAttribute("db.secret", "other")
	time.Sleep(50 * time.Millisecond)
	if _, ok := dbMirror.Attribute("db.secret"); ok {
		t.Error("db.secret was propagated")
	}
	// Lifecycle sensors are the mirror's own.
	db.SetProblem("test", "on fire")
	waitAttr(t, db, sensors.ServiceState, string(entities.OnFire))
	time.Sleep(50 * time.Millisecond)
	if s, _ := dbMirror.Attribute(sensors.ServiceState); s == string(entities.OnFire) {
		t.Error("service.state was propagated by propagatingAllBut")
	}

	// Propagating from an entity to itself only works under other names.
	if err := add(web, "propagator", map[string]any{"sensorMapping": map[string]any{"load": "load.copy"}}); err != nil {
		t.Fatal(err)
	}
	web.SetAttribute("load", 4)
	waitAttr(t, web, "load.copy", 4)
}

func TestDeltaAndRates(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, []entities.AdjunctSpec{
		enricher("delta", map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.delta"}),
		enricher("org.apache.brooklyn.enricher.stock.DeltaEnricher", map[string]any{"source": "count", "target": "count.delta2"}),
		enricher(policies.TimeWeightedDeltaType, map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.perSec"}),
		enricher("org.apache.brooklyn.policy.enricher.TimeWeightedDeltaEnricher", map[string]any{"enricher.sourceSensor": "count",
			"enricher.targetSensor": "count.perMin", "unitMillis": 60000}),
		enricher("rolling-mean", map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.mean2", "windowSize": 2}),
		enricher(policies.RollingTimeWindowMeanType, map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.windowed",
			"enricher.window.duration": "10s", "enricher.window.confidenceRequired": 0}),
	})
	app.SetAttribute("count", 10)
	waitAttr(t, app, "count.mean2", 10.0)
	if _, ok := app.Attribute("count.delta"); ok {
		t.Error("a delta from one value")
	}
	time.Sleep(200 * time.Millisecond)
	app.SetAttribute("count", 110)
	waitAttr(t, app, "count.delta", 100.0)
	waitAttr(t, app, "count.delta2", 100.0)
	waitAttr(t, app, "count.mean2", 60.0)
	// 100 in about 200ms: about 500 a second, 30000 a minute.
	perSec := waitNumber(t, app, "count.perSec", "about 500", func(f float64) bool { return f > 200 && f <= 500 })
	perMin := waitNumber(t, app, "count.perMin", "about 30000", func(f float64) bool { return f > 12000 && f <= 30000 })
	if math.Abs(perMin/perSec-60) > 1e-6 {
		t.Errorf("per minute %v is not 60 times per second %v", perMin, perSec)
	}
	// The windowed mean holds the newer value for the time before it.
	waitAttr(t, app, "count.windowed", 110.0)
	app.SetAttribute("count", 50)
	waitAttr(t, app, "count.delta", -60.0)
	waitAttr(t, app, "count.mean2", 80.0)
	app.SetAttribute("count", "n/a") // skipped
	app.SetAttribute("count", 60)
	waitAttr(t, app, "count.delta", 10.0)
}

func TestDeltaResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	m, s := testenv.OpenManagement(t, dir, entities.Options{})
	app := deploy(t, m, []entities.AdjunctSpec{
		enricher("delta", map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.delta"}),
		enricher("time-weighted-delta", map[string]any{"enricher.sourceSensor": "count", "enricher.targetSensor": "count.rate"}),
	})
	app.SetAttribute("count", 10)
	deadline := time.Now().Add(5 * time.Second)
	for a := app.Adjuncts()[0]; ; time.Sleep(5 * time.Millisecond) {
		if v, _ := a.Memory("last"); v == 10.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delta did not remember the value")
		}
	}
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	s.Close()

	m2, s2 := testenv.OpenManagement(t, dir, entities.Options{})
	t.Cleanup(func() { m2.Close(); s2.Close() })
	app2, err := m2.Application("enrich")
	if err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the enrichers to run again", func() bool {
		all := app2.Adjuncts()
		return len(all) == 2 && all[0].Running() && all[1].Running()
	})
	app2.SetAttribute("count", 25)
	waitAttr(t, app2, "count.delta", 15.0) // from the 10 before the restart
	waitNumber(t, app2, "count.rate", "positive", func(f float64) bool { return f > 0 })
}

func TestEnricherConfigErrors(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, nil, "web")
	cases := []struct {
		typ  string
		cfg  map[string]any
		want string
	}{
		{"aggregator", map[string]any{"enricher.sourceSensor": "x"}, "needs enricher.targetSensor"},
		{"aggregator", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": ""}, "enricher.targetSensor: must not be empty"},
		{"aggregator", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "transformation": "median"}, `transformation: unknown transformation median`},
		{"aggregator", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "quorum.check.type": "most"}, `quorum.check.type: quorum check "most"`},
		{"aggregator", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "entityFilter": "nme == 1"},
			"entityFilter: expression \"nme == 1\": line 1, column 1: unknown name nme"},
		{"transformer", map[string]any{"enricher.targetSensor": "y", "transformation": "1"}, "needs enricher.sourceSensor or enricher.triggerSensors"},
		{"transformer", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y"}, "needs one of enricher.transformation"},
		{"transformer", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "transformation": "value +"}, "transformation: expression"},
		{"transformer", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "x", "transformation": "value"}, "set x from itself"},
		{"propagator", map[string]any{"producer": "web"}, "needs propagating, sensorMapping"},
		{"propagator", map[string]any{"propagating": []any{"a"}}, "from its own entity"},
		{"propagator", map[string]any{"producer": "x", "propagatingAll": true, "propagating": []any{"a"}}, "not both"},
		{"delta", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "x"}, "feed on itself"},
		{"rolling-mean", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y"}, "needs windowSize"},
		{"rolling-mean", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "windowSize": 0}, "windowSize: 0 is not"},
		{"time-weighted-delta", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "enricher.delta.period": "soon"}, "enricher.delta.period: soon"},
		{"rolling-time-window-mean", map[string]any{"enricher.sourceSensor": "x", "enricher.targetSensor": "y", "confidenceRequired": 2}, "confidenceRequired: 2"},
	}
	for _, c := range cases {
		_, err := m.AddAdjunct(app, enricher(c.typ, c.cfg))
		if !errors.Is(err, entities.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v; want ErrInvalid with %q", c.typ, c.cfg, err, c.want)
		}
	}
}

func TestEnricherKindsRegistered(t *testing.T) {
	for _, name := range []string{
		policies.AggregatorType, policies.TransformerType, policies.PropagatorType, policies.DeltaType,
		policies.TimeWeightedDeltaType, policies.RollingTimeWindowMeanType, policies.RollingMeanType,
		"java:org.apache.brooklyn.enricher.stock.Aggregator", "org.apache.brooklyn.enricher.stock.DeltaEnricher",
		"org.apache.brooklyn.policy.enricher.RollingTimeWindowMeanEnricher", "aggregator", "transformer", "propagator",
		"delta", "time-weighted-delta", "rolling-mean", "rolling-time-window-mean",
	} {
		k, err := entities.LookupAdjunct(name)
		if err != nil || k.Category != entities.EnricherCategory {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestExprEnv(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app := deploy(t, m, nil, "web")
	web := child(t, app, "web")
	web.SetConfig("role", "frontend")
	web.SetAttribute("machine.cpu", 0.5)
	env := policies.ExprEnv(web, 7)
	x, err := sensors.Compile(`id == "` + web.ID() + `" && name == "web" && parent == "` + app.ID() + `" && app == parent && ` +
		`type == "org.apache.brooklyn.entity.stock.BasicEntity" && config.role == "frontend" && sensors["machine.cpu"] == 0.5 && value == 7`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := x.EvalBool(env); err != nil || !ok {
		t.Errorf("env %v: %v, %v", env, ok, err)
	}
}
