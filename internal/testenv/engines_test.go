package testenv_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"github.com/gantry-dev/gantry/internal/testenv"
)

func TestParseEngines(t *testing.T) {
	const ca, cert, key = "/var/lib/gantry-engines/tls/ca.pem", "/var/lib/gantry-engines/tls/cert.pem", "/var/lib/gantry-engines/tls/key.pem"
	tlsLine := "tcp://127.0.0.1:23760 tls.ca=" + ca + " tls.cert=" + cert + " tls.key=" + key
	tests := []struct {
		name, out string
		want      []testenv.EngineEndpoint
		wantErr   string
	}{
		{name: "none", out: "", want: nil},
		{
			name: "script output",
			out:  tlsLine + "\nunix:///run/gantry-engines/2.sock\n\nunix:///run/gantry-engines/3.sock\n",
			want: []testenv.EngineEndpoint{
				{Index: 1, Host: "tcp://127.0.0.1:23760", TLSCA: ca, TLSCert: cert, TLSKey: key},
				{Index: 2, Host: "unix:///run/gantry-engines/2.sock"},
				{Index: 3, Host: "unix:///run/gantry-engines/3.sock"},
			},
		},
		{name: "bad scheme", out: "http://127.0.0.1:2375\n", wantErr: "want tcp://HOST:PORT or unix:///PATH"},
		{name: "unknown key", out: "tcp://127.0.0.1:1 tls.verify=1\n", wantErr: `unknown key "tls.verify"`},
		{name: "not key=value", out: "tcp://127.0.0.1:1 tls.ca\n", wantErr: "want key=value"},
		{name: "some TLS files", out: "tcp://127.0.0.1:1 tls.ca=" + ca + "\n", wantErr: "all of tls.ca, tls.cert and tls.key"},
		{name: "TLS over unix", out: "unix:///x.sock tls.ca=a tls.cert=b tls.key=c\n", wantErr: "not tcp://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testenv.ParseEngines(tt.out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// String gives the line back; Config is a docker location's.
	eps, _ := testenv.ParseEngines(tlsLine + "\nunix:///run/gantry-engines/2.sock\n")
	if eps[0].String() != tlsLine || eps[1].String() != "unix:///run/gantry-engines/2.sock" {
		t.Errorf("String = %q, %q", eps[0], eps[1])
	}
	want := map[string]any{"endpoint": "tcp://127.0.0.1:23760", "tls.ca": ca, "tls.cert": cert, "tls.key": key}
	if got := eps[0].Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("Config = %v, want %v", got, want)
	}
	if got := eps[1].Config(); !reflect.DeepEqual(got, map[string]any{"endpoint": "unix:///run/gantry-engines/2.sock"}) {
		t.Errorf("Config = %v", got)
	}
}

// Three extra engines answer, are distinct engines, one over TCP with TLS (which
// refuses a client without a certificate), each runs gantry/busybox, their
// networks work (names resolve, published ports answer on this machine, other
// networks are isolated), and the main engine keeps working the whole time:
// its containers reach each other and its published ports answer, both through
// docker-proxy (127.0.0.1) and through its iptables DNAT rules (this machine's
// other address).
func TestEngines(t *testing.T) {
	mainCli := testenv.RequireDocker(t)
	image := testenv.BusyboxImage(t)
	ctx := t.Context()

	// The main engine's containers are made before the extra engines start
	// (when this test starts them: `make engines-down` first to see that).
	mainLabels := testenv.ContainerLabels(t, mainCli)
	mainNet := makeNetwork(t, mainCli, mainLabels)
	mainWeb, mainPort := serve(t, mainCli, image, mainLabels, "bridge", "main-bridge", true)
	namedWeb, _ := serve(t, mainCli, image, mainLabels, mainNet, "main-net", false)
	mainWebIP := containerIP(t, mainCli, mainWeb, "bridge") // no names on the default bridge
	checkMain := func(stage string) {
		t.Helper()
		if got := fetchIn(t, mainCli, image, mainLabels, "bridge", mainWebIP); got != "main-bridge" {
			t.Errorf("%s: main engine, container to container on the default bridge: %q", stage, got)
		}
		if got := fetchIn(t, mainCli, image, mainLabels, mainNet, namedWeb); got != "main-net" {
			t.Errorf("%s: main engine, container to container by name on a user network: %q", stage, got)
		}
		for _, addr := range hostAddrs() {
			if got, err := httpGet(net.JoinHostPort(addr, strconv.Itoa(mainPort))); err != nil || got != "main-bridge" {
				t.Errorf("%s: main engine's published port at %s:%d: %q, %v", stage, addr, mainPort, got, err)
			}
		}
	}
	checkMain("before the extra engines")

	eps := testenv.Engines(t, 3)
	if len(eps) != 3 {
		t.Fatalf("Engines(3) = %v", eps)
	}
	checkMain("extra engines up")
	checkDNAT(t, mainPort)

	// Distinct engines; the first over TCP with TLS, the others on unix sockets.
	ids := map[string]bool{}
	mainInfo, err := mainCli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids[mainInfo.ID] = true
	roots := map[string]bool{mainInfo.DockerRootDir: true}
	clis := make([]*client.Client, len(eps))
	for i, e := range eps {
		if e.Index != i+1 {
			t.Errorf("engine %d has index %d", i+1, e.Index)
		}
		if i == 0 {
			if !e.TLS() || !strings.HasPrefix(e.Host, "tcp://127.0.0.1:") {
				t.Fatalf("engine 1 = %s, want tcp://127.0.0.1:PORT with TLS files", e)
			}
			for _, f := range []string{e.TLSCA, e.TLSCert, e.TLSKey} {
				if !strings.HasPrefix(f, "/var/lib/gantry-engines/tls/") {
					t.Errorf("TLS file %s is not under /var/lib/gantry-engines/tls", f)
				}
				if _, err := os.Stat(f); err != nil {
					t.Error(err)
				}
			}
		} else if e.TLS() || !strings.HasPrefix(e.Host, "unix:///run/gantry-engines/") {
			t.Errorf("engine %d = %s, want a unix socket under /run/gantry-engines", i+1, e)
		}
		clis[i] = e.Client(t)
		info, err := clis[i].Info(ctx)
		if err != nil {
			t.Fatalf("engine %d: %v", i+1, err)
		}
		if ids[info.ID] || roots[info.DockerRootDir] {
			t.Errorf("engine %d (%s) is not a distinct engine: id %s, data root %s", i+1, e.Host, info.ID, info.DockerRootDir)
		}
		ids[info.ID], roots[info.DockerRootDir] = true, true
		if want := fmt.Sprintf("gantry-engine-%d", i+1); info.Name != want {
			t.Errorf("engine %d is named %q, want %q", i+1, info.Name, want)
		}
		// The API version was negotiated: the engine's own when older than the client's.
		sv, err := clis[i].ServerVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := api.DefaultVersion
		if versions.LessThan(sv.APIVersion, want) {
			want = sv.APIVersion
		}
		if got := clis[i].ClientVersion(); got != want {
			t.Errorf("engine %d: API version %s, want %s negotiated (engine %s, client %s)", i+1, got, want, sv.APIVersion, api.DefaultVersion)
		}
	}
	refusesWithoutClientCert(t, eps[0])

	// A container on each, and networks that work like a host's; in parallel,
	// the group returning when all are done.
	t.Run("each", func(t *testing.T) {
		for i, e := range eps {
			t.Run(fmt.Sprintf("engine%d", i+1), func(t *testing.T) {
				t.Parallel()
				cli := clis[i]
				labels := testenv.ContainerLabels(t, cli)
				code, out := runOnce(t, cli, image, labels, "", "echo engine-"+strconv.Itoa(i+1)+" on $(cat /proc/sys/kernel/hostname)")
				if want := fmt.Sprintf("engine-%d on ", i+1); code != 0 || !strings.HasPrefix(out, want) {
					t.Fatalf("container on %s: exit %d, output %q", e.Host, code, out)
				}

				netA, netB := makeNetwork(t, cli, labels), makeNetwork(t, cli, labels)
				body := fmt.Sprintf("hello from engine %d", i+1)
				web, port := serve(t, cli, image, labels, netA, body, true)
				if lo := 61000 + 400*i; port < lo || port >= lo+400 {
					t.Errorf("published port %d, want one of engine %d's range %d-%d", port, i+1, lo, lo+399)
				}
				if got, err := httpGet(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil || got != body {
					t.Errorf("published port 127.0.0.1:%d: %q, %v", port, got, err)
				}
				if got := fetchIn(t, cli, image, labels, netA, web); got != body {
					t.Errorf("by name on its network: %q", got)
				}
				ip := containerIP(t, cli, web, netA)
				// busybox nc says "timed out" when nothing answers.
				if _, out := runOnce(t, cli, image, labels, netB, fetchScript(ip)); strings.Contains(out, body) || !strings.Contains(out, "timed out") {
					t.Errorf("a container of another network reached %s, or did not time out: %q", ip, out)
				}
			})
		}
	})
	checkMain("after containers ran on the extra engines")
}

// refusesWithoutClientCert: the TLS engine verifies clients.
func refusesWithoutClientCert(t *testing.T, e testenv.EngineEndpoint) {
	t.Helper()
	pem, err := os.ReadFile(e.TLSCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	cli, err := client.NewClientWithOpts(client.WithHost(e.Host), client.WithHTTPClient(hc), client.WithScheme("https"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Ping(t.Context()); err == nil {
		t.Errorf("%s answered a client without a certificate", e.Host)
	}
}

// checkDNAT: the main engine's nat rule for its published port is still there
// (an engine managing iptables would have flushed it when it started).
func checkDNAT(t *testing.T, port int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	out, err := exec.Command("iptables", "-w", "-t", "nat", "-S", "DOCKER").Output()
	if err != nil {
		t.Logf("iptables -t nat -S DOCKER: %v (not checked)", err)
		return
	}
	if !strings.Contains(string(out), "--dport "+strconv.Itoa(port)+" -j DNAT") {
		t.Errorf("the main engine's DNAT rule for port %d is gone:\n%s", port, out)
	}
}

func makeNetwork(t *testing.T, cli *client.Client, labels map[string]string) string {
	t.Helper()
	name := fmt.Sprintf("gantry-test-%d", time.Now().UnixNano())
	if _, err := cli.NetworkCreate(t.Context(), name, network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		t.Fatal(err)
	}
	// Registered after ContainerLabels' cleanup, so it runs first: remove the
	// containers of the network, then the network.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if ins, err := cli.NetworkInspect(ctx, name, network.InspectOptions{}); err == nil {
			for id := range ins.Containers {
				_ = cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
		if err := cli.NetworkRemove(ctx, name); err != nil && !client.IsErrNotFound(err) {
			t.Errorf("remove network %s: %v", name, err)
		}
	})
	return name
}

// serve starts an HTTP server answering body on port 80, on network netName
// (and publishes port 80 on a random host port when publish); it returns the
// container's name and the host port.
func serve(t *testing.T, cli *client.Client, image string, labels map[string]string, netName, body string, publish bool) (name string, hostPort int) {
	t.Helper()
	ctx := t.Context()
	name = fmt.Sprintf("gantry-test-web-%d", time.Now().UnixNano())
	cfg := &container.Config{
		Image:  image,
		Cmd:    []string{"sh", "-c", `printf '%s' "$BODY" > /www/index.html && exec httpd -f -p 80 -h /www`},
		Env:    []string{"BODY=" + body},
		Labels: labels,
	}
	hc := &container.HostConfig{NetworkMode: container.NetworkMode(netName)}
	if publish {
		cfg.ExposedPorts = nat.PortSet{"80/tcp": {}}
		hc.PortBindings = nat.PortMap{"80/tcp": {{HostPort: ""}}}
	}
	c, err := cli.ContainerCreate(ctx, cfg, hc, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if publish {
		ins, err := cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range ins.NetworkSettings.Ports["80/tcp"] {
			if p, err := strconv.Atoi(b.HostPort); err == nil && p > 0 {
				hostPort = p
				break
			}
		}
		if hostPort == 0 {
			t.Fatalf("%s: port 80 not published: %v", name, ins.NetworkSettings.Ports)
		}
	}
	return name, hostPort
}

func containerIP(t *testing.T, cli *client.Client, name, netName string) string {
	t.Helper()
	ins, err := cli.ContainerInspect(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	ep := ins.NetworkSettings.Networks[netName]
	if ep == nil || ep.IPAddress == "" {
		t.Fatalf("%s has no address on %s", name, netName)
	}
	return ep.IPAddress
}

// fetchScript asks target:80 for / (busybox nc: its wget crashes in this image)
// and prints the last line of the answer, the body.
func fetchScript(target string) string {
	return fmt.Sprintf(`printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 %s 80 | tail -n 1`, target)
}

// fetchIn fetches target's page from a new container on netName, retrying
// while the server starts.
func fetchIn(t *testing.T, cli *client.Client, image string, labels map[string]string, netName, target string) string {
	t.Helper()
	script := fmt.Sprintf(`for i in 1 2 3 4 5 6 7 8 9 10; do out=$(%s); [ -n "$out" ] && break; sleep 0.3; done; echo "$out"`, fetchScript(target))
	_, out := runOnce(t, cli, image, labels, netName, script)
	return strings.TrimSpace(out)
}

// runOnce runs script in a new container on netName ("" is the default) and
// returns its exit code and output.
func runOnce(t *testing.T, cli *client.Client, image string, labels map[string]string, netName, script string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: image, Cmd: []string{"sh", "-c", script}, Labels: labels},
		&container.HostConfig{NetworkMode: container.NetworkMode(netName)}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	}()
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	var code int
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		code = int(w.StatusCode)
	case err := <-errC:
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

// httpGet gets http://addr/ from this machine, retrying while the server starts.
func httpGet(addr string) (string, error) {
	hc := &http.Client{Timeout: 3 * time.Second}
	var err error
	for range 20 {
		var resp *http.Response
		if resp, err = hc.Get("http://" + addr + "/"); err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(b), nil
			}
			err = fmt.Errorf("status %s, %v", resp.Status, rerr)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return "", err
}

// hostAddrs are 127.0.0.1 and this machine's first other IPv4 address (not of
// a bridge): a published port there goes through the main engine's DNAT rules.
func hostAddrs() []string {
	addrs := []string{"127.0.0.1"}
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if strings.HasPrefix(ifc.Name, "docker") || strings.HasPrefix(ifc.Name, "br-") ||
			strings.HasPrefix(ifc.Name, "gantry-br") || strings.HasPrefix(ifc.Name, "veth") {
			continue
		}
		as, _ := ifc.Addrs()
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return append(addrs, ipn.IP.String())
			}
		}
	}
	return addrs
}
