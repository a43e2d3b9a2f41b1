package calico

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gantry-dev/gantry/sdn"
)

// netns returns the network namespace of a's container when it is to be attached
// through Calico's CNI plugin: the plugin is installed and the container's host tells
// namespaces (NetnsHost). Otherwise "" (datastore only).
func (p *Provider) netns(ctx context.Context, a sdn.Attachment) string {
	if p.cni == "" {
		return ""
	}
	h, ok := p.hosts[a.Host].(NetnsHost)
	if !ok {
		return ""
	}
	ns, err := h.ContainerNetns(ctx, a.ContainerID)
	if err != nil {
		p.log.Warn("no network namespace for Calico's CNI plugin: writing the datastore only", "container", a.ContainerID, "host", a.Host, "err", err)
		return ""
	}
	return ns
}

// cniConf is the network configuration given to Calico's CNI plugin (its documented
// field names): the network is the pool's name, so that the plugin's profile, handles
// ("<network>.<container>") and pool choice are those Gantry writes.
func (p *Provider) cniConf(pl pool, node string) ([]byte, error) {
	ipam := map[string]any{"type": "calico-ipam", "assign_ipv4": "true", "ipv4_pools": []string{pl.name}}
	return json.Marshal(map[string]any{
		"cniVersion":     "0.3.1",
		"name":           pl.name,
		"type":           "calico",
		"datastore_type": "etcdv3",
		"etcd_endpoints": strings.Join(p.opts.Endpoints, ","),
		"nodename":       node,
		"log_level":      "info",
		"ipam":           ipam,
	})
}

// runCNI runs the plugin for command (ADD or DEL) as the CNI specification says:
// parameters in CNI_* variables, the network configuration on standard input, the
// result (or error) as JSON on standard output.
func (p *Provider) runCNI(ctx context.Context, command string, pl pool, node, containerID, netns, ifname string) ([]byte, error) {
	conf, err := p.cniConf(pl, node)
	if err != nil {
		return nil, err
	}
	path := p.opts.CNIPath
	if path == "" {
		path = filepath.Dir(p.cni)
	}
	cmd := exec.CommandContext(ctx, p.cni)
	cmd.Env = append(os.Environ(),
		"CNI_COMMAND="+command,
		"CNI_CONTAINERID="+containerID,
		"CNI_NETNS="+netns,
		"CNI_IFNAME="+ifname,
		"CNI_PATH="+path,
	)
	cmd.Stdin = bytes.NewReader(conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var e struct {
			Code    int    `json:"code"`
			Msg     string `json:"msg"`
			Details string `json:"details"`
		}
		if json.Unmarshal(stdout.Bytes(), &e) == nil && e.Msg != "" {
			return nil, fmt.Errorf("%s %s: %s (code %d) %s", p.cni, command, e.Msg, e.Code, e.Details)
		}
		return nil, fmt.Errorf("%s %s: %w: %s", p.cni, command, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// cniAdd attaches through the plugin and returns the address it reports.
func (p *Provider) cniAdd(ctx context.Context, pl pool, node, containerID, netns, ifname string) (netip.Addr, error) {
	out, err := p.runCNI(ctx, "ADD", pl, node, containerID, netns, ifname)
	if err != nil {
		return netip.Addr{}, err
	}
	// CNI result (0.3.x/0.4.x/1.x): {"ips": [{"address": "10.1.2.3/32", ...}], ...}
	var res struct {
		IPs []struct {
			Address string `json:"address"`
		} `json:"ips"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return netip.Addr{}, fmt.Errorf("decode the result of %s: %w", p.cni, err)
	}
	for _, ip := range res.IPs {
		if pr, err := netip.ParsePrefix(ip.Address); err == nil {
			return pr.Addr(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s reported no address: %s", p.cni, out)
}

func (p *Provider) cniDel(ctx context.Context, pl pool, node, containerID, netns, ifname string) error {
	_, err := p.runCNI(ctx, "DEL", pl, node, containerID, netns, ifname)
	return err
}

// labelEndpoint adds Gantry's labels to the endpoint the CNI plugin wrote for the
// container (it writes none of its own outside Kubernetes). Calico's plugin reuses a
// container's endpoint for its further networks, adding their profiles to it: the
// endpoint is found by container, whatever its interface name.
func (p *Provider) labelEndpoint(ctx context.Context, n sdn.Network, a sdn.Attachment, node string) {
	prefix, err := WorkloadEndpointName(node, a.ContainerID, "x")
	if err != nil {
		return
	}
	prefix = wepKey(Namespace, strings.TrimSuffix(prefix, "x"))
	resp, err := p.kv.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		p.log.Warn("cannot label the endpoint of Calico's CNI plugin", "container", a.ContainerID, "err", err)
		return
	}
	key := ""
	for _, kv := range resp.Kvs {
		// The rest is the endpoint segment, which never begins with '-': a rest
		// that does belongs to a container whose id continues with "-...".
		if rest := strings.TrimPrefix(string(kv.Key), prefix); rest != "" && rest[0] != '-' {
			key = string(kv.Key)
			break
		}
	}
	if key == "" {
		p.log.Warn("no endpoint written by Calico's CNI plugin to label", "container", a.ContainerID)
		return
	}
	var extra = map[string]string{LabelManaged: "gantry"}
	if a.App != "" {
		extra[LabelApp] = labelValue(a.App)
	}
	if a.EntityID != "" {
		extra[LabelEntity] = labelValue(a.EntityID)
	}
	for range maxAttempts {
		// Keep every field the plugin wrote: edit the raw JSON's labels only.
		raw, err := p.kv.Get(ctx, key)
		if err != nil || len(raw.Kvs) == 0 {
			return
		}
		var doc map[string]any
		if json.Unmarshal(raw.Kvs[0].Value, &doc) != nil {
			return
		}
		meta, _ := doc["metadata"].(map[string]any)
		if meta == nil {
			return
		}
		ls, _ := meta["labels"].(map[string]any)
		if ls == nil {
			ls = map[string]any{}
		}
		for k, v := range extra {
			ls[k] = v
		}
		meta["labels"] = ls
		op, err := putJSON(key, doc)
		if err != nil {
			return
		}
		cond := clientv3.Compare(clientv3.ModRevision(key), "=", raw.Kvs[0].ModRevision)
		if commit(ctx, p.kv, []clientv3.Cmp{cond}, op) == nil {
			return
		}
	}
}
