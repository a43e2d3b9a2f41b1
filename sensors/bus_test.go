package sensors

import (
	"testing"
	"time"
)

func TestBusDeliversInOrderToMatchingSubscribers(t *testing.T) {
	b := NewBus()
	got := make(chan Event, 10)
	cancel := b.Subscribe(func(ev Event) bool { return ev.Entity == "a" }, func(ev Event) { got <- ev })
	defer cancel()
	for i := 0; i < 3; i++ {
		b.Publish(Event{Entity: "a", Sensor: "n", Value: i})
		b.Publish(Event{Entity: "b", Sensor: "n", Value: i})
	}
	for i := 0; i < 3; i++ {
		select {
		case ev := <-got:
			if ev.Entity != "a" || ev.Value != i || ev.Time.IsZero() {
				t.Fatalf("event %d = %+v", i, ev)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("event %d not delivered", i)
		}
	}
	select {
	case ev := <-got:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestBusCancelStopsDelivery(t *testing.T) {
	b := NewBus()
	got := make(chan Event, 10)
	cancel := b.Subscribe(nil, func(ev Event) { got <- ev })
	cancel()
	b.Publish(Event{Entity: "a"})
	select {
	case ev := <-got:
		t.Fatalf("delivered after cancel: %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}
