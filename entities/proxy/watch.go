package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// Names of the kind's feeds (Management stops them with the entity).
const (
	watchFeed     = "loadbalancer.serverpool"
	statsFeedName = "loadbalancer.stats"
)

// watcher keeps HAProxy's config in step with the server pool: it follows the bus for
// the pool's group.members and its members' up, address and port sensors, and after a
// change (gathered for proxy.reload.debounce) renders the config and applies it. It
// also compares every proxy.resync.period, in case an event was missed. It lives in
// memory only: start, restart and rebind make a new one.
type watcher struct {
	e    *entities.Entity
	port int
	host string // member.sensor.hostname
	pnum string // member.sensor.portNumber

	mu      sync.Mutex // serialises sync
	applied []byte     // the config HAProxy runs, as far as this watcher knows

	watchMu sync.RWMutex
	pool    string          // id of the pool entity, for the bus filter
	members map[string]bool // ids of its members, for the bus filter

	kick  chan struct{}
	stats *tracker // nil when the request sensors are off
}

func newWatcher(e *entities.Entity, port int, stats *tracker) *watcher {
	return &watcher{
		e:     e,
		port:  port,
		stats: stats,
		host:  configOr(e, KeyHostnameSensor, sensors.HostAddress),
		pnum:  configOr(e, KeyPortSensor, sensors.HTTPPort),
		kick:  make(chan struct{}, 1),
	}
}

func configOr(e *entities.Entity, key, def string) string {
	if s := e.ConfigString(key); s != "" {
		return s
	}
	return def
}

// poolEntity finds the entity of loadbalancer.serverpool: an entity, or its id (what
// $brooklyn:entity(...) evaluates to), or else the id or name of an entity of the same
// application. No pool is no error: there is nothing to route to.
func (w *watcher) poolEntity() (*entities.Entity, error) {
	v, ok := w.e.Config(KeyServerPool)
	if !ok || v == nil || v == "" {
		return nil, nil
	}
	switch p := v.(type) {
	case *entities.Entity:
		return p, nil
	case string:
		pool, err := w.e.Management().Entity(p)
		if err != nil {
			// An entity of the same application, by name.
			if pool, err2 := w.e.Management().FindEntity(w.e.Application(), p); err2 == nil {
				return pool, nil
			}
			return nil, fmt.Errorf("%s %q: %w", KeyServerPool, p, err)
		}
		return pool, nil
	}
	return nil, fmt.Errorf("%s: %v (%T) is not an entity: %w", KeyServerPool, v, v, entities.ErrInvalid)
}

// targets lists the pool's members to route to, and the ids of all its members.
func (w *watcher) targets(pool *entities.Entity) (members []Member, all []string) {
	if pool == nil {
		return nil, nil
	}
	for _, m := range pool.Members() {
		all = append(all, m.ID())
	}
	return Targets(pool.Members(), w.host, w.pnum), all
}

// Targets picks the entities to route to: those that are up (service.isUp) and have an
// address in hostSensor (a non-empty string) and a port in portSensor (a number or a
// string of one, 1-65535), in the order given.
func Targets(es []*entities.Entity, hostSensor, portSensor string) []Member {
	var out []Member
	for _, m := range es {
		if !m.IsUp() {
			continue
		}
		hv, _ := m.Attribute(hostSensor)
		host, _ := hv.(string)
		pv, _ := m.Attribute(portSensor)
		port, ok := toPort(pv)
		if host == "" || !ok {
			continue
		}
		out = append(out, Member{ID: m.ID(), Address: host, Port: port})
	}
	return out
}

// sync renders the config for the pool as it is now and applies it when it differs
// from what HAProxy runs. It publishes serverpool.targets, and records a failure as a
// problem of the entity (cleared by the next success).
func (w *watcher) sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	pool, err := w.poolEntity()
	if err != nil {
		w.e.SetProblem(indicator, err.Error())
		return err
	}
	members, all := w.targets(pool)
	w.watchMu.Lock()
	w.pool = ""
	if pool != nil {
		w.pool = pool.ID()
	}
	w.members = make(map[string]bool, len(all))
	for _, id := range all {
		w.members[id] = true
	}
	w.watchMu.Unlock()

	cfg, err := Render(Config{Port: w.port, Members: members})
	if err != nil {
		w.e.SetProblem(indicator, err.Error())
		return err
	}
	if !slices.Equal(cfg, w.applied) {
		if w.stats != nil {
			// No reading of the statistics while HAProxy reloads (see tracker).
			w.stats.mu.Lock()
		}
		a, err := Apply(ctx, runner(w.e), cfg, Stats{})
		if w.stats != nil {
			if err == nil && a.Reloaded {
				w.stats.reloadedLocked(a.Last, time.Now())
			}
			w.stats.mu.Unlock()
		}
		if err != nil {
			if ctx.Err() == nil {
				w.e.SetProblem(indicator, "HAProxy config not applied: "+err.Error())
			}
			return err
		}
		w.applied = cfg
		if a.Reloaded {
			entities.Logf(ctx, "HAProxy reloaded with %d of %d members", len(members), len(all))
			w.e.Management().Logger().Debug("haproxy reloaded", "entity", w.e.ID(), "members", len(members), "pool", len(all))
		}
	}
	w.e.SetProblem(indicator, "")
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	targets := make([]any, len(members))
	for i, m := range members {
		targets[i] = m.HostPort()
	}
	if old, _ := w.e.Attribute(SensorTargets); !sameList(old, targets) {
		w.e.SetAttribute(SensorTargets, targets)
	}
	return nil
}

