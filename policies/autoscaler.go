package policies

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// AutoScalerType is Brooklyn's name of the autoscaler policy; "autoscaler" is its alias.
const AutoScalerType = "org.apache.brooklyn.policy.autoscaling.AutoScalerPolicy"

// The autoscaler's config keys: Brooklyn's names, with its short names as aliases.
const (
	keyMetric           = "autoscaler.metric"
	keyEntityWithMetric = "autoscaler.entityWithMetric"
	keyLowerBound       = "autoscaler.metricLowerBound"
	keyUpperBound       = "autoscaler.metricUpperBound"
	keyMinPool          = "autoscaler.minPoolSize"
	keyMaxPool          = "autoscaler.maxPoolSize"
	keyUpDelay          = "autoscaler.resizeUpStabilizationDelay"
	keyDownDelay        = "autoscaler.resizeDownStabilizationDelay"
	keyMinPeriod        = "autoscaler.minPeriodBetweenExecs"
	keyUpIncrement      = "autoscaler.resizeUpIterationIncrement"
	keyUpMax            = "autoscaler.resizeUpIterationMax"
	keyDownIncrement    = "autoscaler.resizeDownIterationIncrement"
	keyDownMax          = "autoscaler.resizeDownIterationMax"
	keyHighWaterMark    = "autoscaler.insufficientCapacityHighWaterMark"
	keyPoolHot          = "autoscaler.poolHotSensor"
	keyPoolCold         = "autoscaler.poolColdSensor"
	keyPoolOK           = "autoscaler.poolOkSensor"
	keyResizeEffector   = "autoscaler.resizeEffector"
	keySizeSensor       = "autoscaler.currentSizeSensor"
	keyLoadThreshold    = "autoscaler.loadAverageThreshold"
	keyMemoryThreshold  = "autoscaler.memoryConsumptionThreshold"
	keyRIFThreshold     = "autoscaler.requestsInFlightThreshold"
	keyLoadSensor       = "autoscaler.loadAverageSensor"
	keyMemorySensor     = "autoscaler.memoryConsumptionSensor"
	keyRIFSensor        = "autoscaler.requestsInFlightSensor"
	keyFactorsPeriod    = "autoscaler.factors.period"
	keyFactorsWindow    = "autoscaler.factors.window"
	keyFactorsHorizon   = "autoscaler.factors.horizon"
)

// The pool events of Brooklyn's autoscaler, and the keys of their maps.
const (
	SensorPoolHot  = "resizablepool.hot"
	SensorPoolCold = "resizablepool.cold"
	SensorPoolOK   = "resizablepool.ok"

	PoolCurrentSize     = "pool.current.size"
	PoolHighThreshold   = "pool.high.threshold"
	PoolLowThreshold    = "pool.low.threshold"
	PoolCurrentWorkrate = "pool.current.workrate"
)

// RequestsInFlight is the sensor the autoscaler reads, by default, for the requests in
// flight at a load balancer.
const RequestsInFlight = sensors.RequestsInFlight

