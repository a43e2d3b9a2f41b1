package policies

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// HeadroomType is the name of the headroom policy; "headroom" is its alias. The
// docker-infrastructure kind attaches it when docker.container.cluster.headroom.count or
// .percent is set.
const HeadroomType = "io.gantry.policy.ContainerHeadroomPolicy"

// The headroom policy's config keys; the infrastructure's names are their aliases.
const (
	keyHeadroomCount   = "headroom.count"
	keyHeadroomPercent = "headroom.percent"
	keyHeadroomUp      = "resizeUpStabilizationDelay"
	keyHeadroomDown    = "resizeDownStabilizationDelay"
	keyHeadroomRemove  = "removeEmpty"
	keyHeadroomRetry   = "retryDelay"
	keyHeadroomAdd     = "addEffector"
	keyHeadroomDel     = "removeEffector"
)

// headroomProblem is the key of the problem the policy reports on its entity.
const headroomProblem = "headroom"

// memHeadroom is the policy's memory: a HeadroomMemory.
const memHeadroom = "headroom"

var headroomKind = &entities.AdjunctKind{
	Name:     HeadroomType,
	Aliases:  []string{"headroom", "container-headroom", "ContainerHeadroomPolicy"},
	Category: entities.PolicyCategory,
	Description: "Keeps container slots free across the hosts of a Docker cloud (Clocker's headroom): adds a host " +
		"from the pool when too few are free, removes an EMPTY host when enough are spare for the down " +
		"stabilization delay (never one with containers), and reports ON_FIRE instead of retrying when no " +
		"host can be added",
	Config: []entities.ConfigKey{
		{Name: keyHeadroomCount, Aliases: []string{"docker.container.cluster.headroom.count", "headroom", "count"}, Type: "integer",
			Description: "Container slots to keep free"},
		{Name: keyHeadroomPercent, Aliases: []string{"docker.container.cluster.headroom.percent", "percent"}, Type: "number",
			Description: "Share (0-100) of the slots to keep free, instead of a count"},
		{Name: keyHeadroomUp, Aliases: []string{"docker.headroom.resizeUpStabilizationDelay"}, Type: "duration", Default: "30s",
			Description: "How long too few slots must be free before a host is added (not for containers waiting for a host)"},
		{Name: keyHeadroomDown, Aliases: []string{"docker.headroom.resizeDownStabilizationDelay"}, Type: "duration", Default: "5m",
			Description: "How long an empty host must be spare before it is removed"},
		{Name: keyHeadroomRemove, Aliases: []string{"docker.host.removeEmpty"}, Type: "boolean", Default: true,
			Description: "Remove empty hosts beyond the headroom (never the cloud's initial hosts)"},
		{Name: keyHeadroomRetry, Aliases: []string{"docker.headroom.retryDelay"}, Type: "duration", Default: "1m",
			Description: "How long to wait after adding a host failed before trying again"},
		{Name: keyHeadroomAdd, Type: "string", Default: "addHost", Description: "The effector that adds a host"},
		{Name: keyHeadroomDel, Type: "string", Default: "removeHost", Description: "The effector that removes a host; it takes hostId"},
	},
}

func init() {
	headroomKind.Check = func(cfg map[string]any) error {
		_, err := readHeadroom(view{headroomKind, cfg})
		return err
	}
	headroomKind.Start = startHeadroom
	entities.RegisterAdjunct(headroomKind)
}

type headroomSettings struct {
	cfg           HeadroomConfig
	add, remove   string
	hasCount, pct bool
}

func readHeadroom(src configSource) (headroomSettings, error) {
	r := &reader{src: src}
	_, hasCount := r.raw(keyHeadroomCount)
	_, hasPct := r.raw(keyHeadroomPercent)
	s := headroomSettings{
		cfg: HeadroomConfig{
			Count:       r.int(keyHeadroomCount),
			Percent:     r.float(keyHeadroomPercent),
			UpDelay:     r.duration(keyHeadroomUp),
			DownDelay:   r.duration(keyHeadroomDown),
			RemoveEmpty: r.bool(keyHeadroomRemove, true),
			RetryDelay:  r.duration(keyHeadroomRetry),
		},
		add:      r.str(keyHeadroomAdd),
		remove:   r.str(keyHeadroomDel),
		hasCount: hasCount,
		pct:      hasPct,
	}
	if r.err != nil {
		return s, r.err
	}
	if hasCount && hasPct {
		return s, &entities.KeyError{Key: keyHeadroomCount, Err: fmt.Errorf("give %s or %s, not both: %w", keyHeadroomCount, keyHeadroomPercent, ErrInvalid)}
	}
	if !hasCount && !hasPct {
		return s, &entities.KeyError{Key: keyHeadroomCount, Err: fmt.Errorf("give %s (free slots) or %s: %w", keyHeadroomCount, keyHeadroomPercent, ErrInvalid)}
	}
	if err := s.cfg.Validate(); err != nil {
		return s, err
	}
	if s.add == "" || s.remove == "" {
		return s, &entities.KeyError{Key: keyHeadroomAdd, Err: fmt.Errorf("the effectors cannot be empty: %w", ErrInvalid)}
	}
	return s, nil
}

// headroom is one running headroom policy.
type headroom struct {
	a     *entities.Adjunct
	infra *entities.Entity
	s     headroomSettings
	d     *decider
	hl    highlighter
	mem   HeadroomMemory
}

