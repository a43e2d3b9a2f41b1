package policies

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecideRestart(t *testing.T) {
	def := DefaultRestartConfig()
	noFire := def
	noFire.SetOnFireOnFailure = false
	zero := def
	zero.FailOnRecurringFailuresInThisDuration = 0
	tests := []struct {
		name     string
		cfg      RestartConfig
		previous []time.Time
		restart  bool
		onFire   bool
		why      string
	}{
		{name: "first failure: restart", cfg: def, restart: true, why: "restarting"},
		{name: "previous failure long ago: restart", cfg: def, previous: []time.Time{at(-10 * time.Minute)}, restart: true, why: "10m0s after"},
		{name: "previous failure just outside 3m: restart", cfg: def, previous: []time.Time{at(-3*time.Minute - time.Millisecond)}, restart: true},
		{name: "previous failure exactly 3m ago: give up", cfg: def, previous: []time.Time{at(-3 * time.Minute)}, onFire: true, why: "giving up: failed again 3m0s"},
		{name: "recurring failure: give up, ON_FIRE", cfg: def, previous: []time.Time{at(-time.Hour), at(-30 * time.Second)}, onFire: true, why: "within 3m0s"},
		{name: "order does not matter", cfg: def, previous: []time.Time{at(-30 * time.Second), at(-time.Hour)}, onFire: true},
		{name: "give up without ON_FIRE", cfg: noFire, previous: []time.Time{at(-30 * time.Second)}},
		{name: "failures from the future are ignored", cfg: def, previous: []time.Time{at(time.Second)}, restart: true},
		{name: "zero window: only a failure at the same instant gives up", cfg: zero, previous: []time.Time{at(-time.Millisecond)}, restart: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideRestart(tt.cfg, tt.previous, t0)
			if d.Restart != tt.restart || d.OnFire != tt.onFire {
				t.Errorf("DecideRestart = %+v, want restart %v, on fire %v", d, tt.restart, tt.onFire)
			}
			if !strings.Contains(d.Reason, tt.why) {
				t.Errorf("reason %q does not say %q", d.Reason, tt.why)
			}
		})
	}
}

// A crash loop under the restarter: restarted once, then given up on.
func TestRestarterCrashLoop(t *testing.T) {
	cfg := DefaultRestartConfig()
	var seen []time.Time
	var restarts, giveUps int
	for d := time.Duration(0); d < 10*time.Minute; d += 20 * time.Second {
		now := at(d)
		dec := DecideRestart(cfg, seen, now)
		seen = append(seen, now)
		if dec.Restart {
			restarts++
		} else {
			giveUps++
			break // ON_FIRE: the detector publishes no more failures until it recovers
		}
	}
	if restarts != 1 || giveUps != 1 {
		t.Errorf("%d restarts, %d give-ups; want 1 and 1", restarts, giveUps)
	}
}

