package server

// Policies and enrichers (adjuncts) through REST, as Brooklyn serves them: the older
// policy routes that br calls (.../entities/{entity}/policies, PolicyApi and
// PolicyConfigApi) and the adjunct routes of Brooklyn's UI (.../adjuncts, AdjunctApi),
// with the catalog's lists of the registered kinds. Handlers are thin: find the
// adjunct, call one method of it or of Management, encode.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
)

// adjunctRoutes adds the policy and adjunct routes under .../entities/{entity}.
func (s *Server) adjunctRoutes(r chi.Router) {
	r.Get("/policies", s.withEntity(s.listPolicies))
	r.Post("/policies", s.withEntity(s.addPolicy))
	r.Get("/policies/current-state", s.withEntity(s.policyStates))
	r.Route("/policies/{policy}", func(r chi.Router) {
		r.Get("/", s.withPolicy(s.policyStatus))
		r.Delete("/", s.withPolicy(s.destroyAdjunct)) // Brooklyn's TODO; Gantry serves it
		r.Post("/start", s.withPolicy(s.startAdjunct))
		r.Post("/stop", s.withPolicy(s.stopAdjunct))
		r.Post("/destroy", s.withPolicy(s.destroyAdjunct))
		r.Get("/config", s.withPolicy(s.policyConfig))
		r.Get("/config/current-state", s.withPolicy(s.adjunctConfigValues))
		r.Get("/config/{config}", s.withPolicy(s.adjunctConfigValue))
		r.Post("/config/{config}", s.withPolicy(s.setAdjunctConfig))
	})
	r.Get("/adjuncts", s.withEntity(s.listAdjuncts))
	r.Post("/adjuncts", s.withEntity(s.addAdjunct))
	r.Route("/adjuncts/{adjunct}", func(r chi.Router) {
		r.Get("/", s.withAdjunct(s.adjunct))
		r.Delete("/", s.withAdjunct(s.destroyAdjunct))
		r.Get("/status", s.withAdjunct(s.adjunctStatus))
		r.Post("/start", s.withAdjunct(s.startAdjunct))
		r.Post("/stop", s.withAdjunct(s.stopAdjunct))
		r.Post("/destroy", s.withAdjunct(s.destroyAdjunct)) // as the policy routes
		r.Get("/config", s.withAdjunct(s.adjunctConfig))
		r.Get("/config-current", s.withAdjunct(s.adjunctConfigValues))
		r.Get("/config/{config}", s.withAdjunct(s.adjunctConfigValue))
		r.Post("/config/{config}", s.withAdjunct(s.setAdjunctConfig))
		r.Get("/activities", s.withAdjunct(s.adjunctActivities))
	})
}

type adjunctHandler func(w http.ResponseWriter, r *http.Request, a *entities.Adjunct)

// withAdjunct resolves {adjunct}, a policy or an enricher of the entity, by id or name.
func (s *Server) withAdjunct(h adjunctHandler) http.HandlerFunc {
	return s.withEntity(func(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
		a, err := e.Adjunct(chi.URLParam(r, "adjunct"))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, a)
	})
}

// withPolicy resolves {policy}, a policy of the entity by id, else by name; an
// enricher is not found there, as in Brooklyn.
func (s *Server) withPolicy(h adjunctHandler) http.HandlerFunc {
	return s.withEntity(func(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
		a, err := findPolicy(e, chi.URLParam(r, "policy"))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, a)
	})
}

func findPolicy(e *entities.Entity, token string) (*entities.Adjunct, error) {
	policies := adjunctsOf(e, entities.PolicyCategory)
	for _, a := range policies {
		if a.ID() == token {
			return a, nil
		}
	}
	for _, a := range policies {
		if a.Name() == token {
			return a, nil
		}
	}
	return nil, fmt.Errorf("entity %s (%s) has no policy %q: %w", e.ID(), e.Name(), token, entities.ErrNotFound)
}