// headroomSensors are the sensors whose changes make the policy decide again.
var headroomSensors = map[string]bool{
	sensors.DockerContainerCount: true, sensors.DockerHostSlots: true, sensors.DockerHostDraining: true,
	sensors.DockerContainerWaiting: true, sensors.DockerHostsPoolAvailable: true, sensors.DockerHostAdding: true,
	sensors.GroupMembers: true, sensors.ServiceUp: true, sensors.ServiceStateExpected: true,
}

func startHeadroom(a *entities.Adjunct) error {
	s, err := readHeadroom(a)
	if err != nil {
		return err
	}
	r := &headroom{a: a, infra: a.Entity(), s: s, hl: highlighter{a: a}}
	recall(a, memHeadroom, &r.mem)
	r.d = startDecider(a.Context(), r.decide)
	a.Subscribe(r.wants, func(sensors.Event) { r.d.poke() })
	what := fmt.Sprintf("%d free container slots", s.cfg.Count)
	if s.pct {
		what = fmt.Sprintf("%g%% of the container slots free", s.cfg.Percent)
	}
	r.hl.set(hlTriggers, "Keeping "+what+" across the hosts of "+r.infra.Name())
	r.d.poke()
	return nil
}

// wants is the subscription's filter: a sensor the decision reads, of the infrastructure
// or one of its hosts.
func (r *headroom) wants(ev sensors.Event) bool {
	if !headroomSensors[ev.Sensor] {
		return false
	}
	if ev.Entity == r.infra.ID() {
		return true
	}
	for _, m := range r.infra.Members() {
		if m.ID() == ev.Entity {
			return true
		}
	}
	return false
}

// observe reads the cloud from the infrastructure's sensors and its hosts'.
func (r *headroom) observe() HeadroomObservation {
	in := r.infra
	obs := HeadroomObservation{
		Waiting:       attrInt(in, sensors.DockerContainerWaiting),
		PoolAvailable: attrInt(in, sensors.DockerHostsPoolAvailable),
		MinHosts:      attrInt(in, sensors.DockerHostsMinSize),
	}
	if v, _ := in.Attribute(sensors.DockerHostAdding); v == true {
		obs.Busy = true
	}
	for _, m := range in.Members() {
		x := m.Expected()
		if x == entities.Starting || x == entities.Stopping || x == entities.Created {
			obs.Busy = true
		}
		draining, _ := m.Attribute(sensors.DockerHostDraining)
		obs.Hosts = append(obs.Hosts, HeadroomHost{
			ID:         m.ID(),
			Up:         x == entities.Running && m.IsUp(),
			Draining:   draining == true,
			Containers: attrInt(m, sensors.DockerContainerCount),
			Slots:      attrInt(m, sensors.DockerHostSlots),
		})
	}
	return obs
}

func attrInt(e *entities.Entity, name string) int {
	v, _ := e.Attribute(name)
	f, _ := sensors.Number(v)
	return int(f)
}

// decide runs on the decider's goroutine: decide, and act when the decision says so.
func (r *headroom) decide(ctx context.Context, now time.Time) time.Time {
	if r.infra.Expected() != entities.Running {
		return time.Time{} // a cloud that is not running is left alone
	}
	obs := r.observe()
	d := DecideHeadroom(r.s.cfg, obs, r.mem, now)
	r.setMemory(d.Memory)
	r.infra.SetAttribute(sensors.DockerClusterNeeded, d.Needed)
	r.infra.SetProblem(headroomProblem, d.Problem)
	switch d.Action {
	case HeadroomNothing:
		if d.Needed > 0 {
			r.hl.set(hlViolation, capitalize(d.Reason))
		} else {
			r.hl.set(hlConfirmation, capitalize(d.Reason))
		}
		return d.RecheckAt
	case HeadroomAddHost:
		r.hl.set(hlViolation, capitalize(d.Reason))
		r.a.Logger().Info("headroom adds a host", "reason", d.Reason, "hosts", describeHosts(obs.Hosts))
		_, err := invokeAndWait(ctx, r.a, r.infra, r.s.add, nil)
		if ctx.Err() != nil {
			return time.Time{}
		}
		mem := r.mem
		if err != nil {
			mem.LastFailure, mem.LastFailureReason = now, err.Error()
			r.a.Logger().Warn("headroom could not add a host", "err", err)
			r.a.Highlight("lastFailure", "Adding a host failed: "+err.Error(), "")
		} else {
			mem.LastFailure, mem.LastFailureReason = time.Time{}, ""
		}
		r.setMemory(mem)
		return time.Now() // decide again at once: more may be needed, or a problem said
	case HeadroomRemoveHost:
		r.hl.set(hlConfirmation, capitalize(d.Reason))
		r.a.Logger().Info("headroom removes an empty host", "host", d.HostID, "reason", d.Reason)
		if _, err := invokeAndWait(ctx, r.a, r.infra, r.s.remove, map[string]any{"hostId": d.HostID}); err != nil && ctx.Err() == nil {
			// Refused (it got a container meanwhile) or failed: it stays; nothing to undo.
			r.a.Logger().Warn("headroom could not remove a host", "host", d.HostID, "err", err)
			r.a.Highlight("lastFailure", fmt.Sprintf("Removing %s failed: %v", d.HostID, err), "")
		}
		return time.Now()
	}
	return d.RecheckAt
}

// setMemory keeps the memory, and remembers it (persisted) when it changed.
func (r *headroom) setMemory(m HeadroomMemory) {
	if m == r.mem {
		return
	}
	r.mem = m
	r.a.Remember(memHeadroom, m)
}
