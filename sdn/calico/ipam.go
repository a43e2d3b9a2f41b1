package calico

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AllocationBlock is Calico IPAM's allocation block, as libcalico-go stores it at
// /calico/ipam/v2/assignment/ipv4/block/<a.b.c.d-n>.
type AllocationBlock struct {
	CIDR string `json:"cidr"`
	// Affinity is "host:<node>" for a block claimed by a node.
	Affinity          *string `json:"affinity"`
	AffinityClaimTime *string `json:"affinity_claim_time,omitempty"`
	// Allocations has one entry per address: nil when free, else the index of its
	// attributes in Attributes.
	Allocations []*int `json:"allocations"`
	// Unallocated lists the free ordinals, in the order they are handed out.
	Unallocated []int                 `json:"unallocated"`
	Attributes  []AllocationAttribute `json:"attributes"`
	// SequenceNumber grows by one on every write; SequenceNumberForAllocation holds
	// its value when each ordinal was allocated.
	SequenceNumber              uint64            `json:"sequenceNumber"`
	SequenceNumberForAllocation map[string]uint64 `json:"sequenceNumberForAllocation"`
	Deleted                     bool              `json:"deleted"`
}

// AllocationAttribute is the owner of allocations: its handle and attributes.
type AllocationAttribute struct {
	HandleID         *string           `json:"handle_id,omitempty"`
	ActiveOwnerAttrs map[string]string `json:"secondary,omitempty"`
}

// IPAMHandle is Calico's handle (/calico/ipam/v2/handle/<id>): how many addresses the
// handle holds in each block (by block CIDR).
type IPAMHandle struct {
	Block   map[string]int `json:"block"`
	Deleted bool           `json:"deleted"`
}

// BlockAffinity is the value of /calico/ipam/v2/host/<node>/ipv4/block/<cidr>.
type BlockAffinity struct {
	State   string `json:"state"`
	Deleted bool   `json:"deleted"`
}

// IPAMConfig is Calico IPAM's global config (/calico/ipam/v2/config).
type IPAMConfig struct {
	StrictAffinity     bool `json:"strict_affinity,omitempty"`
	AutoAllocateBlocks bool `json:"auto_allocate_blocks,omitempty"`
	MaxBlocksPerHost   int  `json:"maxBlocksPerHost,omitempty"`
}

// Attributes Calico's CNI plugin sets on an allocation.
const (
	AttributeNode      = "node"
	AttributeTimestamp = "timestamp"
)

// Keys of Calico IPAM.
func cidrKeyPart(p netip.Prefix) string { return strings.Replace(p.Masked().String(), "/", "-", 1) }

func blockKey(p netip.Prefix) string {
	return fmt.Sprintf("%sassignment/ipv%d/block/%s", IPAMPrefix, ipVersion(p), cidrKeyPart(p))
}

func blockPrefix(version int) string {
	return fmt.Sprintf("%sassignment/ipv%d/block/", IPAMPrefix, version)
}

func affinityKey(node string, p netip.Prefix) string {
	return fmt.Sprintf("%shost/%s/ipv%d/block/%s", IPAMPrefix, node, ipVersion(p), cidrKeyPart(p))
}

func affinityPrefix(node string, version int) string {
	return fmt.Sprintf("%shost/%s/ipv%d/block/", IPAMPrefix, node, version)
}

func handleKey(id string) string { return IPAMPrefix + "handle/" + id }

const ipamConfigKey = IPAMPrefix + "config"

// parseCIDRKeyPart parses the last segment of a block or affinity key.
func parseCIDRKeyPart(key string) (netip.Prefix, bool) {
	i := strings.LastIndexByte(key, '/')
	p, err := netip.ParsePrefix(strings.Replace(key[i+1:], "-", "/", 1))
	return p, err == nil
}

// newBlock returns an empty block for cidr, affine to node, as Calico's IPAM creates
// one when a node claims it.
func newBlock(cidr netip.Prefix, node string, now time.Time) *AllocationBlock {
	n := 1 << (cidr.Addr().BitLen() - cidr.Bits())
	aff := "host:" + node
	claim := now.UTC().Format(time.RFC3339)
	b := &AllocationBlock{
		CIDR:                        cidr.Masked().String(),
		Affinity:                    &aff,
		AffinityClaimTime:           &claim,
		Allocations:                 make([]*int, n),
		Unallocated:                 make([]int, n),
		Attributes:                  []AllocationAttribute{},
		SequenceNumber:              uint64(now.UnixNano()),
		SequenceNumberForAllocation: map[string]uint64{},
	}
	for i := range n {
		b.Unallocated[i] = i
	}
	return b
}

func (b *AllocationBlock) prefix() (netip.Prefix, error) {
	p, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("block cidr %q: %w", b.CIDR, err)
	}
	return p, nil
}

