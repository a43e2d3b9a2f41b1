package entities_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
)

// Test kinds for the DSL: a producer publishes the sensors its config names when it
// starts; a consumer records at start what its config says; a selfish one publishes a
// sensor of its own and then reads a config value that waits for it.
func init() {
	entities.Register(&entities.Type{
		Name: "test.producer",
		Config: []entities.ConfigKey{
			{Name: "publish", Type: "map"},
		},
		Start: func(ctx context.Context, e *entities.Entity) error {
			v, _ := e.Config("publish")
			m, _ := v.(map[string]any)
			for k, x := range m {
				e.SetAttribute(k, x)
			}
			return nil
		},
	})
	entities.Register(&entities.Type{
		Name: "test.consumer",
		Config: []entities.ConfigKey{
			{Name: "url", Type: "string"},
			{Name: "port", Type: "integer"},
			{Name: "env", Type: "stringmap"},
		},
		Start: func(ctx context.Context, e *entities.Entity) error {
			e.SetAttribute("seen.url", e.ConfigString("url"))
			if v, ok := e.Config("port"); ok {
				e.SetAttribute("seen.port", v)
			}
			if v, ok := e.Config("env"); ok {
				e.SetAttribute("seen.env", v)
			}
			return nil
		},
	})
	entities.Register(&entities.Type{
		Name: "test.selfish",
		Config: []entities.ConfigKey{
			{Name: "command", Type: "string"},
		},
		Start: func(ctx context.Context, e *entities.Entity) error {
			e.SetAttribute("own.port", 8080)
			e.SetAttribute("seen.command", e.ConfigString("command"))
			return nil
		},
	})
}

// dslApp is an application of a producer db and whatever else is given.
func dslApp(services ...*entities.Spec) *entities.Spec {
	return &entities.Spec{Type: "basic-application", Name: "dsl", Children: services}
}

