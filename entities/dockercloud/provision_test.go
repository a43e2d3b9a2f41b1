package dockercloud_test

// Docker hosts Gantry makes on machines, against real parts: an OpenSSH sshd on a
// loopback port (testenv.StartSSHD) whose machine is this one, a byon location over it,
// and the Docker Engine installed here (docker.io): Gantry starts an isolated dockerd
// with TLS on a free port (its own data root, exec root, socket and bridge, no iptables,
// as scripts/engines.sh does), so the main engine is never touched. Skipped without
// sshd, Docker or root; failed under CI=true.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/gantry-dev/gantry/entities"
	"github.com/gantry-dev/gantry/entities/dockercloud"
	"github.com/gantry-dev/gantry/internal/testenv"
	"github.com/gantry-dev/gantry/locations"
	"github.com/gantry-dev/gantry/locations/localhost"
	"github.com/gantry-dev/gantry/locations/ssh"
	"github.com/gantry-dev/gantry/sensors"
)

// machineFixture is an sshd on loopback logging in the test's user (root), a byon
// location spec naming it, and the label of the test's containers.
type machineFixture struct {
	sshd       *testenv.SSHD
	knownHosts string
	label      string
	cloud      string
	hadDocker0 bool

	mu   sync.Mutex
	defs map[string]locations.Definition // the location definitions the server would store
}

func newMachineFixture(t *testing.T) *machineFixture {
	t.Helper()
	main := testenv.RequireDocker(t)
	testenv.BusyboxImage(t)
	if os.Geteuid() != 0 {
		unavailableHere(t, "Docker hosts on a machine need root here (dockerd, bridges, /etc/gantry-docker)")
	}
	for _, tool := range []string{"dockerd", "ip", "setsid"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailableHere(t, "no %s on PATH; run scripts/ensure-docker.sh", tool)
		}
	}
	f := &machineFixture{
		sshd:       testenv.StartSSHD(t, testenv.SSHDOptions{Name: "docker-machine"}),
		knownHosts: filepath.Join(t.TempDir(), "known_hosts"),
		label:      testenv.ContainerLabels(t, main)[testenv.TestLabel],
		cloud:      fmt.Sprintf("machines-%d", time.Now().UnixNano()),
		defs:       map[string]locations.Definition{},
	}
	f.hadDocker0 = linkExists("docker0")
	t.Cleanup(func() {
		if f.hadDocker0 && !linkExists("docker0") {
			t.Errorf("BUG: the main engine's docker0 vanished during the test")
		}
	})
	return f
}

func unavailableHere(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tests that need it fail instead of skipping)", msg)
	}
	t.Skipf("skipping: %s", msg)
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// byon is the spec of a byon location of the sshd's one machine.
func (f *machineFixture) byon() string {
	s := f.sshd
	return fmt.Sprintf(`byon:(hosts="%s@%s:%d",privateKeyFile="%s",knownHostsFile="%s")`, s.User, s.Host, s.Port, s.Key.File, f.knownHosts)
}

// open is one life of a server on the store in dir: a registry with the byon provider
// and the location definitions the last life made (as the server restores them).
func (f *machineFixture) open(t *testing.T, dir string) *server {
	t.Helper()
	reg := locations.NewRegistry()
	d := ssh.NewDialer(ssh.Options{KnownHostsFile: f.knownHosts, RetryDelay: 50 * time.Millisecond})
	if err := ssh.Register(reg, d); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	var defs []locations.Definition
	for _, def := range f.defs {
		defs = append(defs, def)
	}
	f.mu.Unlock()
	if err := reg.Restore(context.Background(), defs); err != nil {
		t.Fatal(err)
	}
	reg.SetPersist(func(def locations.Definition) error {
		f.mu.Lock()
		f.defs[def.ID] = def
		f.mu.Unlock()
		return nil
	})
	m, s := testenv.OpenManagement(t, dir, entities.Options{Locations: reg})
	sv := &server{m: m, s: s, reg: reg}
	t.Cleanup(func() {
		m.Close()
		s.Close()
		closeEngines(reg)
		d.Close()
	})
	return sv
}

