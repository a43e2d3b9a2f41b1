package sensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by errors about values or settings this package cannot use: an
// unknown aggregation or quorum check, a value that is not a number where one is needed,
// an expression that does not compile.
var ErrInvalid = errors.New("invalid")

// The aggregations of Brooklyn's Aggregator enricher (its `transformation`), by the names
// Brooklyn gives them. Names are matched without regard to case; "quorum" is accepted for
// AggQuorum.
const (
	AggSum     = "sum"
	AggAverage = "average"
	AggMin     = "min"
	AggMax     = "max"
	AggList    = "list"
	AggFirst   = "first"
	AggQuorum  = "isQuorate"
)

// Aggregation computes one value from the values of a sensor on several entities (the
// members or children of the entity an Aggregator enricher is attached to). It follows
// Brooklyn's Aggregator and MathAggregatorFunctions:
//
//   - sum, average, min and max read numbers (Go numbers, json.Number, or strings holding
//     one). A nil or blank value is "unreported": it counts as DefaultValue when that is
//     set, and is skipped otherwise. When no value counts, the result is ValueIfNone (nil
//     unless set). Results are float64, as Brooklyn's are Double by default. A value that
//     is neither unreported nor a number is an error wrapping ErrInvalid.
//   - list is the values, in order; first is the first value (nil when there is none).
//   - isQuorate (or quorum) counts the values that are true (a bool, or the string "true")
//     and asks Quorum whether that many of Total is enough.
//
// ExcludeBlank (Brooklyn's enricher.aggregator.excludeBlank) first drops nil values and
// blank strings, for every kind.
type Aggregation struct {
	// Kind is one of the Agg* names.
	Kind string
	// DefaultValue stands for a value that was not reported (Brooklyn's
	// defaultValueForUnreportedSensors, enricher.defaultMemberValue), for the numeric kinds.
	DefaultValue any
	// ValueIfNone is the result of a numeric kind when no value counts (Brooklyn's
	// valueToReportIfNoSensors).
	ValueIfNone any
	// ExcludeBlank drops nil values and blank strings before anything else.
	ExcludeBlank bool
	// Quorum is the check of the quorum kind; nil means QuorumAllAndAtLeastOne, Brooklyn's
	// default for quorum.check.type.
	Quorum *QuorumCheck
	// Total is the number of values a quorum is counted against; 0 means the number of
	// values given. (Brooklyn's quorum.total.size defaults to 1, which makes "all" mean
	// "at least one"; counting the values is what a group's members need.)
	Total int
}

// Aggregate applies the aggregation kind, with Brooklyn's defaults, to values.
func Aggregate(kind string, values []any) (any, error) {
	return Aggregation{Kind: kind}.Apply(values)
}

// Apply aggregates values.
func (a Aggregation) Apply(values []any) (any, error) {
	if a.ExcludeBlank {
		kept := make([]any, 0, len(values))
		for _, v := range values {
			if !blank(v) {
				kept = append(kept, v)
			}
		}
		values = kept
	}
	kind := aggregationKind(a.Kind)
	switch kind {
	case AggList:
		return append([]any{}, values...), nil
	case AggFirst:
		if len(values) == 0 {
			return nil, nil
		}
		return values[0], nil
	case AggQuorum:
		q := a.Quorum
		if q == nil {
			q = QuorumAllAndAtLeastOne
		}
		healthy := 0
		for _, v := range values {
			if truthy(v) {
				healthy++
			}
		}
		total := a.Total
		if total <= 0 {
			total = len(values)
		}
		return q.IsQuorate(healthy, total), nil
	case AggSum, AggAverage, AggMin, AggMax:
		return a.numeric(kind, values)
	}
	return nil, fmt.Errorf("aggregation %q: %w: use one of sum, average, min, max, list, first, isQuorate", a.Kind, ErrInvalid)
}

// aggregationKind is the canonical name of an aggregation ("" when unknown).
func aggregationKind(s string) string {
	for _, k := range []string{AggSum, AggAverage, AggMin, AggMax, AggList, AggFirst, AggQuorum} {
		if strings.EqualFold(s, k) {
			return k
		}
	}
	if strings.EqualFold(s, "quorum") {
		return AggQuorum
	}
	return ""
}

