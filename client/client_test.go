package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// fixture reads a Brooklyn-shaped payload shared with the api package's tests.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "api", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serve starts a fake server with the given routes (ServeMux patterns) and returns
// a client of it.
func serve(t *testing.T, routes map[string]http.HandlerFunc, opts ...client.Option) *client.Client {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return client.New(srv.URL+"/", opts...)
}

// reply writes a JSON body with a status.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func apiError(status int, msg string) http.HandlerFunc {
	b, _ := json.Marshal(api.ApiError{Message: msg, Details: "Reference: 8sXkq1", Error: status})
	return reply(status, string(b))
}

func TestDeploy(t *testing.T) {
	blueprint := "name: WebCluster\nservices:\n- type: server\n"
	started := `{"id":"Wb6GV5rt","displayName":"start","description":"","entityId":"lmOcZbsT",
		"entityDisplayName":"WebCluster","tags":["EFFECTOR"],"submitTimeUtc":1450523281000,
		"startTimeUtc":1450523281004,"currentStatus":"In progress","isError":false,"isCancelled":false,
		"children":[],"streams":{},"links":{"self":"/v1/activities/Wb6GV5rt","children":"/v1/activities/Wb6GV5rt/children"}}`
	c := serve(t, map[string]http.HandlerFunc{
		"POST /v1/applications": func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if string(body) != blueprint {
				t.Errorf("body = %q", body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/x-yaml" {
				t.Errorf("Content-Type = %q", ct)
			}
			w.Header().Set("Location", "http://"+r.Host+"/v1/applications/lmOcZbsT")
			reply(http.StatusCreated, started)(w, r)
		},
	})
	task, err := c.Deploy(context.Background(), []byte(blueprint))
	if err != nil {
		t.Fatal(err)
	}
	if task.EntityID != "lmOcZbsT" || task.EntityDisplayName != "WebCluster" || task.CurrentStatus != api.TaskInProgress || task.Done() {
		t.Errorf("task = %+v", task)
	}
}

func TestDeployInvalidBlueprint(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"POST /v1/applications": apiError(400, "Error in blueprint: services[0]: unknown type 'nope' (line 2, column 9)"),
	})
	_, err := c.Deploy(context.Background(), []byte("services:\n- type: nope\n"))
	if !errors.Is(err, client.ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || !strings.HasPrefix(ce.Message, "Error in blueprint: ") {
		t.Errorf("err = %#v", err)
	}
}

func TestApplications(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/applications": reply(200, fixture(t, "applications.json")),
		"GET /v1/applications/{app}": func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("app") != "WebCluster" {
				apiError(404, "Application '"+r.PathValue("app")+"' not found")(w, r)
				return
			}
			var apps []json.RawMessage
			json.Unmarshal([]byte(fixture(t, "applications.json")), &apps)
			reply(200, string(apps[0]))(w, r)
		},
		"DELETE /v1/applications/{app}": reply(202, fixture(t, "task_running.json")),
	})
	ctx := context.Background()
	apps, err := c.Applications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[0].Status != api.StatusRunning || apps[1].Status != api.StatusError ||
		!reflect.DeepEqual(apps[0].Spec.Locations, []string{"CNTBOtjI"}) {
		t.Errorf("apps = %+v", apps)
	}
	app, err := c.Application(ctx, "WebCluster")
	if err != nil || app.ID != "lmOcZbsT" || app.Links["entities"] != "/v1/applications/lmOcZbsT/entities" {
		t.Errorf("app = %+v, %v", app, err)
	}
	if _, err := c.Application(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	task, err := c.DeleteApplication(ctx, "WebCluster")
	if err != nil || task.ID != "Wb6GV5rt" {
		t.Errorf("task = %+v, %v", task, err)
	}
}

