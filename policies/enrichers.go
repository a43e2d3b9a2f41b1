package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// Enrichers derive sensors from sensors: Brooklyn's stock enrichers, by their Java names
// and config keys, with short aliases. The arithmetic is in package sensors (Aggregation,
// Delta, TimeWeightedDelta, RollingMean, RollingTimeWindowMean); here it is wired to
// entities through the adjunct framework. An enricher acts only by setting sensors of
// the entity it is attached to.
//
// Sensors are named in config by their names ("webapp.reqs.total") or with
// $brooklyn:sensor("..."); the producer (enricher.producer) by an entity id or
// $brooklyn:entity("...") and friends, and is by default the entity the enricher is
// attached to.
const (
	AggregatorType            = "org.apache.brooklyn.enricher.stock.Aggregator"
	TransformerType           = "org.apache.brooklyn.enricher.stock.Transformer"
	PropagatorType            = "org.apache.brooklyn.enricher.stock.Propagator"
	DeltaType                 = "org.apache.brooklyn.policy.enricher.DeltaEnricher"
	TimeWeightedDeltaType     = "org.apache.brooklyn.enricher.stock.YamlTimeWeightedDeltaEnricher"
	RollingTimeWindowMeanType = "org.apache.brooklyn.enricher.stock.YamlRollingTimeWindowMeanEnricher"
	RollingMeanType           = "org.apache.brooklyn.policy.enricher.RollingMeanEnricher"
)

// Config keys shared by the enrichers.
const (
	enrKeyProducer = "enricher.producer"
	enrKeySource   = "enricher.sourceSensor"
	enrKeyTarget   = "enricher.targetSensor"
)

var (
	enrProducer = entities.ConfigKey{Name: enrKeyProducer, Aliases: []string{"producer"}, Type: "object",
		Description: "The entity whose sensors are read: an entity id or $brooklyn:entity(...); by default the entity the enricher is attached to"}
	enrSource = entities.ConfigKey{Name: enrKeySource, Aliases: []string{"sourceSensor", "source"}, Type: "string",
		Description: "The sensor read: a name, or $brooklyn:sensor(...)"}
	enrTarget = entities.ConfigKey{Name: enrKeyTarget, Aliases: []string{"targetSensor", "target"}, Type: "string",
		Description: "The sensor set on the entity the enricher is attached to"}
)

func init() {
	for _, k := range []*entities.AdjunctKind{
		aggregatorKind(), transformerKind(), propagatorKind(),
		deltaKind(), timeWeightedDeltaKind(), rollingTimeWindowMeanKind(), rollingMeanKind(),
	} {
		k.Category = entities.EnricherCategory
		entities.RegisterAdjunct(k)
	}
}

// --- Aggregator ---

func aggregatorKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name:    AggregatorType,
		Aliases: []string{"aggregator", "Aggregator"},
		Description: "Aggregates a sensor of the producer's members or children (sum, average, min, max, list, first, isQuorate) " +
			"into a sensor of this entity",
		Config: []entities.ConfigKey{
			enrProducer, enrSource, enrTarget,
			{Name: "enricher.aggregating.fromMembers", Aliases: []string{"fromMembers"}, Type: "boolean",
				Description: "Aggregate the producer's members (the default when it is a group)"},
			{Name: "enricher.aggregating.fromChildren", Aliases: []string{"fromChildren"}, Type: "boolean",
				Description: "Aggregate the producer's children (the default when it is not a group)"},
			{Name: "transformation", Aliases: []string{"enricher.transformation.untyped", "enricher.transformation"}, Type: "string", Default: sensors.AggList,
				Description: "sum, average, min, max (numbers; results are decimals), list, first, or isQuorate (booleans, with quorum.check.type)"},
			{Name: "enricher.aggregator.excludeBlank", Aliases: []string{"excludeBlank"}, Type: "boolean", Default: false,
				Description: "Leave out producers whose value is missing or a blank string"},
			{Name: "enricher.defaultMemberValue", Aliases: []string{"defaultMemberValue", "defaultValueForUnreportedSensors"}, Type: "object",
				Description: "The value of a producer that has not reported the sensor (otherwise it is left out of sum, average, min and max)"},
			{Name: "enricher.aggregator.valueToReportIfNoSensors", Aliases: []string{"valueToReportIfNoSensors"}, Type: "object",
				Description: "The result of sum, average, min and max when no producer has a value (otherwise the target is cleared)"},
			{Name: "quorum.check.type", Type: "string", Default: sensors.QuorumAllAndAtLeastOne.Name,
				Description: "For isQuorate: all, allAndAtLeastOne, atLeastOne, atLeastOneUnlessEmpty, alwaysHealthy, a number, or a linear range such as [[0,1],[10,10],[100,70]]"},
			{Name: "quorum.total.size", Type: "integer",
				Description: "For isQuorate: the size the count of true values is held against (default: the number of producers; Brooklyn's default is 1)"},
			{Name: "enricher.aggregating.entityFilter", Aliases: []string{"entityFilter"}, Type: "string",
				Description: "An expr-lang condition a producer must meet to count, over its id, name, type, config and sensors (see package sensors)"},
		},
	}
	k.Check = func(cfg map[string]any) error {
		c := enrConfig{k, cfg}
		if err := c.need(enrKeySource, enrKeyTarget); err != nil {
			return err
		}
		if key, v, ok := c.get("transformation"); ok && !isDSL(v) {
			if s, _ := v.(string); !sensors.ValidAggregation(s) {
				return &entities.KeyError{Key: key, Err: fmt.Errorf("unknown transformation %v: use sum, average, min, max, list, first or isQuorate", v)}
			}
		}
		if key, v, ok := c.get("quorum.check.type"); ok && !isDSL(v) {
			if _, err := sensors.ParseQuorumCheck(fmt.Sprint(v)); err != nil {
				return &entities.KeyError{Key: key, Err: err}
			}
		}
		return c.expression("enricher.aggregating.entityFilter")
	}
	k.Start = startAggregator
	return k
}

func startAggregator(a *entities.Adjunct) error {
	producer, source, target, err := enrEnds(a, true)
	if err != nil {
		return err
	}
	agg := sensors.Aggregation{
		Kind:         a.ConfigString("transformation"),
		ExcludeBlank: a.ConfigBool("enricher.aggregator.excludeBlank", false),
		Total:        a.ConfigInt("quorum.total.size", 0),
	}
	if agg.ValueIfNone, err = a.Resolve("enricher.aggregator.valueToReportIfNoSensors"); err != nil {
		return err
	}
	if agg.Kind == "" {
		agg.Kind = sensors.AggList
	}
	if !sensors.ValidAggregation(agg.Kind) {
		return fmt.Errorf("transformation %q: use sum, average, min, max, list, first or isQuorate: %w", agg.Kind, entities.ErrInvalid)
	}
	if agg.Quorum, err = sensors.ParseQuorumCheck(a.ConfigString("quorum.check.type")); err != nil {
		return err
	}
	def, err := a.Resolve("enricher.defaultMemberValue")
	if err != nil {
		return err
	}
	var filter *sensors.Expression
	if s := a.ConfigString("enricher.aggregating.entityFilter"); s != "" {
		if filter, err = sensors.Compile(s); err != nil {
			return err
		}
	}
	// Members or children, as Brooklyn decides: what is asked for, else members of a group
	// and children of anything else.
	members := producer.Type().Group
	if v, ok := a.Config("enricher.aggregating.fromChildren"); ok && enrTrue(v) {
		members = false
	}
	if v, ok := a.Config("enricher.aggregating.fromMembers"); ok && enrTrue(v) {
		members = true
	}
	producers := func() []*entities.Entity {
		if members {
			return producer.Members()
		}
		return producer.Children()
	}

	var (
		mu   sync.Mutex
		seen []string // ids of the producers of the last update
		warn enrWarner
	)
	update := func() {
		mu.Lock()
		defer mu.Unlock()
		seen = seen[:0]
		var values []any
		for _, p := range producers() {
			seen = append(seen, p.ID())
			if filter != nil {
				ok, err := filter.EvalBool(ExprEnv(p, nil))
				if err != nil {
					warn.warn(a, "entity filter", err)
				}
				if !ok {
					continue
				}
			}
			v, _ := p.Attribute(source)
			if v == nil && def != nil {
				v = def
			}
			values = append(values, v)
		}
		out, err := agg.Apply(values)
		if err != nil {
			warn.warn(a, "aggregate "+source, err)
			return
		}
		warn.ok()
		a.Entity().SetAttribute(target, out)
	}
	pid := producer.ID()
	a.Subscribe(func(ev sensors.Event) bool {
		// Cheap, under the bus's lock: whether ev is about a producer is decided below.
		return ev.Sensor == source || (ev.Entity == pid && ev.Sensor == sensors.GroupMembers)
	}, func(ev sensors.Event) {
		if ev.Entity == pid && ev.Sensor == sensors.GroupMembers {
			update()
			return
		}
		mu.Lock()
		known := slices.Contains(seen, ev.Entity)
		mu.Unlock()
		if known || slices.ContainsFunc(producers(), func(p *entities.Entity) bool { return p.ID() == ev.Entity }) {
			update()
		}
	})
	if !members {
		// Children that come or go: a change of the entity tree, not a sensor event. The
		// Watch callback must not block, so it only pokes a goroutine that updates.
		poke := make(chan struct{}, 1)
		ctx := a.Context()
		stop := a.Entity().Management().Watch(func(c entities.Change) {
			if (c.Kind == entities.EntityAdded || c.Kind == entities.EntityRemoved) && c.Entity.Parent() == producer {
				select {
				case poke <- struct{}{}:
				default:
				}
			}
		})
		context.AfterFunc(ctx, stop)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-poke:
					update()
				}
			}
		}()
	}
	update()
	return nil
}

