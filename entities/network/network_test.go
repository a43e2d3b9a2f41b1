package network_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dnetwork "github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/entities"
	_ "github.com/gantry-dev/gantry/entities/container"
	"github.com/gantry-dev/gantry/entities/network"
	_ "github.com/gantry-dev/gantry/entities/stock"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sdn"
	"github.com/gantry-dev/gantry/sensors"
)

type fixture struct {
	cli    *client.Client
	reg    *locations.Registry
	image  string
	labels map[string]string // on the test's containers and networks: removed after it
}

func setup(t *testing.T) fixture {
	t.Helper()
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	labels := testenv.NetworkLabels(t, cli)
	eng, err := docker.New(t.Context(), "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	reg := locations.NewRegistry()
	if err := reg.Add(eng); err != nil {
		t.Fatal(err)
	}
	return fixture{cli: cli, reg: reg, image: image, labels: labels}
}

// open starts a server on dir; kill stands for kill -9: what was written stays (the
// write-behind's interval is waited for by a flush), the Management is dropped unclosed.
func (f fixture) open(t *testing.T, dir string) (m *entities.Management, kill func()) {
	t.Helper()
	m, s := testenv.OpenManagement(t, dir, entities.Options{Locations: f.reg})
	var closed bool
	t.Cleanup(func() {
		if !closed {
			m.Close()
			s.Close()
		}
	})
	return m, func() {
		if err := m.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		closed = true
		s.Close()
	}
}

// app is an application on the Docker engine; sdn adds sdn.enable to its config.
func (f fixture) app(name string, sdnOn bool, children ...*entities.Spec) *entities.Spec {
	labels := map[string]any{}
	for k, v := range f.labels {
		labels[k] = v
	}
	cfg := map[string]any{"labels": labels}
	if sdnOn {
		cfg[sdn.KeyEnable] = true
	}
	return &entities.Spec{Type: "basic-application", Name: name, Config: cfg, Locations: []string{"docker"}, Children: children}
}

// box is a busybox container entity serving HTTP on port 80, joining networks.
func (f fixture) box(name string, networks ...string) *entities.Spec {
	cfg := map[string]any{"image": f.image, "command": "mkdir -p /www && echo " + name + " > /www/index.html && exec httpd -f -p 80 -h /www", "openPorts": []any{80}}
	if len(networks) > 0 {
		cfg[sdn.KeyNetworks] = toAny(networks)
	}
	return &entities.Spec{Type: "docker-container", Name: name, BlueprintID: name + "-id", Config: cfg}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func deploy(t *testing.T, m *entities.Management, spec *entities.Spec) *entities.Entity {
	t.Helper()
	app, task, err := m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := task.Wait(ctx); err != nil {
		t.Fatalf("deploy %s: %v", spec.Name, err)
	}
	return app
}

func child(t *testing.T, app *entities.Entity, name string) *entities.Entity {
	t.Helper()
	for _, d := range app.Descendants() {
		if d.Name() == name {
			return d
		}
	}
	t.Fatalf("%s has no %q", app, name)
	return nil
}

func str(e *entities.Entity, sensor string) string {
	v, _ := e.Attribute(sensor)
	s, _ := v.(string)
	return s
}

// exec runs a shell script in an entity's container.
func exec(t *testing.T, e *entities.Entity, script string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, err := entities.ExecOn(ctx, e, locations.Command{Script: script, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("exec in %s: %v", e, err)
	}
	return code, out.String()
}

// appNetwork is the application's own virtual network.
func appNetwork(t *testing.T, app *entities.Entity) *entities.Entity {
	t.Helper()
	for _, c := range app.Children() {
		if network.Is(c) && network.Name(c) == network.AppNetworkName(app) {
			return c
		}
	}
	t.Fatalf("%s has no network of its own", app)
	return nil
}

// engineNetworks lists the test's networks on the engine: name -> id.
func (f fixture) engineNetworks(t *testing.T) map[string]string {
	t.Helper()
	var args []filters.KeyValuePair
	for k, v := range f.labels {
		args = append(args, filters.Arg("label", k+"="+v))
	}
	list, err := f.cli.NetworkList(context.Background(), dnetwork.ListOptions{Filters: filters.NewArgs(args...)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range list {
		out[n.Name] = n.ID
	}
	return out
}

func unique(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// TestApplicationNetworks deploys two applications with sdn.enable and one without:
// each sdn application gets its own network with its own subnet from the pool; web
// joins its application's network (reached there) and a shared one; names resolve
// inside a network; another application's container reaches web only through the
// shared network it joined. A restart of the server recreates nothing; unmanaging
// removes every network.
func TestApplicationNetworks(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	m, kill := f.open(t, dir)
	shared := unique("gantry-test-shared")

	a := deploy(t, m, f.app("app-a", true, f.box("web", shared), f.box("db")))
	b := deploy(t, m, f.app("app-b", true, f.box("other"), f.box("peer", shared)))
	plain := deploy(t, m, f.app("app-plain", false, f.box("plain")))

	netA, netB := appNetwork(t, a), appNetwork(t, b)
	cidrA, okA := network.CIDR(netA)
	cidrB, okB := network.CIDR(netB)
	if !okA || !okB || cidrA == cidrB || cidrA.Overlaps(cidrB) {
		t.Fatalf("subnets %v and %v: want two different ones", cidrA, cidrB)
	}
	for _, c := range []netip.Prefix{cidrA, cidrB} {
		if !sdn.DefaultPool.Contains(c.Addr()) || c.Bits() != sdn.DefaultSize {
			t.Errorf("subnet %s is not a /%d of the pool %s", c, sdn.DefaultSize, sdn.DefaultPool)
		}
	}
	sharedNet := child(t, a, "network "+shared) // made by web, its first user
	if v, _ := sharedNet.Config(network.KeyShared); v != true {
		t.Errorf("the shared network is not marked shared: %v", v)
	}

	web, db, other, peer := child(t, a, "web"), child(t, a, "db"), child(t, b, "other"), child(t, b, "peer")
	webIP := str(web, sensors.HostAddress)
	if ip, err := netip.ParseAddr(webIP); err != nil || !cidrA.Contains(ip) {
		t.Fatalf("web is reached at %q, not on its application's network %s", webIP, cidrA)
	}
	if str(web, network.SensorSubnetAddress) != webIP {
		t.Errorf("host.subnet.address %q, host.address %q", str(web, network.SensorSubnetAddress), webIP)
	}
	atts, _ := web.Attribute(network.SensorAttachments)
	if l, _ := atts.([]any); len(l) != 2 {
		t.Fatalf("web's attachments: %v", atts)
	}
	var webSharedIP string
	if l, _ := atts.([]any); len(l) == 2 {
		webSharedIP, _ = l[1].(map[string]any)["ip"].(string)
	}
	if got := stringsOf(netA, network.SensorContainers); !sameSet(got, []string{str(web, sensors.ContainerID), str(db, sensors.ContainerID)}) {
		t.Errorf("app-a's network.containers = %v", got)
	}

	// Its published port answers (the engine maps ports anew when a running container
	// joins a second network: main.uri is read after).
	if body := get(t, str(web, sensors.MainURI)); body != "web\n" {
		t.Errorf("web's main.uri %s answers %q", str(web, sensors.MainURI), body)
	}

	// Inside app-a's network, names resolve: entity name and blueprint id.
	for _, name := range []string{"web", "web-id"} {
		if code, out := exec(t, db, "nslookup "+name+" && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "+name+" 80"); code != 0 || !strings.Contains(out, webIP) || !strings.Contains(out, "\nweb") {
			t.Errorf("db -> %s: %d\n%s", name, code, out)
		}
	}
	// app-b's other reaches web neither by name nor by address.
	if code, out := exec(t, other, "nslookup web"); code == 0 {
		t.Errorf("other (app-b) resolves web:\n%s", out)
	}
	if code, out := exec(t, other, "ping -c1 -W2 "+webIP+" || nc -w 2 "+webIP+" 80 </dev/null"); code == 0 {
		t.Errorf("other (app-b) reaches web at %s:\n%s", webIP, out)
	}
	if code, out := exec(t, other, "ping -c1 -W2 "+webSharedIP); code == 0 {
		t.Errorf("other (app-b, not on %s) reaches web at %s:\n%s", shared, webSharedIP, out)
	}
	// app-b's peer joined the shared network: there, it reaches web by name.
	if code, out := exec(t, peer, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 web 80"); code != 0 || !strings.Contains(out, "\nweb") {
		t.Errorf("peer -> web on the shared network: %d\n%s", code, out)
	}
	// Without sdn.enable nothing changed: the default bridge, no attachments.
	pl := child(t, plain, "plain")
	if _, ok := pl.Attribute(network.SensorAttachments); ok || len(plain.Children()) != 1 {
		t.Errorf("an application without sdn got networks: %v, children %v", pl.Attributes()[network.SensorAttachments], plain.Children())
	}
	if ip, err := netip.ParseAddr(str(pl, sensors.HostAddress)); err != nil || sdn.DefaultPool.Contains(ip) {
		t.Errorf("plain is at %q", str(pl, sensors.HostAddress))
	}

	// kill -9 of the server and a new one: networks and containers are re-adopted,
	// nothing is made.
	before := f.engineNetworks(t)
	if len(before) != 3 {
		t.Fatalf("engine networks: %v, want app-a's, app-b's and the shared one", before)
	}
	containers := map[string]string{}
	for _, e := range []*entities.Entity{web, db, other, peer} {
		containers[e.ID()] = str(e, sensors.ContainerID)
	}
	kill()
	m, _ = f.open(t, dir)
	if after := f.engineNetworks(t); !maps.Equal(before, after) {
		t.Errorf("networks after the restart %v, before %v", after, before)
	}
	a, _ = m.Application(a.ID())
	b, _ = m.Application(b.ID())
	for _, app := range []*entities.Entity{a, b} {
		for _, d := range app.Descendants() {
			if d.State() != entities.Running {
				t.Errorf("after the restart %s is %s: %v", d, d.State(), d.Attributes()[sensors.Problems])
			}
			if id, ok := containers[d.ID()]; ok && str(d, sensors.ContainerID) != id {
				t.Errorf("%s has container %s, had %s", d, str(d, sensors.ContainerID), id)
			}
		}
	}
	if c, _ := network.CIDR(appNetwork(t, a)); c != cidrA {
		t.Errorf("app-a's subnet %s after the restart, was %s", c, cidrA)
	}
	if got := str(child(t, a, "web"), sensors.HostAddress); got != webIP {
		t.Errorf("web at %s after the restart, was %s", got, webIP)
	}

	// Unmanaging removes containers and networks; the shared network goes with its last user.
	for _, app := range []*entities.Entity{a, b, plain} {
		task, err := m.Unmanage(context.Background(), app)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := task.Wait(t.Context()); err != nil {
			t.Fatalf("unmanage %s: %v", app, err)
		}
		if app == a {
			// app-b's peer still uses the shared network, made by app-a.
			if got := f.engineNetworks(t); len(got) != 2 || got[shared] == "" {
				t.Errorf("after app-a went: networks %v, want app-b's and the shared one", got)
			}
		}
	}
	if got := f.engineNetworks(t); len(got) != 0 {
		t.Errorf("networks left: %v", got)
	}
}

// TestNetworkKind: a virtual network declared in a blueprint, with a configured subnet;
// a subnet overlapping it is refused; stop keeps the network while a stopped container
// needs it; a network gone while the server was down is reported, not recreated.
func TestNetworkKind(t *testing.T) {
	f := setup(t)
	dir := t.TempDir()
	m, kill := f.open(t, dir)
	cidr := freeSubnet(t, f)
	backend := &entities.Spec{Type: "virtual-network", Name: "backend", BlueprintID: "backend", Config: map[string]any{network.KeyCIDR: cidr.String()}}
	app := f.app("app-c", true, backend, f.box("api", "backend"))
	app.Config[sdn.KeyAppNetwork] = false
	a := deploy(t, m, app)

	nb, api := child(t, a, "backend"), child(t, a, "api")
	if c, _ := network.CIDR(nb); c != cidr {
		t.Fatalf("backend's subnet %s, want %s", c, cidr)
	}
	if ip, _ := netip.ParseAddr(str(api, sensors.HostAddress)); !cidr.Contains(ip) {
		t.Fatalf("api at %s, not on backend %s", ip, cidr)
	}
	if len(a.Children()) != 2 {
		t.Errorf("children %v: no application network was to be made", a.Children())
	}

	// Another network on an overlapping subnet is refused.
	clash := f.app("app-d", true, &entities.Spec{Type: "virtual-network", Name: "clash", Config: map[string]any{network.KeyCIDR: cidr.String()}})
	d, task, err := m.Deploy(context.Background(), clash, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Wait(t.Context()); err == nil || !strings.Contains(err.Error(), "overlaps "+cidr.String()+" of network gantry-"+nb.ID()) {
		t.Errorf("overlapping subnet: %v", err)
	}
	if task, err := m.Unmanage(context.Background(), d); err == nil {
		_, _ = task.Wait(t.Context())
	}

	// Stop: the network stays while its (stopped) container needs it; start again works.
	stopTask, _ := m.Invoke(context.Background(), a, "stop", nil)
	if _, err := stopTask.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.engineNetworks(t); len(got) != 1 {
		t.Fatalf("after stop: networks %v", got)
	}
	startTask, _ := m.Invoke(context.Background(), a, "start", nil)
	if _, err := startTask.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, out := exec(t, api, "ip addr | grep -F 'inet "+str(api, sensors.HostAddress)+"/'"); code != 0 {
		t.Errorf("api after a stop and start is not at %s: %d %s", str(api, sensors.HostAddress), code, out)
	}

	// The network disappears while the server is down: the rebind reports it.
	kill()
	for name, id := range f.engineNetworks(t) {
		ctx := context.Background()
		if err := f.cli.ContainerRemove(ctx, str(api, sensors.ContainerID), container.RemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if err := f.cli.NetworkRemove(ctx, id); err != nil {
			t.Fatalf("remove %s: %v", name, err)
		}
	}
	m, _ = f.open(t, dir)
	a, _ = m.Application(a.ID())
	nb = child(t, a, "backend")
	if nb.State() != entities.OnFire || !strings.Contains(problems(nb), "no longer exists") {
		t.Errorf("backend after its network vanished: %s %v", nb.State(), nb.Attributes()[sensors.Problems])
	}
	if got := f.engineNetworks(t); len(got) != 0 {
		t.Errorf("the rebind made networks: %v", got)
	}
}

// get reads a URL, retrying while the server starts listening.
func get(t *testing.T, url string) string {
	t.Helper()
	var err error
	for range 50 {
		var resp *http.Response
		if resp, err = http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("GET %s: %v", url, err)
	return ""
}

func stringsOf(e *entities.Entity, sensor string) []string {
	v, _ := e.Attribute(sensor)
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// problems is what the entity's service.problems say, in one string.
func problems(e *entities.Entity) string {
	v, _ := e.Attribute(sensors.Problems)
	return fmt.Sprint(v)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// freeSubnet is a /24 of the default pool that no network of the engine overlaps.
func freeSubnet(t *testing.T, f fixture) netip.Prefix {
	t.Helper()
	list, err := f.cli.NetworkList(context.Background(), dnetwork.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var existing []netip.Prefix
	for _, n := range list {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				existing = append(existing, p)
			}
		}
	}
	al, _ := sdn.NewAllocator(sdn.DefaultPool, 24)
	_ = al.Reserve(netip.MustParsePrefix("10.240.0.0/16")) // leave the start of the pool to allocations
	p, err := al.Allocate(existing...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