var autoscalerKind = &entities.AdjunctKind{
	Name:     AutoScalerType,
	Aliases:  []string{"autoscaler", "AutoScalerPolicy"},
	Category: entities.PolicyCategory,
	Description: "Resizes its entity (a cluster, through its resize effector) to keep a metric within bounds, " +
		"after the metric has asked for it for a stabilization delay; optionally also on Apache Stratos's " +
		"predicted load average, memory consumption and requests in flight",
	Config: []entities.ConfigKey{
		{Name: keyMetric, Aliases: []string{"metric"}, Type: "string", Description: "The numeric sensor to keep within the bounds, a per-member value"},
		{Name: keyEntityWithMetric, Aliases: []string{"entityWithMetric"}, Type: "object", Description: "The entity whose metric is watched (default: the policy's entity)"},
		{Name: keyLowerBound, Aliases: []string{"metricLowerBound"}, Type: "number", Description: "Below this the pool shrinks (reconfigurable)"},
		{Name: keyUpperBound, Aliases: []string{"metricUpperBound"}, Type: "number", Description: "Above this the pool grows (reconfigurable)"},
		{Name: keyMinPool, Aliases: []string{"minPoolSize"}, Type: "integer", Default: 1, Description: "The smallest pool"},
		{Name: keyMaxPool, Aliases: []string{"maxPoolSize"}, Type: "integer", Description: "The largest pool (default: no limit)"},
		{Name: keyUpDelay, Aliases: []string{"resizeUpStabilizationDelay"}, Type: "duration", Default: "0s", Description: "How long the metric must ask for a bigger pool before it grows"},
		{Name: keyDownDelay, Aliases: []string{"resizeDownStabilizationDelay"}, Type: "duration", Default: "0s", Description: "How long the metric must ask for a smaller pool before it shrinks"},
		{Name: keyMinPeriod, Aliases: []string{"minPeriodBetweenExecs"}, Type: "duration", Default: "100ms", Description: "The least time between two resizes"},
		{Name: keyUpIncrement, Aliases: []string{"resizeUpIterationIncrement"}, Type: "integer", Default: 1, Description: "The pool grows by a multiple of this"},
		{Name: keyUpMax, Aliases: []string{"resizeUpIterationMax"}, Type: "integer", Description: "The most it grows by at once (default: no limit)"},
		{Name: keyDownIncrement, Aliases: []string{"resizeDownIterationIncrement"}, Type: "integer", Default: 1, Description: "The pool shrinks by a multiple of this"},
		{Name: keyDownMax, Aliases: []string{"resizeDownIterationMax"}, Type: "integer", Description: "The most it shrinks by at once (default: no limit)"},
		{Name: keyHighWaterMark, Aliases: []string{"insufficientCapacityHighWaterMark"}, Type: "integer", Description: "A size the pool is never grown beyond"},
		{Name: keyPoolHot, Aliases: []string{"poolHotSensor"}, Type: "string", Default: SensorPoolHot, Description: "Notification that the pool is over-used (a map with pool.current.size, pool.current.workrate, pool.high.threshold, pool.low.threshold)"},
		{Name: keyPoolCold, Aliases: []string{"poolColdSensor"}, Type: "string", Default: SensorPoolCold, Description: "Notification that the pool is under-used"},
		{Name: keyPoolOK, Aliases: []string{"poolOkSensor"}, Type: "string", Default: SensorPoolOK, Description: "Notification that the pool's use is fine"},
		{Name: keyResizeEffector, Aliases: []string{"resizeEffector"}, Type: "string", Default: "resize", Description: "The effector that resizes the entity; it takes desiredSize"},
		{Name: keySizeSensor, Aliases: []string{"currentSizeSensor"}, Type: "string", Default: sensors.GroupMembersCount, Description: "The sensor holding the pool's size (default: its member count)"},
		{Name: keyLoadThreshold, Aliases: []string{"loadAverageThreshold"}, Type: "number", Description: "Stratos: the load average per member to stay under (predicted)"},
		{Name: keyMemoryThreshold, Aliases: []string{"memoryConsumptionThreshold"}, Type: "number", Description: "Stratos: the memory consumption per member, in percent, to stay under (predicted)"},
		{Name: keyRIFThreshold, Aliases: []string{"requestsInFlightThreshold"}, Type: "number", Description: "Stratos: the requests in flight at the load balancer one member takes (predicted)"},
		{Name: keyLoadSensor, Aliases: []string{"loadAverageSensor"}, Type: "string", Default: sensors.MachineCPU, Description: "The load sensor: read on entityWithMetric, else averaged over the members"},
		{Name: keyMemorySensor, Aliases: []string{"memoryConsumptionSensor"}, Type: "string", Default: sensors.MachineMemoryPercent, Description: "The memory sensor: read on entityWithMetric, else averaged over the members"},
		{Name: keyRIFSensor, Aliases: []string{"requestsInFlightSensor"}, Type: "string", Default: RequestsInFlight, Description: "The requests-in-flight sensor: read on entityWithMetric, else summed over the members"},
		{Name: keyFactorsPeriod, Type: "duration", Default: "5s", Description: "How often the Stratos factors are read"},
		{Name: keyFactorsWindow, Type: "duration", Default: "1m", Description: "How much of the factors' history their trend is computed over"},
		{Name: keyFactorsHorizon, Type: "duration", Default: "1m", Description: "How far ahead the factors are predicted"},
	},
}

