package server

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

func appPath(app *entities.Entity) string { return "/v1/applications/" + app.ID() }

func entityPath(e *entities.Entity) string {
	return appPath(e.Application()) + "/entities/" + e.ID()
}

func appSummary(app *entities.Entity) api.ApplicationSummary {
	return api.ApplicationSummary{
		ID: app.ID(),
		Spec: api.ApplicationSpec{
			Name:      app.Name(),
			Type:      app.Type().Name,
			Locations: nonNil(app.Locations()),
		},
		Status: api.StatusOf(api.Lifecycle(app.State()), app.IsUp()),
		Links: map[string]string{
			"self":     appPath(app),
			"entities": appPath(app) + "/entities",
		},
	}
}

func entitySummary(e *entities.Entity) api.EntitySummary {
	p := entityPath(e)
	links := map[string]string{
		"self":        p,
		"application": appPath(e.Application()),
		"children":    p + "/children",
		"config":      p + "/config",
		"sensors":     p + "/sensors",
		"effectors":   p + "/effectors",
		"policies":    p + "/policies",
		"adjuncts":    p + "/adjuncts",
		"activities":  p + "/activities",
		"locations":   p + "/locations",
		"tags":        p + "/tags",
		"expunge":     p + "/expunge",
		"rename":      p + "/name",
		"spec":        p + "/spec",
	}
	if parent := e.Parent(); parent != nil {
		links["parent"] = entityPath(parent)
	}
	return api.EntitySummary{ID: e.ID(), Name: e.Name(), Type: e.Type().Name, CatalogItemID: e.CatalogItemID(), Links: links}
}

func entityDetail(e *entities.Entity, withSensors []string) api.EntityDetail {
	d := api.EntityDetail{
		EntitySummary:   entitySummary(e),
		ApplicationID:   e.Application().ID(),
		GroupIDs:        []string{},
		Members:         []api.MemberRef{},
		ServiceState:    api.Lifecycle(e.State()),
		CreationTimeUTC: e.Created().UnixMilli(),
		Tags:            e.Tags(),
	}
	if v, ok := e.Attribute(sensors.ServiceUp); ok {
		if b, ok := v.(bool); ok {
			d.ServiceUp = &b
		}
	}
	if p := e.Parent(); p != nil {
		d.ParentID = p.ID()
	}
	for _, g := range e.Groups() {
		d.GroupIDs = append(d.GroupIDs, g.ID())
	}
	for _, m := range e.Members() {
		d.Members = append(d.Members, api.MemberRef{ID: m.ID(), Name: m.Name()})
	}
	for _, s := range withSensors {
		if v, ok := e.Attribute(s); ok {
			if d.Sensors == nil {
				d.Sensors = map[string]any{}
			}
			d.Sensors[s] = maskValue(v, entitySecret(e, s))
		}
	}
	for _, c := range e.Children() {
		d.Children = append(d.Children, entityDetail(c, withSensors))
	}
	return d
}

