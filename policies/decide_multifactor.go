package policies

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Multi-factor, predictive scaling after Apache Stratos's autoscaler (its scaling.drl rule
// and RuleTasksDelegator). Stratos watches three factors of a cluster: the members' load
// average, their memory consumption, and the requests in flight at the load balancer. For
// each it keeps the recent average, its gradient (first derivative) and its second
// derivative, predicts the value one interval ahead with s = u*t + a*t²/2 from the
// average, turns each prediction into a number of instances needed, and takes the
// largest. A load that rises therefore scales out before it crosses its threshold.
//
// Where Gantry differs, and why:
//   - time is in seconds and the horizon is a parameter (Stratos predicts "the next
//     minute" with t = 1 while its gradients are per second), and t is measured from the
//     moment the average stands for (the mean time of the points), not from its end;
//   - load average and memory both use the proportional rule ceil(predicted total /
//     threshold), the total being the per-member value times the pool size: the member
//     count at which the per-member value falls to the threshold. Stratos uses the minimum instance count instead of the current one for
//     load average, and for memory a line from min (at the threshold) to max (at 100%),
//     which means nothing with an unbounded maximum;
//   - a trend is never extrapolated further ahead than its points reach back (the horizon
//     is cut to their span), so that two noisy points just taken do not predict a surge;
//   - Stratos waits for three scale-down decisions in a row before removing one member;
//     here the required size goes through the autoscaler's stabilization windows and
//     steps (DecideDesired, ScaleConfig.Step), which do the same job for both directions.

// Point is one observation of a factor. Size, for the per-member factors, is the pool
// size when it was taken (0: the current size): the trend is computed on the pool's total
// (Value*Size), so that a resize, which changes every member's share, is not mistaken
// for a change of load.
type Point struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
	Size  int       `json:"n,omitempty"`
}

// Trend summarises a series of points as Stratos does: the average, the gradient (first
// derivative, per second) and the second derivative (per second²), standing at At (the
// mean time of the points).
type Trend struct {
	Average          float64
	Gradient         float64
	SecondDerivative float64
	At               time.Time
	N                int           // how many points it summarises
	Span             time.Duration // from the first point to the last
}

