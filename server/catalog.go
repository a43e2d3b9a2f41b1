package server

import (
	"archive/zip"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
)

// Brooklyn's interface names, as supertypes of catalog types.
const (
	entityInterface      = "org.apache.brooklyn.api.entity.Entity"
	applicationInterface = "org.apache.brooklyn.api.entity.Application"
	policyInterface      = "org.apache.brooklyn.api.policy.Policy"
	locationInterface    = "org.apache.brooklyn.api.location.Location"
	// templateTag marks template items, as Brooklyn's BrooklynTags.CATALOG_TEMPLATE.
	templateTag = "catalog_template"
)

// catalogRoutes serves the catalog under /v1/catalog: POST a BOM; Brooklyn's types API
// (/types); and the older per-kind routes the br CLI calls (/entities, /applications,
// /policies, /locations).
func (s *Server) catalogRoutes(r chi.Router) {
	r.Post("/", s.addCatalog)
	r.Get("/types", s.catalogTypes)
	r.Get("/types/{name}", s.catalogTypeVersions)
	r.Get("/types/{name}/{version}", s.catalogType)
	for _, kind := range []string{"entities", "applications", "locations"} {
		r.Get("/"+kind, s.listCatalogItems(kind))
		r.Get("/"+kind+"/{name}", s.catalogItem(kind))
		r.Get("/"+kind+"/{name}/{version}", s.catalogItem(kind))
		r.Delete("/"+kind+"/{name}/{version}", s.deleteCatalogItem(kind))
	}
	// Policies and enrichers: the catalog's items and the registered kinds (adjuncts.go).
	for _, kind := range []string{"policies", "enrichers"} {
		r.Get("/"+kind, s.listCatalogAdjuncts(kind))
		r.Get("/"+kind+"/{name}", s.catalogAdjunct(kind))
		r.Get("/"+kind+"/{name}/{version}", s.catalogAdjunct(kind))
		r.Delete("/"+kind+"/{name}/{version}", s.deleteCatalogItem(kind))
	}
}

// catalogItemsResult is the body of POST /v1/catalog?detail=true with item details (the
// default), as Brooklyn's BundleInstallationRestResult with legacy item summaries.
type catalogItemsResult struct {
	Message string                            `json:"message"`
	Bundle  string                            `json:"bundle"`
	Code    string                            `json:"code"`
	Types   map[string]api.CatalogItemSummary `json:"types"`
}

// addCatalog adds the items of a BOM: YAML, or a ZIP (a bundle, as br sends a directory)
// with catalog.bom at its root. It answers 201 when the catalog changed and 200 when
// every item was there already; with ?detail=true the body says what happened
// (BundleInstallationResult), else it maps each item's id to its summary.
// ?itemDetails=false gives type summaries instead of item summaries, and
// ?forceUpdate=true replaces release versions with other definitions.
func (s *Server) addCatalog(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBlueprint+1))
	if err != nil {
		writeError(w, fmt.Errorf("read catalog BOM: %w: %w", err, errBadRequest))
		return
	}
	if len(body) > maxBlueprint {
		writeError(w, fmt.Errorf("catalog BOM is larger than %d bytes: %w", maxBlueprint, errBadRequest))
		return
	}
	if bom, isZip, err := bomFromArchive(r, body); isZip {
		if err != nil {
			writeError(w, err)
			return
		}
		body = bom
	}
	q := r.URL.Query()
	res, err := s.catalog.Add(r.Context(), body, queryBool(q.Get("forceUpdate")))
	if err != nil {
		writeError(w, err)
		return
	}
	code := http.StatusCreated
	if !res.Changed {
		code = http.StatusOK
	}
	itemDetails := q.Get("itemDetails") == "" || queryBool(q.Get("itemDetails"))
	items := map[string]api.CatalogItemSummary{}
	types := map[string]api.TypeSummary{}
	for _, it := range res.Items {
		items[it.ID()] = itemSummary(it)
		types[it.ID()] = typeSummary(it)
	}
	switch {
	case !queryBool(q.Get("detail")) && itemDetails:
		writeJSON(w, code, items)
	case !queryBool(q.Get("detail")):
		writeJSON(w, code, types)
	case itemDetails:
		writeJSON(w, code, catalogItemsResult{Message: res.Message, Bundle: res.Bundle, Code: res.Code, Types: items})
	default:
		writeJSON(w, code, api.BundleInstallationResult{Message: res.Message, Bundle: res.Bundle, Code: res.Code, Types: types})
	}
}

