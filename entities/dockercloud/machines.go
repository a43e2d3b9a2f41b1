package dockercloud

import (
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/sensors"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// specPrefix starts the Endpoint of a free machine of docker.host.spec's location.
const specPrefix = "machine:"

// hostKey is what identifies a host among the entries it may come from: its endpoint,
// "location:<spec>" for one made from a docker.hosts entry with a location, "" for one
// made from docker.host.spec on a machine.
func hostKey(h *entities.Entity) string {
	if ep := h.ConfigString(KeyEndpoint); ep != "" {
		return ep
	}
	if loc := h.ConfigString(KeyHostLocation); loc != "" {
		return locationPrefix + loc
	}
	return ""
}

// specLocation is the machine location hosts of docker.host.spec are made on: the
// spec's own, else the infrastructure's; nil when the spec gives an endpoint, or there
// is no such location.
func specLocation(infra *entities.Entity) (locations.Location, *entities.Spec) {
	spec, ok := infra.EntitySpec(KeyHostSpec)
	if !ok || spec == nil {
		return nil, nil
	}
	if ep, _ := spec.Config[KeyEndpoint].(string); ep != "" {
		return nil, spec
	}
	ids := spec.Locations
	if len(ids) == 0 {
		ids = infra.Locations()
	}
	if len(ids) == 0 {
		return nil, spec
	}
	l, err := infra.Management().Locations().Get(ids[0])
	if err != nil || !locations.RunsCommands(l) {
		return nil, spec
	}
	return l, spec
}

// specMachines are the hosts docker.host.spec can still make: one per free machine of
// its location (a byon pool's free machines; localhost is one machine, free while no
// host of the infrastructure is on it). When making one failed within retry of now,
// there are none, and failed says why.
func specMachines(infra *entities.Entity, fails map[string]poolFailure, retry time.Duration, now time.Time) (free []endpoint, failed []string) {
	l, _ := specLocation(infra)
	if l == nil {
		return nil, nil
	}
	key := specPrefix + l.ID()
	if f, ok := fails[key]; ok && now.Sub(time.UnixMilli(f.Time)) < retry {
		return nil, []string{fmt.Sprintf("%s (%s)", key, f.Reason)}
	}
	for range freeMachines(infra, l) {
		free = append(free, endpoint{Endpoint: key, Pool: true, Config: map[string]any{}})
	}
	return free, nil
}

// freeMachines counts the machines of l that no entity holds.
func freeMachines(infra *entities.Entity, l locations.Location) int {
	switch x := l.(type) {
	case interface{ FreeMachines() int }:
		return max(x.FreeMachines(), 0)
	case locations.MachinePool:
		// A byon pool says so in its config ("free"); a pool that does not is asked
		// for one machine at a time.
		if n, ok := sensors.Number(x.Config()["free"]); ok {
			return max(int(n), 0)
		}
		return 1
	case locations.Executor:
		for _, h := range hostsOf(infra) {
			if machineHost(h) {
				if hl, err := hostLocation(h); err == nil && hl.ID() == l.ID() {
					return 0
				}
			}
		}
		return 1
	}
	return 0
}
