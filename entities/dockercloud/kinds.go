package dockercloud

import (
	"context"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/sensors"
)

// Type names, as Clocker spells them.
const (
	InfrastructureType = "clocker.docker.entity.DockerInfrastructure"
	HostType           = "clocker.docker.entity.DockerHost"
)

// HeadroomPolicyType is the name of the headroom policy (policies/headroom.go), which
// the infrastructure attaches when headroom is configured.
const HeadroomPolicyType = "io.gantry.policy.ContainerHeadroomPolicy"

// Kind is the kind of the Docker cloud location, and the prefix of its spec:
// docker-cloud:<name>.
const Kind = "docker-cloud"

// Config keys of the infrastructure (Clocker's names where it had one).
const (
	KeyCloudName        = "docker.cloud.name"
	KeyHosts            = "docker.hosts"
	KeyHostsPool        = "docker.hosts.pool"
	KeyHostSpec         = "docker.host.spec"
	KeyTLSCA            = "docker.tls.ca"
	KeyTLSCert          = "docker.tls.cert"
	KeyTLSKey           = "docker.tls.key"
	KeyStrategies       = "docker.container.strategies"
	KeyHeadroomCount    = "docker.container.cluster.headroom.count"
	KeyHeadroomPercent  = "docker.container.cluster.headroom.percent"
	KeyRemoveEmpty      = "docker.host.removeEmpty"
	KeyUpDelay          = "docker.headroom.resizeUpStabilizationDelay"
	KeyDownDelay        = "docker.headroom.resizeDownStabilizationDelay"
	KeyRetryDelay       = "docker.headroom.retryDelay"
	KeyPlacementTimeout = "docker.container.placementTimeout"
	KeyPollPeriod       = "docker.host.poll.period"
	KeyPoolRetry        = "docker.hosts.pool.retryAfter"
	KeySDNEnable        = "sdn.enable"
	KeySDNProvider      = "sdn.provider"
	KeySDNCIDR          = "sdn.network.cidr"
	KeySDNSize          = "sdn.network.size"
)

// Config keys of a host.
const (
	KeyEndpoint   = "docker.host.endpoint"
	KeyHostLabels = "docker.host.labels"
	KeyStats      = "docker.host.stats"
)

// Config keys of a host that Gantry makes on a machine (provision.go): a host without
// an endpoint.
const (
	KeyHostLocation     = "docker.host.location"
	KeyHostPort         = "docker.host.port"
	KeyHostAddress      = "docker.host.address"
	KeyHostListen       = "docker.host.listen"
	KeyHostInstall      = "docker.host.install"
	KeyHostIsolated     = "docker.host.isolated"
	KeyHostBridgeCIDR   = "docker.host.bridge.cidr"
	KeyHostAddressPool  = "docker.host.address.pool"
	KeyHostStartTimeout = "docker.host.start.timeout"
)

// Sensors of the infrastructure and the hosts, beyond those of package sensors.
const (
	// SensorLocation is the id (and spec) of the cloud's location: docker-cloud:<name>.
	SensorLocation = "docker.cloud.location"
	// SensorPlacements maps each container placed in the cloud to its host and what it
	// declared: {containerId: {host, entity, app, name, cpus, memory}}.
	SensorPlacements = "docker.container.placements"
	// SensorPoolFailed maps the pool endpoints that failed to become hosts to why and
	// when: {endpoint: {reason, time}}.
	SensorPoolFailed = "docker.hosts.pool.failed"
	// SensorNextHostID numbers the hosts the infrastructure makes.
	SensorNextHostID = "docker.host.nextId"

	SensorEndpoint          = "docker.host.endpoint"
	SensorEngineLocation    = "docker.host.location"
	SensorEngineID          = "docker.engine.id"
	SensorVersion           = "docker.version"
	SensorAPIVersion        = "docker.api.version"
	SensorCPUs              = "docker.host.cpus"
	SensorContainersRunning = "docker.host.containers.running"
	SensorUnclaimed         = "docker.host.unclaimed"

	// SensorMachine is the machine a host made on a machine location runs on (its id
	// in that location, such as root@10.0.0.5:22); SensorDaemon says how its engine
	// runs there (port, paths, service, bridge).
	SensorMachine = "docker.host.machine"
	SensorDaemon  = "docker.host.daemon"

	// TLS of the engines Gantry installs on machines, PEM text kept in the store. The
	// infrastructure holds the CA and Gantry's client certificate, each host its
	// server certificate. The private keys are sensors whose names say "private": the
	// server never shows their values (REST, event stream, logs mask them, as they mask
	// every PEM private key), while they are persisted with the entity.
	SensorTLSCA         = "docker.tls.generated.ca"
	SensorTLSCAKey      = "docker.tls.generated.ca.privateKey"
	SensorTLSClientCert = "docker.tls.generated.client.cert"
	SensorTLSClientKey  = "docker.tls.generated.client.privateKey"
	SensorTLSServerCert = "docker.tls.generated.server.cert"
	SensorTLSServerKey  = "docker.tls.generated.server.privateKey"
)

