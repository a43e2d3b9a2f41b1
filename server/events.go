package server

// Live events: GET /v1/events, a stream of Server-Sent Events (api/event.go says what
// a client sees). The hub turns what happens in the model into events: sensor values
// from the sensors.Bus, and entities added and removed, tasks started, writing output
// and ended, adjunct highlights from Management.Watch. It keeps the last events in a
// ring, with ids that increase by one, so that a client that comes back with
// Last-Event-ID gets what it missed. Each client reads the ring at its own pace from
// its own handler: nothing on the publishing side ever waits for a client, and a
// client that falls further behind than the ring holds gets a "reset".

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

const (
	// eventRingSize is how many events the hub keeps for clients that come back, and
	// eventRingBytes how much of them at most (task output makes large events).
	eventRingSize  = 8192
	eventRingBytes = 32 << 20
	// eventHeartbeat is how often an idle stream says it is alive (a comment line),
	// well within the idle timeouts of proxies.
	eventHeartbeat = 15 * time.Second
	// eventWriteTimeout is how long a write to a client may take: one that reads
	// nothing for that long is cut off (it comes back with Last-Event-ID).
	eventWriteTimeout = 30 * time.Second
	// eventBatch bounds the events written to a client between two flushes.
	eventBatch = 512
	// outputDelay gathers a task's output written close together into one event;
	// outputMax sends it at once when it grows that large.
	outputDelay = 100 * time.Millisecond
	outputMax   = 16 << 10
	// removedNames is how many forgotten entities' names the hub remembers, for the
	// sensor events that trail their removal.
	removedNames = 1024
)

// hubEvent is one event of the ring: what filters look at, and the encoded api.Event.
type hubEvent struct {
	id                 uint64
	typ                string
	app, appName       string
	entity, entityName string
	data               []byte
}

// names of an entity, kept after it is forgotten.
type names struct{ entity, app, appID string }

type outputKey struct{ task, stream string }

// eventHub keeps the recent events and wakes the streams when one arrives.
type eventHub struct {
	mgmt      *entities.Management
	size      int
	heartbeat time.Duration

	mu      sync.Mutex
	ring    []hubEvent // circular: ring[head] is the oldest of n
	head, n int
	bytes   int    // of the events' data, at most eventRingBytes
	first   uint64 // id of the oldest event kept
	last    uint64 // id of the newest event (first-1 when there is none)
	wake    chan struct{}
	removed map[string]names
	order   []string // ids of removed, oldest first
	output  map[outputKey]*strings.Builder
	armed   bool // a flush of output is scheduled

	done      chan struct{} // closed when streams must end
	closeOnce sync.Once
	cancels   []func()
}

// newEventHub starts recording the model's events. Ids start from the time in
// microseconds, so that they also increase across restarts: an id from before a
// restart is older than anything kept, and its client is told to reset.
func newEventHub(m *entities.Management, size int) *eventHub {
	base := uint64(time.Now().UnixMicro())
	h := &eventHub{
		mgmt: m, size: size, heartbeat: eventHeartbeat, ring: make([]hubEvent, size),
		first: base + 1, last: base, wake: make(chan struct{}),
		removed: map[string]names{}, output: map[outputKey]*strings.Builder{},
		done: make(chan struct{}),
	}
	h.cancels = append(h.cancels, m.Bus().Subscribe(nil, h.onSensor), m.Watch(h.onChange))
	return h
}

// close stops recording and ends the streams.
func (h *eventHub) close() {
	h.closeOnce.Do(func() {
		for _, c := range h.cancels {
			c()
		}
	})
	h.endStreams()
}

// endStreams ends the streams (the HTTP server shuts down); recording goes on.
func (h *eventHub) endStreams() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
	default:
		close(h.done)
	}
}

// add appends an event, giving it the next id.
func (h *eventHub) add(ev api.Event, filterable hubEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addLocked(ev, filterable)
}

