package locations

import (
	"math"
	"testing"
	"time"
)

func TestCPUFraction(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reading := func(at, cpu, sys time.Duration, cpus int) ContainerUsage {
		return ContainerUsage{Time: t0.Add(at), CPU: cpu, SystemCPU: sys, OnlineCPUs: cpus}
	}
	s := time.Second
	cases := []struct {
		name      string
		prev, cur ContainerUsage
		want      float64
		ok        bool
	}{
		// 4 CPUs: the host spends 4s of CPU per second; 2s used of 8s is half the host, two CPUs.
		{"host time, two of four CPUs", reading(0, 10*s, 100*s, 4), reading(2*s, 12*s, 108*s, 4), 1, true},
		{"host time, busy loop on one CPU", reading(0, 0, 100*s, 8), reading(s, s, 108*s, 8), 1, true},
		{"host time, idle", reading(0, 5*s, 100*s, 2), reading(s, 5*s, 102*s, 2), 0, true},
		{"host time, several CPUs busy", reading(0, 0, 0+1, 4), reading(s, 3*s, 4*s+1, 4), 3, true},
		{"wall time when the host's is missing", reading(0, s, 0, 0), reading(2*s, 2*s, 0, 0), 0.5, true},
		{"wall time when the CPU count is missing", reading(0, s, 100*s, 0), reading(4*s, 2*s, 104*s, 0), 0.25, true},
		{"no time between the readings", reading(s, s, 0, 0), reading(s, 2*s, 0, 0), 0, false},
		{"no previous reading", ContainerUsage{}, reading(s, 2*s, 0, 0), 0, false},
		{"restarted: the counter went back", reading(0, 10*s, 100*s, 4), reading(s, s, 104*s, 4), 0, false},
	}
	for _, c := range cases {
		got, ok := CPUFraction(c.prev, c.cur)
		if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: CPUFraction = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestMemoryPercent(t *testing.T) {
	cases := []struct {
		used, limit uint64
		want        float64
		ok          bool
	}{
		{256 << 20, 1 << 30, 25, true},
		{0, 1 << 30, 0, true},
		{1 << 30, 1 << 30, 100, true},
		{100, 0, 0, false},
	}
	for _, c := range cases {
		got, ok := ContainerUsage{Memory: c.used, MemoryLimit: c.limit}.MemoryPercent()
		if got != c.want || ok != c.ok {
			t.Errorf("MemoryPercent(%d of %d) = %v, %v; want %v, %v", c.used, c.limit, got, ok, c.want, c.ok)
		}
	}
}
