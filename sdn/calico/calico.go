package calico

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sdn"
)

// Name is the provider's registered name.
const Name = "calico"

func init() {
	sdn.Register(Name, func(ctx context.Context, cfg sdn.Config) (sdn.Provider, error) {
		opts, err := ParseOptions(cfg)
		if err != nil {
			return nil, err
		}
		return New(ctx, opts)
	})
}

// Config keys of the provider (in sdn.Config.Options).
const (
	// KeyEtcdEndpoints lists the client URLs of Calico's etcd (a list, or a
	// comma-separated string). Required.
	KeyEtcdEndpoints = "sdn.calico.etcd.endpoints"
	// KeyEtcdCA, KeyEtcdCert and KeyEtcdKey are PEM files for etcd over TLS (the CA
	// that signed the servers, the client certificate and its key).
	KeyEtcdCA   = "sdn.calico.etcd.ca"
	KeyEtcdCert = "sdn.calico.etcd.cert"
	KeyEtcdKey  = "sdn.calico.etcd.key"
	// KeyBlockSize is the prefix length of the pools' IPAM blocks (default 26, never
	// larger than a network).
	KeyBlockSize = "sdn.calico.blockSize"
	// KeyNATOutgoing turns on outgoing NAT of the pools (default true).
	KeyNATOutgoing = "sdn.calico.natOutgoing"
	// KeyIPIPMode and KeyVXLANMode are the pools' encapsulation: Never (default),
	// Always or CrossSubnet.
	KeyIPIPMode  = "sdn.calico.ipipMode"
	KeyVXLANMode = "sdn.calico.vxlanMode"
	// KeyNodes maps host (location) ids to Calico node names (the hostnames
	// calico-node runs as); a host not listed uses NodeName(id).
	KeyNodes = "sdn.calico.nodes"
	// KeyCNIPlugin is Calico's CNI plugin (default DefaultCNIPlugin); KeyCNIPath the
	// directories of CNI plugins (default its directory).
	KeyCNIPlugin = "sdn.calico.cni.plugin"
	KeyCNIPath   = "sdn.calico.cni.path"
)

// Defaults.
const (
	DefaultBlockSize = 26
	DefaultCNIPlugin = "/opt/cni/bin/calico"
)

