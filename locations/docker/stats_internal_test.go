package docker

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

func TestMemoryUsed(t *testing.T) {
	cases := []struct {
		name string
		m    container.MemoryStats
		want uint64
	}{
		{"cgroup v2", container.MemoryStats{Usage: 1000, Stats: map[string]uint64{"inactive_file": 300}}, 700},
		{"cgroup v1", container.MemoryStats{Usage: 1000, Stats: map[string]uint64{"total_inactive_file": 400, "inactive_file": 100}}, 600},
		{"no cache figure", container.MemoryStats{Usage: 1000}, 1000},
		{"cache above usage", container.MemoryStats{Usage: 1000, Stats: map[string]uint64{"inactive_file": 2000}}, 1000},
	}
	for _, c := range cases {
		if got := memoryUsed(c.m); got != c.want {
			t.Errorf("%s: memoryUsed = %d; want %d", c.name, got, c.want)
		}
	}
}

func TestFromStats(t *testing.T) {
	if _, ok := fromStats(container.StatsResponse{}); ok {
		t.Error("an empty reading (a stopped container) should not convert")
	}
	read := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var s container.StatsResponse
	s.Read = read
	s.CPUStats.CPUUsage.TotalUsage = 3e9
	s.CPUStats.CPUUsage.PercpuUsage = []uint64{1e9, 2e9}
	s.CPUStats.SystemUsage = 9e9
	s.MemoryStats = container.MemoryStats{Usage: 500, Limit: 1000, Stats: map[string]uint64{"inactive_file": 100}}
	s.Networks = map[string]container.NetworkStats{"eth0": {RxBytes: 10, TxBytes: 20}, "eth1": {RxBytes: 1, TxBytes: 2}}
	u, ok := fromStats(s)
	if !ok || u.Time != read || u.CPU != 3*time.Second || u.SystemCPU != 9*time.Second || u.OnlineCPUs != 2 ||
		u.Memory != 400 || u.MemoryLimit != 1000 || u.NetworkIn != 11 || u.NetworkOut != 22 {
		t.Errorf("fromStats = %+v, %v", u, ok)
	}
}