func (h *eventHub) addLocked(ev api.Event, e hubEvent) {
	e.id = h.last + 1
	ev.ID = strconv.FormatUint(e.id, 10)
	e.typ = ev.Type
	data, err := json.Marshal(ev)
	if err != nil { // a value JSON cannot encode: say what it was as text
		ev.Value = fmt.Sprint(ev.Value)
		if data, err = json.Marshal(ev); err != nil {
			return
		}
	}
	e.data = data
	if h.n == h.size {
		h.dropOldestLocked()
	}
	h.ring[(h.head+h.n)%h.size] = e
	h.n++
	h.bytes += len(e.data)
	for h.bytes > eventRingBytes && h.n > 1 {
		h.dropOldestLocked()
	}
	h.last = e.id
	close(h.wake)
	h.wake = make(chan struct{})
}

// dropOldestLocked forgets the oldest event.
func (h *eventHub) dropOldestLocked() {
	h.bytes -= len(h.ring[h.head].data)
	h.ring[h.head] = hubEvent{}
	h.head = (h.head + 1) % h.size
	h.n--
	h.first++
}

// read returns the events after cursor (at most eventBatch), or reset when some of
// them are no longer kept (or cursor is not an id of this server); last is the id of
// the newest event, and wake is closed when another arrives.
func (h *eventHub) read(cursor uint64) (evs []hubEvent, reset bool, last uint64, wake <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cursor+1 < h.first || cursor > h.last {
		return nil, true, h.last, h.wake
	}
	n := int(h.last - cursor)
	if n > eventBatch {
		n = eventBatch
	}
	if n > 0 {
		evs = make([]hubEvent, n)
		off := int(cursor + 1 - h.first)
		for i := range n {
			evs[i] = h.ring[(h.head+off+i)%h.size]
		}
	}
	return evs, false, h.last, h.wake
}

