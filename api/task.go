package api

// Short task states Brooklyn sends in TaskSummary.CurrentStatus (BasicTask's brief
// status string). A running task that waits says what it waits on instead of
// "In progress", so treat unknown strings as "not done"; Done tells for sure.
const (
	TaskNotSubmitted = "Not submitted"
	TaskSubmitted    = "Submitted for execution"
	TaskInProgress   = "In progress"
	TaskCompleted    = "Completed"
	TaskFailed       = "Failed"
	TaskCancelled    = "Cancelled"
)

// TaskSummary mirrors rest.domain.TaskSummary: an activity, as returned by
// GET /v1/activities/{task}, the entity activity lists, effector invocations that
// answer 202, DELETE /v1/applications/{app} (202) and deploy (201; EntityID is then
// the new application's id and EntityDisplayName its name).
//
// Brooklyn leaves out every null field: the times until they happen, Result until
// the task is done (and in activity lists, which carry no detail), EntityID for a
// task without an entity, SubmittedByTask for a top-level task, BlockingTask and
// BlockingDetails once done. Tags, Children, Streams and Links are always sent.
//
// DetailedStatus is the multi-line status ("Completed after 1.05s\n\nResult: 0", or
// the error message for a failed task). Result is the task's return value as JSON
// (an error message string when it failed). Links: "self" (/v1/activities/{id}),
// "children" (/v1/activities/{id}/children) and "entity"
// (/v1/applications/{app}/entities/{entity}) when there is one.
type TaskSummary struct {
	ID                string                `json:"id"`
	DisplayName       string                `json:"displayName"`
	Description       string                `json:"description"`
	EntityID          string                `json:"entityId,omitempty"`
	EntityDisplayName string                `json:"entityDisplayName,omitempty"`
	Tags              []any                 `json:"tags"`
	SubmitTimeUTC     int64                 `json:"submitTimeUtc,omitempty"`
	StartTimeUTC      int64                 `json:"startTimeUtc,omitempty"`
	EndTimeUTC        int64                 `json:"endTimeUtc,omitempty"`
	CurrentStatus     string                `json:"currentStatus"`
	Result            any                   `json:"result,omitempty"`
	IsError           bool                  `json:"isError"`
	IsCancelled       bool                  `json:"isCancelled"`
	Children          []TaskLink            `json:"children"`
	SubmittedByTask   *TaskLink             `json:"submittedByTask,omitempty"`
	BlockingTask      *TaskLink             `json:"blockingTask,omitempty"`
	BlockingDetails   string                `json:"blockingDetails,omitempty"`
	DetailedStatus    string                `json:"detailedStatus,omitempty"`
	Streams           map[string]StreamLink `json:"streams"`
	Links             map[string]string     `json:"links"`
}

// Done reports whether the task has ended, successfully or not.
func (t *TaskSummary) Done() bool {
	if t.EndTimeUTC > 0 || t.IsCancelled || t.IsError {
		return true
	}
	switch t.CurrentStatus {
	case TaskCompleted, TaskFailed, TaskCancelled:
		return true
	}
	return false
}

// TaskLink is Brooklyn's LinkWithMetadata as used to point at a task (a child, the
// submitter, the blocker): {"link": "/v1/activities/{id}", "metadata": {...}}.
type TaskLink struct {
	Link     string       `json:"link"`
	Metadata TaskLinkMeta `json:"metadata"`
}

// TaskLinkMeta is the metadata of a TaskLink; `br activity ID` prints the
// submitter's ID.
type TaskLinkMeta struct {
	ID                string `json:"id"`
	TaskName          string `json:"taskName,omitempty"`
	EntityID          string `json:"entityId,omitempty"`
	EntityDisplayName string `json:"entityDisplayName,omitempty"`
}

// StreamLink is Brooklyn's LinkWithMetadata as used for a task's captured stream,
// keyed in TaskSummary.Streams by stream name ("stdin", "stdout", "stderr", "env"):
// {"link": "/v1/activities/{id}/stream/stdout", "metadata": {"name": "stdout",
// "size": 162, "sizeText": "162B"}}. `br activity ID` prints the sizes and the
// list commands print the stream names.
type StreamLink struct {
	Link     string         `json:"link"`
	Metadata StreamLinkMeta `json:"metadata"`
}

// StreamLinkMeta is the metadata of a StreamLink. SizeText is the size in metric
// units as Brooklyn writes it: "0B", "162B", "1.13kB", "23.5MB".
type StreamLinkMeta struct {
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	SizeText string `json:"sizeText,omitempty"`
}
