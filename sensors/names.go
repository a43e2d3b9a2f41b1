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
