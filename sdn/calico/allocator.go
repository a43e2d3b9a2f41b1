package calico

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gantry-dev/gantry/sdn"
)

// errConflict means a transaction lost a race: read again and retry.
var errConflict = errors.New("datastore changed concurrently")

// maxAttempts bounds the read-modify-write retries of one IPAM operation.
const maxAttempts = 200

// ipam allocates and releases addresses of a pool in Calico IPAM's etcd keys. Every
// write is a transaction conditioned on the mod revisions of what was read (0 for a
// key that must not exist), so that concurrent allocators never hand out one address:
// a loser reads again and retries.
type ipam struct {
	kv clientv3.KV
	// conflicts counts the transactions lost to a concurrent writer (and retried).
	conflicts atomic.Int64
}

// versioned is a decoded value with the mod revision it was read at (0: missing).
type versioned[T any] struct {
	key string
	rev int64
	val *T
}

func getJSON[T any](ctx context.Context, kv clientv3.KV, key string) (versioned[T], error) {
	v := versioned[T]{key: key}
	resp, err := kv.Get(ctx, key)
	if err != nil {
		return v, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return v, nil
	}
	v.rev = resp.Kvs[0].ModRevision
	v.val = new(T)
	if err := json.Unmarshal(resp.Kvs[0].Value, v.val); err != nil {
		return v, fmt.Errorf("decode %s: %w", key, err)
	}
	return v, nil
}

// unchanged is the transaction condition that v is as it was read.
func (v versioned[T]) unchanged() clientv3.Cmp {
	return clientv3.Compare(clientv3.ModRevision(v.key), "=", v.rev)
}

func putJSON(key string, v any) (clientv3.Op, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return clientv3.Op{}, fmt.Errorf("encode %s: %w", key, err)
	}
	return clientv3.OpPut(key, string(b)), nil
}

// commit runs ops when every condition holds; errConflict when one does not.
func commit(ctx context.Context, kv clientv3.KV, conds []clientv3.Cmp, ops ...clientv3.Op) error {
	resp, err := kv.Txn(ctx).If(conds...).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("etcd transaction: %w", err)
	}
	if !resp.Succeeded {
		return errConflict
	}
	return nil
}

// pool is what allocation needs to know of an IPPool.
type pool struct {
	name      string
	cidr      netip.Prefix
	blockSize int
}

// assign gives handle one address of p for node and returns it, fresh. When handle
// already holds an address of p, that address is returned, not fresh (assign is
// idempotent).
func (m *ipam) assign(ctx context.Context, p pool, node, handle string) (ip netip.Addr, fresh bool, err error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		ip, fresh, err := m.tryAssign(ctx, p, node, handle)
		if errors.Is(err, errConflict) {
			m.conflicts.Add(1)
			// Someone else wrote first: back off a little (more each time) and
			// read again.
			time.Sleep(time.Duration(attempt%10) * time.Millisecond)
			continue
		}
		return ip, fresh, err
	}
	return netip.Addr{}, false, fmt.Errorf("assign an address of pool %s: still conflicting after %d attempts: %w", p.name, maxAttempts, errConflict)
}

