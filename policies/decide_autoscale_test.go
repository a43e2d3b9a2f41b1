package policies

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at returns t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func scaleConfig(edit func(*ScaleConfig)) ScaleConfig {
	c := DefaultScaleConfig()
	c.MetricLowerBound, c.MetricUpperBound = 20, 100
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestDesiredSize(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*ScaleConfig)
		value float64
		size  int
		want  int
		why   string
	}{
		{name: "in range", value: 50, size: 2, want: 2, why: "within 20..100"},
		{name: "at the upper bound is in range", value: 100, size: 2, want: 2},
		{name: "hot: ceil(total/upper)", value: 150, size: 2, want: 3, why: "above upper bound"},
		{name: "hot: exact multiple", value: 200, size: 2, want: 4},
		{name: "hot: clamped to max", edit: func(c *ScaleConfig) { c.MaxPoolSize = 3 }, value: 500, size: 2, want: 3},
		{name: "hot at max asks nothing", edit: func(c *ScaleConfig) { c.MaxPoolSize = 3 }, value: 500, size: 3, want: 3, why: "at its maximum"},
		{name: "hot: rounded up to the increment", edit: func(c *ScaleConfig) { c.ResizeUpIterationIncrement = 2 }, value: 150, size: 2, want: 4},
		{name: "hot: cut to the iteration max", edit: func(c *ScaleConfig) { c.ResizeUpIterationMax = 1 }, value: 500, size: 2, want: 3},
		{name: "hot: increment then max pool", edit: func(c *ScaleConfig) { c.ResizeUpIterationIncrement = 4; c.MaxPoolSize = 5 }, value: 150, size: 2, want: 5},
		{name: "hot: high-water mark", edit: func(c *ScaleConfig) { c.InsufficientCapacityHighWaterMark = 4 }, value: 1000, size: 2, want: 4},
		{name: "cold: floor(total/lower)", value: 10, size: 4, want: 2, why: "below lower bound"},
		{name: "cold: cut to the iteration max", edit: func(c *ScaleConfig) { c.ResizeDownIterationMax = 1 }, value: 10, size: 4, want: 3},
		{name: "cold: rounded to the increment", edit: func(c *ScaleConfig) { c.ResizeDownIterationIncrement = 2 }, value: 10, size: 5, want: 1},
		{name: "cold: anti-thrashing keeps it big enough", edit: func(c *ScaleConfig) { c.MetricLowerBound, c.MetricUpperBound = 50, 55 }, value: 45, size: 4, want: 4, why: "too hot"},
		{name: "cold: anti-thrashing allows the exact fit", edit: func(c *ScaleConfig) { c.MetricLowerBound, c.MetricUpperBound = 50, 60 }, value: 45, size: 4, want: 3},
		{name: "cold at min asks nothing", value: 1, size: 1, want: 1},
		{name: "cold: clamped to min", edit: func(c *ScaleConfig) { c.MinPoolSize = 2 }, value: 1, size: 5, want: 2},
		{name: "cold: min 0 allows an empty pool", edit: func(c *ScaleConfig) { c.MinPoolSize = 0 }, value: 0, size: 3, want: 0},
		{name: "no lower bound: never cold", edit: func(c *ScaleConfig) { c.MetricLowerBound = 0 }, value: 0.1, size: 3, want: 3},
		{name: "no upper bound: never hot", edit: func(c *ScaleConfig) { c.MetricUpperBound = 0 }, value: 1e9, size: 3, want: 3},
		{name: "huge value saturates", value: 1e300, size: 3, want: maxSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := DesiredSize(scaleConfig(tt.edit), tt.value, tt.size)
			if got != tt.want {
				t.Errorf("DesiredSize(%v, %d) = %d (%s), want %d", tt.value, tt.size, got, why, tt.want)
			}
			if !strings.Contains(why, tt.why) {
				t.Errorf("reason %q does not say %q", why, tt.why)
			}
		})
	}
}

