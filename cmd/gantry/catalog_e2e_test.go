package main_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// The example BOM (examples/catalog-bom.yaml), end to end: added through the API, listed,
// deployed as `type: gantry-greeter` (the highest version) and `type:
// gantry-greeter:1.0` (pinned), each container answering with its version's greeting;
// after a restart the catalog and the versions deployed are still there.
func TestCatalogExampleDeploys(t *testing.T) {
	ctx, s, _, _ := dockerServer(t, 3*time.Minute)

	res, err := s.c.AddCatalog(ctx, readExample(t, "catalog-bom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != "INSTALLED_NEW_BUNDLE" || len(res.Types) != 2 {
		t.Fatalf("add: %+v", res)
	}
	if again, err := s.c.AddCatalog(ctx, readExample(t, "catalog-bom.yaml")); err != nil || again.Code != "IGNORING_BUNDLE_AREADY_INSTALLED" {
		t.Fatalf("add again: %+v %v", again, err)
	}
	listed := func(s *server) []string {
		items, err := s.c.CatalogItems(ctx, "entities", true)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range items {
			if it.SymbolicName == "gantry-greeter" {
				ids = append(ids, it.ID)
			}
		}
		return ids
	}
	if got := listed(s); !slices.Equal(got, []string{"gantry-greeter:2.0", "gantry-greeter:1.0"}) {
		t.Fatalf("entities listed: %v", got)
	}
	types, err := s.c.CatalogTypes(ctx, false)
	if err != nil || !slices.ContainsFunc(types, func(ts api.TypeSummary) bool {
		return ts.SymbolicName == "gantry-greeter" && ts.Version == "2.0"
	}) {
		t.Fatalf("types: %+v %v", types, err)
	}

	app := deploy(t, ctx, s, []byte(`
name: greeters
location: docker
services:
- type: gantry-greeter
  name: latest
- type: gantry-greeter:1.0
  name: pinned
`))
	for name, version := range map[string]string{"latest": "2.0", "pinned": "1.0"} {
		e, err := s.c.Entity(ctx, app, name)
		if err != nil {
			t.Fatal(err)
		}
		if e.CatalogItemID != "gantry-greeter:"+version {
			t.Errorf("%s: catalogItemId %q, want gantry-greeter:%s", name, e.CatalogItemID, version)
		}
		if got := sensor(t, ctx, s, app, name, "service.state"); got != "RUNNING" {
			t.Errorf("%s: service.state %v", name, got)
		}
		uri, _ := sensor(t, ctx, s, app, name, "main.uri").(string)
		var body []byte
		waitFor(t, 10*time.Second, name+" answers", func() bool {
			resp, err := http.Get(uri)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			body, _ = io.ReadAll(resp.Body)
			return resp.StatusCode == http.StatusOK
		})
		if want := "hello from greeter " + version; !strings.Contains(string(body), want) {
			t.Errorf("%s at %s says %q, want %q", name, uri, body, want)
		}
	}

	// The catalog and the versions deployed survive a restart.
	time.Sleep(1200 * time.Millisecond) // the write-behind reaches the store within 1s
	s.kill()
	s2 := startServer(t, s.data)
	if got := listed(s2); !slices.Equal(got, []string{"gantry-greeter:2.0", "gantry-greeter:1.0"}) {
		t.Errorf("entities listed after restart: %v", got)
	}
	if e, err := s2.c.Entity(ctx, app, "pinned"); err != nil || e.CatalogItemID != "gantry-greeter:1.0" {
		t.Errorf("pinned after restart: %+v %v", e, err)
	}
	task, err := s2.c.DeleteApplication(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if done, err := s2.c.WaitTask(ctx, task.ID); err != nil || done.IsError {
		t.Fatalf("delete: %+v %v", done, err)
	}
}
