package sensors

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestAggregate(t *testing.T) {
	cases := []struct {
		name   string
		agg    Aggregation
		values []any
		want   any
		bad    bool
	}{
		{"sum ints", Aggregation{Kind: "sum"}, []any{1, 2, int64(3)}, 6.0, false},
		{"sum mixed kinds of number", Aggregation{Kind: "SUM"}, []any{1.5, "2.5", json.Number("1"), uint8(1)}, 6.0, false},
		{"sum skips unreported", Aggregation{Kind: "sum"}, []any{1, nil, " ", 2}, 3.0, false},
		{"sum of nothing is nil", Aggregation{Kind: "sum"}, nil, nil, false},
		{"sum of only unreported is nil", Aggregation{Kind: "sum"}, []any{nil, ""}, nil, false},
		{"value if none", Aggregation{Kind: "sum", ValueIfNone: 0}, []any{nil}, 0.0, false},
		{"default for unreported", Aggregation{Kind: "sum", DefaultValue: 10}, []any{1, nil}, 11.0, false},
		{"not a number", Aggregation{Kind: "sum"}, []any{1, "lots"}, nil, true},
		{"bool is not a number", Aggregation{Kind: "max"}, []any{true}, nil, true},
		{"bad default", Aggregation{Kind: "sum", DefaultValue: "x"}, []any{1}, nil, true},
		{"average", Aggregation{Kind: "average"}, []any{1, 2, nil, 6}, 3.0, false},
		{"average counts the default", Aggregation{Kind: "average", DefaultValue: 0}, []any{2, nil, 4, nil}, 1.5, false},
		{"average of nothing", Aggregation{Kind: "average", ValueIfNone: "n/a"}, []any{}, "n/a", false},
		{"min", Aggregation{Kind: "min"}, []any{3, -1.5, nil, 7}, -1.5, false},
		{"max", Aggregation{Kind: "max"}, []any{3, -1.5, nil, 7}, 7.0, false},
		{"min with default", Aggregation{Kind: "min", DefaultValue: -9}, []any{3, nil}, -9.0, false},
		{"list keeps nils", Aggregation{Kind: "list"}, []any{"a", nil, 2}, []any{"a", nil, 2}, false},
		{"list of nothing is empty", Aggregation{Kind: "list"}, nil, []any{}, false},
		{"list excluding blank", Aggregation{Kind: "list", ExcludeBlank: true}, []any{"a", nil, "  ", 2}, []any{"a", 2}, false},
		{"first", Aggregation{Kind: "first"}, []any{nil, "b"}, nil, false},
		{"first excluding blank", Aggregation{Kind: "first", ExcludeBlank: true}, []any{nil, "b"}, "b", false},
		{"first of nothing", Aggregation{Kind: "first"}, nil, nil, false},
		{"quorum default is allAndAtLeastOne", Aggregation{Kind: "isQuorate"}, []any{true, true}, true, false},
		{"quorum default fails with one down", Aggregation{Kind: "quorum"}, []any{true, false}, false, false},
		{"quorum default fails when empty", Aggregation{Kind: "isquorate"}, nil, false, false},
		{"quorum nil counts as not healthy", Aggregation{Kind: "isQuorate"}, []any{true, nil}, false, false},
		{"quorum excluding blank", Aggregation{Kind: "isQuorate", ExcludeBlank: true}, []any{true, nil}, true, false},
		{"quorum strings", Aggregation{Kind: "isQuorate"}, []any{"true", "TRUE"}, true, false},
		{"quorum atLeastOne", Aggregation{Kind: "isQuorate", Quorum: QuorumAtLeastOne}, []any{false, true, false}, true, false},
		{"quorum against a total", Aggregation{Kind: "isQuorate", Quorum: QuorumAll, Total: 3}, []any{true, true}, false, false},
		{"unknown", Aggregation{Kind: "median"}, []any{1}, nil, true},
	}
	for _, c := range cases {
		got, err := c.agg.Apply(c.values)
		if c.bad {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: got %v, %v; want ErrInvalid", c.name, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.name, got, err, c.want)
		}
	}
	if got, err := Aggregate("average", []any{2, 4}); err != nil || got != 3.0 {
		t.Errorf("Aggregate = %v, %v", got, err)
	}
	if !ValidAggregation("Quorum") || ValidAggregation("mean") {
		t.Error("ValidAggregation")
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in   any
		want float64
		ok   bool
	}{
		{3, 3, true}, {int32(-2), -2, true}, {uint64(7), 7, true}, {float32(0.5), 0.5, true},
		{" 1e3 ", 1000, true}, {json.Number("2.5"), 2.5, true},
		{"x", 0, false}, {nil, 0, false}, {true, 0, false}, {math.NaN(), 0, false}, {"NaN", 0, false},
	} {
		got, ok := Number(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestQuorumChecks(t *testing.T) {
	type hc struct{ healthy, total int }
	cases := []struct {
		check string
		yes   []hc
		no    []hc
	}{
		{"all", []hc{{0, 0}, {2, 2}, {3, 2}}, []hc{{1, 2}, {0, 1}}},
		{"allAndAtLeastOne", []hc{{1, 1}, {3, 3}}, []hc{{0, 0}, {2, 3}}},
		{"atLeastOne", []hc{{1, 5}, {1, 0}}, []hc{{0, 0}, {0, 5}}},
		{"atLeastOneUnlessEmpty", []hc{{0, 0}, {1, 5}}, []hc{{0, 5}}},
		{"alwaysHealthy", []hc{{0, 0}, {0, 9}}, nil},
		{"alwaysTrue", []hc{{0, 9}}, nil},
		{"2", []hc{{0, 0}, {2, 9}}, []hc{{1, 9}}},
		// all, but at least one: [[0,1],[1,1],[2,2]]
		{"[[0,1],[1,1],[2,2]]", []hc{{1, 0}, {1, 1}, {10, 10}}, []hc{{0, 0}, {9, 10}}},
		// all up to 10, tapering to 70% at 100 (75% at 40), 70% beyond
		{"[[5,5],[10,10],[100,70],[200,140]]", []hc{{3, 3}, {10, 10}, {30, 40}, {70, 100}, {210, 300}}, []hc{{2, 3}, {9, 10}, {29, 40}, {69, 100}, {209, 300}}},
	}
	for _, c := range cases {
		q, err := ParseQuorumCheck(c.check)
		if err != nil {
			t.Errorf("%s: %v", c.check, err)
			continue
		}
		for _, x := range c.yes {
			if !q.IsQuorate(x.healthy, x.total) {
				t.Errorf("%s: %d of %d should be quorate", c.check, x.healthy, x.total)
			}
		}
		for _, x := range c.no {
			if q.IsQuorate(x.healthy, x.total) {
				t.Errorf("%s: %d of %d should not be quorate", c.check, x.healthy, x.total)
			}
		}
	}
	for _, bad := range []string{"most", "[[1,1]]", "[[1,1],[0,0]]", "[[1,1,1],[2,2,2]]", "[1,2]", ""} {
		if _, err := ParseQuorumCheck(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseQuorumCheck(%q) = %v; want ErrInvalid", bad, err)
		}
	}
}

// step is one value given to a windowed type, and what it should give back.
type step struct {
	at   time.Duration // after t0
	v    float64
	want float64
	ok   bool
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestDelta(t *testing.T) {
	var d Delta
	for i, s := range []step{{0, 10, 0, false}, {1, 15, 5, true}, {2, 12, -3, true}, {2, 12, 0, true}} {
		got, ok := d.Add(t0.Add(s.at), s.v)
		if got != s.want || ok != s.ok {
			t.Errorf("step %d: Add(%v) = %v, %v; want %v, %v", i, s.v, got, ok, s.want, s.ok)
		}
	}
}

func TestTimeWeightedDelta(t *testing.T) {
	cases := []struct {
		name  string
		unit  time.Duration
		steps []step
	}{
		{"per second", 0, []step{
			{0, 100, 0, false},
			{2 * time.Second, 300, 100, true},
			{2 * time.Second, 400, 0, false},  // same time: replaces the previous value
			{3 * time.Second, 500, 100, true}, // from 400
			{1 * time.Second, 0, 0, false},    // out of order: ignored
			{4 * time.Second, 400, -100, true},
		}},
		{"per minute", time.Minute, []step{{0, 0, 0, false}, {30 * time.Second, 10, 20, true}}},
		{"per millisecond", time.Millisecond, []step{{0, 0, 0, false}, {time.Second, 500, 0.5, true}}},
	}
	for _, c := range cases {
		d := TimeWeightedDelta{Unit: c.unit}
		for i, s := range c.steps {
			got, ok := d.Add(t0.Add(s.at), s.v)
			if math.Abs(got-s.want) > 1e-9 || ok != s.ok {
				t.Errorf("%s step %d: Add(+%v, %v) = %v, %v; want %v, %v", c.name, i, s.at, s.v, got, ok, s.want, s.ok)
			}
		}
	}
	var d TimeWeightedDelta
	if _, ok := d.Add(time.Time{}, 1); ok || !d.LastTime.IsZero() {
		t.Error("a zero time should be ignored")
	}
}

func TestRollingMean(t *testing.T) {
	cases := []struct {
		size int
		in   []float64
		want []float64
	}{
		{3, []float64{3, 6, 9, 12, 0}, []float64{3, 4.5, 6, 9, 7}},
		{1, []float64{3, 6}, []float64{3, 6}},
		{0, []float64{1, 2, 3, 10}, []float64{1, 1.5, 2, 4}},
	}
	for _, c := range cases {
		r := RollingMean{Size: c.size}
		for i, v := range c.in {
			if got := r.Add(t0, v); got != c.want[i] {
				t.Errorf("size %d: Add(%v) = %v; want %v", c.size, v, got, c.want[i])
			}
		}
		if c.size > 0 && len(r.values) > c.size {
			t.Errorf("size %d keeps %d values", c.size, len(r.values))
		}
	}
}

func TestRollingTimeWindowMean(t *testing.T) {
	s := time.Second
	cases := []struct {
		name       string
		confidence float64
		steps      []step
	}{
		{"fills, then slides", 0, []step{
			{0, 10, 10, false},     // one value covers nothing
			{5 * s, 20, 20, false}, // half the window: 20, confidence 0.5
			{10 * s, 40, 30, true}, // 20 for 5s, 40 for 5s
			{15 * s, 0, 20, true},  // 40 for 5s, 0 for 5s
			{30 * s, 10, 10, true}, // 10 for the whole window (from 20s)
		}},
		{"low confidence publishes early", 0.1, []step{
			{0, 10, 10, false},
			{2 * s, 20, 20, true},
			{2 * s, 30, 20, true}, // a second value at the same time weighs nothing
		}},
		{"out of order is ignored", 0, []step{
			{0, 1, 0, false},
			{9 * s, 2, 2, true},
			{8 * s, 100, 0, false},
			{10 * s, 3, 2.1, true},
		}},
	}
	for _, c := range cases {
		r := RollingTimeWindowMean{Window: 10 * s, Confidence: c.confidence}
		for i, st := range c.steps {
			got, ok := r.Add(t0.Add(st.at), st.v)
			if ok != st.ok || (ok && math.Abs(got-st.want) > 1e-9) {
				t.Errorf("%s step %d: Add(+%v, %v) = %v, %v; want %v, %v", c.name, i, st.at, st.v, got, ok, st.want, st.ok)
			}
		}
	}

	r := RollingTimeWindowMean{Window: 10 * s}
	if m, c := r.Average(t0); m != 0 || c != 0 {
		t.Errorf("empty: %v, %v", m, c)
	}
	for _, st := range []step{{0, 10, 0, false}, {10 * s, 20, 0, false}, {20 * s, 30, 0, false}} {
		r.Add(t0.Add(st.at), st.v)
	}
	// Later, with no new value: only the last 5s of the window are covered.
	if m, c := r.Average(t0.Add(25 * s)); m != 30 || c != 0.5 {
		t.Errorf("Average(+25s) = %v, %v; want 30, 0.5", m, c)
	}
	if len(r.values) != 2 {
		t.Errorf("kept %d values; want 2 (one from before the window)", len(r.values))
	}
	// Long after: nothing in the window; the last value, with no confidence.
	if m, c := r.Average(t0.Add(time.Hour)); m != 30 || c != 0 {
		t.Errorf("Average(+1h) = %v, %v; want 30, 0", m, c)
	}
	// The default window is a minute.
	var d RollingTimeWindowMean
	d.Add(t0, 1)
	if _, ok := d.Add(t0.Add(50*s), 1); !ok {
		t.Error("50s of a one-minute window should be enough")
	}
	var e RollingTimeWindowMean
	e.Add(t0, 1)
	if _, ok := e.Add(t0.Add(40*s), 1); ok {
		t.Error("40s of a one-minute window should not be enough")
	}
}
