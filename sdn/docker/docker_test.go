package docker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	ldocker "github.com/gantry-dev/gantry/locations/docker"
	"github.com/gantry-dev/gantry/sdn"
	_ "github.com/gantry-dev/gantry/sdn/docker"
)

type fixture struct {
	engine *ldocker.Engine
	p      sdn.Provider
	image  string
	labels map[string]string
}

func setup(t *testing.T) fixture {
	t.Helper()
	cli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	e, err := ldocker.New(t.Context(), "docker", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	p, err := sdn.Open(t.Context(), "docker", sdn.Config{Hosts: []locations.Location{e}})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{engine: e, p: p, image: image, labels: testenv.NetworkLabels(t, cli)}
}

func unique(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// freeSubnets allocates n subnets that overlap no network of the engine.
func (f fixture) freeSubnets(t *testing.T, n int) []netip.Prefix {
	t.Helper()
	existing, err := f.p.(sdn.Inspector).Subnets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	a, err := sdn.NewAllocator(sdn.DefaultPool, sdn.DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Prefix
	for range n {
		// Random start in the pool, so that parallel test processes rarely collide.
		var b [1]byte
		_, _ = rand.Read(b[:])
		_ = a.Reserve(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 240 + b[0]%16, 0, 0}), 24))
		p, err := a.Allocate(existing...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func (f fixture) network(t *testing.T, app string, cidr netip.Prefix) sdn.Network {
	t.Helper()
	n := sdn.Network{ID: unique("net"), Name: unique("gantry-test"), CIDR: cidr, App: app, Labels: maps.Clone(f.labels)}
	n.Labels[sdn.LabelApp] = app
	if err := f.p.CreateNetwork(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	return n
}

// run starts a busybox container on first (with aliases), then attaches it to the
// others, as the container kind does.
func (f fixture) run(t *testing.T, name string, aliases []string, first sdn.Network, others ...sdn.Network) (*locations.Container, map[string]netip.Addr) {
	t.Helper()
	ctx := t.Context()
	spec := locations.ContainerSpec{Name: unique(name), Image: f.image, Command: []string{"sleep", "300"}, Labels: f.labels, Init: true}
	a := sdn.Attachment{Network: first.Name, Aliases: aliases, Host: f.engine.ID()}
	if err := f.p.(sdn.ContainerPreparer).PrepareContainer(first, a, &spec); err != nil {
		t.Fatal(err)
	}
	c, err := f.engine.RunContainer(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	ips := map[string]netip.Addr{}
	for _, n := range append([]sdn.Network{first}, others...) {
		a := sdn.Attachment{Network: n.Name, ContainerID: c.ID, Host: f.engine.ID(), Aliases: aliases}
		if err := f.p.Attach(ctx, n, &a); err != nil {
			t.Fatal(err)
		}
		if !n.CIDR.Contains(a.IP) {
			t.Fatalf("%s got %v on %s, outside %s", name, a.IP, n.Name, n.CIDR)
		}
		ips[n.Name] = a.IP
	}
	if c.IP != ips[first.Name].String() {
		t.Errorf("%s is reached at %s, not on its first network (%v)", name, c.IP, ips[first.Name])
	}
	return c, ips
}

func (f fixture) exec(t *testing.T, id, script string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code, err := f.engine.ExecContainer(t.Context(), id, locations.Command{Script: script, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func TestNetworksNamesAndIsolation(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	subnets := f.freeSubnets(t, 3)
	appA := f.network(t, "app-a", subnets[0])
	shared := f.network(t, "", subnets[1])
	appB := f.network(t, "app-b", subnets[2])

	// Idempotent create; another subnet under the same name, or an overlapping one, refused.
	if err := f.p.CreateNetwork(ctx, appA); err != nil {
		t.Fatalf("create again: %v", err)
	}
	again := appA
	again.CIDR = subnets[2]
	if err := f.p.CreateNetwork(ctx, again); !errors.Is(err, sdn.ErrOverlap) && !errors.Is(err, locations.ErrInvalid) {
		t.Fatalf("same name, another subnet: %v", err)
	}
	overlap := sdn.Network{Name: unique("gantry-test"), CIDR: subnets[0], Labels: f.labels}
	if err := f.p.CreateNetwork(ctx, overlap); !errors.Is(err, sdn.ErrOverlap) {
		t.Fatalf("overlapping subnet: %v", err)
	}

	// web is on app-a (reached there) and on the shared network; db on app-a only;
	// other on app-b; peer (of app b) on the shared network.
	web, webIPs := f.run(t, "web", []string{"web", "frontend"}, appA, shared)
	_, _ = f.run(t, "db", []string{"db"}, appA)
	other, _ := f.run(t, "other", []string{"other"}, appB)
	peer, _ := f.run(t, "peer", []string{"peer"}, shared)
	_ = web

	// Names resolve between containers of one network: db finds web by its aliases.
	dbID := mustID(t, f, "db")
	for _, name := range []string{"web", "frontend"} {
		if code, out := f.exec(t, dbID, "nslookup "+name+" && ping -c1 -W2 "+name); code != 0 {
			t.Errorf("db cannot resolve and ping %s: %d\n%s", name, code, out)
		} else if !strings.Contains(out, webIPs[appA.Name].String()) {
			t.Errorf("%s resolved to something else than %s:\n%s", name, webIPs[appA.Name], out)
		}
	}
	// On the shared network, peer resolves web to its address there.
	if code, out := f.exec(t, peer.ID, "ping -c1 -W2 web"); code != 0 || !strings.Contains(out, webIPs[shared.Name].String()) {
		t.Errorf("peer cannot reach web on the shared network: %d\n%s", code, out)
	}
	// Another application's container neither resolves nor reaches web.
	if code, out := f.exec(t, other.ID, "nslookup web"); code == 0 {
		t.Errorf("other (app b) resolves web:\n%s", out)
	}
	if code, out := f.exec(t, other.ID, "ping -c1 -W2 "+webIPs[appA.Name].String()); code == 0 {
		t.Errorf("other (app b) reaches web at %s:\n%s", webIPs[appA.Name], out)
	}
	if code, out := f.exec(t, other.ID, "nc -w 2 "+webIPs[appA.Name].String()+" 80 </dev/null; ping -c1 -W2 "+webIPs[shared.Name].String()); code == 0 {
		t.Errorf("other (app b) reaches web on the shared network:\n%s", out)
	}

	// Inspect: the attached containers; delete refused while they are there.
	st, err := f.p.(sdn.Inspector).InspectNetwork(ctx, appA)
	if err != nil || st.CIDR != appA.CIDR || len(st.Containers) != 2 {
		t.Fatalf("inspect app-a = %+v, %v", st, err)
	}
	if err := f.p.DeleteNetwork(ctx, appA); !errors.Is(err, sdn.ErrInUse) {
		t.Fatalf("delete in use = %v", err)
	}
	// Detach web from the shared network: peer no longer reaches it there.
	if err := f.p.Detach(ctx, shared, sdn.Attachment{ContainerID: web.ID, Host: f.engine.ID()}); err != nil {
		t.Fatal(err)
	}
	if err := f.p.Detach(ctx, shared, sdn.Attachment{ContainerID: web.ID, Host: f.engine.ID()}); err != nil {
		t.Fatalf("detach twice: %v", err)
	}
	if code, _ := f.exec(t, peer.ID, "ping -c1 -W2 "+webIPs[shared.Name].String()); code == 0 {
		t.Errorf("peer still reaches web after its detach")
	}
	// A stopped container still holds its network (it needs it to start again).
	if err := f.engine.StopContainer(ctx, other.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.p.DeleteNetwork(ctx, appB); !errors.Is(err, sdn.ErrInUse) {
		t.Fatalf("delete with a stopped container = %v", err)
	}
	if err := f.engine.RemoveContainer(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.p.DeleteNetwork(ctx, appB); err != nil {
		t.Fatal(err)
	}
	if err := f.p.DeleteNetwork(ctx, appB); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := f.p.(sdn.Inspector).InspectNetwork(ctx, appB); !errors.Is(err, sdn.ErrNotFound) {
		t.Fatalf("inspect deleted = %v", err)
	}
}

func mustID(t *testing.T, f fixture, prefix string) string {
	t.Helper()
	list, err := f.engine.ListContainers(t.Context(), f.labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if strings.HasPrefix(c.Name, prefix+"-") {
			return c.ID
		}
	}
	t.Fatalf("no container %s", prefix)
	return ""
}

func TestOpenRefusesOtherLocations(t *testing.T) {
	_, err := sdn.Open(context.Background(), "docker", sdn.Config{})
	if !errors.Is(err, sdn.ErrInvalid) {
		t.Fatalf("no hosts: %v", err)
	}
}
