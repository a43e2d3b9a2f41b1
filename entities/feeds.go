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
// unmanaged, or the feed is replaced by another of the same name.
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
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			poll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
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