// newest is the id of the newest event.
func (h *eventHub) newest() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// namesOf finds the names of an entity and of its application, also shortly after
// the entity was forgotten.
func (h *eventHub) namesOf(id string) (entity *entities.Entity, n names) {
	if e, err := h.mgmt.Entity(id); err == nil {
		return e, names{entity: e.Name(), app: e.Application().Name(), appID: e.Application().ID()}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return nil, h.removed[id]
}

// forgotten remembers the names of a removed entity, for a while.
func (h *eventHub) forgottenLocked(id string, n names) {
	if _, ok := h.removed[id]; !ok {
		h.order = append(h.order, id)
	}
	h.removed[id] = n
	for len(h.order) > removedNames {
		delete(h.removed, h.order[0])
		h.order = h.order[1:]
	}
}

// onSensor records a sensor value from the bus; secret values are masked.
func (h *eventHub) onSensor(ev sensors.Event) {
	e, n := h.namesOf(ev.Entity)
	secret := IsSecretKey(ev.Sensor)
	if e != nil {
		secret = entitySecret(e, ev.Sensor)
	}
	h.add(api.Event{
		Type: api.EventSensor, TimeUTC: ev.Time.UnixMilli(),
		ApplicationID: ev.App, ApplicationName: n.app, EntityID: ev.Entity, EntityDisplayName: n.entity,
		Sensor: ev.Sensor, Value: maskValue(ev.Value, secret),
	}, hubEvent{app: ev.App, appName: n.app, entity: ev.Entity, entityName: n.entity})
}

// onChange records a change of the model. It runs on the goroutine that made it and
// must not block: it encodes the event and appends it.
func (h *eventHub) onChange(c entities.Change) {
	switch c.Kind {
	case entities.EntityAdded, entities.EntityRemoved:
		e := c.Entity
		app := e.Application()
		ev := api.Event{
			Type: api.EventEntityAdded, TimeUTC: c.Time.UnixMilli(),
			ApplicationID: app.ID(), ApplicationName: app.Name(), EntityID: e.ID(), EntityDisplayName: e.Name(),
			EntityType: e.Type().Name,
		}
		if p := e.Parent(); p != nil {
			ev.ParentID = p.ID()
		}
		f := hubEvent{app: app.ID(), appName: app.Name(), entity: e.ID(), entityName: e.Name()}
		h.mu.Lock()
		if c.Kind == entities.EntityRemoved {
			ev.Type = api.EventEntityRemoved
			h.forgottenLocked(e.ID(), names{entity: e.Name(), app: app.Name(), appID: app.ID()})
		}
		h.addLocked(ev, f)
		h.mu.Unlock()
	case entities.TaskStarted, entities.TaskEnded:
		s := c.Task.Snapshot()
		ev, f := h.taskEvent(s, c.Time)
		ts := taskSummary(h.mgmt, c.Task)
		ev.Task = &ts
		ev.Type = api.EventTaskStarted
		h.mu.Lock()
		if c.Kind == entities.TaskEnded {
			ev.Type = api.EventTaskEnded
			// what the task wrote comes before its end
			h.flushOutputLocked(s.ID)
		}
		h.addLocked(ev, f)
		h.mu.Unlock()
	case entities.TaskOutput:
		h.taskOutput(c)
	case entities.AdjunctHighlight:
		a := c.Adjunct
		e := c.Entity
		app := e.Application()
		ev := api.Event{
			Type: api.EventHighlight, TimeUTC: c.Time.UnixMilli(),
			ApplicationID: app.ID(), ApplicationName: app.Name(), EntityID: e.ID(), EntityDisplayName: e.Name(),
			Adjunct: &api.EventAdjunct{ID: a.ID(), Name: a.Name(), AdjunctType: adjunctType(a), Highlight: c.Highlight, Description: c.Text},
		}
		if c.Task != nil {
			ev.TaskID = c.Task.ID()
		}
		h.add(ev, hubEvent{app: app.ID(), appName: app.Name(), entity: e.ID(), entityName: e.Name()})
	}
}

// taskEvent is the common part of the events of a task.
func (h *eventHub) taskEvent(s entities.TaskSnapshot, at time.Time) (api.Event, hubEvent) {
	_, an := h.namesOf(s.AppID)
	entity := entityName(h.mgmt, s)
	return api.Event{
			TimeUTC: at.UnixMilli(), TaskID: s.ID,
			ApplicationID: s.AppID, ApplicationName: an.entity, EntityID: s.EntityID, EntityDisplayName: entity,
		}, hubEvent{
			app: s.AppID, appName: an.entity, entity: s.EntityID, entityName: entity,
		}
}

// taskOutput gathers output of a task into the pending text of its stream; it is sent
// after outputDelay, when it grows past outputMax, or before the task's end.
func (h *eventHub) taskOutput(c entities.Change) {
	k := outputKey{c.Task.ID(), c.Stream}
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.output[k]
	if b == nil {
		b = &strings.Builder{}
		h.output[k] = b
	}
	b.WriteString(c.Text)
	if b.Len() >= outputMax {
		h.sendOutputLocked(k)
		return
	}
	if !h.armed {
		h.armed = true
		time.AfterFunc(outputDelay, h.flushAllOutput)
	}
}

func (h *eventHub) flushAllOutput() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = false
	for k := range h.output {
		h.sendOutputLocked(k)
	}
}

// flushOutputLocked sends what a task wrote and was not sent yet.
func (h *eventHub) flushOutputLocked(task string) {
	for _, stream := range []string{"stdout", "stderr"} {
		h.sendOutputLocked(outputKey{task, stream})
	}
}

func (h *eventHub) sendOutputLocked(k outputKey) {
	b := h.output[k]
	if b == nil {
		return
	}
	delete(h.output, k)
	t, err := h.mgmt.Task(k.task)
	if err != nil {
		return
	}
	s := t.Snapshot()
	// namesOf takes the lock: look the names up without it
	ev := api.Event{Type: api.EventTaskProgress, TimeUTC: time.Now().UnixMilli(), TaskID: s.ID,
		ApplicationID: s.AppID, EntityID: s.EntityID, EntityDisplayName: s.EntityName, Stream: k.stream, Text: b.String()}
	f := hubEvent{app: s.AppID, entity: s.EntityID, entityName: s.EntityName}
	if e, err := h.mgmt.Entity(s.EntityID); err == nil {
		ev.EntityDisplayName, f.entityName = e.Name(), e.Name()
		ev.ApplicationName, f.appName = e.Application().Name(), e.Application().Name()
	} else if n, ok := h.removed[s.EntityID]; ok {
		ev.ApplicationName, f.appName = n.app, n.app
	}
	h.addLocked(ev, f)
}

