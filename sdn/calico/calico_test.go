package calico_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apiv3 "github.com/projectcalico/api/pkg/apis/projectcalico/v3"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/sdn"
	"github.com/gantry-dev/gantry/sdn/calico"
)

// newProvider starts nothing: it opens a provider on the test's etcd.
func newProvider(t *testing.T, e *testenv.Etcd, opts calico.Options) *calico.Provider {
	t.Helper()
	opts.Endpoints = e.Endpoints
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	if opts.CNIPlugin == "" {
		opts.DisableCNI = true
	}
	p, err := calico.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// testWriter sends the provider's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// reader is an etcd client of its own, independent of the providers'.
func reader(t *testing.T, e *testenv.Etcd) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func get(t *testing.T, cli *clientv3.Client, key string) []byte {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		t.Fatalf("no key %s", key)
	}
	return resp.Kvs[0].Value
}

func keys(t *testing.T, cli *clientv3.Client, prefix string) []string {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key))
	}
	return out
}

func absent(t *testing.T, cli *clientv3.Client, key string) {
	t.Helper()
	resp, err := cli.Get(context.Background(), key, clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 0 {
		t.Errorf("key %s is still there", key)
	}
}

const (
	res  = "/calico/resources/v3/projectcalico.org/"
	ipam = "/calico/ipam/v2/"
)

// The provider's resources, read back with an independent client, decode strictly as
// Calico's v3 kinds with the right fields; endpoints get an address of their pool
// that Calico IPAM's block and handle record; detaching releases it; deleting a
// network removes everything of it.
func TestDatastore(t *testing.T) {
	e := testenv.StartEtcd(t)
	ctx := context.Background()
	p := newProvider(t, e, calico.Options{Nodes: map[string]string{"engine-b": "host-b.example"}})
	cli := reader(t, e)
	if !strings.Contains(p.Status(), "datastore only") {
		t.Errorf("status %q", p.Status())
	}

	appNet := sdn.Network{ID: "n1", Name: "app-web1", CIDR: netip.MustParsePrefix("10.240.1.0/24"), App: "web1",
		Labels: map[string]string{testenv.TestLabel: t.Name()}}
	shared := sdn.Network{ID: "n2", Name: "shared", CIDR: netip.MustParsePrefix("10.240.2.0/28")}
	for _, n := range []sdn.Network{appNet, shared, appNet} { // the second create of appNet is a no-op
		if err := p.CreateNetwork(ctx, n); err != nil {
			t.Fatalf("create %s: %v", n.Name, err)
		}
	}
	poolA, poolS := calico.PoolName(appNet.Name), calico.PoolName(shared.Name)

	// IPPool.
	t.Logf("%s:\n%s", res+"ippools/"+poolA, get(t, cli, res+"ippools/"+poolA))
	var pool apiv3.IPPool
	decodeStrict(t, res+"ippools/"+poolA, get(t, cli, res+"ippools/"+poolA), &pool)
	if pool.Kind != "IPPool" || pool.APIVersion != "projectcalico.org/v3" || pool.Name != poolA ||
		pool.UID == "" || pool.CreationTimestamp.IsZero() || pool.ResourceVersion != "" {
		t.Errorf("pool metadata %+v %+v", pool.TypeMeta, pool.ObjectMeta)
	}
	if s := pool.Spec; s.CIDR != "10.240.1.0/24" || s.BlockSize != 26 || s.IPIPMode != apiv3.IPIPModeNever ||
		s.VXLANMode != apiv3.VXLANModeNever || !s.NATOutgoing || s.Disabled || s.NodeSelector != "all()" ||
		!slices.Equal(s.AllowedUses, []apiv3.IPPoolAllowedUse{apiv3.IPPoolAllowedUseWorkload}) {
		t.Errorf("pool spec %+v", s)
	}
	if pool.Labels[testenv.TestLabel] == "" || pool.Labels["gantry.dev/app"] != "web1" || pool.Labels["gantry.dev/network"] != "app-web1" {
		t.Errorf("pool labels %v", pool.Labels)
	}
	var spool apiv3.IPPool
	decodeStrict(t, poolS, get(t, cli, res+"ippools/"+poolS), &spool)
	if spool.Spec.CIDR != "10.240.2.0/28" || spool.Spec.BlockSize != 28 {
		t.Errorf("a /28 network's pool: %+v (blocks never exceed the pool)", spool.Spec)
	}

	// Profile: in only from the network, the network's label on its endpoints.
	label := calico.NetworkLabel(appNet.Name)
	var prof apiv3.Profile
	decodeStrict(t, poolA, get(t, cli, res+"profiles/"+poolA), &prof)
	sel := "has(" + label + ")"
	if prof.Kind != "Profile" || prof.Name != poolA || prof.UID == "" ||
		len(prof.Spec.Ingress) != 1 || prof.Spec.Ingress[0].Action != apiv3.Allow || prof.Spec.Ingress[0].Source.Selector != sel ||
		len(prof.Spec.Egress) != 1 || prof.Spec.Egress[0].Action != apiv3.Allow ||
		len(prof.Spec.LabelsToApply) != 1 || prof.Spec.LabelsToApply[label] != "" {
		t.Errorf("profile %+v", prof)
	}

	// NetworkPolicy (namespaced) in the default tier, which exists.
	var pol apiv3.NetworkPolicy
	decodeStrict(t, poolA, get(t, cli, res+"networkpolicies/default/"+poolA), &pol)
	if pol.Kind != "NetworkPolicy" || pol.Name != poolA || pol.Namespace != "default" || pol.Spec.Tier != "default" ||
		pol.Spec.Order == nil || pol.Spec.Selector != sel || !slices.Equal(pol.Spec.Types, []apiv3.PolicyType{apiv3.PolicyTypeIngress}) ||
		len(pol.Spec.Ingress) != 1 || pol.Spec.Ingress[0].Action != apiv3.Allow || pol.Spec.Ingress[0].Source.Selector != sel {
		t.Errorf("policy %+v", pol)
	}
	if want := `{"name":"` + poolA + `"}`; pol.Annotations["projectcalico.org/metadata"] != want {
		t.Errorf("policy annotations %v (Calico's etcd backend keeps the name there)", pol.Annotations)
	}
	var tier apiv3.Tier
	decodeStrict(t, "tier", get(t, cli, res+"tiers/default"), &tier)
	if tier.Name != "default" || tier.Spec.Order == nil || *tier.Spec.Order != 1e6 || tier.Spec.DefaultAction == nil || *tier.Spec.DefaultAction != apiv3.Deny {
		t.Errorf("tier %+v", tier)
	}

	// Attach: c1 and c2 on the app network on two engines, c1 on the shared one too.
	attach := func(n sdn.Network, cid, host string) sdn.Attachment {
		t.Helper()
		a := sdn.Attachment{Network: n.Name, ContainerID: cid, Host: host, App: n.App, EntityID: "ent-" + cid[:min(8, len(cid))]}
		if err := p.Attach(ctx, n, &a); err != nil {
			t.Fatalf("attach %s to %s: %v", cid, n.Name, err)
		}
		if !n.CIDR.Contains(a.IP) {
			t.Fatalf("%s got %v, outside %s", cid, a.IP, n.CIDR)
		}
		return a
	}
	c1 := strings.Repeat("c1", 32) // 64 hex-like characters, as Docker's ids
	c2 := strings.Repeat("c2", 32)
	a1 := attach(appNet, c1, "engine-a")
	a2 := attach(appNet, c2, "engine-b")
	a1s := attach(shared, c1, "engine-a")
	if a1.IP == a2.IP {
		t.Fatalf("two containers got %v", a1.IP)
	}
	again := a1
	if err := p.Attach(ctx, appNet, &again); err != nil || again.IP != a1.IP {
		t.Fatalf("attaching again gave %v, %v; want %v", again.IP, err, a1.IP)
	}

	// WorkloadEndpoint of c1 on the app network.
	epA := calico.EndpointName(appNet.Name)
	wepName := "engine--a-cni-" + c1 + "-" + epA // Calico doubles dashes in each segment
	t.Logf("%s:\n%s", wepName, get(t, cli, res+"workloadendpoints/default/"+wepName))
	var wep calicoWorkloadEndpoint
	decodeStrict(t, wepName, get(t, cli, res+"workloadendpoints/default/"+wepName), &wep)
	if wep.Kind != "WorkloadEndpoint" || wep.APIVersion != "projectcalico.org/v3" || wep.Name != wepName || wep.Namespace != "default" || wep.UID == "" {
		t.Errorf("endpoint metadata %+v %+v", wep.TypeMeta, wep.ObjectMeta)
	}
	if s := wep.Spec; s.Orchestrator != "cni" || s.Node != "engine-a" || s.ContainerID != c1 || s.Endpoint != epA ||
		!slices.Equal(s.IPNetworks, []string{a1.IP.String() + "/32"}) || !slices.Equal(s.Profiles, []string{poolA}) ||
		!strings.HasPrefix(s.InterfaceName, "cali") || len(s.InterfaceName) != 15 {
		t.Errorf("endpoint spec %+v", s)
	}
	if l := wep.Labels; l["projectcalico.org/namespace"] != "default" || l["projectcalico.org/orchestrator"] != "cni" ||
		l["gantry.dev/app"] != "web1" || l["gantry.dev/entity"] != "ent-"+c1[:8] {
		t.Errorf("endpoint labels %v", l)
	}
	// c2's endpoint is on the configured node name of engine-b.
	w2 := "host--b.example-cni-" + c2 + "-" + epA
	var wep2 calicoWorkloadEndpoint
	decodeStrict(t, w2, get(t, cli, res+"workloadendpoints/default/"+w2), &wep2)
	if wep2.Spec.Node != "host-b.example" || wep2.Spec.IPNetworks[0] != a2.IP.String()+"/32" {
		t.Errorf("endpoint of c2: %+v", wep2.Spec)
	}
	// c1 on the shared network: another endpoint, its own address and profile.
	ws := "engine--a-cni-" + c1 + "-" + calico.EndpointName(shared.Name)
	var wepS calicoWorkloadEndpoint
	decodeStrict(t, ws, get(t, cli, res+"workloadendpoints/default/"+ws), &wepS)
	if wepS.Spec.IPNetworks[0] != a1s.IP.String()+"/32" || !slices.Equal(wepS.Spec.Profiles, []string{poolS}) {
		t.Errorf("shared endpoint %+v", wepS.Spec)
	}

	// IPAM: each node claimed a /26 block of the app pool; the block records the
	// allocation under the handle "<network>.<container>", which records the block.
	checkAllocation := func(a sdn.Attachment, pool, node string, blockBits int) {
		t.Helper()
		block := netip.PrefixFrom(a.IP, blockBits).Masked()
		bkey := ipam + "assignment/ipv4/block/" + strings.Replace(block.String(), "/", "-", 1)
		t.Logf("%s:\n%s", bkey, get(t, cli, bkey))
		var b calicoAllocationBlock
		decodeStrict(t, bkey, get(t, cli, bkey), &b)
		if b.CIDR != block.String() || b.Affinity == nil || *b.Affinity != "host:"+node || b.AffinityClaimTime == nil || b.Deleted {
			t.Errorf("block %s: cidr %s affinity %v", bkey, b.CIDR, b.Affinity)
		}
		size := 1 << (32 - blockBits)
		ord := int(a.IP.As4()[3]) - int(block.Addr().As4()[3])
		if len(b.Allocations) != size || b.Allocations[ord] == nil || slices.Contains(b.Unallocated, ord) {
			t.Fatalf("block %s: ordinal %d of %v not allocated: allocations %v unallocated %v", bkey, ord, a.IP, b.Allocations, b.Unallocated)
		}
		used := 0
		for _, x := range b.Allocations {
			if x != nil {
				used++
			}
		}
		if used+len(b.Unallocated) != size {
			t.Errorf("block %s: %d used + %d free != %d", bkey, used, len(b.Unallocated), size)
		}
		attr := b.Attributes[*b.Allocations[ord]]
		handle := pool + "." + a.ContainerID
		if attr.HandleID == nil || *attr.HandleID != handle || attr.ActiveOwnerAttrs["node"] != node || attr.ActiveOwnerAttrs["timestamp"] == "" {
			t.Errorf("block %s: attributes of %v: %+v", bkey, a.IP, attr)
		}
		if _, ok := b.SequenceNumberForAllocation[strconv.Itoa(ord)]; !ok {
			t.Errorf("block %s: no sequence number for ordinal %d", bkey, ord)
		}
		var h calicoIPAMHandle
		decodeStrict(t, handle, get(t, cli, ipam+"handle/"+handle), &h)
		if len(h.Block) != 1 || h.Block[block.String()] != 1 || h.Deleted {
			t.Errorf("handle %s: %+v", handle, h)
		}
		akey := ipam + "host/" + node + "/ipv4/block/" + strings.Replace(block.String(), "/", "-", 1)
		var aff calicoBlockAffinity
		decodeStrict(t, akey, get(t, cli, akey), &aff)
		if aff.State != "confirmed" || aff.Deleted {
			t.Errorf("affinity %s: %+v", akey, aff)
		}
	}
	checkAllocation(a1, poolA, "engine-a", 26)
	checkAllocation(a2, poolA, "host-b.example", 26)
	checkAllocation(a1s, poolS, "engine-a", 28)
	if netip.PrefixFrom(a1.IP, 26).Masked() == netip.PrefixFrom(a2.IP, 26).Masked() {
		t.Errorf("two nodes share block %v", netip.PrefixFrom(a1.IP, 26).Masked())
	}

	st, err := p.InspectNetwork(ctx, appNet)
	if err != nil || st.CIDR != appNet.CIDR || !slices.Equal(st.Containers, []string{c1, c2}) {
		t.Errorf("inspect: %+v, %v", st, err)
	}
	subnets, err := p.Subnets(ctx)
	if err != nil || len(subnets) != 2 {
		t.Errorf("subnets %v, %v", subnets, err)
	}

	// A network of the same name with another CIDR, or one overlapping a pool, is
	// refused.
	if err := p.CreateNetwork(ctx, sdn.Network{Name: "app-web1", CIDR: netip.MustParsePrefix("10.240.9.0/24")}); !errors.Is(err, sdn.ErrOverlap) {
		t.Errorf("same name, other cidr: %v", err)
	}
	if err := p.CreateNetwork(ctx, sdn.Network{Name: "other", CIDR: netip.MustParsePrefix("10.240.1.128/25")}); !errors.Is(err, sdn.ErrOverlap) {
		t.Errorf("overlap: %v", err)
	}
	absent(t, cli, res+"ippools/"+calico.PoolName("other"))
	if err := p.CreateNetwork(ctx, sdn.Network{Name: "v6", CIDR: netip.MustParsePrefix("fd00:1::/64")}); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("IPv6 network: %v", err)
	}
	// Attaching to a network that was never created.
	if err := p.Attach(ctx, sdn.Network{Name: "nope", CIDR: netip.MustParsePrefix("10.240.8.0/24")}, &sdn.Attachment{ContainerID: "x", Host: "h"}); !errors.Is(err, sdn.ErrNotFound) {
		t.Errorf("attach to a missing network: %v", err)
	}

	// In use: not deleted.
	if err := p.DeleteNetwork(ctx, appNet); !errors.Is(err, sdn.ErrInUse) {
		t.Fatalf("delete a network in use: %v", err)
	}
	get(t, cli, res+"ippools/"+poolA)

	// Detach releases the address: endpoint and handle gone, ordinal free again.
	if err := p.Detach(ctx, appNet, a1); err != nil {
		t.Fatal(err)
	}
	if err := p.Detach(ctx, appNet, a1); err != nil {
		t.Fatalf("detach twice: %v", err)
	}
	absent(t, cli, res+"workloadendpoints/default/"+wepName)
	absent(t, cli, ipam+"handle/"+poolA+"."+c1)
	block1 := netip.PrefixFrom(a1.IP, 26).Masked()
	bkey := ipam + "assignment/ipv4/block/" + strings.Replace(block1.String(), "/", "-", 1)
	var b calicoAllocationBlock
	decodeStrict(t, bkey, get(t, cli, bkey), &b)
	ord := int(a1.IP.As4()[3]) - int(block1.Addr().As4()[3])
	if b.Allocations[ord] != nil || !slices.Contains(b.Unallocated, ord) || len(b.Attributes) != 0 {
		t.Errorf("after detach, block %s: allocations %v unallocated %v attributes %v", block1, b.Allocations, b.Unallocated, b.Attributes)
	}
	// c1 keeps its shared-network address.
	checkAllocation(a1s, poolS, "engine-a", 28)

	// A new container on engine-a reuses engine-a's block.
	a3 := attach(appNet, "c3", "engine-a")
	if !block1.Contains(a3.IP) {
		t.Errorf("c3 got %v, not from engine-a's block %v", a3.IP, block1)
	}

	// Delete: everything of the network goes, the other network's stays.
	for _, a := range []sdn.Attachment{a2, a3} {
		if err := p.Detach(ctx, appNet, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.DeleteNetwork(ctx, appNet); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteNetwork(ctx, appNet); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	for _, k := range []string{res + "ippools/" + poolA, res + "profiles/" + poolA, res + "networkpolicies/default/" + poolA} {
		absent(t, cli, k)
	}
	for _, k := range append(keys(t, cli, ipam), keys(t, cli, res)...) {
		if strings.Contains(k, "10.240.1.") || strings.Contains(k, poolA+".") || strings.HasSuffix(k, "/"+poolA) {
			t.Errorf("key %s of the deleted network is left", k)
		}
	}
	get(t, cli, res+"ippools/"+poolS)
	get(t, cli, res+"workloadendpoints/default/"+ws)
	get(t, cli, res+"tiers/default")
}

// A pool runs out: a clear error wrapping sdn.ErrExhausted; after that, the node
// borrows from other nodes' blocks before giving up, as Calico does.
func TestExhaustedAndBorrowing(t *testing.T) {
	e := testenv.StartEtcd(t)
	ctx := context.Background()
	p := newProvider(t, e, calico.Options{BlockSize: 30})
	n := sdn.Network{Name: "tiny", CIDR: netip.MustParsePrefix("10.240.3.0/29")} // two /30 blocks
	if err := p.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]bool{}
	// node-a fills its block, then claims the second; node-b then borrows nothing
	// (both blocks are node-a's and full) and fails.
	for i := range 8 {
		a := sdn.Attachment{ContainerID: fmt.Sprintf("c%d", i), Host: "node-a"}
		if err := p.Attach(ctx, n, &a); err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
		if seen[a.IP] {
			t.Fatalf("%v handed out twice", a.IP)
		}
		seen[a.IP] = true
	}
	err := p.Attach(ctx, n, &sdn.Attachment{ContainerID: "c9", Host: "node-b"})
	if !errors.Is(err, sdn.ErrExhausted) || !strings.Contains(err.Error(), "10.240.3.0/29") {
		t.Fatalf("full pool: %v", err)
	}
	// One address freed in node-a's block: node-b borrows it.
	if err := p.Detach(ctx, n, sdn.Attachment{ContainerID: "c5", Host: "node-a"}); err != nil {
		t.Fatal(err)
	}
	b := sdn.Attachment{ContainerID: "c9", Host: "node-b"}
	if err := p.Attach(ctx, n, &b); err != nil {
		t.Fatalf("borrow: %v", err)
	}
	if !n.CIDR.Contains(b.IP) {
		t.Fatalf("borrowed %v", b.IP)
	}
}

// Two providers (two etcd clients, as two Gantry servers would have) allocate from
// one pool at once, for several nodes: no address is handed out twice, the blocks
// and handles add up, and releasing concurrently leaves the blocks empty.
func TestConcurrentAllocators(t *testing.T) {
	e := testenv.StartEtcd(t)
	ctx := context.Background()
	p1 := newProvider(t, e, calico.Options{BlockSize: 28})
	p2 := newProvider(t, e, calico.Options{BlockSize: 28})
	n := sdn.Network{Name: "busy", CIDR: netip.MustParsePrefix("10.240.4.0/25")} // 8 blocks of 16
	if err := p1.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := p2.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	const perWorker, workers = 15, 8 // 120 of the 128 addresses
	type result struct {
		a   sdn.Attachment
		err error
	}
	results := make(chan result, perWorker*workers)
	var wg sync.WaitGroup
	for w := range workers {
		p := p1
		if w%2 == 1 {
			p = p2
		}
		node := fmt.Sprintf("node-%d", w%3) // nodes shared by both providers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				a := sdn.Attachment{ContainerID: fmt.Sprintf("w%d-c%d", w, i), Host: node}
				err := p.Attach(ctx, n, &a)
				results <- result{a, err}
			}
		}()
	}
	wg.Wait()
	close(results)
	byIP := map[netip.Addr]string{}
	var all []sdn.Attachment
	for r := range results {
		if r.err != nil {
			t.Fatalf("attach %s: %v", r.a.ContainerID, r.err)
		}
		if other, dup := byIP[r.a.IP]; dup {
			t.Fatalf("%v handed out to %s and %s", r.a.IP, other, r.a.ContainerID)
		}
		if !n.CIDR.Contains(r.a.IP) {
			t.Fatalf("%v outside %s", r.a.IP, n.CIDR)
		}
		byIP[r.a.IP] = r.a.ContainerID
		all = append(all, r.a)
	}
	if len(byIP) != perWorker*workers {
		t.Fatalf("%d distinct addresses for %d attachments", len(byIP), perWorker*workers)
	}
	// The race was real: transactions were lost to the other writers and retried.
	conflicts := calico.IPAMConflicts(p1) + calico.IPAMConflicts(p2)
	t.Logf("%d IPAM transactions lost to a concurrent writer and retried", conflicts)
	if conflicts == 0 {
		t.Errorf("no allocation ever conflicted: the test did not exercise concurrent writes")
	}

	cli := reader(t, e)
	pool := calico.PoolName(n.Name)
	// The blocks agree with the attachments, address by address.
	owners := blockOwners(t, cli)
	if len(owners) != len(byIP) {
		t.Errorf("blocks record %d allocations, want %d", len(owners), len(byIP))
	}
	for ip, cid := range byIP {
		if owners[ip] != pool+"."+cid {
			t.Errorf("block says %v belongs to %q, want %s", ip, owners[ip], pool+"."+cid)
		}
	}
	if hs := keys(t, cli, ipam+"handle/"); len(hs) != len(byIP) {
		t.Errorf("%d handles for %d attachments", len(hs), len(byIP))
	}

	// Release everything at once, from both providers.
	var wg2 sync.WaitGroup
	errs := make(chan error, len(all))
	for i, a := range all {
		p := p1
		if i%2 == 1 {
			p = p2
		}
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			errs <- p.Detach(ctx, n, a)
		}()
	}
	wg2.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if left := blockOwners(t, cli); len(left) != 0 {
		t.Errorf("allocations left after detaching all: %v", left)
	}
	if hs := keys(t, cli, ipam+"handle/"); len(hs) != 0 {
		t.Errorf("handles left: %v", hs)
	}
	if err := p2.DeleteNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	if left := keys(t, cli, ipam); len(left) != 0 {
		t.Errorf("IPAM keys left after deleting the network: %v", left)
	}
}