// findTask finds, depth first, a task named name in the task trees of e.
func findTask(m *entities.Management, e *entities.Entity, name string) *entities.Task {
	var walk func(ts []*entities.Task) *entities.Task
	walk = func(ts []*entities.Task) *entities.Task {
		for _, t := range ts {
			if t.Snapshot().Name == name {
				return t
			}
			if f := walk(t.Children()); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(m.Tasks(e))
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustFind(t *testing.T, m *entities.Management, app *entities.Entity, name string) *entities.Entity {
	t.Helper()
	e, err := m.FindEntity(app, name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDSLConsumerWaitsForProducersAddress(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	url := `$brooklyn:formatString("redis://%s:%s", $brooklyn:entity("db").attributeWhenReady("host.address"), 6379)`
	app, task, err := m.Deploy(context.Background(), dslApp(
		&entities.Spec{Type: "basic-entity", Name: "db", BlueprintID: "db"},
		&entities.Spec{Type: "test.consumer", Name: "web", Config: map[string]any{
			"url":  url,
			"port": `$brooklyn:entity("db").attributeWhenReady("port")`,
			"env":  map[string]any{"DB": `$brooklyn:entity("db").attributeWhenReady("host.address")`, "PLAIN": "x"},
		}},
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, web := mustFind(t, m, app, "db"), mustFind(t, m, app, "web")
	// web waits for db, saying so in its start task; db itself is running.
	var waiting *entities.Task
	eventually(t, "a waiting step", func() bool {
		waiting = findTask(m, web, "Waiting for db host.address")
		return waiting != nil
	})
	if web.State() != entities.Starting || db.State() != entities.Running {
		t.Errorf("while waiting: web %s, db %s", web.State(), db.State())
	}
	db.SetAttribute("port", "6379") // a string: the integer key gets a number
	db.SetAttribute("host.address", "10.1.2.3")
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if v, _ := web.Attribute("seen.url"); v != "redis://10.1.2.3:6379" {
		t.Errorf("web started with url %v", v)
	}
	if v, _ := web.Attribute("seen.port"); v != 6379 {
		t.Errorf("web started with port %#v", v)
	}
	if v, _ := web.Attribute("seen.env"); !reflect.DeepEqual(v, map[string]any{"DB": "10.1.2.3", "PLAIN": "x"}) {
		t.Errorf("web started with env %#v", v)
	}
	// The config keeps the expression as written; Config gives the value.
	if raw := web.OwnConfig()["url"]; raw != url {
		t.Errorf("own config url = %v", raw)
	}
	if v := web.EffectiveConfig()["url"]; v != "redis://10.1.2.3:6379" {
		t.Errorf("effective config url = %v", v)
	}
	if snap := waiting.Snapshot(); snap.State != entities.TaskSucceeded {
		t.Errorf("waiting step %s", snap.State)
	}
	out, _ := waiting.Stream("stdout")
	if !strings.Contains(out, "waiting for sensor host.address of db") || !strings.Contains(out, "host.address of db is 10.1.2.3") {
		t.Errorf("waiting step says %q", out)
	}
}

func TestDSLAbortsWhenProducerIsOnFire(t *testing.T) {
	for _, abort := range []bool{true, false} {
		m, s := open(t, t.TempDir())
		opts := ""
		if !abort {
			opts = `, {abort_if_on_fire: false}`
		}
		app, task, err := m.Deploy(context.Background(), dslApp(
			&entities.Spec{Type: "basic-entity", Name: "db", BlueprintID: "db"},
			&entities.Spec{Type: "test.consumer", Name: "web", Config: map[string]any{
				"url": `$brooklyn:entity("db").attributeWhenReady("host.address"` + opts + `)`,
			}},
		), nil)
		if err != nil {
			t.Fatal(err)
		}
		db, web := mustFind(t, m, app, "db"), mustFind(t, m, app, "web")
		eventually(t, "a waiting step", func() bool { return findTask(m, web, "Waiting for db host.address") != nil })
		db.SetProblem("disk", "the disk is full")
		if abort {
			err := wait(t, task)
			if err == nil || !strings.Contains(err.Error(), "gave up waiting for sensor host.address of db") ||
				!strings.Contains(err.Error(), "on fire (the disk is full)") {
				t.Errorf("start: %v, want an abort naming db, the sensor and the problem", err)
			}
			if web.State() != entities.OnFire {
				t.Errorf("web %s, want ON_FIRE", web.State())
			}
		} else {
			time.Sleep(50 * time.Millisecond)
			if web.State() != entities.Starting {
				t.Errorf("web %s while db is on fire, want still STARTING", web.State())
			}
			db.SetAttribute("host.address", "10.0.0.9")
			if err := wait(t, task); err != nil {
				t.Errorf("start: %v", err)
			}
			if v, _ := web.Attribute("seen.url"); v != "10.0.0.9" {
				t.Errorf("web started with %v", v)
			}
		}
		m.Close()
		s.Close()
	}
}

func TestDSLTimeoutAndCancel(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	app, task, err := m.Deploy(context.Background(), dslApp(
		&entities.Spec{Type: "basic-entity", Name: "db", BlueprintID: "db"},
		&entities.Spec{Type: "test.consumer", Name: "quick", Config: map[string]any{
			"url": `$brooklyn:entity("db").attributeWhenReady("never", {timeout: 50ms})`,
		}},
		&entities.Spec{Type: "test.consumer", Name: "patient", Config: map[string]any{
			"url": `$brooklyn:entity("db").attributeWhenReady("never")`,
		}},
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	patient := mustFind(t, m, app, "patient")
	quick := mustFind(t, m, app, "quick")
	eventually(t, "quick gives up", func() bool { return quick.State() == entities.OnFire })
	if p, _ := quick.Attribute("service.problems"); !strings.Contains(fmtAny(p), "gave up waiting for sensor never of db") || !strings.Contains(fmtAny(p), "after 50ms (timeout)") {
		t.Errorf("quick's problem: %v", p)
	}
	if patient.State() != entities.Starting {
		t.Errorf("patient %s, want still waiting", patient.State())
	}
	// Closing the management cancels the wait.
	m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := task.Wait(ctx); err == nil || !strings.Contains(err.Error(), "stopped waiting for sensor never of db") {
		t.Errorf("start after close: %v", err)
	}
}

func fmtAny(v any) string {
	if m, ok := v.(map[string]any); ok {
		var parts []string
		for k, x := range m {
			parts = append(parts, k+": "+x.(string))
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

func TestDSLFunctions(t *testing.T) {
	t.Setenv("GANTRY_DSL_TEST", "from the environment")
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	spec := &entities.Spec{
		Type: "basic-application", Name: "fns", BlueprintID: "app",
		Config: map[string]any{
			"region":   "eu-west",
			"db.url":   `$brooklyn:formatString("jdbc:%s", $brooklyn:child("db").attributeWhenReady("host.address"))`,
			"greeting": `$brooklyn:formatString("hello %s", $brooklyn:config("region"))`,
		},
		Children: []*entities.Spec{
			{Type: "test.producer", Name: "db", BlueprintID: "db", Config: map[string]any{
				"publish": map[string]any{"host.address": "10.0.0.5", "ready": true, "zero": 0},
			}},
			{Type: "basic-entity", Name: "tier", BlueprintID: "tier", Children: []*entities.Spec{
				{Type: "test.consumer", Name: "web", BlueprintID: "web", Config: map[string]any{
					"k.inherited":     `$brooklyn:config("greeting")`,
					"k.db.url":        `$brooklyn:config("db.url")`,
					"k.entity":        `$brooklyn:entity("db").attributeWhenReady("host.address")`,
					"k.component":     `$brooklyn:component("db").config("publish")`,
					"k.parent":        `$brooklyn:parent().entityId()`,
					"k.root":          `$brooklyn:root().config("region")`,
					"k.scopeRoot":     `$brooklyn:scopeRoot().entityId()`,
					"k.self":          `$brooklyn:self().config("k.sibling.value")`,
					"k.sibling.value": `$brooklyn:sibling("helper").entityId()`,
					"k.ancestor":      `$brooklyn:ancestor("tier").entityId()`,
					"k.child":         `$brooklyn:child("leaf").entityId()`,
					"k.descendant":    `$brooklyn:descendant("deep").entityId()`,
					"k.member":        `$brooklyn:member("deep").entityId()`,
					"k.application":   `$brooklyn:application("db").entityId()`,
					"k.scoped":        `$brooklyn:component("child", "leaf").entityId()`,
					"k.chain":         `$brooklyn:parent().sibling("db").attributeWhenReady("ready")`,
					"k.entityId":      `$brooklyn:entityId()`,
					"k.entity.value":  `$brooklyn:entity("db")`,
					"k.url":           `$brooklyn:urlEncode("a b&c=é")`,
					"k.regex":         `$brooklyn:regexReplacement("10.0.0.5", "(\\d+)\\.(\\d+)", "$2-$1")`,
					"k.literal":       `$brooklyn:literal("$brooklyn:config(\"region\")")`,
					"k.spec":          `$brooklyn:entitySpec({type: basic-entity, brooklyn.config: {a: $brooklyn:config("b")}})`,
					"k.object":        map[string]any{"$brooklyn:object": map[string]any{"type": "x", "object.fields": map[string]any{"f": 1}}},
					"k.sensor":        `$brooklyn:sensor("org.example.Foo", "foo.bar")`,
					"k.external":      `$brooklyn:external("env", "GANTRY_DSL_TEST")`,
					"k.mapform":       map[string]any{"$brooklyn:formatString": []any{"%s/%s", `$brooklyn:config("region")`, map[string]any{"$brooklyn:entity": "db"}}},
					"k.nested":        []any{"plain", `$brooklyn:config("region")`, map[string]any{"x": `$brooklyn:config("region")`}},
					"k.unset":         `$brooklyn:formatString("%s", $brooklyn:config("no.such.key"))`,
					"k.notTruthy":     `$brooklyn:entity("db").attributeWhenReady("zero", {wait_for_truthy: false})`,
					"url":             `$brooklyn:config("greeting")`,
				}, Children: []*entities.Spec{
					{Type: "basic-entity", Name: "leaf", BlueprintID: "leaf", Children: []*entities.Spec{
						{Type: "basic-entity", Name: "deep", BlueprintID: "deep"},
					}},
				}},
				{Type: "basic-entity", Name: "helper", BlueprintID: "helper"},
			}},
		},
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	find := func(n string) *entities.Entity { return mustFind(t, m, app, n) }
	db, tier, web := find("db"), find("tier"), find("web")
	want := map[string]any{
		"k.inherited":    "hello eu-west",
		"k.db.url":       "jdbc:10.0.0.5",
		"k.entity":       "10.0.0.5",
		"k.component":    map[string]any{"host.address": "10.0.0.5", "ready": true, "zero": 0},
		"k.parent":       tier.ID(),
		"k.root":         "eu-west",
		"k.scopeRoot":    app.ID(),
		"k.self":         find("helper").ID(),
		"k.ancestor":     tier.ID(),
		"k.child":        find("leaf").ID(),
		"k.descendant":   find("deep").ID(),
		"k.member":       find("deep").ID(),
		"k.application":  db.ID(),
		"k.scoped":       find("leaf").ID(),
		"k.chain":        true,
		"k.entityId":     web.ID(),
		"k.entity.value": db.ID(),
		"k.url":          "a+b%26c%3D%C3%A9",
		"k.regex":        "0-10.5-0", // every match, as in Java
		"k.literal":      `$brooklyn:config("region")`,
		"k.spec":         map[string]any{"type": "basic-entity", "brooklyn.config": map[string]any{"a": `$brooklyn:config("b")`}},
		"k.object":       map[string]any{"type": "x", "object.fields": map[string]any{"f": 1}},
		"k.sensor":       "foo.bar",
		"k.external":     "from the environment",
		"k.mapform":      "eu-west/" + db.ID(),
		"k.nested":       []any{"plain", "eu-west", map[string]any{"x": "eu-west"}},
		"k.unset":        "null",
		"k.notTruthy":    0,
		"url":            "hello eu-west",
	}
	for k, w := range want {
		if got, _ := web.Config(k); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
	if v, _ := web.Attribute("seen.url"); v != "hello eu-west" {
		t.Errorf("the kind read url %v", v)
	}
	// The application's own db.url waits for its child: put off at its start, it is
	// evaluated once read, now that db is ready.
	if v, _ := web.Config("db.url"); v != "jdbc:10.0.0.5" {
		t.Errorf("db.url inherited by web = %v", v)
	}
	if v, _ := app.Config("db.url"); v != "jdbc:10.0.0.5" {
		t.Errorf("app db.url = %v", v)
	}
}

func TestDSLWaitOnItselfIsEvaluatedWhenRead(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	app, task, err := m.Deploy(context.Background(), dslApp(
		&entities.Spec{Type: "test.selfish", Name: "srv", Config: map[string]any{
			"command": `$brooklyn:formatString("serve --port %s", $brooklyn:attributeWhenReady("own.port"))`,
		}},
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	srv := mustFind(t, m, app, "srv")
	if v, _ := srv.Attribute("seen.command"); v != "serve --port 8080" {
		t.Errorf("the kind read %v", v)
	}
}

func TestDSLErrorsFailTheStart(t *testing.T) {
	tests := []struct {
		config map[string]any
		want   string
	}{
		{map[string]any{"url": `$brooklyn:external("vault", "x")`}, `config url: external("vault", "x"): unknown provider "vault" (providers: env)`},
		{map[string]any{"url": `$brooklyn:external("env", "GANTRY_SURELY_UNSET")`}, `GANTRY_SURELY_UNSET is not set in the server's environment`},
		{map[string]any{"url": `$brooklyn:entity("nope").config("x")`}, `config url: entity("nope"): no entity with id "nope" in application dsl`},
		{map[string]any{"url": `$brooklyn:sibling("nope").config("x")`}, `sibling("nope"): no entity with id "nope" among the siblings of web`},
		{map[string]any{"url": `$brooklyn:config("a")`, "a": `$brooklyn:config("b")`, "b": `$brooklyn:config("a")`}, `config a: config a of web refers back to itself (a of web -> b of web -> a of web)`},
		{map[string]any{"url": `$brooklyn:formatString("%d", "x")`}, `config url: formatString: %d needs a whole number, not "x"`},
		{map[string]any{"url": `$brooklyn:config(`}, `config url: invalid $brooklyn: expression at character 18: expected a value, not the end of the text`},
	}
	for _, tt := range tests {
		m, s := open(t, t.TempDir())
		_, task, err := m.Deploy(context.Background(), dslApp(
			&entities.Spec{Type: "test.consumer", Name: "web", Config: tt.config},
		), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := wait(t, task); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: start error %v, want %q", tt.config, err, tt.want)
		}
		m.Close()
		s.Close()
	}
}

func TestDSLValuesSurviveRebindAndStopForgetsThem(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GANTRY_DSL_TEST", "first")
	m, s := open(t, dir)
	app, task, err := m.Deploy(context.Background(), dslApp(
		&entities.Spec{Type: "test.producer", Name: "db", BlueprintID: "db", Config: map[string]any{
			"publish": map[string]any{"host.address": "10.0.0.5"},
		}},
		&entities.Spec{Type: "test.consumer", Name: "web", Config: map[string]any{
			"url": `$brooklyn:formatString("%s@%s", $brooklyn:external("env", "GANTRY_DSL_TEST"), $brooklyn:entity("db").attributeWhenReady("host.address"))`,
		}},
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	s.Close()

	// The environment changed while the server was down: the running entity keeps the
	// values it was started with.
	t.Setenv("GANTRY_DSL_TEST", "second")
	m2, s2 := open(t, dir)
	defer s2.Close()
	defer m2.Close()
	app2, err := m2.Application(app.ID())
	if err != nil {
		t.Fatal(err)
	}
	web := mustFind(t, m2, app2, "web")
	if v, _ := web.Config("url"); v != "first@10.0.0.5" {
		t.Errorf("after rebind url = %v, want the value web started with", v)
	}
	// stop forgets the values; start evaluates again.
	stop, _ := m2.Invoke(context.Background(), web, "stop", nil)
	if err := wait(t, stop); err != nil {
		t.Fatal(err)
	}
	if v, _ := web.Config("url"); !strings.HasPrefix(v.(string), "$brooklyn:") {
		t.Errorf("after stop url = %v, want the expression", v)
	}
	start, _ := m2.Invoke(context.Background(), web, "start", nil)
	if err := wait(t, start); err != nil {
		t.Fatal(err)
	}
	if v, _ := web.Config("url"); v != "second@10.0.0.5" {
		t.Errorf("after start url = %v", v)
	}
	// A value set anew is not hidden by the old evaluation.
	web.SetConfig("url", "plain")
	if v, _ := web.Config("url"); v != "plain" {
		t.Errorf("after SetConfig url = %v", v)
	}
}

// member() finds descendants and the members of groups (and what is below them), as
// Brooklyn's member scope does; descendant() does not see members.
func TestDSLMemberFindsGroupMembers(t *testing.T) {
	m, s := open(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	ctx := context.Background()
	deploy := func(spec *entities.Spec) *entities.Entity {
		app, task, err := m.Deploy(ctx, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := wait(t, task); err != nil {
			t.Fatal(err)
		}
		return app
	}
	app := deploy(&entities.Spec{Type: "basic-application", Name: "mem", Children: []*entities.Spec{
		{Type: "basic-entity", Name: "group", BlueprintID: "grp", Children: []*entities.Spec{
			{Type: "basic-entity", Name: "helper", BlueprintID: "helper"},
		}},
		{Type: "basic-entity", Name: "tier", Children: []*entities.Spec{
			{Type: "basic-entity", Name: "web", BlueprintID: "web", Children: []*entities.Spec{
				{Type: "basic-entity", Name: "cache", BlueprintID: "cache"},
			}},
		}},
	}})
	other := deploy(&entities.Spec{Type: "basic-application", Name: "other", Children: []*entities.Spec{
		{Type: "basic-entity", Name: "db", BlueprintID: "db"},
	}})
	find := func(app *entities.Entity, n string) *entities.Entity { return mustFind(t, m, app, n) }
	group, web, db := find(app, "group"), find(app, "web"), find(other, "db")
	group.AddMember(web)
	group.AddMember(db)

	resolve := func(on *entities.Entity, dsl string) (any, error) {
		t.Helper()
		a, err := m.AddAdjunct(on, entities.AdjunctSpec{Type: "counter", Config: map[string]any{"target": dsl}})
		if err != nil {
			t.Fatal(err)
		}
		defer m.DestroyAdjunct(a)
		return a.Resolve("target")
	}
	for _, c := range []struct {
		on   *entities.Entity
		dsl  string
		want *entities.Entity
	}{
		{group, `$brooklyn:member("helper").entityId()`, find(app, "helper")}, // a child
		{group, `$brooklyn:member("web").entityId()`, web},                    // a member
		{group, `$brooklyn:member("cache").entityId()`, find(app, "cache")},   // below a member
		{group, `$brooklyn:member("db").entityId()`, db},                      // a member in another application
		{app, `$brooklyn:member("db").entityId()`, db},                        // a member of a descendant group
		{app, `$brooklyn:component("member", "web").entityId()`, web},
	} {
		got, err := resolve(c.on, c.dsl)
		if err != nil || got != c.want.ID() {
			t.Errorf("%s on %s = %v, %v; want %s", c.dsl, c.on.Name(), got, err, c.want)
		}
	}
	if got, err := resolve(group, `$brooklyn:descendant("web").entityId()`); err == nil || !strings.Contains(err.Error(), "no entity with id") {
		t.Errorf("descendant() found a member: %v, %v", got, err)
	}
	group.RemoveMember(web)
	if got, err := resolve(group, `$brooklyn:member("web").entityId()`); err == nil {
		t.Errorf("member() found a former member: %v", got)
	}
}
