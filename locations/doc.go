// Package locations holds the contracts between Gantry's entities and the places
// they run on: a Location names a place (localhost, a Docker Engine, a pool of
// SSH machines, a cloud region), and a Registry keeps the locations a server
// knows, by id, and finds the location a blueprint's spec names (Resolve).
//
// What a location can do beyond being named is expressed as small extra
// interfaces discovered by type assertion:
//
//   - Executor runs a shell script on the location (localhost, SSH machines).
//   - Machine is an Executor that knows its address (host.address, host.name).
//   - MachinePool hands one Machine to each entity that starts on it and
//     remembers who holds which (byon); ExecutorFor gives an entity its
//     Executor in either kind of location, ReleaseFor gives a machine back.
//   - FileCopier receives files (CopyLocalFile copies a local one).
//   - ContainerHost creates, inspects, lists, stops and removes containers and
//     watches their lifecycle events (Docker Engines). A Docker cloud
//     (entities/dockercloud) is a ContainerHost too: it chooses a host for each
//     container it runs, by the placement strategies of the cloud, of the hosts and
//     of the container's spec (ContainerSpec.Strategies, CPUs, MemoryBytes), and
//     routes every later operation to the host holding the container.
//   - ContainerStats reads what a container uses: CPU, memory, network
//     (Docker Engines); CPUFraction and MemoryPercent turn readings into figures.
//   - NetworkHost makes networks (with a subnet, labels) and attaches containers to
//     them with aliases that the other containers of a network resolve (Docker
//     Engines' user-defined networks); ContainerSpec.Network creates a container on
//     one directly, off the default bridge. Package sdn drives it.
//
// For example:
//
//	if h, ok := loc.(locations.ContainerHost); ok {
//		c, err := h.RunContainer(ctx, locations.ContainerSpec{Image: "gantry/busybox:latest"})
//		...
//	}
//
// Location specs, as Brooklyn writes them, are taken apart by pure functions:
// ParseSpec (`localhost`, `docker:tcp://h:2376`, `byon:(hosts="...",user=u)`,
// `named:lab`, `my-item:1.0`), ExpandHosts (Brooklyn's host globs such as
// "{10.0.0.{1,2},u@h{8-9}}") and ParseNamedLocations (a server's file of named
// locations, YAML or Brooklyn's properties). Resolve tries, in order: a
// registered id; named:<name> and brooklyn.catalog:<id> (named locations added
// with AddNamed, then the Lookup the catalog sets); a provider registered with
// AddProvider (byon in locations/ssh, docker in locations/docker), which makes
// a location from the spec and its config; a bare named location or catalog
// item. A location made from a spec has an id derived from its spec and config
// (DefinitionID), so the same spec always means the same location. Its
// Definition, with the state the location saves (which entity holds which
// machine), goes to the function given to SetPersist; Restore makes the
// locations again, with their ids, when the server restarts.
//
// Errors returned by implementations wrap the sentinels ErrNotFound,
// ErrInvalid, ErrUnavailable and ErrNoCapacity so callers (and the REST layer)
// can test them with errors.Is.
//
// This package imports nothing of Gantry's (only the standard library and
// gopkg.in/yaml.v3). Providers live in sub-packages (locations/localhost,
// locations/docker, locations/ssh, ...) which import this package and
// third-party clients, never entities, server or other higher layers.
package locations