func TestDecideReplace(t *testing.T) {
	brooklyn := DefaultReplaceConfig()
	brooklyn.FailOnNumRecurringReplacements = 0
	def := DefaultReplaceConfig()
	times := func(ds ...time.Duration) []time.Time {
		var ts []time.Time
		for _, d := range ds {
			ts = append(ts, at(d))
		}
		return ts
	}
	m := time.Minute
	tests := []struct {
		name    string
		cfg     ReplaceConfig
		h       ReplaceHistory
		member  string
		replace bool
		why     string
		recur   int // recurrences in the returned history
	}{
		{name: "first failure: replace", cfg: def, member: "m1", replace: true, why: "member m1 failed; replacing it"},
		{name: "four failed attempts: still replace", cfg: def, h: ReplaceHistory{Failures: times(-4*m, -3*m, -2*m, -m)}, replace: true},
		{name: "five failed attempts in 5m: give up", cfg: def, h: ReplaceHistory{Failures: times(-4*m, -3*m, -2*m, -m, -m/2)}, why: "5 replacement attempts failed within 5m0s"},
		{name: "old failures do not count", cfg: def, h: ReplaceHistory{Failures: times(-9*m, -8*m, -7*m, -6*m, -m)}, replace: true},
		{name: "failure exactly at the window's start counts", cfg: def, h: ReplaceHistory{Failures: times(-5*m, -3*m, -2*m, -m, -m/2)}},
		{name: "limit 0 never gives up", cfg: ReplaceConfig{FailOnRecurringFailuresInThisDuration: 5 * m}, h: ReplaceHistory{Failures: times(-m, -m, -m, -m, -m, -m)}, replace: true},
		{
			name: "unrelated members failing together are all replaced", cfg: def, member: "m9",
			h:       ReplaceHistory{Replacements: []Replacement{{at(-m), "r1"}, {at(-m), "r2"}, {at(-m), "r3"}}},
			replace: true,
		},
		{
			name: "a replacement failing in turn is a recurrence", cfg: def, member: "r2",
			h:       ReplaceHistory{Replacements: []Replacement{{at(-2 * m), "r1"}, {at(-m), "r2"}}, Recurrences: times(-m)},
			replace: true, recur: 2,
		},
		{
			name: "the third recurrence gives up", cfg: def, member: "r3",
			h:     ReplaceHistory{Replacements: []Replacement{{at(-m), "r3"}}, Recurrences: times(-3*m, -2*m)},
			why:   "3 members put in by replacements within 5m0s failed in turn",
			recur: 3,
		},
		{
			name: "old recurrences do not count", cfg: def, member: "r3",
			h:       ReplaceHistory{Replacements: []Replacement{{at(-m), "r3"}}, Recurrences: times(-7*m, -6*m)},
			replace: true, recur: 1,
		},
		{
			name: "a member replaced long ago is not a recurrence", cfg: def, member: "r3",
			h:       ReplaceHistory{Replacements: []Replacement{{at(-6 * m), "r3"}}, Recurrences: times(-3*m, -2*m)},
			replace: true, recur: 2,
		},
		{
			name: "Brooklyn: recurring replacements go on for ever", cfg: brooklyn, member: "r3",
			h:       ReplaceHistory{Replacements: []Replacement{{at(-m), "r3"}}, Recurrences: times(-3*m, -2*m, -m)},
			replace: true, recur: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, h := DecideReplace(tt.cfg, tt.h, tt.member, t0)
			if d.Replace != tt.replace {
				t.Errorf("DecideReplace = %+v, want replace %v", d, tt.replace)
			}
			if !strings.Contains(d.Reason, tt.why) {
				t.Errorf("reason %q does not say %q", d.Reason, tt.why)
			}
			if len(h.Recurrences) != tt.recur {
				t.Errorf("history has %d recurrences, want %d: %+v", len(h.Recurrences), tt.recur, h)
			}
		})
	}
}

// A member that dies as soon as it is put in: replaced three times, then given up on.
func TestReplacerCrashLoop(t *testing.T) {
	cfg := DefaultReplaceConfig()
	var h ReplaceHistory
	member, replacements := "m0", 0
	for d := time.Duration(0); d < time.Hour; d += 20 * time.Second {
		dec, next := DecideReplace(cfg, h, member, at(d))
		h = next
		if !dec.Replace {
			break
		}
		replacements++
		member = fmt.Sprintf("m%d", replacements)
		h = h.Succeeded(member, at(d+time.Second))
	}
	if replacements != 3 {
		t.Errorf("%d replacements before giving up, want 3", replacements)
	}
}

func TestReplaceHistory(t *testing.T) {
	cfg := DefaultReplaceConfig()
	h := ReplaceHistory{}.Failed(at(-10 * time.Minute)).Failed(at(-time.Minute))
	if len(h.Failures) != 2 {
		t.Fatalf("Failed: %+v", h)
	}
	if p := h.Prune(cfg, t0); len(p.Failures) != 1 {
		t.Errorf("Prune kept %+v", p)
	}
	s := h.Succeeded("new", t0)
	if len(s.Failures) != 0 || len(s.Replacements) != 1 || s.Replacements[0].Member != "new" {
		t.Errorf("Succeeded: %+v (Brooklyn forgets failed attempts after a success)", s)
	}
	if len(h.Failures) != 2 {
		t.Errorf("Succeeded changed its receiver: %+v", h)
	}
}
