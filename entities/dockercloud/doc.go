// Package dockercloud is Clocker's Docker cloud: a docker-infrastructure entity that
// manages docker-host entities (Docker Engines reached at an endpoint: a unix socket, or
// tcp:// with TLS client certificates verified against a CA; or engines Gantry installs
// on machines of another location) and registers a location, docker-cloud:<name> (also
// named:<name>), that blueprints deploy containers into like any other Docker location.
//
// Hosts on machines (provision.go, scripts.go, certs.go, machines.go): a docker-host
// without an endpoint takes a machine of its location (a byon pool's, or localhost) from
// a docker.hosts entry with a location, or from docker.host.spec when docker.hosts.pool
// is empty (its location's free machines are then what headroom may add); Gantry
// installs the Docker Engine there when it is missing, makes the TLS certificates (a CA
// and a client certificate per infrastructure, a server certificate per host, kept in
// the store as sensors, the private keys under names the server never shows), puts them
// in a root-only directory on the machine, runs dockerd with --tlsverify on a TCP port as
// a service, and reaches it like any endpoint. Stop stops it; removal deletes what Gantry
// put on the machine and gives the machine back; rebind starts nothing that answers.
//
// The location (Cloud) is a locations.ContainerHost that chooses a host for each
// container it runs, with the placement chain of package locations/placement: the
// infrastructure's docker.container.strategies, each host's own, and the container's
// (locations.ContainerSpec.Strategies, CPUs and MemoryBytes). Every later operation on a
// container (start, stop, remove, inspect, exec, stats) is routed to the host that holds
// it. The placements are kept as a sensor of the infrastructure
// (docker.container.placements) and learnt again after a restart by listing the
// containers each host's engine has with this server's labels: nothing is recreated.
// WatchContainers fans in the event streams of every host.
//
// When no host fits, the container waits, up to docker.container.placementTimeout, for
// a host to be added from docker.hosts.pool: by the headroom policy when one is attached
// (policies/headroom.go, attached by the infrastructure when
// docker.container.cluster.headroom.count or .percent is set), else by the
// infrastructure's addHost effector, called by the cloud itself. When no host can come
// (the pool is used up, or its endpoints fail) the error names the placement
// constraints that failed.
//
// A host is only ever removed empty: the infrastructure's removeHost effector refuses a
// host that holds containers, and the host kind's Destroy refuses it too, whoever asks.
//
// Each host publishes what its engine says (version, CPUs, memory), what its containers
// use (from their stats), whether the engine answers (service.isUp), and the containers
// that carry this server's labels on its engine but that no entity claims
// (docker.host.unclaimed): reported, never adopted.
//
// Virtual networks: the infrastructure's sdn.* keys are passed on in the location's
// Config (entities/network reads them there), and the cloud is a locations.NetworkHost
// that makes each network on every host (same name and subnet), makes it on a host added
// later when a container there needs it, and sends a container's network calls to its
// host. The networks themselves are the sdn providers'; a bridge stays local to its
// engine.
//
// It imports entities, entities/container (the labels and event handling of
// containers), locations, locations/docker, locations/placement and sensors.
package dockercloud