func (m *ipam) tryAssign(ctx context.Context, p pool, node, handle string) (netip.Addr, bool, error) {
	h, err := getJSON[IPAMHandle](ctx, m.kv, handleKey(handle))
	if err != nil {
		return netip.Addr{}, false, err
	}
	// Already assigned? Find the address in the blocks the handle names.
	if h.val != nil {
		for cidr := range h.val.Block {
			bp, err := netip.ParsePrefix(cidr)
			if err != nil || !p.cidr.Overlaps(bp) {
				continue
			}
			b, err := getJSON[AllocationBlock](ctx, m.kv, blockKey(bp))
			if err != nil {
				return netip.Addr{}, false, err
			}
			if b.val != nil {
				if ords := b.val.ordinalsOf(handle); len(ords) > 0 {
					return ordinalIP(bp, ords[0]), false, nil
				}
			}
		}
	}
	attrs := map[string]string{
		AttributeNode:      node,
		AttributeTimestamp: time.Now().UTC().String(),
	}
	// The write of the handle that goes with an allocation in block bp.
	handleOps := func(bp netip.Prefix) (clientv3.Op, error) {
		nh := IPAMHandle{Block: map[string]int{}}
		if h.val != nil && h.val.Block != nil {
			nh.Block = h.val.Block
		}
		nh.Block[bp.String()]++
		return putJSON(handleKey(handle), nh)
	}
	// allocate takes an address of an existing block, if it has one free.
	allocate := func(b versioned[AllocationBlock]) (netip.Addr, bool, error) {
		bp, err := b.val.prefix()
		if err != nil {
			return netip.Addr{}, false, err
		}
		ord, ok := b.val.assign(handle, attrs)
		if !ok {
			return netip.Addr{}, false, nil
		}
		putBlock, err := putJSON(b.key, b.val)
		if err != nil {
			return netip.Addr{}, false, err
		}
		putHandle, err := handleOps(bp)
		if err != nil {
			return netip.Addr{}, false, err
		}
		if err := commit(ctx, m.kv, []clientv3.Cmp{b.unchanged(), h.unchanged()}, putBlock, putHandle); err != nil {
			return netip.Addr{}, false, err
		}
		return ordinalIP(bp, ord), true, nil
	}

	// 1. The node's own (affine) blocks of the pool.
	affine, err := m.affineBlocks(ctx, p, node)
	if err != nil {
		return netip.Addr{}, false, err
	}
	for _, bp := range affine {
		b, err := getJSON[AllocationBlock](ctx, m.kv, blockKey(bp))
		if err != nil {
			return netip.Addr{}, false, err
		}
		if b.val == nil {
			continue // an affinity left without its block: claim it again below
		}
		if ip, ok, err := allocate(b); err != nil || ok {
			return ip, ok, err
		}
	}

	// 2. Claim a free block of the pool for the node: block, affinity and handle in
	// one transaction, on condition that neither block nor affinity exists yet.
	existing, err := m.poolBlocks(ctx, p)
	if err != nil {
		return netip.Addr{}, false, err
	}
	all, err := blocksOf(p.cidr, p.blockSize)
	if err != nil {
		return netip.Addr{}, false, fmt.Errorf("pool %s: %w", p.name, sdn.ErrInvalid)
	}
	for _, bp := range all {
		if _, taken := existing[bp]; taken {
			continue
		}
		b := newBlock(bp, node, time.Now())
		ord, _ := b.assign(handle, attrs)
		putBlock, err := putJSON(blockKey(bp), b)
		if err != nil {
			return netip.Addr{}, false, err
		}
		putAff, err := putJSON(affinityKey(node, bp), BlockAffinity{State: "confirmed"})
		if err != nil {
			return netip.Addr{}, false, err
		}
		putHandle, err := handleOps(bp)
		if err != nil {
			return netip.Addr{}, false, err
		}
		conds := []clientv3.Cmp{
			clientv3.Compare(clientv3.Version(blockKey(bp)), "=", 0),
			clientv3.Compare(clientv3.Version(affinityKey(node, bp)), "=", 0),
			h.unchanged(),
		}
		if err := commit(ctx, m.kv, conds, putBlock, putAff, putHandle); err != nil {
			return netip.Addr{}, false, err
		}
		return ordinalIP(bp, ord), true, nil
	}

	// 3. Every block is claimed: borrow a free address from another node's block,
	// as Calico does unless IPAM's strict affinity is on.
	cfg, err := getJSON[IPAMConfig](ctx, m.kv, ipamConfigKey)
	if err != nil {
		return netip.Addr{}, false, err
	}
	if cfg.val == nil || !cfg.val.StrictAffinity {
		keys := make([]netip.Prefix, 0, len(existing))
		for bp := range existing {
			keys = append(keys, bp)
		}
		slices.SortFunc(keys, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		for _, bp := range keys {
			b := existing[bp]
			if len(b.val.Unallocated) == 0 {
				continue
			}
			if ip, ok, err := allocate(b); err != nil || ok {
				return ip, ok, err
			}
		}
	}
	return netip.Addr{}, false, fmt.Errorf("no free address in pool %s (%s): %w", p.name, p.cidr, sdn.ErrExhausted)
}

// affineBlocks lists the blocks of p affine to node, in address order.
func (m *ipam) affineBlocks(ctx context.Context, p pool, node string) ([]netip.Prefix, error) {
	prefix := affinityPrefix(node, ipVersion(p.cidr))
	resp, err := m.kv.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var out []netip.Prefix
	for _, kv := range resp.Kvs {
		if bp, ok := parseCIDRKeyPart(string(kv.Key)); ok && p.cidr.Contains(bp.Addr()) {
			out = append(out, bp)
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out, nil
}

// poolBlocks reads every block inside p.
func (m *ipam) poolBlocks(ctx context.Context, p pool) (map[netip.Prefix]versioned[AllocationBlock], error) {
	prefix := blockPrefix(ipVersion(p.cidr))
	resp, err := m.kv.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := map[netip.Prefix]versioned[AllocationBlock]{}
	for _, kv := range resp.Kvs {
		bp, ok := parseCIDRKeyPart(string(kv.Key))
		if !ok || !p.cidr.Contains(bp.Addr()) {
			continue
		}
		b := versioned[AllocationBlock]{key: string(kv.Key), rev: kv.ModRevision, val: new(AllocationBlock)}
		if err := json.Unmarshal(kv.Value, b.val); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out[bp] = b
	}
	return out, nil
}

// release frees every address handle holds and deletes the handle. Releasing a
// handle that holds nothing (or does not exist) is not an error.
func (m *ipam) release(ctx context.Context, handle string) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err := m.tryRelease(ctx, handle)
		if errors.Is(err, errConflict) {
			m.conflicts.Add(1)
			time.Sleep(time.Duration(attempt%10) * time.Millisecond)
			continue
		}
		return err
	}
	return fmt.Errorf("release handle %s: still conflicting after %d attempts: %w", handle, maxAttempts, errConflict)
}

// tryRelease releases one block's addresses of handle per transaction (with the
// handle's count for that block), then deletes the emptied handle.
func (m *ipam) tryRelease(ctx context.Context, handle string) error {
	h, err := getJSON[IPAMHandle](ctx, m.kv, handleKey(handle))
	if err != nil || h.val == nil {
		return err
	}
	for cidr := range h.val.Block {
		bp, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("handle %s names block %q: %w", handle, cidr, sdn.ErrInvalid)
		}
		b, err := getJSON[AllocationBlock](ctx, m.kv, blockKey(bp))
		if err != nil {
			return err
		}
		nh := IPAMHandle{Block: map[string]int{}}
		for k, v := range h.val.Block {
			if k != cidr {
				nh.Block[k] = v
			}
		}
		var ops []clientv3.Op
		if b.val != nil && b.val.releaseHandle(handle) > 0 {
			op, err := putJSON(b.key, b.val)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		if len(nh.Block) == 0 {
			ops = append(ops, clientv3.OpDelete(h.key))
		} else {
			op, err := putJSON(h.key, nh)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		// One block at a time: the handle's next state is read again.
		return commit(ctx, m.kv, []clientv3.Cmp{b.unchanged(), h.unchanged()}, ops...)
	}
	// A handle with no block left.
	return commit(ctx, m.kv, []clientv3.Cmp{h.unchanged()}, clientv3.OpDelete(h.key))
}

// releasePool deletes every block of the pool with its affinities (whoever holds them)
// and every handle of the pool's network. Used when the network is deleted, once no
// endpoint is left on it.
func (m *ipam) releasePool(ctx context.Context, p pool) error {
	blocks, err := m.poolBlocks(ctx, p)
	if err != nil {
		return err
	}
	for bp := range blocks {
		if _, err := m.kv.Delete(ctx, blockKey(bp)); err != nil {
			return fmt.Errorf("delete block %s: %w", bp, err)
		}
	}
	// Affinities: /calico/ipam/v2/host/<node>/ipvN/block/<cidr> for any node.
	resp, err := m.kv.Get(ctx, IPAMPrefix+"host/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return fmt.Errorf("list block affinities: %w", err)
	}
	for _, kv := range resp.Kvs {
		if bp, ok := parseCIDRKeyPart(string(kv.Key)); ok && p.cidr.Contains(bp.Addr()) {
			if _, err := m.kv.Delete(ctx, string(kv.Key)); err != nil {
				return fmt.Errorf("delete affinity %s: %w", kv.Key, err)
			}
		}
	}
	// Handles of the network: "<pool>.<container>" (a handle of another network
	// can share that prefix when names contain dots: only those whose blocks all lie
	// in the pool go).
	hresp, err := m.kv.Get(ctx, handleKey(p.name+"."), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("list handles of %s: %w", p.name, err)
	}
	for _, kv := range hresp.Kvs {
		var h IPAMHandle
		if err := json.Unmarshal(kv.Value, &h); err != nil {
			continue // not a handle of ours
		}
		ours := true
		for cidr := range h.Block {
			if bp, err := netip.ParsePrefix(cidr); err != nil || !p.cidr.Contains(bp.Addr()) {
				ours = false
			}
		}
		if !ours {
			continue
		}
		if _, err := m.kv.Delete(ctx, string(kv.Key)); err != nil {
			return fmt.Errorf("delete handle %s: %w", kv.Key, err)
		}
	}
	return nil
}
