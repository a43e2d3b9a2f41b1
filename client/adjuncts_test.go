package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// The policy and adjunct calls send what Brooklyn's routes take and decode what they
// answer (fixtures shared with the api package).
func TestPolicies(t *testing.T) {
	ctx := context.Background()
	const base = "/v1/applications/app/entities/web"
	var posted []string
	record := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			posted = append(posted, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Content-Type")+" "+string(b))
			if body == "" {
				w.WriteHeader(status)
				return
			}
			reply(status, body)(w, r)
		}
	}
	detail := fixture(t, "adjunct_detail.json")
	c := serve(t, map[string]http.HandlerFunc{
		"GET " + base + "/policies":                             reply(http.StatusOK, fixture(t, "policies.json")),
		"POST " + base + "/policies":                            record(http.StatusOK, `{"id":"p1","name":"autoscaler","adjunctType":"POLICY","state":"RUNNING","links":{}}`),
		"GET " + base + "/policies/p1":                          reply(http.StatusOK, `"STOPPED"`),
		"POST " + base + "/policies/p1/start":                   record(http.StatusNoContent, ""),
		"POST " + base + "/policies/p1/stop":                    record(http.StatusNoContent, ""),
		"POST " + base + "/policies/p1/destroy":                 record(http.StatusNoContent, ""),
		"GET " + base + "/policies/p1/config":                   reply(http.StatusOK, fixture(t, "policy_config.json")),
		"GET " + base + "/policies/p1/config/current-state":     reply(http.StatusOK, `{"metric":"load"}`),
		"GET " + base + "/policies/p1/config/metric":            func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "load") },
		"GET " + base + "/policies/p1/config/unset":             func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
		"GET " + base + "/policies/p1/config/nosuch":            apiError(http.StatusNotFound, "no config key nosuch"),
		"POST " + base + "/policies/p1/config/metricUpperBound": record(http.StatusOK, ""),
		"POST " + base + "/policies/p1/config/metric":           apiError(http.StatusBadRequest, "metric: must be a string"),
		"GET " + base + "/adjuncts":                             reply(http.StatusOK, fixture(t, "adjuncts.json")),
		"POST " + base + "/adjuncts":                            record(http.StatusOK, detail),
		"GET " + base + "/adjuncts/a1":                          reply(http.StatusOK, detail),
		"GET " + base + "/adjuncts/a1/status":                   reply(http.StatusOK, `"RUNNING"`),
		"DELETE " + base + "/adjuncts/a1":                       record(http.StatusNoContent, ""),
		"GET " + base + "/adjuncts/a1/config-current":           reply(http.StatusOK, `{"metric":"load"}`),
		"GET " + base + "/adjuncts/a1/activities":               reply(http.StatusOK, `[]`),
	})

	ps, err := c.Policies(ctx, "app", "web")
	if err != nil || len(ps) != 2 || ps[0].State != api.StatusRunning || ps[0].Highlights["lastAction"].TaskID != "Wb6GV5rt" {
		t.Fatalf("policies: %+v %v", ps, err)
	}
	p, err := c.AddPolicy(ctx, "app", "web", "autoscaler", map[string]any{"metric": "load"})
	if err != nil || p.ID != "p1" {
		t.Fatalf("add policy: %+v %v", p, err)
	}
	if st, err := c.PolicyStatus(ctx, "app", "web", "p1"); err != nil || st != api.StatusStopped {
		t.Errorf("status: %q %v", st, err)
	}
	for _, f := range []func(context.Context, string, string, string) error{c.StartPolicy, c.StopPolicy, c.DestroyPolicy} {
		if err := f(ctx, "app", "web", "p1"); err != nil {
			t.Error(err)
		}
	}
	cfg, err := c.PolicyConfig(ctx, "app", "web", "p1")
	if err != nil || len(cfg) != 2 || cfg[0].DefaultValue != "100" {
		t.Errorf("config: %+v %v", cfg, err)
	}
	if vs, err := c.PolicyConfigValues(ctx, "app", "web", "p1"); err != nil || vs["metric"] != "load" {
		t.Errorf("config values: %v %v", vs, err)
	}
	if v, err := c.PolicyConfigValue(ctx, "app", "web", "p1", "metric"); err != nil || v != "load" {
		t.Errorf("config value: %q %v", v, err)
	}
	if v, err := c.PolicyConfigValue(ctx, "app", "web", "p1", "unset"); err != nil || v != "" {
		t.Errorf("unset config value: %q %v", v, err)
	}
	if _, err := c.PolicyConfigValue(ctx, "app", "web", "p1", "nosuch"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	if err := c.SetPolicyConfig(ctx, "app", "web", "p1", "metricUpperBound", 80); err != nil {
		t.Error(err)
	}
	if err := c.SetPolicyConfig(ctx, "app", "web", "p1", "metric", 1); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("bad value: %v", err)
	}

	as, err := c.Adjuncts(ctx, "app", "web", "")
	if err != nil || len(as) != 2 || as[1].AdjunctType != api.AdjunctEnricher {
		t.Errorf("adjuncts: %+v %v", as, err)
	}
	d, err := c.AddAdjunct(ctx, "app", "web", "aggregator", nil)
	if err != nil || d.Config["metricUpperBound"] != "100" || len(d.Parameters) != 1 {
		t.Errorf("add adjunct: %+v %v", d, err)
	}
	if d, err := c.Adjunct(ctx, "app", "web", "a1"); err != nil || d.Links["status"] == "" {
		t.Errorf("adjunct: %+v %v", d, err)
	}
	if st, err := c.AdjunctStatus(ctx, "app", "web", "a1"); err != nil || st != api.StatusRunning {
		t.Errorf("adjunct status: %q %v", st, err)
	}
	if vs, err := c.AdjunctConfigValues(ctx, "app", "web", "a1"); err != nil || vs["metric"] != "load" {
		t.Errorf("adjunct config values: %v %v", vs, err)
	}
	if ts, err := c.AdjunctActivities(ctx, "app", "web", "a1"); err != nil || ts == nil {
		t.Errorf("adjunct activities: %v %v", ts, err)
	}
	if err := c.DestroyAdjunct(ctx, "app", "web", "a1"); err != nil {
		t.Error(err)
	}

	want := []string{
		"POST " + base + "/policies?type=autoscaler application/json " + mustJSON(map[string]any{"metric": "load"}),
		"POST " + base + "/policies/p1/start?  ",
		"POST " + base + "/policies/p1/stop?  ",
		"POST " + base + "/policies/p1/destroy?  ",
		"POST " + base + "/policies/p1/config/metricUpperBound? application/json 80",
		"POST " + base + "/adjuncts?type=aggregator application/json {}",
		"DELETE " + base + "/adjuncts/a1?  ",
	}
	if len(posted) != len(want) {
		t.Fatalf("requests:\n%q\nwant\n%q", posted, want)
	}
	for i := range want {
		if posted[i] != want[i] {
			t.Errorf("request %d: %q, want %q", i, posted[i], want[i])
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
