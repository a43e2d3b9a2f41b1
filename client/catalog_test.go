package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gantry-dev/gantry/client"
)

func TestCatalog(t *testing.T) {
	ctx := context.Background()
	var posted string
	c := serve(t, map[string]http.HandlerFunc{
		"POST /v1/catalog": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery != "detail=true&itemDetails=false" || r.Header.Get("Content-Type") != "application/x-yaml" {
				t.Errorf("add: query %q, Content-Type %q", r.URL.RawQuery, r.Header.Get("Content-Type"))
			}
			b, _ := io.ReadAll(r.Body)
			posted = string(b)
			reply(http.StatusCreated, `{"message":"Installed","bundle":"b:1","code":"INSTALLED_NEW_BUNDLE","types":{"x:1.0":{"symbolicName":"x","version":"1.0","containingBundle":"b:1","kind":"SPEC"}}}`)(w, r)
		},
		"GET /v1/catalog/types": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("versions") != "all" {
				t.Errorf("types: query %q", r.URL.RawQuery)
			}
			reply(http.StatusOK, `[{"symbolicName":"x","version":"1.0","containingBundle":"b:1","kind":"SPEC"}]`)(w, r)
		},
		"GET /v1/catalog/entities":          reply(http.StatusOK, fixture(t, "catalog_entities.json")),
		"GET /v1/catalog/entities/x/1.0":    reply(http.StatusOK, `{"id":"x:1.0","symbolicName":"x","version":"1.0","config":[{"name":"a","type":"java.lang.String"}]}`),
		"DELETE /v1/catalog/entities/x/1.0": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
		"DELETE /v1/catalog/entities/y/1.0": apiError(http.StatusNotFound, "no catalog item y"),
	})
	res, err := c.AddCatalog(ctx, []byte("brooklyn.catalog: {}"))
	if err != nil || res.Code != "INSTALLED_NEW_BUNDLE" || res.Types["x:1.0"].Version != "1.0" || posted != "brooklyn.catalog: {}" {
		t.Fatalf("add: %+v %v", res, err)
	}
	types, err := c.CatalogTypes(ctx, true)
	if err != nil || len(types) != 1 || types[0].SymbolicName != "x" {
		t.Errorf("types: %+v %v", types, err)
	}
	items, err := c.CatalogItems(ctx, "entities", true)
	if err != nil || len(items) != 1 || items[0].ItemType != "entity" {
		t.Errorf("entities: %+v %v", items, err)
	}
	it, err := c.CatalogItem(ctx, "entities", "x", "1.0")
	if err != nil || it.ID != "x:1.0" || len(it.Config) != 1 {
		t.Errorf("item: %+v %v", it, err)
	}
	if err := c.DeleteCatalogItem(ctx, "entities", "x", "1.0"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := c.DeleteCatalogItem(ctx, "entities", "y", "1.0"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
}
