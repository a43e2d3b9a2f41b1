package api

import "fmt"

// ApiError mirrors rest.domain.ApiError, the body of every error response:
// {"message": "Application 'x' not found", "details": "...", "error": 404}.
// Message is required and must be a string (br type-asserts it). Details (a stack
// trace or "Reference: ..." in Brooklyn) is left out when empty; Error repeats the
// HTTP status code.
type ApiError struct {
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
	Data    any    `json:"data,omitempty"`
	Error   int    `json:"error,omitempty"`
}

// String gives the message, with the status code when known.
func (e ApiError) String() string {
	if e.Error != 0 {
		return fmt.Sprintf("%d: %s", e.Error, e.Message)
	}
	return e.Message
}

// VersionSummary mirrors rest.domain.VersionSummary, the body of
// GET /v1/server/version. `br login` and `br version` print Version; login is the
// only request `br login` makes, so it is also the credentials check (401 means
// "Unauthorized"). Features is always present.
type VersionSummary struct {
	Version     string                   `json:"version"`
	BuildSha1   string                   `json:"buildSha1,omitempty"`
	BuildBranch string                   `json:"buildBranch,omitempty"`
	Features    []BrooklynFeatureSummary `json:"features"`
}

// BrooklynFeatureSummary mirrors rest.domain.BrooklynFeatureSummary, one installed
// feature (an OSGi bundle in Brooklyn). Brooklyn flattens any additional data into
// extra top-level string fields; Gantry has none.
type BrooklynFeatureSummary struct {
	Name         string `json:"name"`
	SymbolicName string `json:"symbolicName"`
	Version      string `json:"version"`
	LastModified string `json:"lastModified,omitempty"`
}

// LocationSummary mirrors rest.domain.LocationSummary, returned by
// GET /v1/locations (defined locations) and GET /v1/locations/{id} (a defined
// location or a location instance, such as the ids in ApplicationSpec.Locations).
// For an instance Brooklyn gives Name as the instance's display name, Spec as the
// spec it was made from ("localhost", "byon", "docker", a named location) and Type
// as its type name. Links: "self" (/v1/locations/{id}).
type LocationSummary struct {
	ID      string              `json:"id"`
	Name    string              `json:"name,omitempty"`
	Spec    string              `json:"spec,omitempty"`
	Type    string              `json:"type,omitempty"`
	Config  map[string]any      `json:"config,omitempty"`
	Catalog *CatalogItemSummary `json:"catalog,omitempty"`
	Links   map[string]string   `json:"links"`
}

// ManagementNodeState is a server's high-availability state, the JSON string
// answered by GET /v1/server/ha/state (Brooklyn's mgmt.ha.ManagementNodeState).
// br does not call it; Brooklyn's UI and HA tooling do.
type ManagementNodeState string

const (
	NodeInitializing ManagementNodeState = "INITIALIZING"
	NodeStandby      ManagementNodeState = "STANDBY"
	NodeHotStandby   ManagementNodeState = "HOT_STANDBY"
	NodeHotBackup    ManagementNodeState = "HOT_BACKUP"
	NodeMaster       ManagementNodeState = "MASTER"
	NodeFailed       ManagementNodeState = "FAILED"
	NodeTerminated   ManagementNodeState = "TERMINATED"
)

// HighAvailabilitySummary mirrors rest.domain.HighAvailabilitySummary, the body of
// GET /v1/server/ha/states: the nodes of the management plane, keyed by node id.
type HighAvailabilitySummary struct {
	PlaneID  string                   `json:"planeId"`
	OwnID    string                   `json:"ownId"`
	MasterID string                   `json:"masterId,omitempty"`
	Nodes    map[string]HANodeSummary `json:"nodes"`
	Links    map[string]string        `json:"links"`
}

// HANodeSummary mirrors HighAvailabilitySummary.HaNodeSummary. Status is a
// ManagementNodeState name; the timestamps are epoch milliseconds of the node's
// last heartbeat as written by it (local) and as seen by the store (remote).
type HANodeSummary struct {
	NodeID          string `json:"nodeId"`
	NodeURI         string `json:"nodeUri,omitempty"`
	Status          string `json:"status"`
	LocalTimestamp  int64  `json:"localTimestamp,omitempty"`
	RemoteTimestamp int64  `json:"remoteTimestamp,omitempty"`
	Priority        int64  `json:"priority,omitempty"`
}

// AccessSummary mirrors rest.domain.AccessSummary, the body of GET /v1/access
// (`br access`).
type AccessSummary struct {
	LocationProvisioningAllowed bool              `json:"locationProvisioningAllowed"`
	Links                       map[string]string `json:"links"`
}
