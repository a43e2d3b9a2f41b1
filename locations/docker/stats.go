package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/gantry-dev/gantry/locations"
)

var _ locations.ContainerStats = (*Engine)(nil)

// StatsContainer reads a container's resource use with the engine's one-shot stats (one
// round trip, without the second of priming a streaming read takes). A container that is
// not running is an error wrapping locations.ErrInvalid.
func (e *Engine) StatsContainer(ctx context.Context, id string) (*locations.ContainerUsage, error) {
	op := "stats of container " + short(id)
	r, err := e.cli.ContainerStatsOneShot(ctx, id)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer r.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		return nil, wrap(op+": decode", err)
	}
	u, ok := fromStats(s)
	if !ok {
		return nil, fmt.Errorf("%s: it is not running: %w", op, locations.ErrInvalid)
	}
	return u, nil
}

// fromStats converts the engine's stats; ok is false for a container that is not
// running (the engine answers with an empty reading).
func fromStats(s container.StatsResponse) (*locations.ContainerUsage, bool) {
	if s.Read.IsZero() {
		return nil, false
	}
	u := &locations.ContainerUsage{
		Time:        s.Read,
		CPU:         time.Duration(s.CPUStats.CPUUsage.TotalUsage),
		SystemCPU:   time.Duration(s.CPUStats.SystemUsage),
		OnlineCPUs:  int(s.CPUStats.OnlineCPUs),
		Memory:      memoryUsed(s.MemoryStats),
		MemoryLimit: s.MemoryStats.Limit,
	}
	if u.OnlineCPUs == 0 {
		u.OnlineCPUs = len(s.CPUStats.CPUUsage.PercpuUsage) // engines before API 1.27
	}
	for _, n := range s.Networks {
		u.NetworkIn += n.RxBytes
		u.NetworkOut += n.TxBytes
	}
	return u, true
}

// memoryUsed is the memory in use without the inactive page cache, as `docker stats`
// counts it: usage less total_inactive_file (cgroup v1) or inactive_file (cgroup v2).
func memoryUsed(m container.MemoryStats) uint64 {
	if v, ok := m.Stats["total_inactive_file"]; ok && v < m.Usage {
		return m.Usage - v
	}
	if v := m.Stats["inactive_file"]; v < m.Usage {
		return m.Usage - v
	}
	return m.Usage
}
