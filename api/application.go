package api

// Status is the coarse state of an application in ApplicationSummary, mirroring
// Brooklyn's rest.domain.Status enum.
type Status string

const (
	StatusAccepted  Status = "ACCEPTED"
	StatusStarting  Status = "STARTING"
	StatusRunning   Status = "RUNNING"
	StatusStopping  Status = "STOPPING"
	StatusStopped   Status = "STOPPED"
	StatusDestroyed Status = "DESTROYED"
	StatusError     Status = "ERROR"
	StatusUnknown   Status = "UNKNOWN"
)

// Lifecycle is the value of the service.state sensor (and of EntityDetail.ServiceState),
// mirroring Brooklyn's core.entity.lifecycle.Lifecycle. In JSON Brooklyn sends the
// enum name: "RUNNING", "ON_FIRE". (Lifecycle.toString() gives "running" and
// "on-fire", which is what Brooklyn prints in logs and in the text/plain rendering
// of a sensor, but not what it sends as JSON.)
type Lifecycle string

const (
	LifecycleCreated   Lifecycle = "CREATED"
	LifecycleStarting  Lifecycle = "STARTING"
	LifecycleRunning   Lifecycle = "RUNNING"
	LifecycleStopping  Lifecycle = "STOPPING"
	LifecycleStopped   Lifecycle = "STOPPED"
	LifecycleDestroyed Lifecycle = "DESTROYED"
	LifecycleOnFire    Lifecycle = "ON_FIRE"
)

// LifecycleTransition is the JSON value of the service.state.expected sensor,
// mirroring Lifecycle.Transition: {"state": "RUNNING", "timestampUtc": 1412003485617}.
type LifecycleTransition struct {
	State        Lifecycle `json:"state"`
	TimestampUTC int64     `json:"timestampUtc"`
}

// StatusOf gives an application's Status from its service.state and service.isUp
// sensors, the rule of Brooklyn's ApplicationTransformer.statusFromApplication:
// the state decides when it is known; otherwise an app that is up is RUNNING and
// anything else is UNKNOWN.
func StatusOf(state Lifecycle, up bool) Status {
	switch state {
	case LifecycleCreated:
		return StatusAccepted
	case LifecycleStarting:
		return StatusStarting
	case LifecycleRunning:
		return StatusRunning
	case LifecycleStopping:
		return StatusStopping
	case LifecycleStopped:
		return StatusStopped
	case LifecycleDestroyed:
		return StatusDestroyed
	case LifecycleOnFire:
		return StatusError
	case "":
		if up {
			return StatusRunning
		}
	}
	return StatusUnknown
}

// ApplicationSpec mirrors rest.domain.ApplicationSpec. For a running application
// Brooklyn fills Name (display name), Type (the entity type) and Locations (the ids
// of the application's locations, which clients resolve with GET /v1/locations/{id};
// `br application APP` does so for the first one and fails if it cannot). Entities
// and Config belong to the legacy JSON deploy format and are absent in summaries.
type ApplicationSpec struct {
	Name      string            `json:"name"`
	Type      string            `json:"type,omitempty"`
	Entities  []EntitySpec      `json:"entities,omitempty"`
	Locations []string          `json:"locations"`
	Config    map[string]string `json:"config,omitempty"`
}

// EntitySpec mirrors rest.domain.EntitySpec, an entity of the legacy JSON deploy format.
type EntitySpec struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Config map[string]string `json:"config"`
}

// ApplicationSummary mirrors rest.domain.ApplicationSummary, an element of
// GET /v1/applications and the body of GET /v1/applications/{app}. Brooklyn's links
// are "self" (/v1/applications/{id}) and "entities" (/v1/applications/{id}/entities).
type ApplicationSummary struct {
	ID     string            `json:"id"`
	Spec   ApplicationSpec   `json:"spec"`
	Status Status            `json:"status"`
	Links  map[string]string `json:"links"`
}
