package policies

import (
	"math"
	"strings"
	"testing"
	"time"
)

// series samples f every step over [from, to] (offsets from t0).
func series(from, to, step time.Duration, f func(s float64) float64) []Point {
	var ps []Point
	for d := from; d <= to; d += step {
		ps = append(ps, Point{Time: at(d), Value: f(d.Seconds())})
	}
	return ps
}

func TestTrendOf(t *testing.T) {
	tests := []struct {
		name     string
		points   []Point
		avg      float64
		gradient float64
		second   float64
		predict  time.Duration // predict at t0 + predict
		want     float64
		tol      float64
	}{
		{name: "no points", predict: time.Minute, want: 0},
		{name: "one point", points: []Point{{Time: at(0), Value: 7}}, avg: 7, predict: time.Minute, want: 7},
		{
			name:   "flat",
			points: series(0, 60*time.Second, 5*time.Second, func(float64) float64 { return 3 }),
			avg:    3, predict: 120 * time.Second, want: 3,
		},
		{
			name:   "linear: extrapolated exactly",
			points: series(0, 60*time.Second, 10*time.Second, func(s float64) float64 { return 10 + 2*s }),
			avg:    70, gradient: 2, predict: 120 * time.Second, want: 250,
		},
		{
			// v = 1 + 0.5t + 0.01t²: u at the middle (30s) is 1.1, a is 0.02; the average
			// stands 0.01*var(t) = 3.5 above v(30), which is the prediction's only error.
			name:   "quadratic: s = u*t + a*t²/2",
			points: series(0, 60*time.Second, 5*time.Second, func(s float64) float64 { return 1 + 0.5*s + 0.01*s*s }),
			avg:    28.5, gradient: 1.1, second: 0.02, predict: 120 * time.Second, want: 205, tol: 4,
		},
		{
			name:   "falling: never below zero",
			points: series(0, 60*time.Second, 10*time.Second, func(s float64) float64 { return 60 - s }),
			avg:    30, gradient: -1, predict: 10 * time.Minute, want: 0,
		},
		{
			name:   "unsorted, NaN skipped",
			points: []Point{{Time: at(20 * time.Second), Value: 4}, {Time: at(0)}, {Time: at(5 * time.Second), Value: nan()}, {Time: at(10 * time.Second), Value: 2}},
			avg:    2, gradient: 0.2, predict: 20 * time.Second, want: 4,
		},
		{
			name:   "same time only: no slope",
			points: []Point{{Time: at(0), Value: 1}, {Time: at(0), Value: 3}},
			avg:    2, predict: time.Minute, want: 2,
		},
	}
	near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol+1e-9 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := TrendOf(tt.points)
			if !near(tr.Average, tt.avg, 1e-9) || !near(tr.Gradient, tt.gradient, 1e-9) || !near(tr.SecondDerivative, tt.second, 1e-9) {
				t.Errorf("trend %+v, want average %v, gradient %v, second derivative %v", tr, tt.avg, tt.gradient, tt.second)
			}
			if got := tr.Predict(at(tt.predict)); !near(got, tt.want, tt.tol) {
				t.Errorf("Predict(%v) = %v, want %v±%v", tt.predict, got, tt.want, tt.tol)
			}
		})
	}
}