func init() {
	autoscalerKind.Check = func(cfg map[string]any) error {
		_, err := readAutoscaler(view{autoscalerKind, cfg})
		return err
	}
	autoscalerKind.Start = startAutoscaler
	autoscalerKind.Reconfigured = func(a *entities.Adjunct, key string) {
		if r, ok := autoscalers.Load(a); ok {
			r.(*autoscaler).reconfigure()
		}
	}
	entities.RegisterAdjunct(autoscalerKind)
}

// autoscalerSettings is an autoscaler's config, read.
type autoscalerSettings struct {
	scale          ScaleConfig
	factors        FactorsConfig
	metric         string
	hot, cold, ok  string
	resizeEffector string
	sizeSensor     string
	loadSensor     string
	memorySensor   string
	rifSensor      string
	factorsPeriod  time.Duration
	factorsWindow  time.Duration
}

func (s autoscalerSettings) multiFactor() bool {
	f := s.factors
	return f.LoadAverageThreshold > 0 || f.MemoryConsumptionThreshold > 0 || f.RequestsInFlightThreshold > 0
}

func readAutoscaler(src configSource) (autoscalerSettings, error) {
	r := &reader{src: src}
	s := autoscalerSettings{
		scale: ScaleConfig{
			MetricLowerBound:                  r.float(keyLowerBound),
			MetricUpperBound:                  r.float(keyUpperBound),
			MinPoolSize:                       r.int(keyMinPool),
			MaxPoolSize:                       r.int(keyMaxPool),
			ResizeUpStabilizationDelay:        r.duration(keyUpDelay),
			ResizeDownStabilizationDelay:      r.duration(keyDownDelay),
			MinPeriodBetweenExecs:             r.duration(keyMinPeriod),
			ResizeUpIterationIncrement:        r.int(keyUpIncrement),
			ResizeUpIterationMax:              r.int(keyUpMax),
			ResizeDownIterationIncrement:      r.int(keyDownIncrement),
			ResizeDownIterationMax:            r.int(keyDownMax),
			InsufficientCapacityHighWaterMark: r.int(keyHighWaterMark),
		},
		factors: FactorsConfig{
			LoadAverageThreshold:       r.float(keyLoadThreshold),
			MemoryConsumptionThreshold: r.float(keyMemoryThreshold),
			RequestsInFlightThreshold:  r.float(keyRIFThreshold),
			Horizon:                    r.duration(keyFactorsHorizon),
		},
		metric:         r.sensor(keyMetric),
		hot:            r.sensor(keyPoolHot),
		cold:           r.sensor(keyPoolCold),
		ok:             r.sensor(keyPoolOK),
		resizeEffector: r.str(keyResizeEffector),
		sizeSensor:     r.sensor(keySizeSensor),
		loadSensor:     r.sensor(keyLoadSensor),
		memorySensor:   r.sensor(keyMemorySensor),
		rifSensor:      r.sensor(keyRIFSensor),
		factorsPeriod:  r.duration(keyFactorsPeriod),
		factorsWindow:  r.duration(keyFactorsWindow),
	}
	if r.err != nil {
		return s, r.err
	}
	if err := s.scale.Validate(); err != nil {
		return s, err
	}
	if s.resizeEffector == "" {
		return s, &entities.KeyError{Key: keyResizeEffector, Err: fmt.Errorf("is empty: %w", ErrInvalid)}
	}
	if s.multiFactor() && s.factorsPeriod <= 0 {
		return s, &entities.KeyError{Key: keyFactorsPeriod, Err: fmt.Errorf("must be positive: %w", ErrInvalid)}
	}
	return s, nil
}

// autoscalers maps a running autoscaler's adjunct to its state, for Reconfigured.
var autoscalers sync.Map // *entities.Adjunct -> *autoscaler

// Memory keys of the autoscaler.
const (
	memSamples    = "samples"    // []Sample, pruned
	memWishes     = "wishes"     // []Desired of the Stratos factors, pruned
	memLastResize = "lastResize" // time of the last resize (ms)
	memPending    = "pending"    // pendingResize: a resize asked for and not known to have ended
)

// pendingResize is remembered while a resize runs: after a server restart in the middle,
// it counts as the last resize, so the pool is not resized again before
// minPeriodBetweenExecs, and the decision (an absolute size, never a delta) is made again
// from the remembered history rather than repeated blindly.
type pendingResize struct {
	From int       `json:"from"`
	To   int       `json:"to"`
	At   time.Time `json:"at"`
}