// --- Transformer ---

func transformerKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name:    TransformerType,
		Aliases: []string{"transformer", "Transformer"},
		Description: "Sets a sensor of this entity from a sensor of the producer: an expr-lang expression over the new value " +
			"(value) and the producer's sensors, or a value that may use $brooklyn: DSL",
		Config: []entities.ConfigKey{
			enrProducer, enrSource, enrTarget,
			{Name: "enricher.triggerSensors", Aliases: []string{"triggerSensors"}, Type: "list",
				Description: "Other sensors of the producer whose changes also recompute the target"},
			{Name: "enricher.transformation", Aliases: []string{"transformation"}, Type: "string",
				Description: `An expr-lang expression: value is the new value of the sensor that changed; id, name, type, config, sensors are the producer's, e.g. value * 100 or sensors["a.b"] ?? 0`},
			{Name: "enricher.targetValue", Aliases: []string{"targetValue"}, Type: "object",
				Description: "The value to set, evaluated at each change: e.g. $brooklyn:formatString(\"http://%s/\", $brooklyn:attributeWhenReady(\"host.address\"))"},
		},
	}
	k.Check = func(cfg map[string]any) error {
		c := enrConfig{k, cfg}
		if err := c.need(enrKeyTarget); err != nil {
			return err
		}
		_, _, source := c.get(enrKeySource)
		_, _, triggers := c.get("enricher.triggerSensors")
		if !source && !triggers {
			return &entities.KeyError{Err: fmt.Errorf("a transformer needs %s or enricher.triggerSensors", enrKeySource)}
		}
		if _, _, given := c.get(enrKeyProducer); !given && source {
			_, s, _ := c.get(enrKeySource)
			_, t, _ := c.get(enrKeyTarget)
			if s == t && !isDSL(s) {
				return &entities.KeyError{Err: fmt.Errorf("the transformer would set %v from itself, for ever; set enricher.producer or another target", s)}
			}
		}
		_, _, expr := c.get("enricher.transformation")
		_, _, value := c.get("enricher.targetValue")
		if expr == value {
			return &entities.KeyError{Err: errors.New("a transformer needs one of enricher.transformation (an expression) and enricher.targetValue")}
		}
		return c.expression("enricher.transformation")
	}
	k.Start = startTransformer
	return k
}