// bomFromArchive reads catalog.bom from a ZIP or JAR body; isZip says whether the body is
// one (by its Content-Type or its first bytes).
func bomFromArchive(r *http.Request, body []byte) (bom []byte, isZip bool, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isZip = ct == "application/x-zip" || ct == "application/zip" || ct == "application/x-jar" ||
		ct == "application/java-archive" || bytes.HasPrefix(body, []byte("PK\x03\x04"))
	if !isZip {
		return nil, false, nil
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, true, fmt.Errorf("read the bundle as a ZIP: %v: %w", err, errBadRequest)
	}
	for _, f := range zr.File {
		if f.Name != "catalog.bom" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, true, fmt.Errorf("read catalog.bom in the bundle: %v: %w", err, errBadRequest)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxBlueprint+1))
		if err != nil {
			return nil, true, fmt.Errorf("read catalog.bom in the bundle: %v: %w", err, errBadRequest)
		}
		if len(b) > maxBlueprint {
			return nil, true, fmt.Errorf("catalog.bom is larger than %d bytes: %w", maxBlueprint, errBadRequest)
		}
		return b, true, nil
	}
	return nil, true, fmt.Errorf("the bundle has no catalog.bom at its root (Gantry reads only that: its items are YAML): %w", errBadRequest)
}

// queryBool reads a boolean query parameter; a key without a value (?allVersions) is
// false, as Brooklyn reads it.
func queryBool(v string) bool { return strings.EqualFold(v, "true") }