// cleanupHost removes, after the test, whatever the engine of host id left on this
// machine (nothing, when the test passed).
func cleanupHost(t *testing.T, id string) {
	t.Cleanup(func() {
		if _, err := os.Stat("/var/lib/gantry-docker/" + id); err != nil && !linkExists("gd-"+id) {
			return
		}
		out, err := exec.Command("/bin/sh", "-c", dockercloud.DestroyScriptOf(id)).CombinedOutput()
		t.Logf("cleanup of the engine of host %s: %v\n%s", id, err, out)
	})
}

// engineClient is a Docker client of the host's engine with the certificates the
// infrastructure keeps (Gantry's client certificate, the CA).
func engineClient(t *testing.T, infra, h *entities.Entity) *client.Client {
	t.Helper()
	ca, _ := infra.Attribute(dockercloud.SensorTLSCA)
	cert, _ := infra.Attribute(dockercloud.SensorTLSClientCert)
	key, _ := infra.Attribute(dockercloud.SensorTLSClientKey)
	pair, err := tls.X509KeyPair([]byte(cert.(string)), []byte(key.(string)))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca.(string))) {
		t.Fatal("no CA certificate in " + dockercloud.SensorTLSCA)
	}
	ep, _ := h.Attribute(dockercloud.SensorEndpoint)
	cli, err := client.NewClientWithOpts(client.WithHost(ep.(string)), client.WithAPIVersionNegotiation(),
		client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// loadBusybox copies gantry/busybox from the main engine to cli's (a new engine has no
// images, and no registry is reachable).
func loadBusybox(t *testing.T, cli *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := testenv.RequireDocker(t).ImageSave(ctx, []string{testenv.BusyboxTag})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp, err := cli.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func (f *machineFixture) containerApp(n int) string { return cloudWebApp(f.cloud, f.label, n) }

// running lists the ids of the test's running containers on an engine.
func (f *machineFixture) running(t *testing.T, cli *client.Client) []string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", testenv.TestLabel+"="+f.label)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	return ids
}

func dockerdPid(t *testing.T, id string) int {
	t.Helper()
	b, err := os.ReadFile("/run/gantry-docker/" + id + "/docker.pid")
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// leftOf lists what the engine of host id left on this machine.
func leftOf(id string) []string {
	var left []string
	for _, p := range []string{"/etc/gantry-docker/" + id, "/var/lib/gantry-docker/" + id, "/run/gantry-docker/" + id, "/var/log/gantry-docker/" + id + ".log"} {
		if _, err := os.Stat(p); err == nil {
			left = append(left, p)
		}
	}
	if linkExists("gd-" + id) {
		left = append(left, "bridge gd-"+id)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte("/run/gantry-docker/"+id)) && !bytes.HasPrefix(b, []byte("/bin/sh")) {
			left = append(left, "process "+e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	for _, l := range strings.Split(string(mounts), "\n") {
		if strings.Contains(l, "/gantry-docker/"+id) {
			left = append(left, "mount "+l)
		}
	}
	return left
}

// notInTmp fails when a file under the system's temporary directory holds secret,
// except in the store (in store, the test's directory of the store there).
func notInTmp(t *testing.T, store, what, secret string) {
	t.Helper()
	needle := []byte(secret)
	n := 0
	_ = filepath.WalkDir(os.TempDir(), func(path string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() && path == store {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if n++; n > 100000 {
			return filepath.SkipAll
		}
		if fi, err := d.Info(); err != nil || fi.Size() > 1<<20 {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, needle) {
			t.Errorf("%s is in %s", what, path)
		}
		return nil
	})
}

// A Docker host made on a machine of a byon location (over a real sshd): Gantry makes
// a CA, a client and a server certificate (kept in the store, the keys as private
// sensors), skips the install (dockerd is there), copies the certificates into a
// root-only directory, starts an isolated dockerd with --tlsverify on a free port, and
// the host is up over TLS; a container placed through the cloud runs there. After a
// kill -9 of the server the host is re-adopted: nothing is installed or restarted (the
// same dockerd, the same container). Destroying the host stops that dockerd and leaves
// nothing of it: process, data root, bridge, certificates, log, mounts; the machine is
// given back to the pool.
func TestHostOnMachineOverSSH(t *testing.T) {
	f := newMachineFixture(t)
	dir := t.TempDir()
	one := f.open(t, dir)
	infraApp, err := one.deploy(t, &entities.Spec{Type: "basic-application", Name: "infrastructure", Children: []*entities.Spec{
		{Type: "docker-infrastructure", Name: "docker cloud", Config: map[string]any{
			dockercloud.KeyCloudName:  f.cloud,
			dockercloud.KeyPollPeriod: "500ms",
			dockercloud.KeyHosts: []any{map[string]any{
				"name": "machine-host", "location": f.byon(),
				"isolated": true, "port": 0, "listen": "127.0.0.1",
			}},
		}},
	}})
	var infra *entities.Entity
	if infraApp != nil && len(infraApp.Children()) > 0 {
		infra = infraApp.Children()[0]
		for _, h := range hosts(infra) {
			cleanupHost(t, h.ID())
		}
	}
	if err != nil {
		if infra != nil {
			for _, h := range hosts(infra) {
				t.Logf("start of %s:\n%s", h.Name(), activity(h))
			}
		}
		t.Fatalf("deploy the infrastructure: %v", err)
	}
	hs := hosts(infra)
	if len(hs) != 1 {
		t.Fatalf("%d hosts, want 1", len(hs))
	}
	h := hs[0]
	id := h.ID()
	if !h.IsUp() || h.State() != entities.Running {
		t.Fatalf("%s is %s, up %v", h, h.State(), h.IsUp())
	}
	log := activity(h)
	for _, want := range []string{"Obtain a machine", "Install the Docker Engine when it is missing", "the Docker Engine is installed",
		"Copy the TLS certificates to /etc/gantry-docker/" + id, "Start dockerd", "dockerd started", "answers at tcp://127.0.0.1:"} {
		if !strings.Contains(log, want) {
			t.Errorf("the start does not say %q:\n%s", want, log)
		}
	}

	// Where it runs, and with what.
	ep, _ := h.Attribute(dockercloud.SensorEndpoint)
	if s, _ := ep.(string); !strings.HasPrefix(s, "tcp://127.0.0.1:") {
		t.Fatalf("endpoint %v, want tcp://127.0.0.1:<port>", ep)
	}
	if m, _ := h.Attribute(dockercloud.SensorMachine); m != fmt.Sprintf("%s@127.0.0.1:%d", f.sshd.User, f.sshd.Port) {
		t.Errorf("machine %v", m)
	}
	daemon, _ := h.Attribute(dockercloud.SensorDaemon)
	t.Logf("daemon: %v", daemon)
	if fi, err := os.Stat("/etc/gantry-docker/" + id); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the certificates' directory: %v, %v (want mode 0700)", fi, err)
	}
	for _, name := range []string{"ca.pem", "server-cert.pem", "server-key.pem"} {
		fi, err := os.Stat("/etc/gantry-docker/" + id + "/" + name)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v", name, fi, err)
		}
	}
	// The certificates are in the store: the CA with its key on the infrastructure,
	// the server's on the host; the server's verifies against the CA for its address.
	caPEM, _ := infra.Attribute(dockercloud.SensorTLSCA)
	caKey, _ := infra.Attribute(dockercloud.SensorTLSCAKey)
	serverPEM, _ := h.Attribute(dockercloud.SensorTLSServerCert)
	serverKey, _ := h.Attribute(dockercloud.SensorTLSServerKey)
	if caKey == nil || !strings.Contains(caKey.(string), "PRIVATE KEY") || serverKey == nil {
		t.Fatalf("the CA key or the server key is not kept: %v %v", caKey != nil, serverKey != nil)
	}
	for _, name := range []string{dockercloud.SensorTLSCAKey, dockercloud.SensorTLSClientKey, dockercloud.SensorTLSServerKey} {
		if !strings.Contains(strings.ToLower(name), "private") {
			t.Errorf("%s does not say private: the server would show it", name)
		}
	}
	onDisk, err := os.ReadFile("/etc/gantry-docker/" + id + "/server-cert.pem")
	if err != nil || string(onDisk) != serverPEM {
		t.Errorf("server-cert.pem on the machine is not the one in the store (%v)", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(caPEM.(string)))
	block, _ := pem.Decode([]byte(serverPEM.(string)))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("the server certificate does not verify for 127.0.0.1: %v", err)
	}
	notInTmp(t, dir, "the CA's private key", strings.Split(caKey.(string), "\n")[1])
	notInTmp(t, dir, "the server's private key", strings.Split(serverKey.(string), "\n")[1])

	// The engine refuses a client without a certificate of the CA.
	u := strings.TrimPrefix(ep.(string), "tcp://")
	if c, err := tls.Dial("tcp", u, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, werr := c.Write([]byte("GET /version HTTP/1.0\r\n\r\n"))
		buf := make([]byte, 64)
		_, rerr := c.Read(buf)
		c.Close()
		if werr == nil && rerr == nil {
			t.Errorf("the engine answered a client without a certificate: %q", buf)
		}
	}
	// It is an engine of its own: not the main engine, nor its bridge.
	cli := engineClient(t, infra, h)
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mainInfo, err := testenv.RequireDocker(t).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.ID == mainInfo.ID || info.DockerRootDir != "/var/lib/gantry-docker/"+id+"/docker" {
		t.Errorf("engine %s at %s, the main engine is %s at %s", info.ID, info.DockerRootDir, mainInfo.ID, mainInfo.DockerRootDir)
	}
	if !linkExists("gd-" + id) {
		t.Errorf("no bridge gd-%s", id)
	}
	pid := dockerdPid(t, id)
	if !alive(pid) {
		t.Fatalf("dockerd (pid %d) does not run", pid)
	}

	// A container placed through the cloud runs there.
	loadBusybox(t, cli)
	app, err := one.deploy(t, one.resolve(t, f.containerApp(1)))
	if err != nil {
		t.Fatalf("deploy a container into the cloud: %v", err)
	}
	member := app.Children()[0].Members()[0]
	cid, _ := member.Attribute(sensors.ContainerID)
	if got := f.running(t, cli); len(got) != 1 || got[0] != cid {
		t.Fatalf("running on the machine's engine: %v, want the member's %v", got, cid)
	}
	if c, _ := dockercloud.CloudOf(infra); c.HostOf(cid.(string)) != id {
		t.Errorf("the cloud places %v on %q, want %s", cid, c.HostOf(cid.(string)), id)
	}
	// The engine of a host holding a container is not stopped; a start then finds it
	// running as configured and leaves it as it is.
	if _, err := invoke(t, h, "stop", nil); err == nil || !strings.Contains(err.Error(), "not stopped while they run") {
		t.Errorf("stop of a host with a container: %v, want a refusal", err)
	}
	if !alive(pid) {
		t.Fatal("dockerd was stopped under a container")
	}
	task, err := one.m.Invoke(context.Background(), h, "start", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task, 2*time.Minute); err != nil {
		t.Fatalf("start again: %v\n%s", err, taskText(task))
	}
	if out := taskText(task); !strings.Contains(out, "dockerd runs already (pid "+strconv.Itoa(pid)+"), as configured: left as it is") ||
		!strings.Contains(out, "the Docker Engine is installed") || !strings.Contains(out, "the server certificate for 127.0.0.1 is kept") {
		t.Errorf("start of a running host:\n%s", out)
	}
	if p := dockerdPid(t, id); p != pid || !h.IsUp() {
		t.Errorf("after start again: dockerd pid %d (was %d), up %v", p, pid, h.IsUp())
	}

	// kill -9 of the server: the host is re-adopted, nothing restarted.
	one.kill(t)
	restarted := time.Now()
	two := f.open(t, dir)
	h2, err := two.m.Entity(id)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the host up after the restart", h2.IsUp)
	if p := dockerdPid(t, id); p != pid {
		t.Errorf("dockerd pid %d after the restart, want the same %d (not restarted)", p, pid)
	}
	if got := f.running(t, cli); len(got) != 1 || got[0] != cid {
		t.Errorf("after the restart, running %v, want %v", got, cid)
	}
	infra2, _ := two.m.Entity(infra.ID())
	c2, err := dockercloud.CloudOf(infra2)
	if err != nil || c2.HostOf(cid.(string)) != id {
		t.Errorf("after the restart the cloud does not place %v on %s (%v)", cid, id, err)
	}
	for _, tk := range two.m.Tasks(h2) {
		if sn := tk.Snapshot(); sn.Submitted.After(restarted) {
			t.Errorf("after the restart %s ran %q", h2, sn.Name)
		}
	}

	// Destroy: the container's app first, then the infrastructure.
	app2, _ := two.m.Application(app.ID())
	unmanageWait(t, two.m, app2)
	inf2, _ := two.m.Application(infraApp.ID())
	unmanageWait(t, two.m, inf2)
	waitFor(t, 30*time.Second, "dockerd to exit", func() bool { return !alive(pid) })
	if left := leftOf(id); len(left) > 0 {
		t.Errorf("left on the machine after destroy: %v", left)
	}
	pool, err := two.reg.ResolveContext(context.Background(), f.byon(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, held := pool.(locations.MachinePool).Holding(id); held {
		t.Error("the machine is still held by the destroyed host")
	}
}

// activity is the text of the tasks of an entity (its starts, with their subtasks).
func activity(e *entities.Entity) string {
	var b strings.Builder
	for _, tk := range e.Management().Tasks(e) {
		b.WriteString(taskText(tk))
	}
	if a := e.Application(); a != e {
		for _, tk := range e.Management().Tasks(a) {
			b.WriteString(taskText(tk))
		}
	}
	return b.String()
}

func unmanageWait(t *testing.T, m *entities.Management, app *entities.Entity) {
	t.Helper()
	if app == nil {
		return
	}
	task, err := m.Unmanage(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, task, 3*time.Minute); err != nil {
		t.Fatalf("unmanage %s: %v\n%s", app, err, taskText(task))
	}
}

// Headroom adds hosts from docker.host.spec when docker.hosts.pool is empty: a machine
// location's free machines are what it can add. The infrastructure starts with no host;
// with a headroom of two slots it adds one on the byon location's only machine, and then
// has no more to add (docker.hosts.pool.available 0). When the server restarts and the
// engine does not answer (its machine rebooted, say), it is started again there,
// nothing installed. A container placed in the cloud lands there; removing the
// infrastructure leaves nothing on the machine.
func TestHeadroomAddsHostsFromSpec(t *testing.T) {
	f := newMachineFixture(t)
	dir := t.TempDir()
	sv := f.open(t, dir)
	spec := sv.resolve(t, fmt.Sprintf(`
name: infrastructure
services:
- type: docker-infrastructure
  name: docker cloud
  brooklyn.config:
    docker.cloud.name: %s
    docker.host.poll.period: 500ms
    docker.container.cluster.headroom.count: 2
    docker.headroom.resizeUpStabilizationDelay: 0s
    docker.host.spec:
      $brooklyn:entitySpec:
        type: docker-host
        name: spec-host
        location: '%s'
        brooklyn.config:
          docker.host.isolated: true
          docker.host.port: 0
          docker.host.listen: 127.0.0.1
`, f.cloud, f.byon()))
	app, _, err := sv.m.Deploy(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	infra := app.Children()[0]
	var h *entities.Entity
	waitFor(t, 2*time.Minute, "headroom to add a host from the spec", func() bool {
		hs := hosts(infra)
		if len(hs) == 1 && h == nil {
			h = hs[0]
			cleanupHost(t, h.ID())
		}
		return len(hs) == 1 && hs[0].State() == entities.Running && hs[0].IsUp()
	})
	if n := h.Name(); !strings.HasPrefix(n, "spec-host") {
		t.Errorf("the host is named %q, want spec-host-N", n)
	}
	if ep := h.ConfigString(dockercloud.KeyEndpoint); ep != "" {
		t.Errorf("the host has the endpoint %q, want none (made on a machine)", ep)
	}
	waitFor(t, 10*time.Second, "no machine left to add a host on", func() bool {
		v, _ := infra.Attribute(sensors.DockerHostsPoolAvailable)
		return v == 0
	})
	time.Sleep(time.Second)
	if n := len(hosts(infra)); n != 1 {
		t.Errorf("%d hosts, want 1 (the location has one machine)", n)
	}

	// The server dies, and so does the engine; the next server starts it again.
	id, pid := h.ID(), dockerdPid(t, h.ID())
	sv.kill(t)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 45*time.Second, "dockerd to exit", func() bool { return !alive(pid) })
	two := f.open(t, dir)
	h2, err := two.m.Entity(id)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the host up again after the restart", h2.IsUp)
	pid2 := dockerdPid(t, id)
	if pid2 == pid || !alive(pid2) {
		t.Errorf("dockerd pid %d after the restart (was %d)", pid2, pid)
	}
	infra2, _ := two.m.Entity(infra.ID())
	if n := len(hosts(infra2)); n != 1 {
		t.Errorf("%d hosts after the restart, want 1", n)
	}

	cli := engineClient(t, infra2, h2)
	loadBusybox(t, cli)
	web, err := two.deploy(t, two.resolve(t, f.containerApp(1)))
	if err != nil {
		t.Fatalf("deploy a container into the cloud: %v", err)
	}
	if got := f.running(t, cli); len(got) != 1 {
		t.Fatalf("%d of the test's containers run on the machine's engine, want 1", len(got))
	}
	unmanageWait(t, two.m, web)
	app2, _ := two.m.Application(app.ID())
	unmanageWait(t, two.m, app2)
	waitFor(t, 30*time.Second, "dockerd to exit", func() bool { return !alive(pid2) })
	if left := leftOf(id); len(left) > 0 {
		t.Errorf("left on the machine after destroy: %v", left)
	}
}

// The machine may be localhost: the server's own machine, where the scripts run
// directly (as root here).
func TestHostOnLocalhost(t *testing.T) {
	f := newMachineFixture(t)
	sv := f.open(t, t.TempDir())
	if err := sv.reg.Add(localhost.New()); err != nil {
		t.Fatal(err)
	}
	app, err := sv.deploy(t, &entities.Spec{Type: "basic-application", Name: "infrastructure", Children: []*entities.Spec{
		{Type: "docker-infrastructure", Name: "docker cloud", Config: map[string]any{
			dockercloud.KeyCloudName:  f.cloud,
			dockercloud.KeyPollPeriod: "500ms",
			dockercloud.KeyHosts:      []any{map[string]any{"location": "localhost", "isolated": true, "port": 0, "listen": "127.0.0.1"}},
		}},
	}})
	infra := app.Children()[0]
	hs := hosts(infra)
	for _, h := range hs {
		cleanupHost(t, h.ID())
	}
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, activity(app))
	}
	if len(hs) != 1 || !hs[0].IsUp() {
		t.Fatalf("hosts %v", hs)
	}
	h := hs[0]
	if m, _ := h.Attribute(dockercloud.SensorMachine); m != "localhost" {
		t.Errorf("machine %v, want localhost", m)
	}
	cli := engineClient(t, infra, h)
	if _, err := cli.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, pid := h.ID(), dockerdPid(t, h.ID())
	unmanageWait(t, sv.m, app)
	waitFor(t, 30*time.Second, "dockerd to exit", func() bool { return !alive(pid) })
	if left := leftOf(id); len(left) > 0 {
		t.Errorf("left on the machine after destroy: %v", left)
	}
}