func startTransformer(a *entities.Adjunct) error {
	producer, source, target, err := enrEnds(a, false)
	if err != nil {
		return err
	}
	triggers, err := enrSensorList(a, "enricher.triggerSensors")
	if err != nil {
		return err
	}
	if source != "" {
		triggers = append(triggers, source)
	}
	if producer == a.Entity() && slices.Contains(triggers, target) {
		return fmt.Errorf("the transformer would set %s from itself, for ever: %w", target, entities.ErrInvalid)
	}
	var x *sensors.Expression
	if s := a.ConfigString("enricher.transformation"); s != "" {
		if x, err = sensors.Compile(s); err != nil {
			return err
		}
	}
	var (
		mu   sync.Mutex // the first computation, at start, may meet the first event
		warn enrWarner
	)
	compute := func(value any, quiet bool) {
		mu.Lock()
		defer mu.Unlock()
		var out any
		var err error
		if x != nil {
			out, err = x.Eval(ExprEnv(producer, value))
		} else {
			out, err = a.Resolve("enricher.targetValue")
		}
		if err != nil {
			if !quiet {
				warn.warn(a, "transform", err)
			}
			return
		}
		warn.ok()
		a.Entity().SetAttribute(target, out)
	}
	a.Subscribe(func(ev sensors.Event) bool {
		return ev.Entity == producer.ID() && slices.Contains(triggers, ev.Sensor)
	}, func(ev sensors.Event) { compute(ev.Value, false) })
	// At start, what can be computed is: failures are not news yet (the sensors it reads
	// may come later).
	switch v, ok := producer.Attribute(source); {
	case source == "":
		compute(nil, true)
	case ok:
		compute(v, true)
	}
	return nil
}

// --- Propagator ---

// notPropagated are the lifecycle sensors propagatingAll leaves out: an entity computes
// its own (Brooklyn's SENSORS_NOT_USUALLY_PROPAGATED). Name them in propagating or
// sensorMapping to propagate them anyway.
var notPropagated = []string{sensors.ServiceUp, sensors.NotUpIndicators, sensors.ServiceState, sensors.ServiceStateExpected, sensors.Problems}

func propagatorKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name:        PropagatorType,
		Aliases:     []string{"propagator", "Propagator"},
		Description: "Copies sensors of the producer to this entity: those named, or all (but some), optionally under other names",
		Config: []entities.ConfigKey{
			enrProducer,
			{Name: "enricher.propagating.inclusions", Aliases: []string{"propagating"}, Type: "list",
				Description: "The sensors to copy"},
			{Name: "enricher.propagating.propagatingAll", Aliases: []string{"propagatingAll"}, Type: "boolean",
				Description: "Copy every sensor (but the lifecycle ones: service.isUp, service.state, ...)"},
			{Name: "enricher.propagating.propagatingAllBut", Aliases: []string{"propagatingAllBut"}, Type: "list",
				Description: "Copy every sensor but these (and the lifecycle ones)"},
			{Name: "enricher.propagating.sensorMapping", Aliases: []string{"sensorMapping"}, Type: "map",
				Description: "Sensors to copy under another name: producer's name -> this entity's name"},
		},
	}
	k.Check = func(cfg map[string]any) error {
		c := enrConfig{k, cfg}
		_, _, named := c.get("enricher.propagating.inclusions")
		_, _, mapped := c.get("enricher.propagating.sensorMapping")
		_, allBut, but := c.get("enricher.propagating.propagatingAllBut")
		_, all, _ := c.get("enricher.propagating.propagatingAll")
		everything := enrTrue(all) || (but && allBut != nil)
		switch {
		case !named && !mapped && !everything:
			return &entities.KeyError{Err: errors.New("a propagator needs propagating, sensorMapping, propagatingAll or propagatingAllBut")}
		case everything && (named || mapped):
			return &entities.KeyError{Err: errors.New("a propagator takes propagating and sensorMapping, or propagatingAll(But), not both")}
		}
		if _, _, given := c.get(enrKeyProducer); !given {
			// Publishing to the producer itself: only under other names.
			if everything || named {
				return &entities.KeyError{Err: errors.New("a propagator from its own entity can only copy sensors under other names (sensorMapping); set enricher.producer")}
			}
		}
		return nil
	}
	k.Start = startPropagator
	return k
}

