package api

// Adjuncts are the policies, enrichers and feeds attached to an entity. Brooklyn
// serves them twice: the older policy routes (.../entities/{entity}/policies, which
// br calls) and the adjunct routes (.../entities/{entity}/adjuncts, which Brooklyn's
// UI calls). Both are listed in ROUTES.md.

// AdjunctType is an AdjunctSummary's adjunctType, Brooklyn's BrooklynObjectType enum
// name.
type AdjunctType string

const (
	AdjunctPolicy   AdjunctType = "POLICY"
	AdjunctEnricher AdjunctType = "ENRICHER"
	AdjunctFeed     AdjunctType = "FEED"
)

// HighlightTuple mirrors org.apache.brooklyn.api.objs.HighlightTuple, a line an
// adjunct shows about itself under a name such as "lastAction" or "lastViolation":
// what, when (epoch milliseconds) and the task it started, if any.
type HighlightTuple struct {
	Description string `json:"description"`
	Time        int64  `json:"time"`
	TaskID      string `json:"taskId,omitempty"`
}

// AdjunctSummary mirrors rest.domain.AdjunctSummary, an element of
// GET .../entities/{entity}/adjuncts[?adjunctType=policy|enricher|feed]. State is a
// Status: "RUNNING" while the adjunct runs, "STOPPED" once suspended (Brooklyn's
// ApplicationTransformer.statusFromLifecycle of the adjunct's inferred lifecycle).
// CatalogItemID, Description, IconURL and Highlights are left out when empty. The
// summary's only link is "self" (.../adjuncts/{id}).
type AdjunctSummary struct {
	ID            string                    `json:"id"`
	Name          string                    `json:"name"`
	AdjunctType   AdjunctType               `json:"adjunctType"`
	CatalogItemID string                    `json:"catalogItemId,omitempty"`
	Description   string                    `json:"description,omitempty"`
	IconURL       string                    `json:"iconUrl,omitempty"`
	State         Status                    `json:"state"`
	Highlights    map[string]HighlightTuple `json:"highlights,omitempty"`
	Links         map[string]string         `json:"links"`
}

// PolicySummary mirrors rest.domain.PolicySummary, an element of
// GET .../entities/{entity}/policies (`br policy` prints ID, Name and State) and the
// body of POST .../policies. In Brooklyn it is an AdjunctSummary (adjunctType
// "POLICY") whose links are "self" (.../policies/{id}, the status), "config",
// "start", "stop", "destroy", "application" and "entity".
type PolicySummary = AdjunctSummary

// AdjunctDetail mirrors rest.domain.AdjunctDetail, the body of
// GET .../adjuncts/{adjunct} and of POST .../adjuncts. Parameters are the config keys
// the adjunct's type declares; Config holds the adjunct's values as display strings
// (Brooklyn's getStringValueForDisplay: "30s", "5", "true"), keyed by config name.
// Its links are "self", "application", "entity", "adjunct", "config", "status",
// "start", "stop" and "destroy".
type AdjunctDetail struct {
	AdjunctSummary
	FunctionallyUniqueIdentifier string          `json:"functionallyUniqueIdentifier,omitempty"`
	Tags                         []any           `json:"tags,omitempty"`
	Parameters                   []ConfigSummary `json:"parameters,omitempty"`
	Config                       map[string]any  `json:"config"`
}

// PolicyConfigSummary mirrors rest.domain.PolicyConfigSummary, an element of
// GET .../policies/{policy}/config (`br policy ID` prints Name and Description, then
// reads each key's value). It is a ConfigSummary whose DefaultValue is a display
// string and whose links are "self" (.../policies/{policy}/config/{key}),
// "application", "entity" and "policy". br decodes Priority as an integer.
type PolicyConfigSummary = ConfigSummary

// CatalogPolicySummary mirrors rest.domain.CatalogPolicySummary, an element of
// GET /v1/catalog/policies and the body of GET /v1/catalog/policies/{id}/{version}:
// a catalog item (ItemType "policy") with the config keys of its policy type. The
// enrichers' lists (/v1/catalog/enrichers, rest.domain.CatalogEnricherSummary) have
// the same shape with ItemType "enricher".
type CatalogPolicySummary struct {
	CatalogItemSummary
	Config []ConfigSummary `json:"config,omitempty"`
}

// CatalogEnricherSummary mirrors rest.domain.CatalogEnricherSummary.
type CatalogEnricherSummary = CatalogPolicySummary
