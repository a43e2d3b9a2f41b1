// Package sdn is Gantry's virtual networking, in the line of Clocker's SDN: networks that
// containers are attached to, one per application by default plus named networks that
// applications share, each with a subnet (CIDR) taken from a configured pool.
//
// It holds:
//
//   - the contract of a network provider (Provider, sdn.go): create and delete a
//     network, attach a container to it (which gives the container its address on it)
//     and detach it; providers register a Factory by name from init() (Register) and are
//     made for a set of hosts with Open. Extras are small interfaces discovered by type
//     assertion (ContainerPreparer, Inspector), as in package locations;
//   - CIDR allocation (alloc.go): a pure value, Allocator, that hands out subnets of a
//     pool, reuses released ones, refuses overlaps with networks that already exist and
//     refuses a pool outside private address space. It does no I/O and keeps no state of
//     its own: its caller persists it (it marshals to JSON) or rebuilds it from what it
//     persisted (the virtual-network entities' CIDRs);
//   - the config keys the kinds read (sdn.enable, sdn.provider, sdn.network.cidr,
//     sdn.network.size, sdn.applicationNetwork.create, network.list).
//
// Providers live in sub-packages: sdn/docker (Docker networks on each engine) and
// sdn/calico (Calico v3 resources in Calico's etcd datastore). The virtual-network kind
// that drives them is entities/network.
//
// It imports locations (the hosts networks live on) and the standard library; never
// entities, server or other higher layers.
package sdn
