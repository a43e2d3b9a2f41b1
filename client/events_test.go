package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func TestEventsReconnectAndResume(t *testing.T) {
	var conns atomic.Int32
	lastIDs := make(chan string, 10)
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			if got := r.Header.Get("Authorization"); got != "Bearer gantry_tok" {
				t.Errorf("Authorization %q", got)
			}
			if q := r.URL.Query(); q.Get("app") != "shop" || q["type"][0] != "task" || q["type"][1] != "sensor.changed" {
				t.Errorf("query %v", q)
			}
			lastIDs <- r.Header.Get("Last-Event-ID")
			w.Header().Set("Content-Type", "text/event-stream")
			switch conns.Add(1) {
			case 1:
				io.WriteString(w, "retry: 2000\n: hello\n\n")
				io.WriteString(w, "id: 5\nevent: sensor.changed\ndata: {\"id\":\"5\",\"type\":\"sensor.changed\",\"sensor\":\"a\",\"value\":1}\n\n")
				io.WriteString(w, "id: 7\n: heartbeat\n\n") // skipped events: the id moves on
				// and the connection breaks
			default:
				io.WriteString(w, "id: 8\r\nevent: task.ended\r\ndata: {\"id\":\"8\",\"type\":\"task.ended\",\"taskId\":\"t1\"}\r\n\r\n")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		},
	}, client.WithToken("gantry_tok"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	err := c.Events(ctx, client.EventFilter{Apps: []string{"shop"}, Types: []string{"task", "sensor.changed"}}, "3", func(e api.Event) error {
		got = append(got, fmt.Sprintf("%s %s", e.ID, e.Type))
		if e.Type == api.EventTaskEnded {
			return client.ErrStopEvents
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 sensor.changed 8 task.ended]" {
		t.Errorf("events %v", got)
	}
	if a, b := <-lastIDs, <-lastIDs; a != "3" || b != "7" {
		t.Errorf("Last-Event-ID %q then %q, want 3 then 7", a, b)
	}
}

func TestEventsRefused(t *testing.T) {
	var calls atomic.Int32
	c := serve(t, map[string]http.HandlerFunc{
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			apiError(http.StatusUnauthorized, "Authentication failed: wrong user name or password")(w, r)
		},
	}, client.WithBasicAuth("u", "p"))
	err := c.Events(context.Background(), client.EventFilter{}, "", func(api.Event) error { return nil })
	if !errors.Is(err, client.ErrUnauthorized) || calls.Load() != 1 {
		t.Errorf("401: %v after %d calls", err, calls.Load())
	}
	// Nobody listening: the first connection's error.
	err = client.New("http://127.0.0.1:1").Events(context.Background(), client.EventFilter{}, "", func(api.Event) error { return nil })
	if err == nil {
		t.Error("no server: no error")
	}
	// A function's error ends the stream with it.
	c = serve(t, map[string]http.HandlerFunc{
		"GET /v1/events": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "id: 1\nevent: reset\ndata: {\"id\":\"1\",\"type\":\"reset\"}\n\n")
		},
	})
	boom := errors.New("boom")
	if err := c.Events(context.Background(), client.EventFilter{}, "", func(api.Event) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
}
