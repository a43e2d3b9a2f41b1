package server_test

// Policies and enrichers through REST (server/adjuncts.go): every policy, adjunct and
// catalog route, driven through the Go client against a real server.New, with a
// policy and an enricher kind registered here (so that the test does not depend on
// the policies package), persisted across a restart of the server.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
	"github.com/gantry-dev/gantry/server"
)

const (
	testPolicy   = "gantry.test.CountingPolicy"
	testEnricher = "gantry.test.DoublingEnricher"
)

func init() {
	// A policy that counts the values of a sensor above a threshold, remembers the
	// count, and may invoke an effector each time.
	entities.RegisterAdjunct(&entities.AdjunctKind{
		Name:        testPolicy,
		Aliases:     []string{"test-counting-policy"},
		Description: "Counts the values of a sensor above a threshold",
		Category:    entities.PolicyCategory,
		Config: []entities.ConfigKey{
			{Name: "sensor", Type: "string", Default: "test.trigger", Description: "The sensor watched"},
			{Name: "threshold", Aliases: []string{"test.threshold"}, Type: "integer", Default: 10, Description: "Values above it count"},
			{Name: "effector", Type: "string", Description: "An effector to invoke on each count"},
			{Name: "period", Type: "duration", Default: "1m"},
		},
		Check: func(cfg map[string]any) error {
			if n, ok := cfg["threshold"].(int); ok && n < 0 {
				return &entities.KeyError{Key: "threshold", Err: errors.New("must not be negative")}
			}
			return nil
		},
		Start: func(a *entities.Adjunct) error {
			a.SubscribeSensor(a.ConfigString("sensor"), func(ev sensors.Event) {
				v, ok := ev.Value.(float64)
				if !ok || v <= float64(a.ConfigInt("threshold", 10)) {
					return
				}
				n, _ := a.Memory("count")
				count, _ := n.(float64)
				a.Remember("count", count+1)
				a.Highlight("lastViolation", fmt.Sprintf("%v above %d", v, a.ConfigInt("threshold", 10)), "")
				if eff := a.ConfigString("effector"); eff != "" {
					_, _ = a.Invoke(a.Entity(), eff, nil)
				}
			}, a.Entity())
			return nil
		},
	})
	// An enricher that publishes twice the value of one sensor as another.
	entities.RegisterAdjunct(&entities.AdjunctKind{
		Name:     testEnricher,
		Aliases:  []string{"test-doubling-enricher"},
		Category: entities.EnricherCategory,
		Config: []entities.ConfigKey{
			{Name: "source", Type: "string", Default: "test.in"},
			{Name: "target", Type: "string", Default: "test.out"},
		},
		Start: func(a *entities.Adjunct) error {
			a.SubscribeSensor(a.ConfigString("source"), func(ev sensors.Event) {
				if v, ok := ev.Value.(float64); ok {
					a.Entity().SetAttribute(a.ConfigString("target"), 2*v)
				}
			}, a.Entity())
			return nil
		},
	})
}

// testServer is a server on a data directory, served over HTTP, that can be restarted.
type testServer struct {
	t    *testing.T
	dir  string
	s    *server.Server
	hs   *httptest.Server
	c    *client.Client
	br   *brClient
	open bool
}

