package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"gopkg.in/yaml.v3"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/blueprints"
	"github.com/gantry-dev/gantry/catalog"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/web"
)

// maxBlueprint bounds the size of a deployed blueprint.
const maxBlueprint = 8 << 20

// Handler is the REST API.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(s.authorize(r)) // every route: auth.go
	ui := web.Handler()
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		// Outside /v1, a GET is the web UI's: its files, or index.html for the paths it
		// routes in the browser (/apps/ID, /deploy ...).
		if isUIRequest(r) {
			ui.ServeHTTP(w, r)
			return
		}
		writeError(w, fmt.Errorf("no such resource %s %s: %w", r.Method, r.URL.Path, entities.ErrNotFound))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, api.ApiError{Message: r.Method + " is not allowed on " + r.URL.Path, Error: http.StatusMethodNotAllowed})
	})
	r.Route("/v1", func(r chi.Router) {
		r.Route("/applications", func(r chi.Router) {
			r.Get("/", s.listApplications)
			r.Post("/", s.deploy)
			r.Get("/fetch", s.fetchApplications)
			r.Route("/{app}", func(r chi.Router) {
				r.Get("/", s.withApp(s.getApplication))
				r.Delete("/", s.withApp(s.deleteApplication))
				r.Get("/descendants", s.withApp(s.descendants))
				r.Get("/entities", s.withApp(s.listEntities))
				r.Route("/entities/{entity}", func(r chi.Router) {
					r.Get("/", s.withEntity(s.getEntity))
					r.Get("/children", s.withEntity(s.children))
					r.Post("/name", s.withEntity(s.rename))
					r.Get("/spec", s.withEntity(s.spec))
					r.Get("/locations", s.withEntity(s.entityLocations))
					r.Get("/tags", s.withEntity(s.tags))
					r.Get("/activities", s.withEntity(s.entityActivities))
					r.Get("/activities/{task}", s.withEntity(s.entityActivity))
					r.Get("/sensors", s.withEntity(s.sensors))
					r.Get("/sensors/current-state", s.withEntity(s.sensorValues))
					r.Get("/sensors/{name}", s.withEntity(s.sensor))
					r.Post("/sensors/{name}", s.withEntity(s.setSensor))
					r.Delete("/sensors/{name}", s.withEntity(s.deleteSensor))
					r.Get("/config", s.withEntity(s.config))
					r.Post("/config", s.withEntity(s.setConfigs))
					r.Get("/config/current-state", s.withEntity(s.configValues))
					r.Get("/config/{key}", s.withEntity(s.configValue))
					r.Post("/config/{key}", s.withEntity(s.setConfig))
					r.Get("/effectors", s.withEntity(s.effectors))
					r.Post("/effectors/{name}", s.withEntity(s.invoke))
					s.adjunctRoutes(r) // .../policies and .../adjuncts (adjuncts.go)
				})
			})
		})
		r.Get("/events", s.streamEvents) // Server-Sent Events (events.go)
		r.Get("/activities/{task}", s.withTask(s.activity))
		r.Get("/activities/{task}/children", s.withTask(s.activityChildren))
		r.Get("/activities/{task}/stream/{stream}", s.withTask(s.activityStream))
		r.Route("/catalog", s.catalogRoutes)
		r.Get("/locations", s.listLocations)
		r.Get("/locations/{location}", s.getLocation)
		r.Route("/server", func(r chi.Router) {
			r.Get("/version", s.version)
			r.Get("/up", s.up)
			r.Get("/healthy", s.up)
			r.Get("/up/extended", s.upExtended)
			r.Get("/status", s.status)
			r.Get("/ha/state", s.status)
			r.Get("/ha/states", s.haStates)
			r.Get("/user", s.user)
			r.Get("/planeid", s.planeID)
		})
	})
	return r
}

// isUIRequest says whether a request that no API route took is for the web UI: a GET
// or HEAD outside /v1.
func isUIRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p != "/v1" && !strings.HasPrefix(p, "/v1/")
}

type appHandler func(w http.ResponseWriter, r *http.Request, app *entities.Entity)
type entityHandler func(w http.ResponseWriter, r *http.Request, e *entities.Entity)
type taskHandler func(w http.ResponseWriter, r *http.Request, t *entities.Task)

// withApp resolves {app}, by id or by name.
func (s *Server) withApp(h appHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, err := s.mgmt.Application(chi.URLParam(r, "app"))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, app)
	}
}

