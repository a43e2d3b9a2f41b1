package server_test

// Live events: GET /v1/events read as a browser's EventSource reads it.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

// sse is one open event stream.
type sse struct {
	t      *testing.T
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

type sseEvent struct {
	id, typ string
	ev      api.Event
}

// openEvents opens a stream and returns once the server answered (so that what
// happens from then on is in it).
func openEvents(t *testing.T, base, query string, header map[string]string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events"+query, nil)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("GET /v1/events%s: %s %s", query, resp.Status, resp.Header.Get("Content-Type"))
	}
	s := &sse{t: t, events: make(chan sseEvent, 10000), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var cur sseEvent
		var data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if data != "" {
					if err := json.Unmarshal([]byte(data), &cur.ev); err != nil {
						t.Errorf("event data %q: %v", data, err)
					}
					s.events <- cur
				}
				cur, data = sseEvent{}, ""
			case strings.HasPrefix(line, "id: "):
				cur.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				cur.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *sse) close() {
	s.cancel()
	<-s.done
}

// next waits for the next event that ok accepts, skipping the others.
func (s *sse) next(what string, ok func(api.Event) bool) api.Event {
	s.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-s.events:
			if e.typ != e.ev.Type || e.id != e.ev.ID {
				s.t.Errorf("event %s %s carries %s %s", e.id, e.typ, e.ev.ID, e.ev.Type)
			}
			if ok(e.ev) {
				return e.ev
			}
		case <-timeout:
			s.t.Fatalf("no event: %s", what)
		}
	}
}

// drain returns the events that arrive within d.
func (s *sse) drain(d time.Duration) []api.Event {
	var out []api.Event
	timeout := time.After(d)
	for {
		select {
		case e := <-s.events:
			out = append(out, e.ev)
		case <-timeout:
			return out
		}
	}
}

func eventsBlueprint(name, runDir string) string {
	return `name: ` + name + `
location: localhost
services:
- type: basic-entity
  name: group
  brooklyn.children:
  - type: basic-entity
    name: leaf
- type: vanilla-software-process
  name: proc
  run.dir: ` + runDir + `
  launch.command: echo launched; echo warned >&2
`
}

