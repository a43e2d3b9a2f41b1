package policies

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrInvalid is wrapped by errors about a policy configuration that cannot be used: a
// minimum above a maximum, a lower bound above an upper bound, a negative duration.
var ErrInvalid = errors.New("invalid")

// maxSize stands for "no maximum": Brooklyn's Integer.MAX_VALUE.
const maxSize = math.MaxInt32

// ScaleConfig is the configuration of an autoscaler, with the meanings of Brooklyn's
// AutoScalerPolicy keys (autoscaler.metricLowerBound ...). The zero value of a field means
// Brooklyn's default where that default is "off" or "unbounded"; DefaultScaleConfig gives
// Brooklyn's defaults for the others.
type ScaleConfig struct {
	// MetricLowerBound and MetricUpperBound bound the metric, a per-member value (such as
	// requests per second per member). Above the upper bound the pool is hot and grows;
	// below the lower bound it is cold and shrinks. A bound <= 0 is unset, as in Brooklyn:
	// the pool never grows (upper) or shrinks (lower) on the metric.
	MetricLowerBound float64
	MetricUpperBound float64
	// MinPoolSize and MaxPoolSize bound the pool; it is never resized outside them, and
	// a pool found outside them is brought back at once. MaxPoolSize 0 means no maximum.
	MinPoolSize int
	MaxPoolSize int
	// ResizeUpStabilizationDelay is how long the metric must have asked for a bigger pool
	// before the pool grows; the pool grows to the smallest size asked for over that time.
	// ResizeDownStabilizationDelay likewise for shrinking, to the largest size asked for.
	ResizeUpStabilizationDelay   time.Duration
	ResizeDownStabilizationDelay time.Duration
	// MinPeriodBetweenExecs is the least time between two resizes.
	MinPeriodBetweenExecs time.Duration
	// ResizeUpIterationIncrement: a pool grows by a multiple of it (0 means 1).
	// ResizeUpIterationMax: the most it grows by in one resize (0 means no limit).
	// The Down pair are the same for shrinking.
	ResizeUpIterationIncrement   int
	ResizeUpIterationMax         int
	ResizeDownIterationIncrement int
	ResizeDownIterationMax       int
	// InsufficientCapacityHighWaterMark, when > 0, is a size the pool is never grown
	// beyond: the size at which a resize last failed for want of capacity (Brooklyn's
	// autoscaler.insufficientCapacityHighWaterMark).
	InsufficientCapacityHighWaterMark int
}

// DefaultScaleConfig returns Brooklyn's defaults: a pool of at least 1 and no maximum,
// no stabilization delay, 100ms between resizes, steps of 1 without limit, and no bounds.
func DefaultScaleConfig() ScaleConfig {
	return ScaleConfig{
		MinPoolSize:                  1,
		MinPeriodBetweenExecs:        100 * time.Millisecond,
		ResizeUpIterationIncrement:   1,
		ResizeDownIterationIncrement: 1,
	}
}

// Validate reports a configuration that cannot be used, wrapping ErrInvalid.
func (c ScaleConfig) Validate() error {
	switch {
	case c.MinPoolSize < 0:
		return fmt.Errorf("minPoolSize %d is negative: %w", c.MinPoolSize, ErrInvalid)
	case c.MaxPoolSize < 0:
		return fmt.Errorf("maxPoolSize %d is negative: %w", c.MaxPoolSize, ErrInvalid)
	case c.MaxPoolSize > 0 && c.MinPoolSize > c.MaxPoolSize:
		return fmt.Errorf("minPoolSize %d is greater than maxPoolSize %d: %w", c.MinPoolSize, c.MaxPoolSize, ErrInvalid)
	case c.MetricLowerBound > 0 && c.MetricUpperBound > 0 && c.MetricLowerBound > c.MetricUpperBound:
		return fmt.Errorf("metricLowerBound %g is greater than metricUpperBound %g: %w", c.MetricLowerBound, c.MetricUpperBound, ErrInvalid)
	case c.ResizeUpStabilizationDelay < 0 || c.ResizeDownStabilizationDelay < 0 || c.MinPeriodBetweenExecs < 0:
		return fmt.Errorf("a stabilization delay or minPeriodBetweenExecs is negative: %w", ErrInvalid)
	case c.ResizeUpIterationIncrement < 0 || c.ResizeUpIterationMax < 0 || c.ResizeDownIterationIncrement < 0 || c.ResizeDownIterationMax < 0:
		return fmt.Errorf("a resize iteration increment or maximum is negative: %w", ErrInvalid)
	}
	return nil
}

