package entities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// TaskState is where a task is in its life.
type TaskState string

const (
	TaskQueued    TaskState = "queued"
	TaskRunning   TaskState = "running"
	TaskSucceeded TaskState = "succeeded"
	TaskFailed    TaskState = "failed"
	TaskCancelled TaskState = "cancelled"
)

// maxStream is how much of each output stream a task keeps (the tail beyond it is cut).
const maxStream = 256 << 10

// Task records one unit of work: an effector call, or a step inside one. The tree of
// tasks of a deploy is what people read when it fails, so every step that does I/O runs
// as a named subtask with its output captured.
type Task struct {
	mgmt        *Management
	id          string
	name        string
	description string
	entityID    string
	entityName  string
	appID       string
	parent      *Task
	tags        []string

	mu        sync.Mutex
	state     TaskState
	submitted time.Time
	started   time.Time
	ended     time.Time
	children  []*Task
	stdout    stream
	stderr    stream
	env       map[string]string
	result    any
	errMsg    string
	done      chan struct{}
}

// TaskSnapshot is a consistent copy of a task's fields, for the REST API.
type TaskSnapshot struct {
	ID, Name, Description       string
	EntityID, EntityName, AppID string
	ParentID                    string
	Tags                        []string
	State                       TaskState
	Submitted, Started, Ended   time.Time
	ChildIDs                    []string
	StdoutSize, StderrSize      int
	HasEnv                      bool
	Result                      any
	Error                       string
}

func (t *Task) ID() string { return t.id }

// Snapshot copies the task's fields.
func (t *Task) Snapshot() TaskSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := TaskSnapshot{
		ID: t.id, Name: t.name, Description: t.description,
		EntityID: t.entityID, EntityName: t.entityName, AppID: t.appID,
		Tags: t.tags, State: t.state,
		Submitted: t.submitted, Started: t.started, Ended: t.ended,
		StdoutSize: t.stdout.len(), StderrSize: t.stderr.len(), HasEnv: len(t.env) > 0,
		Result: t.result, Error: t.errMsg,
	}
	if t.parent != nil {
		s.ParentID = t.parent.id
	}
	for _, c := range t.children {
		s.ChildIDs = append(s.ChildIDs, c.id)
	}
	return s
}

// Children returns the task's subtasks in the order they were started.
func (t *Task) Children() []*Task {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*Task(nil), t.children...)
}

// Done is closed when the task has ended.
func (t *Task) Done() <-chan struct{} { return t.done }

// Wait blocks until the task ends or ctx is done, and returns the task's result.
func (t *Task) Wait(ctx context.Context) (any, error) {
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return t.Outcome()
}

// Outcome returns the result and the error of an ended task.
func (t *Task) Outcome() (any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.errMsg != "" {
		return nil, errors.New(t.errMsg)
	}
	return t.result, nil
}

// Stdout is where the work of the task writes what it prints.
func (t *Task) Stdout() io.Writer { return &t.stdout }

// Stderr is where the work of the task writes its errors.
func (t *Task) Stderr() io.Writer { return &t.stderr }

// Stream returns the captured text of "stdout", "stderr" or "env".
func (t *Task) Stream(name string) (string, bool) {
	switch name {
	case "stdout":
		return t.stdout.String(), true
	case "stderr":
		return t.stderr.String(), true
	case "env":
		t.mu.Lock()
		defer t.mu.Unlock()
		var b bytes.Buffer
		for _, k := range slices.Sorted(maps.Keys(t.env)) {
			fmt.Fprintf(&b, "%s=%s\n", k, t.env[k])
		}
		return b.String(), true
	case "stdin":
		return "", true
	}
	return "", false
}

// SetEnv records the environment the task's command ran with.
func (t *Task) SetEnv(env map[string]string) {
	t.mu.Lock()
	t.env = maps.Clone(env)
	t.mu.Unlock()
	t.mgmt.taskChanged(t)
}

// Printf writes a line of progress to the task's stdout.
func (t *Task) Printf(format string, args ...any) {
	fmt.Fprintf(&t.stdout, format+"\n", args...)
}

func (t *Task) start() {
	t.mu.Lock()
	t.state = TaskRunning
	t.started = time.Now()
	t.mu.Unlock()
	t.mgmt.taskChanged(t)
	t.mgmt.emit(Change{Kind: TaskStarted, Task: t})
}

func (t *Task) finish(result any, err error) {
	t.mu.Lock()
	t.ended = time.Now()
	switch {
	case errors.Is(err, context.Canceled):
		t.state = TaskCancelled
		t.errMsg = err.Error()
	case err != nil:
		t.state = TaskFailed
		t.errMsg = err.Error()
	default:
		t.state = TaskSucceeded
		t.result = result
	}
	t.mu.Unlock()
	close(t.done)
	t.mgmt.taskChanged(t)
	t.mgmt.emit(Change{Kind: TaskEnded, Task: t})
}

// stream is a concurrency-safe, size-capped output buffer.
type stream struct {
	mu  sync.Mutex
	buf bytes.Buffer
	cut bool

	task *Task  // told of what is kept (events.go), when set
	name string // stdout or stderr
}

func (s *stream) Write(p []byte) (int, error) {
	s.mu.Lock()
	room := maxStream - s.buf.Len()
	kept := p
	switch {
	case room <= 0:
		s.cut = true
		kept = nil
	case len(p) > room:
		kept = p[:room]
		s.cut = true
	}
	s.buf.Write(kept)
	s.mu.Unlock()
	if s.task != nil {
		s.task.wrote(s.name, kept)
	}
	return len(p), nil
}

func (s *stream) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return s.buf.String() + "\n[output cut at 256 KiB]\n"
	}
	return s.buf.String()
}

func (s *stream) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

type taskKey struct{}

// TaskFrom returns the task running in ctx, or nil.
func TaskFrom(ctx context.Context) *Task {
	t, _ := ctx.Value(taskKey{}).(*Task)
	return t
}

// Step runs fn as a named subtask of the task in ctx and waits for it. Outside a task it
// just runs fn. Use it around every piece of work worth a line in the task tree.
func Step(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	parent := TaskFrom(ctx)
	if parent == nil {
		return fn(ctx)
	}
	return step(ctx, parent, name, parent.entityID, parent.entityName, fn)
}

// StepOn is Step for work on another entity (a child): the subtask is listed in that
// entity's activities too.
func StepOn(ctx context.Context, e *Entity, name string, fn func(ctx context.Context) error) error {
	parent := TaskFrom(ctx)
	if parent == nil {
		return fn(ctx)
	}
	return step(ctx, parent, name, e.id, e.Name(), fn)
}

func step(ctx context.Context, parent *Task, name, entityID, entityName string, fn func(ctx context.Context) error) error {
	t := parent.mgmt.newTask(parent, name, "", entityID, entityName, parent.appID)
	t.start()
	err := fn(context.WithValue(ctx, taskKey{}, t))
	t.finish(nil, err)
	return err
}

// Logf writes a line of progress to the task in ctx, if any.
func Logf(ctx context.Context, format string, args ...any) {
	if t := TaskFrom(ctx); t != nil {
		t.Printf(format, args...)
	}
}