// brooklynStatus is TaskSummary.currentStatus as Brooklyn words it.
func brooklynStatus(s entities.TaskState) string {
	switch s {
	case entities.TaskQueued:
		return api.TaskSubmitted
	case entities.TaskRunning:
		return api.TaskInProgress
	case entities.TaskSucceeded:
		return api.TaskCompleted
	case entities.TaskFailed:
		return api.TaskFailed
	case entities.TaskCancelled:
		return api.TaskCancelled
	}
	return string(s)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func taskLink(m *entities.Management, id string) api.TaskLink {
	l := api.TaskLink{Link: "/v1/activities/" + id, Metadata: api.TaskLinkMeta{ID: id}}
	if t, err := m.Task(id); err == nil {
		s := t.Snapshot()
		l.Metadata.TaskName, l.Metadata.EntityID, l.Metadata.EntityDisplayName = s.Name, s.EntityID, entityName(m, s)
	}
	return l
}

// entityName is the current name of a task's entity, as Brooklyn shows it; the name it
// had when the task began once the entity is gone.
func entityName(m *entities.Management, s entities.TaskSnapshot) string {
	if s.EntityID == "" {
		return s.EntityName
	}
	if e, err := m.Entity(s.EntityID); err == nil {
		return e.Name()
	}
	return s.EntityName
}

// hasStream says whether a task has the named stream, as its summary lists them: every
// task captures stdout and stderr; env exists once a command ran with one; Gantry's
// tasks never have stdin.
func hasStream(s entities.TaskSnapshot, name string) bool {
	switch name {
	case "stdout", "stderr":
		return true
	case "env":
		return s.HasEnv
	}
	return false
}

func taskSummary(m *entities.Management, t *entities.Task) api.TaskSummary {
	s := t.Snapshot()
	self := "/v1/activities/" + s.ID
	ts := api.TaskSummary{
		ID: s.ID, DisplayName: s.Name, Description: s.Description,
		EntityID: s.EntityID, EntityDisplayName: entityName(m, s),
		Tags:          []any{},
		SubmitTimeUTC: millis(s.Submitted), StartTimeUTC: millis(s.Started), EndTimeUTC: millis(s.Ended),
		CurrentStatus: brooklynStatus(s.State),
		IsError:       s.State == entities.TaskFailed || s.State == entities.TaskCancelled,
		IsCancelled:   s.State == entities.TaskCancelled,
		Children:      []api.TaskLink{},
		Streams:       map[string]api.StreamLink{},
		Links:         map[string]string{"self": self, "children": self + "/children"},
	}
	for _, tag := range s.Tags {
		ts.Tags = append(ts.Tags, tag)
	}
	if s.EntityID != "" {
		ts.Tags = append(ts.Tags, map[string]any{"wrappingType": "contextEntity", "entity": map[string]string{"type": "Entity", "id": s.EntityID}})
		ts.Links["entity"] = "/v1/applications/" + s.AppID + "/entities/" + s.EntityID
	}
	for _, c := range s.ChildIDs {
		ts.Children = append(ts.Children, taskLink(m, c))
	}
	if s.ParentID != "" {
		l := taskLink(m, s.ParentID)
		ts.SubmittedByTask = &l
	}
	sizes := map[string]int{"stdout": s.StdoutSize, "stderr": s.StderrSize}
	if s.HasEnv {
		env, _ := t.Stream("env")
		sizes["env"] = len(env)
	}
	for name, size := range sizes {
		if size == 0 && name != "stdout" {
			continue
		}
		ts.Streams[name] = api.StreamLink{
			Link:     self + "/stream/" + name,
			Metadata: api.StreamLinkMeta{Name: name, Size: int64(size), SizeText: sizeText(size)},
		}
	}
	switch s.State {
	case entities.TaskSucceeded:
		ts.Result = s.Result
		ts.DetailedStatus = fmt.Sprintf("Completed after %s", s.Ended.Sub(s.Started).Round(time.Millisecond))
		if s.Result != nil {
			ts.DetailedStatus += fmt.Sprintf("\n\nResult: %v", s.Result)
		}
	case entities.TaskFailed, entities.TaskCancelled:
		ts.Result = s.Error
		ts.DetailedStatus = "Failed after " + s.Ended.Sub(s.Started).Round(time.Millisecond).String() + ": " + s.Error
	case entities.TaskRunning:
		ts.DetailedStatus = "In progress"
	}
	return ts
}

// sizeText writes a byte count as Brooklyn does: 0B, 162B, 1.13kB, 23.5MB.
func sizeText(n int) string {
	units := []string{"B", "kB", "MB", "GB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	s := fmt.Sprintf("%.3g", f)
	return s + units[i]
}

func locationSummary(l locations.Location) api.LocationSummary {
	return api.LocationSummary{
		ID: l.ID(), Name: l.DisplayName(), Spec: l.Spec(), Type: l.Kind(), Config: maskLocationConfig(l.Config()),
		Links: map[string]string{"self": "/v1/locations/" + l.ID()},
	}
}

// javaType names the type of a value as Brooklyn would, for sensor and config listings.
func javaType(v any) string {
	switch v.(type) {
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case int, int64:
		return "java.lang.Integer"
	case float64:
		return "java.lang.Double"
	case map[string]any:
		return "java.util.Map"
	case []any:
		return "java.util.List"
	}
	return "java.lang.Object"
}

// configJavaType names a declared config type as Brooklyn would.
func configJavaType(t string) string {
	switch t {
	case "string":
		return "java.lang.String"
	case "integer":
		return "java.lang.Integer"
	case "number":
		return "java.lang.Double"
	case "boolean":
		return "java.lang.Boolean"
	case "duration":
		return "org.apache.brooklyn.util.time.Duration"
	case "port":
		return "org.apache.brooklyn.api.location.PortRange"
	case "timestamp":
		return "java.util.Date"
	case "list", "strings", "ports":
		return "java.util.List"
	case "map", "stringmap", "portmap":
		return "java.util.Map"
	case "spec":
		return "org.apache.brooklyn.api.entity.EntitySpec"
	}
	return "java.lang.Object"
}

var lifecycleSensors = []entities.SensorType{
	{Name: sensors.ServiceState, Type: "org.apache.brooklyn.core.entity.lifecycle.Lifecycle", Description: "Actual lifecycle state of the entity"},
	{Name: sensors.ServiceStateExpected, Type: "org.apache.brooklyn.core.entity.lifecycle.Lifecycle$Transition", Description: "Last controlled change to service state, indicating what the expected state should be"},
	{Name: sensors.ServiceUp, Type: "java.lang.Boolean", Description: "Whether the service is active and available (confirmed and monitored)"},
	{Name: sensors.NotUpIndicators, Type: "java.util.Map", Description: "A map of namespaced indicators that the service is not up"},
	{Name: sensors.Problems, Type: "java.util.Map", Description: "A map of namespaced indicators of problems with a service"},
}

// declaresSensor says whether a sensor is listed for the entity even without a value.
func declaresSensor(e *entities.Entity, name string) bool {
	for _, s := range lifecycleSensors {
		if s.Name == name {
			return true
		}
	}
	for _, s := range e.Type().Sensors {
		if s.Name == name {
			return true
		}
	}
	return false
}

// sensorSummaries lists the sensors of an entity: the lifecycle ones, those its type
// declares (but patterns), and every other one that has a value.
func sensorSummaries(e *entities.Entity) []api.SensorSummary {
	seen := map[string]bool{}
	var out []api.SensorSummary
	add := func(name, typ, desc string) {
		if seen[name] || strings.Contains(name, "<") {
			return
		}
		seen[name] = true
		self := entityPath(e) + "/sensors/" + name
		out = append(out, api.SensorSummary{Name: name, Type: typ, Description: desc, Links: map[string]string{
			"self": self, "action:json": self, "application": appPath(e.Application()), "entity": entityPath(e),
		}})
	}
	for _, s := range lifecycleSensors {
		add(s.Name, s.Type, s.Description)
	}
	for _, s := range e.Type().Sensors {
		add(s.Name, s.Type, s.Description)
	}
	attrs := e.Attributes()
	for _, name := range e.AttributeNames() {
		add(name, javaType(attrs[name]), "")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// configSummaries lists the config keys of an entity: those its type declares and every
// other one set on it or inherited.
func configSummaries(e *entities.Entity) []api.ConfigSummary {
	seen := map[string]bool{}
	var out []api.ConfigSummary
	add := func(name, typ, desc string, def any) {
		if seen[name] {
			return
		}
		seen[name] = true
		self := entityPath(e) + "/config/" + name
		out = append(out, api.ConfigSummary{Name: name, Type: typ, Description: desc, DefaultValue: def, Reconfigurable: true,
			Links: map[string]string{"self": self, "action:json": self, "application": appPath(e.Application()), "entity": entityPath(e)}})
	}
	for _, k := range e.Type().Config {
		add(k.Name, configJavaType(k.Type), k.Description, maskValue(k.Default, k.Secret || IsSecretKey(k.Name)))
		// brooklyn.parameters give a label, pinning and constraints for forms
		if last := &out[len(out)-1]; last.Name == k.Name {
			last.Label, last.Pinned, last.Constraints = k.Label, k.Pinned, k.Constraints
		}
	}
	eff := e.EffectiveConfig()
	for _, k := range sortedKeys(eff) {
		add(k, javaType(eff[k]), "", nil)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func effectorSummaries(e *entities.Entity) []api.EffectorSummary {
	var out []api.EffectorSummary
	for _, eff := range e.Type().AllEffectors() {
		s := api.EffectorSummary{
			Name: eff.Name, ReturnType: eff.ReturnType, Description: eff.Description, Parameters: []api.ParameterSummary{},
			Links: map[string]string{
				"self": entityPath(e) + "/effectors/" + eff.Name, "entity": entityPath(e), "application": appPath(e.Application()),
			},
		}
		if s.ReturnType == "" {
			s.ReturnType = "void"
		}
		for _, p := range eff.Params {
			s.Parameters = append(s.Parameters, api.ParameterSummary{Name: p.Name, Type: p.Type, Description: p.Description, DefaultValue: p.Default})
		}
		out = append(out, s)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