// Options configure a Provider.
type Options struct {
	// Endpoints are etcd's client URLs; TLS, when set, is used to reach them.
	Endpoints []string
	TLS       *tls.Config
	// BlockSize of the pools' IPAM blocks (0: DefaultBlockSize).
	BlockSize int
	// DisableNATOutgoing turns off the pools' outgoing NAT (on by default).
	DisableNATOutgoing bool
	// IPIPMode and VXLANMode of the pools ("": Never).
	IPIPMode, VXLANMode string
	// Nodes maps host ids to Calico node names.
	Nodes map[string]string
	// Hosts are the locations containers run on (for NetnsHost, in CNI mode).
	Hosts []locations.Location
	// CNIPlugin is the path of Calico's CNI plugin ("": DefaultCNIPlugin); CNIPath
	// the CNI_PATH given to it ("": the plugin's directory). DisableCNI writes the
	// datastore only even where the plugin is installed.
	CNIPlugin  string
	CNIPath    string
	DisableCNI bool
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// NetnsHost is implemented by host locations that can tell the network namespace of a
// container running on this machine (for example "/proc/<pid>/ns/net"), which Calico's
// CNI plugin needs to plumb an interface into it.
type NetnsHost interface {
	ContainerNetns(ctx context.Context, containerID string) (string, error)
}

// ParseOptions reads the provider's keys from cfg.
func ParseOptions(cfg sdn.Config) (Options, error) {
	o := Options{Hosts: cfg.Hosts, BlockSize: DefaultBlockSize}
	get := func(k string) (any, bool) {
		v, ok := cfg.Options[k]
		return v, ok && v != nil
	}
	if v, ok := get(KeyEtcdEndpoints); ok {
		switch x := v.(type) {
		case string:
			for _, e := range strings.Split(x, ",") {
				if e = strings.TrimSpace(e); e != "" {
					o.Endpoints = append(o.Endpoints, e)
				}
			}
		case []string:
			o.Endpoints = slices.Clone(x)
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return o, fmt.Errorf("%s: %v is not a URL: %w", KeyEtcdEndpoints, e, sdn.ErrInvalid)
				}
				o.Endpoints = append(o.Endpoints, s)
			}
		default:
			return o, fmt.Errorf("%s: want a list of URLs, got %T: %w", KeyEtcdEndpoints, v, sdn.ErrInvalid)
		}
	}
	if len(o.Endpoints) == 0 {
		return o, fmt.Errorf("the calico provider needs Calico's etcd: set %s: %w", KeyEtcdEndpoints, sdn.ErrInvalid)
	}
	str := func(k string) (string, error) {
		v, ok := get(k)
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s: want a string, got %T: %w", k, v, sdn.ErrInvalid)
		}
		return s, nil
	}
	var err error
	var ca, cert, key string
	for k, p := range map[string]*string{KeyEtcdCA: &ca, KeyEtcdCert: &cert, KeyEtcdKey: &key,
		KeyIPIPMode: &o.IPIPMode, KeyVXLANMode: &o.VXLANMode, KeyCNIPlugin: &o.CNIPlugin, KeyCNIPath: &o.CNIPath} {
		if *p, err = str(k); err != nil {
			return o, err
		}
	}
	if ca != "" || cert != "" || key != "" {
		if o.TLS, err = tlsConfig(ca, cert, key); err != nil {
			return o, err
		}
	}
	if v, ok := get(KeyBlockSize); ok {
		n, err := toInt(v)
		if err != nil {
			return o, fmt.Errorf("%s: %v: %w", KeyBlockSize, err, sdn.ErrInvalid)
		}
		o.BlockSize = n
	}
	if v, ok := get(KeyNATOutgoing); ok {
		switch x := v.(type) {
		case bool:
			o.DisableNATOutgoing = !x
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return o, fmt.Errorf("%s: %q: %w", KeyNATOutgoing, x, sdn.ErrInvalid)
			}
			o.DisableNATOutgoing = !b
		default:
			return o, fmt.Errorf("%s: want a boolean, got %T: %w", KeyNATOutgoing, v, sdn.ErrInvalid)
		}
	}
	if v, ok := get(KeyNodes); ok {
		o.Nodes = map[string]string{}
		switch x := v.(type) {
		case map[string]string:
			maps.Copy(o.Nodes, x)
		case map[string]any:
			for h, n := range x {
				s, ok := n.(string)
				if !ok {
					return o, fmt.Errorf("%s: node of %s is %T, not a string: %w", KeyNodes, h, n, sdn.ErrInvalid)
				}
				o.Nodes[h] = s
			}
		default:
			return o, fmt.Errorf("%s: want a map of host id to node name, got %T: %w", KeyNodes, v, sdn.ErrInvalid)
		}
	}
	return o, o.validate()
}

