package sdn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"

	"github.com/gantry-dev/gantry/locations"
)

// Sentinel errors of this package; test with errors.Is. Providers wrap them (or the
// sentinels of package locations) with %w.
var (
	// ErrNotFound: no such network, attachment or provider.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a malformed network, CIDR, pool or config value.
	ErrInvalid = errors.New("invalid")
	// ErrOverlap: a subnet overlaps another network's.
	ErrOverlap = errors.New("subnet overlaps")
	// ErrExhausted: the pool has no free subnet of the requested size left.
	ErrExhausted = errors.New("address pool exhausted")
	// ErrInUse: the network still has containers attached.
	ErrInUse = errors.New("network in use")
)

// Config keys read by the kinds (on an entity, inherited from its application, or on
// its location). Clocker's names.
const (
	// KeyEnable turns virtual networks on (default false: containers stay on the
	// engine's default bridge, as without sdn).
	KeyEnable = "sdn.enable"
	// KeyProvider names the provider: "docker" (default) or "calico".
	KeyProvider = "sdn.provider"
	// KeyPool is the pool subnets are allocated from (default DefaultPool).
	KeyPool = "sdn.network.cidr"
	// KeySize is the prefix length of each allocated subnet (default DefaultSize).
	KeySize = "sdn.network.size"
	// KeyAppNetwork makes one network per application (default true when sdn is on).
	KeyAppNetwork = "sdn.applicationNetwork.create"
	// KeyNetworks, on a container entity, lists the names of the shared networks it is
	// attached to, after its application's network (when there is one); the first of
	// all is the one it is reached on.
	KeyNetworks = "network.list"
)

// Labels put on the networks Gantry makes, as on its containers.
const (
	LabelServer  = "dev.gantry.server"
	LabelApp     = "dev.gantry.app"
	LabelNetwork = "dev.gantry.network" // the id of the virtual-network entity
)

// Defaults of the pool: private space (RFC 1918) that does not overlap Docker's own
// default address pools (172.17.0.0/16 to 172.31.0.0/16 and 192.168.0.0/16 as /20s).
var (
	DefaultPool = netip.MustParsePrefix("10.240.0.0/12")
	DefaultSize = 24
)

// Network is one virtual network, as providers see it.
type Network struct {
	// ID is Gantry's id of the network (the id of its virtual-network entity). Providers
	// may use it to name what they create beside the network itself.
	ID string `json:"id"`
	// Name is the network's name on the hosts (the Docker network name): unique among
	// the networks of one server, made of [a-zA-Z0-9][a-zA-Z0-9_.-]*.
	Name string `json:"name"`
	// CIDR is the network's subnet.
	CIDR netip.Prefix `json:"cidr"`
	// App is the id of the application the network belongs to, "" for a shared named
	// network. Providers that enforce isolation (Calico's profiles and policies) let the
	// containers of one App reach each other's network and nothing else.
	App string `json:"app,omitempty"`
	// Labels are set on what the provider creates, so that it can be found (and removed
	// by tests and cleanup).
	Labels map[string]string `json:"labels,omitempty"`
}

// Attachment is one container attached to one network.
type Attachment struct {
	// Network is the network's Name.
	Network string `json:"network"`
	// ContainerID is the container's id on its host.
	ContainerID string `json:"containerId"`
	// EntityID and App are the ids of the container's entity and of its application.
	EntityID string `json:"entityId,omitempty"`
	App      string `json:"app,omitempty"`
	// Host is the id of the location (Docker engine) the container runs on; it is one
	// of the hosts the provider was opened with.
	Host string `json:"host"`
	// IP is the container's address on the network, filled in by Attach.
	IP netip.Addr `json:"ip"`
	// Aliases are names the container answers to on the network (the entity's name,
	// its blueprint id), resolvable by the other containers of the network.
	Aliases []string `json:"aliases,omitempty"`
}

// Provider makes virtual networks and attaches containers to them. Every method is
// idempotent: creating a network that exists with the same subnet, attaching an attached
// container, detaching a detached one and deleting a missing network succeed, so that a
// caller interrupted by a restart simply does it again.
type Provider interface {
	// Name is the provider's registered name ("docker", "calico").
	Name() string
	// CreateNetwork makes n on every host (n.CIDR must be set). A network of that name
	// with another subnet is an error wrapping ErrOverlap or ErrInvalid.
	CreateNetwork(ctx context.Context, n Network) error
	// DeleteNetwork removes n from every host. When containers are still attached the
	// error wraps ErrInUse and nothing is removed.
	DeleteNetwork(ctx context.Context, n Network) error
	// Attach connects the container a.ContainerID on a.Host to n, with a.Aliases, and
	// fills a.IP with its address on n.
	Attach(ctx context.Context, n Network, a *Attachment) error
	// Detach disconnects the container from n; a container that is gone or not
	// attached is not an error.
	Detach(ctx context.Context, n Network, a Attachment) error
	// Close releases the provider's connections (not the networks).
	Close() error
}

// Inspector is implemented by providers that can tell whether a network exists and who
// is attached to it (used to rebind without recreating anything, and to refuse deleting
// a network in use).
type Inspector interface {
	// InspectNetwork returns the state of n; a network missing on any host is an error
	// wrapping ErrNotFound.
	InspectNetwork(ctx context.Context, n Network) (*NetworkState, error)
	// Subnets lists the subnets of every network on the hosts, Gantry's or not, so
	// that allocation avoids them.
	Subnets(ctx context.Context) ([]netip.Prefix, error)
}

// NetworkState is what a provider reports about a network.
type NetworkState struct {
	Name string
	CIDR netip.Prefix
	// Containers are the ids of the containers attached, on every host.
	Containers []string
}

// ContainerPreparer is implemented by providers that take part in creating a container:
// PrepareContainer changes the spec of a container that will be attached to first (its
// first network) before it is created. The docker provider creates the container on that
// network, with a.Aliases, instead of the engine's default bridge, so that it is never
// reachable from other applications' containers; Attach then only reads its address.
type ContainerPreparer interface {
	PrepareContainer(first Network, a Attachment, spec *locations.ContainerSpec) error
}

// Config is what a provider is opened with.
type Config struct {
	// Hosts are the locations the networks live on: the Docker engine of a location,
	// or every engine of a Docker cloud. Providers use the extras they need
	// (locations.NetworkHost for the docker provider).
	Hosts []locations.Location
	// Options are the entity's effective config: providers read their own keys
	// (sdn.calico.etcd.endpoints ...).
	Options map[string]any
}

// Factory makes a provider for a config. Errors about the config wrap ErrInvalid.
type Factory func(ctx context.Context, cfg Config) (Provider, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register adds a provider factory under name, from an init(). A duplicate panics: it is
// a programming error.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := registry[name]; ok {
		panic("sdn: provider registered twice: " + name)
	}
	registry[name] = f
}

// Providers lists the registered provider names, sorted.
func Providers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open makes the provider registered under name ("" means "docker") for cfg. An unknown
// name is an error wrapping ErrNotFound that lists the known ones.
func Open(ctx context.Context, name string, cfg Config) (Provider, error) {
	if name == "" {
		name = "docker"
	}
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("sdn provider %q (known: %v; import its package): %w", name, Providers(), ErrNotFound)
	}
	return f(ctx, cfg)
}
