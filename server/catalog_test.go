package server_test

// The catalog through REST, as the br CLI and Brooklyn's UI call it (api/ROUTES.md):
// POST /v1/catalog, the per-kind lists br reads for `br catalog list`, the types API,
// deploying items by id and id:version, deleting, and the catalog surviving a restart.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/server"
)

// What br decodes of catalog items (cli/models: IdentityDetails and CatalogItemSummary).
type brCatalogItem struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	SymbolicName string         `json:"symbolicName"`
	Version      string         `json:"version"`
	Description  string         `json:"description"`
	JavaType     string         `json:"javaType"`
	PlanYaml     string         `json:"planYaml"`
	Deprecated   bool           `json:"deprecated"`
	Tags         []any          `json:"tags"`
	Links        map[string]any `json:"links"`
	Type         string         `json:"type"`
	IconURL      string         `json:"iconUrl"`
	Config       []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"config"`
	Sensors   []struct{ Name string } `json:"sensors"`
	Effectors []struct{ Name string } `json:"effectors"`
}

// brCatalogAdd is models.CatalogBundleAddResult.
type brCatalogAdd struct {
	Message string                   `json:"message"`
	Bundle  string                   `json:"bundle"`
	Code    string                   `json:"code"`
	Types   map[string]brCatalogItem `json:"types"`
}

const catalogBOM = `brooklyn.catalog:
  id: compat-thing
  itemType: entity
  name: Compat thing
  description: a thing in two versions
  items:
  - version: "1.0"
    item:
      type: basic-entity
      brooklyn.config: {thing.version: one}
  - version: "1.10"
    item:
      type: compat-thing:1.0
      brooklyn.config: {thing.version: ten}
  - id: compat-app
    version: "1.0"
    itemType: template
    name: Compat app
    item:
      services:
      - type: compat-thing
      - type: basic-entity
  - id: compat-lab
    version: "1.0"
    itemType: location
    item: {type: localhost}
  - id: compat-policy
    version: "1.0"
    itemType: policy
    item: {type: org.apache.brooklyn.policy.ha.ServiceRestarter}