func startTestServer(t *testing.T, dir string) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: dir}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start() {
	ts.t.Helper()
	s, err := server.New(context.Background(), server.Config{
		DataDir:    ts.dir,
		DockerHost: "unix://" + filepath.Join(ts.t.TempDir(), "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.s, ts.hs, ts.open = s, httptest.NewServer(s.Handler()), true
	ts.c = client.New(ts.hs.URL)
	ts.br = &brClient{t: ts.t, base: ts.hs.URL, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))}
}

func (ts *testServer) stop() {
	if !ts.open {
		return
	}
	ts.open = false
	ts.hs.Close()
	if err := ts.s.Close(); err != nil {
		ts.t.Errorf("close server: %v", err)
	}
}

func (ts *testServer) restart() {
	ts.t.Helper()
	ts.stop()
	ts.start()
}

// deploy deploys a blueprint through the client and waits for its start to end.
func (ts *testServer) deploy(blueprint string) string {
	ts.t.Helper()
	ctx := context.Background()
	task, err := ts.c.Deploy(ctx, []byte(blueprint))
	if err != nil {
		ts.t.Fatal(err)
	}
	done, err := ts.c.WaitTask(ctx, task.ID)
	if err != nil || done.IsError {
		ts.t.Fatalf("deploy: %+v %v", done, err)
	}
	return task.EntityID
}

func wantStatus(t *testing.T, what string, err error, code int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != code {
		t.Fatalf("%s: %v, want status %d", what, err, code)
	}
}

func TestAdjunctsREST(t *testing.T) {
	ctx := context.Background()
	ts := startTestServer(t, t.TempDir())
	app := ts.deploy("name: adj\nlocation: localhost\nservices:\n- type: basic-entity\n  name: web\n")
	c := ts.c
	web, err := c.Entity(ctx, app, "web")
	if err != nil {
		t.Fatal(err)
	}

	var policyID, enricherID string
	t.Run("add a policy", func(t *testing.T) {
		p, err := c.AddPolicy(ctx, app, "web", "test-counting-policy", map[string]any{"threshold": "5"})
		if err != nil {
			t.Fatal(err)
		}
		policyID = p.ID
		if p.ID == "" || p.Name != "test-counting-policy" || p.AdjunctType != api.AdjunctPolicy || p.State != api.StatusRunning {
			t.Errorf("added policy: %+v", p)
		}
		self := "/v1/applications/" + app + "/entities/" + web.ID + "/policies/" + p.ID
		want := map[string]string{"self": self, "config": self + "/config", "start": self + "/start", "stop": self + "/stop",
			"destroy": self + "/destroy", "application": "/v1/applications/" + app, "entity": "/v1/applications/" + app + "/entities/" + web.ID}
		if fmt.Sprint(p.Links) != fmt.Sprint(want) {
			t.Errorf("links %v, want %v", p.Links, want)
		}
		ps, err := c.Policies(ctx, app, "web")
		if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
			t.Fatalf("policies: %+v %v", ps, err)
		}
		for _, token := range []string{p.ID, p.Name} {
			if st, err := c.PolicyStatus(ctx, app, "web", token); err != nil || st != api.StatusRunning {
				t.Errorf("status of %s: %q %v", token, st, err)
			}
		}
	})
	if policyID == "" {
		t.FailNow()
	}

	t.Run("bad adds", func(t *testing.T) {
		_, err := c.AddPolicy(ctx, app, "web", "no.such.Policy", nil)
		wantStatus(t, "unknown type", err, http.StatusBadRequest)
		_, err = c.AddPolicy(ctx, app, "web", "test-doubling-enricher", nil)
		wantStatus(t, "an enricher as a policy", err, http.StatusBadRequest)
		_, err = c.AddPolicy(ctx, app, "web", testPolicy, map[string]any{"threshold": -1})
		wantStatus(t, "bad config", err, http.StatusBadRequest)
		if !strings.Contains(err.Error(), "threshold: must not be negative") {
			t.Errorf("bad config: %v, want the key's error", err)
		}
		_, err = c.AddPolicy(ctx, app, "web", testPolicy, map[string]any{"threshold": "many"})
		wantStatus(t, "config of the wrong type", err, http.StatusBadRequest)
		_, err = c.AddAdjunct(ctx, app, "web", "", nil)
		wantStatus(t, "no type", err, http.StatusBadRequest)
		r := ts.br.postJSON("/v1/applications/"+app+"/entities/web/policies?type="+testPolicy, "[1]")
		wantError(t, "config not a map", r, http.StatusBadRequest)
		_, err = c.AddPolicy(ctx, app, "nosuch", testPolicy, nil)
		wantStatus(t, "unknown entity", err, http.StatusNotFound)
		if ps, _ := c.Policies(ctx, app, "web"); len(ps) != 1 {
			t.Errorf("failed adds left policies: %+v", ps)
		}
	})

	t.Run("policy config", func(t *testing.T) {
		cfg, err := c.PolicyConfig(ctx, app, "web", policyID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, k := range cfg {
			names = append(names, k.Name)
			if k.Name == "threshold" && (k.Type != "java.lang.Integer" || k.DefaultValue != "10" || k.Links["policy"] == "") {
				t.Errorf("threshold: %+v", k)
			}
		}
		if !slices.Equal(names, []string{"sensor", "threshold", "effector", "period"}) {
			t.Errorf("config keys %v", names)
		}
		vals, err := c.PolicyConfigValues(ctx, app, "web", policyID)
		if err != nil || vals["threshold"] != "5" || vals["sensor"] != "test.trigger" || vals["period"] != "1m" {
			t.Errorf("config values: %v %v", vals, err)
		}
		if v, err := c.PolicyConfigValue(ctx, app, "web", policyID, "threshold"); err != nil || v != "5" {
			t.Errorf("threshold: %q %v", v, err)
		}
		if v, err := c.PolicyConfigValue(ctx, app, "web", policyID, "effector"); err != nil || v != "" {
			t.Errorf("unset effector: %q %v", v, err)
		}
		_, err = c.PolicyConfigValue(ctx, app, "web", policyID, "nosuch")
		wantStatus(t, "unknown key", err, http.StatusNotFound)

		if err := c.SetPolicyConfig(ctx, app, "web", policyID, "threshold", 20); err != nil {
			t.Fatal(err)
		}
		if err := c.SetPolicyConfig(ctx, app, "web", policyID, "test.threshold", "30"); err != nil { // an alias, as text
			t.Fatal(err)
		}
		if v, _ := c.PolicyConfigValue(ctx, app, "web", policyID, "threshold"); v != "30" {
			t.Errorf("threshold after set: %q", v)
		}
		err = c.SetPolicyConfig(ctx, app, "web", policyID, "threshold", -3)
		wantStatus(t, "negative threshold", err, http.StatusBadRequest)
		if !strings.Contains(err.Error(), "threshold: must not be negative") {
			t.Errorf("negative threshold: %v", err)
		}
		wantStatus(t, "not a number", c.SetPolicyConfig(ctx, app, "web", policyID, "threshold", "lots"), http.StatusBadRequest)
		wantStatus(t, "unknown key", c.SetPolicyConfig(ctx, app, "web", policyID, "nosuch", 1), http.StatusNotFound)
		if v, _ := c.PolicyConfigValue(ctx, app, "web", policyID, "threshold"); v != "30" {
			t.Errorf("threshold after refused sets: %q", v)
		}
		// Older Brooklyn took ?value= with no body.
		r := ts.br.postEmpty("/v1/applications/" + app + "/entities/web/policies/" + policyID + "/config/threshold?value=5")
		wantCode(t, "set with ?value=", r, http.StatusOK)
		wantError(t, "set with nothing", ts.br.postEmpty("/v1/applications/"+app+"/entities/web/policies/"+policyID+"/config/threshold"), http.StatusBadRequest)
		if v, _ := c.PolicyConfigValue(ctx, app, "web", policyID, "threshold"); v != "5" {
			t.Errorf("threshold after ?value=5: %q", v)
		}
	})

	count := func() string {
		d, err := c.Adjunct(ctx, app, "web", policyID)
		if err != nil {
			t.Fatal(err)
		}
		return d.Highlights["lastViolation"].Description
	}
	t.Run("the policy acts, stops and starts", func(t *testing.T) {
		if err := c.SetSensor(ctx, app, "web", "test.trigger", 7); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the policy sees 7", 10*time.Second, func() bool { return count() == "7 above 5" })
		if err := c.StopPolicy(ctx, app, "web", policyID); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.PolicyStatus(ctx, app, "web", policyID); st != api.StatusStopped {
			t.Errorf("after stop: %q", st)
		}
		states := decode[map[string]bool](t, "policy states", ts.br.get("/v1/applications/"+app+"/entities/web/policies/current-state"))
		if len(states) != 1 || states[policyID] {
			t.Errorf("policies/current-state: %v", states)
		}
		_ = c.SetSensor(ctx, app, "web", "test.trigger", 8)
		if err := c.StartPolicy(ctx, app, "web", policyID); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.PolicyStatus(ctx, app, "web", policyID); st != api.StatusRunning {
			t.Errorf("after start: %q", st)
		}
		_ = c.SetSensor(ctx, app, "web", "test.trigger", 9)
		eventually(t, "the policy sees 9", 10*time.Second, func() bool { return count() == "9 above 5" })
	})

	t.Run("add an enricher", func(t *testing.T) {
		d, err := c.AddAdjunct(ctx, app, "web", testEnricher, map[string]any{"target": "test.doubled"})
		if err != nil {
			t.Fatal(err)
		}
		enricherID = d.ID
		if d.AdjunctType != api.AdjunctEnricher || d.State != api.StatusRunning || d.Name != "test-doubling-enricher" ||
			d.Config["target"] != "test.doubled" || d.Config["source"] != "test.in" || len(d.Parameters) != 2 {
			t.Errorf("added enricher: %+v", d)
		}
		for _, l := range []string{"self", "application", "entity", "adjunct", "config", "status", "start", "stop", "destroy"} {
			if d.Links[l] == "" {
				t.Errorf("enricher detail lacks link %s: %v", l, d.Links)
			}
		}
		if err := c.SetSensor(ctx, app, "web", "test.in", 21); err != nil {
			t.Fatal(err)
		}
		eventually(t, "test.doubled = 42", 10*time.Second, func() bool {
			v, _ := c.Sensor(ctx, app, "web", "test.doubled")
			return v == 42.0
		})
		// Not a policy.
		_, err = c.PolicyStatus(ctx, app, "web", enricherID)
		wantStatus(t, "an enricher on the policy routes", err, http.StatusNotFound)
	})

	t.Run("adjuncts", func(t *testing.T) {
		lists := []struct {
			filter string
			want   []string
		}{
			{"", []string{"test-counting-policy", "test-doubling-enricher"}},
			{"policy", []string{"test-counting-policy"}},
			{"ENRICHER", []string{"test-doubling-enricher"}},
			{"feed", nil},
		}
		for _, l := range lists {
			as, err := c.Adjuncts(ctx, app, "web", l.filter)
			var names []string
			for _, a := range as {
				names = append(names, a.Name)
				if len(a.Links) != 1 || !strings.HasSuffix(a.Links["self"], "/adjuncts/"+a.ID) {
					t.Errorf("summary links: %v", a.Links)
				}
			}
			if err != nil || !slices.Equal(names, l.want) || as == nil {
				t.Errorf("adjuncts ?adjunctType=%s: %v %v", l.filter, names, err)
			}
		}
		_, err := c.Adjuncts(ctx, app, "web", "bogus")
		wantStatus(t, "unknown adjunct type", err, http.StatusBadRequest)

		if d, err := c.Adjunct(ctx, app, "web", "test-doubling-enricher"); err != nil || d.ID != enricherID {
			t.Errorf("adjunct by name: %+v %v", d, err)
		}
		if st, err := c.AdjunctStatus(ctx, app, "web", enricherID); err != nil || st != api.StatusRunning {
			t.Errorf("adjunct status: %q %v", st, err)
		}
		cfg, err := c.AdjunctConfig(ctx, app, "web", enricherID)
		if err != nil || len(cfg) != 2 || cfg[0].Name != "source" || cfg[0].DefaultValue != "test.in" || cfg[0].Links["action:json"] == "" {
			t.Errorf("adjunct config: %+v %v", cfg, err)
		}
		if vals, err := c.AdjunctConfigValues(ctx, app, "web", enricherID); err != nil || vals["target"] != "test.doubled" {
			t.Errorf("config-current: %v %v", vals, err)
		}
		if err := c.SetAdjunctConfig(ctx, app, "web", enricherID, "target", "test.twice"); err != nil {
			t.Fatal(err)
		}
		if v, err := c.AdjunctConfigValue(ctx, app, "web", enricherID, "target"); err != nil || v != "test.twice" {
			t.Errorf("target: %q %v", v, err)
		}
		_ = c.SetSensor(ctx, app, "web", "test.in", 5)
		eventually(t, "test.twice = 10", 10*time.Second, func() bool {
			v, _ := c.Sensor(ctx, app, "web", "test.twice")
			return v == 10.0
		})
		// Gantry's enrichers stop and start (Brooklyn's cannot).
		if err := c.StopAdjunct(ctx, app, "web", enricherID); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.AdjunctStatus(ctx, app, "web", enricherID); st != api.StatusStopped {
			t.Errorf("stopped enricher: %q", st)
		}
		if err := c.StartAdjunct(ctx, app, "web", enricherID); err != nil {
			t.Fatal(err)
		}
		// The policy through the adjunct routes.
		if d, err := c.Adjunct(ctx, app, "web", policyID); err != nil || d.AdjunctType != api.AdjunctPolicy || d.Config["threshold"] != "5" {
			t.Errorf("policy as an adjunct: %+v %v", d, err)
		}
	})

	t.Run("activities of a policy", func(t *testing.T) {
		if err := c.SetPolicyConfig(ctx, app, "web", policyID, "effector", "restart"); err != nil {
			t.Fatal(err)
		}
		_ = c.SetSensor(ctx, app, "web", "test.trigger", 11)
		var tasks []api.TaskSummary
		eventually(t, "the policy's restart", 10*time.Second, func() bool {
			tasks, _ = c.AdjunctActivities(ctx, app, "web", policyID)
			return len(tasks) > 0
		})
		if !strings.Contains(tasks[0].DisplayName, "restart") || tasks[0].EntityID != web.ID {
			t.Errorf("activities: %+v", tasks[0])
		}
		d, _ := c.Adjunct(ctx, app, "web", policyID)
		if d.Highlights["lastAction"].TaskID != tasks[0].ID {
			t.Errorf("lastAction %+v, want task %s", d.Highlights["lastAction"], tasks[0].ID)
		}
		if _, err := c.WaitTask(ctx, tasks[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := c.SetPolicyConfig(ctx, app, "web", policyID, "effector", ""); err != nil {
			t.Fatal(err)
		}
		if ts, err := c.AdjunctActivities(ctx, app, "web", enricherID); err != nil || ts == nil || len(ts) != 0 {
			t.Errorf("activities of the enricher: %v %v", ts, err)
		}
	})

	t.Run("catalog", func(t *testing.T) {
		for _, l := range []struct {
			kind, want, not, itemType string
			keys                      int
		}{
			{"policies", testPolicy, testEnricher, "policy", 4},
			{"enrichers", testEnricher, testPolicy, "enricher", 2},
		} {
			r := ts.br.get("/v1/catalog/" + l.kind)
			items := decode[[]api.CatalogPolicySummary](t, l.kind, r)
			var found *api.CatalogPolicySummary
			for i, it := range items {
				if it.SymbolicName == l.want {
					found = &items[i]
				}
				if it.SymbolicName == l.not {
					t.Errorf("%s lists %s", l.kind, l.not)
				}
			}
			if found == nil || found.ID != l.want+":"+server.Version || found.ItemType != l.itemType ||
				len(found.Config) != l.keys || found.Links["self"] != "/v1/catalog/"+l.kind+"/"+l.want+"/"+server.Version {
				t.Errorf("%s: %+v", l.kind, found)
			}
		}
		it, err := c.CatalogItem(ctx, "policies", testPolicy, server.Version)
		if err != nil || it.ID != testPolicy+":"+server.Version || len(it.Config) != 4 {
			t.Errorf("catalog policy: %+v %v", it, err)
		}
		if _, err := c.CatalogItem(ctx, "policies", "test-counting-policy", ""); err != nil {
			t.Errorf("catalog policy by alias: %v", err)
		}
		_, err = c.CatalogItem(ctx, "policies", testEnricher, "")
		wantStatus(t, "an enricher among policies", err, http.StatusNotFound)
		_, err = c.CatalogItem(ctx, "policies", testPolicy, "9.9")
		wantStatus(t, "another version", err, http.StatusNotFound)

		// A catalog item of type policy is a type POST .../policies takes; its config
		// is the default of the request's.
		if _, err := c.AddCatalog(ctx, []byte("brooklyn.catalog:\n  id: strict-counter\n  version: 1.0\n  itemType: policy\n  item:\n    type: test-counting-policy\n    brooklyn.config:\n      threshold: 2\n      sensor: test.other\n")); err != nil {
			t.Fatal(err)
		}
		p, err := c.AddPolicy(ctx, app, "web", "strict-counter:1.0", map[string]any{"sensor": "test.other2"})
		if err != nil {
			t.Fatal(err)
		}
		if vals, _ := c.PolicyConfigValues(ctx, app, "web", p.ID); vals["threshold"] != "2" || vals["sensor"] != "test.other2" {
			t.Errorf("policy from the catalog: %v", vals)
		}
		if err := c.DestroyPolicy(ctx, app, "web", p.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("kept across a restart", func(t *testing.T) {
		if err := c.StopPolicy(ctx, app, "web", policyID); err != nil {
			t.Fatal(err)
		}
		ts.restart()
		c = ts.c
		ps, err := c.Policies(ctx, app, "web")
		if err != nil || len(ps) != 1 || ps[0].ID != policyID || ps[0].State != api.StatusStopped || ps[0].Highlights["lastViolation"].Description == "" {
			t.Fatalf("policies after restart: %+v %v", ps, err)
		}
		if v, _ := c.PolicyConfigValue(ctx, app, "web", policyID, "threshold"); v != "5" {
			t.Errorf("threshold after restart: %q", v)
		}
		d, err := c.Adjunct(ctx, app, "web", enricherID)
		if err != nil || d.State != api.StatusRunning || d.Config["target"] != "test.twice" {
			t.Fatalf("enricher after restart: %+v %v", d, err)
		}
		_ = c.SetSensor(ctx, app, "web", "test.in", 50)
		eventually(t, "test.twice = 100 after the restart", 10*time.Second, func() bool {
			v, _ := c.Sensor(ctx, app, "web", "test.twice")
			return v == 100.0
		})
	})

	t.Run("unknown policies and adjuncts are 404", func(t *testing.T) {
		base := "/v1/applications/" + app + "/entities/web"
		for _, r := range []struct{ method, path string }{
			{"GET", base + "/policies/nosuch"},
			{"POST", base + "/policies/nosuch/start"},
			{"POST", base + "/policies/nosuch/stop"},
			{"POST", base + "/policies/nosuch/destroy"},
			{"GET", base + "/policies/nosuch/config"},
			{"GET", base + "/policies/nosuch/config/threshold"},
			{"GET", base + "/adjuncts/nosuch"},
			{"GET", base + "/adjuncts/nosuch/status"},
			{"DELETE", base + "/adjuncts/nosuch"},
			{"GET", base + "/adjuncts/nosuch/config-current"},
			{"GET", "/v1/applications/" + app + "/entities/nosuch/policies"},
		} {
			wantError(t, r.method+" "+r.path, ts.br.send(r.method, r.path, nil, nil), http.StatusNotFound)
		}
	})

	t.Run("destroy", func(t *testing.T) {
		if err := c.DestroyPolicy(ctx, app, "web", policyID); err != nil {
			t.Fatal(err)
		}
		_, err := c.PolicyStatus(ctx, app, "web", policyID)
		wantStatus(t, "destroyed policy", err, http.StatusNotFound)
		if err := c.DestroyAdjunct(ctx, app, "web", enricherID); err != nil {
			t.Fatal(err)
		}
		// POST .../adjuncts/{id}/destroy too, as the policy routes.
		d, err := c.AddAdjunct(ctx, app, "web", testEnricher, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "POST destroy", ts.br.postEmpty("/v1/applications/"+app+"/entities/web/adjuncts/"+d.ID+"/destroy"), http.StatusNoContent)
		if as, err := c.Adjuncts(ctx, app, "web", ""); err != nil || len(as) != 0 {
			t.Errorf("adjuncts after destroy: %+v %v", as, err)
		}
		ts.restart()
		if as, err := ts.c.Adjuncts(ctx, app, "web", ""); err != nil || len(as) != 0 {
			t.Errorf("adjuncts after destroy and restart: %+v %v", as, err)
		}
	})
}

// Group membership renders in /v1/applications/fetch (groupIds, members) and as the
// ordinary sensors group.members and group.members.count.
func TestGroupMembersREST(t *testing.T) {
	ctx := context.Background()
	ts := startTestServer(t, t.TempDir())
	app := ts.deploy("name: grp\nlocation: localhost\nservices:\n- type: basic-entity\n  name: group\n- type: basic-entity\n  name: m1\n")
	m := ts.s.Management()
	a, err := m.Application(app)
	if err != nil {
		t.Fatal(err)
	}
	group, _ := m.FindEntity(a, "group")
	m1, _ := m.FindEntity(a, "m1")
	group.AddMember(m1)

	vals, err := ts.c.SensorValues(ctx, app, "group")
	if err != nil || fmt.Sprint(vals["group.members"]) != "["+m1.ID()+"]" || vals["group.members.count"] != 1.0 {
		t.Errorf("group sensors: %v %v", vals, err)
	}
	if v, err := ts.c.Sensor(ctx, app, "group", "group.members"); err != nil || fmt.Sprint(v) != "["+m1.ID()+"]" {
		t.Errorf("group.members: %v %v", v, err)
	}
	list, _ := ts.c.Sensors(ctx, app, "group")
	found := false
	for _, s := range list {
		if s.Name == "group.members" {
			found = s.Type == "java.util.List"
		}
	}
	if !found {
		t.Errorf("group.members is not listed as a java.util.List: %+v", list)
	}
	tree, err := ts.c.FetchApplications(ctx)
	if err != nil || len(tree) != 1 {
		t.Fatal(tree, err)
	}
	for _, e := range tree[0].Children {
		switch e.Name {
		case "group":
			if len(e.Members) != 1 || e.Members[0].ID != m1.ID() || e.Members[0].Name != "m1" {
				t.Errorf("group members: %+v", e.Members)
			}
		case "m1":
			if !slices.Equal(e.GroupIDs, []string{group.ID()}) {
				t.Errorf("m1 groupIds: %v", e.GroupIDs)
			}
		}
	}
}