func (o *Options) validate() error {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockSize < 20 || o.BlockSize > 32 {
		return fmt.Errorf("%s: /%d is outside /20../32 (Calico's range for IPv4): %w", KeyBlockSize, o.BlockSize, sdn.ErrInvalid)
	}
	for k, m := range map[string]*string{KeyIPIPMode: &o.IPIPMode, KeyVXLANMode: &o.VXLANMode} {
		if *m == "" {
			*m = "Never"
		}
		if !slices.Contains([]string{"Never", "Always", "CrossSubnet"}, *m) {
			return fmt.Errorf("%s: %q is not Never, Always or CrossSubnet: %w", k, *m, sdn.ErrInvalid)
		}
	}
	if o.IPIPMode != "Never" && o.VXLANMode != "Never" {
		return fmt.Errorf("a pool has IP-in-IP or VXLAN, not both: %w", sdn.ErrInvalid)
	}
	for h, n := range o.Nodes {
		if !nameRE.MatchString(n) {
			return fmt.Errorf("%s: node name %q of host %s is not a valid Calico node name: %w", KeyNodes, n, h, sdn.ErrInvalid)
		}
	}
	return nil
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != float64(int(x)) {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int(x), nil
	case string:
		return strconv.Atoi(strings.TrimPrefix(x, "/"))
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

func tlsConfig(ca, cert, key string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEtcdCA, err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate in %s: %w", KeyEtcdCA, ca, sdn.ErrInvalid)
		}
	}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %v: %w", KeyEtcdCert, KeyEtcdKey, err, sdn.ErrInvalid)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Provider writes Gantry's networks to Calico's etcd datastore. It is safe for
// concurrent use, and several providers (in one server or several) may share one
// datastore.
type Provider struct {
	opts   Options
	cli    *clientv3.Client
	kv     clientv3.KV
	ipam   *ipam
	hosts  map[string]locations.Location
	cni    string // Calico's CNI plugin, "" when it is not used
	status string
	log    *slog.Logger
}

// New connects to Calico's etcd and returns a provider. It does not write anything
// until a network is created.
func New(ctx context.Context, opts Options) (*Provider, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(opts.Endpoints) == 0 {
		return nil, fmt.Errorf("the calico provider needs Calico's etcd: set %s: %w", KeyEtcdEndpoints, sdn.ErrInvalid)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("sdn", Name)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: opts.Endpoints, TLS: opts.TLS, DialTimeout: 5 * time.Second, Context: context.WithoutCancel(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Calico's etcd %v: %w", opts.Endpoints, err)
	}
	// Fail now, not at the first network, when etcd does not answer.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Get(pctx, "/calico/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("reach Calico's etcd %v: %w: %w", opts.Endpoints, err, locations.ErrUnavailable)
	}
	p := &Provider{opts: opts, cli: cli, kv: cli.KV, ipam: &ipam{kv: cli.KV}, hosts: map[string]locations.Location{}, log: log}
	for _, h := range opts.Hosts {
		p.hosts[h.ID()] = h
	}
	plugin := opts.CNIPlugin
	if plugin == "" {
		plugin = DefaultCNIPlugin
	}
	switch fi, err := os.Stat(plugin); {
	case opts.DisableCNI:
		p.status = "datastore only (CNI disabled): Calico resources and IPAM are written to etcd; containers get no Calico interface"
	case err != nil || !fi.Mode().IsRegular():
		p.status = fmt.Sprintf("datastore only: Calico's CNI plugin is not installed at %s, so containers get no Calico interface; "+
			"pools, profiles, policies, endpoints and IPAM are written to etcd, and routing and policy need calico-node on the hosts", plugin)
	default:
		p.cni = plugin
		p.status = fmt.Sprintf("CNI: containers on hosts that tell their network namespace are attached through %s; "+
			"routing and policy need calico-node on the hosts", plugin)
	}
	log.Info("calico provider ready", "etcd", opts.Endpoints, "status", p.status)
	return p, nil
}

// Name is "calico".
func (p *Provider) Name() string { return Name }

// Status says how containers are attached: through Calico's CNI plugin, or by writing
// the datastore only (the plugin is not installed).
func (p *Provider) Status() string { return p.status }

// Close closes the etcd connection.
func (p *Provider) Close() error { return p.cli.Close() }

// node is the Calico node name of a host.
func (p *Provider) node(host string) string {
	if n, ok := p.opts.Nodes[host]; ok {
		return n
	}
	return NodeName(host)
}

// labels are the metadata labels of what is written for n: the network's own (the
// valid ones) and Gantry's.
func labels(n sdn.Network) map[string]string {
	out := map[string]string{}
	for k, v := range n.Labels {
		if validLabelKey(k) {
			out[k] = labelValue(v)
		}
	}
	out[LabelManaged] = "gantry"
	out[LabelNetwork] = labelValue(n.Name)
	if n.App != "" {
		out[LabelApp] = labelValue(n.App)
	}
	return out
}

func (p *Provider) poolOf(n sdn.Network) (pool, error) {
	if n.Name == "" || !n.CIDR.IsValid() {
		return pool{}, fmt.Errorf("network %q: a name and a CIDR are needed: %w", n.Name, sdn.ErrInvalid)
	}
	if !n.CIDR.Addr().Is4() {
		return pool{}, fmt.Errorf("network %s: %s is not IPv4 (Gantry's networks are private IPv4 subnets): %w", n.Name, n.CIDR, sdn.ErrInvalid)
	}
	bs := max(p.opts.BlockSize, n.CIDR.Bits())
	return pool{name: PoolName(n.Name), cidr: n.CIDR.Masked(), blockSize: bs}, nil
}

// desired returns the resources of network n.
func (p *Provider) desired(n sdn.Network, pl pool) (IPPool, Profile, NetworkPolicy) {
	ls := labels(n)
	netLabel := NetworkLabel(n.Name)
	sameNetwork := fmt.Sprintf("has(%s)", netLabel)
	ippool := IPPool{
		TypeMeta: TypeMeta{Kind: KindIPPool, APIVersion: APIVersion},
		Metadata: newMeta(pl.name, "", ls),
		Spec: IPPoolSpec{
			CIDR: pl.cidr.String(), BlockSize: pl.blockSize,
			IPIPMode: p.opts.IPIPMode, VXLANMode: p.opts.VXLANMode, NATOutgoing: !p.opts.DisableNATOutgoing,
			NodeSelector: "all()", AllowedUses: []string{"Workload"},
		},
	}
	// As Calico's CNI plugin makes a network's profile outside Kubernetes: in only
	// from the network, out anywhere, and the network's label on its endpoints.
	profile := Profile{
		TypeMeta: TypeMeta{Kind: KindProfile, APIVersion: APIVersion},
		Metadata: newMeta(pl.name, "", ls),
		Spec: ProfileSpec{
			Ingress:       []Rule{{Action: "Allow", Source: EntityRule{Selector: sameNetwork}}},
			Egress:        []Rule{{Action: "Allow"}},
			LabelsToApply: map[string]string{netLabel: ""},
		},
	}
	order := 1000.0
	policy := NetworkPolicy{
		TypeMeta: TypeMeta{Kind: KindNetworkPolicy, APIVersion: APIVersion},
		Metadata: newMeta(pl.name, Namespace, ls),
		Spec: NetworkPolicySpec{
			Tier: DefaultTier, Order: &order, Selector: sameNetwork, Types: []string{"Ingress"},
			Ingress: []Rule{{Action: "Allow", Source: EntityRule{Selector: sameNetwork}}},
		},
	}
	meta, _ := json.Marshal(map[string]string{"name": pl.name})
	policy.Metadata.Annotations = map[string]string{annotationMetadata: string(meta)}
	return ippool, profile, policy
}

// CreateNetwork writes n's IPPool, Profile and NetworkPolicy (and the default tier when
// there is none). A pool of that name with another CIDR, or another pool overlapping
// n's CIDR, is an error wrapping sdn.ErrOverlap; nothing is written then.
func (p *Provider) CreateNetwork(ctx context.Context, n sdn.Network) error {
	pl, err := p.poolOf(n)
	if err != nil {
		return err
	}
	resp, err := p.kv.Get(ctx, ResourcePrefix+"ippools/", clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("list IP pools: %w", err)
	}
	for _, kv := range resp.Kvs {
		var other IPPool
		if err := json.Unmarshal(kv.Value, &other); err != nil {
			return fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		oc, err := netip.ParsePrefix(other.Spec.CIDR)
		if err != nil {
			continue
		}
		if other.Metadata.Name == pl.name {
			if oc.Masked() != pl.cidr {
				return fmt.Errorf("network %s exists in Calico with %s, not %s: %w", n.Name, oc, pl.cidr, sdn.ErrOverlap)
			}
			continue
		}
		if oc.Overlaps(pl.cidr) {
			return fmt.Errorf("network %s: %s overlaps Calico IP pool %s (%s): %w", n.Name, pl.cidr, other.Metadata.Name, oc, sdn.ErrOverlap)
		}
	}
	ippool, profile, policy := p.desired(n, pl)
	order := DefaultTierOrder
	tier := Tier{
		TypeMeta: TypeMeta{Kind: KindTier, APIVersion: APIVersion},
		Metadata: newMeta(DefaultTier, "", nil),
		Spec:     TierSpec{Order: &order, DefaultAction: "Deny"},
	}
	if err := createIfMissing(ctx, p.kv, tierKey(DefaultTier), tier); err != nil {
		return err
	}
	if err := createIfMissing(ctx, p.kv, poolKey(pl.name), ippool); err != nil {
		return err
	}
	if err := upsert(ctx, p.kv, profileKey(pl.name), &profile, func(old *Profile) { profile.Metadata.keep(old.Metadata) }); err != nil {
		return err
	}
	if err := upsert(ctx, p.kv, policyKey(Namespace, pl.name), &policy, func(old *NetworkPolicy) { policy.Metadata.keep(old.Metadata) }); err != nil {
		return err
	}
	p.log.Info("calico network created", "network", n.Name, "pool", pl.name, "cidr", pl.cidr, "blockSize", pl.blockSize)
	return nil
}

// keep keeps the identity (uid, creation time) of what was stored.
func (m *ObjectMeta) keep(old ObjectMeta) {
	if old.UID != "" {
		m.UID = old.UID
	}
	if old.CreationTimestamp != "" {
		m.CreationTimestamp = old.CreationTimestamp
	}
}

// createIfMissing writes v at key unless the key exists.
func createIfMissing(ctx context.Context, kv clientv3.KV, key string, v any) error {
	op, err := putJSON(key, v)
	if err != nil {
		return err
	}
	if _, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.Version(key), "=", 0)).Then(op).Commit(); err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

// upsert writes v at key, first letting keep copy what must survive from the stored
// value; the write is conditioned on the stored value not having changed meanwhile.
func upsert[T any](ctx context.Context, kv clientv3.KV, key string, v *T, keep func(old *T)) error {
	for range maxAttempts {
		old, err := getJSON[T](ctx, kv, key)
		if err != nil {
			return err
		}
		if old.val != nil {
			keep(old.val)
		}
		op, err := putJSON(key, v)
		if err != nil {
			return err
		}
		err = commit(ctx, kv, []clientv3.Cmp{old.unchanged()}, op)
		if !errors.Is(err, errConflict) {
			return err
		}
	}
	return fmt.Errorf("write %s: %w", key, errConflict)
}

// endpoints lists the workload endpoints on network n (by profile).
func (p *Provider) endpoints(ctx context.Context, pl pool) ([]WorkloadEndpoint, error) {
	prefix := ResourcePrefix + "workloadendpoints/"
	resp, err := p.kv.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list workload endpoints: %w", err)
	}
	var out []WorkloadEndpoint
	for _, kv := range resp.Kvs {
		var w WorkloadEndpoint
		if err := json.Unmarshal(kv.Value, &w); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		if slices.Contains(w.Spec.Profiles, pl.name) {
			out = append(out, w)
		}
	}
	return out, nil
}

