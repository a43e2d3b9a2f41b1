package api

// Live events: GET /v1/events is a stream of Server-Sent Events (text/event-stream),
// Gantry's own (Brooklyn has no such route). Each event is
//
//	id: 1733912345678901
//	event: sensor.changed
//	data: {"id":"1733912345678901","type":"sensor.changed",...}
//
// with the Event below as its data, on one line. Ids increase, also across restarts
// of the server; lines beginning with ':' are comments (a heartbeat every 15 seconds),
// and an event with only an id moves the client's Last-Event-ID past events its
// filter left out.
//
// Query parameters, each repeatable or comma-separated; an event passes when it
// matches one value of every parameter given:
//
//	app=ID|NAME        events of these applications (names without regard to case)
//	entity=ID|NAME     events of these entities
//	type=T             events of these types; "task" is every "task.*"
//
// Resuming: a client that reconnects with the header Last-Event-ID (EventSource does
// it by itself; ?lastEventId= works too) gets the events it missed, when the server
// still has them (it keeps the last few thousand). When it does not, or when the
// client reads too slowly to keep up, the stream says "reset": the client should
// reload what it shows and go on reading.

// The types of Event.
const (
	EventEntityAdded   = "entity.added"      // an entity was created
	EventEntityRemoved = "entity.removed"    // an entity was forgotten (unmanaged, removed from its parent)
	EventSensor        = "sensor.changed"    // a sensor has a new value (Value; absent when cleared)
	EventTaskStarted   = "task.started"      // a task began (Task)
	EventTaskProgress  = "task.progress"     // a task wrote output (Stream, Text)
	EventTaskEnded     = "task.ended"        // a task ended (Task: its status and result)
	EventHighlight     = "adjunct.highlight" // a policy or enricher recorded what it saw or did (Adjunct)
	EventReset         = "reset"             // events were lost: reload, then go on reading
)

// SecretMask replaces the values of secret config keys and sensors (passwords,
// tokens, credentials ...) everywhere the API shows them, as Brooklyn's Sanitizer
// does.
const SecretMask = "xxxxxxxx"

// Event is the data of one server-sent event. Only the fields of its Type are set.
type Event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	TimeUTC int64  `json:"timeUtc"` // epoch milliseconds

	ApplicationID     string `json:"applicationId,omitempty"`
	ApplicationName   string `json:"applicationName,omitempty"`
	EntityID          string `json:"entityId,omitempty"`
	EntityDisplayName string `json:"entityDisplayName,omitempty"`
	// EntityType and ParentID are set for entity.added and entity.removed.
	EntityType string `json:"entityType,omitempty"`
	ParentID   string `json:"parentId,omitempty"`

	// Sensor and Value, for sensor.changed. A secret sensor's value is SecretMask.
	Sensor string `json:"sensor,omitempty"`
	Value  any    `json:"value,omitempty"`

	// TaskID is set for every task event, and for a highlight that names a task. Task
	// is the task's summary at that moment (task.started, task.ended).
	TaskID string       `json:"taskId,omitempty"`
	Task   *TaskSummary `json:"task,omitempty"`
	// Stream and Text, for task.progress: output written on stdout or stderr (a few
	// writes gathered together). Text is also the reason of a reset.
	Stream string `json:"stream,omitempty"`
	Text   string `json:"text,omitempty"`

	// Adjunct is set for adjunct.highlight.
	Adjunct *EventAdjunct `json:"adjunct,omitempty"`
}

// EventAdjunct says which policy or enricher recorded a highlight, and what: a
// policy that invoked an effector records "lastAction", with the task it started
// (that task carries the tag "adjunct:<id>").
type EventAdjunct struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	AdjunctType AdjunctType `json:"adjunctType"`
	Highlight   string      `json:"highlight"`
	Description string      `json:"description"`
}