// eventFilter says which events a stream wants: every field given must match.
type eventFilter struct {
	apps, entities, types []string
}

func parseEventFilter(r *http.Request) eventFilter {
	q := r.URL.Query()
	list := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	return eventFilter{apps: list("app"), entities: list("entity"), types: list("type")}
}

func (f eventFilter) match(e *hubEvent) bool {
	if len(f.apps) > 0 && !anyOf(f.apps, func(s string) bool { return s == e.app || (e.appName != "" && strings.EqualFold(s, e.appName)) }) {
		return false
	}
	if len(f.entities) > 0 && !anyOf(f.entities, func(s string) bool { return s == e.entity || (e.entityName != "" && s == e.entityName) }) {
		return false
	}
	if len(f.types) > 0 && !anyOf(f.types, func(s string) bool { return s == e.typ || strings.HasPrefix(e.typ, s+".") }) {
		return false
	}
	return true
}

func anyOf(list []string, ok func(string) bool) bool {
	for _, s := range list {
		if ok(s) {
			return true
		}
	}
	return false
}

// streamEvents is GET /v1/events: the events that pass the filter, as they happen,
// from after Last-Event-ID when the client gives one.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	h := s.events
	filter := parseEventFilter(r)
	lastID := r.Header.Get("Last-Event-ID")
	if lastID == "" {
		lastID = r.URL.Query().Get("lastEventId")
	}
	cursor := h.newest()
	reset := ""
	if lastID != "" {
		if id, err := strconv.ParseUint(strings.TrimSpace(lastID), 10, 64); err == nil {
			cursor = id // read says whether it is still kept
		} else {
			reset = fmt.Sprintf("Last-Event-ID %q is not an event id of this server", lastID)
		}
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	var buf strings.Builder
	// The client retries after 2s when cut off; the comment makes the headers go now.
	buf.WriteString("retry: 2000\n: gantry events\n\n")
	sent := cursor // the last id the client was told
	if reset != "" {
		cursor = h.newest()
		writeReset(&buf, cursor, reset)
		sent = cursor
	}
	if !s.flushEvents(rc, w, &buf) {
		return
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	for {
		evs, lost, last, wake := h.read(cursor)
		if lost {
			cursor = last
			writeReset(&buf, cursor, "events were lost: the client fell behind, or its Last-Event-ID is older than what the server keeps")
			sent = cursor
		}
		for i := range evs {
			e := &evs[i]
			cursor = e.id
			if !filter.match(e) {
				continue
			}
			fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", e.id, e.typ, e.data)
			sent = e.id
		}
		// A filtered stream moves the client's Last-Event-ID on now and then, so that
		// the events it skipped do not make it fall out of the ring when it comes back.
		if cursor-sent > uint64(h.size/4) {
			fmt.Fprintf(&buf, "id: %d\n\n", cursor)
			sent = cursor
		}
		if buf.Len() > 0 && !s.flushEvents(rc, w, &buf) {
			return
		}
		if len(evs) == eventBatch {
			continue // more to read
		}
		select {
		case <-wake:
		case <-beat.C:
			if cursor != sent {
				fmt.Fprintf(&buf, "id: %d\n", cursor)
				sent = cursor
			}
			buf.WriteString(": heartbeat\n\n")
			if !s.flushEvents(rc, w, &buf) {
				return
			}
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		}
	}
}

func writeReset(b *strings.Builder, id uint64, why string) {
	data, _ := json.Marshal(api.Event{ID: strconv.FormatUint(id, 10), Type: api.EventReset, TimeUTC: time.Now().UnixMilli(), Text: why})
	fmt.Fprintf(b, "id: %d\nevent: %s\ndata: %s\n\n", id, api.EventReset, data)
}

// flushEvents writes what buf holds to the client and flushes it, within
// eventWriteTimeout; it says whether the client is still there.
func (s *Server) flushEvents(rc *http.ResponseController, w http.ResponseWriter, buf *strings.Builder) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)) // not every writer has one
	_, err := w.Write([]byte(buf.String()))
	buf.Reset()
	if err == nil {
		err = rc.Flush()
	}
	_ = rc.SetWriteDeadline(time.Time{})
	return err == nil
}