// withEntity resolves {app} and {entity}, each by id or by name.
func (s *Server) withEntity(h entityHandler) http.HandlerFunc {
	return s.withApp(func(w http.ResponseWriter, r *http.Request, app *entities.Entity) {
		e, err := s.findEntity(app, chi.URLParam(r, "app"), chi.URLParam(r, "entity"))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, e)
	})
}

// findEntity resolves an entity token within app. br passes the application token as the
// entity when none is given (`br app X sensor` asks for .../applications/X/entities/X),
// so the token that named the application names it as an entity too, even when it
// matched the application's name case-insensitively. An id of an entity of another
// application is 412, as in Brooklyn.
func (s *Server) findEntity(app *entities.Entity, appToken, token string) (*entities.Entity, error) {
	e, err := s.mgmt.FindEntity(app, token)
	if err == nil {
		return e, nil
	}
	if token == appToken {
		return app, nil
	}
	if other, oerr := s.mgmt.Entity(token); oerr == nil && other.Application() != app {
		return nil, fmt.Errorf("entity %s belongs to application %s, not to %s (%s): %w",
			other.ID(), other.Application().ID(), app.ID(), app.Name(), errPrecondition)
	}
	return nil, err
}

func (s *Server) withTask(h taskHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := s.mgmt.Task(chi.URLParam(r, "task"))
		if err != nil {
			writeError(w, err)
			return
		}
		h(w, r, t)
	}
}

// Applications.

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) {
	out := []api.ApplicationSummary{}
	for _, app := range s.mgmt.Applications() {
		out = append(out, appSummary(app))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) fetchApplications(w http.ResponseWriter, r *http.Request) {
	var wanted map[string]bool
	if items := r.URL.Query().Get("items"); items != "" {
		wanted = map[string]bool{}
		for _, id := range strings.Split(items, ",") {
			wanted[strings.TrimSpace(id)] = true
		}
	}
	var sensorNames []string
	if v := r.URL.Query().Get("sensors"); v != "" {
		sensorNames = strings.Split(v, ",")
	}
	out := []api.EntityDetail{}
	for _, app := range s.mgmt.Applications() {
		if wanted == nil || wanted[app.ID()] || wanted[app.Name()] {
			out = append(out, entityDetail(app, sensorNames)) // secrets masked there
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// deploy parses, resolves and deploys a blueprint. Nothing is created when any part of
// it is wrong.
func (s *Server) deploy(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBlueprint+1))
	if err != nil {
		writeError(w, fmt.Errorf("read blueprint: %w: %w", err, errBadRequest))
		return
	}
	if len(body) > maxBlueprint {
		writeError(w, fmt.Errorf("blueprint is larger than %d bytes: %w", maxBlueprint, errBadRequest))
		return
	}
	body = blueprintFromRequest(r, body)
	plan, err := blueprints.Parse(body)
	if err != nil {
		writeError(w, err)
		return
	}
	spec, err := s.catalog.Resolve(plan, s.locs)
	if err != nil {
		writeError(w, err)
		return
	}
	app, task, err := s.mgmt.Deploy(r.Context(), spec, body)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", absolute(r, appPath(app)))
	writeJSON(w, http.StatusCreated, taskSummary(s.mgmt, task))
}

// absolute makes a path of this server an absolute URL, as Brooklyn's Location headers are.
func absolute(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// blueprintFromRequest takes the blueprint from a raw YAML or JSON body, or from the
// `plan` field of a form, as Brooklyn accepts it. curl's --data-binary labels a raw
// YAML file as a form, so a "form" without a plan field is taken as the blueprint.
func blueprintFromRequest(r *http.Request, body []byte) []byte {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return body
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("plan") != "" {
		return []byte(form.Get("plan"))
	}
	return body
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request, app *entities.Entity) {
	writeJSON(w, http.StatusOK, appSummary(app))
}

func (s *Server) deleteApplication(w http.ResponseWriter, r *http.Request, app *entities.Entity) {
	task, err := s.mgmt.Unmanage(r.Context(), app)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, taskSummary(s.mgmt, task))
}

func (s *Server) descendants(w http.ResponseWriter, r *http.Request, app *entities.Entity) {
	out := []api.EntitySummary{}
	for _, e := range app.Descendants() {
		out = append(out, entitySummary(e))
	}
	writeJSON(w, http.StatusOK, out)
}

// listEntities lists the application's children, as Brooklyn does.
func (s *Server) listEntities(w http.ResponseWriter, r *http.Request, app *entities.Entity) {
	writeJSON(w, http.StatusOK, summaries(app.Children()))
}

// Entities.

func summaries(es []*entities.Entity) []api.EntitySummary {
	out := make([]api.EntitySummary, 0, len(es))
	for _, e := range es {
		out = append(out, entitySummary(e))
	}
	return out
}

func (s *Server) getEntity(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, entitySummary(e))
}

func (s *Server) children(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, summaries(e.Children()))
}

