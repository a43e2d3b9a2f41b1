package api

// CatalogItemSummary mirrors rest.domain.CatalogItemSummary, an element of the
// (deprecated in Brooklyn, but used by br) lists GET /v1/catalog/applications,
// /entities, /locations and /policies. `br catalog list TYPE` prints ID, Name and
// Description. ID is "symbolicName:version"; Type and JavaType are the item's type
// name; ItemType is "template", "entity", "policy", "location", ...;
// ContainingBundle is "bundle:version". Links: "self" (the item's
// /v1/catalog/{kind}/{symbolicName}/{version} path).
type CatalogItemSummary struct {
	ID               string            `json:"id"`
	SymbolicName     string            `json:"symbolicName"`
	Version          string            `json:"version"`
	ContainingBundle string            `json:"containingBundle,omitempty"`
	Type             string            `json:"type"`
	JavaType         string            `json:"javaType,omitempty"`
	ItemType         string            `json:"itemType"`
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	IconURL          string            `json:"iconUrl,omitempty"`
	PlanYAML         string            `json:"planYaml"`
	Tags             []any             `json:"tags,omitempty"`
	Deprecated       bool              `json:"deprecated"`
	Links            map[string]string `json:"links"`
}

// CatalogEntitySummary mirrors rest.domain.CatalogEntitySummary, the body of
// GET /v1/catalog/entities/{id}[/{version}] and .../applications/... (`br catalog
// show`): the item plus the config keys, sensors and effectors of its type.
type CatalogEntitySummary struct {
	CatalogItemSummary
	Config    []ConfigSummary   `json:"config,omitempty"`
	Sensors   []SensorSummary   `json:"sensors,omitempty"`
	Effectors []EffectorSummary `json:"effectors,omitempty"`
}

// TypeSummary mirrors rest.domain.TypeSummary, an element of GET /v1/catalog/types
// (Brooklyn's current catalog API, used by its UI rather than br). Kind is "SPEC",
// "BEAN" or "UNRESOLVED".
type TypeSummary struct {
	SymbolicName     string   `json:"symbolicName"`
	Version          string   `json:"version"`
	ContainingBundle string   `json:"containingBundle"`
	Kind             string   `json:"kind"`
	DisplayName      string   `json:"displayName,omitempty"`
	Description      string   `json:"description,omitempty"`
	IconURL          string   `json:"iconUrl,omitempty"`
	Aliases          []string `json:"aliases,omitempty"`
	Supertypes       []string `json:"supertypes,omitempty"`
	Tags             []any    `json:"tags,omitempty"`
	Disabled         bool     `json:"disabled,omitempty"`
	Deprecated       bool     `json:"deprecated,omitempty"`
}

// BundleInstallationResult mirrors rest.domain.BundleInstallationRestResult, the
// body of POST /v1/catalog?detail=true (`br catalog add`). Code is Brooklyn's
// OsgiBundleInstallationResult.ResultCode name ("INSTALLED_NEW_BUNDLE",
// "UPDATED_EXISTING_BUNDLE", "IGNORING_BUNDLE_AREADY_INSTALLED" [sic], ...); br
// treats an empty Code as an old server and re-reads the body as a map of types.
// Types are keyed "symbolicName:version".
type BundleInstallationResult struct {
	Message string                 `json:"message"`
	Bundle  string                 `json:"bundle"`
	Code    string                 `json:"code"`
	Types   map[string]TypeSummary `json:"types,omitempty"`
}