func TestFetchApplications(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/applications/fetch": reply(200, fixture(t, "fetch.json")),
	})
	tree, err := c.FetchApplications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || len(tree[0].Children) != 2 {
		t.Fatalf("tree = %+v", tree)
	}
	app, ent, group := tree[0], tree[0].Children[0], tree[0].Children[1]
	if app.ServiceState != api.LifecycleRunning || app.ServiceUp == nil || !*app.ServiceUp || app.ParentID != "" {
		t.Errorf("app = %+v", app)
	}
	if ent.ServiceState != api.LifecycleOnFire || ent.ParentID != app.ID || ent.CatalogItemID != "simple-ent:1.0.0" {
		t.Errorf("entity = %+v", ent)
	}
	if group.ServiceUp != nil || len(group.Members) != 1 || group.Members[0].Name != "simple-ent" {
		t.Errorf("group = %+v", group)
	}
}

func TestEntities(t *testing.T) {
	entity := fixture(t, "entity.json")
	list := "[" + entity + "]"
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/applications/{app}/entities":                  reply(200, list),
		"GET /v1/applications/{app}/descendants":               reply(200, list),
		"GET /v1/applications/{app}/entities/{ent}":            reply(200, entity),
		"GET /v1/applications/{app}/entities/{ent}/children":   reply(200, "[]"),
		"GET /v1/applications/{app}/entities/{ent}/activities": reply(200, "["+fixture(t, "task.json")+"]"),
		"GET /v1/applications/{app}/entities/{ent}/effectors":  reply(200, fixture(t, "effectors.json")),
		"GET /v1/applications/{app}/entities/{ent}/config":     reply(200, fixture(t, "config.json")),
		"GET /v1/applications/{app}/entities/{ent}/sensors":    reply(200, fixture(t, "sensors.json")),
		"GET /v1/applications/{app}/entities/{ent}/spec":       func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "type: server\n") },
		"GET /v1/applications/{app}/entities/{ent}/config/{k}": reply(200, `"1.8.0"`),
		"GET /v1/applications/{app}/entities/{ent}/config/current-state": reply(200,
			`{"install.version":"1.8.0","camp.plan.id":"db"}`),
	})
	ctx := context.Background()
	es, err := c.Entities(ctx, "WebCluster")
	if err != nil || len(es) != 1 || es[0].Name != "NginxController:CZ8Q" {
		t.Errorf("Entities = %+v, %v", es, err)
	}
	if ds, err := c.Descendants(ctx, "WebCluster"); err != nil || len(ds) != 1 {
		t.Errorf("Descendants = %+v, %v", ds, err)
	}
	e, err := c.Entity(ctx, "WebCluster", "CZ8QUVgX")
	if err != nil || e.Links["rename"] != "/v1/applications/lmOcZbsT/entities/CZ8QUVgX/name" {
		t.Errorf("Entity = %+v, %v", e, err)
	}
	if ch, err := c.Children(ctx, "WebCluster", "CZ8QUVgX"); err != nil || ch == nil || len(ch) != 0 {
		t.Errorf("Children = %#v, %v", ch, err)
	}
	acts, err := c.Activities(ctx, "WebCluster", "CZ8QUVgX")
	if err != nil || len(acts) != 1 || acts[0].Streams["stdout"].Metadata.Size != 162 || acts[0].SubmittedByTask.Metadata.ID != "OeZKwM5z" {
		t.Errorf("Activities = %+v, %v", acts, err)
	}
	effs, err := c.Effectors(ctx, "WebCluster", "CZ8QUVgX")
	if err != nil || len(effs) != 2 || effs[0].Parameters[0].DefaultValue != false {
		t.Errorf("Effectors = %+v, %v", effs, err)
	}
	cfg, err := c.Config(ctx, "WebCluster", "CZ8QUVgX")
	if err != nil || len(cfg) != 2 || len(cfg[1].PossibleValues) != 3 {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
	sensors, err := c.Sensors(ctx, "WebCluster", "CZ8QUVgX")
	if err != nil || len(sensors) != 2 || sensors[0].Type != "java.lang.Boolean" {
		t.Errorf("Sensors = %+v, %v", sensors, err)
	}
	if spec, err := c.EntitySpec(ctx, "WebCluster", "CZ8QUVgX"); err != nil || spec != "type: server\n" {
		t.Errorf("EntitySpec = %q, %v", spec, err)
	}
	if v, err := c.ConfigValue(ctx, "WebCluster", "CZ8QUVgX", "install.version"); err != nil || v != "1.8.0" {
		t.Errorf("ConfigValue = %#v, %v", v, err)
	}
	if m, err := c.ConfigValues(ctx, "WebCluster", "CZ8QUVgX"); err != nil || m["camp.plan.id"] != "db" {
		t.Errorf("ConfigValues = %#v, %v", m, err)
	}
}

