package policies

import (
	"errors"
	"testing"
	"time"
)

func TestFirstRun(t *testing.T) {
	// t0 is 03:04:05 UTC.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	h, m := time.Hour, time.Minute
	tests := []struct {
		name string
		cfg  PeriodicConfig
		want time.Time
		err  bool
	}{
		{name: "default: one period after the start", cfg: DefaultPeriodicConfig(), want: at(h)},
		{name: "wait", cfg: PeriodicConfig{Period: h, Wait: 5 * m}, want: at(5 * m)},
		{name: "now", cfg: PeriodicConfig{Period: h, Time: "now", Wait: 5 * m}, want: t0},
		{name: "immediately", cfg: PeriodicConfig{Period: h, Time: "Immediately"}, want: t0},
		{name: "time of day later today", cfg: PeriodicConfig{Period: 24 * h, Time: "08:00:00"}, want: time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC)},
		{name: "time of day passed: tomorrow", cfg: PeriodicConfig{Period: 24 * h, Time: "03:00"}, want: time.Date(2026, 1, 3, 3, 0, 0, 0, time.UTC)},
		{name: "time of day exactly now: now", cfg: PeriodicConfig{Period: 24 * h, Time: "03:04:05"}, want: t0},
		{name: "12-hour clock", cfg: PeriodicConfig{Period: 24 * h, Time: "6:30 pm"}, want: time.Date(2026, 1, 2, 18, 30, 0, 0, time.UTC)},
		{name: "time of day in a zone", cfg: PeriodicConfig{Period: 24 * h, Time: "05:00:00", Location: paris}, want: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)},
		{name: "epoch seconds in the future", cfg: PeriodicConfig{Period: h, Time: "1767409445"}, want: time.Unix(1767409445, 0)},
		{name: "epoch seconds in the past: now", cfg: PeriodicConfig{Period: h, Time: "1000"}, want: t0},
		{name: "time wins over wait", cfg: PeriodicConfig{Period: h, Time: "04:00", Wait: 5 * m}, want: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)},
		{name: "bad time", cfg: PeriodicConfig{Period: h, Time: "eight o'clock"}, err: true},
		{name: "bad clock", cfg: PeriodicConfig{Period: h, Time: "25:99"}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FirstRun(tt.cfg, t0)
			if tt.err {
				if !errors.Is(err, ErrInvalid) || !errors.Is(tt.cfg.Validate(), ErrInvalid) {
					t.Errorf("FirstRun = %v, %v; want an ErrInvalid", got, err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("FirstRun = %v, %v; want %v", got, err, tt.want)
			}
			if err := tt.cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestNextRun(t *testing.T) {
	h, m := time.Hour, time.Minute
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 1, d, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		cfg       PeriodicConfig
		last, now time.Time
		want      time.Time
	}{
		{name: "never ran: first run", cfg: PeriodicConfig{Period: h, Wait: m}, now: t0, want: at(m)},
		{name: "one period after the last due time, not after its end", cfg: PeriodicConfig{Period: h}, last: at(0), now: at(2 * m), want: at(h)},
		{name: "daily at 08:00", cfg: PeriodicConfig{Period: 24 * h, Time: "08:00"}, last: day(2, 8, 0), now: day(2, 8, 1), want: day(3, 8, 0)},
		{name: "every 5h from 08:00: 23:00 then 04:00", cfg: PeriodicConfig{Period: 5 * h, Time: "08:00"}, last: day(2, 23, 0), now: day(2, 23, 0), want: day(3, 4, 0)},
		{name: "every 25h at 08:00: the time of day comes first", cfg: PeriodicConfig{Period: 25 * h, Time: "08:00"}, last: day(2, 8, 0), now: day(2, 8, 0), want: day(3, 8, 0)},
		{name: "now: every period", cfg: PeriodicConfig{Period: 10 * m, Time: "now"}, last: at(0), now: at(time.Second), want: at(10 * m)},
		{name: "missed while down: start again from now", cfg: PeriodicConfig{Period: h}, last: at(-3 * h), now: t0, want: at(h)},
		{name: "missed while down, with a time of day: next time of day", cfg: PeriodicConfig{Period: 24 * h, Time: "08:00"}, last: day(1, 8, 0), now: day(2, 9, 0), want: day(3, 8, 0)},
		{name: "missed while down, with now: at once", cfg: PeriodicConfig{Period: h, Time: "now"}, last: at(-3 * h), now: t0, want: t0},
		{name: "restart before it fell due: unchanged", cfg: PeriodicConfig{Period: h}, last: at(-30 * m), now: t0, want: at(30 * m)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextRun(tt.cfg, tt.last, tt.now)
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("NextRun = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPeriodicValidate(t *testing.T) {
	for _, c := range []PeriodicConfig{{}, {Period: -time.Second}, {Period: time.Hour, Wait: -time.Second}} {
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalid", c, err)
		}
	}
}