// ordinalIP is the address at ordinal ord of the block.
func ordinalIP(p netip.Prefix, ord int) netip.Addr {
	a := p.Masked().Addr().As16()
	carry := ord
	for i := 15; i >= 0 && carry > 0; i-- {
		sum := int(a[i]) + carry&0xff
		a[i] = byte(sum)
		carry = carry>>8 + sum>>8
	}
	ip := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		ip = ip.Unmap()
	}
	return ip
}

// ipOrdinal is the ordinal of ip in the block, or -1 when it is outside.
func ipOrdinal(p netip.Prefix, ip netip.Addr) int {
	p = p.Masked()
	if !p.Contains(ip) {
		return -1
	}
	base, x := p.Addr().As16(), ip.As16()
	ord := 0
	for i := 8; i < 16; i++ {
		ord = ord<<8 | int(x[i]-base[i])
	}
	return ord
}

// assign takes the first free ordinal of the block for handle, with attrs, as Calico's
// autoAssign does; false when the block is full. It bumps the sequence number as
// Calico's block writer does on every update.
func (b *AllocationBlock) assign(handle string, attrs map[string]string) (int, bool) {
	if len(b.Unallocated) == 0 {
		return 0, false
	}
	ord := b.Unallocated[0]
	b.Unallocated = b.Unallocated[1:]
	idx := b.findOrAddAttribute(handle, attrs)
	b.Allocations[ord] = &idx
	if b.SequenceNumberForAllocation == nil {
		b.SequenceNumberForAllocation = map[string]uint64{}
	}
	b.SequenceNumberForAllocation[strconv.Itoa(ord)] = b.SequenceNumber
	b.SequenceNumber++
	return ord, true
}

func (b *AllocationBlock) findOrAddAttribute(handle string, attrs map[string]string) int {
	a := AllocationAttribute{HandleID: &handle, ActiveOwnerAttrs: attrs}
	for i, x := range b.Attributes {
		if reflect.DeepEqual(a, x) {
			return i
		}
	}
	b.Attributes = append(b.Attributes, a)
	return len(b.Attributes) - 1
}

// ordinalsOf lists the ordinals allocated to handle.
func (b *AllocationBlock) ordinalsOf(handle string) []int {
	var out []int
	for ord, idx := range b.Allocations {
		if idx == nil || *idx >= len(b.Attributes) {
			continue
		}
		if h := b.Attributes[*idx].HandleID; h != nil && *h == handle {
			out = append(out, ord)
		}
	}
	return out
}

// releaseHandle frees every address of handle in the block, as Calico's releaseByHandle
// followed by its garbage collection (no cooldown) leaves it: ordinals back at the end
// of Unallocated, their sequence numbers cleared, unreferenced attributes removed and
// the others renumbered. It returns how many addresses it freed.
func (b *AllocationBlock) releaseHandle(handle string) int {
	ords := b.ordinalsOf(handle)
	if len(ords) == 0 {
		return 0
	}
	for _, o := range ords {
		b.Allocations[o] = nil
		b.Unallocated = append(b.Unallocated, o)
		delete(b.SequenceNumberForAllocation, strconv.Itoa(o))
	}
	used := map[int]bool{}
	for _, idx := range b.Allocations {
		if idx != nil {
			used[*idx] = true
		}
	}
	renum := make([]int, len(b.Attributes))
	var attrs []AllocationAttribute
	for i, a := range b.Attributes {
		if used[i] {
			renum[i] = len(attrs)
			attrs = append(attrs, a)
		}
	}
	if attrs == nil {
		attrs = []AllocationAttribute{}
	}
	b.Attributes = attrs
	for o, idx := range b.Allocations {
		if idx != nil {
			n := renum[*idx]
			b.Allocations[o] = &n
		}
	}
	b.SequenceNumber++
	return len(ords)
}

// inUse reports whether any address of the block is allocated.
func (b *AllocationBlock) inUse() bool {
	return slices.ContainsFunc(b.Allocations, func(p *int) bool { return p != nil })
}

// blocksOf lists the blocks of size blockSize that make up pool, in address order.
func blocksOf(pool netip.Prefix, blockSize int) ([]netip.Prefix, error) {
	pool = pool.Masked()
	if blockSize < pool.Bits() || blockSize > pool.Addr().BitLen() {
		return nil, fmt.Errorf("block size /%d does not fit pool %s", blockSize, pool)
	}
	shift := blockSize - pool.Bits()
	if shift > 20 {
		return nil, fmt.Errorf("pool %s has more than 2^20 blocks of /%d", pool, blockSize)
	}
	n := 1 << shift
	step := 1 << (pool.Addr().BitLen() - blockSize)
	out := make([]netip.Prefix, 0, n)
	for i := range n {
		out = append(out, netip.PrefixFrom(ordinalIP(pool, i*step), blockSize))
	}
	return out, nil
}
