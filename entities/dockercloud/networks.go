package dockercloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/locations"
)

// The cloud is a NetworkHost as the contract says a location spreading containers over
// engines is: each network is made on every host (same name, same subnet), a host added
// later gets it when a container there needs it, and a container's calls go to its host.
// It only routes: the virtual networks themselves are the sdn providers' (a bridge stays
// local to its engine; containers on different hosts are not routed to each other
// unless the engines give a multi-host driver).
var _ locations.NetworkHost = (*Cloud)(nil)

// engines lists the hosts' engines that answer, and the errors of those that do not.
func (c *Cloud) engines(ctx context.Context) ([]*entities.Entity, []engine, []error) {
	var hs []*entities.Entity
	var es []engine
	var errs []error
	for _, h := range hostsOf(c.infra) {
		eng, err := engineOf(ctx, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hs = append(hs, h)
		es = append(es, eng)
	}
	return hs, es, errs
}

// CreateNetwork makes the network on every host.
func (c *Cloud) CreateNetwork(ctx context.Context, spec locations.NetworkSpec) (*locations.Network, error) {
	_, es, errs := c.engines(ctx)
	var out *locations.Network
	for _, eng := range es {
		n, err := eng.CreateNetwork(ctx, spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = merge(out, n)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("create network %s on the hosts of %s: %w", spec.Name, c.id, err)
	}
	if out == nil {
		return nil, fmt.Errorf("create network %s: %s has no host: %w", spec.Name, c.id, locations.ErrUnavailable)
	}
	return out, nil
}

// merge adds what a host says of a network to what the others said.
func merge(acc, n *locations.Network) *locations.Network {
	if acc == nil {
		cp := *n
		cp.Labels = maps.Clone(n.Labels)
		cp.Endpoints = maps.Clone(n.Endpoints)
		if cp.Endpoints == nil {
			cp.Endpoints = map[string]locations.Endpoint{}
		}
		return &cp
	}
	maps.Copy(acc.Endpoints, n.Endpoints)
	return acc
}

// InspectNetwork returns the network as the hosts have it, with the endpoints of all.
func (c *Cloud) InspectNetwork(ctx context.Context, name string) (*locations.Network, error) {
	_, es, errs := c.engines(ctx)
	var out *locations.Network
	for _, eng := range es {
		n, err := eng.InspectNetwork(ctx, name)
		switch {
		case errors.Is(err, locations.ErrNotFound):
		case err != nil:
			errs = append(errs, err)
		default:
			out = merge(out, n)
		}
	}
	if out != nil {
		return out, nil
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("network %s in %s: %w", name, c.id, errors.Join(errs...))
	}
	return nil, fmt.Errorf("network %s is on no host of %s: %w", name, c.id, locations.ErrNotFound)
}

// ListNetworks lists the networks of every host, one entry by name.
func (c *Cloud) ListNetworks(ctx context.Context, labels map[string]string) ([]*locations.Network, error) {
	_, es, errs := c.engines(ctx)
	byName := map[string]*locations.Network{}
	for _, eng := range es {
		ns, err := eng.ListNetworks(ctx, labels)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range ns {
			byName[n.Name] = merge(byName[n.Name], n)
		}
	}
	out := make([]*locations.Network, 0, len(byName))
	for _, k := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[k])
	}
	return out, errors.Join(errs...)
}

// NetworkUsers lists the containers of every host attached to the network.
func (c *Cloud) NetworkUsers(ctx context.Context, name string) ([]string, error) {
	_, es, errs := c.engines(ctx)
	var out []string
	for _, eng := range es {
		ids, err := eng.NetworkUsers(ctx, name)
		if err != nil && !errors.Is(err, locations.ErrNotFound) {
			errs = append(errs, err)
		}
		out = append(out, ids...)
	}
	slices.Sort(out)
	return slices.Compact(out), errors.Join(errs...)
}

// RemoveNetwork removes the network from every host, unless containers use it on any.
func (c *Cloud) RemoveNetwork(ctx context.Context, name string) error {
	users, err := c.NetworkUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("remove network %s: %d container(s) of %s use it: %w", name, len(users), c.id, locations.ErrInUse)
	}
	_, es, errs := c.engines(ctx)
	for _, eng := range es {
		if err := eng.RemoveNetwork(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ConnectNetwork attaches a container to a network on its host, making the network
// there first when the host came after it.
func (c *Cloud) ConnectNetwork(ctx context.Context, network, id string, aliases []string) (locations.Endpoint, error) {
	h, eng, err := c.route(ctx, id)
	if err != nil {
		return locations.Endpoint{}, err
	}
	if err := c.ensureNetwork(ctx, h, eng, network); err != nil {
		return locations.Endpoint{}, err
	}
	return eng.ConnectNetwork(ctx, network, id, aliases)
}

// DisconnectNetwork detaches a container from a network on its host.
func (c *Cloud) DisconnectNetwork(ctx context.Context, network, id string) error {
	_, eng, err := c.route(ctx, id)
	if errors.Is(err, locations.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return eng.DisconnectNetwork(ctx, network, id)
}

// ContainerNetworks returns a container's endpoints, from its host.
func (c *Cloud) ContainerNetworks(ctx context.Context, id string) (map[string]locations.Endpoint, error) {
	_, eng, err := c.route(ctx, id)
	if err != nil {
		return nil, err
	}
	return eng.ContainerNetworks(ctx, id)
}

// ensureNetwork makes a network on a host that lacks it, as another host has it.
func (c *Cloud) ensureNetwork(ctx context.Context, h *entities.Entity, eng engine, name string) error {
	if _, err := eng.InspectNetwork(ctx, name); err == nil || !errors.Is(err, locations.ErrNotFound) {
		return err
	}
	hs, es, _ := c.engines(ctx)
	for i, other := range es {
		if hs[i] == h {
			continue
		}
		n, err := other.InspectNetwork(ctx, name)
		if err != nil {
			continue
		}
		_, err = eng.CreateNetwork(ctx, locations.NetworkSpec{Name: n.Name, Driver: n.Driver, Subnet: n.Subnet, Labels: n.Labels})
		if err != nil {
			return fmt.Errorf("make network %s on %s, as %s has it: %w", name, h.Name(), hs[i].Name(), err)
		}
		entities.Logf(ctx, "network %s made on %s too", name, h.Name())
		return nil
	}
	return fmt.Errorf("network %s is on no host of %s: %w", name, c.id, locations.ErrNotFound)
}

// networkFor makes sure the network a new container is created on exists on its host.
func (c *Cloud) networkFor(ctx context.Context, h *entities.Entity, eng engine, spec locations.ContainerSpec) error {
	if spec.Network == "" || strings.EqualFold(spec.Network, "bridge") {
		return nil
	}
	return c.ensureNetwork(ctx, h, eng, spec.Network)
}