func (c ScaleConfig) max() int {
	m := maxSize
	if c.MaxPoolSize > 0 {
		m = c.MaxPoolSize
	}
	if c.InsufficientCapacityHighWaterMark > 0 && c.InsufficientCapacityHighWaterMark < m {
		m = c.InsufficientCapacityHighWaterMark
	}
	return m
}

// Clamp brings a size within the pool's bounds: MinPoolSize, MaxPoolSize and the
// insufficient-capacity high-water mark (Brooklyn's applyMinMaxConstraints); never below 0.
func (c ScaleConfig) Clamp(size int) int {
	size = max(size, c.MinPoolSize, 0)
	return min(size, c.max())
}

// Step returns the size a pool of current members is resized to when desired members are
// wanted: the change is rounded up to a multiple of the iteration increment, or cut to the
// iteration maximum, then clamped, as Brooklyn's autoscaler does for each metric value.
func (c ScaleConfig) Step(current, desired int) int {
	desired = c.Clamp(desired)
	switch {
	case desired > current:
		return c.Clamp(current + stepDelta(desired-current, c.ResizeUpIterationIncrement, c.ResizeUpIterationMax))
	case desired < current:
		return c.Clamp(current - stepDelta(current-desired, c.ResizeDownIterationIncrement, c.ResizeDownIterationMax))
	}
	return desired
}

// stepDelta is Brooklyn's rule: cut to the maximum, else round up to the increment.
func stepDelta(delta, increment, most int) int {
	increment = max(increment, 1)
	if most > 0 && delta > most {
		return most
	}
	if r := delta % increment; r != 0 {
		delta += increment - r
	}
	return delta
}

// toSize turns a float size into an int, saturating at maxSize.
func toSize(f float64) int {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	if f >= maxSize {
		return maxSize
	}
	return int(f)
}

// DesiredSize is what one metric value asks of a pool of size members (Brooklyn's
// AutoScalerPolicy.analyze). The metric is a per-member value, so the pool's total
// activity is value*size:
//
//   - hot (value > upper bound): the smallest n with n*upper >= total, that is
//     ceil(total/upper), stepped by the up increment and maximum and clamped;
//   - cold (value < lower bound): floor(total/lower), stepped by the down increment and
//     maximum, but never so small that total > n*upper (which would make the pool hot at
//     once: Brooklyn's anti-thrashing rule), and clamped;
//   - otherwise the pool size as it is.
//
// It returns that size and a sentence saying why.
func DesiredSize(c ScaleConfig, value float64, size int) (int, string) {
	n, _, why := desire(c, value, size)
	return n, why
}

// desire is DesiredSize, also saying whether the value wants a change at all.
func desire(c ScaleConfig, value float64, size int) (n int, wants bool, why string) {
	total := value * float64(size)
	switch {
	case math.IsNaN(value) || math.IsInf(value, 0):
		return size, false, fmt.Sprintf("metric %v is not a number", value)
	case c.MetricUpperBound > 0 && value > c.MetricUpperBound:
		want := c.Step(size, toSize(math.Ceil(total/c.MetricUpperBound-1e-9)))
		if want <= size {
			return size, false, fmt.Sprintf("metric %s above upper bound %s, but the pool is at its maximum %d", num(value), num(c.MetricUpperBound), size)
		}
		return want, true, fmt.Sprintf("metric %s above upper bound %s", num(value), num(c.MetricUpperBound))
	case c.MetricLowerBound > 0 && value < c.MetricLowerBound:
		want := c.Clamp(toSize(math.Floor(total/c.MetricLowerBound + 1e-9)))
		if want < size {
			want = size - stepDelta(size-want, c.ResizeDownIterationIncrement, c.ResizeDownIterationMax)
			if c.MetricUpperBound > 0 {
				for want < size && total > c.MetricUpperBound*float64(want) {
					want += max(c.ResizeDownIterationIncrement, 1)
				}
			}
			want = c.Clamp(want)
		}
		if want >= size {
			return size, false, fmt.Sprintf("metric %s below lower bound %s, but a smaller pool would be too hot or below its minimum", num(value), num(c.MetricLowerBound))
		}
		return want, true, fmt.Sprintf("metric %s below lower bound %s", num(value), num(c.MetricLowerBound))
	}
	return size, false, fmt.Sprintf("metric %s within %s..%s", num(value), bound(c.MetricLowerBound), bound(c.MetricUpperBound))
}

func num(f float64) string { return fmt.Sprintf("%.4g", f) }

func bound(f float64) string {
	if f <= 0 {
		return "-"
	}
	return num(f)
}

