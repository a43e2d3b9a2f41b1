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
