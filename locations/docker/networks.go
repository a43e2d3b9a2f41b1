package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/gantry-dev/gantry/locations"
)

// The Engine makes user-defined networks for its containers.
var _ locations.NetworkHost = (*Engine)(nil)

// networkingConfig puts a container on spec.Network, with its aliases, instead of the
// engine's default bridge (nil when spec names no network).
func networkingConfig(spec locations.ContainerSpec, hc *container.HostConfig) *network.NetworkingConfig {
	if spec.Network == "" {
		return nil
	}
	hc.NetworkMode = container.NetworkMode(spec.Network)
	return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		spec.Network: {Aliases: slices.Clone(spec.NetworkAliases)},
	}}
}

// CreateNetwork creates a network (the bridge driver unless spec says otherwise) with
// spec's subnet; one of that name with the same subnet is returned as it is.
func (e *Engine) CreateNetwork(ctx context.Context, spec locations.NetworkSpec) (*locations.Network, error) {
	op := "create network " + spec.Name
	if spec.Name == "" {
		return nil, fmt.Errorf("create network: no name: %w", locations.ErrInvalid)
	}
	if old, err := e.InspectNetwork(ctx, spec.Name); err == nil {
		if old.Name != spec.Name || (spec.Subnet.IsValid() && old.Subnet != spec.Subnet.Masked()) {
			return nil, fmt.Errorf("%s: network %s (%s) exists with subnet %v, not %v: %w", op, old.Name, short(old.ID), old.Subnet, spec.Subnet, locations.ErrInvalid)
		}
		return old, nil
	}
	opts := network.CreateOptions{Driver: spec.Driver, Labels: maps.Clone(spec.Labels)}
	if spec.Subnet.IsValid() {
		opts.IPAM = &network.IPAM{Config: []network.IPAMConfig{{Subnet: spec.Subnet.Masked().String()}}}
	}
	if _, err := e.cli.NetworkCreate(ctx, spec.Name, opts); err != nil {
		// Two creates racing: the other won; take its network when it is the same.
		if cerrdefs.IsConflict(err) {
			if old, ierr := e.InspectNetwork(ctx, spec.Name); ierr == nil && old.Subnet == spec.Subnet.Masked() {
				return old, nil
			}
		}
		// The engine refuses an overlapping subnet as a Forbidden error.
		if cerrdefs.IsPermissionDenied(err) || strings.Contains(err.Error(), "overlaps") {
			return nil, fmt.Errorf("%s: %w (%w)", op, err, locations.ErrInvalid)
		}
		return nil, wrap(op, err)
	}
	return e.InspectNetwork(ctx, spec.Name)
}

// InspectNetwork returns the network with that name or id (its running containers as
// Endpoints).
func (e *Engine) InspectNetwork(ctx context.Context, name string) (*locations.Network, error) {
	r, err := e.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		return nil, wrap("inspect network "+name, err)
	}
	// The engine matches ids by prefix and names exactly; a name that is the prefix of
	// another network's id is not that network.
	if r.Name != name && !strings.HasPrefix(r.ID, name) {
		return nil, fmt.Errorf("inspect network %s: %w", name, locations.ErrNotFound)
	}
	n := fromNetwork(r)
	for id, ep := range r.Containers {
		var ip netip.Addr
		if p, err := netip.ParsePrefix(ep.IPv4Address); err == nil {
			ip = p.Addr()
		}
		n.Endpoints[id] = locations.Endpoint{IP: ip}
	}
	return n, nil
}