// ValidAggregation says whether kind names an aggregation.
func ValidAggregation(kind string) bool { return aggregationKind(kind) != "" }

func (a Aggregation) numeric(kind string, values []any) (any, error) {
	var def *float64
	if !blank(a.DefaultValue) {
		f, ok := Number(a.DefaultValue)
		if !ok {
			return nil, fmt.Errorf("%s: default value %v is not a number: %w", kind, a.DefaultValue, ErrInvalid)
		}
		def = &f
	}
	var sum, lo, hi float64
	n := 0
	for _, v := range values {
		var f float64
		switch {
		case !blank(v):
			x, ok := Number(v)
			if !ok {
				return nil, fmt.Errorf("%s: %v (%T) is not a number: %w", kind, v, v, ErrInvalid)
			}
			f = x
		case def != nil:
			f = *def
		default:
			continue
		}
		if n == 0 || f < lo {
			lo = f
		}
		if n == 0 || f > hi {
			hi = f
		}
		sum += f
		n++
	}
	if n == 0 {
		if blank(a.ValueIfNone) {
			return nil, nil
		}
		f, ok := Number(a.ValueIfNone)
		if !ok {
			return a.ValueIfNone, nil
		}
		return f, nil
	}
	switch kind {
	case AggSum:
		return sum, nil
	case AggAverage:
		return sum / float64(n), nil
	case AggMin:
		return lo, nil
	default:
		return hi, nil
	}
}

// blank is nil or a string of white space.
func blank(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true")
	}
	return false
}

// Number reads a number: any Go integer or float, a json.Number, or a string holding one
// (surrounding space allowed). NaN is not a number.
func Number(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// QuorumCheck says whether enough of a group is healthy: Brooklyn's QuorumCheck. A
// numeric check needs at least MinSize healthy and at least MinRatio of the total, and
// passes an empty group when AllowEmpty; a linear-range check (ParseQuorumCheck) reads
// the minimum from a line through points (total, minimum healthy).
type QuorumCheck struct {
	Name       string
	MinSize    int
	MinRatio   float64
	AllowEmpty bool
	points     [][2]float64 // linear range, when set
}

// Brooklyn's named quorum checks (quorum.check.type, up.quorum.check, ...).
var (
	// QuorumAll: every member that should be up is up (an empty group passes).
	QuorumAll = &QuorumCheck{Name: "all", MinRatio: 1, AllowEmpty: true}
	// QuorumAllAndAtLeastOne: all, and there is at least one.
	QuorumAllAndAtLeastOne = &QuorumCheck{Name: "allAndAtLeastOne", MinSize: 1, MinRatio: 1}
	// QuorumAtLeastOne: at least one is up.
	QuorumAtLeastOne = &QuorumCheck{Name: "atLeastOne", MinSize: 1}
	// QuorumAtLeastOneUnlessEmpty: at least one is up, or the group is empty.
	QuorumAtLeastOneUnlessEmpty = &QuorumCheck{Name: "atLeastOneUnlessEmpty", MinSize: 1, AllowEmpty: true}
	// QuorumAlwaysHealthy always passes.
	QuorumAlwaysHealthy = &QuorumCheck{Name: "alwaysHealthy", AllowEmpty: true}
)

// ParseQuorumCheck reads a quorum check as Brooklyn's QuorumChecks.of does: one of the
// names all, allAndAtLeastOne, atLeastOne, atLeastOneUnlessEmpty, alwaysHealthy (also
// alwaysTrue); an integer n (at least n healthy; an empty group passes when n > 0); or a
// linear range, a JSON list of at least two points [total, minimum healthy] in increasing
// order of total, such as "[[0,1],[1,1],[10,10],[100,70]]", interpolated and extended in
// straight lines on either side.
func ParseQuorumCheck(s string) (*QuorumCheck, error) {
	s = strings.TrimSpace(s)
	for _, q := range []*QuorumCheck{QuorumAll, QuorumAllAndAtLeastOne, QuorumAtLeastOne, QuorumAtLeastOneUnlessEmpty, QuorumAlwaysHealthy} {
		if s == q.Name {
			return q, nil
		}
	}
	if s == "alwaysTrue" {
		return QuorumAlwaysHealthy, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return &QuorumCheck{Name: s, MinSize: n, AllowEmpty: n > 0}, nil
	}
	var pts [][]float64
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &pts) == nil {
		q := &QuorumCheck{Name: s}
		for i, p := range pts {
			if len(p) != 2 {
				return nil, fmt.Errorf("quorum check %s: point %d has %d coordinates, not 2: %w", s, i+1, len(p), ErrInvalid)
			}
			if i > 0 && p[0] <= q.points[i-1][0] {
				return nil, fmt.Errorf("quorum check %s: points must be in increasing order of total size: %w", s, ErrInvalid)
			}
			q.points = append(q.points, [2]float64{p[0], p[1]})
		}
		if len(q.points) < 2 {
			return nil, fmt.Errorf("quorum check %s: a linear range needs at least two points: %w", s, ErrInvalid)
		}
		return q, nil
	}
	return nil, fmt.Errorf("quorum check %q: %w: use all, allAndAtLeastOne, atLeastOne, atLeastOneUnlessEmpty, alwaysHealthy, a number, or a list of points such as [[0,1],[1,1],[10,10]]", s, ErrInvalid)
}