// Names travel escaped, one path segment each, and come out whole on the server.
func TestNamesAreEscaped(t *testing.T) {
	var got []string
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/applications/{app}/entities/{ent}/sensors/{sensor}": func(w http.ResponseWriter, r *http.Request) {
			got = []string{r.PathValue("app"), r.PathValue("ent"), r.PathValue("sensor")}
			io.WriteString(w, `"x"`)
		},
	})
	if _, err := c.Sensor(context.Background(), "my app", "web/1", "main.uri"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"my app", "web/1", "main.uri"}; !reflect.DeepEqual(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
}

func TestSensors(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/applications/a/entities/e/sensors/service.state":          reply(200, `"RUNNING"`),
		"GET /v1/applications/a/entities/e/sensors/service.state.expected": reply(200, `{"state":"RUNNING","timestampUtc":1449314377781}`),
		"GET /v1/applications/a/entities/e/sensors/service.isUp":           reply(200, `true`),
		"GET /v1/applications/a/entities/e/sensors/host.address":           func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"GET /v1/applications/a/entities/e/sensors/nope":                   apiError(404, "Sensor 'nope' not known"),
		"GET /v1/applications/a/entities/e/sensors/current-state": reply(200,
			`{"service.isUp":true,"service.state":"RUNNING","service.problems":{},"http.port":8000}`),
	})
	ctx := context.Background()
	for name, want := range map[string]any{
		"service.state":          "RUNNING",
		"service.state.expected": map[string]any{"state": "RUNNING", "timestampUtc": 1449314377781.0},
		"service.isUp":           true,
		"host.address":           nil,
	} {
		got, err := c.Sensor(ctx, "a", "e", name)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Sensor(%s) = %#v, %v; want %#v", name, got, err, want)
		}
	}
	_, err := c.Sensor(ctx, "a", "e", "nope")
	var ce *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &ce) || ce.Message != "Sensor 'nope' not known" {
		t.Errorf("err = %v", err)
	}
	m, err := c.SensorValues(ctx, "a", "e")
	if err != nil || m["service.state"] != string(api.LifecycleRunning) || m["http.port"] != 8000.0 {
		t.Errorf("SensorValues = %#v, %v", m, err)
	}
}

