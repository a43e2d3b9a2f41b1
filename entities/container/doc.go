// Package container registers the Docker container kind (Clocker's DockerContainer,
// also reached as docker:<image>): an entity that is one container on a Docker engine
// location. It creates, starts, stops and removes the container, publishes its address
// and ports as sensors, learns of its death from the engine's event stream (Watch), and
// re-adopts it by id after a server restart. Clocker's links (links.go) become Docker's
// legacy links, once the linked containers run; initializers' commands run in the
// container with docker exec.
//
// Other kinds whose entity is one container (the load balancer of entities/proxy) reuse
// this lifecycle through Lifecycle, with their own changes to the container's spec.
//
// With sdn.enable, a container joins virtual networks (networks.go, entities/network):
// it is created on its first network (its application's, by default) instead of the
// engine's default bridge, joins the networks of network.list, and is reached on the
// first (host.address). Without it nothing changes.
//
// It imports entities, entities/network, locations and sensors.
package container
