package entities

import (
	"context"
	"sync"
	"time"
)

// feeds are the pollers of running entities (a process's checkRunning, later HTTP and
// command sensors): one goroutine each, only for entities that have one.
type feeds struct {
	mu     sync.Mutex
	cancel map[string]map[string]context.CancelFunc // entity id -> feed name -> cancel
}

// StartFeed calls poll every period (and once at once) until the entity stops, is
// unmanaged, or the feed is replaced by another of the same name. A period <= 0 polls
// once.
func (m *Management) StartFeed(e *Entity, name string, period time.Duration, poll func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(m.ctx)
	m.feeds.mu.Lock()
	if m.feeds.cancel == nil {
		m.feeds.cancel = make(map[string]map[string]context.CancelFunc)
	}
	byName := m.feeds.cancel[e.id]
	if byName == nil {
		byName = make(map[string]context.CancelFunc)
		m.feeds.cancel[e.id] = byName
	}
	if old := byName[name]; old != nil {
		old()
	}
	byName[name] = cancel
	m.feeds.mu.Unlock()
	go func() {
		var tick <-chan time.Time // nil, never ready, when polling once
		if period > 0 {
			t := time.NewTicker(period)
			defer t.Stop()
			tick = t.C
		}
		for {
			poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
		}
	}()
}

// FunctionFeed is Brooklyn's FunctionFeed for Go code: it sets sensor on e to what fn
// returns, every period (and once at once), until the entity stops. As in Brooklyn, the
// sensor is set only when fn succeeds (a nil result clears it); a failure leaves the
// last value and is logged, at warning level when the error changes and once more when
// fn succeeds again, not at every poll. The feed is named "function:"+sensor: starting
// another for the same sensor replaces it. Go code is not persisted: a kind starts its
// function feeds again from its Rebind, as from its Start.
func (m *Management) FunctionFeed(e *Entity, sensor string, period time.Duration, fn func(ctx context.Context) (any, error)) {
	var failing string // the last error, while fn fails; only the feed's goroutine uses it
	m.StartFeed(e, "function:"+sensor, period, func(ctx context.Context) {
		v, err := fn(ctx)
		switch {
		case ctx.Err() != nil:
			return // stopped while polling: the result is not the entity's any more
		case err != nil:
			if err.Error() != failing {
				failing = err.Error()
				m.log.Warn("function feed failed", "entity", e.id, "sensor", sensor, "err", err)
			}
			return
		case failing != "":
			failing = ""
			m.log.Info("function feed recovered", "entity", e.id, "sensor", sensor)
		}
		e.SetAttribute(sensor, v)
	})
}

// StopFeeds stops every feed of an entity.
func (m *Management) StopFeeds(e *Entity) {
	m.feeds.mu.Lock()
	byName := m.feeds.cancel[e.id]
	delete(m.feeds.cancel, e.id)
	m.feeds.mu.Unlock()
	for _, cancel := range byName {
		cancel()
	}
}