// autoscaler is one running AutoScalerPolicy.
type autoscaler struct {
	a    *entities.Adjunct
	pool *entities.Entity
	d    *decider
	hl   highlighter
	// cur is the config of the moment, swapped whole when it changes: the subscription's
	// filter reads it on the bus's publishing path, without a lock.
	cur atomic.Pointer[autoscalerCurrent]

	mu         sync.Mutex // guards what follows
	samples    []Sample
	wishes     []Desired
	points     Factors
	lastResize time.Time
}

type autoscalerCurrent struct {
	settings     autoscalerSettings
	metricEntity *entities.Entity
}

func (r *autoscaler) current() (autoscalerSettings, *entities.Entity) {
	c := r.cur.Load()
	return c.settings, c.metricEntity
}

func startAutoscaler(a *entities.Adjunct) error {
	s, err := readAutoscaler(a)
	if err != nil {
		return err
	}
	pool := a.Entity()
	me, err := a.ResolveEntity(keyEntityWithMetric, pool)
	if err != nil {
		return err
	}
	r := &autoscaler{a: a, pool: pool, hl: highlighter{a: a}}
	r.cur.Store(&autoscalerCurrent{settings: s, metricEntity: me})
	recall(a, memSamples, &r.samples)
	recall(a, memWishes, &r.wishes)
	r.lastResize = a.MemoryTime(memLastResize)
	var p pendingResize
	if recall(a, memPending, &p) && p.At.After(r.lastResize) {
		// The server stopped while a resize ran: count it as done when it was asked for.
		r.lastResize = p.At
		a.Remember(memLastResize, p.At)
		a.Remember(memPending, nil)
		a.Logger().Info("autoscaler resumed after a resize that may not have ended", "from", p.From, "to", p.To)
	}
	ctx := a.Context()
	autoscalers.Store(a, r)
	context.AfterFunc(ctx, func() { autoscalers.CompareAndDelete(a, r) })

	r.d = startDecider(ctx, r.decide)
	// One subscription, whose filter reads the settings of the moment, so that a
	// reconfigured metric or entity needs no resubscription.
	a.Subscribe(r.wants, r.onEvent)
	r.startFactors(ctx)
	r.describeTriggers()
	r.d.poke()
	return nil
}

// reconfigure reads the config again (bounds are reconfigurable live) and decides at once.
func (r *autoscaler) reconfigure() {
	s, err := readAutoscaler(r.a)
	if err != nil {
		r.a.Logger().Warn("autoscaler config not applied", "err", err)
		return
	}
	me, err := r.a.ResolveEntity(keyEntityWithMetric, r.pool)
	if err != nil {
		r.a.Logger().Warn("autoscaler config not applied", "err", err)
		return
	}
	r.cur.Store(&autoscalerCurrent{settings: s, metricEntity: me})
	r.describeTriggers()
	r.d.poke()
}

func (r *autoscaler) describeTriggers() {
	s, me := r.current()
	text := "Listening for " + s.hot + ", " + s.cold + " and " + s.ok
	if s.metric != "" {
		text = fmt.Sprintf("Listening for %s on %s", s.metric, me.Name())
	}
	if s.multiFactor() {
		text += "; Stratos factors every " + s.factorsPeriod.String()
	}
	r.hl.set(hlTriggers, text)
}

// wants is the subscription's filter: it runs on the bus's publishing path, so it only
// compares names.
func (r *autoscaler) wants(ev sensors.Event) bool {
	s, me := r.current()
	switch {
	case s.metric != "" && ev.Sensor == s.metric && ev.Entity == me.ID():
		return true
	case ev.Entity != r.pool.ID():
		return false
	}
	switch ev.Sensor {
	case s.hot, s.cold, s.ok, s.sizeSensor, sensors.ServiceUp, sensors.ClusterResizing:
		return true
	}
	return false
}

