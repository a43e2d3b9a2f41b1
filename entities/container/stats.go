package container

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sensors"
)

// statsFeed is the name of the feed that polls a container's stats.
const statsFeed = "docker.stats"

// monitorKeys are the kind's keys for the stats feed and the HTTP port.
var monitorKeys = []entities.ConfigKey{
	{Name: "docker.stats.period", Type: "duration", Default: "10s",
		Description: "How often the engine's stats of the container are read, for the machine.* sensors (0 turns them off)"},
	{Name: sensors.HTTPPort, Type: "integer",
		Description: "The container port that serves HTTP (sensor http.port, which a load balancer uses); by default the only port the container publishes, when it publishes exactly one"},
}

// monitorSensors are the sensors of the stats feed, and http.port.
var monitorSensors = []entities.SensorType{
	{Name: sensors.MachineCPU, Type: "java.lang.Double", Description: "CPU in use, as a fraction of one CPU (1 = one CPU busy; more than 1 with several), over the last stats period"},
	{Name: sensors.MachineMemoryUsed, Type: "java.lang.Long", Description: "Memory in use, in bytes, without the page cache the kernel can take back"},
	{Name: sensors.MachineMemoryTotal, Type: "java.lang.Long", Description: "Memory limit in bytes (the host's memory when the container has none)"},
	{Name: sensors.MachineMemoryPercent, Type: "java.lang.Double", Description: "Memory in use as a percentage (0-100) of machine.memory.total"},
	{Name: sensors.MachineNetworkIn, Type: "java.lang.Long", Description: "Bytes received on the container's interfaces since it started"},
	{Name: sensors.MachineNetworkOut, Type: "java.lang.Long", Description: "Bytes sent from the container's interfaces since it started"},
	{Name: sensors.HTTPPort, Type: "java.lang.Integer", Description: "The container port that serves HTTP: config http.port, else the only published port"},
}

// usageSensors are cleared when the container stops running.
var usageSensors = []string{sensors.MachineCPU, sensors.MachineMemoryUsed, sensors.MachineMemoryPercent}

// startStats polls the engine's one-shot stats of the entity's container every
// docker.stats.period and publishes the machine.* sensors. The CPU is a rate: it comes
// from two readings, the first pair a second apart (or a period, when that is shorter),
// then one period apart; the previous reading is kept in memory only, so after a restart
// of the server the first CPU figure comes a second after the feed starts again. The
// feed stops with the entity (Management stops its feeds); a container that stops
// running has its CPU and memory sensors cleared until it runs again.
func startStats(e *entities.Entity) {
	period := e.ConfigDuration("docker.stats.period", 10*time.Second)
	if period <= 0 {
		return
	}
	h, err := host(e)
	if err != nil {
		return
	}
	st, ok := h.(locations.ContainerStats)
	if !ok {
		return // an engine that does not report stats
	}
	log := e.Management().Logger().With("entity", e.ID(), "feed", statsFeed)
	var prev *locations.ContainerUsage
	var failing string
	read := func(ctx context.Context) *locations.ContainerUsage {
		id := containerID(e)
		if id == "" {
			return nil
		}
		u, err := st.StatsContainer(ctx, id)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, locations.ErrInvalid), errors.Is(err, locations.ErrNotFound):
			for _, s := range usageSensors { // not running, or gone: nothing in use
				e.SetAttribute(s, nil)
			}
			prev = nil
			return nil
		case err != nil:
			if err.Error() != failing {
				failing = err.Error()
				log.Warn("container stats", "err", err)
			}
			return nil
		}
		failing = ""
		return u
	}
	e.Management().StartFeed(e, statsFeed, period, func(ctx context.Context) {
		u := read(ctx)
		if u == nil {
			return
		}
		if prev == nil {
			// A first reading: take a second one shortly after, for the CPU.
			prev = u
			publishUsage(e, nil, u)
			select {
			case <-ctx.Done():
				return
			case <-time.After(min(period, time.Second)):
			}
			if u = read(ctx); u == nil {
				return
			}
		}
		publishUsage(e, prev, u)
		prev = u
	})
}

// publishUsage sets the machine.* sensors from a reading, and machine.cpu from it and
// the previous one, when there is one.
func publishUsage(e *entities.Entity, prev, u *locations.ContainerUsage) {
	if prev != nil {
		if cpu, ok := locations.CPUFraction(*prev, *u); ok {
			e.SetAttribute(sensors.MachineCPU, cpu)
		}
	}
	e.SetAttribute(sensors.MachineMemoryUsed, int64(u.Memory))
	if u.MemoryLimit > 0 {
		e.SetAttribute(sensors.MachineMemoryTotal, int64(u.MemoryLimit))
	}
	if pct, ok := u.MemoryPercent(); ok {
		e.SetAttribute(sensors.MachineMemoryPercent, pct)
	}
	e.SetAttribute(sensors.MachineNetworkIn, int64(u.NetworkIn))
	e.SetAttribute(sensors.MachineNetworkOut, int64(u.NetworkOut))
}

// httpPort chooses the container port that serves HTTP: the configured one when it is
// given (a port number, or a string of one), else the only published port, when the
// container publishes exactly one. ok is false when there is none, or the configured
// value is not a port.
func httpPort(configured any, published map[int]int) (port int, ok bool) {
	if configured != nil && configured != "" {
		var n int
		switch x := configured.(type) {
		case int:
			n = x
		case int64:
			n = int(x)
		case float64:
			n = int(x)
			if float64(n) != x {
				return 0, false
			}
		case string:
			var err error
			if n, err = strconv.Atoi(x); err != nil {
				return 0, false
			}
		default:
			return 0, false
		}
		if n <= 0 || n > 65535 {
			return 0, false
		}
		return n, true
	}
	if len(published) != 1 {
		return 0, false
	}
	for p := range published {
		return p, true
	}
	return 0, false
}