// runner runs scripts in the entity's container.
func runner(e *entities.Entity) Runner {
	return func(ctx context.Context, cmd locations.Command) (int, error) {
		return entities.ExecOn(ctx, e, cmd)
	}
}

// sameList says whether a sensor's list (as set, or as read back from the store) holds
// the same strings as l.
func sameList(v any, l []any) bool {
	var old []any
	switch x := v.(type) {
	case []any:
		old = x
	case []string:
		for _, s := range x {
			old = append(old, s)
		}
	default:
		return false
	}
	return slices.Equal(old, l) && v != nil
}

// relevant says whether a bus event may change the config: the pool's membership, or a
// member's up, address or port sensor.
func (w *watcher) relevant(ev sensors.Event) bool {
	w.watchMu.RLock()
	defer w.watchMu.RUnlock()
	switch ev.Sensor {
	case sensors.GroupMembers:
		return ev.Entity == w.pool
	case sensors.ServiceUp, w.host, w.pnum:
		return w.members[ev.Entity]
	}
	return false
}

// run is the watch feed: it returns when the feed stops (the entity stops, restarts or is
// unmanaged).
func (w *watcher) run(ctx context.Context) {
	cancel := w.e.Management().Bus().Subscribe(w.relevant, func(sensors.Event) {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	})
	defer cancel()
	debounce := w.e.ConfigDuration(KeyDebounce, 200*time.Millisecond)
	resync := w.e.ConfigDuration(KeyResync, 30*time.Second)
	if resync <= 0 {
		resync = 30 * time.Second
	}
	tick := time.NewTicker(resync)
	defer tick.Stop()
	// A change between adopt's sync and the subscription would be missed: look once more.
	retry := w.trySync(ctx)
	for {
		var again <-chan time.Time
		if retry {
			again = time.After(2 * time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(debounce):
			}
			select { // what came while waiting is in this sync too
			case <-w.kick:
			default:
			}
		case <-tick.C:
		case <-again:
		}
		retry = w.trySync(ctx)
	}
}

// trySync syncs and says whether to try again soon (it failed).
func (w *watcher) trySync(ctx context.Context) bool {
	err := w.sync(ctx)
	if err != nil && ctx.Err() == nil {
		w.e.Management().Logger().Warn("load balancer config", "entity", w.e.ID(), "err", err)
	}
	return err != nil && !errors.Is(err, entities.ErrInvalid)
}

// tracker turns readings of HAProxy's statistics into the request sensors. The stats
// feed reads every proxy.stats.period; a reload hands over the last counts of the
// stopping worker (Applied.Last) and makes the next reading count from 0, so that the
// total and the rate go on across reloads. mu is held through a reading and through a
// reload, so that no reading of the old worker comes after the reload.
type tracker struct {
	e       *entities.Entity
	mu      sync.Mutex
	prev    Sample
	failing string
}

// poll is the stats feed.
func (t *tracker) poll(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rows, err := ReadStats(ctx, runner(t.e), Stats{})
	at := time.Now()
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		err = t.observeLocked(rows, at)
	}
	if err != nil {
		if err.Error() != t.failing {
			t.failing = err.Error()
			t.e.Management().Logger().Warn("load balancer stats", "entity", t.e.ID(), "err", err)
		}
		return
	}
	t.failing = ""
}

// reloadedLocked takes the last reading of the worker that stopped at a reload.
func (t *tracker) reloadedLocked(last []StatRow, at time.Time) {
	if last != nil {
		_ = t.observeLocked(last, at)
	}
	// The new worker counts from 0, from now.
	t.prev = Sample{At: at}
}

func (t *tracker) observeLocked(rows []StatRow, at time.Time) error {
	l, err := LoadOf(rows, Frontend, Backend)
	if err != nil {
		return err
	}
	cur := Sample{At: at, Load: l}
	total, had := t.e.Attribute(SensorReqsTotal)
	n, _ := toInt64(total)
	switch {
	case !had:
		n = l.Requests
	case !t.prev.At.IsZero():
		n += RequestsBetween(t.prev, cur)
	}
	t.e.SetAttribute(SensorReqsTotal, n)
	t.e.SetAttribute(SensorReqsPerSec, RequestsPerSecond(t.prev, cur))
	t.e.SetAttribute(SensorReqsInFlight, int(l.InFlight))
	t.prev = cur
	return nil
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return int64(x), true
	}
	return 0, false
}
