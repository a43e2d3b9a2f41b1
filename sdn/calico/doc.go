// Package calico is the "calico" network provider: Gantry's virtual networks as Calico
// v3 resources written to Calico's etcd v3 datastore, in Calico's own keys and JSON, so
// that calico-node (Felix and BIRD) on the hosts routes and polices them as it would
// any Calico workload.
//
// For each network (sdn.Network) it writes:
//
//   - an IPPool named after the network (PoolName) with the network's CIDR, Calico's
//     block size (26 by default, never larger than the network), IP-in-IP and VXLAN off,
//     outgoing NAT on, every node selected, for workloads only;
//   - a Profile of the same name that gives its endpoints the network's label
//     (labelsToApply) and lets in only traffic from endpoints carrying that label, as
//     Calico's own CNI plugin does for a network;
//   - a NetworkPolicy of the same name, in the "default" namespace and tier, that
//     selects the network's endpoints and allows ingress only from the same network:
//     the containers of one application (its network) are isolated from every other
//     application's, whatever other profiles or policies allow;
//   - the default tier, when the datastore has none (calico-node makes it too).
//
// Attaching a container allocates an address from the network's pool with Calico IPAM
// — affine blocks of the pool per node under /calico/ipam/v2/assignment/...,
// /calico/ipam/v2/host/<node>/... and a handle /calico/ipam/v2/handle/<network>.<container>
// — with etcd transactions that compare mod revisions, so that concurrent allocators
// (other Gantry servers, Calico's own IPAM) never hand out one address twice; and it
// writes a WorkloadEndpoint named as Calico names those of its CNI plugin
// (<node>-cni-<container>-<endpoint> in namespace "default"). Detaching deletes the
// endpoint and releases the address; deleting a network removes its pool, profile,
// policy, blocks, affinities and handles, and is refused while endpoints remain.
//
// What is NOT done here: moving packets. calico-node must run on every host for routes
// and policy enforcement, and a container only gets a Calico interface (veth, routes)
// through Calico's CNI plugin. When /opt/cni/bin/calico is installed and the host can
// tell a container's network namespace (NetnsHost), Attach runs the plugin, which
// allocates, plumbs the interface and writes the endpoint itself; otherwise the
// provider writes the datastore only and says so (Provider.Status, and a log line).
//
// Calico's types are not imported (they bring Kubernetes' apimachinery): the structs
// here follow Calico's JSON field names exactly, and the tests decode what is written
// with Calico's own Go types (github.com/projectcalico/api) strictly.
//
// It imports sdn, locations, the etcd v3 client and the standard library.
package calico