func startPropagator(a *entities.Adjunct) error {
	producer, err := a.ResolveEntity(enrKeyProducer, a.Entity())
	if err != nil {
		return err
	}
	mapping := map[string]string{}
	named, err := enrSensorList(a, "enricher.propagating.inclusions")
	if err != nil {
		return err
	}
	for _, s := range named {
		mapping[s] = s
	}
	raw, err := a.Resolve("enricher.propagating.sensorMapping")
	if err != nil {
		return err
	}
	if raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("enricher.propagating.sensorMapping: %v is not a map of sensor names: %w", raw, entities.ErrInvalid)
		}
		for from, to := range m {
			name, err := enrSensorName(to)
			if err != nil {
				return fmt.Errorf("enricher.propagating.sensorMapping: %s: %w", from, err)
			}
			mapping[from] = name
		}
	}
	allBut, err := enrSensorList(a, "enricher.propagating.propagatingAllBut")
	if err != nil {
		return err
	}
	all := a.ConfigBool("enricher.propagating.propagatingAll", false) || len(allBut) > 0
	self := producer == a.Entity()
	switch {
	case !all && len(mapping) == 0:
		return fmt.Errorf("nothing to propagate: %w", entities.ErrInvalid)
	case all && self:
		return fmt.Errorf("propagating every sensor of the entity to itself would loop: %w", entities.ErrInvalid)
	case self:
		for from, to := range mapping {
			if from == to {
				return fmt.Errorf("propagating %s of the entity to itself would loop: %w", from, entities.ErrInvalid)
			}
		}
	}
	skip := append(slices.Clone(notPropagated), allBut...)
	dest := func(sensor string) (string, bool) {
		if all {
			return sensor, !slices.Contains(skip, sensor)
		}
		to, ok := mapping[sensor]
		return to, ok
	}
	e, pid := a.Entity(), producer.ID()
	a.Subscribe(func(ev sensors.Event) bool {
		if ev.Entity != pid {
			return false
		}
		_, ok := dest(ev.Sensor)
		return ok
	}, func(ev sensors.Event) {
		to, _ := dest(ev.Sensor)
		e.SetAttribute(to, ev.Value)
	})
	for name, v := range producer.Attributes() {
		if to, ok := dest(name); ok && v != nil {
			e.SetAttribute(to, v)
		}
	}
	return nil
}

// --- Delta, time-weighted delta, rolling means: one source sensor to one target ---

func streamKeys(extra ...entities.ConfigKey) []entities.ConfigKey {
	return append([]entities.ConfigKey{enrProducer, enrSource, enrTarget}, extra...)
}

func streamCheck(k *entities.AdjunctKind, more func(c enrConfig) error) func(map[string]any) error {
	return func(cfg map[string]any) error {
		c := enrConfig{k, cfg}
		if err := c.need(enrKeySource, enrKeyTarget); err != nil {
			return err
		}
		if _, _, given := c.get(enrKeyProducer); !given {
			_, s, _ := c.get(enrKeySource)
			_, t, _ := c.get(enrKeyTarget)
			if s == t && !isDSL(s) {
				return &entities.KeyError{Err: fmt.Errorf("source and target are the same sensor, %v: the enricher would feed on itself", s)}
			}
		}
		if more != nil {
			return more(c)
		}
		return nil
	}
}

func deltaKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name:        DeltaType,
		Aliases:     []string{"org.apache.brooklyn.enricher.stock.DeltaEnricher", "DeltaEnricher", "delta"},
		Description: "Publishes the difference between each value of a numeric sensor and the previous one",
		Config:      streamKeys(),
	}
	k.Check = streamCheck(k, nil)
	k.Start = func(a *entities.Adjunct) error {
		var d sensors.Delta
		if v, ok := a.Memory("last"); ok {
			d.Last, d.Seen = sensors.Number(v)
		}
		return enrStream(a, func(ev sensors.Event, v float64) (any, bool) {
			out, ok := d.Add(ev.Time, v)
			a.Remember("last", v)
			return out, ok
		})
	}
	return k
}

func timeWeightedDeltaKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name: TimeWeightedDeltaType,
		Aliases: []string{"org.apache.brooklyn.policy.enricher.TimeWeightedDeltaEnricher", "YamlTimeWeightedDeltaEnricher",
			"TimeWeightedDeltaEnricher", "time-weighted-delta"},
		Description: "Publishes the rate of change of a numeric sensor per enricher.delta.period (per second by default): requests per second from a request count",
		Config: streamKeys(entities.ConfigKey{Name: "enricher.delta.period", Aliases: []string{"unitMillis"}, Type: "duration", Default: "1s",
			Description: "The time the rate is per (a number is milliseconds)"}),
	}
	k.Check = streamCheck(k, func(c enrConfig) error { return c.duration("enricher.delta.period") })
	k.Start = func(a *entities.Adjunct) error {
		d := sensors.TimeWeightedDelta{Unit: a.ConfigDuration("enricher.delta.period", time.Second)}
		if v, ok := a.Memory("last"); ok {
			d.Last, _ = sensors.Number(v)
			d.LastTime = a.MemoryTime("lastTime")
		}
		return enrStream(a, func(ev sensors.Event, v float64) (any, bool) {
			out, ok := d.Add(ev.Time, v)
			a.Remember("last", d.Last)
			a.Remember("lastTime", d.LastTime)
			return out, ok
		})
	}
	return k
}

func rollingTimeWindowMeanKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name: RollingTimeWindowMeanType,
		Aliases: []string{"org.apache.brooklyn.policy.enricher.RollingTimeWindowMeanEnricher", "YamlRollingTimeWindowMeanEnricher",
			"RollingTimeWindowMeanEnricher", "rolling-time-window-mean"},
		Description: "Publishes the time-weighted mean of a numeric sensor over a window of time, once the values cover enough of it",
		Config: streamKeys(
			entities.ConfigKey{Name: "enricher.window.duration", Aliases: []string{"timePeriod"}, Type: "duration", Default: "1m",
				Description: "The length of the window"},
			entities.ConfigKey{Name: "enricher.window.confidenceRequired", Aliases: []string{"confidenceRequired"}, Type: "number", Default: sensors.DefaultConfidence,
				Description: "The share of the window (0 to 1) the values must cover before a mean is published"},
		),
	}
	k.Check = streamCheck(k, func(c enrConfig) error {
		if err := c.duration("enricher.window.duration"); err != nil {
			return err
		}
		if key, v, ok := c.get("enricher.window.confidenceRequired"); ok && !isDSL(v) {
			if f, isNum := sensors.Number(v); !isNum || f < 0 || f > 1 {
				return &entities.KeyError{Key: key, Err: fmt.Errorf("%v is not a number from 0 to 1", v)}
			}
		}
		return nil
	})
	k.Start = func(a *entities.Adjunct) error {
		r := sensors.RollingTimeWindowMean{Window: a.ConfigDuration("enricher.window.duration", time.Minute)}
		if f, ok := a.ConfigFloat("enricher.window.confidenceRequired"); ok {
			r.Confidence = f
			if f == 0 {
				r.Confidence = 1e-9 // publish as soon as there is a mean
			}
		}
		return enrStream(a, func(ev sensors.Event, v float64) (any, bool) { return r.Add(ev.Time, v) })
	}
	return k
}

