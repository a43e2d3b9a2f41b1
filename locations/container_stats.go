package locations

import (
	"context"
	"time"
)

// ContainerStats is implemented by container hosts that report what a container uses
// (Docker Engines, from their one-shot stats).
type ContainerStats interface {
	// StatsContainer reads the resource use of the running container with that id or
	// name, in one round trip. A missing container is an error wrapping ErrNotFound,
	// one that is not running an error wrapping ErrInvalid.
	StatsContainer(ctx context.Context, id string) (*ContainerUsage, error)
}

// ContainerUsage is one reading of a container's resource use. The CPU and network
// figures are counters since the container started: a rate needs two readings (see
// CPUFraction).
type ContainerUsage struct {
	// Time is when the engine took the reading.
	Time time.Time
	// CPU is the CPU time the container has used, over all CPUs.
	CPU time.Duration
	// SystemCPU is the CPU time the host has spent, summed over its CPUs, as the
	// engine read it with CPU (0 when it does not say).
	SystemCPU time.Duration
	// OnlineCPUs is the number of CPUs of the host (0 when unknown).
	OnlineCPUs int
	// Memory is the memory in use, in bytes, without the page cache the kernel can
	// take back (as `docker stats` counts it).
	Memory uint64
	// MemoryLimit is the container's memory limit in bytes, or the host's memory when
	// it has none.
	MemoryLimit uint64
	// NetworkIn and NetworkOut are the bytes received and sent, over all of the
	// container's interfaces.
	NetworkIn, NetworkOut uint64
}

// CPUFraction is the CPU a container used between two readings, as a fraction of one
// CPU: 1 means one CPU busy all the time, 2.5 two and a half (what `docker stats` shows
// as a percentage, divided by 100). It uses the host's CPU time when both readings have
// it, as `docker stats` does, and else the time between the readings. ok is false when
// the readings cannot tell: no time between them, or a CPU counter that went back (the
// container restarted).
func CPUFraction(prev, cur ContainerUsage) (fraction float64, ok bool) {
	used := cur.CPU - prev.CPU
	if used < 0 {
		return 0, false
	}
	if sys := cur.SystemCPU - prev.SystemCPU; prev.SystemCPU > 0 && sys > 0 && cur.OnlineCPUs > 0 {
		return float64(used) / float64(sys) * float64(cur.OnlineCPUs), true
	}
	if wall := cur.Time.Sub(prev.Time); wall > 0 && !prev.Time.IsZero() {
		return float64(used) / float64(wall), true
	}
	return 0, false
}

// MemoryPercent is the memory in use as a percentage (0 to 100) of the limit; ok is
// false when the limit is unknown.
func (u ContainerUsage) MemoryPercent() (percent float64, ok bool) {
	if u.MemoryLimit == 0 {
		return 0, false
	}
	return float64(u.Memory) / float64(u.MemoryLimit) * 100, true
}
