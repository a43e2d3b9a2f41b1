package server_test

// Brooklyn compatibility: the requests Apache Brooklyn's `br` CLI sends (see
// api/ROUTES.md), byte for byte in what matters — method, path, Content-Type, body,
// Accept, Basic auth — and the status codes and JSON fields br reads from the answers.
// It runs against a real server.New on a temporary store, with entities that need no
// Docker Engine: basic-entity and vanilla-software-process on localhost.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/server"
)

// The shapes br decodes (apache/brooklyn-client cli/models), reduced to the fields it
// reads. Decoding into them fails when a field has the wrong JSON type.

type brVersion struct {
	Version  string `json:"version"`
	Features []struct {
		Name string `json:"name"`
	} `json:"features"`
}

type brTaskLink struct {
	Link     string `json:"link"`
	Metadata struct {
		ID                string `json:"id"`
		TaskName          string `json:"taskName"`
		EntityID          string `json:"entityId"`
		EntityDisplayName string `json:"entityDisplayName"`
	} `json:"metadata"`
}

type brStream struct {
	Link     string `json:"link"`
	Metadata struct {
		Name     string `json:"name"`
		Size     int64  `json:"size"`
		SizeText string `json:"sizeText"`
	} `json:"metadata"`
}

type brTask struct {
	ID                string              `json:"id"`
	DisplayName       string              `json:"displayName"`
	Description       string              `json:"description"`
	EntityID          string              `json:"entityId"`
	EntityDisplayName string              `json:"entityDisplayName"`
	SubmitTimeUTC     int64               `json:"submitTimeUtc"`
	StartTimeUTC      int64               `json:"startTimeUtc"`
	EndTimeUTC        int64               `json:"endTimeUtc"`
	CurrentStatus     string              `json:"currentStatus"`
	IsError           bool                `json:"isError"`
	IsCancelled       bool                `json:"isCancelled"`
	Result            any                 `json:"result"`
	DetailedStatus    string              `json:"detailedStatus"`
	SubmittedByTask   brTaskLink          `json:"submittedByTask"`
	BlockingTask      brTaskLink          `json:"blockingTask"`
	Children          []brTaskLink        `json:"children"`
	Streams           map[string]brStream `json:"streams"`
	Links             map[string]string   `json:"links"`
}

type brApp struct {
	ID   string `json:"id"`
	Spec struct {
		Name      string   `json:"name"`
		Type      string   `json:"type"`
		Locations []string `json:"locations"`
	} `json:"spec"`
	Status string            `json:"status"`
	Links  map[string]string `json:"links"`
}

type brEntity struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	CatalogItemID string            `json:"catalogItemId"`
	Links         map[string]string `json:"links"`
}

type brTree struct {
	ID       string   `json:"id"`
	ParentID string   `json:"parentId"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Children []brTree `json:"children"`
	GroupIDs []string `json:"groupIds"`
	Members  []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"members"`
}

type brSensor struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Type        string            `json:"type"`
	Links       map[string]string `json:"links"`
}

type brEffector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	ReturnType  string `json:"returnType"`
	Parameters  []struct {
		Name         string `json:"name"`
		Type         string `json:"type"`
		Description  string `json:"description"`
		DefaultValue any    `json:"defaultValue"`
	} `json:"parameters"`
	Links map[string]string `json:"links"`
}

type brLocation struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Spec   string            `json:"spec"`
	Type   string            `json:"type"`
	Config map[string]any    `json:"config"`
	Links  map[string]string `json:"links"`
}

// brPolicy is models.PolicySummary; brPolicyConfig is models.PolicyConfigList (note
// its integer priority).
type brPolicy struct {
	CatalogItemID string            `json:"catalogItemId"`
	Name          string            `json:"name"`
	Links         map[string]string `json:"links"`
	ID            string            `json:"id"`
	State         string            `json:"state"`
}

type brPolicyConfig struct {
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	DefaultValue   any               `json:"defaultValue"`
	Description    string            `json:"description"`
	Reconfigurable bool              `json:"reconfigurable"`
	Label          string            `json:"label"`
	Priority       int64             `json:"priority"`
	PossibleValues []any             `json:"possibleValues"`
	Links          map[string]string `json:"links"`
}