func rollingMeanKind() *entities.AdjunctKind {
	k := &entities.AdjunctKind{
		Name:        RollingMeanType,
		Aliases:     []string{"org.apache.brooklyn.enricher.stock.RollingMeanEnricher", "RollingMeanEnricher", "rolling-mean"},
		Description: "Publishes the mean of the last windowSize values of a numeric sensor",
		Config: streamKeys(entities.ConfigKey{Name: "windowSize", Aliases: []string{"enricher.window.size"}, Type: "integer",
			Description: "How many values the mean is over (required)"}),
	}
	k.Check = streamCheck(k, func(c enrConfig) error {
		key, v, ok := c.get("windowSize")
		if !ok {
			return &entities.KeyError{Err: errors.New("a rolling mean needs windowSize")}
		}
		if f, isNum := sensors.Number(v); !isDSL(v) && (!isNum || f < 1 || f != float64(int(f))) {
			return &entities.KeyError{Key: key, Err: fmt.Errorf("%v is not a whole number of values, 1 or more", v)}
		}
		return nil
	})
	k.Start = func(a *entities.Adjunct) error {
		r := sensors.RollingMean{Size: a.ConfigInt("windowSize", 0)}
		if r.Size < 1 {
			return fmt.Errorf("windowSize %v: a rolling mean needs 1 or more: %w", r.Size, entities.ErrInvalid)
		}
		return enrStream(a, func(ev sensors.Event, v float64) (any, bool) { return r.Add(ev.Time, v), true })
	}
	return k
}

// enrStream runs an enricher of one numeric source sensor of the producer and one target
// sensor of the entity: fn gets each new value of the source, with its event (for its
// time), and returns the target's new value (ok false: none). A value removed (nil) is
// skipped; one that is not a number is logged and skipped.
func enrStream(a *entities.Adjunct, fn func(ev sensors.Event, v float64) (any, bool)) error {
	producer, source, target, err := enrEnds(a, true)
	if err != nil {
		return err
	}
	if producer == a.Entity() && source == target {
		return fmt.Errorf("source and target are the same sensor, %s: the enricher would feed on itself: %w", source, entities.ErrInvalid)
	}
	var warn enrWarner
	a.SubscribeSensor(source, func(ev sensors.Event) {
		if ev.Value == nil {
			return
		}
		v, ok := sensors.Number(ev.Value)
		if !ok {
			warn.warn(a, source, fmt.Errorf("%v is not a number", ev.Value))
			return
		}
		warn.ok()
		if out, ok := fn(ev, v); ok {
			a.Entity().SetAttribute(target, out)
		}
	}, producer)
	return nil
}

// --- helpers ---

// ExprEnv is the environment an expr-lang expression sees of entity e (see sensors.Env):
// its id, name, type, catalogItemId, parent, app, tags, config and sensors, and value.
// Enrichers, rule policies and group filters build it the same way.
func ExprEnv(e *entities.Entity, value any) map[string]any {
	env := sensors.Env{
		ID: e.ID(), Name: e.Name(), CatalogItemID: e.CatalogItemID(),
		Tags: e.Tags(), Config: e.EffectiveConfig(), Sensors: e.Attributes(), Value: value,
	}
	if t := e.Type(); t != nil {
		env.Type = t.Name
	}
	if p := e.Parent(); p != nil {
		env.Parent = p.ID()
	}
	if app := e.Application(); app != nil {
		env.App = app.ID()
	}
	return env.Map()
}

// enrEnds resolves the producer and the source and target sensors of an enricher; the
// source may be missing unless needSource.
func enrEnds(a *entities.Adjunct, needSource bool) (producer *entities.Entity, source, target string, err error) {
	if producer, err = a.ResolveEntity(enrKeyProducer, a.Entity()); err != nil {
		return nil, "", "", err
	}
	if source, err = enrSensor(a, enrKeySource); err != nil {
		return nil, "", "", err
	}
	if source == "" && needSource {
		return nil, "", "", fmt.Errorf("%s is required: %w", enrKeySource, entities.ErrInvalid)
	}
	if target, err = enrSensor(a, enrKeyTarget); err != nil {
		return nil, "", "", err
	}
	if target == "" {
		return nil, "", "", fmt.Errorf("%s is required: %w", enrKeyTarget, entities.ErrInvalid)
	}
	return producer, source, target, nil
}