// blockOwners maps every allocated address of every block to its handle, checking
// each block's bookkeeping on the way.
func blockOwners(t *testing.T, cli *clientv3.Client) map[netip.Addr]string {
	t.Helper()
	resp, err := cli.Get(context.Background(), ipam+"assignment/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[netip.Addr]string{}
	for _, kv := range resp.Kvs {
		var b calicoAllocationBlock
		decodeStrict(t, string(kv.Key), kv.Value, &b)
		bp := netip.MustParsePrefix(b.CIDR)
		free := map[int]bool{}
		for _, o := range b.Unallocated {
			if free[o] {
				t.Errorf("block %s: ordinal %d free twice", b.CIDR, o)
			}
			free[o] = true
		}
		for ord, idx := range b.Allocations {
			if (idx == nil) != free[ord] {
				t.Errorf("block %s: ordinal %d allocated=%v but free=%v", b.CIDR, ord, idx != nil, free[ord])
			}
			if idx == nil {
				continue
			}
			ip := bp.Addr()
			for range ord {
				ip = ip.Next()
			}
			out[ip] = *b.Attributes[*idx].HandleID
		}
	}
	return out
}

// The provider is registered as "calico" and reads its keys from the config.
func TestOpen(t *testing.T) {
	if !slices.Contains(sdn.Providers(), "calico") {
		t.Fatalf("providers %v", sdn.Providers())
	}
	ctx := context.Background()
	if _, err := sdn.Open(ctx, "calico", sdn.Config{}); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("no endpoints: %v", err)
	}
	if _, err := sdn.Open(ctx, "calico", sdn.Config{Options: map[string]any{
		calico.KeyEtcdEndpoints: "http://127.0.0.1:1", calico.KeyBlockSize: 33}}); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("block size 33: %v", err)
	}
	e := testenv.StartEtcd(t)
	p, err := sdn.Open(ctx, "calico", sdn.Config{Options: map[string]any{
		calico.KeyEtcdEndpoints: []any{e.Endpoint},
		calico.KeyBlockSize:     float64(27),
		calico.KeyNATOutgoing:   false,
		calico.KeyCNIPlugin:     "/nonexistent/calico",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cp := p.(*calico.Provider)
	if !strings.Contains(cp.Status(), "not installed at /nonexistent/calico") {
		t.Errorf("status %q", cp.Status())
	}
	n := sdn.Network{Name: "opened", CIDR: netip.MustParsePrefix("10.240.5.0/24")}
	if err := p.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	var pool apiv3.IPPool
	decodeStrict(t, "pool", get(t, reader(t, e), res+"ippools/"+calico.PoolName(n.Name)), &pool)
	if pool.Spec.BlockSize != 27 || pool.Spec.NATOutgoing {
		t.Errorf("pool spec %+v", pool.Spec)
	}
}