// adjunctsOf lists the adjuncts of e of a category ("" for all), sorted by name as
// Brooklyn sorts its lists.
func adjunctsOf(e *entities.Entity, c entities.AdjunctCategory) []*entities.Adjunct {
	var out []*entities.Adjunct
	for _, a := range e.Adjuncts() {
		if c == "" || a.Category() == c {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Policies.

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	out := []api.PolicySummary{}
	for _, a := range adjunctsOf(e, entities.PolicyCategory) {
		out = append(out, policySummary(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// policyStates is Brooklyn's map of policy id to whether it runs.
func (s *Server) policyStates(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	out := map[string]bool{}
	for _, a := range adjunctsOf(e, entities.PolicyCategory) {
		out[a.ID()] = a.Running()
	}
	writeJSON(w, http.StatusOK, out)
}

// addPolicy is POST .../policies?type=X (Brooklyn; policyType is accepted too) with
// the config as a JSON map: 200 and the PolicySummary of the new, started policy.
func (s *Server) addPolicy(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	a, err := s.newAdjunct(r, e, entities.PolicyCategory)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, policySummary(a))
}

// policyStatus is the policy's Status as JSON ("RUNNING"), as Brooklyn answers
// GET .../policies/{policy}.
func (s *Server) policyStatus(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, adjunctStatus(a))
}

func (s *Server) policyConfig(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, adjunctConfigSummaries(a, true))
}

// Adjuncts.

// listAdjuncts is GET .../adjuncts[?adjunctType=policy|enricher|feed]. Gantry's feeds
// are not adjuncts: ?adjunctType=feed lists none.
func (s *Server) listAdjuncts(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	var c entities.AdjunctCategory
	switch t := strings.ToLower(r.URL.Query().Get("adjunctType")); t {
	case "":
	case "policy", "enricher":
		c = entities.AdjunctCategory(t)
	case "feed":
		writeJSON(w, http.StatusOK, []api.AdjunctSummary{})
		return
	default:
		writeError(w, fmt.Errorf("unknown adjunct type %q; use 'policy', 'enricher', or 'feed': %w", t, errBadRequest))
		return
	}
	out := []api.AdjunctSummary{}
	for _, a := range adjunctsOf(e, c) {
		out = append(out, adjunctSummary(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// addAdjunct is POST .../adjuncts?type=X with the config as a JSON map: 200 and the
// AdjunctDetail of the new, started policy or enricher.
func (s *Server) addAdjunct(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	a, err := s.newAdjunct(r, e, "")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, adjunctDetail(a))
}

func (s *Server) adjunct(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, adjunctDetail(a))
}

func (s *Server) adjunctStatus(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, adjunctStatus(a))
}

// startAdjunct starts or resumes an adjunct: 204. Brooklyn refuses to start or stop
// an enricher (400); Gantry's enrichers can be stopped and started like policies.
func (s *Server) startAdjunct(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	if err := a.Start(); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) stopAdjunct(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	a.Stop()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) destroyAdjunct(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	s.mgmt.DestroyAdjunct(a)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adjunctConfig(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, adjunctConfigSummaries(a, false))
}

// adjunctConfigValues maps each config key to its value for display, the declared
// defaults included.
func (s *Server) adjunctConfigValues(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	writeJSON(w, http.StatusOK, displayConfig(a))
}

// adjunctConfigValue answers one config value as Brooklyn does (its handler returns a
// String): the display text itself, not JSON-quoted, which br prints as it comes;
// 204 when the key is declared but unset; 404 for a key the adjunct neither declares
// nor has.
func (s *Server) adjunctConfigValue(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	key := chi.URLParam(r, "config")
	if !hasConfigKey(a, key) {
		writeError(w, fmt.Errorf("%s %s has no config key %q: %w", a.Category(), a, key, entities.ErrNotFound))
		return
	}
	v, ok := a.Config(key)
	if !ok || v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, displayString(maskAdjunctConfig(a.Kind(), map[string]any{key: v})[key]))
}

// setAdjunctConfig is POST .../config/{config} with the new value as the body (JSON,
// or text taken as a string; older Brooklyn read ?value=): 200, empty. The value is
// checked against the key's type and the kind's own checks (400 when wrong); a
// running adjunct takes it at once.
func (s *Server) setAdjunctConfig(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	key := chi.URLParam(r, "config")
	if !hasConfigKey(a, key) {
		writeError(w, fmt.Errorf("%s %s has no config key %q: %w", a.Category(), a, key, entities.ErrNotFound))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, fmt.Errorf("read value: %w: %w", err, errBadRequest))
		return
	}
	var v any
	switch {
	case len(strings.TrimSpace(string(body))) > 0:
		if json.Unmarshal(body, &v) != nil {
			v = string(body)
		}
	case r.URL.Query().Has("value"):
		v = r.URL.Query().Get("value")
	default:
		writeError(w, fmt.Errorf("POST .../config/%s takes the new value as its body: %w", key, errBadRequest))
		return
	}
	if v, err = coerceAdjunctConfig(a.Kind(), key, v); err != nil {
		writeError(w, err)
		return
	}
	if err := a.SetConfig(key, v); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// adjunctActivities lists the tasks the adjunct started (they carry the tag
// adjunct:<id>), newest first, at most ?limit= (200).
func (s *Server) adjunctActivities(w http.ResponseWriter, r *http.Request, a *entities.Adjunct) {
	limit := 200
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 {
		limit = n
	}
	tag := "adjunct:" + a.ID()
	var tasks []*entities.Task
	for _, e := range a.Entity().Application().Descendants() {
		for _, t := range s.mgmt.Tasks(e) {
			for _, tg := range t.Snapshot().Tags {
				if tg == tag {
					tasks = append(tasks, t)
					break
				}
			}
		}
	}
	sort.SliceStable(tasks, func(i, j int) bool {
		return tasks[i].Snapshot().Submitted.After(tasks[j].Snapshot().Submitted)
	})
	if len(tasks) > limit {
		tasks = tasks[:limit]
	}
	out := make([]api.TaskSummary, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, taskSummary(s.mgmt, t))
	}
	writeJSON(w, http.StatusOK, out)
}

// Adding.

// newAdjunct reads the type (?type=, ?policyType=, or those fields of a form), an
// optional ?name= and the config (a JSON map, or the other fields of a form), then
// attaches and starts the adjunct. want, when set, is the category the type must be
// of. An unknown type, a type of another category and a bad config are 400; when the
// adjunct does not start it is removed again, so that nothing is left of a failure.
func (s *Server) newAdjunct(r *http.Request, e *entities.Entity, want entities.AdjunctCategory) (*entities.Adjunct, error) {
	q := r.URL.Query()
	typ, name := firstOf(q, "type", "policyType"), q.Get("name")
	var config map[string]any
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return nil, fmt.Errorf("read the form: %w: %w", err, errBadRequest)
		}
		config = map[string]any{}
		for k, v := range r.PostForm {
			switch {
			case len(v) == 0:
			case k == "type" || k == "policyType":
				typ = cmp.Or(typ, v[0])
			case k == "name":
				name = cmp.Or(name, v[0])
			default:
				config[k] = v[0]
			}
		}
	} else {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("read the config: %w: %w", err, errBadRequest)
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &config); err != nil {
				return nil, fmt.Errorf("the body must be a JSON map of config keys to values: %v: %w", err, errBadRequest)
			}
		}
	}
	what := "adjunct"
	if want != "" {
		what = string(want)
	}
	if strings.TrimSpace(typ) == "" {
		return nil, fmt.Errorf("adding a %s needs its type: POST ...?type=<type> with the config as a JSON map: %w", what, errBadRequest)
	}
	spec, err := s.adjunctSpec(typ, name, config)
	if err != nil {
		return nil, err
	}
	k, err := entities.LookupAdjunct(spec.Type)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, errBadRequest)
	}
	if want != "" && k.Category != want {
		return nil, fmt.Errorf("%s is a %s, not a %s: %w", k.Name, k.Category, want, errBadRequest)
	}
	for key, v := range spec.Config {
		if spec.Config[key], err = coerceAdjunctConfig(k, key, v); err != nil {
			return nil, err
		}
	}
	a, err := s.mgmt.AddAdjunct(e, spec)
	if err != nil {
		if a != nil {
			s.mgmt.DestroyAdjunct(a)
		}
		return nil, err
	}
	return a, nil
}

