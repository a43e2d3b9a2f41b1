package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// EventFilter chooses the events of a stream. Each field lists ids or names; an event
// passes when it matches one value of every field given. Types match whole types
// ("task.ended") or their first part ("task" for every task event).
type EventFilter struct {
	Apps     []string
	Entities []string
	Types    []string
}

func (f EventFilter) query() url.Values {
	q := url.Values{}
	for _, a := range f.Apps {
		q.Add("app", a)
	}
	for _, e := range f.Entities {
		q.Add("entity", e)
	}
	for _, t := range f.Types {
		q.Add("type", t)
	}
	return q
}

// ErrStopEvents, returned by the function given to Events, ends the stream without
// an error.
var ErrStopEvents = errors.New("stop reading events")

// Events reads the server's live events (GET /v1/events) and calls fn with each, in
// order, until ctx is done (it then returns ctx.Err()) or fn returns an error (it
// returns it; nil for ErrStopEvents).
//
// lastID is the id of the last event the caller saw ("" for events from now on).
// When the connection breaks, Events connects again and the server sends what was
// missed; when it no longer has it (or the caller read too slowly), fn gets an event
// of type api.EventReset: reload what you show from the API, then go on reading. A
// server that refuses the stream (401, 403, 404) ends it with that error, since
// asking again would not help.
//
// The stream stays open as long as it is read: an HTTP client given with
// WithHTTPClient must not have a Timeout.
func (c *Client) Events(ctx context.Context, filter EventFilter, lastID string, fn func(api.Event) error) error {
	backoff := 100 * time.Millisecond
	for first := true; ; first = false {
		connected, got, err := c.readEvents(ctx, filter, &lastID, fn)
		switch {
		case errors.Is(err, ErrStopEvents):
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && (permanent(err) || first && !connected):
			return err
		}
		if got {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// fnError marks an error of the caller's function, which ends Events.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }
func (e fnError) Unwrap() error { return e.err }

// permanent says whether an error ends Events rather than a reconnection.
func permanent(err error) bool {
	var fe fnError
	if errors.As(err, &fe) {
		return true
	}
	var ce *Error
	if errors.As(err, &ce) {
		switch ce.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusBadRequest:
			return true
		}
	}
	return false
}

// readEvents reads one connection's events; connected says whether the server
// answered with a stream, got whether it delivered any event. It moves *lastID on
// with every id the server sends.
func (c *Client) readEvents(ctx context.Context, filter EventFilter, lastID *string, fn func(api.Event) error) (connected, got bool, err error) {
	path := urlPath("events")
	u := c.base + path
	if q := filter.query(); len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, false, fnError{fmt.Errorf("GET %s: %w", path, err)}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return false, false, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return false, false, fmt.Errorf("GET %s: %w", path, newError(resp.StatusCode, b))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, false, fnError{fmt.Errorf("GET %s: the server answered %q, not an event stream", path, ct)}
	}
	connected = true
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var id, typ string
	var data strings.Builder
	var hasID bool
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return connected, got, fmt.Errorf("GET %s: %w", path, err) // cut off: connect again
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" { // the end of an event
			if hasID {
				*lastID = id
			}
			if data.Len() > 0 {
				var ev api.Event
				if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
					return connected, got, fnError{fmt.Errorf("event %s: %w", id, err)}
				}
				if ev.Type == "" {
					ev.Type = typ
				}
				got = true
				if err := fn(ev); err != nil {
					return connected, got, fnError{err}
				}
			}
			id, typ, hasID = "", "", false
			data.Reset()
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: the heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			id, hasID = value, true
		case "event":
			typ = value
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(value)
		}
	}
}
