package entities

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// What happens in the model besides sensor values (those travel on the sensors.Bus):
// entities made and forgotten, tasks starting, writing output and ending, adjuncts
// recording what they did. The REST event stream (server) watches them.

// ChangeKind says what a Change is about.
type ChangeKind string

const (
	// EntityAdded: Entity was created (by a deploy, or as a child while a task runs).
	EntityAdded ChangeKind = "entity.added"
	// EntityRemoved: Entity was forgotten (its application unmanaged, or the entity
	// removed from its parent). It no longer resolves by id.
	EntityRemoved ChangeKind = "entity.removed"
	// TaskStarted: Task began running.
	TaskStarted ChangeKind = "task.started"
	// TaskOutput: Task wrote Text on Stream ("stdout" or "stderr").
	TaskOutput ChangeKind = "task.output"
	// TaskEnded: Task ended (succeeded, failed or was cancelled).
	TaskEnded ChangeKind = "task.ended"
	// AdjunctHighlight: Adjunct recorded the highlight Highlight (lastAction when a
	// policy invoked an effector, with the task in Task).
	AdjunctHighlight ChangeKind = "adjunct.highlight"
)

// Change is one thing that happened. Only the fields of its Kind are set.
type Change struct {
	Kind      ChangeKind
	Time      time.Time
	Entity    *Entity  // EntityAdded, EntityRemoved, AdjunctHighlight (the adjunct's entity)
	Task      *Task    // TaskStarted, TaskOutput, TaskEnded; AdjunctHighlight when it started one
	Stream    string   // TaskOutput
	Text      string   // TaskOutput: what was written; AdjunctHighlight: the description
	Adjunct   *Adjunct // AdjunctHighlight
	Highlight string   // AdjunctHighlight: its name
}

// watchers are the functions Watch registered, copied on write so that emitting takes
// no lock.
type watchers struct {
	mu   sync.Mutex // serialises Watch and cancel
	next int
	fns  atomic.Pointer[[]watcher]
}

type watcher struct {
	id int
	fn func(Change)
}

// Watch calls fn for every Change from now on, synchronously, on the goroutine that made
// the change, with no lock of the Management held: fn must be quick and must never
// block (copy what it needs and hand it over). The returned function stops the calls.
func (m *Management) Watch(fn func(Change)) (cancel func()) {
	w := &m.watch
	w.mu.Lock()
	id := w.next
	w.next++
	var list []watcher
	if old := w.fns.Load(); old != nil {
		list = slices.Clone(*old)
	}
	list = append(list, watcher{id, fn})
	w.fns.Store(&list)
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		old := w.fns.Load()
		if old == nil {
			return
		}
		list := slices.DeleteFunc(slices.Clone(*old), func(x watcher) bool { return x.id == id })
		w.fns.Store(&list)
	}
}

// watched says whether anything watches, so that changes nobody reads cost nothing.
func (m *Management) watched() bool {
	fns := m.watch.fns.Load()
	return fns != nil && len(*fns) > 0
}

// emit calls the watchers with c.
func (m *Management) emit(c Change) {
	fns := m.watch.fns.Load()
	if fns == nil || len(*fns) == 0 {
		return
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	for _, w := range *fns {
		w.fn(c)
	}
}

// wireStreams makes the task's output streams tell the watchers what is written.
func (t *Task) wireStreams() {
	t.stdout.task, t.stdout.name = t, "stdout"
	t.stderr.task, t.stderr.name = t, "stderr"
}

// wrote tells the watchers that the task wrote p on a stream.
func (t *Task) wrote(stream string, p []byte) {
	if len(p) == 0 || !t.mgmt.watched() {
		return
	}
	t.mgmt.emit(Change{Kind: TaskOutput, Task: t, Stream: stream, Text: string(p)})
}