// GET /v1/catalog/types[?supertype=entity|application|policy|location|template|<type>]
// [&versions=all|latest][&regex=][&fragment=]: the best version of each type by default.
func (s *Server) catalogTypes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match, err := matcher(q.Get("regex"), q.Get("fragment"))
	if err != nil {
		writeError(w, err)
		return
	}
	all := strings.EqualFold(q.Get("versions"), "all")
	supertype := q.Get("supertype")
	switch supertype {
	case "entity":
		supertype = entityInterface
	case "application":
		supertype = applicationInterface
	case "policy":
		supertype = policyInterface
	case "location":
		supertype = locationInterface
	}
	out := []api.TypeSummary{}
	for _, it := range s.catalog.List(true, all) {
		ts := typeSummary(it)
		if supertype != "" && !slices.Contains(ts.Supertypes, supertype) && !(supertype == "template" && it.ItemType == catalog.TemplateItem) {
			continue
		}
		if !match(append([]string{it.SymbolicName}, it.Aliases...)...) {
			continue
		}
		out = append(out, ts)
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /v1/catalog/types/{name}: every version of a type, by name or alias, best first.
func (s *Server) catalogTypeVersions(w http.ResponseWriter, r *http.Request) {
	out := []api.TypeSummary{}
	for _, it := range s.catalog.Versions(chi.URLParam(r, "name")) {
		out = append(out, typeSummary(it))
	}
	writeJSON(w, http.StatusOK, out)
}

// typeDetail mirrors rest.domain.TypeDetail: the summary and the plan.
type typeDetail struct {
	api.TypeSummary
	Plan typePlan `json:"plan"`
}

type typePlan struct {
	Format string `json:"format"`
	Data   string `json:"data"`
}

// GET /v1/catalog/types/{name}/{version}, version "latest" for the best.
func (s *Server) catalogType(w http.ResponseWriter, r *http.Request) {
	it, err := s.catalog.Get(chi.URLParam(r, "name"), chi.URLParam(r, "version"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, typeDetail{TypeSummary: typeSummary(it), Plan: typePlan{Format: "brooklyn-camp", Data: string(maskBlueprint([]byte(it.Plan)))}})
}

// listCatalogItems is GET /v1/catalog/{kind}[?allVersions=true][&regex=][&fragment=]:
// the items of a kind (entities include applications, templates and the built-in
// types; applications are application and template items), best version of each
// unless allVersions is true. Disabled items are left out, as are deprecated ones from
// applications.
func (s *Server) listCatalogItems(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		match, err := matcher(q.Get("regex"), q.Get("fragment"))
		if err != nil {
			writeError(w, err)
			return
		}
		out := []api.CatalogItemSummary{}
		for _, it := range s.catalog.List(kind == "entities", queryBool(q.Get("allVersions"))) {
			if !ofKind(it, kind) || it.Disabled || (kind == "applications" && it.Deprecated) {
				continue
			}
			if !match(it.ID(), it.Name, it.Description) {
				continue
			}
			out = append(out, itemSummary(it))
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// GET /v1/catalog/{kind}/{name}[/{version}]: one item (the best version without one, or
// with "latest"), with the config keys, sensors and effectors of its type for entities.
func (s *Server) catalogItem(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		it, err := s.catalog.Get(chi.URLParam(r, "name"), chi.URLParam(r, "version"))
		if err != nil {
			writeError(w, err)
			return
		}
		sum := itemSummary(it)
		if !it.ItemType.IsEntity() {
			writeJSON(w, http.StatusOK, sum)
			return
		}
		out := api.CatalogEntitySummary{CatalogItemSummary: sum}
		if t, err := entities.LookupType(it.Kind); err == nil {
			out.Config, out.Sensors, out.Effectors = typeConfig(t), typeSensors(t), typeEffectors(t)
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// DELETE /v1/catalog/{kind}/{name}/{version}: 204; 412 when the item is of another kind.
func (s *Server) deleteCatalogItem(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, version := chi.URLParam(r, "name"), chi.URLParam(r, "version")
		it, err := s.catalog.Get(name, version)
		if err != nil {
			writeError(w, err)
			return
		}
		if !ofKind(it, kind) && !(kind == "applications" && it.ItemType.IsEntity()) {
			writeError(w, fmt.Errorf("catalog item %s is a %s item, not one of %s: %w", it.ID(), it.ItemType, kind, errPrecondition))
			return
		}
		if _, err := s.catalog.Delete(r.Context(), it.SymbolicName, it.Version); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// ofKind says whether an item is listed under /v1/catalog/{kind}.
func ofKind(it *catalog.Item, kind string) bool {
	switch kind {
	case "entities":
		return it.ItemType.IsEntity()
	case "applications":
		return it.ItemType == catalog.ApplicationItem || it.ItemType == catalog.TemplateItem
	case "policies":
		return it.ItemType == catalog.PolicyItem
	case "enrichers":
		return it.ItemType == catalog.EnricherItem
	case "locations":
		return it.ItemType == catalog.LocationItem
	}
	return false
}

// kindPath is where an item is, under /v1/catalog.
func kindPath(it *catalog.Item) string {
	switch it.ItemType {
	case catalog.ApplicationItem, catalog.TemplateItem:
		return "applications"
	case catalog.PolicyItem:
		return "policies"
	case catalog.EnricherItem:
		return "enrichers"
	case catalog.LocationItem:
		return "locations"
	}
	return "entities"
}

// matcher filters by ?regex= (a regular expression found in any of the texts) and
// ?fragment= (a substring of any of them, in any case), as Brooklyn's lists do.
func matcher(regex, fragment string) (func(texts ...string) bool, error) {
	var re *regexp.Regexp
	if regex != "" {
		var err error
		if re, err = regexp.Compile(regex); err != nil {
			return nil, fmt.Errorf("regex %q: %v: %w", regex, err, errBadRequest)
		}
	}
	fragment = strings.ToLower(fragment)
	return func(texts ...string) bool {
		if re != nil && !slices.ContainsFunc(texts, re.MatchString) {
			return false
		}
		if fragment != "" && !slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(strings.ToLower(t), fragment) }) {
			return false
		}
		return true
	}, nil
}

// javaTypeOf is what an item is made of, in Brooklyn's javaType: the built-in entity
// type it deploys as, or the type of a policy or location.
func javaTypeOf(it *catalog.Item) string {
	if it.ItemType.IsEntity() {
		return cmp.Or(it.Kind, it.Type)
	}
	return it.Type
}

// supertypes lists what an item is, most specific first, ending with Brooklyn's
// interface of its kind.
func supertypes(it *catalog.Item) []string {
	var out []string
	add := func(s string) {
		if s != "" && s != it.SymbolicName && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	switch it.ItemType {
	case catalog.PolicyItem:
		add(it.Type)
		add(policyInterface)
	case catalog.LocationItem:
		add(it.Type)
		add(locationInterface)
	default:
		add(it.Type)
		add(it.Kind)
		if t, err := entities.LookupType(it.Kind); (err == nil && t.Application) || it.ItemType == catalog.ApplicationItem || it.ItemType == catalog.TemplateItem {
			add(applicationInterface)
		}
		add(entityInterface)
	}
	return out
}

// tagsOf are an item's tags, with Brooklyn's traits tag for entities and the template
// tag for templates.
func tagsOf(it *catalog.Item) []any {
	tags := slices.Clone(it.Tags)
	if it.ItemType == catalog.TemplateItem {
		tags = append(tags, templateTag)
	}
	if it.ItemType.IsEntity() {
		var traits []string
		for _, s := range supertypes(it) {
			if strings.HasPrefix(s, "org.apache.brooklyn.api.") {
				traits = append(traits, s)
			}
		}
		tags = append(tags, map[string]any{"traits": traits})
	}
	return tags
}

func itemSummary(it *catalog.Item) api.CatalogItemSummary {
	path := "/v1/catalog/" + kindPath(it) + "/" + it.SymbolicName + "/" + it.Version
	return api.CatalogItemSummary{
		ID: it.ID(), SymbolicName: it.SymbolicName, Version: it.Version, ContainingBundle: it.Bundle,
		Type: javaTypeOf(it), JavaType: javaTypeOf(it), ItemType: string(it.ItemType),
		Name: cmp.Or(it.Name, it.SymbolicName), Description: it.Description, IconURL: it.IconURL,
		PlanYAML: string(maskBlueprint([]byte(it.Plan))), Tags: tagsOf(it), Deprecated: it.Deprecated,
		Links: map[string]string{"self": path},
	}
}

func typeSummary(it *catalog.Item) api.TypeSummary {
	return api.TypeSummary{
		SymbolicName: it.SymbolicName, Version: it.Version, ContainingBundle: it.Bundle, Kind: "SPEC",
		DisplayName: cmp.Or(it.Name, it.SymbolicName), Description: it.Description, IconURL: it.IconURL,
		Aliases: it.Aliases, Supertypes: supertypes(it), Tags: tagsOf(it),
		Disabled: it.Disabled, Deprecated: it.Deprecated,
	}
}

// typeConfig, typeSensors and typeEffectors describe a built-in type for the catalog, as
// configSummaries and the like describe an entity.
func typeConfig(t *entities.Type) []api.ConfigSummary {
	out := []api.ConfigSummary{}
	for _, k := range t.Config {
		out = append(out, api.ConfigSummary{Name: k.Name, Type: configJavaType(k.Type), Description: k.Description, DefaultValue: k.Default, Reconfigurable: true})
	}
	slices.SortFunc(out, func(a, b api.ConfigSummary) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func typeSensors(t *entities.Type) []api.SensorSummary {
	out := []api.SensorSummary{}
	for _, st := range slices.Concat(lifecycleSensors, t.Sensors) {
		out = append(out, api.SensorSummary{Name: st.Name, Type: st.Type, Description: st.Description})
	}
	slices.SortFunc(out, func(a, b api.SensorSummary) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func typeEffectors(t *entities.Type) []api.EffectorSummary {
	out := []api.EffectorSummary{}
	for _, eff := range t.AllEffectors() {
		e := api.EffectorSummary{Name: eff.Name, ReturnType: cmp.Or(eff.ReturnType, "void"), Description: eff.Description, Parameters: []api.ParameterSummary{}}
		for _, p := range eff.Params {
			e.Parameters = append(e.Parameters, api.ParameterSummary{Name: p.Name, Type: p.Type, Description: p.Description, DefaultValue: p.Default})
		}
		out = append(out, e)
	}
	return out
}
