package calico

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Calico's API group and version, and the kinds written here.
const (
	APIVersion           = "projectcalico.org/v3"
	KindIPPool           = "IPPool"
	KindProfile          = "Profile"
	KindNetworkPolicy    = "NetworkPolicy"
	KindTier             = "Tier"
	KindWorkloadEndpoint = "WorkloadEndpoint"
)

// Etcd key prefixes of Calico's etcd v3 datastore (libcalico-go's backend model).
const (
	// ResourcePrefix is where v3 resources live:
	// <prefix><plural>/<name>, or <prefix><plural>/<namespace>/<name> when namespaced.
	ResourcePrefix = "/calico/resources/v3/projectcalico.org/"
	// IPAMPrefix is where Calico IPAM keeps blocks, affinities, handles and its config.
	IPAMPrefix = "/calico/ipam/v2/"
)

// Namespace is the namespace of Gantry's workload endpoints and network policies: the
// one Calico's CNI plugin uses for workloads outside Kubernetes.
const Namespace = "default"

// Orchestrator is the orchestrator of Gantry's workload endpoints: "cni", as Calico's
// CNI plugin writes them outside Kubernetes, so that the plugin and this package name
// an endpoint the same way.
const Orchestrator = "cni"

// Labels Gantry sets on what it writes, beside the network's own (sdn.Network.Labels).
// Calico's client sets LabelNamespace and LabelOrchestrator on every workload endpoint.
const (
	LabelManaged      = "gantry.dev/managed-by"
	LabelNetwork      = "gantry.dev/network"
	LabelApp          = "gantry.dev/app"
	LabelEntity       = "gantry.dev/entity"
	LabelNamespace    = "projectcalico.org/namespace"
	LabelOrchestrator = "projectcalico.org/orchestrator"
	// NetworkLabelPrefix prefixes the label a network's profile applies to its
	// endpoints (NetworkLabel), which its policy selects on.
	NetworkLabelPrefix = "network.gantry.dev/"
	// annotationMetadata is where Calico's etcd backend (3.30 and later) keeps a
	// policy's name as given on its API.
	annotationMetadata = "projectcalico.org/metadata"
)

// DefaultTier is the tier of Gantry's policies; DefaultTierOrder its order when Gantry
// has to create it (Calico's own value).
const (
	DefaultTier      = "default"
	DefaultTierOrder = 1_000_000.0
)

// TypeMeta and ObjectMeta follow Kubernetes' JSON (Calico's resources embed them).
type TypeMeta struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
}

