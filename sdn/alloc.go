package sdn

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
)

// MaxSize is the longest prefix a network may have: a /30 holds the gateway and one
// container.
const MaxSize = 30

// Allocator hands out the subnets of a pool: each is a Size-bit prefix of Pool, the
// lowest one free, so that released subnets are reused before new ones are taken. It is a
// pure value (no I/O, no locking): its caller serialises its use, persists it (it
// marshals to JSON) or rebuilds it from the subnets it recorded (Reserve).
//
// Existing networks the allocator does not own (an engine's own networks, another
// server's) are given to Allocate and Reserve, which refuse to overlap them.
type Allocator struct {
	pool netip.Prefix
	size int
	used []netip.Prefix // sorted by address, not overlapping
}

// NewAllocator makes an allocator of subnets of size bits from pool. The pool must be an
// IPv4 prefix in private address space (RFC 1918: 10/8, 172.16/12, 192.168/16); a public
// pool is refused (Clocker's Calico default, 50.0.0.0/16, was public address space), as is
// a size shorter than the pool's or longer than MaxSize. Errors wrap ErrInvalid.
func NewAllocator(pool netip.Prefix, size int) (*Allocator, error) {
	if err := CheckPool(pool); err != nil {
		return nil, err
	}
	if size < pool.Bits() || size > MaxSize {
		return nil, fmt.Errorf("network size /%d: it must be between the pool's /%d and /%d (%s): %w", size, pool.Bits(), MaxSize, KeySize, ErrInvalid)
	}
	return &Allocator{pool: pool.Masked(), size: size}, nil
}

// ParsePool reads a pool as written in config ("10.240.0.0/12"); empty means DefaultPool.
func ParsePool(s string) (netip.Prefix, error) {
	if s == "" {
		return DefaultPool, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s %q: write a CIDR such as %s: %w", KeyPool, s, DefaultPool, ErrInvalid)
	}
	return p, nil
}

// CheckPool says why a prefix cannot be a pool (or a network's subnet): it must be IPv4,
// in private address space. Errors wrap ErrInvalid.
func CheckPool(p netip.Prefix) error {
	if !p.IsValid() || !p.Addr().Is4() {
		return fmt.Errorf("address pool %v: an IPv4 CIDR is needed: %w", p, ErrInvalid)
	}
	m := p.Masked()
	last := lastAddr(m)
	if !m.Addr().IsPrivate() || !last.IsPrivate() {
		return fmt.Errorf("address pool %s is not private address space: use a part of 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (default %s): %w", p, DefaultPool, ErrInvalid)
	}
	return nil
}

// Pool is the allocator's pool; Size the prefix length of its subnets.
func (a *Allocator) Pool() netip.Prefix { return a.pool }

// Size is the prefix length of the subnets it hands out.
func (a *Allocator) Size() int { return a.size }

// Used lists the subnets handed out or reserved, sorted.
func (a *Allocator) Used() []netip.Prefix { return slices.Clone(a.used) }

// Allocate takes the lowest free subnet of the pool that overlaps neither a subnet
// already handed out nor one of existing. A full pool is an error wrapping ErrExhausted.
func (a *Allocator) Allocate(existing ...netip.Prefix) (netip.Prefix, error) {
	blockers := append(slices.Clone(a.used), existing...)
	slices.SortFunc(blockers, comparePrefix)
	step := uint64(1) << (32 - a.size)
	end := u32(lastAddr(a.pool))
	for c := u32(a.pool.Addr()); c <= end; {
		cand := netip.PrefixFrom(addr(c), a.size)
		b, hit := firstOverlap(cand, blockers)
		if !hit {
			a.insert(cand)
			return cand, nil
		}
		// Jump past the blocker, to the next subnet boundary.
		next := max(c+step, (u32(lastAddr(b.Masked()))+1+step-1)/step*step)
		c = next
	}
	return netip.Prefix{}, fmt.Errorf("no free /%d in %s (%d subnets in use, %d other networks overlap it): widen %s or shrink %s: %w",
		a.size, a.pool, len(a.used), countOverlapping(a.pool, existing), KeyPool, KeySize, ErrExhausted)
}

// Reserve records p as in use: a subnet chosen by config (network.cidr) or one handed
// out before and persisted by the caller. p need not be in the pool (a configured subnet
// outside it is only checked), but it must be private and overlap neither what is in use
// nor existing; an overlap is an error wrapping ErrOverlap. Reserving a subnet already
// held exactly is not an error (rebuilding from records is idempotent).
func (a *Allocator) Reserve(p netip.Prefix, existing ...netip.Prefix) error {
	if err := CheckPool(p); err != nil {
		return err
	}
	p = p.Masked()
	if slices.Contains(a.used, p) {
		return nil
	}
	if b, hit := firstOverlap(p, a.used); hit {
		return fmt.Errorf("subnet %s overlaps %s, already in use: %w", p, b, ErrOverlap)
	}
	if b, hit := firstOverlap(p, existing); hit {
		return fmt.Errorf("subnet %s overlaps the existing network %s: %w", p, b, ErrOverlap)
	}
	if a.pool.Overlaps(p) {
		a.insert(p)
	}
	return nil
}

// Release gives p back to the pool; it reports whether p was in use.
func (a *Allocator) Release(p netip.Prefix) bool {
	i := slices.Index(a.used, p.Masked())
	if i < 0 {
		return false
	}
	a.used = slices.Delete(a.used, i, i+1)
	return true
}

type allocatorJSON struct {
	Pool netip.Prefix   `json:"pool"`
	Size int            `json:"size"`
	Used []netip.Prefix `json:"used,omitempty"`
}

// MarshalJSON writes {"pool": "10.240.0.0/12", "size": 24, "used": ["10.240.0.0/24"]}.
func (a *Allocator) MarshalJSON() ([]byte, error) {
	return json.Marshal(allocatorJSON{Pool: a.pool, Size: a.size, Used: a.used})
}

// UnmarshalJSON reads what MarshalJSON wrote, checking it as NewAllocator and Reserve do.
func (a *Allocator) UnmarshalJSON(b []byte) error {
	var j allocatorJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("allocator: %w: %w", ErrInvalid, err)
	}
	n, err := NewAllocator(j.Pool, j.Size)
	if err != nil {
		return err
	}
	for _, p := range j.Used {
		if err := n.Reserve(p); err != nil {
			return err
		}
	}
	*a = *n
	return nil
}

func (a *Allocator) insert(p netip.Prefix) {
	i, _ := slices.BinarySearchFunc(a.used, p, comparePrefix)
	a.used = slices.Insert(a.used, i, p)
}

// Overlapping returns the first of others that overlaps p.
func Overlapping(p netip.Prefix, others []netip.Prefix) (netip.Prefix, bool) {
	return firstOverlap(p, others)
}

func firstOverlap(p netip.Prefix, others []netip.Prefix) (netip.Prefix, bool) {
	for _, o := range others {
		if o.IsValid() && o.Addr().Is4() && o.Overlaps(p) {
			return o, true
		}
	}
	return netip.Prefix{}, false
}

func countOverlapping(p netip.Prefix, others []netip.Prefix) int {
	n := 0
	for _, o := range others {
		if o.IsValid() && o.Overlaps(p) {
			n++
		}
	}
	return n
}

func comparePrefix(x, y netip.Prefix) int {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c
	}
	return x.Bits() - y.Bits()
}

func u32(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func addr(v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	return addr(u32(p.Addr()) | (uint64(1)<<(32-p.Bits()) - 1))
}