// DeleteNetwork removes n's blocks, affinities and handles, its policy, profile and
// pool. While endpoints remain on n the error wraps sdn.ErrInUse and nothing is removed.
// A missing network is not an error.
func (p *Provider) DeleteNetwork(ctx context.Context, n sdn.Network) error {
	pl, err := p.poolOf(n)
	if err != nil {
		return err
	}
	eps, err := p.endpoints(ctx, pl)
	if err != nil {
		return err
	}
	if len(eps) > 0 {
		var ids []string
		for _, w := range eps {
			ids = append(ids, w.Spec.ContainerID)
		}
		return fmt.Errorf("network %s has %d containers attached (%s): %w", n.Name, len(ids), strings.Join(ids, ", "), sdn.ErrInUse)
	}
	// The pool's stored CIDR decides what IPAM state is the network's.
	if stored, err := getJSON[IPPool](ctx, p.kv, poolKey(pl.name)); err != nil {
		return err
	} else if stored.val != nil {
		if c, err := netip.ParsePrefix(stored.val.Spec.CIDR); err == nil {
			pl.cidr = c.Masked()
		}
	}
	if err := p.ipam.releasePool(ctx, pl); err != nil {
		return err
	}
	for _, key := range []string{policyKey(Namespace, pl.name), profileKey(pl.name), poolKey(pl.name)} {
		if _, err := p.kv.Delete(ctx, key); err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
	}
	p.log.Info("calico network deleted", "network", n.Name, "pool", pl.name)
	return nil
}

