package locations

import (
	"context"
	"time"
)

// ContainerSpec describes a container to create.
type ContainerSpec struct {
	// Name is the container name; optional (the engine picks one).
	Name string
	// Image must already be present on the engine: ContainerHost never pulls.
	Image string
	// Command overrides the image's CMD when non-empty.
	Command []string
	// Env is set in the container, on top of the image's environment.
	Env map[string]string
	// OpenPorts are container TCP ports published on random host ports.
	OpenPorts []int
	// PortBindings maps container TCP ports to fixed host ports.
	PortBindings map[int]int
	// Volumes use docker -v syntax: "host-path-or-volume:container-path[:ro]", or
	// "container-path" for an anonymous volume.
	Volumes []string
	// Labels are set on the container; Gantry uses them to find and re-adopt it.
	Labels map[string]string
	// CPUShares is the relative CPU weight (0: engine default).
	CPUShares int64
	// MemoryBytes is the memory limit (0: unlimited).
	MemoryBytes int64
	// CPUs limits the CPU time the container may use, in CPUs (docker --cpus; 0: no
	// limit). A location that places containers on hosts counts it against a host's CPUs.
	CPUs float64
	// Strategies are the container's own placement strategies, for a location that
	// chooses a host for each container (a Docker cloud), as a blueprint writes
	// docker.container.strategies: [{type: max-containers, max: 2}, {type: breadth-first}].
	// They can only narrow the location's choice; a single engine ignores them.
	Strategies []any
	// Init runs a small init process as PID 1 that forwards signals and reaps
	// zombies, so that a command that does not handle SIGTERM still stops promptly.
	Init bool
	// Links are Docker's legacy links, "container-name:alias": the container gets
	// the linked container's ALIAS_PORT_* environment variables and an /etc/hosts
	// entry for alias. Both must be on the engine's default bridge.
	Links []string
	// Network, when set, is the network the container is created on instead of the
	// engine's default bridge: the name of a network a NetworkHost made. Other
	// networks are joined after (NetworkHost.ConnectNetwork).
	Network string
	// NetworkAliases are names the container answers to on Network, resolvable by
	// the other containers of that network.
	NetworkAliases []string
}

// Container is what the engine says about a container.
type Container struct {
	ID    string
	Name  string // without the leading "/"
	Image string // the image reference it was created from, as given
	// Running is true while the container's process runs.
	Running bool
	// Status is the engine's state: created, running, paused, restarting,
	// removing, exited or dead.
	Status string
	// ExitCode is the exit code of the last run (0 while running).
	ExitCode int
	// IP is the address on the default bridge, or else on the first network
	// (by name); empty when not running.
	IP string
	// Hostname is the container's hostname.
	Hostname string
	// Ports maps container TCP ports to the host ports they are published on.
	Ports map[int]int
	// Labels are the container's labels (including the image's).
	Labels map[string]string
}

// Container event actions delivered by ContainerHost.WatchContainers.
const (
	EventStart   = "start"
	EventDie     = "die"
	EventStop    = "stop"
	EventKill    = "kill"
	EventOOM     = "oom"
	EventDestroy = "destroy"
)

// ContainerEvent is a lifecycle event of a container.
type ContainerEvent struct {
	ID string
	// Action is one of EventStart, EventDie, EventStop, EventKill, EventOOM, EventDestroy.
	Action string
	// Name is the container's name, without the leading "/".
	Name string
	// Image is the image reference the container was created from.
	Image string
	// Labels are the container's labels.
	Labels map[string]string
	// ExitCode is set for EventDie.
	ExitCode int
	// Time is when the engine saw the event.
	Time time.Time
}

// ContainerHost is implemented by locations that run containers (Docker Engines).
// Errors wrap ErrNotFound, ErrInvalid or ErrUnavailable where they apply.
type ContainerHost interface {
	// RunContainer creates, starts and inspects a container. The image must be
	// present on the engine (it is never pulled); when it is not, the error wraps
	// ErrNotFound and says how to build it. When any step fails, what was created
	// is removed: there is nothing half-made.
	RunContainer(ctx context.Context, spec ContainerSpec) (*Container, error)
	// StartContainer starts a created or stopped container and inspects it.
	// Starting a running container is not an error.
	StartContainer(ctx context.Context, id string) (*Container, error)
	// StopContainer stops a container, killing it after timeout (rounded up to
	// whole seconds; a negative timeout uses the container's own default).
	// Stopping a stopped container is not an error.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	// RemoveContainer force-removes a container with its anonymous volumes.
	// A missing container is not an error.
	RemoveContainer(ctx context.Context, id string) error
	// InspectContainer returns the container with that id or name; a missing one
	// is an error wrapping ErrNotFound.
	InspectContainer(ctx context.Context, id string) (*Container, error)
	// ListContainers returns all containers, running or not, carrying every one
	// of the labels (all containers when labels is empty). It reads the engine's
	// list, in one round trip: Hostname is not filled in (use InspectContainer).
	ListContainers(ctx context.Context, labels map[string]string) ([]*Container, error)
	// WatchContainers calls fn, from one goroutine and in order, for each
	// lifecycle event of containers carrying every one of the labels. It follows
	// the engine's event stream (no polling), reconnects with backoff when the
	// stream breaks (resuming after the last event seen), and returns ctx.Err()
	// once ctx is done. fn should return quickly.
	WatchContainers(ctx context.Context, labels map[string]string, fn func(ContainerEvent)) error
}
