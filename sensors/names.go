package sensors

// Brooklyn's lifecycle sensors, with the same names so that Brooklyn tools read them.
const (
	ServiceState         = "service.state"
	ServiceStateExpected = "service.state.expected"
	ServiceUp            = "service.isUp"
	NotUpIndicators      = "service.notUp.indicators"
	Problems             = "service.problems"
)

// Sensors that containers and machines publish.
const (
	ContainerID  = "container.id"
	HostAddress  = "host.address"
	HostName     = "host.name"
	MainURI      = "main.uri"
	MappedPrefix = "mapped.port."
	PID          = "pid"
)

// Sensors of groups and clusters, as Brooklyn names them.
const (
	GroupMembers      = "group.members"       // the members' entity ids
	GroupMembersCount = "group.members.count" // how many members
	ClusterFirst      = "cluster.first"       // id of the cluster's first member
	ClusterResizing   = "cluster.resizing"    // true while a cluster resizes
	HTTPPort          = "http.port"           // the port an entity serves HTTP on
)

// What a machine or container uses, with Brooklyn's names (MachineAttributes) where it
// has them. Containers publish them from their engine's stats.
const (
	// MachineCPU is the CPU in use as a fraction of one CPU: 1 is one CPU busy all the
	// time, more than 1 several (`docker stats` CPU % / 100).
	MachineCPU = "machine.cpu"
	// MachineMemoryUsed is the memory in use, in bytes, without reclaimable page cache.
	MachineMemoryUsed = "machine.memory.used"
	// MachineMemoryTotal is the memory available, in bytes: the limit, or the host's.
	MachineMemoryTotal = "machine.memory.total"
	// MachineMemoryPercent is MachineMemoryUsed as a percentage (0-100) of MachineMemoryTotal.
	MachineMemoryPercent = "machine.memory.percent"
	// MachineNetworkIn and MachineNetworkOut are the bytes received and sent since start.
	MachineNetworkIn  = "machine.network.bytes.in"
	MachineNetworkOut = "machine.network.bytes.out"
)

// Sensors of web servers and load balancers: Brooklyn's names where it has one.
const (
	RequestsTotal            = "webapp.reqs.total"          // requests received so far
	RequestsPerSecond        = "webapp.reqs.perSec.last"    // request rate over the last period
	RequestsPerSecondPerNode = "webapp.reqs.perSec.perNode" // the rate divided among a cluster's members
	RequestsInFlight         = "webapp.reqs.inFlight"       // requests being served or queued
)

// Sensors of a Docker cloud (entities/dockercloud) and its hosts, which the headroom
// policy reads. Clocker's names where it had one.
const (
	// DockerContainerCount is, on a host, the containers the cloud placed on it; on the
	// infrastructure, the containers placed in the whole cloud.
	DockerContainerCount = "docker.container.count"
	// DockerHostSlots is how many containers a host takes (its max-containers limit).
	DockerHostSlots = "docker.host.slots"
	// DockerHostDraining is true while a host is being removed: it takes no container.
	DockerHostDraining = "docker.host.draining"
	// DockerContainerWaiting is how many containers wait for a host to be added.
	DockerContainerWaiting = "docker.container.waiting"
	// DockerHostsPoolAvailable is how many engine endpoints a host can still be added
	// from (unused, and not failed recently).
	DockerHostsPoolAvailable = "docker.hosts.pool.available"
	// DockerHostAdding is true while the infrastructure adds a host.
	DockerHostAdding = "docker.host.adding"
	// DockerHostsMinSize is the fewest hosts the cloud keeps (those it started with).
	DockerHostsMinSize = "docker.host.cluster.minSize"
	// DockerClusterCapacity is the container slots of the hosts that are up, free what is
	// left of them, utilisation the share in use (Clocker's), needed the slots missing to
	// keep the headroom (negative: spare).
	DockerClusterCapacity    = "docker.container.cluster.capacity"
	DockerClusterFree        = "docker.container.cluster.free"
	DockerClusterUtilisation = "docker.container.cluster.utilisation"
	DockerClusterNeeded      = "docker.container.cluster.needed"
)
