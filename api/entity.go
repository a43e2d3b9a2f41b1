package api

// EntitySummary mirrors rest.domain.EntitySummary, returned by
// GET /v1/applications/{app}/entities[/{entity}[/children]] and .../descendants.
// Type is the entity's type name; CatalogItemID ("id:version") is left out when the
// entity did not come from a catalog item. Brooklyn's links are "self", "parent"
// (not for an app), "application", "children", "config", "sensors", "effectors",
// "adjuncts", "policies", "activities", "locations", "tags", "expunge", "rename"
// (the .../name path), "spec", and "catalog" and "iconUrl" when they apply; all
// are paths under /v1/applications/{app}/entities/{id}.
type EntitySummary struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	CatalogItemID string            `json:"catalogItemId,omitempty"`
	Links         map[string]string `json:"links"`
}

// EntityDetail mirrors rest.domain.EntityDetail as returned by
// GET /v1/applications/fetch: one element per application, with Children nested to
// any depth (`br tree` prints Name and Type of each). ParentID is empty for an
// application (Brooklyn sends null). ServiceUp is null when the entity has no
// service.isUp value. Children is left out when empty. CreationTimeUTC, Tags,
// Sensors and Relations are Brooklyn's extra fields (its @JsonAnyGetter map):
// Sensors carries the values named by ?sensors= on the request.
type EntityDetail struct {
	EntitySummary
	ApplicationID   string         `json:"applicationId"`
	ParentID        string         `json:"parentId,omitempty"`
	Children        []EntityDetail `json:"children,omitempty"`
	GroupIDs        []string       `json:"groupIds"`
	Members         []MemberRef    `json:"members"`
	ServiceUp       *bool          `json:"serviceUp"`
	ServiceState    Lifecycle      `json:"serviceState,omitempty"`
	IconURL         string         `json:"iconUrl,omitempty"`
	CreationTimeUTC int64          `json:"creationTimeUtc,omitempty"`
	Tags            []any          `json:"tags,omitempty"`
	Sensors         map[string]any `json:"sensors,omitempty"`
	Relations       []any          `json:"relations,omitempty"`
}

// MemberRef is one member of a group in EntityDetail.Members: {"id", "name"}.
type MemberRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SensorSummary mirrors rest.domain.SensorSummary, an element of
// GET .../entities/{entity}/sensors. Type is the value's type name (Brooklyn sends
// Java names such as "java.lang.Boolean"). Brooklyn's links are "self" and
// "action:json" (both .../sensors/{name}), "application" and "entity".
type SensorSummary struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Links       map[string]string `json:"links,omitempty"`
}

// ConfigSummary mirrors rest.domain.ConfigSummary (EntityConfigSummary on the wire
// for entities), an element of GET .../entities/{entity}/config. PossibleValues is
// set for enumerations: [{"value": "A", "description": "A"}]. Links are like
// SensorSummary's ("self", "application", "entity", "action:json").
type ConfigSummary struct {
	Name           string              `json:"name"`
	Type           string              `json:"type"`
	DefaultValue   any                 `json:"defaultValue,omitempty"`
	Description    string              `json:"description,omitempty"`
	Reconfigurable bool                `json:"reconfigurable"`
	Label          string              `json:"label,omitempty"`
	Priority       float64             `json:"priority,omitempty"`
	PossibleValues []map[string]string `json:"possibleValues,omitempty"`
	Pinned         bool                `json:"pinned,omitempty"`
	Constraints    []any               `json:"constraints,omitempty"`
	Links          map[string]string   `json:"links,omitempty"`
}

// EffectorSummary mirrors rest.domain.EffectorSummary, an element of
// GET .../entities/{entity}/effectors. ReturnType is a type name ("void" when
// nothing is returned); Parameters is always present. Brooklyn's links are "self"
// (.../effectors/{name}), "entity" and "application".
type EffectorSummary struct {
	Name        string             `json:"name"`
	ReturnType  string             `json:"returnType"`
	Parameters  []ParameterSummary `json:"parameters"`
	Description string             `json:"description,omitempty"`
	Links       map[string]string  `json:"links,omitempty"`
}

// ParameterSummary mirrors EffectorSummary.ParameterSummary. DefaultValue is sent
// even when null.
type ParameterSummary struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	Description    string `json:"description,omitempty"`
	DefaultValue   any    `json:"defaultValue"`
	ShouldSanitize bool   `json:"shouldSanitize"`
}