// adjunctSpec makes the spec of a new adjunct of type typ: a registered kind, or a
// catalog item of type policy, whose config the request's extends.
func (s *Server) adjunctSpec(typ, name string, config map[string]any) (entities.AdjunctSpec, error) {
	spec := entities.AdjunctSpec{Type: typ, Name: name, Config: config}
	if _, err := entities.LookupAdjunct(typ); err == nil {
		return spec, nil
	}
	id, version := typ, ""
	if i := strings.LastIndex(typ, ":"); i > 0 && !strings.HasPrefix(typ, "java:") {
		id, version = typ[:i], typ[i+1:]
	}
	it, err := s.catalog.Get(id, version)
	if err != nil || it.ItemType != catalog.PolicyItem {
		return spec, nil // LookupAdjunct says what is known
	}
	var plan struct {
		Policies []struct {
			Type   string         `yaml:"type"`
			Name   string         `yaml:"name"`
			Config map[string]any `yaml:"brooklyn.config"`
		} `yaml:"brooklyn.policies"`
	}
	if err := yaml.Unmarshal([]byte(it.Plan), &plan); err != nil || len(plan.Policies) != 1 {
		return spec, fmt.Errorf("catalog item %s: its plan is not one brooklyn.policies entry: %w", it.ID(), errBadRequest)
	}
	p := plan.Policies[0]
	spec.Type, spec.Name = p.Type, cmp.Or(name, p.Name)
	merged := map[string]any{}
	for k, v := range p.Config {
		merged[k] = v
	}
	for k, v := range config {
		merged[k] = v
	}
	spec.Config = merged
	return spec, nil
}

