package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
)

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(context.Background(), Config{
		DataDir:    t.TempDir(),
		DockerHost: "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEventRing(t *testing.T) {
	s := newTestServer(t)
	defer s.Close()
	h := newEventHub(s.mgmt, 8)
	defer h.close()
	start := h.newest()
	if evs, reset, _, _ := h.read(start); reset || len(evs) != 0 {
		t.Fatalf("empty ring: %v %v", evs, reset)
	}
	if _, reset, _, _ := h.read(start - 1); !reset {
		t.Error("an id before the first event is not a reset")
	}
	for i := range 20 {
		h.add(api.Event{Type: "test", Text: strconv.Itoa(i)}, hubEvent{})
	}
	last := h.newest()
	if last != start+20 {
		t.Fatalf("ids: start %d, last %d", start, last)
	}
	if _, reset, _, _ := h.read(start); !reset {
		t.Error("events overwritten: no reset")
	}
	if _, reset, _, _ := h.read(last - 9); !reset {
		t.Error("one event too old: no reset")
	}
	evs, reset, _, _ := h.read(last - 8)
	if reset || len(evs) != 8 || evs[0].id != last-7 || evs[7].id != last {
		t.Errorf("the 8 kept: reset %v, %d events", reset, len(evs))
	}
	if !strings.Contains(string(evs[7].data), `"text":"19"`) || !strings.Contains(string(evs[7].data), `"id":"`+strconv.FormatUint(last, 10)+`"`) {
		t.Errorf("last event: %s", evs[7].data)
	}
	if _, reset, _, _ := h.read(last + 1); !reset {
		t.Error("an id from the future is not a reset")
	}
	// A restarted server's ids are larger than the old ones.
	h2 := newEventHub(s.mgmt, 8)
	defer h2.close()
	if h2.newest() <= last {
		t.Errorf("a new hub starts at %d, not after %d", h2.newest(), last)
	}
}

// gatedWriter is a client connection that stops taking what is written while its
// gate is shut: a client that does not read.
type gatedWriter struct {
	http.ResponseWriter
	shut    chan struct{} // closed: writes wait for open
	open    chan struct{}
	blocked chan struct{} // told when a write waits
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	select {
	case <-g.shut:
		select {
		case g.blocked <- struct{}{}:
		default:
		}
		<-g.open
	default:
	}
	return g.ResponseWriter.Write(p)
}

func (g *gatedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// TestEventsSlowClient: a client that stops reading holds only its own handler, never
// who adds events; when it reads again, what it lost is a reset, and the stream goes on.
func TestEventsSlowClient(t *testing.T) {
	s := newTestServer(t)
	defer s.Close()
	s.events.close()
	s.events = newEventHub(s.mgmt, 8)
	g := &gatedWriter{shut: make(chan struct{}), open: make(chan struct{}), blocked: make(chan struct{}, 1)}
	h := s.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.ResponseWriter = w
		h.ServeHTTP(g, r)
	}))
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	next := func() string {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return line
	}
	for next() != "\n" { // the preamble
	}
	close(g.shut)
	s.events.add(api.Event{Type: "test", Text: "first"}, hubEvent{})
	select {
	case <-g.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not write the first event")
	}
	// The client reads nothing; adding goes on regardless.
	done := make(chan struct{})
	go func() {
		for i := range 20 {
			s.events.add(api.Event{Type: "test", Text: strconv.Itoa(i)}, hubEvent{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("adding events waited for a slow client")
	}
	close(g.open)
	var got []string
	for len(got) == 0 || got[len(got)-1] != "reset" {
		if line := next(); strings.HasPrefix(line, "event: ") {
			got = append(got, strings.TrimSpace(strings.TrimPrefix(line, "event: ")))
		}
	}
	if len(got) != 2 || got[0] != "test" {
		t.Errorf("events: %v, want the first one then a reset", got)
	}
	s.events.add(api.Event{Type: "test", Text: "after"}, hubEvent{})
	for line := next(); !strings.Contains(line, `"text":"after"`); line = next() {
		if strings.HasPrefix(line, "data: ") && !strings.Contains(line, `"type":"reset"`) {
			t.Errorf("after the reset: %s", line)
		}
	}
}

func TestEventsHeartbeatAndSkippedIDs(t *testing.T) {
	s := newTestServer(t)
	defer s.Close()
	s.events.close()
	s.events = newEventHub(s.mgmt, 8)
	s.events.heartbeat = 30 * time.Millisecond
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/v1/events?type=nothing")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for range 3 {
		s.events.add(api.Event{Type: "test"}, hubEvent{})
	}
	want := "id: " + strconv.FormatUint(s.events.newest(), 10) + "\n"
	var sawID, sawBeat bool
	deadline := time.Now().Add(5 * time.Second)
	for !(sawID && sawBeat) && time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case line == want:
			sawID = true
		case line == ": heartbeat\n":
			sawBeat = true
		case strings.HasPrefix(line, "data:"):
			t.Errorf("a filtered stream sent %q", line)
		}
	}
	if !sawID || !sawBeat {
		t.Errorf("id line %v, heartbeat %v", sawID, sawBeat)
	}
}