// storedPool reads n's pool: allocation follows what is stored (its CIDR and block
// size), and a network that was never created is an error wrapping sdn.ErrNotFound.
func (p *Provider) storedPool(ctx context.Context, n sdn.Network) (pool, error) {
	pl, err := p.poolOf(n)
	if err != nil {
		return pl, err
	}
	stored, err := getJSON[IPPool](ctx, p.kv, poolKey(pl.name))
	if err != nil {
		return pl, err
	}
	if stored.val == nil {
		return pl, fmt.Errorf("network %s: no Calico IP pool %s: %w", n.Name, pl.name, sdn.ErrNotFound)
	}
	c, err := netip.ParsePrefix(stored.val.Spec.CIDR)
	if err != nil {
		return pl, fmt.Errorf("IP pool %s: cidr %q: %w", pl.name, stored.val.Spec.CIDR, sdn.ErrInvalid)
	}
	pl.cidr = c.Masked()
	if stored.val.Spec.BlockSize != 0 {
		pl.blockSize = stored.val.Spec.BlockSize
	}
	return pl, nil
}

// Attach gives the container an address of n from Calico IPAM and writes its workload
// endpoint; or, in CNI mode on a host that tells the container's network namespace,
// runs Calico's CNI plugin, which does both and plumbs the interface. It fills a.IP.
// Attaching an attached container returns its address.
func (p *Provider) Attach(ctx context.Context, n sdn.Network, a *sdn.Attachment) error {
	if a.ContainerID == "" || a.Host == "" {
		return fmt.Errorf("attach to %s: a container id and a host are needed: %w", n.Name, sdn.ErrInvalid)
	}
	pl, err := p.storedPool(ctx, n)
	if err != nil {
		return err
	}
	node := p.node(a.Host)
	endpoint := EndpointName(n.Name)
	name, err := WorkloadEndpointName(node, a.ContainerID, endpoint)
	if err != nil {
		return fmt.Errorf("attach %s to %s: %v: %w", a.ContainerID, n.Name, err, sdn.ErrInvalid)
	}
	if netns := p.netns(ctx, *a); netns != "" {
		ip, err := p.cniAdd(ctx, pl, node, a.ContainerID, netns, endpoint)
		if err != nil {
			return fmt.Errorf("attach %s to %s with Calico's CNI plugin: %w", a.ContainerID, n.Name, err)
		}
		a.IP = ip
		p.labelEndpoint(ctx, n, *a, node)
		p.log.Info("attached with Calico's CNI plugin", "network", n.Name, "container", a.ContainerID, "ip", ip)
		return nil
	}
	handle := handleID(pl.name, a.ContainerID)
	ip, fresh, err := p.ipam.assign(ctx, pl, node, handle)
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", a.ContainerID, n.Name, err)
	}
	ls := map[string]string{
		LabelNamespace:    Namespace,
		LabelOrchestrator: Orchestrator,
		LabelManaged:      "gantry",
		LabelNetwork:      labelValue(n.Name),
	}
	if a.App != "" {
		ls[LabelApp] = labelValue(a.App)
	}
	if a.EntityID != "" {
		ls[LabelEntity] = labelValue(a.EntityID)
	}
	wep := WorkloadEndpoint{
		TypeMeta: TypeMeta{Kind: KindWorkloadEndpoint, APIVersion: APIVersion},
		Metadata: newMeta(name, Namespace, ls),
		Spec: WorkloadEndpointSpec{
			Orchestrator: Orchestrator, Node: node, ContainerID: a.ContainerID, Endpoint: endpoint,
			IPNetworks: []string{hostPrefix(ip)}, Profiles: []string{pl.name},
			InterfaceName: hostInterfaceName(a.ContainerID, endpoint),
		},
	}
	if a.EntityID != "" {
		wep.Spec.Workload = calicoName(a.EntityID)
	}
	if err := upsert(ctx, p.kv, wepKey(Namespace, name), &wep, func(old *WorkloadEndpoint) {
		wep.Metadata.keep(old.Metadata)
		wep.Spec.MAC = old.Spec.MAC
	}); err != nil {
		if fresh {
			// Do not keep an address nobody will release.
			p.ipam.release(context.WithoutCancel(ctx), handle)
		}
		return fmt.Errorf("attach %s to %s: %w", a.ContainerID, n.Name, err)
	}
	a.IP = ip
	p.log.Info("attached in the datastore only", "network", n.Name, "container", a.ContainerID, "node", node, "ip", ip, "endpoint", name)
	return nil
}

