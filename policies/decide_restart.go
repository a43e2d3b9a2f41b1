package policies

import (
	"fmt"
	"slices"
	"time"
)

// Sensors the HA policies emit, with Brooklyn's names (HASensors, ServiceRestarter,
// ServiceReplacer).
const (
	SensorEntityFailed            = "ha.entityFailed"
	SensorEntityRecovered         = "ha.entityRecovered"
	SensorEntityRestartFailed     = "ha.entityFailed.restart"
	SensorEntityReplacementFailed = "ha.entityFailed.replacement"
)

// RestartConfig is the configuration of a restarter (Brooklyn's ServiceRestarter).
type RestartConfig struct {
	// FailOnRecurringFailuresInThisDuration: a failure within this time of the previous
	// one is not restarted; the restarter gives up. Brooklyn's default is 3 minutes.
	FailOnRecurringFailuresInThisDuration time.Duration
	// SetOnFireOnFailure: giving up sets the entity ON_FIRE (Brooklyn's default: true).
	SetOnFireOnFailure bool
}

// DefaultRestartConfig returns Brooklyn's defaults.
func DefaultRestartConfig() RestartConfig {
	return RestartConfig{FailOnRecurringFailuresInThisDuration: 3 * time.Minute, SetOnFireOnFailure: true}
}

// RestartDecision is a restarter's answer to a failure: restart the entity, or give up
// (emit ha.entityFailed.restart and, when OnFire, set the entity ON_FIRE).
type RestartDecision struct {
	Restart bool
	OnFire  bool // when giving up: set the entity ON_FIRE
	Reason  string
}

// DecideRestart is what Brooklyn's ServiceRestarter does with a failure detected now,
// given the times of the failures it saw before (in any order; every failure counts,
// restarted or not): restart, unless the previous failure was within
// FailOnRecurringFailuresInThisDuration, in which case it gives up. A restart that itself
// fails is also a reason to give up; that is known only after the effector ran, and
// GiveUpRestart says what to do then.
func DecideRestart(cfg RestartConfig, previous []time.Time, now time.Time) RestartDecision {
	var last time.Time
	for _, t := range previous {
		if !t.After(now) && t.After(last) {
			last = t
		}
	}
	if !last.IsZero() {
		if since := now.Sub(last); since <= cfg.FailOnRecurringFailuresInThisDuration {
			return GiveUpRestart(cfg, fmt.Sprintf("failed again %s after the previous failure (within %s)", since, cfg.FailOnRecurringFailuresInThisDuration))
		}
	}
	if last.IsZero() {
		return RestartDecision{Restart: true, Reason: "failure detected; restarting"}
	}
	return RestartDecision{Restart: true, Reason: fmt.Sprintf("failure detected %s after the previous one; restarting", now.Sub(last))}
}

// GiveUpRestart is the decision to give up, for the reason given.
func GiveUpRestart(cfg RestartConfig, reason string) RestartDecision {
	return RestartDecision{OnFire: cfg.SetOnFireOnFailure, Reason: "giving up: " + reason}
}

// ReplaceConfig is the configuration of a replacer (Brooklyn's ServiceReplacer).
type ReplaceConfig struct {
	// FailOnRecurringFailuresInThisDuration is the window the counts below look at.
	// Brooklyn's default is 5 minutes.
	FailOnRecurringFailuresInThisDuration time.Duration
	// FailOnNumRecurringFailures: the replacer gives up when this many replacement
	// attempts failed within the window (Brooklyn's default: 5). 0 means never.
	FailOnNumRecurringFailures int
	// FailOnNumRecurringReplacements (a Gantry addition) gives up when this many members
	// that a replacement put in within the window failed in turn: a member that keeps
	// dying ends ON_FIRE instead of being replaced for ever, while unrelated members
	// failing together (a lost host) are all replaced. 0 means never, Brooklyn's
	// behaviour; DefaultReplaceConfig sets 3.
	FailOnNumRecurringReplacements int
}

// DefaultReplaceConfig returns Brooklyn's defaults, and 3 recurring replacements.
func DefaultReplaceConfig() ReplaceConfig {
	return ReplaceConfig{FailOnRecurringFailuresInThisDuration: 5 * time.Minute, FailOnNumRecurringFailures: 5, FailOnNumRecurringReplacements: 3}
}