func TestDecideResize(t *testing.T) {
	inRange := func(d time.Duration, size int) Sample { return Sample{Time: at(d), Value: 50, Size: size} }
	hot := func(d time.Duration, v float64, size int) Sample { return Sample{Time: at(d), Value: v, Size: size} }
	up30 := func(c *ScaleConfig) { c.ResizeUpStabilizationDelay = 30 * time.Second }
	down30 := func(c *ScaleConfig) { c.ResizeDownStabilizationDelay = 30 * time.Second }
	tests := []struct {
		name       string
		edit       func(*ScaleConfig)
		h          []Sample
		current    int
		lastResize time.Time
		want       int
		recheck    time.Time
		why        string
	}{
		{name: "no history, no change", current: 2, want: 2},
		{name: "no history, below min: grow to min", current: 0, want: 1, why: "outside 1..unbounded"},
		{name: "no history, above max: shrink to max", edit: func(c *ScaleConfig) { c.MaxPoolSize = 3 }, current: 5, want: 3},
		{name: "no delay: hot now grows now", h: []Sample{hot(0, 150, 2)}, current: 2, want: 3, why: "resize 2 -> 3"},
		{name: "no delay: only the latest counts", h: []Sample{hot(-time.Second, 150, 2), inRange(0, 2)}, current: 2, want: 2},
		{
			name: "hot for less than the delay: wait, and say when to look again",
			edit: up30, h: []Sample{inRange(-10*time.Minute, 2), hot(-20*time.Second, 150, 2)},
			current: 2, want: 2, recheck: at(10 * time.Second),
		},
		{
			name: "hot for the whole delay: grow",
			edit: up30, h: []Sample{inRange(-10*time.Minute, 2), hot(-30*time.Second, 150, 2), hot(-10*time.Second, 160, 2)},
			current: 2, want: 3, why: "at least 3 wanted for 30s",
		},
		{
			name: "history shorter than the delay: no grow",
			edit: up30, h: []Sample{hot(-20*time.Second, 150, 2), hot(0, 150, 2)},
			current: 2, want: 2, recheck: at(10 * time.Second),
		},
		{
			name: "grow to the least wanted over the window",
			edit: up30, h: []Sample{hot(-40*time.Second, 150, 2), hot(-20*time.Second, 250, 2), hot(-5*time.Second, 210, 2)},
			current: 2, want: 3, why: "at least 3",
		},
		{
			name: "one value in range inside the window blocks growth",
			edit: up30, h: []Sample{hot(-40*time.Second, 150, 2), inRange(-20*time.Second, 2), hot(-5*time.Second, 210, 2)},
			current: 2, want: 2, recheck: at(-20*time.Second + 30*time.Second),
		},
		{
			name: "cold for the whole delay: shrink to the most wanted over the window",
			edit: down30, h: []Sample{hot(-40*time.Second, 5, 4), hot(-20*time.Second, 15, 4)},
			current: 4, want: 3, why: "at most 3 wanted for 30s",
		},
		{
			name: "cold but once in range within the window: stay",
			edit: down30, h: []Sample{hot(-40*time.Second, 5, 4), inRange(-20*time.Second, 4), hot(-1*time.Second, 5, 4)},
			current: 4, want: 4, recheck: at(10 * time.Second),
		},
		{
			name: "grows to the max only",
			edit: func(c *ScaleConfig) { c.MaxPoolSize = 4 }, h: []Sample{hot(0, 1000, 2)},
			current: 2, want: 4,
		},
		{
			name: "min period between resizes",
			edit: func(c *ScaleConfig) { c.MinPeriodBetweenExecs = time.Minute }, h: []Sample{hot(0, 150, 2)},
			current: 2, lastResize: at(-20 * time.Second), want: 2, recheck: at(40 * time.Second), why: "last resize was 20s ago",
		},
		{
			name: "min period passed",
			edit: func(c *ScaleConfig) { c.MinPeriodBetweenExecs = time.Minute }, h: []Sample{hot(0, 150, 2)},
			current: 2, lastResize: at(-time.Minute), want: 3,
		},
		{
			name: "samples from the future are ignored",
			h:    []Sample{inRange(0, 2), hot(time.Second, 150, 2)}, current: 2, want: 2,
		},
		{
			name: "unsorted history is sorted",
			edit: up30, h: []Sample{hot(-10*time.Second, 150, 2), hot(-40*time.Second, 150, 2)},
			current: 2, want: 3,
		},
		{
			name: "values seen before a resize by hand do not undo it",
			edit: down30, h: []Sample{inRange(-time.Minute, 2), inRange(-10*time.Second, 2)},
			current: 5, want: 5,
		},
		{
			name: "values asking for what the pool already has: no change, nothing to recheck",
			edit: up30, h: []Sample{hot(-time.Minute, 150, 2)}, current: 3, want: 3,
		},
		{
			name: "bounds apply to the history as they are now",
			edit: func(c *ScaleConfig) { c.MetricUpperBound = 200 }, h: []Sample{hot(0, 150, 2)}, current: 2, want: 2,
		},
		{
			name: "a pool-hot event judged by its own threshold",
			h:    []Sample{{Time: at(0), Value: 150, Size: 2, Lower: -1, Upper: 120}}, current: 2, want: 3,
		},
		{
			name: "a pool-ok event asks nothing",
			h:    []Sample{{Time: at(0), Value: 150, Size: 2, Lower: -1, Upper: -1}}, current: 2, want: 2,
		},
		{
			name: "a pool-cold event judged by its own thresholds",
			h:    []Sample{{Time: at(0), Value: 10, Size: 4, Lower: 30, Upper: 50}}, current: 4, want: 1,
		},
		{
			name: "NaN values are no wish",
			h:    []Sample{{Time: at(0), Value: nan(), Size: 2}}, current: 2, want: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := scaleConfig(tt.edit)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			r := DecideResize(cfg, tt.h, tt.current, tt.lastResize, t0)
			if r.From != tt.current || r.To != tt.want {
				t.Errorf("resize %d -> %d (%s), want %d -> %d", r.From, r.To, r.Reason, tt.current, tt.want)
			}
			if r.Changed() != (tt.want != tt.current) {
				t.Errorf("Changed() = %v", r.Changed())
			}
			if !r.RecheckAt.Equal(tt.recheck) {
				t.Errorf("recheck at %v, want %v (%s)", r.RecheckAt.Sub(t0), tt.recheck.Sub(t0), r.Reason)
			}
			if !strings.Contains(r.Reason, tt.why) {
				t.Errorf("reason %q does not say %q", r.Reason, tt.why)
			}
		})
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestScaleConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ScaleConfig)
		ok   bool
	}{
		{name: "defaults", ok: true},
		{name: "min above max", edit: func(c *ScaleConfig) { c.MinPoolSize, c.MaxPoolSize = 4, 3 }},
		{name: "min equals max", edit: func(c *ScaleConfig) { c.MinPoolSize, c.MaxPoolSize = 3, 3 }, ok: true},
		{name: "lower above upper", edit: func(c *ScaleConfig) { c.MetricLowerBound, c.MetricUpperBound = 10, 5 }},
		{name: "negative delay", edit: func(c *ScaleConfig) { c.ResizeUpStabilizationDelay = -time.Second }},
		{name: "negative increment", edit: func(c *ScaleConfig) { c.ResizeDownIterationIncrement = -1 }},
		{name: "negative min", edit: func(c *ScaleConfig) { c.MinPoolSize = -1 }},
	}
	for _, tt := range tests {
		err := scaleConfig(tt.edit).Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}