// IsQuorate says whether healthy of total is enough.
func (q *QuorumCheck) IsQuorate(healthy, total int) bool {
	const eps = 1e-9
	if q.points != nil {
		next := q.points[0]
		var prev [2]float64
		for _, p := range q.points[1:] {
			prev, next = next, p
			if next[0] > float64(total) {
				break
			}
		}
		required := (float64(total)-prev[0])/(next[0]-prev[0])*(next[1]-prev[1]) + prev[1]
		return float64(healthy) > required-eps
	}
	if q.AllowEmpty && total == 0 {
		return true
	}
	if healthy < q.MinSize {
		return false
	}
	return float64(healthy) >= float64(total)*q.MinRatio-eps
}

func (q *QuorumCheck) String() string { return q.Name }

// Delta is Brooklyn's DeltaEnricher: each value minus the one before. Unlike Brooklyn,
// whose previous value starts at 0 (so that its first output is the first value itself,
// a spike), the first value gives no output. The zero Delta is ready to use.
type Delta struct {
	// Last and Seen are its state, kept to resume after a restart: the previous value,
	// and whether there was one.
	Last float64
	Seen bool
}

// Add takes the value observed at t (unused: the delta is per value, not per time) and
// returns the difference with the previous one; ok is false for the first value.
func (d *Delta) Add(t time.Time, v float64) (out float64, ok bool) {
	if d.Seen {
		out, ok = v-d.Last, true
	}
	d.Last, d.Seen = v, true
	return out, ok
}

// TimeWeightedDelta is Brooklyn's (Yaml)TimeWeightedDeltaEnricher: the change of a value
// per Unit of time (per second by default), such as requests per second from a request
// count: (v - previous) / ((t - previous t) / Unit).
type TimeWeightedDelta struct {
	// Unit is the time the output is per (enricher.delta.period); 0 means one second.
	Unit time.Duration
	// Last and LastTime are its state, kept to resume after a restart: the previous
	// value and when it was observed (the zero time when there was none).
	Last     float64
	LastTime time.Time
}

// Add takes the value v observed at t and returns the rate since the previous value.
// There is no output (ok false) for the first value, nor for a value whose time is not
// after the previous one's (a value at the same time replaces the previous one; one
// from before it is ignored). A zero t is ignored.
func (d *TimeWeightedDelta) Add(t time.Time, v float64) (out float64, ok bool) {
	if t.IsZero() || (!d.LastTime.IsZero() && t.Before(d.LastTime)) {
		return 0, false
	}
	unit := d.Unit
	if unit <= 0 {
		unit = time.Second
	}
	if !d.LastTime.IsZero() && t.After(d.LastTime) {
		out = (v - d.Last) / (float64(t.Sub(d.LastTime)) / float64(unit))
		ok = true
	}
	d.Last, d.LastTime = v, t
	return out, ok
}