func TestEventsOfADeploy(t *testing.T) {
	br := newCompatServer(t)
	all := openEvents(t, br.base, "", nil)
	tasksOfApp := openEvents(t, br.base, "?app=EVTS&type=task", nil)
	procSensors := openEvents(t, br.base, "?entity=proc&type=sensor.changed", nil)
	other := openEvents(t, br.base, "?app=nosuchapp,another", nil)

	task := deployAndWait(t, br, eventsBlueprint("evts", t.TempDir()))
	app := task.EntityID

	// Entities, parents first.
	added := map[string]api.Event{}
	for len(added) < 4 {
		e := all.next("entity.added", func(e api.Event) bool { return e.Type == api.EventEntityAdded })
		if e.ApplicationID != app || e.ApplicationName != "evts" {
			t.Errorf("entity.added of another application: %+v", e)
		}
		added[e.EntityDisplayName] = e
	}
	if added["evts"].EntityID != app || added["evts"].ParentID != "" || added["group"].ParentID != app ||
		added["leaf"].ParentID != added["group"].EntityID || added["proc"].EntityType == "" {
		t.Errorf("entity.added: %+v", added)
	}
	// The start task: started, its output, ended; the application running.
	started := all.next("the start task started", func(e api.Event) bool { return e.Type == api.EventTaskStarted && e.TaskID == task.ID })
	if started.Task == nil || started.Task.DisplayName != "Invoking effector start" || started.EntityID != app || !slices.Contains(started.Task.Tags, any("EFFECTOR")) {
		t.Errorf("task.started: %+v", started)
	}
	var out api.Event
	var seenOut, seenRunning bool
	ended := all.next("the start task ended", func(e api.Event) bool {
		switch {
		case e.Type == api.EventTaskProgress && strings.Contains(e.Text, "launched"):
			out, seenOut = e, true
		case e.Type == api.EventSensor && e.EntityID == app && e.Sensor == "service.state" && e.Value == "RUNNING":
			seenRunning = true
		}
		return e.Type == api.EventTaskEnded && e.TaskID == task.ID
	})
	if !seenOut || out.Stream != "stdout" || out.EntityDisplayName != "proc" || out.ApplicationID != app {
		t.Errorf("no task.progress with the launch output before the end: %+v", out)
	}
	if ended.Task == nil || ended.Task.CurrentStatus != api.TaskCompleted || ended.Task.EndTimeUTC == 0 {
		t.Errorf("task.ended: %+v", ended.Task)
	}
	if !seenRunning {
		all.next("service.state RUNNING", func(e api.Event) bool {
			return e.Type == api.EventSensor && e.EntityID == app && e.Sensor == "service.state" && e.Value == "RUNNING"
		})
	}

	// Filtered streams: the app by name (any case) and task events only; an entity by
	// name and sensors only; other apps: nothing.
	tasksOfApp.next("start task ended, by app name", func(e api.Event) bool { return e.Type == api.EventTaskEnded && e.TaskID == task.ID })
	for _, e := range tasksOfApp.drain(300 * time.Millisecond) {
		if !strings.HasPrefix(e.Type, "task.") || e.ApplicationID != app {
			t.Errorf("?app=EVTS&type=task gave %+v", e)
		}
	}
	procSensors.next("a sensor of proc", func(e api.Event) bool { return e.Sensor == "service.isUp" && e.Value == true })
	for _, e := range procSensors.drain(300 * time.Millisecond) {
		if e.Type != api.EventSensor || e.EntityDisplayName != "proc" {
			t.Errorf("?entity=proc&type=sensor.changed gave %+v", e)
		}
	}
	if evs := other.drain(300 * time.Millisecond); len(evs) > 0 {
		t.Errorf("?app=nosuchapp gave %+v", evs[0])
	}

	// Unmanaging: every entity removed, children before parents.
	wantCode(t, "delete", br.delete("/v1/applications/"+app), http.StatusAccepted)
	var removed []string
	for len(removed) < 4 {
		e := all.next("entity.removed", func(e api.Event) bool { return e.Type == api.EventEntityRemoved })
		removed = append(removed, e.EntityDisplayName)
	}
	if slices.Index(removed, "leaf") > slices.Index(removed, "group") || removed[3] != "evts" {
		t.Errorf("removed in the order %v", removed)
	}
}

