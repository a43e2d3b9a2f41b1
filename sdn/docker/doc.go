// Package docker is the sdn provider "docker": virtual networks are Docker networks,
// made on every host the provider is opened with (the same name and subnet on each),
// with the bridge driver unless sdn.docker.driver says otherwise.
//
// On one engine this gives what Clocker's SDN gave: containers attached to several
// networks; the engine's embedded DNS resolving, on each user-defined network, the
// names and aliases of that network's containers (Gantry gives each container its
// entity's name and blueprint id as aliases); and isolation between networks, which
// the engine enforces with its iptables rules (DOCKER-ISOLATION chains), so that the
// containers of one application's network cannot reach another's.
//
// Across engines, a bridge network is local to each one: containers on different
// engines share a name and a subnet, not a link. Routing between them needs a
// multi-host driver the engines allow (overlay under swarm mode, or an SDN such as
// Calico, see sdn/calico); this provider does not pretend otherwise. Hosts that
// spread containers over engines (a Docker cloud) implement locations.NetworkHost
// themselves and are given as one host.
//
// It imports sdn, locations and the standard library.
package docker
