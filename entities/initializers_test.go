package entities_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/store"
)

// openLocal is open with the localhost location, where basic entities run commands.
func openLocal(t *testing.T, dir string) (*entities.Management, store.Store) {
	t.Helper()
	return testenv.OpenManagement(t, dir, entities.Options{Locations: testenv.Localhost(t)})
}

// awaitValue waits for a sensor to have the value want.
func awaitValue(t *testing.T, e *entities.Entity, name string, want any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := e.Attribute(name)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sensor %s of %s = %#v, want %#v", name, e.Name(), v, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInitializersAddSensorsEffectorsAndFeeds(t *testing.T) {
	dir := t.TempDir()
	m, s := openLocal(t, dir)
	status := "starting"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "yes" {
			http.Error(w, "no probe header", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"app": {"status": %q, "workers": [1, 2, 3]}}`, status)
	}))
	defer srv.Close()
	counter := filepath.Join(t.TempDir(), "count")
	if err := os.WriteFile(counter, []byte("41\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := &entities.Spec{
		Type: "basic-application", Name: "inits", Locations: []string{"localhost"},
		Children: []*entities.Spec{{
			Type: "basic-entity", Name: "svc",
			Parameters: []entities.ConfigKey{{Name: "greeting", Type: "string", Default: "hello", Description: "How to greet"}},
			Initializers: []entities.InitializerSpec{
				{Type: "static-sensor", Config: map[string]any{"name": "tier", "static.value": "3", "targetType": "integer"}},
				{Type: "ssh-command-sensor", Config: map[string]any{"name": "count", "command": `cat "$COUNTER"`, "period": "50ms",
					"targetType": "integer", "shell.env": map[string]any{"COUNTER": counter}}},
				{Type: "ssh-command-effector", Config: map[string]any{"name": "greet", "description": "Says hello",
					"command":    `echo "$GREETING, $who"; [ "$who" != nobody ] || { echo "no one to greet" >&2; exit 3; }`,
					"shell.env":  map[string]any{"GREETING": "hello"},
					"parameters": map[string]any{"who": map[string]any{"description": "Who", "defaultValue": "world"}}}},
				{Type: "org.apache.brooklyn.core.sensor.http.HttpRequestSensor", Config: map[string]any{"name": "app.status",
					"uri": srv.URL, "jsonPath": "$.app.status", "period": "50ms", "headers": map[string]any{"X-Probe": "yes"}}},
				{Type: "http-request-sensor", Config: map[string]any{"name": "app.workers", "uri": srv.URL, "jsonPath": "$.app.workers",
					"period": "50ms", "headers": map[string]any{"X-Probe": "yes"}}},
			},
		}},
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	svc, _ := m.FindEntity(app, "svc")
	// Declared as data: the parameter is a config key with its default, the sensors and
	// the effector are the entity's.
	if k, ok := svc.Type().ConfigKey("greeting"); !ok || k.Description != "How to greet" {
		t.Errorf("config key greeting = %+v, %v", k, ok)
	}
	if v, _ := svc.Config("greeting"); v != "hello" {
		t.Errorf("greeting = %v, want its default", v)
	}
	declared := map[string]bool{}
	for _, st := range svc.Type().Sensors {
		declared[st.Name] = true
	}
	for _, n := range []string{"tier", "count", "app.status", "app.workers"} {
		if !declared[n] {
			t.Errorf("sensor %s not declared (%v)", n, svc.Type().Sensors)
		}
	}
	if _, ok := svc.Type().Effector("greet"); !ok {
		t.Error("effector greet not declared")
	}
	// Other entities of the same kind are untouched.
	if _, ok := app.Type().Effector("greet"); ok {
		t.Error("the application got the effector too")
	}
	if basic, _ := entities.LookupType("basic-entity"); len(basic.Sensors) != 0 {
		t.Errorf("the registered kind changed: %v", basic.Sensors)
	}

	awaitValue(t, svc, "tier", 3)
	awaitValue(t, svc, "count", 41)
	awaitValue(t, svc, "app.status", "starting")
	awaitValue(t, svc, "app.workers", `[1,2,3]`)

	// The effector runs as a task, its output captured and returned.
	call, err := m.Invoke(context.Background(), svc, "greet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := call.Wait(context.Background()); err != nil || res != "hello, world\n" {
		t.Errorf("greet = %q, %v", res, err)
	}
	if out, _ := call.Stream("stdout"); out != "hello, world\n" {
		t.Errorf("greet stdout = %q", out)
	}
	if env, _ := call.Stream("env"); !strings.Contains(env, "who=world") {
		t.Errorf("greet env = %q", env)
	}
	call, _ = m.Invoke(context.Background(), svc, "greet", map[string]any{"who": "nobody"})
	if _, err := call.Wait(context.Background()); err == nil || !strings.Contains(err.Error(), "code 3: no one to greet") {
		t.Errorf("failing greet: %v", err)
	}
	if _, err := m.Invoke(context.Background(), svc, "greet", map[string]any{"whom": "x"}); !errors.Is(err, entities.ErrInvalid) {
		t.Errorf("undeclared parameter: %v", err)
	}

	// Persisted with the entity: after a restart the sensors, effector and feeds are back.
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	s.Close()
	m2, s2 := openLocal(t, dir)
	defer s2.Close()
	defer m2.Close()
	svc2, err := m2.Entity(svc.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := svc2.Type().Effector("greet"); !ok {
		t.Error("effector greet lost on rebind")
	}
	if v, _ := svc2.Config("greeting"); v != "hello" {
		t.Errorf("greeting after rebind = %v", v)
	}
	status = "ready"
	if err := os.WriteFile(counter, []byte("42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	awaitValue(t, svc2, "count", 42)
	awaitValue(t, svc2, "app.status", "ready")

	// Stopping stops the feeds.
	stop, _ := m2.Invoke(context.Background(), svc2, "stop", nil)
	if err := wait(t, stop); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(counter, []byte("43\n"), 0o644)
	time.Sleep(200 * time.Millisecond)
	if v, _ := svc2.Attribute("count"); v != 42 {
		t.Errorf("count = %v after stop, want the feed stopped at 42", v)
	}
}

func TestCommandSensorWaitsForServiceUp(t *testing.T) {
	m, s := openLocal(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	spec := &entities.Spec{
		Type: "basic-application", Name: "wait", Locations: []string{"localhost"},
		Children: []*entities.Spec{{Type: "basic-entity", Name: "svc", Initializers: []entities.InitializerSpec{
			{Type: "ssh-command-sensor", Config: map[string]any{"name": "n", "command": "echo 1", "period": "1h"}},
		}}},
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	// The first poll came when the entity was not up yet; it waited rather than wait an hour.
	svc, _ := m.FindEntity(app, "svc")
	awaitValue(t, svc, "n", "1")
}

func TestUnknownInitializerIsRefused(t *testing.T) {
	m, s := openLocal(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	_, _, err := m.Deploy(context.Background(), &entities.Spec{Type: "basic-application",
		Initializers: []entities.InitializerSpec{{Type: "com.example.Nope"}}}, nil)
	if !errors.Is(err, entities.ErrNotFound) {
		t.Errorf("deploy: %v, want not found", err)
	}
	if _, err := entities.LookupInitializer("java:" + entities.SshCommandSensorType); err != nil {
		t.Errorf("java: prefix: %v", err)
	}
}

func TestAttributeWhenReady(t *testing.T) {
	m, s := openLocal(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	app, task, err := m.Deploy(context.Background(), &entities.Spec{Type: "basic-application", Name: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, task)
	go func() {
		time.Sleep(20 * time.Millisecond)
		app.SetAttribute("x", "")
		app.SetAttribute("x", "ready")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := blueprints.DefaultWaitOptions()
	if v, err := entities.AttributeWhenReady(ctx, app, "x", opts); err != nil || v != "ready" {
		t.Errorf("AttributeWhenReady = %v, %v", v, err)
	}
	opts.Timeout = 50 * time.Millisecond
	if _, err := entities.AttributeWhenReady(ctx, app, "never", opts); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("timeout: %v", err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		app.SetProblem("test", "broken")
	}()
	if _, err := entities.AttributeWhenReady(ctx, app, "never", blueprints.DefaultWaitOptions()); err == nil || !strings.Contains(err.Error(), "on fire") {
		t.Errorf("on fire: %v", err)
	}
}

func TestInitializerConfigIsEvaluatedWhenUsed(t *testing.T) {
	m, s := openLocal(t, t.TempDir())
	defer s.Close()
	defer m.Close()
	spec := &entities.Spec{
		Type: "basic-application", Name: "dsl", Locations: []string{"localhost"},
		Children: []*entities.Spec{{
			Type: "basic-entity", Name: "svc", Config: map[string]any{"greeting": "hola"},
			Initializers: []entities.InitializerSpec{
				{Type: "static-sensor", Config: map[string]any{"name": "copy", "static.value": `$brooklyn:config("greeting")`}},
				{Type: "static-sensor", Config: map[string]any{"name": "later", "static.value": `$brooklyn:attributeWhenReady("ready.value")`}},
				{Type: "ssh-command-sensor", Config: map[string]any{"name": "said", "period": "50ms",
					"command":   `$brooklyn:formatString("echo %s from $WHO", $brooklyn:config("greeting"))`,
					"shell.env": map[string]any{"WHO": `$brooklyn:attributeWhenReady("copy")`}}},
				{Type: "ssh-command-effector", Config: map[string]any{"name": "say",
					"command": `echo "$G"`, "shell.env": map[string]any{"G": `$brooklyn:config("greeting")`}}},
			},
		}},
	}
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	svc, _ := m.FindEntity(app, "svc")
	awaitValue(t, svc, "copy", "hola")
	awaitValue(t, svc, "said", "hola from hola")
	svc.SetAttribute("ready.value", "now")
	awaitValue(t, svc, "later", "now")
	call, _ := m.Invoke(context.Background(), svc, "say", nil)
	if res, err := call.Wait(context.Background()); err != nil || res != "hola\n" {
		t.Errorf("say = %q, %v", res, err)
	}
}