`

func catalogServer(t *testing.T, dir string) *brClient {
	t.Helper()
	br, stop := startCatalogServer(t, dir)
	t.Cleanup(stop)
	return br
}

// startCatalogServer runs a server on dir; stop closes it (once).
func startCatalogServer(t *testing.T, dir string) (*brClient, func()) {
	t.Helper()
	s, err := server.New(context.Background(), server.Config{
		DataDir:    dir,
		DockerHost: "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	var once sync.Once
	stop := func() {
		once.Do(func() {
			hs.Close()
			if err := s.Close(); err != nil {
				t.Errorf("close server: %v", err)
			}
		})
	}
	return &brClient{t: t, base: hs.URL, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))}, stop
}

// catalogAdd is `br catalog add FILE.bom`: the file posted with ?detail=true as
// application/x-yaml.
func (c *brClient) catalogAdd(bom string) response {
	c.t.Helper()
	return c.send(http.MethodPost, "/v1/catalog?detail=true", strings.NewReader(bom), map[string]string{"Content-Type": "application/x-yaml"})
}

func ids(items []brCatalogItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestCatalogREST(t *testing.T) {
	dir := t.TempDir()
	br := catalogServer(t, dir)

	t.Run("add", func(t *testing.T) {
		r := br.catalogAdd(catalogBOM)
		wantCode(t, "catalog add", r, http.StatusCreated)
		res := decode[brCatalogAdd](t, "catalog add", r)
		if res.Code != "INSTALLED_NEW_BUNDLE" || res.Message == "" || !strings.HasPrefix(res.Bundle, "catalog-bom-") {
			t.Errorf("catalog add: %s", r.body)
		}
		var got []string
		for id := range res.Types {
			got = append(got, id)
		}
		slices.Sort(got)
		if want := []string{"compat-app:1.0", "compat-lab:1.0", "compat-policy:1.0", "compat-thing:1.0", "compat-thing:1.10"}; !slices.Equal(got, want) {
			t.Errorf("types added %v, want %v", got, want)
		}
		// Again: nothing changes, 200.
		r = br.catalogAdd(catalogBOM)
		wantCode(t, "catalog add again", r, http.StatusOK)
		if res := decode[brCatalogAdd](t, "catalog add again", r); res.Code != "IGNORING_BUNDLE_AREADY_INSTALLED" || len(res.Types) != 5 {
			t.Errorf("catalog add again: %s", r.body)
		}
		// Without ?detail (br with a URL, older clients): a map of id to item.
		r = br.send(http.MethodPost, "/v1/catalog", strings.NewReader(catalogBOM), map[string]string{"Content-Type": "application/json"})
		wantCode(t, "catalog add without detail", r, http.StatusOK)
		if m := decode[map[string]brCatalogItem](t, "catalog add without detail", r); m["compat-thing:1.10"].SymbolicName != "compat-thing" {
			t.Errorf("catalog add without detail: %s", r.body)
		}
	})

	t.Run("bad BOMs", func(t *testing.T) {
		r := br.catalogAdd("brooklyn.catalog:\n  id: broken\n  item:\n    type: no-such-type\n")
		wantError(t, "unknown type", r, http.StatusBadRequest)
		if !strings.Contains(string(r.body), `line 4, column 11: brooklyn.catalog.item.type: unknown type \"no-such-type\"`) {
			t.Errorf("unknown type: %s", r.body)
		}
		r = br.catalogAdd(strings.Replace(catalogBOM, "thing.version: one", "thing.version: uno", 1))
		wantError(t, "a release changed", r, http.StatusConflict)
		if !strings.Contains(string(r.body), "cannot add compat-thing:1.0") {
			t.Errorf("a release changed: %s", r.body)
		}
		wantError(t, "a blueprint", br.catalogAdd("services:\n- type: basic-entity\n"), http.StatusBadRequest)
		wantError(t, "a BOM deployed", br.postJSON("/v1/applications", catalogBOM), http.StatusBadRequest)
	})

	t.Run("br catalog list", func(t *testing.T) {
		entities := decode[[]brCatalogItem](t, "entities", br.get("/v1/catalog/entities?allVersions=true"))
		got := ids(entities)
		for _, want := range []string{"compat-thing:1.10", "compat-thing:1.0", "compat-app:1.0", "org.apache.brooklyn.entity.stock.BasicEntity:" + server.Version} {
			if !slices.Contains(got, want) {
				t.Errorf("entities %v: no %s", got, want)
			}
		}
		if i, j := slices.Index(got, "compat-thing:1.10"), slices.Index(got, "compat-thing:1.0"); i > j {
			t.Errorf("entities %v: best version first", got)
		}
		for _, it := range entities {
			if it.ID == "compat-thing:1.10" && (it.Name != "Compat thing" || it.Description != "a thing in two versions" ||
				it.JavaType != "org.apache.brooklyn.entity.stock.BasicEntity" || !strings.Contains(it.PlanYaml, "type: compat-thing:1.0") ||
				it.Links["self"] != "/v1/catalog/entities/compat-thing/1.10") {
				t.Errorf("compat-thing:1.10: %+v", it)
			}
		}
		latest := ids(decode[[]brCatalogItem](t, "entities", br.get("/v1/catalog/entities")))
		if slices.Contains(latest, "compat-thing:1.0") || !slices.Contains(latest, "compat-thing:1.10") {
			t.Errorf("latest entities: %v", latest)
		}
		apps := decode[[]brCatalogItem](t, "applications", br.get("/v1/catalog/applications?allVersions=true"))
		if got := ids(apps); !slices.Equal(got, []string{"compat-app:1.0"}) {
			t.Errorf("applications %v", got)
		}
		if got := ids(decode[[]brCatalogItem](t, "locations", br.get("/v1/catalog/locations?allVersions=true"))); !slices.Equal(got, []string{"compat-lab:1.0"}) {
			t.Errorf("locations %v", got)
		}
		// The catalog's policy items, then the registered policy kinds (built-in items).
		policies := ids(decode[[]brCatalogItem](t, "policies", br.get("/v1/catalog/policies?allVersions")))
		if len(policies) == 0 || policies[0] != "compat-policy:1.0" ||
			slices.ContainsFunc(policies[1:], func(id string) bool { return !strings.HasSuffix(id, ":"+server.Version) }) {
			t.Errorf("policies %v", policies)
		}
		if got := ids(decode[[]brCatalogItem](t, "fragment", br.get("/v1/catalog/entities?allVersions=true&fragment=COMPAT-T"))); len(got) != 2 {
			t.Errorf("fragment: %v", got)
		}
		wantArray(t, "empty list", br.get("/v1/catalog/entities?regex=nothing-matches"))
	})

	t.Run("br catalog show", func(t *testing.T) {
		it := decode[brCatalogItem](t, "show", br.get("/v1/catalog/entities/compat-thing"))
		if it.ID != "compat-thing:1.10" || len(it.Sensors) == 0 || len(it.Effectors) == 0 {
			t.Errorf("show best: %+v", it)
		}
		if it := decode[brCatalogItem](t, "show version", br.get("/v1/catalog/entities/compat-thing/1.0")); it.ID != "compat-thing:1.0" {
			t.Errorf("show 1.0: %+v", it)
		}
		if it := decode[brCatalogItem](t, "show latest", br.get("/v1/catalog/entities/compat-thing/latest")); it.ID != "compat-thing:1.10" {
			t.Errorf("show latest: %+v", it)
		}
		if it := decode[brCatalogItem](t, "show location", br.get("/v1/catalog/locations/compat-lab/1.0")); it.ID != "compat-lab:1.0" || it.JavaType != "localhost" {
			t.Errorf("show location: %+v", it)
		}
		wantError(t, "unknown item", br.get("/v1/catalog/entities/nothing"), http.StatusNotFound)
		r := br.get("/v1/catalog/entities/compat-thing/9.9")
		wantError(t, "unknown version", r, http.StatusNotFound)
		if !strings.Contains(string(r.body), "1.10, 1.0") {
			t.Errorf("unknown version: %s", r.body)
		}
	})

	t.Run("types", func(t *testing.T) {
		types := decode[[]api.TypeSummary](t, "types", br.get("/v1/catalog/types"))
		var thing *api.TypeSummary
		for i := range types {
			if types[i].SymbolicName == "compat-thing" {
				if thing != nil {
					t.Errorf("two versions of compat-thing listed without versions=all")
				}
				thing = &types[i]
			}
		}
		if thing == nil || thing.Version != "1.10" || thing.Kind != "SPEC" || thing.DisplayName != "Compat thing" ||
			!slices.Contains(thing.Supertypes, "org.apache.brooklyn.api.entity.Entity") {
			t.Errorf("compat-thing type: %+v", thing)
		}
		all := decode[[]api.TypeSummary](t, "all types", br.get("/v1/catalog/types?versions=all&fragment=compat-thing"))
		if len(all) != 2 {
			t.Errorf("all versions: %+v", all)
		}
		locs := decode[[]api.TypeSummary](t, "location types", br.get("/v1/catalog/types?supertype=location"))
		if len(locs) != 1 || locs[0].SymbolicName != "compat-lab" {
			t.Errorf("location types: %+v", locs)
		}
		versions := decode[[]api.TypeSummary](t, "versions", br.get("/v1/catalog/types/compat-thing"))
		if len(versions) != 2 || versions[0].Version != "1.10" {
			t.Errorf("versions: %+v", versions)
		}
		builtin := decode[[]api.TypeSummary](t, "built-in by alias", br.get("/v1/catalog/types/basic-entity"))
		if len(builtin) != 1 || builtin[0].SymbolicName != "org.apache.brooklyn.entity.stock.BasicEntity" || !slices.Contains(builtin[0].Aliases, "basic-entity") {
			t.Errorf("built-in: %+v", builtin)
		}
		detail := decode[struct {
			api.TypeSummary
			Plan struct{ Format, Data string }
		}](t, "detail", br.get("/v1/catalog/types/compat-thing/1.0"))
		if detail.Version != "1.0" || detail.Plan.Format != "brooklyn-camp" || !strings.Contains(detail.Plan.Data, "thing.version: one") {
			t.Errorf("detail: %+v", detail)
		}
		wantError(t, "unknown type", br.get("/v1/catalog/types/nothing/1.0"), http.StatusNotFound)
	})

	t.Run("deploy items", func(t *testing.T) {
		task := deployAndWait(t, br, "name: latest\nlocation: localhost\nservices:\n- type: compat-thing\n  id: a\n  name: a\n- type: compat-thing:1.0\n  name: b\n")
		app := task.EntityID
		for name, want := range map[string][2]string{"a": {"compat-thing:1.10", `"ten"`}, "b": {"compat-thing:1.0", `"one"`}} {
			e := decode[brEntity](t, "entity", br.get("/v1/applications/"+app+"/entities/"+name))
			if e.CatalogItemID != want[0] {
				t.Errorf("%s: catalogItemId %q, want %q", name, e.CatalogItemID, want[0])
			}
			if v := br.get("/v1/applications/" + app + "/entities/" + name + "/config/thing.version"); string(bytes.TrimSpace(v.body)) != want[1] {
				t.Errorf("%s: thing.version %s, want %s", name, v.body, want[1])
			}
		}
		// An application item as the only service is the application.
		task = deployAndWait(t, br, "location: localhost\nservices:\n- type: compat-app\n")
		e := decode[brEntity](t, "app", br.get("/v1/applications/"+task.EntityID+"/entities/"+task.EntityID))
		if e.CatalogItemID != "compat-app:1.0" || e.Name != "Compat app" || task.EntityDisplayName != "Compat app" {
			t.Errorf("application item: %+v (deployed as %q)", e, task.EntityDisplayName)
		}
		children := decode[[]brEntity](t, "children", br.get("/v1/applications/"+task.EntityID+"/entities"))
		if len(children) != 2 || children[0].CatalogItemID != "compat-thing:1.10" {
			t.Errorf("children of the application item: %+v", children)
		}
		r := br.postJSON("/v1/applications", "location: localhost\nservices:\n- type: compat-thing:2.0\n")
		wantError(t, "unknown version", r, http.StatusBadRequest)
		if !strings.Contains(string(r.body), "line 3, column 9: services[0].type: catalog item compat-thing has no version 2.0 (available: 1.10, 1.0)") {
			t.Errorf("unknown version: %s", r.body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		wantError(t, "delete of another kind", br.delete("/v1/catalog/policies/compat-thing/1.0"), http.StatusPreconditionFailed)
		wantError(t, "delete of a built-in type", br.delete("/v1/catalog/entities/basic-entity/"+server.Version), http.StatusConflict)
		wantError(t, "delete of nothing", br.delete("/v1/catalog/entities/nothing/1.0"), http.StatusNotFound)
		wantCode(t, "delete", br.delete("/v1/catalog/policies/compat-policy/1.0"), http.StatusNoContent)
		wantError(t, "deleted", br.get("/v1/catalog/policies/compat-policy/1.0"), http.StatusNotFound)
	})

	t.Run("zip", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		f, _ := zw.Create("catalog.bom")
		io.WriteString(f, "brooklyn.catalog:\n  bundle: zipped\n  version: 1.0.0\n  id: zipped-thing\n  item: {type: basic-entity}\n")
		zw.Close()
		r := br.send(http.MethodPost, "/v1/catalog?detail=true", &buf, map[string]string{"Content-Type": "application/x-zip"})
		wantCode(t, "zip", r, http.StatusCreated)
		if res := decode[brCatalogAdd](t, "zip", r); res.Bundle != "zipped:1.0.0" || len(res.Types) != 1 {
			t.Errorf("zip: %s", r.body)
		}
		r = br.send(http.MethodPost, "/v1/catalog", strings.NewReader("PK\x03\x04 not a zip"), nil)
		wantError(t, "broken zip", r, http.StatusBadRequest)
	})
}