func (r *autoscaler) onEvent(ev sensors.Event) {
	s, me := r.current()
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	var sample *Sample
	switch {
	case s.metric != "" && ev.Sensor == s.metric && ev.Entity == me.ID():
		if v, ok := sensors.Number(ev.Value); ok && !math.IsNaN(v) {
			sample = &Sample{Time: ev.Time, Value: v, Size: r.size(s)}
		}
	case ev.Sensor == s.hot || ev.Sensor == s.cold || ev.Sensor == s.ok:
		sample = poolEventSample(ev, s, r.size(s))
	}
	if sample != nil {
		r.mu.Lock()
		r.samples = PruneSamples(s.scale, append(r.samples, *sample), ev.Time)
		kept := slices.Clone(r.samples)
		r.mu.Unlock()
		r.a.Remember(memSamples, kept)
	}
	r.d.poke()
}

// poolEventSample turns a pool hot, cold or ok notification (a map as Brooklyn's
// LoadBalancingPolicy emits) into a sample judged by the thresholds it carries.
func poolEventSample(ev sensors.Event, s autoscalerSettings, size int) *Sample {
	m, _ := ev.Value.(map[string]any)
	get := func(k string) (float64, bool) {
		v, ok := m[k]
		if !ok {
			return 0, false
		}
		return sensors.Number(v)
	}
	rate, ok := get(PoolCurrentWorkrate)
	if !ok && ev.Sensor != s.ok {
		return nil
	}
	if n, ok := get(PoolCurrentSize); ok {
		size = int(n)
	}
	hi, _ := get(PoolHighThreshold)
	lo, _ := get(PoolLowThreshold)
	// The workrate is the pool's total; samples hold per-member values.
	per := rate / float64(max(size, 1))
	switch ev.Sensor {
	case s.hot:
		return &Sample{Time: ev.Time, Value: per, Size: size, Lower: -1, Upper: positiveOr(hi/float64(max(size, 1)), -1)}
	case s.cold:
		return &Sample{Time: ev.Time, Value: per, Size: size, Lower: positiveOr(lo/float64(max(size, 1)), -1), Upper: positiveOr(hi/float64(max(size, 1)), -1)}
	}
	return &Sample{Time: ev.Time, Value: per, Size: size, Lower: -1, Upper: -1}
}

func positiveOr(f, def float64) float64 {
	if f > 0 {
		return f
	}
	return def
}

// size is the pool's current size: its size sensor, else its member count.
func (r *autoscaler) size(s autoscalerSettings) int {
	if v, ok := r.pool.Attribute(s.sizeSensor); ok {
		if f, ok := sensors.Number(v); ok && f >= 0 {
			return int(f)
		}
	}
	return len(r.pool.Members())
}

// startFactors reads the Stratos factors every factors.period while any threshold is
// set; both may be reconfigured while the policy runs.
func (r *autoscaler) startFactors(ctx context.Context) {
	go func() {
		for {
			s, _ := r.current()
			period := s.factorsPeriod
			if period <= 0 {
				period = 5 * time.Second
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(period):
			}
			if s, _ := r.current(); s.multiFactor() {
				r.readFactors(time.Now())
			}
		}
	}()
}

// readFactors takes one reading of each factor, and records the size it requires.
func (r *autoscaler) readFactors(now time.Time) {
	s, me := r.current()
	size := r.size(s)
	r.mu.Lock()
	read := func(points []Point, sensor string, sum bool) []Point {
		if sensor == "" {
			return points
		}
		if v, ok := r.factorValue(me, sensor, sum); ok {
			p := Point{Time: now, Value: v}
			if !sum {
				p.Size = size
			}
			points = append(points, p)
		}
		return PrunePoints(points, max(s.factorsWindow, s.factorsPeriod), now)
	}
	r.points.LoadAverage = read(r.points.LoadAverage, s.loadSensor, false)
	r.points.MemoryConsumption = read(r.points.MemoryConsumption, s.memorySensor, false)
	r.points.RequestsInFlight = read(r.points.RequestsInFlight, s.rifSensor, true)
	req := RequiredSize(s.factors, r.points, size, now)
	r.wishes = PruneDesired(s.scale, append(r.wishes, Desired{Time: now, Size: s.scale.Step(size, req.Size)}), now)
	kept := slices.Clone(r.wishes)
	r.mu.Unlock()
	r.a.Remember(memWishes, kept)
	r.hl.set("factors", req.Reason)
	r.d.poke()
}

