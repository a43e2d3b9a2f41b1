package sensors

import (
	"sync"
	"time"
)

// Event says that a sensor of an entity changed.
type Event struct {
	Entity string // entity id
	App    string // id of the entity's application
	Sensor string
	Value  any
	Time   time.Time
}

// Bus delivers events to subscribers. Publish never blocks: each subscriber has its own
// queue drained by one goroutine, so a slow subscriber delays only itself. There is no
// goroutine per entity or per sensor, only one per subscription.
type Bus struct {
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

type subscription struct {
	filter func(Event) bool
	fn     func(Event)

	mu     sync.Mutex
	queue  []Event
	wake   chan struct{}
	closed bool
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: make(map[*subscription]struct{})} }

// Subscribe calls fn, in order, for every event that filter accepts (all events when filter
// is nil). The returned function cancels the subscription; events still queued are dropped.
func (b *Bus) Subscribe(filter func(Event) bool, fn func(Event)) (cancel func()) {
	s := &subscription{filter: filter, fn: fn, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.run()
	return func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		s.mu.Lock()
		s.closed = true
		s.queue = nil
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Publish queues ev for every interested subscriber.
func (b *Bus) Publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(ev) {
			continue
		}
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *subscription) run() {
	for range s.wake {
		for {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			batch := s.queue
			s.queue = nil
			s.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, ev := range batch {
				s.fn(ev)
			}
		}
	}
}