// The catalog is in the store: a server started again on the same data has it, and
// what was deployed keeps the version it was made from.
func TestCatalogSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	br, stop := startCatalogServer(t, dir)
	t.Cleanup(stop)
	wantCode(t, "catalog add", br.catalogAdd(catalogBOM), http.StatusCreated)
	task := deployAndWait(t, br, "name: app-kept\nlocation: localhost\nservices:\n- type: compat-thing\n  name: kept\n")
	wantCode(t, "delete", br.delete("/v1/catalog/entities/compat-thing/1.10"), http.StatusNoContent)
	stop()

	br = catalogServer(t, dir)
	got := ids(decode[[]brCatalogItem](t, "entities", br.get("/v1/catalog/entities?allVersions=true&fragment=compat")))
	if want := []string{"compat-app:1.0", "compat-thing:1.0"}; !slices.Equal(got, want) {
		t.Errorf("after restart: %v, want %v", got, want)
	}
	if got := ids(decode[[]brCatalogItem](t, "locations", br.get("/v1/catalog/locations?allVersions=true"))); !slices.Equal(got, []string{"compat-lab:1.0"}) {
		t.Errorf("locations after restart: %v", got)
	}
	e := decode[brEntity](t, "entity", br.get("/v1/applications/"+task.EntityID+"/entities/kept"))
	if e.CatalogItemID != "compat-thing:1.10" {
		t.Errorf("deployed entity after restart: catalogItemId %q", e.CatalogItemID)
	}
	// Now `type: compat-thing` gets 1.0, the best left.
	task = deployAndWait(t, br, "name: app-now\nlocation: localhost\nservices:\n- type: compat-thing\n  name: now\n")
	if e := decode[brEntity](t, "entity", br.get("/v1/applications/"+task.EntityID+"/entities/now")); e.CatalogItemID != "compat-thing:1.0" {
		t.Errorf("after deleting 1.10: catalogItemId %q", e.CatalogItemID)
	}
}