// factorValue reads a factor: the sensor on the metric entity, else the average (or the
// sum) of the pool members' values.
func (r *autoscaler) factorValue(me *entities.Entity, sensor string, sum bool) (float64, bool) {
	if v, ok := me.Attribute(sensor); ok {
		if f, ok := sensors.Number(v); ok {
			return f, true
		}
	}
	total, n := 0.0, 0
	for _, m := range r.pool.Members() {
		if v, ok := m.Attribute(sensor); ok {
			if f, ok := sensors.Number(v); ok {
				total += f
				n++
			}
		}
	}
	if n == 0 {
		return 0, false
	}
	if sum {
		return total, true
	}
	return total / float64(n), true
}

// decide runs on the decider's goroutine: decide, and resize when the decision says so.
func (r *autoscaler) decide(ctx context.Context, now time.Time) time.Time {
	s, _ := r.current()
	current := r.size(s)
	r.mu.Lock()
	samples, wishes, last := r.samples, r.wishes, r.lastResize
	r.mu.Unlock()

	if !r.pool.IsUp() {
		// As Brooklyn's isEntityUp: a pool that is not up (starting, failed) is not resized.
		return time.Time{}
	}
	if v, _ := r.pool.Attribute(sensors.ClusterResizing); v == true {
		// A resize the policy did not ask for runs (a person's, or the cluster finishing
		// one a restart cut short): its size is not the pool's yet. The end of it is an
		// event, which decides again.
		return time.Time{}
	}
	var decisions []Resize
	if s.metric != "" || len(samples) > 0 {
		decisions = append(decisions, DecideResize(s.scale, samples, current, last, now))
	}
	if s.multiFactor() {
		d := DecideDesired(s.scale, wishes, current, last, now)
		d.Reason = "Stratos factors: " + d.Reason
		decisions = append(decisions, d)
	}
	if len(decisions) == 0 {
		decisions = append(decisions, DecideDesired(s.scale, nil, current, last, now))
	}
	// Several ways of deciding: the largest size wins (growing is the safe side).
	d := decisions[0]
	recheck := d.RecheckAt
	for _, x := range decisions[1:] {
		if x.To > d.To {
			d = x
		}
		recheck = earliest(recheck, x.RecheckAt)
	}
	if !d.Changed() {
		if len(samples) > 0 && s.metric != "" {
			r.note(s, samples[len(samples)-1], current)
		}
		return recheck
	}
	r.resize(ctx, s, d, now)
	return now.Add(max(s.scale.MinPeriodBetweenExecs, time.Millisecond))
}

// note highlights whether the latest metric value is within bounds.
func (r *autoscaler) note(s autoscalerSettings, last Sample, current int) {
	_, why := DesiredSize(s.scale, last.Value, current)
	hot := s.scale.MetricUpperBound > 0 && last.Value > s.scale.MetricUpperBound
	cold := s.scale.MetricLowerBound > 0 && last.Value < s.scale.MetricLowerBound
	if hot || cold {
		r.hl.set(hlViolation, capitalize(why))
		return
	}
	r.hl.set(hlConfirmation, capitalize(why))
}

func (r *autoscaler) resize(ctx context.Context, s autoscalerSettings, d Resize, now time.Time) {
	log := r.a.Logger()
	r.a.Remember(memPending, pendingResize{From: d.From, To: d.To, At: now})
	r.hl.set(hlViolation, d.Reason)
	log.Info("autoscaler resizing", "pool", r.pool.ID(), "from", d.From, "to", d.To, "reason", d.Reason)
	_, err := invokeAndWait(ctx, r.a, r.pool, s.resizeEffector, map[string]any{"desiredSize": d.To})
	if ctx.Err() != nil {
		// Stopped (or the server is closing) while the resize runs: the pending record
		// stays, and counts as the last resize when the policy starts again.
		return
	}
	r.mu.Lock()
	r.lastResize = now
	r.mu.Unlock()
	r.a.Remember(memLastResize, now)
	r.a.Remember(memPending, nil)
	if err != nil {
		log.Warn("autoscaler resize failed", "pool", r.pool.ID(), "to", d.To, "err", err)
		r.a.Highlight("lastFailure", fmt.Sprintf("Resize %d -> %d failed: %v", d.From, d.To, err), "")
	}
}

// capitalize returns s with its first letter in upper case, for a highlight.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
