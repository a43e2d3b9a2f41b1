// Package locations holds the contracts between Gantry's entities and the places
// they run on: a Location names a place (localhost, a Docker Engine, an SSH
// machine, a cloud region), and a Registry keeps the locations a server knows,
// by id.
//
// What a location can do beyond being named is expressed as small extra
// interfaces discovered by type assertion:
//
//   - Executor runs a shell script on the location (localhost, SSH machines).
//   - ContainerHost creates, inspects, lists, stops and removes containers and
//     watches their lifecycle events (Docker Engines).
//
// For example:
//
//	if h, ok := loc.(locations.ContainerHost); ok {
//		c, err := h.RunContainer(ctx, locations.ContainerSpec{Image: "gantry/busybox:latest"})
//		...
//	}
//
// Errors returned by implementations wrap the sentinels ErrNotFound, ErrInvalid
// and ErrUnavailable so callers (and the REST layer) can test them with
// errors.Is.
//
// This package imports nothing of Gantry's. Providers live in sub-packages
// (locations/localhost, locations/docker, ...) which import this package and
// third-party clients, never entities, server or other higher layers.
package locations