// RollingMean is Brooklyn's RollingMeanEnricher: the mean of the last Size values
// (of every value when Size <= 0).
type RollingMean struct {
	Size   int
	values []float64 // the window, when Size > 0
	sum    float64
	n      int
}

// Add takes the value observed at t (unused: the window counts values) and returns the
// mean of the window.
func (r *RollingMean) Add(t time.Time, v float64) float64 {
	if r.Size <= 0 {
		r.sum += v
		r.n++
		return r.sum / float64(r.n)
	}
	r.values = append(r.values, v)
	if len(r.values) > r.Size {
		r.values = append(r.values[:0], r.values[len(r.values)-r.Size:]...)
	}
	sum := 0.0
	for _, x := range r.values {
		sum += x
	}
	return sum / float64(len(r.values))
}

// DefaultConfidence is the share of its window a RollingTimeWindowMean must cover before
// it gives an output (Brooklyn's enricher.window.confidenceRequired default).
const DefaultConfidence = 0.8

// RollingTimeWindowMean is Brooklyn's (Yaml)RollingTimeWindowMeanEnricher: the
// time-weighted mean of a value over the last Window. As in Brooklyn, a value is taken to
// hold for the time between the previous value and itself (what a rate computed from two
// samples means); nothing is extrapolated. The confidence of a mean is the share of the
// window the values cover; Add gives an output only when it is above Confidence, so that
// a window just starting to fill does not publish wild estimates.
type RollingTimeWindowMean struct {
	// Window is the length of the window (enricher.window.duration); 0 means one minute.
	Window time.Duration
	// Confidence is the share of the window that must be covered for Add to give an
	// output (enricher.window.confidenceRequired); 0 means DefaultConfidence. Use a
	// small positive number to publish as soon as two values are in.
	Confidence float64
	values     []float64
	times      []time.Time
}

func (r *RollingTimeWindowMean) window() time.Duration {
	if r.Window <= 0 {
		return time.Minute
	}
	return r.Window
}

// Add takes the value v observed at t and returns the mean over the window ending at t,
// when its confidence is above Confidence. A zero t, or one before the last value's, is
// ignored.
func (r *RollingTimeWindowMean) Add(t time.Time, v float64) (mean float64, ok bool) {
	if t.IsZero() || (len(r.times) > 0 && t.Before(r.times[len(r.times)-1])) {
		return 0, false
	}
	r.values = append(r.values, v)
	r.times = append(r.times, t)
	mean, confidence := r.Average(t)
	need := r.Confidence
	if need <= 0 {
		need = DefaultConfidence
	}
	return mean, confidence > need
}

// Average returns the mean over the window ending at now (or at the last value, when that
// is later), and its confidence: the share of the window the values cover, 0 when there
// are fewer than two values in it (the mean is then the last value, or 0 when there is
// none). Values older than the window are forgotten, except the last of them, which
// marks where the window's data starts.
func (r *RollingTimeWindowMean) Average(now time.Time) (mean, confidence float64) {
	if len(r.times) == 0 {
		return 0, 0
	}
	if last := r.times[len(r.times)-1]; last.After(now) {
		now = last
	}
	w := r.window()
	from := now.Add(-w)
	drop := 0
	for drop+1 < len(r.times) && r.times[drop+1].Before(from) {
		drop++
	}
	if drop > 0 {
		r.times = append(r.times[:0], r.times[drop:]...)
		r.values = append(r.values[:0], r.values[drop:]...)
	}
	start := r.times[0]
	if start.Before(from) {
		start = from
	}
	end := r.times[len(r.times)-1]
	if end.Before(from) {
		end = from
	}
	covered := end.Sub(start)
	confidence = float64(covered) / float64(w)
	if confidence <= 1e-7 {
		return r.values[len(r.values)-1], 0
	}
	prev := start
	for i, t := range r.times {
		if t.Before(prev) {
			continue // from before the window: it only marks where the data starts
		}
		mean += float64(t.Sub(prev)) / float64(covered) * r.values[i]
		prev = t
	}
	return mean, confidence
}