// Sample is one observation of the autoscaler's metric: when, its value, and the pool
// size at that moment (the value is per member, so the size says what total it stands for).
type Sample struct {
	Time  time.Time `json:"t"`
	Value float64   `json:"v"`
	Size  int       `json:"n"`
	// Lower and Upper, when either is non-zero, are the bounds this sample is judged by
	// instead of the configuration's: Brooklyn's pool hot, cold and ok events carry their
	// own thresholds. A negative bound is unset (a hot event has no lower bound).
	Lower float64 `json:"lo,omitempty"`
	Upper float64 `json:"hi,omitempty"`
}

// Desired is the pool size wanted at a time: what a metric sample asked (DesiredSize), or
// what the multi-factor rule required (RequiredSize, then ScaleConfig.Step).
type Desired struct {
	Time time.Time `json:"t"`
	Size int       `json:"n"`
}

// Resize is an autoscaler's decision: resize the pool From -> To (no change when they are
// equal), with a sentence saying why, and when to decide again if nothing new arrives
// (zero when only a new sample can change the decision).
type Resize struct {
	From, To  int
	Reason    string
	RecheckAt time.Time
}

// Changed says whether the decision is a resize.
func (r Resize) Changed() bool { return r.From != r.To }

// DecideResize is Brooklyn's AutoScalerPolicy as a function. Each sample of the metric
// history h says what size it asks for (DesiredSize, with the bounds of cfg as they are
// now, so reconfigured bounds apply to the history too); DecideDesired then keeps only
// what has been asked for long enough. current is the pool size now, lastResize the time
// of the last resize (zero if none); samples later than now are ignored.
//
// A sample that asks for no change (within bounds, or hot at the maximum) stands for the
// pool as it is now, where Brooklyn records the size it had then: both are the same while
// the pool keeps its size, and this way a pool resized by hand is not taken back to its
// old size by the values seen before.
func DecideResize(cfg ScaleConfig, h []Sample, current int, lastResize, now time.Time) Resize {
	wants := make([]Desired, 0, len(h))
	var last string
	for _, s := range sortedSamples(h) {
		if s.Time.After(now) {
			break
		}
		c := cfg
		if s.Lower != 0 || s.Upper != 0 {
			c.MetricLowerBound, c.MetricUpperBound = s.Lower, s.Upper
		}
		n, asks, why := desire(c, s.Value, s.Size)
		if !asks {
			n = current
		}
		wants = append(wants, Desired{Time: s.Time, Size: n})
		last = why
	}
	r := DecideDesired(cfg, wants, current, lastResize, now)
	if last != "" {
		r.Reason = last + "; " + r.Reason
	}
	return r
}

func sortedSamples(h []Sample) []Sample {
	if slices.IsSortedFunc(h, func(a, b Sample) int { return a.Time.Compare(b.Time) }) {
		return h
	}
	h = slices.Clone(h)
	slices.SortStableFunc(h, func(a, b Sample) int { return a.Time.Compare(b.Time) })
	return h
}

// DecideDesired is the stabilization half of the autoscaler (Brooklyn's
// calculateDesiredPoolSize over its SizeHistory): given the sizes wanted over time, it
// grows the pool only to what has been wanted for the whole of the last
// ResizeUpStabilizationDelay (the minimum wanted in that window), and shrinks it only to
// what has been wanted for the whole of the last ResizeDownStabilizationDelay (the
// maximum in that window). A window counts only when the history covers it: a wish made
// before its start must be known. So a load that swings faster than the delays leaves the
// pool as it is. The result is clamped to the pool's bounds (a pool outside them is brought
// back at once), and no resize happens within MinPeriodBetweenExecs of the last one.
func DecideDesired(cfg ScaleConfig, h []Desired, current int, lastResize, now time.Time) Resize {
	h = sortedDesired(h)
	upLo, _, upCovered := summarize(h, cfg.ResizeUpStabilizationDelay, now)
	_, downHi, downCovered := summarize(h, cfg.ResizeDownStabilizationDelay, now)

	r := Resize{From: current, To: current}
	target, why := current, "no sustained wish to resize"
	switch {
	case upCovered && current < upLo:
		target = upLo
		why = fmt.Sprintf("at least %d wanted for %s", upLo, cfg.ResizeUpStabilizationDelay)
	case downCovered && current > downHi:
		target = downHi
		why = fmt.Sprintf("at most %d wanted for %s", downHi, cfg.ResizeDownStabilizationDelay)
	}
	if c := cfg.Clamp(target); c != target {
		if target == current {
			why = fmt.Sprintf("size %d outside %d..%s", current, cfg.MinPoolSize, sizeText(cfg.max()))
		} else {
			why += fmt.Sprintf(", within %d..%s", cfg.MinPoolSize, sizeText(cfg.max()))
		}
		target = c
	}
	r.To = target
	r.Reason = why
	if r.Changed() {
		if next := lastResize.Add(cfg.MinPeriodBetweenExecs); !lastResize.IsZero() && now.Before(next) {
			r.To = current
			r.Reason = fmt.Sprintf("%s, but the last resize was %s ago (less than %s)", why, now.Sub(lastResize), cfg.MinPeriodBetweenExecs)
			r.RecheckAt = next
			return r
		}
		r.Reason = fmt.Sprintf("resize %d -> %d: %s", current, target, why)
		return r
	}
	r.RecheckAt = earliest(
		nextChange(h, cfg.ResizeUpStabilizationDelay, current, now),
		nextChange(h, cfg.ResizeDownStabilizationDelay, current, now))
	return r
}