// brClient sends requests as br's net package does.
type brClient struct {
	t    *testing.T
	base string // the login URL
	auth string // the Authorization header
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.code, r.body) }

// send is br's Network.NewRequest + SendRequestGetStatusCode: the path is appended to
// the login URL unescaped (Go's client escapes what it must), with the credentials.
func (c *brClient) send(method, path string, body io.Reader, header map[string]string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", c.auth)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// get is SendGetRequest.
func (c *brClient) get(path string) response {
	c.t.Helper()
	return c.send(http.MethodGet, path, nil, map[string]string{"Accept": "application/json, text/plain"})
}

// version is what `br login` and `br version` send: no Accept header.
func (c *brClient) version() response {
	c.t.Helper()
	return c.send(http.MethodGet, "/v1/server/version", nil, nil)
}

// postJSON is SendPostRequest: Content-Type application/json whatever the body is (br
// deploys YAML this way, and sets config values as typed).
func (c *brClient) postJSON(path string, body string) response {
	c.t.Helper()
	return c.send(http.MethodPost, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}

// postEmpty is SendEmptyPostRequest: no body, no Content-Type (rename).
func (c *brClient) postEmpty(path string) response {
	c.t.Helper()
	return c.send(http.MethodPost, path, nil, nil)
}

// invoke is TriggerEffector: a form, empty when there are no parameters, and
// ?timeout= when --timeout is given.
func (c *brClient) invoke(app, entity, effector, timeout string, params url.Values) response {
	c.t.Helper()
	path := fmt.Sprintf("/v1/applications/%s/entities/%s/effectors/%s", app, entity, effector)
	if timeout != "" {
		path += "?timeout=" + url.QueryEscape(timeout)
	}
	data := params.Encode()
	return c.send(http.MethodPost, path, strings.NewReader(data), map[string]string{
		"Content-Type":   "application/x-www-form-urlencoded",
		"Content-Length": strconv.Itoa(len(data)),
	})
}

// delete is SendDeleteRequest: no Accept header.
func (c *brClient) delete(path string) response {
	c.t.Helper()
	return c.send(http.MethodDelete, path, nil, nil)
}

func wantCode(t *testing.T, what string, r response, codes ...int) {
	t.Helper()
	if !slices.Contains(codes, r.code) {
		t.Fatalf("%s: got %s, want status %v", what, r, codes)
	}
}

// decode decodes a body as br does; the server must answer JSON.
func decode[T any](t *testing.T, what string, r response) T {
	t.Helper()
	var v T
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s: br cannot decode %s: %v", what, r.body, err)
	}
	return v
}

// wantError checks an error as br reads it: the status, and a JSON body whose `message`
// is a non-empty string (br type-asserts it).
func wantError(t *testing.T, what string, r response, code int) {
	t.Helper()
	wantCode(t, what, r, code)
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("%s: error body is not JSON: %s", what, r.body)
	}
	msg, ok := body["message"].(string)
	if !ok || msg == "" {
		t.Fatalf("%s: error body has no string message: %s", what, r.body)
	}
}

