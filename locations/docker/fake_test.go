package docker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"

	"github.com/gantry-dev/gantry/locations"
)

// fakeEngine serves the documented Docker Engine API routes New and
// WatchContainers use: /_ping and /v1.41/events (a JSON stream).
type fakeEngine struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	queries []map[string]string // since and filters of each events request
	// streams[i] is what the i-th events connection does.
	streams []func(w http.ResponseWriter, r *http.Request)
}

func newFakeEngine(t *testing.T, streams ...func(w http.ResponseWriter, r *http.Request)) *fakeEngine {
	f := &fakeEngine{t: t, streams: streams}
	mux := http.NewServeMux()
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Ostype", "linux")
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("/v1.41/events", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.queries)
		f.queries = append(f.queries, map[string]string{"since": r.URL.Query().Get("since"), "filters": r.URL.Query().Get("filters")})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if n < len(f.streams) {
			f.streams[n](w, r)
			return
		}
		<-r.Context().Done()
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEngine) host() string { return "tcp://" + f.srv.Listener.Addr().String() }

func sendEvent(w http.ResponseWriter, m events.Message) {
	_ = json.NewEncoder(w).Encode(m)
	w.(http.Flusher).Flush()
}

func TestNewAgainstFake(t *testing.T) {
	f := newFakeEngine(t)
	e, err := New(t.Context(), "fake", f.host())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cfg := e.Config()
	if cfg["apiVersion"] != "1.41" || cfg["host"] != f.host() {
		t.Fatalf("Config = %v", cfg)
	}
	if e.ID() != "fake" || e.Kind() != "docker" || e.Spec() != "docker:"+f.host() {
		t.Fatalf("ID/Kind/Spec = %q/%q/%q", e.ID(), e.Kind(), e.Spec())
	}
}

func TestNewErrors(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "nobody-listens.sock")
	tests := []struct {
		name, id, host string
		want           error
	}{
		{name: "unreachable", id: "docker", host: sock, want: locations.ErrUnavailable},
		{name: "empty id", id: "", host: sock, want: locations.ErrInvalid},
		{name: "bad host", id: "docker", host: "not a url", want: locations.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(t.Context(), tt.id, tt.host)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New = %v, %v; want %v", e, err, tt.want)
			}
			if tt.want == locations.ErrUnavailable && !strings.Contains(err.Error(), sock) {
				t.Errorf("error does not name the address: %v", err)
			}
		})
	}
}

// The stream breaks twice; the watcher reconnects, resumes after the last
// event it delivered, and loses or repeats nothing.
func TestWatchReconnects(t *testing.T) {
	t1 := time.Date(2026, 5, 7, 10, 0, 0, 500, time.UTC).UnixNano()
	t2 := t1 + int64(time.Second)
	die := func(id string, ts int64) events.Message {
		return events.Message{Type: "container", Action: "die", TimeNano: ts, Time: ts / 1e9,
			Actor: events.Actor{ID: id, Attributes: map[string]string{"name": id, "exitCode": "1", "app": "x"}}}
	}
	f := newFakeEngine(t,
		func(w http.ResponseWriter, r *http.Request) {}, // breaks before any event
		func(w http.ResponseWriter, r *http.Request) { sendEvent(w, die("c1", t1)) },
		func(w http.ResponseWriter, r *http.Request) { sendEvent(w, die("c2", t2)); <-r.Context().Done() },
	)
	e, err := New(t.Context(), "fake", f.host())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan locations.ContainerEvent, 10)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- e.WatchContainers(ctx, map[string]string{"app": "x"}, func(ev locations.ContainerEvent) { got <- ev })
	}()
	for i, want := range []string{"c1", "c2"} {
		select {
		case ev := <-got:
			if ev.ID != want || ev.Action != "die" || ev.ExitCode != 1 || ev.Labels["app"] != "x" {
				t.Fatalf("event %d = %+v, want die of %s", i, ev, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%s) not delivered", i, want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WatchContainers returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchContainers did not return after cancel")
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) != 3 {
		t.Fatalf("%d events requests, want 3", len(f.queries))
	}
	// The first request replays from the call; after a break with nothing
	// delivered, the second resumes from there too.
	for i := range 2 {
		if s := f.queries[i]["since"]; s < timestamp(start.UnixNano()) || s > timestamp(time.Now().UnixNano()) {
			t.Errorf("request %d since = %q, want about %s", i, s, timestamp(start.UnixNano()))
		}
	}
	if f.queries[0]["since"] != f.queries[1]["since"] {
		t.Errorf("since changed without an event: %q then %q", f.queries[0]["since"], f.queries[1]["since"])
	}
	if s, want := f.queries[2]["since"], timestamp(t1+1); s != want {
		t.Errorf("third request since = %q, want %q", s, want)
	}
	args, err := filters.FromJSON(f.queries[0]["filters"])
	if err != nil {
		t.Fatal(err)
	}
	if !args.ExactMatch("type", "container") || !args.ExactMatch("label", "app=x") {
		t.Errorf("filters = %s", f.queries[0]["filters"])
	}
	for _, a := range watchedActions {
		if !args.ExactMatch("event", a) {
			t.Errorf("filters %s lack event=%s", f.queries[0]["filters"], a)
		}
	}
}

func TestWatchNilCallback(t *testing.T) {
	f := newFakeEngine(t)
	e, err := New(t.Context(), "fake", f.host())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.WatchContainers(t.Context(), nil, nil); !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}