// ListNetworks returns the networks carrying every one of labels, sorted by name, from
// one list call (Endpoints are not filled in).
func (e *Engine) ListNetworks(ctx context.Context, labels map[string]string) ([]*locations.Network, error) {
	list, err := e.cli.NetworkList(ctx, network.ListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, wrap("list networks", err)
	}
	out := make([]*locations.Network, 0, len(list))
	for _, r := range list {
		out = append(out, fromNetwork(r))
	}
	slices.SortFunc(out, func(a, b *locations.Network) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// NetworkUsers lists the containers, running or stopped, attached to the network.
func (e *Engine) NetworkUsers(ctx context.Context, name string) ([]string, error) {
	n, err := e.InspectNetwork(ctx, name)
	if err != nil {
		return nil, err
	}
	// The list filter sees stopped containers too, which the network's own endpoints
	// (running containers only) do not.
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("network", n.ID))})
	if err != nil {
		return nil, wrap("list the containers of network "+name, err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	for id := range n.Endpoints {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// RemoveNetwork removes a network that no container, running or stopped, uses: a stopped
// container whose network is gone cannot start again.
func (e *Engine) RemoveNetwork(ctx context.Context, name string) error {
	users, err := e.NetworkUsers(ctx, name)
	switch {
	case errors.Is(err, locations.ErrNotFound):
		return nil
	case err != nil:
		return err
	case len(users) > 0:
		return fmt.Errorf("remove network %s: %d containers use it (%s): %w", name, len(users), strings.Join(shorts(users), ", "), locations.ErrInUse)
	}
	err = e.cli.NetworkRemove(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if cerrdefs.IsPermissionDenied(err) || cerrdefs.IsConflict(err) { // active endpoints, raced
		return fmt.Errorf("remove network %s: %w (%w)", name, err, locations.ErrInUse)
	}
	return wrap("remove network "+name, err)
}

// ConnectNetwork attaches a container to a network with aliases (the engine's DNS
// resolves them, and the container's name, for the network's other containers).
func (e *Engine) ConnectNetwork(ctx context.Context, net, id string, aliases []string) (locations.Endpoint, error) {
	op := fmt.Sprintf("connect container %s to network %s", short(id), net)
	eps, err := e.ContainerNetworks(ctx, id)
	if err != nil {
		return locations.Endpoint{}, fmt.Errorf("%s: %w", op, err)
	}
	if ep, ok := eps[net]; ok {
		return ep, nil
	}
	err = e.cli.NetworkConnect(ctx, net, id, &network.EndpointSettings{Aliases: slices.Clone(aliases)})
	if err != nil {
		return locations.Endpoint{}, wrap(op, err)
	}
	if eps, err = e.ContainerNetworks(ctx, id); err != nil {
		return locations.Endpoint{}, fmt.Errorf("%s: %w", op, err)
	}
	return eps[net], nil
}

// DisconnectNetwork detaches a container from a network (forcibly, so that a stopped
// container is detached too).
func (e *Engine) DisconnectNetwork(ctx context.Context, net, id string) error {
	eps, err := e.ContainerNetworks(ctx, id)
	if errors.Is(err, locations.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, ok := eps[net]; !ok {
		return nil
	}
	err = e.cli.NetworkDisconnect(ctx, net, id, true)
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	return wrap(fmt.Sprintf("disconnect container %s from network %s", short(id), net), err)
}

// ContainerNetworks returns a container's endpoints by network name.
func (e *Engine) ContainerNetworks(ctx context.Context, id string) (map[string]locations.Endpoint, error) {
	r, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, wrap("inspect container "+id, err)
	}
	out := map[string]locations.Endpoint{}
	if r.NetworkSettings == nil {
		return out, nil
	}
	for name, ep := range r.NetworkSettings.Networks {
		if ep == nil {
			continue
		}
		var ip netip.Addr
		if a, err := netip.ParseAddr(ep.IPAddress); err == nil {
			ip = a
		}
		out[name] = locations.Endpoint{IP: ip, Aliases: slices.Clone(ep.Aliases)}
	}
	return out, nil
}

func fromNetwork(r network.Inspect) *locations.Network {
	n := &locations.Network{ID: r.ID, Name: r.Name, Driver: r.Driver, Labels: maps.Clone(r.Labels), Endpoints: map[string]locations.Endpoint{}}
	for _, c := range r.IPAM.Config {
		if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() {
			n.Subnet = p.Masked()
			break
		}
	}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	return n
}

func shorts(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = short(id)
	}
	return out
}
