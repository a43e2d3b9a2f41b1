// Package network registers the virtual-network kind (Clocker's VirtualNetwork): an
// entity that is one network of package sdn, with a name on its hosts (network.id),
// a subnet (network.cidr: configured, or allocated from the pool sdn.network.cidr in
// sdn.network.size pieces) and the containers attached to it (network.containers).
// Start makes the network through its provider (sdn.provider, default docker) on the
// entity's location and on every host a container joins it from; stop removes it once
// no container uses it (a stopped container keeps its networks, to start again);
// destroy removes it, or leaves that to the last container that goes; rebind checks that
// it is still there and recreates nothing.
//
// It also decides which networks a container joins (Join), for the container kind:
//
//   - nothing changes while sdn.enable is not true (on the entity, inherited from its
//     application, or in its location's config): containers stay on the engine's
//     default bridge, as before;
//   - with sdn.enable, each application gets its own network, gantry-<app id>, made
//     on first use by its first container as a virtual-network child of the application
//     (sdn.applicationNetwork.create: false turns that off), unless the blueprint
//     declares one itself; the container joins it first and is reached on it
//     (host.address);
//   - then the networks named in network.list, shared between applications: a
//     virtual-network entity of that network.id (or, in the same application, of that
//     blueprint id or name), else one made on first use as a child of the container's
//     application (it outlives it while other applications' containers use it);
//   - on each network, the container answers to its entity's name, its blueprint id and
//     its entity id, which the network's other containers resolve.
//
// Containers of different applications share no network unless a blueprint says so:
// with the docker provider, separate bridge networks are isolated by the engine.
//
// Subnets: every virtual-network entity of the server records its subnet; a new one
// is allocated (sdn.Allocator) from its pool, around the subnets of the other
// entities and of every network already on its hosts. The entities' records are the
// allocator's persisted state: a destroyed network gives its subnet back.
//
// It imports entities, locations, sensors and sdn (and sdn/docker, the default
// provider).
package network