// Replacement is a member put in by a replacement, and when.
type Replacement struct {
	Time   time.Time `json:"t"`
	Member string    `json:"member"`
}

// ReplaceHistory is what a replacer remembers.
type ReplaceHistory struct {
	// Failures are the times replacement attempts failed; Brooklyn forgets them after a
	// replacement succeeds (see Succeeded).
	Failures []time.Time `json:"failures,omitempty"`
	// Replacements are the members that replacements put in.
	Replacements []Replacement `json:"replacements,omitempty"`
	// Recurrences are the times members that a replacement put in failed in turn.
	Recurrences []time.Time `json:"recurrences,omitempty"`
}

func (h ReplaceHistory) clone() ReplaceHistory {
	return ReplaceHistory{Failures: slices.Clone(h.Failures), Replacements: slices.Clone(h.Replacements), Recurrences: slices.Clone(h.Recurrences)}
}

// Succeeded returns the history after a replacement that put member in at now; as in
// Brooklyn, the failed attempts before it are forgotten.
func (h ReplaceHistory) Succeeded(member string, now time.Time) ReplaceHistory {
	h = h.clone()
	h.Failures = nil
	h.Replacements = append(h.Replacements, Replacement{Time: now, Member: member})
	return h
}

// Failed returns the history after a replacement attempt that failed at now.
func (h ReplaceHistory) Failed(now time.Time) ReplaceHistory {
	h = h.clone()
	h.Failures = append(h.Failures, now)
	return h
}

// Prune returns the history without what is older than the window.
func (h ReplaceHistory) Prune(cfg ReplaceConfig, now time.Time) ReplaceHistory {
	start := now.Add(-cfg.FailOnRecurringFailuresInThisDuration)
	old := func(t time.Time) bool { return t.Before(start) }
	h = h.clone()
	h.Failures = slices.DeleteFunc(h.Failures, old)
	h.Recurrences = slices.DeleteFunc(h.Recurrences, old)
	h.Replacements = slices.DeleteFunc(h.Replacements, func(r Replacement) bool { return old(r.Time) })
	return h
}

// ReplaceDecision is a replacer's answer to a failed member: replace it, or give up (the
// cluster is left ON_FIRE).
type ReplaceDecision struct {
	Replace bool
	Reason  string
}

// DecideReplace is what Brooklyn's ServiceReplacer does when member fails at now: replace
// it, unless FailOnNumRecurringFailures replacement attempts failed within
// FailOnRecurringFailuresInThisDuration, or (the Gantry addition) this is the
// FailOnNumRecurringReplacements-th failure within it of a member that a replacement put
// in. It also returns the history with this failure recorded and the old entries pruned;
// record the outcome of the replacement with Succeeded or Failed.
func DecideReplace(cfg ReplaceConfig, h ReplaceHistory, member string, now time.Time) (ReplaceDecision, ReplaceHistory) {
	h = h.Prune(cfg, now)
	window := cfg.FailOnRecurringFailuresInThisDuration
	if slices.ContainsFunc(h.Replacements, func(r Replacement) bool { return r.Member == member && !r.Time.After(now) }) {
		h.Recurrences = append(h.Recurrences, now)
	}
	if n := countUntil(h.Failures, now); cfg.FailOnNumRecurringFailures > 0 && n >= cfg.FailOnNumRecurringFailures {
		return ReplaceDecision{Reason: fmt.Sprintf("giving up: %d replacement attempts failed within %s (limit %d)", n, window, cfg.FailOnNumRecurringFailures)}, h
	}
	if n := countUntil(h.Recurrences, now); cfg.FailOnNumRecurringReplacements > 0 && n >= cfg.FailOnNumRecurringReplacements {
		return ReplaceDecision{Reason: fmt.Sprintf("giving up: %d members put in by replacements within %s failed in turn (limit %d)", n, window, cfg.FailOnNumRecurringReplacements)}, h
	}
	return ReplaceDecision{Replace: true, Reason: fmt.Sprintf("member %s failed; replacing it", member)}, h
}

func countUntil(ts []time.Time, now time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.After(now) {
			n++
		}
	}
	return n
}
