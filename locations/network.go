package locations

import (
	"context"
	"errors"
	"net/netip"
)

// ErrInUse is wrapped by NetworkHost.RemoveNetwork when containers still use the network.
var ErrInUse = errors.New("in use")

// NetworkSpec describes a network to create on a container host.
type NetworkSpec struct {
	// Name is the network's name, unique on the host.
	Name string
	// Driver is the network driver; empty means the host's default (bridge on a
	// Docker Engine).
	Driver string
	// Subnet is the network's address range; the host gives the first address to its
	// gateway.
	Subnet netip.Prefix
	// Labels are set on the network, to find it again.
	Labels map[string]string
}

// Network is what a host says about a network.
type Network struct {
	ID, Name, Driver string
	// Subnet is the network's (first) subnet; invalid when it has none.
	Subnet netip.Prefix
	Labels map[string]string
	// Endpoints are the running containers attached, by container id.
	Endpoints map[string]Endpoint
}

// Endpoint is one container's attachment to a network.
type Endpoint struct {
	// IP is the container's address on the network (invalid while it is not running).
	IP netip.Addr
	// Aliases are the names it answers to on the network.
	Aliases []string
}

// NetworkHost is implemented by container hosts that make networks for their
// containers (Docker Engines: user-defined networks, with the engine's DNS resolving
// container names and aliases between the containers of one network). A location that
// spreads containers over several engines implements it by making each network on
// every engine (same name, same subnet) and by sending a container's calls to the
// engine holding it.
type NetworkHost interface {
	// CreateNetwork creates a network. When one of that name exists with the same
	// subnet it is returned (not an error: creating is idempotent); with another
	// subnet the error wraps ErrInvalid. A subnet overlapping another network's is
	// refused by the host (an error wrapping ErrInvalid).
	CreateNetwork(ctx context.Context, spec NetworkSpec) (*Network, error)
	// InspectNetwork returns the network with that name or id; a missing one is an
	// error wrapping ErrNotFound.
	InspectNetwork(ctx context.Context, name string) (*Network, error)
	// ListNetworks returns the host's networks carrying every one of labels (all of
	// them, the host's own included, when labels is empty), sorted by name.
	ListNetworks(ctx context.Context, labels map[string]string) ([]*Network, error)
	// RemoveNetwork removes a network. A missing network is not an error; one that
	// containers use, running or stopped, is not removed and the error wraps ErrInUse
	// (a stopped container needs its networks to start again).
	RemoveNetwork(ctx context.Context, name string) error
	// NetworkUsers lists the ids of the containers, running or stopped, attached to
	// the network.
	NetworkUsers(ctx context.Context, name string) ([]string, error)
	// ConnectNetwork attaches a container (running or created) to a network with
	// aliases and returns its endpoint; a container already attached keeps its
	// endpoint, which is returned.
	ConnectNetwork(ctx context.Context, network, container string, aliases []string) (Endpoint, error)
	// DisconnectNetwork detaches a container from a network; a container or network
	// that is gone, or a container not attached, is not an error.
	DisconnectNetwork(ctx context.Context, network, container string) error
	// ContainerNetworks returns a container's endpoints by network name; a missing
	// container is an error wrapping ErrNotFound.
	ContainerNetworks(ctx context.Context, container string) (map[string]Endpoint, error)
}