// enrSensor reads the sensor name key holds ("" when unset).
func enrSensor(a *entities.Adjunct, key string) (string, error) {
	v, err := a.Resolve(key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if v == nil {
		return "", nil
	}
	s, err := enrSensorName(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// enrSensorName reads a sensor name: a string, or a map with a name (a sensor as
// Brooklyn's YAML sometimes gives one).
func enrSensorName(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case map[string]any:
		if s, ok := x["name"].(string); ok {
			return strings.TrimSpace(s), nil
		}
	}
	return "", fmt.Errorf("%v is not a sensor name: %w", v, entities.ErrInvalid)
}

// enrSensorList reads a list of sensor names (a single name is a list of one).
func enrSensorList(a *entities.Adjunct, key string) ([]string, error) {
	v, err := a.Resolve(key)
	if err != nil || v == nil {
		return nil, err
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var out []string
	for _, it := range items {
		s, err := enrSensorName(it)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func enrTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(strings.TrimSpace(x), "true")
	}
	return false
}

// isDSL says whether a config value is $brooklyn: DSL, known only when the enricher
// runs.
func isDSL(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(strings.TrimSpace(s), "$brooklyn:")
}

// enrConfig reads an adjunct's config as a blueprint wrote it (keys under their names or
// aliases), for Check.
type enrConfig struct {
	k *entities.AdjunctKind
	m map[string]any
}

// get returns the value of key (by its name or an alias) and the key as written.
func (c enrConfig) get(name string) (written string, v any, ok bool) {
	ck, declared := c.k.ConfigKey(name)
	if !declared {
		v, ok = c.m[name]
		return name, v, ok
	}
	for _, n := range append([]string{ck.Name}, ck.Aliases...) {
		if v, ok := c.m[n]; ok {
			return n, v, true
		}
	}
	return "", nil, false
}

// need says that each key must be given, and not empty.
func (c enrConfig) need(names ...string) error {
	for _, n := range names {
		key, v, ok := c.get(n)
		switch {
		case !ok:
			return &entities.KeyError{Err: fmt.Errorf("%s needs %s", c.k.Name, n)}
		case v == nil || v == "":
			return &entities.KeyError{Key: key, Err: errors.New("must not be empty")}
		}
	}
	return nil
}

// expression checks that key, when given, holds an expr-lang expression that compiles.
func (c enrConfig) expression(name string) error {
	key, v, ok := c.get(name)
	if !ok || v == nil || isDSL(v) {
		return nil
	}
	s, isString := v.(string)
	if !isString {
		return &entities.KeyError{Key: key, Err: fmt.Errorf("%v is not an expression", v)}
	}
	if _, err := sensors.Compile(s); err != nil {
		return &entities.KeyError{Key: key, Err: err}
	}
	return nil
}

// duration checks that key, when given, holds a duration ("30s", or milliseconds).
func (c enrConfig) duration(name string) error {
	key, v, ok := c.get(name)
	if !ok || v == nil || isDSL(v) {
		return nil
	}
	if s, isString := v.(string); isString {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil && d > 0 {
			return nil
		}
	}
	if f, isNum := sensors.Number(v); isNum && f > 0 {
		return nil
	}
	return &entities.KeyError{Key: key, Err: fmt.Errorf("%v is not a duration such as 30s", v)}
}

// enrWarner logs an enricher's failures once each, not at every event, until it works
// again. It is used from one goroutine at a time.
type enrWarner struct{ last string }

func (w *enrWarner) warn(a *entities.Adjunct, what string, err error) {
	if msg := what + ": " + err.Error(); msg != w.last {
		w.last = msg
		a.Logger().Warn("enricher: "+what, "err", err)
	}
}

func (w *enrWarner) ok() { w.last = "" }