func TestRequiredSize(t *testing.T) {
	flat := func(v float64) []Point {
		return series(-60*time.Second, 0, 5*time.Second, func(float64) float64 { return v })
	}
	// From 0.5 a minute ago to 0.75 now: still under 0.8, but 1.0 expected in a minute.
	rising := series(-60*time.Second, 0, 5*time.Second, func(s float64) float64 { return 0.75 + 0.25*s/60 })
	cfg := FactorsConfig{LoadAverageThreshold: 0.8, MemoryConsumptionThreshold: 80, RequestsInFlightThreshold: 100, Horizon: time.Minute}
	tests := []struct {
		name    string
		cfg     FactorsConfig
		f       Factors
		current int
		want    int
		why     string
	}{
		{name: "no data: no opinion", cfg: cfg, current: 3, want: 3, why: "no factor"},
		{name: "no thresholds: no opinion", f: Factors{LoadAverage: flat(5)}, current: 3, want: 3},
		{name: "flat load under the threshold: no change", cfg: cfg, f: Factors{LoadAverage: flat(0.6)}, current: 2, want: 2},
		{name: "flat load over the threshold: proportional", cfg: cfg, f: Factors{LoadAverage: flat(1.2)}, current: 2, want: 3},
		{name: "rising load scales out before it crosses", cfg: cfg, f: Factors{LoadAverage: rising}, current: 2, want: 3, why: "load average predicted 1 in 1m0s"},
		{name: "flat low load asks for fewer", cfg: cfg, f: Factors{LoadAverage: flat(0.2)}, current: 4, want: 1},
		{name: "memory", cfg: cfg, f: Factors{MemoryConsumption: flat(90)}, current: 4, want: 5},
		{name: "requests in flight are a total", cfg: cfg, f: Factors{RequestsInFlight: flat(250)}, current: 1, want: 3},
		{name: "requests in flight: exactly at the threshold", cfg: cfg, f: Factors{RequestsInFlight: flat(300)}, current: 1, want: 3},
		{
			name: "the largest factor wins", cfg: cfg,
			f:       Factors{LoadAverage: flat(0.4), MemoryConsumption: flat(100), RequestsInFlight: flat(150)},
			current: 4, want: 5, why: "memory consumption predicted 100 in 1m0s (threshold 80) requires 5",
		},
		{name: "no load at all", cfg: cfg, f: Factors{RequestsInFlight: flat(0)}, current: 4, want: 0},
		{
			// 0.9 per member of 2, then 0.6 per member of 3: the same total of 1.8, flat.
			name: "a resize is not a change of load", cfg: cfg, current: 3, want: 3,
			f: Factors{LoadAverage: []Point{{at(-60 * time.Second), 0.9, 2}, {at(-30 * time.Second), 0.9, 2}, {at(-20 * time.Second), 0.6, 3}, {at(0), 0.6, 3}}},
		},
		{
			name: "two noisy points just taken predict no further than they reach", cfg: cfg, current: 2, want: 2,
			f: Factors{LoadAverage: []Point{{Time: at(-time.Second), Value: 0.6}, {Time: at(0), Value: 0.65}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RequiredSize(tt.cfg, tt.f, tt.current, t0)
			if r.Size != tt.want {
				t.Errorf("RequiredSize = %d (%s), want %d", r.Size, r.Reason, tt.want)
			}
			if !strings.Contains(r.Reason, tt.why) {
				t.Errorf("reason %q does not say %q", r.Reason, tt.why)
			}
		})
	}
}

// simFactors runs multi-factor scaling against a pool whose total load is load(t) (so
// that each member's load average is load/size), sampled every 5s and kept for a minute,
// through the autoscaler's stabilization; it returns when the pool first grew (zero if it
// never did) and its size at the end.
func simFactors(t *testing.T, load func(s float64) float64, total time.Duration) (firstResize time.Duration, size int) {
	t.Helper()
	fc := FactorsConfig{LoadAverageThreshold: 0.8, Horizon: time.Minute}
	sc := DefaultScaleConfig()
	sc.ResizeUpStabilizationDelay = 10 * time.Second
	sc.ResizeDownStabilizationDelay = 2 * time.Minute
	sc.MaxPoolSize = 10
	size = 2
	var la []Point
	var wants []Desired
	var last time.Time
	for d := time.Duration(0); d <= total; d += 5 * time.Second {
		now := at(d)
		la = PrunePoints(append(la, Point{Time: now, Value: load(d.Seconds()) / float64(size), Size: size}), time.Minute, now)
		req := RequiredSize(fc, Factors{LoadAverage: la}, size, now)
		wants = PruneDesired(sc, append(wants, Desired{now, sc.Step(size, req.Size)}), now)
		if r := DecideDesired(sc, wants, size, last, now); r.Changed() {
			if r.To > size && firstResize == 0 {
				firstResize = d
			}
			size, last = r.To, now
		}
	}
	return firstResize, size
}

func TestPredictiveScaleOut(t *testing.T) {
	// Total load rising by 0.01 a second from 1.0: two members cross 0.8 each at 60s.
	first, _ := simFactors(t, func(s float64) float64 { return 1.0 + 0.01*s }, 3*time.Minute)
	if first == 0 || first >= 60*time.Second {
		t.Errorf("rising load: first scale-out at %v, want before the breach at 60s", first)
	}
	// A flat load at 0.6 per member, with a little noise, never resizes.
	noisy := func(s float64) float64 { return 1.2 + 0.04*math.Sin(s) }
	if first, size := simFactors(t, noisy, 10*time.Minute); first != 0 || size != 2 {
		t.Errorf("flat load: resized (first growth at %v, size %d at the end)", first, size)
	}
}
