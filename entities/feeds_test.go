package entities_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestFunctionFeed(t *testing.T) {
	m := testenv.Management(t, entities.Options{})
	app, _, err := m.Deploy(context.Background(), &entities.Spec{Type: "basic-application", Name: "feeds"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Calls 1 and 2 succeed, 3 to 5 fail (the sensor keeps 2), then it succeeds again.
	var calls atomic.Int64
	m.FunctionFeed(app, "test.count", 5*time.Millisecond, func(ctx context.Context) (any, error) {
		n := calls.Add(1)
		if n >= 3 && n <= 5 {
			return nil, errors.New("not now")
		}
		return n, nil
	})
	eventually(t, "the first value", func() bool { v, _ := app.Attribute("test.count"); return v != nil })
	eventually(t, "failures", func() bool { return calls.Load() >= 5 })
	if v, _ := app.Attribute("test.count"); calls.Load() == 5 && v != int64(2) {
		t.Errorf("while failing: test.count = %v; want the last good value, 2", v)
	}
	eventually(t, "recovery", func() bool { v, _ := app.Attribute("test.count"); n, _ := v.(int64); return n >= 6 })

	// Stopping the entity's feeds stops the polls.
	m.StopFeeds(app)
	time.Sleep(20 * time.Millisecond)
	after := calls.Load()
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != after {
		t.Errorf("polled %d times after the feeds were stopped", calls.Load()-after)
	}

	// A nil result clears the sensor; a period of 0 polls once.
	var once atomic.Int64
	m.FunctionFeed(app, "test.count", 0, func(ctx context.Context) (any, error) {
		once.Add(1)
		return nil, nil
	})
	eventually(t, "the sensor cleared", func() bool { _, ok := app.Attribute("test.count"); return !ok })
	time.Sleep(30 * time.Millisecond)
	if once.Load() != 1 {
		t.Errorf("period 0 polled %d times; want 1", once.Load())
	}

	// A feed of the same sensor replaces the previous one.
	var first, second atomic.Int64
	m.FunctionFeed(app, "test.which", 5*time.Millisecond, func(ctx context.Context) (any, error) { first.Add(1); return "first", nil })
	m.FunctionFeed(app, "test.which", 5*time.Millisecond, func(ctx context.Context) (any, error) { second.Add(1); return "second", nil })
	eventually(t, "the second feed", func() bool { return second.Load() >= 3 })
	n := first.Load()
	time.Sleep(30 * time.Millisecond)
	if first.Load() > n+1 {
		t.Errorf("the replaced feed still polls")
	}
	if v, _ := app.Attribute("test.which"); v != "second" {
		t.Errorf("test.which = %v", v)
	}
}