func TestPruneSamples(t *testing.T) {
	cfg := scaleConfig(func(c *ScaleConfig) {
		c.ResizeUpStabilizationDelay, c.ResizeDownStabilizationDelay = 30*time.Second, 60*time.Second
	})
	h := []Sample{{Time: at(-90 * time.Second)}, {Time: at(-70 * time.Second)}, {Time: at(-60 * time.Second)}, {Time: at(-10 * time.Second)}}
	got := PruneSamples(cfg, h, t0)
	if len(got) != 2 || !got[0].Time.Equal(at(-60*time.Second)) {
		t.Errorf("PruneSamples kept %v", got)
	}
	// Pruning never changes a decision.
	for _, s := range []Sample{{Time: at(-90 * time.Second), Value: 150, Size: 2}, {Time: at(-50 * time.Second), Value: 150, Size: 2}} {
		h := []Sample{s, {Time: at(-40 * time.Second), Value: 170, Size: 2}, {Time: at(-5 * time.Second), Value: 5, Size: 2}}
		a := DecideResize(cfg, h, 2, time.Time{}, t0)
		b := DecideResize(cfg, PruneSamples(cfg, h, t0), 2, time.Time{}, t0)
		if a != b {
			t.Errorf("pruned history decides %+v, full history %+v", b, a)
		}
	}
	d := PruneDesired(cfg, []Desired{{at(-2 * time.Minute), 3}, {at(-61 * time.Second), 4}, {at(0), 5}}, t0)
	if len(d) != 2 || d[0].Size != 4 {
		t.Errorf("PruneDesired kept %v", d)
	}
}

// sim runs an autoscaler against a simulated pool under load(t), the pool's total
// activity (so that the metric, per member, is load/size), evaluating every tick, as the
// running policy does when samples arrive. It returns the size after each tick.
func sim(cfg ScaleConfig, load func(time.Duration) float64, size int, tick, total time.Duration) []int {
	var h []Sample
	var last time.Time
	var sizes []int
	for d := time.Duration(0); d < total; d += tick {
		now := at(d)
		h = append(h, Sample{Time: now, Value: load(d) / float64(max(size, 1)), Size: size})
		r := DecideResize(cfg, h, size, last, now)
		if r.Changed() {
			size, last = r.To, now
		}
		h = PruneSamples(cfg, h, now)
		sizes = append(sizes, size)
	}
	return sizes
}