func sizeText(n int) string {
	if n >= maxSize {
		return "unbounded"
	}
	return fmt.Sprint(n)
}

func sortedDesired(h []Desired) []Desired {
	if slices.IsSortedFunc(h, func(a, b Desired) int { return a.Time.Compare(b.Time) }) {
		return h
	}
	h = slices.Clone(h)
	slices.SortStableFunc(h, func(a, b Desired) int { return a.Time.Compare(b.Time) })
	return h
}

// window returns the part of h (sorted) in force during [now-d, now]: the index of the
// wish in force at the window's start (-1 when the history does not reach back that far)
// and the index after the last wish at or before now.
func window(h []Desired, d time.Duration, now time.Time) (first, end int) {
	start := now.Add(-d)
	end, _ = slices.BinarySearchFunc(h, now, func(x Desired, t time.Time) int {
		if x.Time.After(t) {
			return 1
		}
		return -1
	})
	first = -1
	for i := end - 1; i >= 0; i-- {
		if !h[i].Time.After(start) {
			first = i
			break
		}
	}
	return first, end
}

// summarize returns the least and greatest size wanted during the last d, and whether the
// history covers that whole window (Brooklyn's SizeHistory.summarizeWindow).
func summarize(h []Desired, d time.Duration, now time.Time) (lo, hi int, covered bool) {
	first, end := window(h, d, now)
	if first < 0 {
		return 0, 0, false
	}
	lo, hi = h[first].Size, h[first].Size
	for _, x := range h[first+1 : end] {
		lo, hi = min(lo, x.Size), max(hi, x.Size)
	}
	return lo, hi, true
}

// nextChange is when the window of length d will next lose a wish (so that its summary
// may change without a new one), if any wish in it differs from current; zero otherwise.
func nextChange(h []Desired, d time.Duration, current int, now time.Time) time.Time {
	first, end := window(h, d, now)
	differs := false
	for _, x := range h[max(first, 0):end] {
		differs = differs || x.Size != current
	}
	if !differs {
		return time.Time{}
	}
	// The wish after the one in force at the start becomes the one in force when it is d old.
	next := first + 1
	if next >= end {
		return time.Time{}
	}
	return h[next].Time.Add(d)
}

// earliest returns the earliest non-zero time, or zero.
func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// ScaleHistoryWindow is how much history DecideResize needs: the longer stabilization delay.
func (c ScaleConfig) ScaleHistoryWindow() time.Duration {
	return max(c.ResizeUpStabilizationDelay, c.ResizeDownStabilizationDelay)
}

// PruneSamples drops the samples DecideResize no longer needs: those older than
// cfg.ScaleHistoryWindow(), except the newest of them (it is still in force at the start
// of the window). It returns a new slice, sorted by time.
func PruneSamples(cfg ScaleConfig, h []Sample, now time.Time) []Sample {
	h = sortedSamples(h)
	start := now.Add(-cfg.ScaleHistoryWindow())
	keep := 0
	for i, s := range h {
		if !s.Time.After(start) {
			keep = i
		}
	}
	return slices.Clone(h[keep:])
}

// PruneDesired is PruneSamples for a history of wanted sizes.
func PruneDesired(cfg ScaleConfig, h []Desired, now time.Time) []Desired {
	h = sortedDesired(h)
	start := now.Add(-cfg.ScaleHistoryWindow())
	keep := 0
	for i, s := range h {
		if !s.Time.After(start) {
			keep = i
		}
	}
	return slices.Clone(h[keep:])
}
