package policies

import (
	"fmt"
	"slices"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// ReplacerType is Brooklyn's name of the replacer; "replacer" is its alias.
const ReplacerType = "org.apache.brooklyn.policy.ha.ServiceReplacer"

const (
	keyNumRecurring             = "failOnNumRecurringFailures"
	keyNumRecurringReplacements = "failOnNumRecurringReplacements"
	memReplacer                 = "history"
	// replacerProblem is the key of the problem the replacer records on its cluster.
	replacerProblem = "ServiceReplacer"
)

var replacerKind = &entities.AdjunctKind{
	Name:     ReplacerType,
	Aliases:  []string{"replacer", "ServiceReplacer"},
	Category: entities.PolicyCategory,
	Description: "Replaces a failed member of its cluster (replaceMember) when the member emits " +
		"ha.entityFailed.restart; gives up, leaving the cluster ON_FIRE, when replacements keep failing",
	Config: []entities.ConfigKey{
		{Name: keySetOnFire, Type: "boolean", Default: true, Description: "Record a problem on the cluster (ON_FIRE) when a replacement fails or the replacer gives up"},
		{Name: keyFailureSensor, Type: "string", Default: SensorEntityRestartFailed, Description: "The members' notification that triggers a replacement"},
		{Name: keyRecurringDuration, Type: "duration", Default: "5m", Description: "The window in which recurring failures are counted (a number is milliseconds, as in Brooklyn)"},
		{Name: keyNumRecurring, Type: "integer", Default: 5, Description: "Give up after this many failed replacements within the window (0: never)"},
		{Name: keyNumRecurringReplacements, Type: "integer", Default: 3, Description: "Gantry: give up after this many failures, within the window, of members that replacements put in (0: never, as Brooklyn)"},
	},
}

func init() {
	replacerKind.Check = func(cfg map[string]any) error {
		_, _, _, err := readReplacer(view{replacerKind, cfg})
		return err
	}
	replacerKind.Start = startReplacer
	entities.RegisterAdjunct(replacerKind)
}

func readReplacer(src configSource) (ReplaceConfig, string, bool, error) {
	r := &reader{src: src}
	c := ReplaceConfig{
		FailOnRecurringFailuresInThisDuration: r.duration(keyRecurringDuration),
		FailOnNumRecurringFailures:            r.int(keyNumRecurring),
		FailOnNumRecurringReplacements:        r.int(keyNumRecurringReplacements),
	}
	onFire := r.bool(keySetOnFire, true)
	sensor := r.sensor(keyFailureSensor)
	if sensor == "" {
		sensor = SensorEntityRestartFailed // unset, or a $brooklyn: value not evaluated yet (in a check)
	}
	return c, sensor, onFire, r.err
}

func startReplacer(a *entities.Adjunct) error {
	cfg, sensor, onFire, err := readReplacer(a)
	if err != nil {
		return err
	}
	cluster := a.Entity()
	m := cluster.Management()
	a.Highlight(hlTriggers, fmt.Sprintf("Listening for %s on the members of %s", sensor, cluster.Name()), "")
	// The filter runs on the bus's publishing path: it compares the sensor only, and
	// membership is checked after.
	a.Subscribe(func(ev sensors.Event) bool { return ev.Sensor == sensor }, func(ev sensors.Event) {
		member, err := m.Entity(ev.Entity)
		if err != nil || !cluster.HasMember(member) {
			return
		}
		ctx := a.Context()
		now := time.Now()
		var h ReplaceHistory
		recall(a, memReplacer, &h)
		d, h := DecideReplace(cfg, h, member.ID(), now)
		a.Remember(memReplacer, h)
		if !d.Replace {
			a.Logger().Error("replacer gave up", "cluster", cluster.ID(), "member", member.ID(), "reason", d.Reason)
			a.Highlight(hlViolation, fmt.Sprintf("Failure detected at %s, but %s", member.Name(), d.Reason), "")
			if onFire {
				cluster.SetProblem(replacerProblem, d.Reason)
			}
			return
		}
		a.Highlight(hlViolation, fmt.Sprintf("Failure detected at %s, triggering replacement", member.Name()), "")
		before := cluster.Members()
		res, err := invokeAndWait(ctx, a, cluster, "replaceMember", map[string]any{"memberId": member.ID()})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			reason := fmt.Sprintf("replacement of %s failed: %v", member.ID(), err)
			a.Logger().Warn("replacer", "cluster", cluster.ID(), "err", reason)
			a.Highlight(hlViolation, reason, "")
			a.Remember(memReplacer, h.Failed(time.Now()))
			if onFire {
				cluster.SetProblem(replacerProblem, reason)
			}
			emit(cluster, SensorEntityReplacementFailed, failureDescriptor(cluster, reason))
			return
		}
		a.Remember(memReplacer, h.Succeeded(newMember(res, before, cluster.Members()), time.Now()))
		cluster.SetProblem(replacerProblem, "")
	})
	return nil
}

// newMember is the id of the member a replacement put in: replaceMember's result (the
// new member's id, as in Brooklyn), else the member that was not there before.
func newMember(res any, before, after []*entities.Entity) string {
	if id, ok := res.(string); ok && id != "" {
		return id
	}
	for _, e := range after {
		if !slices.Contains(before, e) {
			return e.ID()
		}
	}
	return ""
}