// square is a load alternating between hi and lo every half period.
func square(hi, lo float64, half time.Duration) func(time.Duration) float64 {
	return func(d time.Duration) float64 {
		if (d/half)%2 == 0 {
			return hi
		}
		return lo
	}
}

// moves counts the resizes and the changes of direction in a run of sizes.
func moves(sizes []int) (resizes, reversals int) {
	dir := 0
	for i := 1; i < len(sizes); i++ {
		d := sizes[i] - sizes[i-1]
		if d == 0 {
			continue
		}
		resizes++
		s := 1
		if d < 0 {
			s = -1
		}
		if dir != 0 && s != dir {
			reversals++
		}
		dir = s
	}
	return resizes, reversals
}

func TestSquareWaveDoesNotOscillate(t *testing.T) {
	// Load 300 (150 per member of 2: hot) alternating with 50 (25 per member: cold),
	// against bounds 40..100.
	delays := func(up, down time.Duration) func(*ScaleConfig) {
		return func(c *ScaleConfig) {
			c.MetricLowerBound, c.MetricUpperBound = 40, 100
			c.ResizeUpStabilizationDelay, c.ResizeDownStabilizationDelay = up, down
			c.MaxPoolSize = 10
		}
	}
	tests := []struct {
		name          string
		edit          func(*ScaleConfig)
		half          time.Duration
		maxResizes    int
		maxReversals  int
		wantReversals bool // the control case: without stabilization the pool does oscillate
	}{
		{name: "wave faster than both delays: the pool stays put", edit: delays(time.Minute, time.Minute), half: 20 * time.Second},
		{name: "half period just under the delays: stays put", edit: delays(30*time.Second, 30*time.Second), half: 25 * time.Second},
		{name: "short up delay, long down delay", edit: delays(10*time.Second, 5*time.Minute), half: 20 * time.Second, maxResizes: 1},
		{name: "long up delay, short down delay", edit: delays(5*time.Minute, 10*time.Second), half: 20 * time.Second, maxResizes: 1},
		{name: "control: no stabilization oscillates", edit: delays(0, 0), half: 20 * time.Second, maxResizes: 1000, maxReversals: 1000, wantReversals: true},
		{name: "wave slower than the delays: follows the load, once per phase", edit: delays(30*time.Second, 30*time.Second), half: 5 * time.Minute, maxResizes: 20, maxReversals: 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := scaleConfig(tt.edit)
			sizes := sim(cfg, square(300, 50, tt.half), 2, 5*time.Second, time.Hour)
			resizes, reversals := moves(append([]int{2}, sizes...))
			if resizes > tt.maxResizes || reversals > tt.maxReversals {
				t.Errorf("%d resizes, %d reversals (want at most %d, %d): %v", resizes, reversals, tt.maxResizes, tt.maxReversals, sizes)
			}
			if tt.wantReversals && reversals == 0 {
				t.Errorf("control case did not oscillate: %v", sizes)
			}
			for _, n := range sizes {
				if n < cfg.MinPoolSize || n > cfg.MaxPoolSize {
					t.Fatalf("size %d outside %d..%d", n, cfg.MinPoolSize, cfg.MaxPoolSize)
				}
			}
		})
	}
}

func TestSustainedLoadGrowsThenSettles(t *testing.T) {
	// A steady load of 1000 against an upper bound of 100 per member needs 10 members;
	// with a step of at most 2 the pool climbs 2 -> 4 -> ... -> 10 and stays there.
	cfg := scaleConfig(func(c *ScaleConfig) {
		c.ResizeUpStabilizationDelay = 20 * time.Second
		c.ResizeUpIterationMax = 2
		c.MinPeriodBetweenExecs = 10 * time.Second
	})
	sizes := sim(cfg, func(time.Duration) float64 { return 1000 }, 2, 5*time.Second, 10*time.Minute)
	if got := sizes[len(sizes)-1]; got != 10 {
		t.Fatalf("settled at %d, want 10: %v", got, sizes)
	}
	resizes, reversals := moves(append([]int{2}, sizes...))
	if resizes != 4 || reversals != 0 {
		t.Errorf("%d resizes, %d reversals, want 4 and 0: %v", resizes, reversals, sizes)
	}
	// The first resize waits for the delay: the history must cover 20s of hot values.
	for i, n := range sizes {
		if n != 2 {
			if d := time.Duration(i) * 5 * time.Second; d < 20*time.Second {
				t.Errorf("first resize after %v, before the 20s delay", d)
			}
			break
		}
	}
}