// Detach deletes the container's endpoint on n and releases its address (in CNI mode
// through the plugin first). A container that is not attached is not an error.
func (p *Provider) Detach(ctx context.Context, n sdn.Network, a sdn.Attachment) error {
	pl, err := p.poolOf(n)
	if err != nil {
		return err
	}
	node := p.node(a.Host)
	endpoint := EndpointName(n.Name)
	name, err := WorkloadEndpointName(node, a.ContainerID, endpoint)
	if err != nil {
		return fmt.Errorf("detach %s from %s: %v: %w", a.ContainerID, n.Name, err, sdn.ErrInvalid)
	}
	if netns := p.netns(ctx, a); netns != "" {
		if err := p.cniDel(ctx, pl, node, a.ContainerID, netns, endpoint); err != nil {
			p.log.Warn("Calico's CNI plugin failed to detach; cleaning the datastore", "network", n.Name, "container", a.ContainerID, "err", err)
		}
	}
	if _, err := p.kv.Delete(ctx, wepKey(Namespace, name)); err != nil {
		return fmt.Errorf("detach %s from %s: delete endpoint: %w", a.ContainerID, n.Name, err)
	}
	if err := p.ipam.release(ctx, handleID(pl.name, a.ContainerID)); err != nil {
		return fmt.Errorf("detach %s from %s: %w", a.ContainerID, n.Name, err)
	}
	p.log.Info("detached", "network", n.Name, "container", a.ContainerID)
	return nil
}