// TrendOf computes the trend of points (in any order). The gradient is the least-squares
// slope of the points (Stratos's (last-first)/dt when there are two); the second
// derivative is the change of the slopes of the older and the newer half of the points
// over the time between their middles, and zero when either half has fewer than two
// distinct times. NaN and infinite values are skipped.
func TrendOf(points []Point) Trend {
	ps := make([]Point, 0, len(points))
	for _, p := range points {
		if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return Trend{}
	}
	slices.SortStableFunc(ps, func(a, b Point) int { return a.Time.Compare(b.Time) })
	origin := ps[0].Time
	mean, tm := 0.0, 0.0
	for _, p := range ps {
		mean += p.Value
		tm += p.Time.Sub(origin).Seconds()
	}
	n := float64(len(ps))
	mean, tm = mean/n, tm/n
	tr := Trend{Average: mean, At: origin.Add(seconds(tm)), N: len(ps), Span: ps[len(ps)-1].Time.Sub(origin)}
	g, _, ok := slope(ps, origin)
	if !ok {
		return tr
	}
	tr.Gradient = g
	half := len(ps) / 2
	g1, m1, ok1 := slope(ps[:half], origin)
	g2, m2, ok2 := slope(ps[half:], origin)
	if ok1 && ok2 && m2 > m1 {
		tr.SecondDerivative = (g2 - g1) / (m2 - m1)
	}
	return tr
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// slope is the least-squares slope of ps (per second) and the mean time it stands at
// (seconds after origin); ok is false without two distinct times.
func slope(ps []Point, origin time.Time) (g, tm float64, ok bool) {
	if len(ps) < 2 {
		return 0, 0, false
	}
	var st, sv float64
	for _, p := range ps {
		st += p.Time.Sub(origin).Seconds()
		sv += p.Value
	}
	n := float64(len(ps))
	tm, vm := st/n, sv/n
	var num, den float64
	for _, p := range ps {
		dt := p.Time.Sub(origin).Seconds() - tm
		num += dt * (p.Value - vm)
		den += dt * dt
	}
	if den == 0 {
		return 0, tm, false
	}
	return num / den, tm, true
}

// Predict returns the value expected at a time: Average + u*t + a*t²/2, where t is the
// time from At in seconds, u the gradient and a the second derivative (Stratos's
// getPredictedValueForNextMinute), never below 0 (none of the factors can be negative).
func (t Trend) Predict(when time.Time) float64 {
	if t.N == 0 {
		return 0
	}
	dt := when.Sub(t.At).Seconds()
	return max(0, t.Average+t.Gradient*dt+0.5*t.SecondDerivative*dt*dt)
}

// The factors of multi-factor scaling, by the names Stratos gives them.
const (
	FactorLoadAverage       = "load average"
	FactorMemoryConsumption = "memory consumption"
	FactorRequestsInFlight  = "requests in flight"
)

// FactorsConfig holds the thresholds of multi-factor scaling. A threshold <= 0 leaves its
// factor out.
type FactorsConfig struct {
	// LoadAverageThreshold is the load average per member to stay under.
	LoadAverageThreshold float64
	// MemoryConsumptionThreshold is the memory consumption per member (a percentage) to
	// stay under.
	MemoryConsumptionThreshold float64
	// RequestsInFlightThreshold is the number of requests in flight at the load balancer
	// that one member can take.
	RequestsInFlightThreshold float64
	// Horizon is how far ahead of now the values are predicted (Stratos: one minute).
	// Zero means one minute.
	Horizon time.Duration
}

// Factors holds the recent observations of each factor: the members' average load and
// memory consumption, and the total requests in flight at the load balancer.
type Factors struct {
	LoadAverage       []Point
	MemoryConsumption []Point
	RequestsInFlight  []Point
}

// FactorResult is what one factor says: its trend, the value predicted at the horizon,
// its threshold and the number of members it requires.
type FactorResult struct {
	Name      string
	Trend     Trend
	Predicted float64
	Threshold float64
	Required  int
}

// Requirement is the outcome of multi-factor scaling: the largest number of members the
// factors require (Size; the current size when no factor has data), each factor's result,
// and a sentence saying why.
type Requirement struct {
	Size    int
	Factors []FactorResult
	Reason  string
}

// RequiredSize is Stratos's scaling rule: each factor that has a threshold and points
// predicts its value at now+Horizon (the horizon cut to the span of its points) and
// requires
//
//   - load average and memory consumption (per-member values): ceil(predicted total /
//     threshold), the size at which each member is back at the threshold (the total is
//     the value times the pool size of each point, see Point);
//   - requests in flight (a total at the load balancer): ceil(predicted / threshold);
//
// and the pool needs the largest of them. The result is a wish, not a decision: feed it,
// with ScaleConfig.Step, to DecideDesired, which clamps it and applies the stabilization
// delays.
func RequiredSize(cfg FactorsConfig, f Factors, current int, now time.Time) Requirement {
	horizon := cfg.Horizon
	if horizon <= 0 {
		horizon = time.Minute
	}
	req := Requirement{Size: -1}
	add := func(name string, points []Point, threshold float64, perMember bool) {
		if threshold <= 0 || len(points) == 0 {
			return
		}
		if perMember {
			totals := make([]Point, len(points))
			for i, p := range points {
				n := p.Size
				if n <= 0 {
					n = current
				}
				totals[i] = Point{Time: p.Time, Value: p.Value * float64(n)}
			}
			points = totals
		}
		tr := TrendOf(points)
		if tr.N == 0 {
			return
		}
		p := tr.Predict(now.Add(min(horizon, tr.Span)))
		n := toSize(math.Ceil(p/threshold - 1e-9))
		if perMember {
			p /= float64(max(current, 1)) // reported per member, at the current size
		}
		req.Factors = append(req.Factors, FactorResult{Name: name, Trend: tr, Predicted: p, Threshold: threshold, Required: n})
		req.Size = max(req.Size, n)
	}
	add(FactorLoadAverage, f.LoadAverage, cfg.LoadAverageThreshold, true)
	add(FactorMemoryConsumption, f.MemoryConsumption, cfg.MemoryConsumptionThreshold, true)
	add(FactorRequestsInFlight, f.RequestsInFlight, cfg.RequestsInFlightThreshold, false)
	if req.Size < 0 {
		req.Size = current
		req.Reason = "no factor has a threshold and data"
		return req
	}
	var parts []string
	for _, r := range req.Factors {
		parts = append(parts, fmt.Sprintf("%s predicted %s in %s (threshold %s) requires %d", r.Name, num(r.Predicted), horizon, num(r.Threshold), r.Required))
	}
	req.Reason = strings.Join(parts, "; ")
	return req
}

// PrunePoints drops the points older than window before now.
func PrunePoints(points []Point, window time.Duration, now time.Time) []Point {
	start := now.Add(-window)
	return slices.DeleteFunc(slices.Clone(points), func(p Point) bool { return p.Time.Before(start) })
}
