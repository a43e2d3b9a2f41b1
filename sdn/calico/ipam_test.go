package calico

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWorkloadEndpointName(t *testing.T) {
	for _, tc := range []struct {
		node, cid, ep, want string
		bad                 bool
	}{
		{"node1", "abc123", "eth0", "node1-cni-abc123-eth0", false},
		// Calico doubles the dashes inside each segment.
		{"engine-1", "abc-def", "gn01", "engine--1-cni-abc--def-gn01", false},
		{"-node", "abc", "eth0", "", true},
		{"node", "abc-", "eth0", "", true},
		{"node", "", "eth0", "", true},
	} {
		got, err := WorkloadEndpointName(tc.node, tc.cid, tc.ep)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("WorkloadEndpointName(%q, %q, %q) = %q, %v; want %q (error %v)", tc.node, tc.cid, tc.ep, got, err, tc.want, tc.bad)
		}
	}
}

func TestNames(t *testing.T) {
	if got := PoolName("app-1"); got != "gantry-app-1" {
		t.Errorf("PoolName(app-1) = %q", got)
	}
	// Names Calico would refuse are made valid, and two such names stay apart.
	a, b := PoolName("My_App"), PoolName("my-app")
	if !nameRE.MatchString(a) || a == b || !strings.HasPrefix(a, "gantry-my-app-") {
		t.Errorf("PoolName(My_App) = %q, PoolName(my-app) = %q", a, b)
	}
	if got := NodeName("Docker_Host.1"); !nameRE.MatchString(got) {
		t.Errorf("NodeName = %q is not a Calico name", got)
	}
	for _, n := range []string{"app-1", "web.tier", strings.Repeat("x", 80), "a_b-"} {
		if l := NetworkLabel(n); !validLabelKey(l) {
			t.Errorf("NetworkLabel(%q) = %q is not a valid label key", n, l)
		}
		if v := labelValue(n + "/x"); !labelNameRE.MatchString(v) || len(v) > 63 {
			t.Errorf("labelValue(%q) = %q", n+"/x", v)
		}
	}
	if e := EndpointName("app-1"); len(e) > 15 || e == EndpointName("app-2") {
		t.Errorf("EndpointName = %q", e)
	}
	if h := hostInterfaceName("c1", "gn01"); len(h) != 15 || !strings.HasPrefix(h, "cali") {
		t.Errorf("hostInterfaceName = %q", h)
	}
}