func TestEventsResume(t *testing.T) {
	br := newCompatServer(t)
	task := deployAndWait(t, br, "name: resume\nlocation: localhost\nservices:\n- type: basic-entity\n  name: leaf\n")
	leaf := "/v1/applications/" + task.EntityID + "/entities/leaf"
	set := func(name string, v int) {
		t.Helper()
		wantCode(t, "set sensor", br.postJSON(leaf+"/sensors/"+name, fmt.Sprint(v)), http.StatusNoContent)
	}

	s := openEvents(t, br.base, "?entity=leaf&type=sensor.changed", nil)
	set("count", 1)
	first := s.next("count=1", func(e api.Event) bool { return e.Sensor == "count" })
	s.close()
	set("count", 2)
	set("other", 7)
	set("count", 3)

	// The header, as EventSource sends it when it comes back.
	for _, how := range []struct {
		query  string
		header map[string]string
	}{
		{"?entity=leaf&type=sensor.changed", map[string]string{"Last-Event-ID": first.ID}},
		{"?entity=leaf&type=sensor.changed&lastEventId=" + first.ID, nil},
	} {
		r := openEvents(t, br.base, how.query, how.header)
		var got []string
		for _, e := range r.drain(500 * time.Millisecond) {
			got = append(got, fmt.Sprintf("%s=%v", e.Sensor, e.Value))
			if e.ID <= first.ID && len(e.ID) == len(first.ID) {
				t.Errorf("resumed with event %s, not after %s", e.ID, first.ID)
			}
		}
		if !slices.Equal(got, []string{"count=2", "other=7", "count=3"}) {
			t.Errorf("resumed after %s (%s): %v", first.ID, how.query, got)
		}
		r.close()
	}

	// The Go client resumes the same way, and reconnects.
	c := client.New(br.base)
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.Events(ctx, client.EventFilter{Entities: []string{"leaf"}, Types: []string{"sensor"}}, first.ID, func(e api.Event) error {
		got = append(got, fmt.Sprintf("%s=%v", e.Sensor, e.Value))
		if len(got) == 3 {
			return client.ErrStopEvents
		}
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"count=2", "other=7", "count=3"}) {
		t.Errorf("client.Events from %s: %v %v", first.ID, got, err)
	}

	// An id older than what the server keeps, or not an id: reset, then the events.
	for i, id := range []string{"1", "not-an-id", "99999999999999999"} {
		r := openEvents(t, br.base, "?entity=leaf", map[string]string{"Last-Event-ID": id})
		reset := r.next("reset", func(api.Event) bool { return true })
		if reset.Type != api.EventReset || reset.Text == "" {
			t.Errorf("Last-Event-ID %s: first event %+v, want a reset", id, reset)
		}
		set("count", 10+i)
		r.next("count after the reset", func(e api.Event) bool { return e.Sensor == "count" && e.Value == float64(10+i) })
		r.close()
	}
	// The client passes the reset on.
	var types []string
	err = c.Events(ctx, client.EventFilter{Entities: []string{"leaf"}}, "1", func(e api.Event) error {
		types = append(types, e.Type)
		return errors.New("enough")
	})
	if err == nil || err.Error() != "enough" || !slices.Equal(types, []string{api.EventReset}) {
		t.Errorf("client.Events from 1: %v %v", types, err)
	}
}

func TestEventsPolicyActionAndSecrets(t *testing.T) {
	br := newCompatServer(t)
	task := deployAndWait(t, br, "name: pol\nlocation: localhost\nservices:\n- type: basic-entity\n  name: leaf\n")
	leaf := "/v1/applications/" + task.EntityID + "/entities/leaf"
	r := br.postJSON(leaf+"/policies?type=test-counting-policy", `{"threshold": 1, "effector": "restart"}`)
	wantCode(t, "add policy", r, http.StatusOK)
	pol := decode[brPolicy](t, "policy", r)

	s := openEvents(t, br.base, "?app=pol&type=adjunct,task.started,sensor.changed", nil)
	wantCode(t, "trigger", br.postJSON(leaf+"/sensors/test.trigger", "5"), http.StatusNoContent)
	// The policy's task starts (tagged with the policy) before the policy records it.
	var started []api.Event
	action := s.next("lastAction", func(e api.Event) bool {
		if e.Type == api.EventTaskStarted {
			started = append(started, e)
		}
		return e.Type == api.EventHighlight && e.Adjunct != nil && e.Adjunct.Highlight == "lastAction"
	})
	if action.Adjunct.ID != pol.ID || action.Adjunct.AdjunctType != api.AdjunctPolicy || action.TaskID == "" ||
		!strings.Contains(action.Adjunct.Description, "restart") || action.EntityDisplayName != "leaf" {
		t.Errorf("policy action: %+v %+v", action, action.Adjunct)
	}
	i := slices.IndexFunc(started, func(e api.Event) bool { return e.TaskID == action.TaskID })
	if i < 0 {
		t.Fatalf("no task.started of %s before the policy action (%d tasks started)", action.TaskID, len(started))
	}
	if !slices.Contains(started[i].Task.Tags, any("adjunct:"+pol.ID)) {
		t.Errorf("the task the policy started is not tagged adjunct:%s: %v", pol.ID, started[i].Task.Tags)
	}

	// A secret sensor's value never travels.
	wantCode(t, "secret sensor", br.postJSON(leaf+"/sensors/admin.password", `"hunter2"`), http.StatusNoContent)
	e := s.next("admin.password", func(e api.Event) bool { return e.Sensor == "admin.password" })
	if e.Value != api.SecretMask {
		t.Errorf("admin.password event: %v", e.Value)
	}
}