// coerceAdjunctConfig checks a value against the type of a declared key (form values
// and Brooklyn's string maps become numbers, booleans ...); other keys pass as given.
func coerceAdjunctConfig(k *entities.AdjunctKind, key string, v any) (any, error) {
	ck, ok := k.ConfigKey(key)
	if !ok {
		return v, nil
	}
	val, err := catalog.Coerce(ck.Type, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Name, &entities.KeyError{Key: key, Err: fmt.Errorf("%w: %w", err, entities.ErrInvalid)})
	}
	return val, nil
}

// hasConfigKey says whether the adjunct's kind declares key, or the adjunct has a value
// for it.
func hasConfigKey(a *entities.Adjunct, key string) bool {
	if _, ok := a.Kind().ConfigKey(key); ok {
		return true
	}
	_, ok := a.Config(key)
	return ok
}

func firstOf(q url.Values, keys ...string) string {
	for _, k := range keys {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// Catalog of adjunct kinds: /v1/catalog/policies and /v1/catalog/enrichers list the
// registered kinds beside the catalog's items, as built-in items of this server's version.

// builtinAdjunctItems lists the kinds of a category as catalog summaries.
func builtinAdjunctItems(c entities.AdjunctCategory) []api.CatalogPolicySummary {
	var out []api.CatalogPolicySummary
	for _, k := range entities.AdjunctKinds(c) {
		out = append(out, builtinAdjunctItem(k))
	}
	return out
}

func builtinAdjunctItem(k *entities.AdjunctKind) api.CatalogPolicySummary {
	kind, list := "policies", "brooklyn.policies"
	if k.Category == entities.EnricherCategory {
		kind, list = "enrichers", "brooklyn.enrichers"
	}
	name := k.Name
	if len(k.Aliases) > 0 {
		name = k.Aliases[0]
	}
	return api.CatalogPolicySummary{
		CatalogItemSummary: api.CatalogItemSummary{
			ID: k.Name + ":" + Version, SymbolicName: k.Name, Version: Version, ContainingBundle: "gantry-core:" + Version,
			Type: k.Name, JavaType: k.Name, ItemType: string(k.Category), Name: name, Description: k.Description,
			PlanYAML: list + ":\n- type: " + k.Name + "\n",
			Links:    map[string]string{"self": "/v1/catalog/" + kind + "/" + k.Name + "/" + Version},
		},
		Config: kindConfigSummaries(k),
	}
}

// builtinAdjunct finds a registered kind of a category as a catalog item: by name or
// alias, with no version, "latest" or this server's.
func builtinAdjunct(c entities.AdjunctCategory, name, version string) (*entities.AdjunctKind, bool) {
	k, err := entities.LookupAdjunct(name)
	if err != nil || k.Category != c || (version != "" && version != "latest" && version != Version) {
		return nil, false
	}
	return k, true
}

func kindConfigSummaries(k *entities.AdjunctKind) []api.ConfigSummary {
	out := []api.ConfigSummary{}
	for _, ck := range k.Config {
		out = append(out, api.ConfigSummary{Name: ck.Name, Type: configJavaType(ck.Type), Description: ck.Description,
			DefaultValue: ck.Default, Reconfigurable: true, Label: ck.Label, Pinned: ck.Pinned, Constraints: ck.Constraints})
	}
	return out
}

// Conversions.

func adjunctPath(a *entities.Adjunct) string { return entityPath(a.Entity()) + "/adjuncts/" + a.ID() }
func policyPath(a *entities.Adjunct) string  { return entityPath(a.Entity()) + "/policies/" + a.ID() }

// adjunctStatus is Brooklyn's Status of an adjunct: RUNNING while it runs, else STOPPED.
func adjunctStatus(a *entities.Adjunct) api.Status {
	if a.Running() {
		return api.StatusRunning
	}
	return api.StatusStopped
}

func adjunctType(a *entities.Adjunct) api.AdjunctType {
	if a.Category() == entities.EnricherCategory {
		return api.AdjunctEnricher
	}
	return api.AdjunctPolicy
}

func highlights(a *entities.Adjunct) map[string]api.HighlightTuple {
	hs := a.Highlights()
	if len(hs) == 0 {
		return nil
	}
	out := make(map[string]api.HighlightTuple, len(hs))
	for name, h := range hs {
		out[name] = api.HighlightTuple{Description: h.Description, Time: h.Time, TaskID: h.TaskID}
	}
	return out
}

func adjunctSummary(a *entities.Adjunct) api.AdjunctSummary {
	return api.AdjunctSummary{
		ID: a.ID(), Name: a.Name(), AdjunctType: adjunctType(a), Description: a.Kind().Description,
		State: adjunctStatus(a), Highlights: highlights(a),
		Links: map[string]string{"self": adjunctPath(a)},
	}
}

func policySummary(a *entities.Adjunct) api.PolicySummary {
	s := adjunctSummary(a)
	self := policyPath(a)
	s.Links = map[string]string{
		"self": self, "config": self + "/config", "start": self + "/start", "stop": self + "/stop",
		"destroy": self + "/destroy", "application": appPath(a.Entity().Application()), "entity": entityPath(a.Entity()),
	}
	return s
}

func adjunctDetail(a *entities.Adjunct) api.AdjunctDetail {
	d := api.AdjunctDetail{AdjunctSummary: adjunctSummary(a), Config: displayConfig(a)}
	self := adjunctPath(a)
	d.Links = map[string]string{
		"self": self, "application": appPath(a.Entity().Application()), "entity": entityPath(a.Entity()),
		"adjunct": self, "config": self + "/config", "status": self + "/status",
		"start": self + "/start", "stop": self + "/stop", "destroy": self,
	}
	d.Parameters = adjunctConfigSummaries(a, false)
	return d
}

// adjunctConfigSummaries lists the keys the adjunct's kind declares, then the other
// keys it has values for. For the policy routes (legacy) the default is a display
// string and the links name the policy, as Brooklyn's PolicyConfigSummary.
func adjunctConfigSummaries(a *entities.Adjunct, legacy bool) []api.ConfigSummary {
	out := []api.ConfigSummary{}
	seen := map[string]bool{}
	add := func(k entities.ConfigKey) {
		seen[k.Name] = true
		c := api.ConfigSummary{Name: k.Name, Type: configJavaType(k.Type), Description: k.Description,
			DefaultValue: k.Default, Reconfigurable: true, Label: k.Label, Pinned: k.Pinned, Constraints: k.Constraints}
		if legacy {
			self := policyPath(a) + "/config/" + k.Name
			if k.Default != nil {
				c.DefaultValue = displayString(k.Default)
			}
			c.Links = map[string]string{"self": self, "application": appPath(a.Entity().Application()),
				"entity": entityPath(a.Entity()), "policy": policyPath(a)}
		} else {
			self := adjunctPath(a) + "/config/" + k.Name
			c.Links = map[string]string{"self": self, "action:json": self}
		}
		out = append(out, c)
	}
	for _, k := range a.Kind().Config {
		add(k)
	}
	cfg := a.ConfigMap()
	for _, key := range sortedKeys(cfg) {
		if !seen[key] {
			add(entities.ConfigKey{Name: key, Type: javaTypeName(cfg[key])})
		}
	}
	return out
}

// javaTypeName is the config type (in catalog.Coerce's words) that configJavaType names
// as javaType does a value's.
func javaTypeName(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int64:
		return "integer"
	case float64:
		return "number"
	case map[string]any:
		return "map"
	case []any:
		return "list"
	}
	return ""
}

// displayConfig is every config value of the adjunct as display text, as Brooklyn's
// config-current and AdjunctDetail.config show them.
func displayConfig(a *entities.Adjunct) map[string]any {
	out := map[string]any{}
	for k, v := range maskAdjunctConfig(a.Kind(), a.ConfigMap()) {
		if v != nil {
			out[k] = displayString(v)
		}
	}
	return out
}

// displayString writes a config value as text: a string as it is, a number or boolean
// as written, anything else as JSON.
func displayString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool, int, int64, uint64:
		return fmt.Sprint(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// adjunctCategoryOf is the category a catalog path lists: policies or enrichers.
func adjunctCategoryOf(kind string) entities.AdjunctCategory {
	if kind == "enrichers" {
		return entities.EnricherCategory
	}
	return entities.PolicyCategory
}

// listCatalogAdjuncts is GET /v1/catalog/{policies|enrichers}[?allVersions=true]
// [&regex=][&fragment=]: the catalog's policy items (Gantry's catalog has no enricher
// items), then the registered kinds of the category that no item shadows, each with
// the config keys of its kind (CatalogPolicySummary).
func (s *Server) listCatalogAdjuncts(kind string) http.HandlerFunc {
	c := adjunctCategoryOf(kind)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		match, err := matcher(q.Get("regex"), q.Get("fragment"))
		if err != nil {
			writeError(w, err)
			return
		}
		out := []api.CatalogPolicySummary{}
		items := map[string]bool{}
		for _, it := range s.catalog.List(false, queryBool(q.Get("allVersions"))) {
			if !ofKind(it, kind) || it.Disabled {
				continue
			}
			items[it.SymbolicName] = true
			if match(it.ID(), it.Name, it.Description) {
				out = append(out, s.catalogAdjunctSummary(it))
			}
		}
		for _, b := range builtinAdjunctItems(c) {
			if !items[b.SymbolicName] && match(b.ID, b.Name, b.Description) {
				out = append(out, b)
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// catalogAdjunct is GET /v1/catalog/{policies|enrichers}/{name}[/{version}]: a catalog
// item, else a registered kind (with no version, "latest" or the server's).
func (s *Server) catalogAdjunct(kind string) http.HandlerFunc {
	c := adjunctCategoryOf(kind)
	return func(w http.ResponseWriter, r *http.Request) {
		name, version := chi.URLParam(r, "name"), chi.URLParam(r, "version")
		it, err := s.catalog.Get(name, version)
		if err == nil && ofKind(it, kind) {
			writeJSON(w, http.StatusOK, s.catalogAdjunctSummary(it))
			return
		}
		if k, ok := builtinAdjunct(c, name, version); ok {
			writeJSON(w, http.StatusOK, builtinAdjunctItem(k))
			return
		}
		if err == nil {
			err = fmt.Errorf("catalog item %s is a %s item, not one of %s: %w", it.ID(), it.ItemType, kind, entities.ErrNotFound)
		}
		writeError(w, err)
	}
}

// catalogAdjunctSummary is a catalog policy item with the config keys of its kind.
func (s *Server) catalogAdjunctSummary(it *catalog.Item) api.CatalogPolicySummary {
	out := api.CatalogPolicySummary{CatalogItemSummary: itemSummary(it)}
	if k, err := entities.LookupAdjunct(it.Type); err == nil {
		out.Config = kindConfigSummaries(k)
	}
	return out
}
