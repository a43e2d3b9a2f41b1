package policies

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PeriodicConfig is the schedule of a periodic effector policy (Brooklyn's
// PeriodicEffectorPolicy): every Period, the first time at Time or after Wait.
type PeriodicConfig struct {
	// Period between runs (Brooklyn's default: 1 hour).
	Period time.Duration
	// Time of the first run: a time of day ("08:00:00", "08:00", "8:00 AM") in Location,
	// "now" or "immediately", or seconds since the epoch. It takes precedence over Wait.
	Time string
	// Wait before the first run when Time is not set; when neither is, the first run is
	// one Period after the start.
	Wait time.Duration
	// Location of a time of day; nil means UTC. The policy passes the server's zone,
	// as Brooklyn uses the server's.
	Location *time.Location
}

// DefaultPeriodicConfig returns Brooklyn's default: every hour, the first after an hour.
func DefaultPeriodicConfig() PeriodicConfig { return PeriodicConfig{Period: time.Hour} }

// Validate reports a schedule that cannot run, wrapping ErrInvalid.
func (c PeriodicConfig) Validate() error {
	if c.Period <= 0 {
		return fmt.Errorf("period %s is not positive: %w", c.Period, ErrInvalid)
	}
	if c.Wait < 0 {
		return fmt.Errorf("wait %s is negative: %w", c.Wait, ErrInvalid)
	}
	_, err := parseRunTime(c.Time)
	return err
}

// runTime is a parsed PeriodicConfig.Time.
type runTime struct {
	set   bool
	now   bool
	epoch time.Time     // absolute, when set
	clock time.Duration // time of day, when neither now nor epoch
}

var clockLayouts = []string{"15:04:05", "15:04", "3:04:05 PM", "3:04 PM", "3:04:05PM", "3:04PM"}

func parseRunTime(s string) (runTime, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return runTime{}, nil
	case "now", "immediately":
		return runTime{set: true, now: true}, nil
	}
	if !strings.Contains(s, ":") {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return runTime{}, fmt.Errorf("time %q is neither HH:mm:ss, now, nor seconds since the epoch: %w", s, ErrInvalid)
		}
		return runTime{set: true, epoch: time.Unix(secs, 0)}, nil
	}
	for _, layout := range clockLayouts {
		if t, err := time.Parse(layout, strings.ToUpper(s)); err == nil {
			return runTime{set: true, clock: time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second}, nil
		}
	}
	return runTime{}, fmt.Errorf("time %q is not a time of day such as 08:00:00: %w", s, ErrInvalid)
}

// nextClock returns the first time at or after from whose time of day in loc is clock.
func nextClock(clock time.Duration, from time.Time, loc *time.Location) time.Time {
	f := from.In(loc)
	y, m, d := f.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc).Add(clock)
	if t.Before(from) {
		t = time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(clock)
	}
	return t
}

func (c PeriodicConfig) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// FirstRun is when a policy started at start first runs: at Time (the next such time of
// day, possibly start itself; start for "now"; an epoch time, or start if that is past),
// else Wait after start, else one Period after start.
func FirstRun(c PeriodicConfig, start time.Time) (time.Time, error) {
	rt, err := parseRunTime(c.Time)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case rt.now:
		return start, nil
	case !rt.epoch.IsZero():
		if rt.epoch.Before(start) {
			return start, nil
		}
		return rt.epoch, nil
	case rt.set:
		return nextClock(rt.clock, start, c.loc()), nil
	case c.Wait > 0:
		return start.Add(c.Wait), nil
	}
	return start.Add(c.Period), nil
}

// NextRun is when the policy runs next, given when the last run was due (zero if it never
// ran) and now. After a run it is one Period later, or the next Time of day if that comes
// first (Brooklyn's schedule). Counting from when a run was due rather than when it ended
// keeps the schedule from drifting. A run that fell due while the policy was not running
// (the server was down) is not caught up: the schedule starts again from now, with
// FirstRun, as Brooklyn does.
func NextRun(c PeriodicConfig, last, now time.Time) (time.Time, error) {
	rt, err := parseRunTime(c.Time)
	if err != nil {
		return time.Time{}, err
	}
	if last.IsZero() {
		return FirstRun(c, now)
	}
	next := last.Add(c.Period)
	if rt.set && !rt.now && rt.epoch.IsZero() {
		if t := nextClock(rt.clock, last.Add(time.Nanosecond), c.loc()); t.Before(next) {
			next = t
		}
	}
	if next.Before(now) {
		return FirstRun(c, now)
	}
	return next, nil
}
