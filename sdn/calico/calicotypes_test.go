package calico_test

import (
	"bytes"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Calico's types that are not in github.com/projectcalico/api but in libcalico-go
// (module github.com/projectcalico/calico, which is not meant to be imported): copied
// field for field, with their JSON names, from
//   - libcalico-go/lib/apis/internalapi/workloadendpoint.go (WorkloadEndpoint),
//   - libcalico-go/lib/backend/model/block.go (AllocationBlock, AllocationAttribute),
//   - libcalico-go/lib/backend/model/ipam_handle.go (IPAMHandle),
//   - libcalico-go/lib/backend/model/block_affinity.go (BlockAffinity),
// as of projectcalico/calico 87c15906f20c (2026-08). The tests decode what the
// provider wrote into them with unknown fields refused.

type calicoWorkloadEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              calicoWorkloadEndpointSpec `json:"spec,omitempty"`
}

type calicoWorkloadEndpointSpec struct {
	Orchestrator               string                       `json:"orchestrator,omitempty"`
	Workload                   string                       `json:"workload,omitempty"`
	Node                       string                       `json:"node,omitempty"`
	ContainerID                string                       `json:"containerID,omitempty"`
	Pod                        string                       `json:"pod,omitempty"`
	Endpoint                   string                       `json:"endpoint,omitempty"`
	ServiceAccountName         string                       `json:"serviceAccountName,omitempty"`
	IPNetworks                 []string                     `json:"ipNetworks,omitempty"`
	IPNATs                     []calicoIPNAT                `json:"ipNATs,omitempty"`
	IPv4Gateway                string                       `json:"ipv4Gateway,omitempty"`
	IPv6Gateway                string                       `json:"ipv6Gateway,omitempty"`
	Profiles                   []string                     `json:"profiles,omitempty"`
	InterfaceName              string                       `json:"interfaceName,omitempty"`
	MAC                        string                       `json:"mac,omitempty"`
	Ports                      []calicoWorkloadEndpointPort `json:"ports,omitempty"`
	AllowSpoofedSourcePrefixes []string                     `json:"allowSpoofedSourcePrefixes,omitempty"`
	QoSControls                *json.RawMessage             `json:"qosControls,omitempty"`
}

type calicoWorkloadEndpointPort struct {
	Name     string `json:"name"`
	Protocol any    `json:"protocol"`
	Port     uint16 `json:"port"`
	HostPort uint16 `json:"hostPort"`
	HostIP   string `json:"hostIP"`
}

type calicoIPNAT struct {
	InternalIP string `json:"internalIP"`
	ExternalIP string `json:"externalIP"`
}

type calicoAllocationBlock struct {
	CIDR                        string                      `json:"cidr"`
	Affinity                    *string                     `json:"affinity"`
	AffinityClaimTime           *metav1.Time                `json:"affinity_claim_time,omitempty"`
	Allocations                 []*int                      `json:"allocations"`
	Unallocated                 []int                       `json:"unallocated"`
	Attributes                  []calicoAllocationAttribute `json:"attributes"`
	SequenceNumber              uint64                      `json:"sequenceNumber"`
	SequenceNumberForAllocation map[string]uint64           `json:"sequenceNumberForAllocation"`
	Deleted                     bool                        `json:"deleted"`
	HostAffinity                *string                     `json:"hostAffinity,omitempty"`
}

type calicoAllocationAttribute struct {
	HandleID            *string           `json:"handle_id,omitempty"`
	ActiveOwnerAttrs    map[string]string `json:"secondary,omitempty"`
	AlternateOwnerAttrs map[string]string `json:"alternateOwnerAttrs,omitempty"`
	ReleasedAt          *metav1.Time      `json:"releasedAt,omitempty"`
}

type calicoIPAMHandle struct {
	Block   map[string]int `json:"block"`
	Deleted bool           `json:"deleted"`
}

type calicoBlockAffinity struct {
	State   string `json:"state"`
	Deleted bool   `json:"deleted"`
}

// decodeStrict decodes data into v, refusing fields v does not have and trailing data.
func decodeStrict(t *testing.T, key string, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode as Calico's %T: %v\n%s", key, v, err, data)
	}
	if dec.More() {
		t.Fatalf("%s: trailing data after the JSON value\n%s", key, data)
	}
}