// wantArray checks that a list endpoint answers a JSON array, `[]` when empty.
func wantArray(t *testing.T, what string, r response) []json.RawMessage {
	t.Helper()
	wantCode(t, what, r, http.StatusOK)
	body := strings.TrimSpace(string(r.body))
	if !strings.HasPrefix(body, "[") {
		t.Fatalf("%s: want a JSON array, got %q", what, body)
	}
	return decode[[]json.RawMessage](t, what, r)
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newCompatServer(t *testing.T) *brClient {
	t.Helper()
	ctx := context.Background()
	s, err := server.New(ctx, server.Config{
		DataDir: t.TempDir(),
		// No Docker: a socket nobody listens on, so the docker location is left out.
		DockerHost: "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &brClient{t: t, base: hs.URL, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))}
}

func compatBlueprint(runDir string) string {
	return `name: compat
location: localhost
services:
- type: basic-entity
  id: group
  name: group
  brooklyn.children:
  - type: basic-entity
    name: leaf
- type: vanilla-software-process
  id: proc
  name: proc
  run.dir: ` + runDir + `
  install.command: echo installing
  launch.command: echo launched; echo warned >&2
  stop.command: sleep 1
`
}

// deployAndWait deploys as `br deploy` does and waits for the application to run.
func deployAndWait(t *testing.T, br *brClient, blueprint string) brTask {
	t.Helper()
	r := br.postJSON("/v1/applications", blueprint)
	wantCode(t, "deploy", r, http.StatusCreated)
	task := decode[brTask](t, "deploy", r)
	if task.EntityID == "" || task.EntityDisplayName == "" || task.CurrentStatus == "" {
		t.Fatalf("deploy: br prints entityId, entityDisplayName and currentStatus; got %s", r.body)
	}
	if want := br.base + "/v1/applications/" + task.EntityID; r.header.Get("Location") != want {
		t.Errorf("deploy: Location %q, want %q", r.header.Get("Location"), want)
	}
	eventually(t, "application "+task.EntityDisplayName+" running", 30*time.Second, func() bool {
		app := decode[brApp](t, "app", br.get("/v1/applications/"+task.EntityID))
		if app.Status == "ERROR" {
			t.Fatalf("application failed to start: %s", br.get("/v1/activities/"+task.ID))
		}
		return app.Status == "RUNNING"
	})
	return task
}

func TestBrooklynCompat(t *testing.T) {
	br := newCompatServer(t)
	runDir := t.TempDir()

	t.Run("login and version", func(t *testing.T) {
		r := br.version()
		wantCode(t, "version", r, http.StatusOK)
		v := decode[brVersion](t, "version", r)
		if v.Version != server.Version || v.Features == nil {
			t.Errorf("version: %s", r.body)
		}
	})

	t.Run("bad blueprints are 400 and create nothing", func(t *testing.T) {
		cases := []struct{ name, blueprint string }{
			{"yaml", "name: [broken\n"},
			{"unknown type", "name: x\nservices:\n- type: no-such-type\n"},
			{"unknown location", "name: x\nlocation: nowhere\nservices:\n- type: basic-entity\n"},
			{"no services", "name: x\n"},
			{"empty", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, "deploy", br.postJSON("/v1/applications", c.blueprint), http.StatusBadRequest)
			})
		}
		if got := wantArray(t, "apps", br.get("/v1/applications")); len(got) != 0 {
			t.Errorf("bad blueprints created %d applications", len(got))
		}
	})

	var deployed brTask
	if !t.Run("deploy", func(t *testing.T) {
		deployed = deployAndWait(t, br, compatBlueprint(runDir))
		if deployed.EntityDisplayName != "compat" {
			t.Errorf("deploy: entityDisplayName %q", deployed.EntityDisplayName)
		}
	}) {
		t.FailNow()
	}
	appID := deployed.EntityID
	ids := map[string]string{} // entity name -> id

	t.Run("apps", func(t *testing.T) {
		apps := decode[[]brApp](t, "apps", br.get("/v1/applications"))
		if len(apps) != 1 || apps[0].ID != appID || apps[0].Spec.Name != "compat" || apps[0].Status != "RUNNING" ||
			!slices.Equal(apps[0].Spec.Locations, []string{"localhost"}) {
			t.Errorf("apps: %+v", apps)
		}
	})

	t.Run("app", func(t *testing.T) {
		// `br app X`: the app, the app as its entity, its sensors, its first location.
		for _, token := range []string{appID, "compat", "COMPAT"} {
			app := decode[brApp](t, "app", br.get("/v1/applications/"+token))
			if app.ID != appID || app.Spec.Type == "" || app.Status != "RUNNING" || len(app.Spec.Locations) == 0 {
				t.Fatalf("app %s: %+v", token, app)
			}
			e := decode[brEntity](t, "app as entity", br.get(fmt.Sprintf("/v1/applications/%s/entities/%s", token, token)))
			if e.ID != appID {
				t.Errorf("app %s as entity: %+v", token, e)
			}
			state := decode[map[string]any](t, "app sensors", br.get(fmt.Sprintf("/v1/applications/%s/entities/%s/sensors/current-state", token, token)))
			if state["service.isUp"] != true || state["service.state"] != "RUNNING" {
				t.Errorf("app %s current-state: %v", token, state)
			}
			loc := decode[brLocation](t, "location", br.get("/v1/locations/"+app.Spec.Locations[0]))
			if loc.Name == "" || loc.Spec == "" || loc.Type == "" {
				t.Errorf("location %s: %+v", app.Spec.Locations[0], loc)
			}
		}
	})

	t.Run("tree", func(t *testing.T) {
		tree := decode[[]brTree](t, "tree", br.get("/v1/applications/fetch"))
		if len(tree) != 1 || tree[0].Name != "compat" || tree[0].Type == "" || len(tree[0].Children) != 2 {
			t.Fatalf("tree: %+v", tree)
		}
		group := tree[0].Children[0]
		if group.Name != "group" || len(group.Children) != 1 || group.Children[0].Name != "leaf" || group.Children[0].ParentID != group.ID {
			t.Errorf("tree: group %+v", group)
		}
	})

	t.Run("entities", func(t *testing.T) {
		// The application's children only.
		list := decode[[]brEntity](t, "entities", br.get("/v1/applications/compat/entities"))
		var names []string
		for _, e := range list {
			names = append(names, e.Name)
			ids[e.Name] = e.ID
			if e.ID == "" || e.Type == "" {
				t.Errorf("entity without id or type: %+v", e)
			}
		}
		if !slices.Equal(names, []string{"group", "proc"}) {
			t.Fatalf("entities: %v", names)
		}
		kids := decode[[]brEntity](t, "children", br.get("/v1/applications/compat/entities/group/children"))
		if len(kids) != 1 || kids[0].Name != "leaf" {
			t.Fatalf("children of group: %+v", kids)
		}
		ids["leaf"] = kids[0].ID
		// `br app A ent E`: the entity, by name or id, and its state.
		for _, token := range []string{"proc", ids["proc"]} {
			e := decode[brEntity](t, "entity", br.get("/v1/applications/compat/entities/"+token))
			if e.ID != ids["proc"] || e.Name != "proc" || !strings.HasSuffix(e.Type, "VanillaSoftwareProcess") {
				t.Errorf("entity %s: %+v", token, e)
			}
		}
	})

	t.Run("empty lists are []", func(t *testing.T) {
		for _, path := range []string{
			"/v1/applications/compat/entities/leaf/children",
			"/v1/applications/compat/entities/leaf/policies",
			"/v1/applications/compat/entities/" + ids["leaf"] + "/children",
		} {
			if got := wantArray(t, path, br.get(path)); len(got) != 0 {
				t.Errorf("%s: %d items, want none", path, len(got))
			}
		}
	})

	t.Run("sensors", func(t *testing.T) {
		// `br app A [ent E] sensor` lists the sensors and reads each one: every listed
		// sensor must answer 2xx.
		for _, entity := range []string{"compat", appID, "group", "leaf", "proc"} {
			t.Run(entity, func(t *testing.T) {
				base := "/v1/applications/compat/entities/" + entity + "/sensors"
				if entity == appID {
					base = "/v1/applications/" + appID + "/entities/" + appID + "/sensors"
				}
				list := decode[[]brSensor](t, "sensors", br.get(base))
				var names []string
				for _, s := range list {
					names = append(names, s.Name)
					r := br.get(base + "/" + s.Name)
					wantCode(t, "sensor "+s.Name, r, http.StatusOK, http.StatusNoContent)
					if r.code == http.StatusNoContent && len(r.body) != 0 {
						t.Errorf("sensor %s: 204 with a body %q", s.Name, r.body)
					}
					if r.code == http.StatusOK && !json.Valid(r.body) {
						t.Errorf("sensor %s: value is not JSON: %q", s.Name, r.body)
					}
				}
				for _, want := range []string{"service.isUp", "service.state", "service.state.expected", "service.notUp.indicators", "service.problems"} {
					if !slices.Contains(names, want) {
						t.Errorf("sensors lack %s: %v", want, names)
					}
				}
				values := []struct {
					sensor string
					want   any
				}{
					{"service.state", "RUNNING"},
					{"service.isUp", true},
					{"service.notUp.indicators", map[string]any{}},
					{"service.problems", map[string]any{}},
				}
				for _, v := range values {
					got := decode[any](t, v.sensor, br.get(base+"/"+v.sensor))
					if fmt.Sprint(got) != fmt.Sprint(v.want) {
						t.Errorf("%s = %#v, want %#v", v.sensor, got, v.want)
					}
				}
				expected := decode[map[string]any](t, "service.state.expected", br.get(base+"/service.state.expected"))
				if expected["state"] != "RUNNING" {
					t.Errorf("service.state.expected = %v", expected)
				}
			})
		}
		// A sensor the entity declares but has no value for: 204, which br shows as null.
		r := br.send(http.MethodDelete, "/v1/applications/compat/entities/proc/sensors/run.dir", nil, nil)
		wantCode(t, "delete sensor", r, http.StatusNoContent)
		r = br.get("/v1/applications/compat/entities/proc/sensors/run.dir")
		if r.code != http.StatusNoContent || len(r.body) != 0 {
			t.Errorf("unset declared sensor: %s, want an empty 204", r)
		}
	})

	t.Run("config", func(t *testing.T) {
		base := "/v1/applications/compat/entities/proc/config"
		cfg := decode[map[string]any](t, "config", br.get(base+"/current-state"))
		if cfg["launch.command"] != "echo launched; echo warned >&2" {
			t.Errorf("config current-state: %v", cfg)
		}
		if got := decode[string](t, "config key", br.get(base+"/launch.command")); got != "echo launched; echo warned >&2" {
			t.Errorf("config launch.command = %q", got)
		}
		if r := br.get(base + "/customize.command"); r.code != http.StatusNoContent || len(r.body) != 0 {
			t.Errorf("declared unset key: %s, want an empty 204", r)
		}
		// `br ... config KEY set VALUE` posts the value as typed, labelled JSON.
		sets := []struct{ typed, want string }{
			{`"x"`, "x"},
			{`hello`, "hello"}, // not JSON: taken as a string
		}
		for _, s := range sets {
			r := br.postJSON(base+"/somekey", s.typed)
			wantCode(t, "config set "+s.typed, r, http.StatusOK, http.StatusNoContent)
			if got := decode[string](t, "config somekey", br.get(base+"/somekey")); got != s.want {
				t.Errorf("after set %s: somekey = %q, want %q", s.typed, got, s.want)
			}
		}
	})

	t.Run("policies", func(t *testing.T) {
		base := "/v1/applications/compat/entities/proc/policies"
		// Added as Brooklyn's UI and tests add one: ?type= and a JSON map of config.
		r := br.postJSON(base+"?type=gantry.test.CountingPolicy", `{"threshold": "10"}`)
		wantCode(t, "add policy", r, http.StatusOK)
		added := decode[brPolicy](t, "add policy", r)
		if added.ID == "" || added.State != "RUNNING" {
			t.Fatalf("added policy: %s", r.body)
		}
		// br's own AddPolicy (not wired to a command yet) posts a form with policyType.
		form := "policyType=test-counting-policy"
		r = br.send(http.MethodPost, "/v1/applications/compat/entities/group/policies", strings.NewReader(form), map[string]string{
			"Content-Type": "application/x-www-form-urlencoded", "Content-Length": strconv.Itoa(len(form)),
		})
		wantCode(t, "add policy as br's form", r, http.StatusOK)
		formPolicy := decode[brPolicy](t, "add policy as br's form", r)

		// `br app compat ent proc policy`: Id, Name, State.
		list := decode[[]brPolicy](t, "policy", br.get(base))
		if len(list) != 1 || list[0].ID != added.ID || list[0].Name != "test-counting-policy" || list[0].State != "RUNNING" ||
			list[0].Links["self"] != "/v1/applications/"+appID+"/entities/"+ids["proc"]+"/policies/"+added.ID {
			t.Errorf("br policy: %+v", list)
		}
		// `br app compat policy` asks for the application as its own entity.
		wantArray(t, "app policies", br.get("/v1/applications/compat/entities/compat/policies"))

		// `br app compat ent proc policy ID`: the config keys, then each key's value,
		// printed raw; every listed key must answer 2xx.
		for _, token := range []string{added.ID, "test-counting-policy"} {
			cfg := decode[[]brPolicyConfig](t, "policy config", br.get(base+"/"+token+"/config"))
			values := map[string]string{}
			for _, k := range cfg {
				r := br.get(base + "/" + token + "/config/" + k.Name)
				wantCode(t, "config "+k.Name, r, http.StatusOK, http.StatusNoContent)
				values[k.Name] = string(r.body)
			}
			if values["threshold"] != "10" || values["sensor"] != "test.trigger" || values["effector"] != "" || len(cfg) != 4 {
				t.Errorf("br policy %s: %v", token, values)
			}
		}
		// The status, as Brooklyn answers GET .../policies/{id}: a JSON Status.
		if st := decode[string](t, "status", br.get(base+"/"+added.ID)); st != "RUNNING" {
			t.Errorf("policy status %q", st)
		}

		// stop-policy, start-policy, destroy-policy: empty POSTs, 2xx, the body printed.
		steps := []struct{ cmd, state string }{{"stop", "STOPPED"}, {"start", "RUNNING"}, {"stop", "STOPPED"}}
		for _, s := range steps {
			r := br.postEmpty(base + "/" + added.ID + "/" + s.cmd)
			wantCode(t, s.cmd+"-policy", r, http.StatusOK, http.StatusNoContent)
			if got := decode[[]brPolicy](t, "policy", br.get(base)); got[0].State != s.state {
				t.Errorf("after %s-policy: %s, want %s", s.cmd, got[0].State, s.state)
			}
		}
		wantError(t, "start-policy of an unknown policy", br.postEmpty(base+"/nosuch/start"), http.StatusNotFound)
		wantError(t, "policy of an unknown policy", br.get(base+"/nosuch/config"), http.StatusNotFound)
		wantError(t, "add an unknown type", br.postJSON(base+"?type=no.such.Policy", `{}`), http.StatusBadRequest)
		for _, p := range []struct{ entity, id string }{{"proc", added.ID}, {"group", formPolicy.ID}} {
			r := br.postEmpty("/v1/applications/compat/entities/" + p.entity + "/policies/" + p.id + "/destroy")
			wantCode(t, "destroy-policy", r, http.StatusOK, http.StatusNoContent)
			if got := wantArray(t, "policies after destroy", br.get("/v1/applications/compat/entities/"+p.entity+"/policies")); len(got) != 0 {
				t.Errorf("%s: %d policies after destroy-policy", p.entity, len(got))
			}
		}
	})

	t.Run("effectors", func(t *testing.T) {
		r := br.get("/v1/applications/compat/entities/group/effectors")
		raw := wantArray(t, "effectors", r)
		effs := decode[[]brEffector](t, "effectors", r)
		var names []string
		for i, e := range effs {
			names = append(names, e.Name)
			var m map[string]json.RawMessage
			_ = json.Unmarshal(raw[i], &m)
			if !strings.HasPrefix(string(m["parameters"]), "[") {
				t.Errorf("effector %s: parameters %s, want an array", e.Name, m["parameters"])
			}
		}
		for _, want := range []string{"start", "stop", "restart"} {
			if !slices.Contains(names, want) {
				t.Errorf("effectors lack %s: %v", want, names)
			}
		}
	})

	t.Run("stop start restart", func(t *testing.T) {
		// Blocking calls of void effectors: 200 with an empty body.
		steps := []struct {
			effector string
			params   url.Values
			state    string
		}{
			{"stop", nil, "STOPPED"},
			{"start", nil, "RUNNING"},
			{"restart", nil, "RUNNING"},
			{"restart", url.Values{"restartChildren": {"true"}}, "RUNNING"},
		}
		for _, s := range steps {
			r := br.invoke("compat", "group", s.effector, "", s.params)
			wantCode(t, s.effector, r, http.StatusOK)
			if len(r.body) != 0 {
				t.Errorf("%s: void effector answered %q, want an empty body", s.effector, r.body)
			}
			if got := decode[string](t, "state", br.get("/v1/applications/compat/entities/group/sensors/service.state")); got != s.state {
				t.Errorf("after %s: service.state %q, want %q", s.effector, got, s.state)
			}
		}
		wantError(t, "bad boolean", br.invoke("compat", "group", "restart", "", url.Values{"restartChildren": {"maybe"}}), http.StatusBadRequest)
		wantError(t, "unknown parameter", br.invoke("compat", "group", "restart", "", url.Values{"nosuch": {"1"}}), http.StatusBadRequest)
		wantError(t, "unknown effector", br.invoke("compat", "group", "explode", "", nil), http.StatusNotFound)
	})

	t.Run("activity 202 while running, 200 when done", func(t *testing.T) {
		// proc's stop.command sleeps a second: with --timeout 0 br gets the task at once.
		r := br.invoke("compat", "proc", "stop", "0", nil)
		wantCode(t, "stop --timeout 0", r, http.StatusAccepted)
		task := decode[brTask](t, "stop task", r)
		if task.ID == "" || task.EntityID != ids["proc"] {
			t.Fatalf("stop task: %s", r.body)
		}
		r = br.get("/v1/activities/" + task.ID)
		wantCode(t, "running activity", r, http.StatusAccepted)
		running := decode[brTask](t, "running activity", r)
		if running.EndTimeUTC != 0 || running.CurrentStatus == "Completed" {
			t.Errorf("running activity: %s", r.body)
		}
		var done brTask
		eventually(t, "stop ends", 20*time.Second, func() bool {
			r := br.get("/v1/activities/" + task.ID)
			wantCode(t, "activity", r, http.StatusOK, http.StatusAccepted)
			done = decode[brTask](t, "activity", r)
			return r.code == http.StatusOK
		})
		if done.CurrentStatus != "Completed" || done.IsError || done.IsCancelled || done.EndTimeUTC < done.StartTimeUTC || done.SubmitTimeUTC == 0 {
			t.Errorf("finished activity: %+v", done)
		}
		r = br.invoke("compat", "proc", "start", "", nil)
		wantCode(t, "start", r, http.StatusOK)
	})

	t.Run("activities and streams", func(t *testing.T) {
		r := br.get("/v1/applications/compat/entities/proc/activities")
		wantArray(t, "activities", r)
		tasks := decode[[]brTask](t, "activities", r)
		if len(tasks) < 3 {
			t.Fatalf("activities of proc: %d, want the deploy's start, stop and start", len(tasks))
		}
		for i := 1; i < len(tasks); i++ {
			if tasks[i].SubmitTimeUTC > tasks[i-1].SubmitTimeUTC {
				t.Errorf("activities are not newest first")
			}
		}
		// The first start of proc ran its install and launch commands as subtasks.
		first := tasks[len(tasks)-1]
		if first.ID == "" || first.DisplayName == "" || first.SubmitTimeUTC == 0 || first.CurrentStatus != "Completed" || first.Streams == nil {
			t.Fatalf("first activity of proc: %+v", first)
		}
		kids := decode[[]brTask](t, "children", br.get("/v1/activities/"+first.ID+"/children"))
		var launch brTask
		for _, k := range kids {
			if k.DisplayName == "launch" {
				launch = k
			}
		}
		if launch.ID == "" {
			t.Fatalf("no launch task among the children of %s: %+v", first.ID, kids)
		}
		r = br.get("/v1/activities/" + launch.ID)
		wantCode(t, "activity", r, http.StatusOK)
		a := decode[brTask](t, "activity", r)
		if a.EntityID != ids["proc"] || a.EntityDisplayName != "proc" || a.SubmittedByTask.Metadata.ID != first.ID ||
			a.StartTimeUTC == 0 || a.EndTimeUTC == 0 || a.DetailedStatus == "" {
			t.Errorf("launch activity: %s", r.body)
		}
		if a.Streams["stdout"].Metadata.Size != int64(len("launched\n")) || a.Streams["stderr"].Metadata.Size != int64(len("warned\n")) ||
			a.Streams["env"].Metadata.Size == 0 {
			t.Errorf("launch streams: %+v", a.Streams)
		}
		streams := []struct {
			name string
			code int
			want string
		}{
			{"stdout", http.StatusOK, "launched\n"},
			{"stderr", http.StatusOK, "warned\n"},
			{"env", http.StatusOK, "RUN_DIR=" + runDir + "\n"},
			{"stdin", http.StatusNotFound, ""},
			{"bogus", http.StatusNotFound, ""},
		}
		for _, s := range streams {
			r := br.get("/v1/activities/" + launch.ID + "/stream/" + s.name)
			if s.code != http.StatusOK {
				wantError(t, "stream "+s.name, r, s.code)
				continue
			}
			wantCode(t, "stream "+s.name, r, s.code)
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("stream %s: Content-Type %q", s.name, ct)
			}
			if !strings.Contains(string(r.body), s.want) {
				t.Errorf("stream %s = %q, want it to contain %q", s.name, r.body, s.want)
			}
		}
		if got := wantArray(t, "children of launch", br.get("/v1/activities/"+launch.ID+"/children")); len(got) != 0 {
			t.Errorf("launch has %d children", len(got))
		}
	})

	t.Run("rename", func(t *testing.T) {
		// br escapes the name with url.QueryEscape (a space becomes +) and sends no body.
		r := br.postEmpty("/v1/applications/compat/entities/proc/name?name=" + url.QueryEscape("new proc"))
		wantCode(t, "rename", r, http.StatusOK)
		if len(r.body) != 0 {
			t.Errorf("rename answered %q", r.body)
		}
		e := decode[brEntity](t, "renamed", br.get("/v1/applications/compat/entities/new proc"))
		if e.ID != ids["proc"] || e.Name != "new proc" {
			t.Errorf("renamed entity: %+v", e)
		}
		tasks := decode[[]brTask](t, "activities", br.get("/v1/applications/compat/entities/new proc/activities"))
		for _, task := range tasks {
			if task.EntityDisplayName != "new proc" {
				t.Errorf("activity %s after rename: entityDisplayName %q, want the current name", task.ID, task.EntityDisplayName)
			}
		}
		wantError(t, "old name", br.get("/v1/applications/compat/entities/proc"), http.StatusNotFound)
	})

	t.Run("locations", func(t *testing.T) {
		locs := decode[[]brLocation](t, "locations", br.get("/v1/locations"))
		found := false
		for _, l := range locs {
			if l.ID == "localhost" {
				found = l.Name != "" && l.Spec != ""
			}
		}
		if !found {
			t.Errorf("locations: %+v", locs)
		}
	})

	other := deployAndWait(t, br, "name: other\nlocation: localhost\nservices:\n- type: basic-entity\n  name: solo\n")

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name, method, path string
			code               int
		}{
			{"unknown app", "GET", "/v1/applications/nosuch", 404},
			{"unknown app entities", "GET", "/v1/applications/nosuch/entities", 404},
			{"unknown entity", "GET", "/v1/applications/compat/entities/nosuch", 404},
			{"entity of another app", "GET", "/v1/applications/other/entities/" + ids["proc"], 412},
			{"unknown sensor", "GET", "/v1/applications/compat/entities/group/sensors/nosuch", 404},
			{"unknown config key", "GET", "/v1/applications/compat/entities/group/config/nosuch", 404},
			{"unknown activity", "GET", "/v1/activities/nosuch", 404},
			{"unknown activity children", "GET", "/v1/activities/nosuch/children", 404},
			{"unknown location", "GET", "/v1/locations/nosuch", 404},
			{"unknown route", "GET", "/v1/nosuch", 404},
			{"method not allowed", "PUT", "/v1/applications/compat", 405},
			{"empty rename", "POST", "/v1/applications/compat/entities/group/name", 400},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var r response
				switch c.method {
				case "GET":
					r = br.get(c.path)
				case "POST":
					r = br.postEmpty(c.path)
				default:
					r = br.send(c.method, c.path, nil, nil)
				}
				wantError(t, c.name, r, c.code)
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		for _, app := range []brTask{deployed, other} {
			r := br.delete("/v1/applications/" + app.EntityDisplayName)
			wantCode(t, "delete", r, http.StatusAccepted)
			task := decode[brTask](t, "delete", r)
			if task.ID == "" || task.EntityID != app.EntityID {
				t.Errorf("delete task: %s", r.body)
			}
			eventually(t, app.EntityDisplayName+" gone", 20*time.Second, func() bool {
				return br.get("/v1/applications/"+app.EntityID).code == http.StatusNotFound
			})
		}
		for _, path := range []string{"/v1/applications", "/v1/applications/fetch"} {
			if got := wantArray(t, path, br.get(path)); len(got) != 0 {
				t.Errorf("%s after delete: %d items", path, len(got))
			}
		}
	})
}