// InspectNetwork returns n's pool CIDR and the containers with an endpoint on it.
func (p *Provider) InspectNetwork(ctx context.Context, n sdn.Network) (*sdn.NetworkState, error) {
	pl, err := p.storedPool(ctx, n)
	if err != nil {
		return nil, err
	}
	eps, err := p.endpoints(ctx, pl)
	if err != nil {
		return nil, err
	}
	st := &sdn.NetworkState{Name: n.Name, CIDR: pl.cidr}
	for _, w := range eps {
		st.Containers = append(st.Containers, w.Spec.ContainerID)
	}
	slices.Sort(st.Containers)
	return st, nil
}

// Subnets lists the CIDRs of every Calico IP pool, Gantry's or not.
func (p *Provider) Subnets(ctx context.Context) ([]netip.Prefix, error) {
	resp, err := p.kv.Get(ctx, ResourcePrefix+"ippools/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list IP pools: %w", err)
	}
	var out []netip.Prefix
	for _, kv := range resp.Kvs {
		var pool IPPool
		if err := json.Unmarshal(kv.Value, &pool); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		if c, err := netip.ParsePrefix(pool.Spec.CIDR); err == nil {
			out = append(out, c.Masked())
		}
	}
	return out, nil
}

var (
	_ sdn.Provider  = (*Provider)(nil)
	_ sdn.Inspector = (*Provider)(nil)
)