// Indicator keys of not-up and problem entries.
const (
	indicatorEngine    = "engine"
	indicatorPlacement = "placement"
)

// DefaultPlacementTimeout bounds how long a container waits for a host.
const DefaultPlacementTimeout = 2 * time.Minute

func init() {
	entities.Register(&entities.Type{
		Name:    InfrastructureType,
		Aliases: []string{"docker-infrastructure", "DockerInfrastructure"},
		Description: "A Docker cloud: Docker hosts (engine endpoints, or machines of a machine location on which it installs the Docker Engine with TLS) " +
			"managed as one location, docker-cloud:<name>, that places each container on a host by a chain of strategies, and keeps headroom",
		Group:             true,
		StartsChildren:    true,
		ProvidesLocations: true,
		Config:            infrastructureKeys(),
		Sensors: []entities.SensorType{
			{Name: SensorLocation, Type: "java.lang.String", Description: "Id of the cloud's location, docker-cloud:<name>"},
			{Name: SensorPlacements, Type: "java.util.Map", Description: "Container id -> its host and what it declared"},
			{Name: sensors.DockerContainerCount, Type: "java.lang.Integer", Description: "Containers placed in the cloud"},
			{Name: sensors.DockerClusterCapacity, Type: "java.lang.Integer", Description: "Container slots of the hosts that are up"},
			{Name: sensors.DockerClusterFree, Type: "java.lang.Integer", Description: "Slots left"},
			{Name: sensors.DockerClusterUtilisation, Type: "java.lang.Double", Description: "Share of the slots in use (0-1)"},
			{Name: sensors.DockerClusterNeeded, Type: "java.lang.Integer", Description: "Slots missing to keep the headroom (negative: spare), set by the headroom policy"},
			{Name: sensors.DockerContainerWaiting, Type: "java.lang.Integer", Description: "Containers waiting for a host to be added"},
			{Name: sensors.DockerHostsPoolAvailable, Type: "java.lang.Integer", Description: "Endpoints a host can still be added from"},
			{Name: sensors.DockerHostAdding, Type: "java.lang.Boolean", Description: "True while a host is being added"},
			{Name: sensors.DockerHostsMinSize, Type: "java.lang.Integer", Description: "Fewest hosts kept (those of docker.hosts)"},
			{Name: SensorPoolFailed, Type: "java.util.Map", Description: "Pool endpoints that failed to become hosts, with why and when"},
			{Name: SensorTLSCA, Type: "java.lang.String", Description: "CA (PEM) of the engines Gantry installs on machines"},
			{Name: SensorTLSCAKey, Type: "java.lang.String", Description: "Private key of that CA: kept in the store, never shown"},
			{Name: SensorTLSClientCert, Type: "java.lang.String", Description: "Gantry's client certificate (PEM) for those engines"},
			{Name: SensorTLSClientKey, Type: "java.lang.String", Description: "Private key of the client certificate: kept in the store, never shown"},
		},
		Effectors: []entities.Effector{
			{Name: "addHost", Description: "Add a Docker host: from the given endpoint, else the next unused one of docker.hosts and docker.hosts.pool; returns its id",
				ReturnType: "java.lang.String",
				Params:     []entities.Param{{Name: "endpoint", Type: "java.lang.String", Description: "Engine endpoint (tcp://HOST:2376, unix:///PATH); empty for the next of the pool"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					ep, _ := p["endpoint"].(string)
					return addHost(ctx, e, ep)
				}},
			{Name: "removeHost", Description: "Remove an empty Docker host (a host with containers is refused)", ReturnType: "void",
				Params: []entities.Param{{Name: "hostId", Type: "java.lang.String", Description: "Id of the host entity"}},
				Run: func(ctx context.Context, e *entities.Entity, p map[string]any) (any, error) {
					id, _ := p["hostId"].(string)
					return nil, removeHost(ctx, e, id)
				}},
		},
		Start:   startInfrastructure,
		Stop:    stopInfrastructure,
		Rebind:  rebindInfrastructure,
		Destroy: destroyInfrastructure,
	})
	entities.Register(&entities.Type{
		Name:    HostType,
		Aliases: []string{"docker-host", "DockerHost"},
		Description: "A Docker Engine of a Docker cloud, reached at an endpoint (unix socket, or tcp:// with TLS client certificates), " +
			"or, without an endpoint, installed by Gantry on a machine of its location (byon, localhost) with TLS certificates it makes: " +
			"its version, CPUs and memory, what its containers use, whether it answers, and the containers no entity claims",
		ProvidesLocations: true,
		Config: []entities.ConfigKey{
			{Name: KeyEndpoint, Aliases: []string{"endpoint"}, Type: "string", Description: "The engine: unix:///var/run/docker.sock or tcp://HOST:2376"},
			{Name: KeyTLSCA, Type: "string", Description: "CA of the engine's certificate: a PEM file, or the PEM text (kept in the store)"},
			{Name: KeyTLSCert, Type: "string", Description: "Client certificate: a PEM file, or the PEM text"},
			{Name: KeyTLSKey, Type: "string", Description: "Client key: a PEM file, or the PEM text"},
			{Name: KeyHostLabels, Aliases: []string{"labels"}, Type: "map", Description: "Labels of the host, for the label placement strategy"},
			{Name: KeyStrategies, Type: "list", Description: "The host's own placement filters; a max-containers, max-cpu or max-memory here replaces the cloud's for this host"},
			{Name: KeyPollPeriod, Type: "duration", Default: "10s", Description: "How often the engine is asked about itself and its containers' use"},
			{Name: KeyStats, Type: "boolean", Default: true, Description: "Read the stats of the host's containers for machine.cpu and machine.memory.used"},
			{Name: KeyHostLocation, Type: "string", Description: "Without an endpoint: the machine location to make the host on (byon:(hosts=...), localhost, named:...), " +
				"for docker.hosts entries; otherwise the host's own location, or its infrastructure's"},
			{Name: KeyHostPort, Type: "integer", Default: DefaultHostPort, Description: "Without an endpoint: the TCP port of the engine Gantry runs on the machine, with TLS (0: a free port of the machine, chosen once)"},
			{Name: KeyHostAddress, Type: "string", Description: "Without an endpoint: the address Gantry reaches the engine at (default: the machine's); its server certificate covers it"},
			{Name: KeyHostListen, Type: "string", Default: "0.0.0.0", Description: "Without an endpoint: the address of the machine the engine listens on"},
			{Name: KeyHostInstall, Type: "boolean", Default: true, Description: "Without an endpoint: install the Docker Engine (Debian's docker.io) when the machine has no dockerd"},
			{Name: KeyHostIsolated, Type: "boolean", Default: false, Description: "Without an endpoint: run an engine of its own next to the machine's (own data root, exec root, socket, bridge, " +
				"no iptables), as on a machine that runs other engines; otherwise the machine's engine is configured"},
			{Name: KeyHostBridgeCIDR, Type: "string", Description: "Isolated engine: its bridge's address, such as 10.232.7.1/24 (default: a free 10.232.N.1/24)"},
			{Name: KeyHostAddressPool, Type: "string", Description: "Isolated engine: its --default-address-pool (default: 10.233.N.0/24 for the bridge 10.232.N.1/24)"},
			{Name: KeyHostStartTimeout, Type: "duration", Default: "2m", Description: "Without an endpoint: how long the engine may take to answer over TLS once started"},
		},
		Sensors: []entities.SensorType{
			{Name: SensorEndpoint, Type: "java.lang.String", Description: "The engine's endpoint"},
			{Name: SensorEngineLocation, Type: "java.lang.String", Description: "Id of the engine's location"},
			{Name: SensorEngineID, Type: "java.lang.String", Description: "The engine's id"},
			{Name: SensorVersion, Type: "java.lang.String", Description: "The engine's version"},
			{Name: SensorAPIVersion, Type: "java.lang.String", Description: "The API version in use"},
			{Name: SensorCPUs, Type: "java.lang.Integer", Description: "CPUs of the machine"},
			{Name: sensors.MachineMemoryTotal, Type: "java.lang.Long", Description: "Memory of the machine, in bytes"},
			{Name: sensors.MachineCPU, Type: "java.lang.Double", Description: "CPU the placed containers use, as a fraction of the machine (0-1)"},
			{Name: sensors.MachineMemoryUsed, Type: "java.lang.Long", Description: "Memory the placed containers use, in bytes"},
			{Name: sensors.MachineMemoryPercent, Type: "java.lang.Double", Description: "machine.memory.used as a percentage of machine.memory.total"},
			{Name: sensors.DockerContainerCount, Type: "java.lang.Integer", Description: "Containers the cloud placed on this host"},
			{Name: sensors.DockerHostSlots, Type: "java.lang.Integer", Description: "Containers this host takes (its max-containers limit)"},
			{Name: sensors.DockerHostDraining, Type: "java.lang.Boolean", Description: "True while the host is being removed"},
			{Name: SensorContainersRunning, Type: "java.lang.Integer", Description: "Containers running on the engine, whoever made them"},
			{Name: SensorUnclaimed, Type: "java.util.List", Description: "Containers with this server's labels that no entity claims: reported, not adopted"},
			{Name: SensorMachine, Type: "java.lang.String", Description: "The machine Gantry installed the engine on (its id in its location)"},
			{Name: SensorDaemon, Type: "java.util.Map", Description: "How the engine Gantry installed runs on its machine: port, paths, service, bridge"},
			{Name: SensorTLSServerCert, Type: "java.lang.String", Description: "The engine's server certificate (PEM), signed by the infrastructure's CA"},
			{Name: SensorTLSServerKey, Type: "java.lang.String", Description: "Its private key: kept in the store, never shown"},
		},
		Start:   startHost,
		Stop:    stopHost,
		Rebind:  rebindHost,
		Destroy: destroyHost,
	})
}

func infrastructureKeys() []entities.ConfigKey {
	return []entities.ConfigKey{
		{Name: KeyCloudName, Aliases: []string{"entity.dynamicLocation.name", "locationName"}, Type: "string", Default: "my-docker-cloud",
			Description: "Name of the cloud's location: blueprints use docker-cloud:<name> or named:<name>"},
		{Name: KeyHosts, Type: "list",
			Description: "Engine endpoints the cloud starts with: tcp://HOST:2376 or unix:///PATH, or maps {endpoint, name, labels, docker.container.strategies, docker.tls.ca, docker.tls.cert, docker.tls.key}; " +
				"a map with location (a machine location: byon:(hosts=...), localhost) instead of endpoint is a host Gantry makes on a machine there (with port, address, listen, isolated, install)"},
		{Name: KeyHostsPool, Type: "list", Description: "Engine endpoints hosts may be added from (by headroom, or when no host fits), written as docker.hosts"},
		{Name: KeyHostSpec, Type: "spec", Description: "Entity spec of the hosts ($brooklyn:entitySpec of a docker-host: name, config, location, policies), merged with each endpoint's config. " +
			"With a machine location (the spec's, else the infrastructure's: byon, localhost) and an empty docker.hosts.pool, a host may be added on each free machine: " +
			"Gantry installs the Docker Engine there and runs it with TLS certificates it makes"},
		{Name: KeyTLSCA, Type: "string", Description: "CA of the engines' certificates, for tcp:// endpoints: a PEM file, or the PEM text (kept in the store)"},
		{Name: KeyTLSCert, Type: "string", Description: "Client certificate for the engines: a PEM file, or the PEM text"},
		{Name: KeyTLSKey, Type: "string", Description: "Client key for the engines: a PEM file, or the PEM text"},
		{Name: KeyStrategies, Type: "list",
			Description: "Placement chain: [{type: max-containers, max: 2}, {type: breadth-first}] (default: max-containers 8, breadth-first)"},
		{Name: KeyHeadroomCount, Aliases: []string{"headroom"}, Type: "integer",
			Description: "Container slots kept free across the hosts: the headroom policy adds a host from the pool when fewer are free"},
		{Name: KeyHeadroomPercent, Aliases: []string{"headroomPercent"}, Type: "number",
			Description: "Share (0-100) of the slots kept free, instead of a count"},
		{Name: KeyRemoveEmpty, Type: "boolean", Default: true,
			Description: "Headroom removes empty hosts beyond the headroom (never those the cloud started with, never one with containers)"},
		{Name: KeyUpDelay, Type: "duration", Default: "30s", Description: "How long fewer slots than the headroom must be free before a host is added (containers waiting for a host do not wait for it)"},
		{Name: KeyDownDelay, Type: "duration", Default: "5m", Description: "How long more slots than needed must be free before an empty host is removed"},
		{Name: KeyRetryDelay, Type: "duration", Default: "1m", Description: "How long headroom waits after a host failed to be added before it tries again"},
		{Name: KeyPlacementTimeout, Type: "duration", Default: "2m", Description: "How long a container waits for a host when none fits"},
		{Name: KeyPollPeriod, Type: "duration", Default: "10s", Description: "How often each host's engine is asked about itself and its containers' use"},
		{Name: KeyPoolRetry, Type: "duration", Default: "5m", Description: "How long a pool endpoint that failed to become a host is left out"},
		{Name: KeySDNEnable, Type: "boolean", Default: false, Description: "Attach containers to virtual networks (passed on to the sdn providers)"},
		{Name: KeySDNProvider, Type: "string", Default: "docker", Description: "Virtual network provider: docker or calico (passed on to the sdn providers)"},
		{Name: KeySDNCIDR, Type: "string", Description: "Pool of the virtual networks' subnets (passed on to the sdn providers)"},
		{Name: KeySDNSize, Type: "integer", Default: 24, Description: "Prefix length of each virtual network (passed on to the sdn providers)"},
	}
}

// kindError is an error about a config key, for people.
func kindError(e *entities.Entity, key string, err error) error {
	return fmt.Errorf("%s of %s: %w", key, e, err)
}
