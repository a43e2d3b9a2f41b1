package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// What the policy kinds share: reading their config (the same code checks a config
// before the adjunct exists and reads it while it runs), remembering structured state,
// emitting notifications, and one goroutine per running policy that decides.

// configSource is where config values come from: a running *entities.Adjunct, or a view
// of a config map being checked. Both resolve aliases and declared defaults.
type configSource interface {
	Config(key string) (any, bool)
}

// view is a config map (as a blueprint or REST wrote it, with names or aliases) seen
// through its kind's declarations, for Check.
type view struct {
	kind *entities.AdjunctKind
	cfg  map[string]any
}

func (v view) Config(key string) (any, bool) {
	k, declared := v.kind.ConfigKey(key)
	if !declared {
		x, ok := v.cfg[key]
		return x, ok
	}
	for _, n := range append([]string{k.Name}, k.Aliases...) {
		if x, ok := v.cfg[n]; ok {
			return x, true
		}
	}
	if k.Default != nil {
		return k.Default, true
	}
	return nil, false
}

// reader reads typed values from a configSource, keeping the first error, which names
// its key (an *entities.KeyError wrapping ErrInvalid).
type reader struct {
	src configSource
	err error
}

func (r *reader) fail(key string, format string, args ...any) {
	if r.err == nil {
		r.err = &entities.KeyError{Key: key, Err: fmt.Errorf(format+": %w", append(args, ErrInvalid)...)}
	}
}

// resolver evaluates a key's $brooklyn: DSL value; a running adjunct is one.
type resolver interface {
	Resolve(key string) (any, error)
}

func (r *reader) raw(key string) (any, bool) {
	v, ok := r.src.Config(key)
	if !ok || v == nil {
		return nil, false
	}
	if s, isStr := v.(string); isStr && strings.HasPrefix(strings.TrimSpace(s), "$brooklyn:") {
		res, can := r.src.(resolver)
		if !can {
			return nil, false // checked when the policy starts, against its entity
		}
		x, err := res.Resolve(key)
		if err != nil {
			if r.err == nil {
				r.err = &entities.KeyError{Key: key, Err: err}
			}
			return nil, false
		}
		if x == nil {
			return nil, false
		}
		v = x
	}
	if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
		return nil, false
	}
	return v, true
}

func (r *reader) str(key string) string {
	v, ok := r.raw(key)
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	return fmt.Sprint(v)
}

// sensor reads a sensor name: a string ($brooklyn:sensor("name") too), or a map with a
// name, as Brooklyn's YAML sometimes gives a sensor.
func (r *reader) sensor(key string) string {
	v, ok := r.raw(key)
	if !ok {
		return ""
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case map[string]any:
		if n, ok := x["name"].(string); ok {
			return strings.TrimSpace(n)
		}
	}
	r.fail(key, "%v is not a sensor name", v)
	return ""
}

func (r *reader) float(key string) float64 {
	v, ok := r.raw(key)
	if !ok {
		return 0
	}
	f, ok := sensors.Number(v)
	if !ok {
		r.fail(key, "%v is not a number", v)
	}
	return f
}

func (r *reader) int(key string) int {
	f := r.float(key)
	if f != math.Trunc(f) || f < 0 || f > maxSize {
		r.fail(key, "%v is not a whole number of 0 or more", f)
		return 0
	}
	return int(f)
}

func (r *reader) bool(key string, def bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	switch b := v.(type) {
	case bool:
		return b
	case string:
		if x, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return x
		}
	}
	r.fail(key, "%v is not true or false", v)
	return def
}

func (r *reader) duration(key string) time.Duration {
	v, ok := r.raw(key)
	if !ok {
		return 0
	}
	d, ok := toDuration(v)
	if !ok {
		r.fail(key, "%v is not a duration such as 30s, 5m or 1h30m", v)
	}
	return d
}

// invalid is an error found when a policy starts (its config was checked, but only the
// entity can tell): it is both ErrInvalid and entities.ErrInvalid for errors.Is, so that
// REST answers 400 as it does for a config that fails its check.
func invalid(format string, args ...any) error {
	return invalidError(fmt.Sprintf(format, args...))
}

type invalidError string

func (e invalidError) Error() string { return string(e) + ": " + ErrInvalid.Error() }

func (e invalidError) Is(target error) bool {
	return target == ErrInvalid || target == entities.ErrInvalid
}

var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond, "millis": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
}