func TestSetters(t *testing.T) {
	got := map[string]string{}
	record := func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type = %q", r.URL.Path, ct)
		}
		b, _ := io.ReadAll(r.Body)
		got[r.URL.Path] = string(b)
		w.WriteHeader(http.StatusNoContent)
	}
	c := serve(t, map[string]http.HandlerFunc{
		"POST /v1/applications/a/entities/e/config/{key}":  record,
		"POST /v1/applications/a/entities/e/sensors/{key}": record,
		"POST /v1/applications/a/entities/e/name": func(w http.ResponseWriter, r *http.Request) {
			got[r.URL.Path] = r.URL.Query().Get("name")
		},
	})
	ctx := context.Background()
	if err := c.SetConfig(ctx, "a", "e", "download.url", "https://bit.ly/new-script"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSensor(ctx, "a", "e", "http.port", 8080); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, "a", "e", "web & db"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/v1/applications/a/entities/e/config/download.url": `"https://bit.ly/new-script"`,
		"/v1/applications/a/entities/e/sensors/http.port":   `8080`,
		"/v1/applications/a/entities/e/name":                "web & db",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestInvokeEffector(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"POST /v1/applications/a/entities/e/effectors/{eff}": func(w http.ResponseWriter, r *http.Request) {
			var params map[string]any
			if err := json.NewDecoder(r.Body).Decode(&params); err != nil {
				t.Errorf("body: %v", err)
			}
			timeout := r.URL.Query().Get("timeout")
			switch r.PathValue("eff") {
			case "resize":
				if params["desiredSize"] != 3.0 || timeout != "" {
					t.Errorf("resize params = %v, timeout = %q", params, timeout)
				}
				io.WriteString(w, `3`)
			case "stop":
				if len(params) != 0 || timeout != "" {
					t.Errorf("stop params = %v", params)
				}
				w.WriteHeader(200) // void effector: empty body
			case "hello":
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "hello, world") // a plain string result
			case "start":
				if timeout != "0" {
					t.Errorf("timeout = %q", timeout)
				}
				reply(202, fixture(t, "task_running.json"))(w, r)
			default:
				apiError(404, "Entity 'e' has no effector with name '"+r.PathValue("eff")+"'")(w, r)
			}
		},
	})
	ctx := context.Background()
	cases := []struct {
		eff     string
		params  map[string]any
		timeout string
		result  any
		task    bool
	}{
		{"resize", map[string]any{"desiredSize": 3}, "", 3.0, false},
		{"stop", nil, "", nil, false},
		{"hello", nil, "never", "hello, world", false},
		{"start", nil, "0", nil, true},
	}
	for _, tc := range cases {
		result, task, err := c.InvokeEffector(ctx, "a", "e", tc.eff, tc.params, tc.timeout)
		if err != nil {
			t.Errorf("%s: %v", tc.eff, err)
			continue
		}
		if !reflect.DeepEqual(result, tc.result) || (task != nil) != tc.task {
			t.Errorf("%s: result %#v, task %v", tc.eff, result, task)
		}
		if task != nil && (task.ID != "Wb6GV5rt" || task.BlockingTask.Metadata.ID != "q2MbyyTo") {
			t.Errorf("%s: task %+v", tc.eff, task)
		}
	}
	if _, _, err := c.InvokeEffector(ctx, "a", "e", "nope", nil, ""); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestActivities(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/activities/{id}":          reply(200, fixture(t, "task.json")),
		"GET /v1/activities/{id}/children": reply(200, "["+fixture(t, "task_running.json")+"]"),
		"GET /v1/activities/{id}/stream/{s}": func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("s") != "stdout" {
				apiError(404, "Cannot find stream '"+r.PathValue("s")+"' in task '"+r.PathValue("id")+"'")(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "./sbin/nginx\n")
		},
	})
	ctx := context.Background()
	task, err := c.Activity(ctx, "tvZoNUTN")
	if err != nil || !task.Done() || task.Result != 0.0 || task.Links["entity"] == "" {
		t.Errorf("Activity = %+v, %v", task, err)
	}
	kids, err := c.ActivityChildren(ctx, "tvZoNUTN")
	if err != nil || len(kids) != 1 || kids[0].Done() {
		t.Errorf("ActivityChildren = %+v, %v", kids, err)
	}
	out, err := c.Stream(ctx, "tvZoNUTN", "stdout")
	if err != nil || out != "./sbin/nginx\n" {
		t.Errorf("Stream = %q, %v", out, err)
	}
	if _, err := c.Stream(ctx, "tvZoNUTN", "env"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// taskServer answers GET /v1/activities/t1 with the running task until the n-th
// request, then with the finished one, using status for the unfinished answers.
func taskServer(t *testing.T, n int32, status int) (*client.Client, *atomic.Int32) {
	var calls atomic.Int32
	running, done := fixture(t, "task_running.json"), fixture(t, "task.json")
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/activities/t1": func(w http.ResponseWriter, r *http.Request) {
			if got := r.URL.Query().Get("timeout"); got == "" {
				t.Errorf("no timeout asked")
			}
			if calls.Add(1) < n {
				reply(status, running)(w, r)
				return
			}
			reply(200, done)(w, r)
		},
	}, client.WithPollInterval(time.Millisecond))
	return c, &calls
}

