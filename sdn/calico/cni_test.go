package calico_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/sdn"
	"github.com/gantry-dev/gantry/sdn/calico"
)

// loc is a location that cannot tell its containers' network namespaces.
type loc struct{ id string }

func (h loc) ID() string             { return h.id }
func (h loc) Kind() string           { return "test" }
func (h loc) DisplayName() string    { return h.id }
func (h loc) Spec() string           { return h.id }
func (h loc) Config() map[string]any { return map[string]any{} }

// nsHost is a location that can (calico.NetnsHost).
type nsHost struct{ loc }

func (nsHost) ContainerNetns(_ context.Context, id string) (string, error) {
	return "/var/run/netns/" + id, nil
}

// fakePlugin stands in for Calico's CNI plugin (not installed here): it follows the
// CNI protocol (CNI_* variables, configuration on stdin, result on stdout) and records
// what it was given in its directory.
const fakePlugin = `#!/bin/sh
dir=$(dirname "$0")
env | grep '^CNI_' | sort > "$dir/env.$CNI_COMMAND"
cat > "$dir/stdin.$CNI_COMMAND"
case "$CNI_CONTAINERID" in
fail*) printf '{"code":11,"msg":"cannot plumb","details":"no such netns"}'; exit 1 ;;
esac
if [ "$CNI_COMMAND" = ADD ]; then
	printf '{"cniVersion":"0.3.1","interfaces":[{"name":"cali0"}],"ips":[{"version":"4","address":"10.240.6.9/32"}]}'
fi
`

// With Calico's CNI plugin installed and a host that tells namespaces, Attach and
// Detach run the plugin with the network's configuration (Calico's field names) and
// take its address; on other hosts the datastore is written as without the plugin.
func TestCNIPlugin(t *testing.T) {
	e := testenv.StartEtcd(t)
	dir := t.TempDir()
	plugin := filepath.Join(dir, "calico")
	if err := os.WriteFile(plugin, []byte(fakePlugin), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := newProvider(t, e, calico.Options{CNIPlugin: plugin, Hosts: []locations.Location{nsHost{loc{"engine-1"}}, loc{"engine-2"}}})
	if !strings.HasPrefix(p.Status(), "CNI:") {
		t.Errorf("status %q", p.Status())
	}
	n := sdn.Network{Name: "cni-net", CIDR: netip.MustParsePrefix("10.240.6.0/24"), App: "app1"}
	if err := p.CreateNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	pool := calico.PoolName(n.Name)

	// What the plugin writes for the container, as Calico's plugin would (first
	// network: interface eth0), so that the provider's labelling can be checked.
	cli := reader(t, e)
	cnName := "engine--1-cni-abc-eth0"
	cniWEP := `{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"` + cnName +
		`","namespace":"default","labels":{"projectcalico.org/namespace":"default","projectcalico.org/orchestrator":"cni"}},` +
		`"spec":{"orchestrator":"cni","node":"engine-1","containerID":"abc","endpoint":"eth0","ipNetworks":["10.240.6.9/32"],"profiles":["` + pool + `"],"interfaceName":"caliabc","mac":"ee:ee:ee:ee:ee:ee"}}`
	if _, err := cli.Put(ctx, res+"workloadendpoints/default/"+cnName, cniWEP); err != nil {
		t.Fatal(err)
	}

	a := sdn.Attachment{ContainerID: "abc", Host: "engine-1", App: "app1", EntityID: "e1"}
	if err := p.Attach(ctx, n, &a); err != nil {
		t.Fatal(err)
	}
	if a.IP != netip.MustParseAddr("10.240.6.9") {
		t.Errorf("address %v, want the plugin's", a.IP)
	}
	env, err := os.ReadFile(filepath.Join(dir, "env.ADD"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/var/run/netns/abc",
		"CNI_IFNAME=" + calico.EndpointName(n.Name), "CNI_PATH=" + dir} {
		if !slices.Contains(strings.Split(string(env), "\n"), want) {
			t.Errorf("plugin environment lacks %s:\n%s", want, env)
		}
	}
	var conf struct {
		CNIVersion    string `json:"cniVersion"`
		Name          string `json:"name"`
		Type          string `json:"type"`
		DatastoreType string `json:"datastore_type"`
		EtcdEndpoints string `json:"etcd_endpoints"`
		Nodename      string `json:"nodename"`
		IPAM          struct {
			Type       string   `json:"type"`
			AssignIPv4 string   `json:"assign_ipv4"`
			IPv4Pools  []string `json:"ipv4_pools"`
		} `json:"ipam"`
	}
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin.ADD"))
	if err := json.Unmarshal(stdin, &conf); err != nil {
		t.Fatalf("configuration %s: %v", stdin, err)
	}
	if conf.Name != pool || conf.Type != "calico" || conf.DatastoreType != "etcdv3" || conf.EtcdEndpoints != e.Endpoint ||
		conf.Nodename != "engine-1" || conf.IPAM.Type != "calico-ipam" || !slices.Equal(conf.IPAM.IPv4Pools, []string{pool}) || conf.CNIVersion == "" {
		t.Errorf("configuration %s", stdin)
	}
	// Gantry's labels were added to the plugin's endpoint, the rest kept.
	var wep calicoWorkloadEndpoint
	decodeStrict(t, cnName, get(t, cli, res+"workloadendpoints/default/"+cnName), &wep)
	if wep.Labels["gantry.dev/app"] != "app1" || wep.Labels["gantry.dev/entity"] != "e1" || wep.Labels["projectcalico.org/orchestrator"] != "cni" || wep.Spec.MAC != "ee:ee:ee:ee:ee:ee" {
		t.Errorf("endpoint after labelling: %+v %+v", wep.Labels, wep.Spec)
	}

	if err := p.Detach(ctx, n, a); err != nil {
		t.Fatal(err)
	}
	if env, err := os.ReadFile(filepath.Join(dir, "env.DEL")); err != nil || !strings.Contains(string(env), "CNI_CONTAINERID=abc") {
		t.Errorf("DEL not run: %s %v", env, err)
	}

	// The plugin's error is reported.
	err = p.Attach(ctx, n, &sdn.Attachment{ContainerID: "fail1", Host: "engine-1"})
	if err == nil || !strings.Contains(err.Error(), "cannot plumb") {
		t.Errorf("failing plugin: %v", err)
	}

	// A host that cannot tell namespaces: datastore only, from Calico IPAM.
	b := sdn.Attachment{ContainerID: "def", Host: "engine-2"}
	if err := p.Attach(ctx, n, &b); err != nil {
		t.Fatal(err)
	}
	if b.IP == a.IP || !n.CIDR.Contains(b.IP) {
		t.Errorf("datastore-only address %v", b.IP)
	}
	get(t, cli, res+"workloadendpoints/default/engine--2-cni-def-"+calico.EndpointName(n.Name))
}