// toDuration reads a duration as Brooklyn accepts them: Go's form ("30s", "1m30s"),
// Brooklyn's words ("30 seconds", "1 day", "2h 30m"), or a number of milliseconds.
func toDuration(v any) (time.Duration, bool) {
	if f, ok := v.(float64); ok {
		return time.Duration(f * float64(time.Millisecond)), f >= 0
	}
	if _, isStr := v.(string); !isStr {
		f, ok := sensors.Number(v)
		return time.Duration(f * float64(time.Millisecond)), ok && f >= 0
	}
	s := strings.TrimSpace(v.(string))
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Millisecond)), f >= 0
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, d >= 0
	}
	// Brooklyn's words: pairs of number and unit, e.g. "1 hour 30 minutes", "30 s".
	fields := strings.Fields(strings.ToLower(s))
	var total time.Duration
	for i := 0; i < len(fields); i++ {
		num, unit := fields[i], ""
		if j := strings.IndexFunc(num, func(r rune) bool { return (r < '0' || r > '9') && r != '.' }); j > 0 {
			num, unit = num[:j], num[j:]
		} else if i+1 < len(fields) {
			unit = fields[i+1]
			i++
		}
		f, err := strconv.ParseFloat(num, 64)
		u, known := durationUnits[strings.TrimSuffix(unit, ",")]
		if err != nil || !known || f < 0 {
			return 0, false
		}
		total += time.Duration(f * float64(u))
	}
	return total, len(fields) > 0
}

// recall decodes what the adjunct remembered under key into v (a pointer): the value is
// the Go value given to Remember while the server runs, and decoded JSON after a restart.
func recall(a *entities.Adjunct, key string, v any) bool {
	m, ok := a.Memory(key)
	if !ok || m == nil {
		return false
	}
	b, err := json.Marshal(m)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// emit publishes a notification sensor of e (Brooklyn's sensors().emit): an event on the
// bus, not an attribute, as ha.entityFailed is in Brooklyn.
func emit(e *entities.Entity, sensor string, v any) {
	app := e.Application()
	appID := e.ID()
	if app != nil {
		appID = app.ID()
	}
	e.Management().Bus().Publish(sensors.Event{Entity: e.ID(), App: appID, Sensor: sensor, Value: v, Time: time.Now()})
}

// failureDescriptor is the value of the HA notifications, after Brooklyn's
// HASensors.FailureDescriptor.
func failureDescriptor(e *entities.Entity, description string) map[string]any {
	return map[string]any{"component": e.ID(), "description": description}
}

// problems counts the entries of an entity's service.problems map.
func problems(e *entities.Entity) int {
	v, _ := e.Attribute(sensors.Problems)
	switch m := v.(type) {
	case map[string]any:
		return len(m)
	case map[string]string:
		return len(m)
	}
	return 0
}

// observe reads what a failure detector needs from an entity.
func observe(e *entities.Entity) Observation {
	return Observation{Expected: e.Expected(), Up: e.IsUp(), Problems: problems(e)}
}

// decider runs a policy's decisions on one goroutine: poke asks for a decision soon,
// and each decision says when it wants the next one (zero: only when poked). It stops
// with the adjunct.
type decider struct {
	kick chan struct{}
}

func startDecider(ctx context.Context, decide func(ctx context.Context, now time.Time) time.Time) *decider {
	d := &decider{kick: make(chan struct{}, 1)}
	go func() {
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.kick:
			case <-timer.C:
			}
			if ctx.Err() != nil {
				return
			}
			next := decide(ctx, time.Now())
			timer.Stop()
			if !next.IsZero() {
				timer.Reset(max(time.Until(next), time.Millisecond))
			}
		}
	}()
	return d
}

// poke asks for a decision; pokes made while one is pending are merged.
func (d *decider) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// highlighter records an adjunct's highlights only when their text changes, so that a
// policy that confirms the same thing at every sample does not rewrite its entity.
type highlighter struct {
	a    *entities.Adjunct
	mu   sync.Mutex
	last map[string]string
}

func (h *highlighter) set(name, text string) {
	h.mu.Lock()
	if h.last == nil {
		h.last = map[string]string{}
	}
	same := h.last[name] == text
	h.last[name] = text
	h.mu.Unlock()
	if !same {
		h.a.Highlight(name, text, "")
	}
}

// Brooklyn's highlight names.
const (
	hlTriggers     = "triggers"
	hlViolation    = "lastViolation"
	hlConfirmation = "lastConfirmation"
)

// invokeAndWait calls an effector through the adjunct and waits for its outcome.
func invokeAndWait(ctx context.Context, a *entities.Adjunct, target *entities.Entity, effector string, params map[string]any) (any, error) {
	t, err := a.Invoke(target, effector, params)
	if err != nil {
		return nil, err
	}
	return t.Wait(ctx)
}