func TestWaitTask(t *testing.T) {
	for _, status := range []int{http.StatusAccepted, http.StatusOK} {
		c, calls := taskServer(t, 3, status)
		task, err := c.WaitTask(context.Background(), "t1")
		if err != nil || task.ID != "tvZoNUTN" || calls.Load() != 3 {
			t.Errorf("status %d: task %+v, err %v, %d calls", status, task, err, calls.Load())
		}
	}
}

func TestWaitTaskGivesUpWithContext(t *testing.T) {
	c, _ := taskServer(t, 1<<30, http.StatusAccepted)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.WaitTask(ctx, "t1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		handler  http.HandlerFunc
		sentinel error
		message  string
	}{
		{apiError(400, "Error in blueprint"), client.ErrBadRequest, "Error in blueprint"},
		{apiError(401, "Unauthorized"), client.ErrUnauthorized, "Unauthorized"},
		{apiError(404, "Application 'x' not found"), client.ErrNotFound, "Application 'x' not found"},
		{apiError(409, "Application already registered"), client.ErrConflict, "Application already registered"},
		{func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, nil, "boom"},
		{func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, nil, "Service Unavailable"},
	}
	sentinels := []error{client.ErrBadRequest, client.ErrUnauthorized, client.ErrNotFound, client.ErrConflict}
	for _, tc := range cases {
		c := serve(t, map[string]http.HandlerFunc{"GET /v1/server/version": tc.handler})
		_, err := c.Version(context.Background())
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Message != tc.message {
			t.Errorf("err = %#v, want message %q", err, tc.message)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) != (s == tc.sentinel) {
				t.Errorf("%d: errors.Is(%v) = %v", ce.StatusCode, s, !(s == tc.sentinel))
			}
		}
	}
}

func TestBasicAuth(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/server/up": func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "s3cret" {
				apiError(401, "Unauthorized")(w, r)
				return
			}
			io.WriteString(w, "true")
		},
	}, client.WithBasicAuth("admin", "s3cret"), client.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if up, err := c.Up(context.Background()); err != nil || !up {
		t.Errorf("Up = %v, %v", up, err)
	}
}

func TestServer(t *testing.T) {
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/server/version": reply(200, fixture(t, "version.json")),
		"GET /v1/server/healthy": reply(200, "false"),
		"GET /v1/locations":      reply(200, "["+fixture(t, "location.json")+"]"),
		"GET /v1/locations/{id}": reply(200, fixture(t, "location.json")),
	})
	ctx := context.Background()
	v, err := c.Version(ctx)
	if err != nil || v.Version != "1.2.0-SNAPSHOT" || len(v.Features) != 1 {
		t.Errorf("Version = %+v, %v", v, err)
	}
	if ok, err := c.Healthy(ctx); err != nil || ok {
		t.Errorf("Healthy = %v, %v", ok, err)
	}
	ls, err := c.Locations(ctx)
	if err != nil || len(ls) != 1 || ls[0].Spec != "byon" {
		t.Errorf("Locations = %+v, %v", ls, err)
	}
	l, err := c.Location(ctx, "CNTBOtjI")
	if err != nil || l.Name != "FixedListMachineProvisioningLocation:CNTB" || l.Links["self"] != "/v1/locations/CNTBOtjI" {
		t.Errorf("Location = %+v, %v", l, err)
	}
}