func TestKeys(t *testing.T) {
	p := netip.MustParsePrefix("10.240.1.64/26")
	for got, want := range map[string]string{
		blockKey(p):                                     "/calico/ipam/v2/assignment/ipv4/block/10.240.1.64-26",
		affinityKey("node1", p):                         "/calico/ipam/v2/host/node1/ipv4/block/10.240.1.64-26",
		handleKey("gantry-a.c1"):                        "/calico/ipam/v2/handle/gantry-a.c1",
		poolKey("gantry-a"):                             "/calico/resources/v3/projectcalico.org/ippools/gantry-a",
		profileKey("gantry-a"):                          "/calico/resources/v3/projectcalico.org/profiles/gantry-a",
		policyKey("default", "gantry-a"):                "/calico/resources/v3/projectcalico.org/networkpolicies/default/gantry-a",
		wepKey("default", "n-cni-c1-eth0"):              "/calico/resources/v3/projectcalico.org/workloadendpoints/default/n-cni-c1-eth0",
		tierKey("default"):                              "/calico/resources/v3/projectcalico.org/tiers/default",
		blockKey(netip.MustParsePrefix("fd00::40/122")): "/calico/ipam/v2/assignment/ipv6/block/fd00::40-122",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	if got, ok := parseCIDRKeyPart(blockKey(p)); !ok || got != p {
		t.Errorf("parseCIDRKeyPart = %v %v", got, ok)
	}
}

func TestBlocksOf(t *testing.T) {
	got, err := blocksOf(netip.MustParsePrefix("10.240.1.0/24"), 26)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, b := range got {
		s = append(s, b.String())
	}
	if want := []string{"10.240.1.0/26", "10.240.1.64/26", "10.240.1.128/26", "10.240.1.192/26"}; !slices.Equal(s, want) {
		t.Errorf("blocks %v, want %v", s, want)
	}
	if _, err := blocksOf(netip.MustParsePrefix("10.240.1.0/24"), 23); err == nil {
		t.Error("a block larger than its pool was accepted")
	}
	if got, _ := blocksOf(netip.MustParsePrefix("10.240.1.0/28"), 28); len(got) != 1 || got[0].String() != "10.240.1.0/28" {
		t.Errorf("one-block pool: %v", got)
	}
}

func TestOrdinals(t *testing.T) {
	p := netip.MustParsePrefix("10.240.1.192/26")
	for ord, ip := range map[int]string{0: "10.240.1.192", 5: "10.240.1.197", 63: "10.240.1.255"} {
		if got := ordinalIP(p, ord); got.String() != ip {
			t.Errorf("ordinalIP(%d) = %v, want %s", ord, got, ip)
		}
		if got := ipOrdinal(p, netip.MustParseAddr(ip)); got != ord {
			t.Errorf("ipOrdinal(%s) = %d, want %d", ip, got, ord)
		}
	}
	if got := ordinalIP(netip.MustParsePrefix("10.0.0.0/20"), 300); got.String() != "10.0.1.44" {
		t.Errorf("carry: %v", got)
	}
	if ipOrdinal(p, netip.MustParseAddr("10.240.2.0")) != -1 {
		t.Error("an address outside the block has an ordinal")
	}
}

// A block's allocations, attributes and free list evolve as Calico's do.
func TestBlockAssignRelease(t *testing.T) {
	b := newBlock(netip.MustParsePrefix("10.240.1.0/30"), "node1", time.Unix(100, 0))
	if *b.Affinity != "host:node1" || len(b.Allocations) != 4 || !slices.Equal(b.Unallocated, []int{0, 1, 2, 3}) {
		t.Fatalf("new block %+v", b)
	}
	seq := b.SequenceNumber
	attrs := func(n string) map[string]string { return map[string]string{AttributeNode: n} }
	for i, h := range []string{"h1", "h2", "h3"} {
		ord, ok := b.assign(h, attrs("node1"))
		if !ok || ord != i {
			t.Fatalf("assign %s = %d %v", h, ord, ok)
		}
	}
	if b.SequenceNumber != seq+3 || b.SequenceNumberForAllocation["1"] != seq+1 {
		t.Errorf("sequence numbers: %d, %v", b.SequenceNumber, b.SequenceNumberForAllocation)
	}
	if got := b.ordinalsOf("h2"); !slices.Equal(got, []int{1}) {
		t.Errorf("ordinalsOf(h2) = %v", got)
	}
	// Releasing h1 removes attribute 0: the others are renumbered.
	if n := b.releaseHandle("h1"); n != 1 {
		t.Fatalf("released %d", n)
	}
	if b.Allocations[0] != nil || *b.Allocations[1] != 0 || *b.Allocations[2] != 1 || len(b.Attributes) != 2 || *b.Attributes[0].HandleID != "h2" {
		t.Errorf("after release: allocations %v attributes %+v", b.Allocations, b.Attributes)
	}
	if !slices.Equal(b.Unallocated, []int{3, 0}) {
		t.Errorf("unallocated %v, want [3 0] (released ordinals go to the end)", b.Unallocated)
	}
	if _, ok := b.SequenceNumberForAllocation["0"]; ok {
		t.Error("the released ordinal kept its sequence number")
	}
	b.assign("h4", attrs("node1"))
	b.assign("h5", attrs("node1"))
	if _, ok := b.assign("h6", attrs("node1")); ok {
		t.Error("a full block gave an address")
	}
	for _, h := range []string{"h2", "h3", "h4", "h5"} {
		b.releaseHandle(h)
	}
	if b.inUse() || len(b.Attributes) != 0 || len(b.Unallocated) != 4 {
		t.Errorf("emptied block %+v", b)
	}
	if b.releaseHandle("h2") != 0 {
		t.Error("released a handle twice")
	}
}