// ObjectMeta holds the metadata fields Calico's etcd backend stores. ResourceVersion is
// never stored: it is the key's mod revision.
type ObjectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	CreationTimestamp string            `json:"creationTimestamp,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
}

// IPPool is Calico's IPPool (projectcalico.org/v3).
type IPPool struct {
	TypeMeta
	Metadata ObjectMeta `json:"metadata"`
	Spec     IPPoolSpec `json:"spec"`
}

// IPPoolSpec is the spec of an IPPool.
type IPPoolSpec struct {
	CIDR         string   `json:"cidr"`
	VXLANMode    string   `json:"vxlanMode,omitempty"`
	IPIPMode     string   `json:"ipipMode,omitempty"`
	NATOutgoing  bool     `json:"natOutgoing,omitempty"`
	Disabled     bool     `json:"disabled,omitempty"`
	BlockSize    int      `json:"blockSize,omitempty"`
	NodeSelector string   `json:"nodeSelector,omitempty"`
	AllowedUses  []string `json:"allowedUses,omitempty"`
}

// Profile is Calico's Profile.
type Profile struct {
	TypeMeta
	Metadata ObjectMeta  `json:"metadata"`
	Spec     ProfileSpec `json:"spec"`
}

// ProfileSpec is the spec of a Profile.
type ProfileSpec struct {
	Ingress       []Rule            `json:"ingress,omitempty"`
	Egress        []Rule            `json:"egress,omitempty"`
	LabelsToApply map[string]string `json:"labelsToApply,omitempty"`
}

// NetworkPolicy is Calico's namespaced NetworkPolicy.
type NetworkPolicy struct {
	TypeMeta
	Metadata ObjectMeta        `json:"metadata"`
	Spec     NetworkPolicySpec `json:"spec"`
}

// NetworkPolicySpec is the spec of a NetworkPolicy.
type NetworkPolicySpec struct {
	Tier     string   `json:"tier,omitempty"`
	Order    *float64 `json:"order,omitempty"`
	Ingress  []Rule   `json:"ingress,omitempty"`
	Egress   []Rule   `json:"egress,omitempty"`
	Selector string   `json:"selector,omitempty"`
	Types    []string `json:"types,omitempty"`
}

// Tier is Calico's Tier.
type Tier struct {
	TypeMeta
	Metadata ObjectMeta `json:"metadata"`
	Spec     TierSpec   `json:"spec"`
}

// TierSpec is the spec of a Tier.
type TierSpec struct {
	Order         *float64 `json:"order,omitempty"`
	DefaultAction string   `json:"defaultAction,omitempty"`
}

// Rule is a Calico policy rule (the subset Gantry writes).
type Rule struct {
	Action      string     `json:"action"`
	Source      EntityRule `json:"source,omitempty"`
	Destination EntityRule `json:"destination,omitempty"`
}

// EntityRule is the source or destination of a Rule (the subset Gantry writes).
type EntityRule struct {
	Nets     []string `json:"nets,omitempty"`
	Selector string   `json:"selector,omitempty"`
}

// WorkloadEndpoint is Calico's WorkloadEndpoint (libcalico-go's internal API, stored
// under the projectcalico.org/v3 group like the public kinds).
type WorkloadEndpoint struct {
	TypeMeta
	Metadata ObjectMeta           `json:"metadata"`
	Spec     WorkloadEndpointSpec `json:"spec"`
}

// WorkloadEndpointSpec is the spec of a WorkloadEndpoint.
type WorkloadEndpointSpec struct {
	Orchestrator  string   `json:"orchestrator,omitempty"`
	Workload      string   `json:"workload,omitempty"`
	Node          string   `json:"node,omitempty"`
	ContainerID   string   `json:"containerID,omitempty"`
	Endpoint      string   `json:"endpoint,omitempty"`
	IPNetworks    []string `json:"ipNetworks,omitempty"`
	Profiles      []string `json:"profiles,omitempty"`
	InterfaceName string   `json:"interfaceName,omitempty"`
	MAC           string   `json:"mac,omitempty"`
}

// Keys of v3 resources.
func poolKey(name string) string    { return ResourcePrefix + "ippools/" + name }
func profileKey(name string) string { return ResourcePrefix + "profiles/" + name }
func tierKey(name string) string    { return ResourcePrefix + "tiers/" + name }
func policyKey(ns, name string) string {
	return ResourcePrefix + "networkpolicies/" + ns + "/" + name
}
func wepKey(ns, name string) string {
	return ResourcePrefix + "workloadendpoints/" + ns + "/" + name
}

// newMeta returns metadata as Calico's client fills it on create: a random UID and
// the creation time.
func newMeta(name, namespace string, labels map[string]string) ObjectMeta {
	return ObjectMeta{
		Name: name, Namespace: namespace, UID: newUID(),
		CreationTimestamp: time.Now().UTC().Format(time.RFC3339),
		Labels:            labels,
	}
}

// newUID returns a random (version 4) UUID.
func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

var (
	// Calico resource names: lowercase RFC 1123 subdomains.
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	// Kubernetes label names (the part after an optional prefix) and values.
	labelNameRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	// Characters a resource name may not hold.
	badNameChars = regexp.MustCompile(`[^a-z0-9.-]+`)
	badLabelChar = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

// calicoName turns s into a valid Calico resource name: lowercased, other characters
// replaced by '-'. When that changed anything (case included), a short hash of s is
// appended, so that two names never map to one.
func calicoName(s string) string {
	n := strings.Trim(badNameChars.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if n == s && len(n) <= 200 {
		return n
	}
	if len(n) > 190 {
		n = strings.Trim(n[:190], "-.")
	}
	if n == "" {
		return shortHash(s)
	}
	return n + "-" + shortHash(s)
}

// PoolName is the name of the IPPool, Profile and NetworkPolicy of the network named
// network: "gantry-" and the network's name, made valid for Calico.
func PoolName(network string) string { return calicoName("gantry-" + network) }

// NodeName is the Calico node name Gantry uses for a host id when none is configured.
func NodeName(host string) string { return calicoName(host) }

// NetworkLabel is the label the profile of the network named network applies to its
// endpoints: NetworkLabelPrefix and the network's name (made a valid label name).
func NetworkLabel(network string) string {
	name := network
	if !labelNameRE.MatchString(name) || len(name) > 63 {
		name = strings.Trim(badLabelChar.ReplaceAllString(name, "-"), "-_.")
		if len(name) > 54 {
			name = strings.Trim(name[:54], "-_.")
		}
		name = strings.TrimLeft(name+"-"+shortHash(network), "-_.")
	}
	return NetworkLabelPrefix + name
}

// labelValue makes s a valid label value (at most 63 characters of [A-Za-z0-9_.-],
// alphanumeric at both ends), appending a short hash when it had to change it.
func labelValue(s string) string {
	if s == "" || (len(s) <= 63 && labelNameRE.MatchString(s)) {
		return s
	}
	v := strings.Trim(badLabelChar.ReplaceAllString(s, "-"), "-_.")
	if len(v) > 54 {
		v = strings.Trim(v[:54], "-_.")
	}
	return strings.TrimLeft(v+"-"+shortHash(s), "-_.")
}

// validLabelKey reports whether k is a valid label key: [prefix/]name.
func validLabelKey(k string) bool {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		name, prefix = prefix, ""
	} else if prefix == "" || len(prefix) > 253 || !nameRE.MatchString(prefix) {
		return false
	}
	return len(name) <= 63 && labelNameRE.MatchString(name)
}

// escapeDashes escapes one segment of a workload endpoint name as Calico does: '-'
// becomes "--". A segment may not begin or end with '-'.
func escapeDashes(s string) (string, error) {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return "", fmt.Errorf("workload endpoint name segment %q is empty or begins or ends with '-'", s)
	}
	return strings.ReplaceAll(s, "-", "--"), nil
}

// WorkloadEndpointName is the name Calico computes for an endpoint of orchestrator
// "cni": <node>-cni-<containerID>-<endpoint>, each segment's dashes doubled.
func WorkloadEndpointName(node, containerID, endpoint string) (string, error) {
	var parts []string
	for _, s := range []string{node, Orchestrator, containerID, endpoint} {
		e, err := escapeDashes(s)
		if err != nil {
			return "", err
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, "-"), nil
}

// EndpointName is the endpoint (interface) name of a container on the network named
// network: "gn" and a hash of the network's name, so that a container on several
// Calico networks has one endpoint, with its own address, per network.
func EndpointName(network string) string { return "gn" + shortHash(network) }

// hostInterfaceName is the host side veth name Calico would give the endpoint:
// "cali" and 11 hex characters.
func hostInterfaceName(containerID, endpoint string) string {
	sum := sha256.Sum256([]byte(containerID + "." + endpoint))
	return "cali" + hex.EncodeToString(sum[:])[:11]
}

// handleID is the IPAM handle of a container on a network, as Calico's CNI plugin
// makes it: "<network>.<containerID>", the network being the CNI network's name (the
// pool and profile name here).
func handleID(pool, containerID string) string { return pool + "." + containerID }

// ipVersion is 4 or 6.
func ipVersion(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 4
	}
	return 6
}

// hostPrefix is the /32 or /128 of an address, as workload endpoints list them.
func hostPrefix(a netip.Addr) string {
	return netip.PrefixFrom(a, a.BitLen()).String()
}