func (s *Server) rename(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	name := r.URL.Query().Get("name")
	if name == "" {
		_ = r.ParseForm()
		name = r.Form.Get("name")
	}
	if strings.TrimSpace(name) == "" {
		writeError(w, fmt.Errorf("rename needs a non-empty name parameter, e.g. POST .../name?name=web: %w", errBadRequest))
		return
	}
	e.SetName(name)
	w.WriteHeader(http.StatusOK)
}

// spec returns the blueprint of an application; for another entity, the part of it that
// made the entity.
func (s *Server) spec(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	var text []byte
	if e.IsApplication() {
		var err error
		if text, err = s.mgmt.Blueprint(r.Context(), e); err != nil {
			writeError(w, err)
			return
		}
		text = maskBlueprint(text)
	} else {
		node := map[string]any{"type": e.Type().Name, "name": e.Name()}
		if id := e.BlueprintID(); id != "" {
			node["id"] = id
		}
		if cfg := e.OwnConfig(); len(cfg) > 0 {
			node["brooklyn.config"] = maskConfig(e, cfg)
		}
		text, _ = yaml.Marshal(node)
	}
	w.Header().Set("Content-Type", "text/x-yaml")
	w.Write(text)
}

func (s *Server) entityLocations(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	out := []api.LocationSummary{}
	for _, id := range e.Locations() {
		if l, err := s.locs.Get(id); err == nil {
			out = append(out, locationSummary(l))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	tags := e.Tags()
	if tags == nil {
		tags = []any{}
	}
	writeJSON(w, http.StatusOK, tags)
}

// Activities.

func (s *Server) entityActivities(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	tasks := s.mgmt.Tasks(e)
	limit := 200
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 {
		limit = n
	}
	if limit < len(tasks) {
		tasks = tasks[len(tasks)-limit:]
	}
	out := make([]api.TaskSummary, 0, len(tasks))
	for i := len(tasks) - 1; i >= 0; i-- { // newest first
		out = append(out, taskSummary(s.mgmt, tasks[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) entityActivity(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	t, err := s.mgmt.Task(chi.URLParam(r, "task"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, taskSummary(s.mgmt, t))
}

// activity returns a task: 200 when it has ended, 202 while it runs. With ?timeout= it
// first waits up to that long for the end (never: as long as it takes).
func (s *Server) activity(w http.ResponseWriter, r *http.Request, t *entities.Task) {
	done := false
	if v := r.URL.Query().Get("timeout"); v != "" {
		d, forever, err := parseTimeout(v)
		if err != nil {
			writeError(w, err)
			return
		}
		done = waitFor(r.Context(), t, d, forever)
	} else {
		done = waitFor(r.Context(), t, 0, false)
	}
	code := http.StatusOK
	if !done {
		code = http.StatusAccepted
	}
	writeJSON(w, code, taskSummary(s.mgmt, t))
}

func (s *Server) activityChildren(w http.ResponseWriter, r *http.Request, t *entities.Task) {
	out := []api.TaskSummary{}
	for _, c := range t.Children() {
		out = append(out, taskSummary(s.mgmt, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) activityStream(w http.ResponseWriter, r *http.Request, t *entities.Task) {
	name := chi.URLParam(r, "stream")
	text, ok := t.Stream(name)
	if snap := t.Snapshot(); !ok || !hasStream(snap, name) {
		var has []string
		for _, n := range []string{"stdin", "stdout", "stderr", "env"} {
			if hasStream(snap, n) {
				has = append(has, n)
			}
		}
		writeError(w, fmt.Errorf("task %s has no stream %q (it has %s): %w", t.ID(), name, strings.Join(has, ", "), entities.ErrNotFound))
		return
	}
	if name == "env" {
		text = maskEnvText(text)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, text)
}

// Sensors.

func (s *Server) sensors(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, sensorSummaries(e))
}

func (s *Server) sensorValues(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, maskConfig(e, e.Attributes()))
}

func (s *Server) sensor(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	name := chi.URLParam(r, "name")
	v, ok := e.Attribute(name)
	switch {
	case ok:
		writeValue(w, r, maskValue(v, entitySecret(e, name)))
	case declaresSensor(e, name):
		w.WriteHeader(http.StatusNoContent) // known, not set yet: br shows null
	default:
		writeError(w, fmt.Errorf("entity %s has no sensor %q: %w", e.ID(), name, entities.ErrNotFound))
	}
}

// writeValue answers a sensor or config value as JSON, or as plain text when the client
// asks for text/plain (or ?raw=true), as Brooklyn does.
func writeValue(w http.ResponseWriter, r *http.Request, v any) {
	accept := r.Header.Get("Accept")
	if r.URL.Query().Get("raw") == "true" || (strings.Contains(accept, "text/plain") && !strings.Contains(accept, "application/json")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch x := v.(type) {
		case string:
			io.WriteString(w, x)
		case nil:
		default:
			b, _ := json.Marshal(x)
			w.Write(b)
		}
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) setSensor(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	v, err := readValue(r)
	if err != nil {
		writeError(w, err)
		return
	}
	e.SetAttribute(chi.URLParam(r, "name"), v)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteSensor(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	e.SetAttribute(chi.URLParam(r, "name"), nil)
	w.WriteHeader(http.StatusNoContent)
}

// readValue reads a JSON value from the body; a body that is not JSON is taken as a string.
func readValue(r *http.Request) (any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read value: %w: %w", err, errBadRequest)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body), nil
	}
	return v, nil
}

// Config.

func (s *Server) config(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, configSummaries(e))
}

func (s *Server) configValues(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, maskConfig(e, e.EffectiveConfig()))
}

func (s *Server) configValue(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	key := chi.URLParam(r, "key")
	v, ok := e.Config(key)
	_, declared := e.Type().ConfigKey(key)
	switch {
	case ok:
		writeValue(w, r, maskValue(v, entitySecret(e, key)))
	case declared:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, fmt.Errorf("entity %s has no config key %q: %w", e.ID(), key, entities.ErrNotFound))
	}
}

func (s *Server) setConfig(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	v, err := readValue(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := setConfig(e, chi.URLParam(r, "key"), v); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setConfigs(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	v, err := readValue(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m, ok := v.(map[string]any)
	if !ok {
		writeError(w, fmt.Errorf("POST .../config takes a JSON map of keys to values: %w", errBadRequest))
		return
	}
	for _, k := range sortedKeys(m) {
		if err := setConfig(e, k, m[k]); err != nil {
			writeError(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// setConfig checks a value against the key's declared type, as a blueprint's would be.
// Setting a secret key to the mask it is shown as leaves it as it is (a form sent
// back whole must not wipe the secret).
func setConfig(e *entities.Entity, key string, v any) error {
	if v == api.SecretMask && entitySecret(e, key) {
		return nil
	}
	if k, ok := e.Type().ConfigKey(key); ok {
		val, err := catalog.Coerce(k.Type, v)
		if err != nil {
			return fmt.Errorf("config %s: %w: %w", key, err, errBadRequest)
		}
		v = val
	}
	e.SetConfig(key, v)
	return nil
}

// Effectors.

func (s *Server) effectors(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	writeJSON(w, http.StatusOK, effectorSummaries(e))
}

// invoke calls an effector. By default it blocks and answers 200 with the result;
// with ?timeout=0, or when the timeout passes first, it answers 202 with the task.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, e *entities.Entity) {
	params, form, err := effectorParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if form {
		if params, err = coerceParams(e, chi.URLParam(r, "name"), params); err != nil {
			writeError(w, err)
			return
		}
	}
	d, forever, err := parseTimeout(r.URL.Query().Get("timeout"))
	if err != nil {
		writeError(w, err)
		return
	}
	task, err := s.mgmt.Invoke(r.Context(), e, chi.URLParam(r, "name"), params)
	if err != nil {
		writeError(w, err)
		return
	}
	if !waitFor(r.Context(), task, d, forever) {
		writeJSON(w, http.StatusAccepted, taskSummary(s.mgmt, task))
		return
	}
	result, err := task.Outcome()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, api.ApiError{Message: err.Error(), Details: "task " + task.ID(), Error: http.StatusInternalServerError})
		return
	}
	// As Brooklyn: nothing for a void effector, a string as it is, anything else as JSON.
	switch x := result.(type) {
	case nil:
		w.WriteHeader(http.StatusOK)
	case string:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, x)
	default:
		writeJSON(w, http.StatusOK, x)
	}
}

// effectorParams reads effector parameters from a JSON map or a form (as br sends them);
// form says which, since form values are all strings.
func effectorParams(r *http.Request) (params map[string]any, form bool, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
			return nil, true, fmt.Errorf("read effector parameters: %w: %w", err, errBadRequest)
		}
		out := map[string]any{}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				out[k] = v[0]
			}
		}
		return out, true, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false, fmt.Errorf("read effector parameters: %w: %w", err, errBadRequest)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, false, nil
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, false, fmt.Errorf("effector parameters must be a JSON map of names to values: %w: %w", err, errBadRequest)
	}
	return out, false, nil
}

// coerceParams turns the string values of a form into the types the effector declares
// ("true" for a java.lang.Boolean, "3" for a java.lang.Integer), as Brooklyn does.
// Parameters the effector does not declare, and effectors it does not have, are left
// for Management.Invoke to refuse.
func coerceParams(e *entities.Entity, effector string, params map[string]any) (map[string]any, error) {
	eff, ok := e.Type().Effector(effector)
	if !ok {
		return params, nil
	}
	for _, p := range eff.Params {
		v, given := params[p.Name]
		if !given {
			continue
		}
		val, err := catalog.Coerce(paramType(p.Type), v)
		if err != nil {
			return nil, fmt.Errorf("effector %s, parameter %s: %w: %w", effector, p.Name, err, errBadRequest)
		}
		params[p.Name] = val
	}
	return params, nil
}

// paramType names, in catalog.Coerce's terms, the type of an effector parameter, which
// may be given in Brooklyn's Java terms or in a blueprint's.
func paramType(t string) string {
	switch t {
	case "java.lang.Boolean", "boolean", "Boolean":
		return "boolean"
	case "java.lang.Integer", "java.lang.Long", "java.lang.Short", "int", "long", "integer", "Integer", "Long":
		return "integer"
	case "java.lang.Double", "java.lang.Float", "java.lang.Number", "double", "float", "number", "Double":
		return "number"
	case "java.lang.String", "string", "String":
		return "string"
	case "org.apache.brooklyn.util.time.Duration", "duration", "Duration":
		return "duration"
	}
	return ""
}

// parseTimeout reads Brooklyn's timeout parameter: "never" (or empty) waits forever, a
// bare number is milliseconds, otherwise a duration such as 30s or 1m.
func parseTimeout(v string) (d time.Duration, forever bool, err error) {
	v = strings.TrimSpace(v)
	switch v {
	case "", "never", "forever":
		return 0, true, nil
	case "always":
		return 0, false, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Millisecond, false, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, false, nil
	}
	return 0, false, fmt.Errorf("timeout %q: use never, milliseconds, or a duration such as 30s: %w", v, errBadRequest)
}

// waitFor waits for a task to end, for at most d unless forever; it says whether it ended.
func waitFor(ctx context.Context, t *entities.Task, d time.Duration, forever bool) bool {
	var expire <-chan time.Time
	if !forever {
		timer := time.NewTimer(d)
		defer timer.Stop()
		expire = timer.C
	}
	select {
	case <-t.Done():
		return true
	case <-expire:
	case <-ctx.Done():
	}
	select {
	case <-t.Done():
		return true
	default:
		return false
	}
}

// Locations.

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) {
	out := []api.LocationSummary{}
	for _, l := range s.locs.List() {
		out = append(out, locationSummary(l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request) {
	l, err := s.locs.Get(chi.URLParam(r, "location"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, locationSummary(l))
}

// Server.

func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.VersionSummary{Version: Version, Features: []api.BrooklynFeatureSummary{}})
}

func (s *Server) up(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, true) }

func (s *Server) upExtended(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"up": true, "shuttingDown": false, "healthy": true, "ha": s.haSummary(),
	})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "MASTER")
}

func (s *Server) haSummary() api.HighAvailabilitySummary {
	id := s.mgmt.ServerID()
	return api.HighAvailabilitySummary{
		PlaneID: id, OwnID: id, MasterID: id,
		Nodes: map[string]api.HANodeSummary{id: {NodeID: id, Status: "MASTER", LocalTimestamp: time.Now().UnixMilli()}},
		Links: map[string]string{},
	}
}

func (s *Server) haStates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.haSummary())
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	if u := requestUser(r.Context()); u != "" {
		writeValue(w, r, u)
		return
	}
	if u, _, ok := r.BasicAuth(); ok {
		writeValue(w, r, u)
		return
	}
	writeValue(w, r, "anonymous")
}

func (s *Server) planeID(w http.ResponseWriter, r *http.Request) { writeValue(w, r, s.mgmt.ServerID()) }
