package docker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"

	"github.com/gantry-dev/gantry/locations"
)

// watchedActions are the container event actions WatchContainers delivers.
var watchedActions = []string{
	locations.EventStart, locations.EventDie, locations.EventStop,
	locations.EventKill, locations.EventOOM, locations.EventDestroy,
}

// Reconnect backoff of WatchContainers.
const (
	watchMinBackoff = 100 * time.Millisecond
	watchMaxBackoff = 5 * time.Second
	// A stream that lasted this long was healthy: reconnect at once.
	watchHealthy = 10 * time.Second
)

// eventAttributes are attributes of container events that are not labels.
var eventAttributes = map[string]bool{"name": true, "image": true, "exitCode": true, "signal": true, "execDuration": true}

// WatchContainers follows the engine's event stream for the start, die, stop,
// kill, oom and destroy events of containers carrying all the labels, calling fn for each event, in order,
// from this goroutine. It delivers the events from the moment it is called
// (by the engine's clock: the first request asks the engine to replay from
// then, so an event racing the subscription is not lost). Events reach fn as
// soon as the engine emits them (a die arrives within milliseconds of the
// process ending). When the stream breaks it reconnects with backoff (100 ms
// doubling to 5 s), asking the engine to replay what happened since the last
// event it delivered, so nothing is lost or repeated as long as the engine
// still buffers it (it keeps its last 256 events). It returns ctx.Err() once
// ctx is done.
func (e *Engine) WatchContainers(ctx context.Context, labels map[string]string, fn func(locations.ContainerEvent)) error {
	if fn == nil {
		return fmt.Errorf("watch containers on %s: nil callback: %w", e.id, locations.ErrInvalid)
	}
	f := labelFilters(labels)
	f.Add("type", string(events.ContainerEventType))
	for _, a := range watchedActions {
		f.Add("event", a)
	}

	// The engine replays the events it still holds from since on, then streams
	// live ones. Starting from now closes the gap between this call and the
	// subscription; after a break it resumes just after the last delivered event.
	since := timestamp(time.Now().UnixNano())
	backoff := watchMinBackoff
	for {
		connected := time.Now()
		sctx, cancel := context.WithCancel(ctx)
		msgs, errs := e.cli.Events(sctx, events.ListOptions{Filters: f, Since: since})
		var streamErr error
	stream:
		for {
			select {
			case m := <-msgs:
				if m.TimeNano > 0 {
					since = timestamp(m.TimeNano + 1)
				}
				backoff = watchMinBackoff
				fn(toEvent(m))
			case streamErr = <-errs:
				break stream
			}
		}
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Since(connected) > watchHealthy {
			backoff = watchMinBackoff
		}
		slog.Warn("docker event stream broke; reconnecting", "engine", e.id, "err", streamErr, "backoff", backoff,
			"connected_for", time.Since(connected).Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchMaxBackoff)
	}
}

// timestamp formats nanoseconds since the epoch as the API's "seconds.nanos".
func timestamp(nanos int64) string {
	return fmt.Sprintf("%d.%09d", nanos/1e9, nanos%1e9)
}

func toEvent(m events.Message) locations.ContainerEvent {
	attrs := m.Actor.Attributes
	ev := locations.ContainerEvent{
		ID:     m.Actor.ID,
		Action: string(m.Action),
		Name:   attrs["name"],
		Image:  attrs["image"],
		Labels: make(map[string]string, len(attrs)),
		Time:   time.Unix(0, m.TimeNano),
	}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	// Some engines suffix actions ("exec_start: sh"); keep the verb.
	ev.Action, _, _ = strings.Cut(ev.Action, ":")
	for k, v := range attrs {
		if !eventAttributes[k] {
			ev.Labels[k] = v
		}
	}
	if code, err := strconv.Atoi(attrs["exitCode"]); err == nil {
		ev.ExitCode = code
	}
	return ev
}
